//! Whole-dashboard snapshots, with a fixed clock and the seeded demo platform, of every pane in
//! every state (loading, ready, failed with stale data, empty) at 80×24 and 160×48, plus the
//! detail view, the help screen and the filter line.
#![allow(clippy::disallowed_macros)] // a test or bench reports on its own terminal

use chrono::{DateTime, Duration, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use mcptop::clients::SourceError;
use mcptop::demo::DemoPlatform;
use mcptop::domain::{JobStatus, JobsPage, QueueSnapshot};
use mcptop::runtime::{Feed, SourceMsg};
use mcptop::sources::JobSource;
use mcptop::tui::app::{App, Effect, Msg};
use mcptop::tui::keymap::KeyMap;
use mcptop::tui::theme::Theme;

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 3, 0, 0).single().expect("valid time")
}

fn app(w: u16, h: u16) -> App {
    let mut app = App::new("production", "demo", KeyMap::default(), t0());
    app.jobs.queue_slots = 2;
    app.update(Msg::Resized { width: w, height: h });
    app
}

fn screen(app: &App, w: u16, h: u16) -> String {
    mcptop::tui::svg::to_text(&mcptop::tui::render_to_buffer(app, &Theme::built_in("default"), w, h))
}

/// Load the demo into the app as the runtime would: queue snapshots over two minutes (so the
/// sparkline and rates have history), then the jobs window the app asks for.
async fn ready(app: &mut App) -> DemoPlatform {
    let demo = DemoPlatform::new(7, t0() - Duration::seconds(120));
    for s in (0..=120).step_by(5) {
        demo.advance(t0() - Duration::seconds(120 - s));
        let snap = demo.queues().await.expect("demo");
        app.update(Msg::Source(SourceMsg::QueuesLoaded(snap)));
    }
    let query = app.initial_query();
    let page = demo.jobs(query).await.expect("demo");
    app.rag = mcptop::tui::rag_state::RagState::new(true, 5, 0.7);
    app.update(Msg::Source(SourceMsg::KbStatsLoaded(mcptop::demo::kb::stats(), t0())));
    // The RAG pane follows the selected job: answer its detail request as the runtime would.
    for effect in app.update(Msg::Source(SourceMsg::JobsLoaded(page))) {
        if let Effect::FollowDetail(Some(id)) = effect {
            let detail = demo.job_detail(id.clone()).await.expect("demo").map(Box::new);
            app.update(Msg::Source(SourceMsg::DetailLoaded { id, detail, at: t0() }));
        }
    }
    app.update(Msg::Source(SourceMsg::PushState { feed: Feed::Events, connected: true, error: None, at: t0() }));
    demo
}

fn fail(app: &mut App, at: DateTime<Utc>) {
    for feed in [Feed::Queues, Feed::Jobs] {
        let error = SourceError::Connect("Connection refused (os error 111)".into());
        app.update(Msg::Source(SourceMsg::Failed { feed, error, at, retry_at: at + Duration::seconds(1) }));
    }
    app.update(Msg::Source(SourceMsg::PushState {
        feed: Feed::Events,
        connected: false,
        error: Some("subscription lost".into()),
        at,
    }));
}

#[tokio::test]
async fn dashboard_states() {
    for (w, h) in SIZES {
        let loading = app(w, h);
        insta::assert_snapshot!(format!("loading_{w}x{h}"), screen(&loading, w, h));

        let mut r = app(w, h);
        ready(&mut r).await;
        insta::assert_snapshot!(format!("ready_{w}x{h}"), screen(&r, w, h));

        fail(&mut r, t0() + Duration::seconds(20));
        r.update(Msg::Tick(t0() + Duration::seconds(45)));
        insta::assert_snapshot!(format!("failed_stale_{w}x{h}"), screen(&r, w, h));

        let mut never = app(w, h);
        fail(&mut never, t0());
        insta::assert_snapshot!(format!("failed_no_data_{w}x{h}"), screen(&never, w, h));

        let mut empty = app(w, h);
        let q = empty.initial_query();
        let snap = QueueSnapshot {
            queues: vec![],
            by_status: JobStatus::ALL.iter().map(|s| (s.clone(), 0)).collect(),
            total_jobs: Some(0),
            problems: vec![],
            server_time: t0(),
            fetched_at: t0(),
        };
        empty.update(Msg::Source(SourceMsg::QueuesLoaded(snap)));
        let page = JobsPage { query: q, total: 0, scanned: None, jobs: vec![], fetched_at: t0() };
        empty.update(Msg::Source(SourceMsg::JobsLoaded(page)));
        insta::assert_snapshot!(format!("empty_{w}x{h}"), screen(&empty, w, h));
    }
}

fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

#[tokio::test]
async fn detail_help_filter_and_zoom() {
    let (w, h) = (160, 48);
    let mut a = app(w, h);
    let demo = ready(&mut a).await;
    // the third job, opened
    key(&mut a, KeyCode::Char('j'));
    key(&mut a, KeyCode::Char('j'));
    let effects = key(&mut a, KeyCode::Enter);
    let Some(Effect::FollowDetail(Some(id))) = effects.first().cloned() else {
        panic!("Enter follows the job: {effects:?}")
    };
    let detail = demo.job_detail(id.clone()).await.expect("demo");
    a.update(Msg::Source(SourceMsg::DetailLoaded { id, detail: detail.map(Box::new), at: t0() }));
    insta::assert_snapshot!("detail_160x48", screen(&a, w, h));
    key(&mut a, KeyCode::Esc);

    key(&mut a, KeyCode::Char('?'));
    insta::assert_snapshot!("help_160x48", screen(&a, w, h));
    key(&mut a, KeyCode::Esc);

    key(&mut a, KeyCode::Char('/'));
    for c in "db-0".chars() {
        key(&mut a, KeyCode::Char(c));
    }
    insta::assert_snapshot!("filter_typing_80x24", screen(&a, 80, 24));

    key(&mut a, KeyCode::Esc);
    key(&mut a, KeyCode::Char('z'));
    insta::assert_snapshot!("zoomed_jobs_80x24", screen(&a, 80, 24));
}

/// A knowledge-base search typed in the query box, answered by the demo's knowledge base, in
/// the dashboard and zoomed, and one hit opened.
#[tokio::test]
async fn rag_search() {
    let (w, h) = (160, 48);
    let mut a = app(w, h);
    ready(&mut a).await;
    key(&mut a, KeyCode::Char('K'));
    for c in "disk full on db-01".chars() {
        key(&mut a, KeyCode::Char(c));
    }
    insta::assert_snapshot!("rag_typing_160x48", screen(&a, w, h));
    let effects = key(&mut a, KeyCode::Enter);
    let [Effect::RagSearch(request)] = effects.as_slice() else { panic!("a search: {effects:?}") };
    let result =
        mcptop::demo::kb::search(&request.query, request.top_k, request.threshold, t0()).map_err(|e| e.to_string());
    a.update(Msg::Source(SourceMsg::RagSearched { request: request.clone(), result, at: t0() }));
    insta::assert_snapshot!("rag_search_160x48", screen(&a, w, h));
    key(&mut a, KeyCode::Char('z'));
    key(&mut a, KeyCode::Char('j'));
    insta::assert_snapshot!("rag_zoomed_160x48", screen(&a, w, h));
    key(&mut a, KeyCode::Enter);
    insta::assert_snapshot!("rag_hit_160x48", screen(&a, w, h));
}

