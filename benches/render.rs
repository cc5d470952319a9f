//! Rendering the whole dashboard at 200×60 with 10,000 jobs in state (target: median under 1 ms).

use chrono::{Duration, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use mcptop::demo::DemoPlatform;
use mcptop::domain::{JobsPage, JobsQuery};
use mcptop::runtime::SourceMsg;
use mcptop::source::JobSource;
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
    app.queue_slots = 2;
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
            let ctx = RenderCtx { theme: &theme, now: t0 + Duration::seconds(n) };
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

criterion_group!(benches, bench_render);
criterion_main!(benches);
