//! Rendering the whole dashboard at 200×60 with 10,000 jobs in state (target: median under 1 ms).
#![allow(clippy::disallowed_macros)] // a test or bench reports on its own terminal

use chrono::{Duration, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use mcptop::demo::DemoPlatform;
use mcptop::domain::{JobsPage, JobsQuery};
use mcptop::runtime::SourceMsg;
use mcptop::sources::JobSource;
use mcptop::tui::app::{App, Msg};
use mcptop::tui::keymap::KeyMap;
use mcptop::tui::panes::RenderCtx;
use mcptop::tui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn bench_render(c: &mut Criterion) {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 21, 3, 0, 0).single().unwrap_or_default();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let demo = DemoPlatform::with_history(1, t0, 10_000);
    let mut app = App::new("production", "demo", KeyMap::default(), t0 + Duration::seconds(1));
    app.jobs.queue_slots = 2;
    app.update(Msg::Resized { width: 200, height: 60 });
    let query = app.initial_query();
    let (snap, all) = rt.block_on(async {
        let snap = demo.queues().await.expect("demo");
        let all = demo.jobs(JobsQuery { limit: 10_000, ..Default::default() }).await.expect("demo");
        (snap, all)
    });
    app.update(Msg::Source(SourceMsg::QueuesLoaded(snap)));
    // The whole 10,000 in state, as the page the view asked for would hold them.
    let page = JobsPage { query: JobsQuery { limit: 10_000, ..query }, ..all };
    assert_eq!(page.jobs.len(), 10_000);
    app.update(Msg::Source(SourceMsg::JobsLoaded(page)));
    let theme = Theme::built_in("default");
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).expect("terminal");
    let mut n = 0i64;
    c.bench_function("render_dashboard_200x60_10k_jobs", |b| {
        b.iter(|| {
            // a new second each frame, as the clock tick does
            n += 1;
            let ctx = RenderCtx::new(&theme, t0 + Duration::seconds(n), 1);
            terminal.draw(|f| mcptop::tui::render::draw(f, &app, &ctx)).expect("draw");
        })
    });
    // The floor: ratatui's own per-frame work (buffer reset, diff, backend copy) with nothing drawn.
    c.bench_function("terminal_draw_nothing_200x60", |b| {
        b.iter(|| {
            terminal.draw(|_| {}).expect("draw");
        });
    });
}

/// 1,000 alerts from two Alertmanagers and 300 containers in state, the whole dashboard at
/// 200×60, then the Alerts pane zoomed (target: under 1 ms).
fn bench_render_ops(c: &mut Criterion) {
    use mcptop::domain::health::Health;
    use mcptop::domain::{Alert, AlertState, AlertsSnapshot, Container};
    use mcptop::sources::OpsConfigured;
    use mcptop::tui::ops_state::OpsState;

    let t0 = Utc.with_ymd_and_hms(2026, 11, 21, 3, 0, 0).single().unwrap_or_default();
    let mut app = App::new("production", "redis", KeyMap::default(), t0);
    app.jobs.configured = false;
    app.ops = OpsState::new(
        OpsConfigured { containers: true, services: false, targets: false, alerts: true, pipeline: false },
        vec!["alertname".into()],
    );
    app.update(Msg::Resized { width: 200, height: 60 });
    let alerts: Vec<Alert> = (0..1000)
        .map(|i| {
            let labels = [
                ("alertname", format!("Rule{}", i % 40)),
                ("instance", format!("host-{i:04}:9100")),
                ("severity", ["critical", "warning", "info"][i % 3].to_string()),
            ]
            .map(|(k, v)| (k.to_string(), v));
            let mut a = Alert::new(
                &format!("{i:016x}"),
                labels,
                [("summary".to_string(), format!("something is wrong on host-{i:04}, again"))],
                if i % 7 == 0 { AlertState::Suppressed } else { AlertState::Active },
                vec![],
                vec![],
                Some(t0 - Duration::seconds(i as i64 * 37)),
                None,
                "am-a",
            );
            a.sources = vec!["am-a".into(), "am-b".into()];
            a
        })
        .collect();
    app.update(Msg::Source(SourceMsg::AlertsLoaded(AlertsSnapshot { alerts, sources: vec![], fetched_at: t0 })));
    let containers: Vec<Container> = (0..300)
        .map(|i| Container {
            id: format!("{i:012x}"),
            name: format!("service-{i:03}"),
            image: "registry.example/mcp/service:1.8.2".into(),
            state: "running".into(),
            health: if i % 50 == 0 { Health::Unhealthy } else { Health::Healthy },
            restarts: Some(i % 3),
            started_at: Some(t0 - Duration::hours(i)),
            failing_streak: Some(0),
            checks: vec![],
        })
        .collect();
    app.update(Msg::Source(SourceMsg::ContainersLoaded(containers, t0)));
    let theme = Theme::built_in("default");
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).expect("terminal");
    let mut n = 0i64;
    c.bench_function("render_dashboard_200x60_1000_alerts_300_containers", |b| {
        b.iter(|| {
            n += 1;
            let ctx = RenderCtx::new(&theme, t0 + Duration::seconds(n), 1);
            terminal.draw(|f| mcptop::tui::render::draw(f, &app, &ctx)).expect("draw");
        })
    });
    app.focus = mcptop::tui::app::PaneId::Alerts;
    app.zoomed = true;
    c.bench_function("render_alerts_zoomed_200x60_1000_alerts", |b| {
        b.iter(|| {
            n += 1;
            let ctx = RenderCtx::new(&theme, t0 + Duration::seconds(n), 1);
            terminal.draw(|f| mcptop::tui::render::draw(f, &app, &ctx)).expect("draw");
        })
    });
}

criterion_group!(benches, bench_render, bench_render_ops);
criterion_main!(benches);