/// Every count on screen, at every size and zoom, against the state: a number shows whole,
/// abbreviated (`141k`), or not at all — never cut into a different number — and "matches"
/// only with a filter.
#[tokio::test]
async fn counts_on_screen_match_the_state_at_every_size() {
    use mcptop::tui::app::PaneId;
    use mcptop::tui::panes::queue::{compact, thousands};
    let counts = [0, 1, 43_210, 25, 8, 141_000, 41, 1_234_567];
    for (w, h) in [(60, 20), (80, 24), (100, 30), (120, 36), (160, 48), (200, 60), (240, 70)] {
        for (focus, zoomed) in [(PaneId::Jobs, false), (PaneId::Queue, true), (PaneId::Jobs, true)] {
            let mut a = app(w, h);
            ready(&mut a).await;
            if let Some(snap) = a.jobs.queues.data.clone() {
                let mut snap = QueueSnapshot { ..snap };
                snap.by_status = JobStatus::ALL.iter().cloned().zip(counts).collect();
                snap.total_jobs = Some(counts.iter().sum());
                a.update(Msg::Source(SourceMsg::QueuesLoaded(snap)));
            }
            a.focus = focus;
            a.zoomed = zoomed;
            let text = screen(&a, w, h);
            let at = format!("{w}x{h} {focus:?} zoomed={zoomed}");
            let mut seen = 0;
            for chunk in text.split("■ ").skip(1) {
                let mut words = chunk.split_whitespace();
                let (Some(label), Some(number)) = (words.next(), words.next()) else { continue };
                let number = number.trim_end_matches(['│', '┃', '…']);
                let i = JobStatus::ALL.iter().position(|s| s.short() == label).expect("a status label");
                assert_eq!(number, compact(counts[i]), "{label} at {at}:\n{text}");
                seen += 1;
            }
            // The Queue pane (and its legend) shows when it is zoomed, or in the grid from
            // 120 columns; narrower, the focused pane has the body.
            let queue_shown = (zoomed && focus == PaneId::Queue) || (!zoomed && w >= 120);
            assert!(seen > 0 || !queue_shown, "the legend shows at {at}:\n{text}");
            let page = a.jobs.page.data.clone().expect("jobs");
            for line in text.lines() {
                if let Some(rest) = line.split("Queue ").nth(1).filter(|r| r.contains(" jobs")) {
                    let n = rest.split_whitespace().next().unwrap_or("");
                    assert_eq!(n, thousands(counts.iter().sum()), "queue total at {at}: {line}");
                }
                if let Some(rest) = line.split("Jobs ").nth(1).filter(|r| r.contains(" jobs")) {
                    let n = rest.split_whitespace().next().unwrap_or("");
                    assert_eq!(n, thousands(page.total), "jobs total at {at}: {line}");
                }
                assert!(!line.contains("matches"), "no filter, no matches, at {at}: {line}");
            }
        }
    }
}

/// The command line with its candidates, and the error history, at the three sizes.
#[tokio::test]
async fn command_line_and_error_history() {
    for (w, h) in [(80, 24), (120, 40), (200, 60)] {
        let mut a = app(w, h);
        a.choices = mcptop::tui::commands::Choices {
            contexts: vec!["production".into(), "staging".into(), "lab".into()],
            themes: vec!["default".into(), "light".into()],
        };
        ready(&mut a).await;
        key(&mut a, KeyCode::Char(':'));
        key(&mut a, KeyCode::Char('a'));
        insta::assert_snapshot!(format!("command_candidates_{w}x{h}"), screen(&a, w, h));
        key(&mut a, KeyCode::Esc);
        fail(&mut a, t0());
        fail(&mut a, t0() + Duration::seconds(5));
        a.run_command("errors");
        insta::assert_snapshot!(format!("errors_{w}x{h}"), screen(&a, w, h));
    }
}

/// The fleet view with three contexts, one production and one whose Redis is down.
#[tokio::test]
async fn fleet_view() {
    use mcptop::domain::facts::{ContextFacts, Firing};
    use mcptop::domain::{HealthSummary, Severity};
    use mcptop::fleet::{FleetRow, SourceCheck};
    let ok = |name: &str| SourceCheck { name: name.into(), ok: true, error: None };
    let row = |context: &str, production, queued, approvals, firing: &[(Severity, u64)]| FleetRow {
        context: context.into(),
        production,
        facts: ContextFacts {
            queued: Some(queued),
            oldest_s: Some(95.0),
            stalled: Some(false),
            awaiting_approval: Some(approvals),
            running: Some(1),
            firing: Some(Firing {
                total: firing.iter().map(|(_, n)| n).sum(),
                by_severity: firing.iter().cloned().collect(),
            }),
            health: Some(HealthSummary { containers_healthy: 5, containers_unhealthy: 1, ..Default::default() }),
            last_backup_age_s: Some(7_200),
            backup_overdue: false,
        },
        sources: vec![ok("redis"), ok("am-a"), ok("docker"), ok("backups")],
        checked_at: t0(),
    };
    let down = FleetRow {
        sources: vec![SourceCheck {
            name: "redis".into(),
            ok: false,
            error: Some("cannot connect: Connection refused (os error 111)".into()),
        }],
        ..FleetRow::unknown("lab", false, t0())
    };
    let rows = vec![
        row("production", true, 12, 4, &[(Severity::Critical, 2), (Severity::High, 1)]),
        row("staging", false, 0, 1, &[]),
        down,
    ];
    for (w, h) in [(80, 24), (120, 40), (200, 60)] {
        let mut a = app(w, h);
        ready(&mut a).await;
        a.run_command("fleet");
        a.update(Msg::FleetLoaded(rows.clone(), t0()));
        insta::assert_snapshot!(format!("fleet_{w}x{h}"), screen(&a, w, h));
    }
}

/// A container's log: stderr, an escape sequence, invalid UTF-8 (already replaced), a cut
/// line, a filter with its matches, at the three sizes.
#[tokio::test]
async fn log_view() {
    use mcptop::logs::LogLine;
    use mcptop::tui::app::Mode;
    use mcptop::tui::logs_view::LogView;
    let line = |n: usize| {
        let (text, stderr, cut) = match n % 10 {
            3 => ("\u{1b}]0;owned\u{7}\u{1b}[2J evil".to_string(), false, 0),
            5 => (format!("WARN worker: retry {n}"), true, 0),
            7 => ("\u{fffd}\u{fffd} bad utf8".to_string(), false, 0),
            9 => ("x".repeat(300), false, 1_040_384),
            _ => (format!("INFO gateway: handled request {n} in {} ms", n % 40), false, 0),
        };
        LogLine { ts: Some(format!("2026-11-21T02:59:{:02}.000000000Z", n % 60)), text, stderr, cut }
    };
    for (w, h) in [(80, 24), (120, 40), (200, 60)] {
        let mut a = app(w, h);
        ready(&mut a).await;
        let mut v = LogView::new("0ade6616cafe", "mcp-gateway", 1, 10_000);
        v.append((0..120).map(line).collect());
        v.timestamps = w >= 120;
        a.logs = Some(v);
        a.mode = Mode::Logs;
        insta::assert_snapshot!(format!("logs_{w}x{h}"), screen(&a, w, h));
        if let Some(v) = a.logs.as_mut() {
            v.set_filter("retry|evil");
        }
        insta::assert_snapshot!(format!("logs_filtered_{w}x{h}"), screen(&a, w, h));
    }
}

/// The ready dashboard at the grid's sizes (80x24 is in `dashboard_states`), and at 80x24 with
/// another pane focused: the summary strip then counts Jobs.
#[tokio::test]
async fn dashboard_at_every_size() {
    for (w, h) in [(120, 40), (200, 60)] {
        let mut a = app(w, h);
        ready(&mut a).await;
        insta::assert_snapshot!(format!("ready_{w}x{h}"), screen(&a, w, h));
    }
    let mut a = app(80, 24);
    ready(&mut a).await;
    a.update(Msg::Key(KeyEvent::new(KeyCode::Char('6'), KeyModifiers::NONE)));
    insta::assert_snapshot!("approvals_focused_80x24", screen(&a, 80, 24));
}

/// Help at 80x24: one column, scrolled with the movement keys.
#[tokio::test]
async fn help_scrolls_on_a_small_terminal() {
    let mut a = app(80, 24);
    ready(&mut a).await;
    key(&mut a, KeyCode::Char('?'));
    insta::assert_snapshot!("help_80x24", screen(&a, 80, 24));
    key(&mut a, KeyCode::PageDown);
    key(&mut a, KeyCode::PageDown);
    insta::assert_snapshot!("help_80x24_scrolled", screen(&a, 80, 24));
    key(&mut a, KeyCode::Char('x'));
    assert_eq!(a.mode, mcptop::tui::app::Mode::Normal, "any other key closes it");
}
