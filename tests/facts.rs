//! One truth per fact: every place a count or state shows in one frame — the header, the panes,
//! the one-line strip, the AI line, the queue legend and the fleet's row for the context — shows
//! the value `ContextFacts` derived, at 80×24 and 200×60. Driven through the dashboard's own
//! session (sources, runtime, executor, actions) on the demo and on a real Redis, through
//! changes: an approval, a backup, a container going unhealthy, a queue stalling.
#![allow(clippy::disallowed_macros)] // a test or bench reports on its own terminal

mod harness;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use clap::Parser;
use mcptop::actions::{ActionRequest, JobRef};
use mcptop::cli::Cli;
use mcptop::cli::session::Opener;
use mcptop::config::{self, Overrides};
use mcptop::demo::worlds::DemoWorlds;
use mcptop::domain::Severity;
use mcptop::domain::facts::ContextFacts;
use mcptop::fleet::FleetRow;
use mcptop::tui::Session;
use mcptop::tui::app::{App, Msg, PaneId};
use mcptop::tui::effects::Executor;
use mcptop::tui::panes::RenderCtx;
use regex::Regex;
use tokio::sync::mpsc;

/// A session running as the dashboard runs it, without a terminal.
struct Live {
    session: Session,
    exec: Executor,
    rx: mpsc::Receiver<mcptop::runtime::SourceMsg>,
    done: mpsc::Receiver<Msg>,
}

impl Live {
    fn start(mut session: Session) -> Live {
        session.app.update(Msg::Resized { width: 200, height: 60 });
        let (tx, rx) = mpsc::channel(1024);
        let (done_tx, done) = mpsc::channel(64);
        let runtime = mcptop::runtime::start(&session.sources, session.opts, session.app.initial_query(), tx);
        let exec = Executor::new(runtime, session.actions.clone(), done_tx);
        Live { session, exec, rx, done }
    }

    /// Feed the app what arrives for `for_`, as the event loop does.
    async fn pump(&mut self, for_: Duration) {
        let deadline = tokio::time::Instant::now() + for_;
        loop {
            let msg = tokio::select! {
                Some(m) = self.rx.recv() => Msg::Source(m),
                Some(m) = self.done.recv() => m,
                _ = tokio::time::sleep_until(deadline) => break,
            };
            self.exec.apply(&mut self.session.app, msg);
        }
        self.exec.apply(&mut self.session.app, Msg::Tick(Utc::now()));
    }

    fn app(&mut self) -> &mut App {
        &mut self.session.app
    }

    /// Run an action through the action layer, as a confirmed key does, and read again.
    async fn act(&mut self, request: ActionRequest) {
        let result = self.session.actions.run(request.clone()).await;
        assert!(result.is_ok(), "{request:?}: {result:?}");
        self.exec.apply(&mut self.session.app, Msg::ActionDone { request, result });
        self.pump(Duration::from_millis(600)).await;
    }
}

/// The frame at `w`×`h` as text, and the facts the frame was drawn from.
fn frame(app: &mut App, w: u16, h: u16) -> (String, ContextFacts) {
    app.update(Msg::Resized { width: w, height: h });
    let theme = mcptop::tui::theme::Theme::built_in("default");
    let text = mcptop::tui::svg::to_text(&mcptop::tui::render_to_buffer(app, &theme, w, h));
    let ages_at = RenderCtx::new(&theme, app.now, app.age_step).ages_at;
    (text, app.facts(ages_at))
}

fn capture<'t>(re: &str, text: &'t str) -> Option<regex::Captures<'t>> {
    Regex::new(re).expect("pattern").captures(text)
}

fn num(c: &Option<regex::Captures<'_>>, i: usize) -> Option<u64> {
    c.as_ref().and_then(|c| c.get(i)).and_then(|m| m.as_str().replace(',', "").parse().ok())
}

/// Every place of `text` showing a fact agrees with `f`; returns how many places were compared.
/// `strip` is the one-line summary of a narrow terminal, when the frame has one.
fn agree(text: &str, strip: Option<&str>, f: &ContextFacts, what: &str) -> usize {
    let mut compared = 0;
    let mut check = |place: &str, shown: Option<u64>, want: Option<u64>| {
        assert_eq!(shown, want, "{what}: {place} shows {shown:?}, the facts say {want:?}\n{text}");
        compared += 1;
    };
    let approvals = f.awaiting_approval.filter(|n| *n > 0);
    // The header says nothing when none await.
    check("header ⚑", num(&capture(r"⚑ (\d+) awaiting approval", text), 1), approvals);
    if let Some(c) = capture(r"6 Approvals (\d+) awaiting", text) {
        check("Approvals title", num(&Some(c), 1), f.awaiting_approval);
    }
    if let Some(c) = capture(r"■ approval (\d[\d,]*)", text) {
        check("queue legend approval", num(&Some(c), 1), f.awaiting_approval);
    }
    let strip = strip_entries(strip.unwrap_or(""));
    let entry = |n: char| strip.get(&n).map(String::as_str).unwrap_or("");
    if let Some(c) = capture(r"^⚑?(\d+)$", entry('6')) {
        check("strip approvals", num(&Some(c), 1), f.awaiting_approval);
    }
    if let Some(c) = capture(r"■ running (\d[\d,]*)", text) {
        check("queue legend running", num(&Some(c), 1), f.running);
    }
    if let Some(c) = capture(r"· (\d+) running ·", text) {
        check("AI line running", num(&Some(c), 1), f.running);
    }
    if let Some(c) = capture(r"^(\d+)(?: waiting)?( STALLED)?$", entry('1')) {
        let stalled = c.get(2).is_some();
        check("strip waiting", num(&Some(c), 1), f.queued);
        check("strip STALLED", Some(stalled as u64), Some((f.stalled == Some(true)) as u64));
    }
    if text.contains("waiting  oldest") {
        let shown = text.lines().any(|l| l.contains("waiting  oldest") && l.contains(" STALLED "));
        check("Queue pane STALLED", Some(shown as u64), Some((f.stalled == Some(true)) as u64));
    }
    if let Some(h) = f.health {
        if let Some(c) = capture(r"containers (\d+) ok (\d+) unhealthy", text) {
            check("Health ok", num(&Some(c), 1), Some(h.containers_healthy as u64));
            let c = capture(r"containers \d+ ok (\d+) unhealthy", text);
            check("Health unhealthy", num(&c, 1), Some(h.containers_unhealthy as u64));
        }
        if let Some(c) = capture(r"^(ok|(\d+)(?: down|✗))$", entry('3')) {
            let shown = if &c[1] == "ok" { Some(0) } else { num(&Some(c), 2) };
            check("strip Health", shown, Some(h.problems() as u64));
        }
    }
    if let Some(fire) = &f.firing {
        if let Some(c) = capture(r"4 Alerts (\d+) firing", text) {
            check("Alerts title", num(&Some(c), 1), Some(fire.total));
        }
        if let Some(c) = capture(r"^(\d+)", entry('4')) {
            check("strip Alerts", num(&Some(c), 1), Some(fire.total));
            let crit = capture(r"^\d+(?: \((\d+) crit\)|/(\d+)!)", entry('4'));
            let shown = crit.as_ref().and_then(|c| c.get(1).or(c.get(2))).and_then(|m| m.as_str().parse().ok());
            check("strip critical", shown.or(Some(0)), Some(fire.of(Severity::Critical)));
        }
    }
    if let Some(age) = f.last_backup_age_s {
        let shown = mcptop::domain::text::age(age);
        let same = |c: Option<regex::Captures<'_>>| c.map(|c| (c[1] == shown) as u64);
        if let Some(c) = same(capture(r"newest (\S+) ago", text)) {
            check("Backups pane newest", Some(c), Some(1));
        }
        if let Some(c) = same(capture(r"^(\S+)$", entry('7'))) {
            check("strip backup", Some(c), Some(1));
        }
    }
    compared
}

/// The strip's entries by pane number: ` 1 Queue 6 waiting 3 Health ok` or ` 1:6 3:ok`.
fn strip_entries(strip: &str) -> std::collections::BTreeMap<char, String> {
    let start = Regex::new(r"(?:^| )(\d)(?: (?:Queue|Jobs|Health|Alerts|RAG|Appr|Backup) |:)").expect("pattern");
    let starts: Vec<(usize, usize, char)> = start
        .captures_iter(strip)
        .filter_map(|c| Some((c.get(0)?.start(), c.get(0)?.end(), c[1].chars().next()?)))
        .collect();
    let mut out = std::collections::BTreeMap::new();
    for (i, (_, end, n)) in starts.iter().enumerate() {
        let until = starts.get(i + 1).map(|s| s.0).unwrap_or(strip.len());
        out.insert(*n, strip[*end..until].trim().trim_end_matches('✗').to_string());
    }
    out
}

/// The fleet view's row for this context, as columns.
fn fleet_row(app: &mut App, w: u16, h: u16) -> (Vec<String>, ContextFacts) {
    let ctx = app.context.clone();
    app.run_command("fleet");
    let checked = FleetRow::unknown(&ctx, false, Utc::now());
    app.update(Msg::FleetLoaded(vec![checked], Utc::now()));
    let (text, facts) = frame(app, w, h);
    app.update(Msg::Key(crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Esc)));
    let line = text.lines().find(|l| l.contains(&format!("▶ {ctx}"))).unwrap_or_else(|| panic!("no row:\n{text}"));
    let cols = line.trim_matches(['┃', ' ']).split_whitespace().map(String::from).collect();
    (cols, facts)
}

/// The fleet row shows the frame's facts: QUEUED, APPR, FIRING, UNHLTHY, BACKUP.
fn fleet_agrees(app: &mut App, what: &str) {
    for (w, h) in [(80, 24), (200, 60)] {
        let (cols, f) = fleet_row(app, w, h);
        let n = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_else(|| "-".into());
        // ▶, name, QUEUED, OLDEST, APPR, c.. h.. m.. l.. (or -), UNHLTHY, BACKUP
        assert_eq!(cols[2], n(f.queued), "{what}: fleet QUEUED {cols:?}");
        assert_eq!(cols[4], n(f.awaiting_approval), "{what}: fleet APPR {cols:?}");
        let firing = f.firing.as_ref().map(|x| x.short()).unwrap_or_else(|| "-".into());
        let at = 5 + firing.split_whitespace().count();
        assert_eq!(cols[5..at].join(" "), firing, "{what}: fleet FIRING {cols:?}");
        assert_eq!(cols[at], n(f.health.map(|h| h.containers_unhealthy as u64)), "{what}: fleet UNHLTHY {cols:?}");
        let backup = f.last_backup_age_s.map(mcptop::domain::text::age).unwrap_or_else(|| "-".into());
        assert_eq!(cols[at + 1], backup, "{what}: fleet BACKUP {cols:?}");
    }
}

fn everywhere(live: &mut Live, what: &str) {
    let app = live.app();
    let mut compared = 0;
    for (w, h) in [(80, 24), (200, 60)] {
        for focus in PaneId::ALL {
            app.focus = focus;
            let (text, facts) = frame(app, w, h);
            // Under 120 columns the line above the footer sums up the other panes.
            let strip = (w < 120).then(|| text.lines().nth(h as usize - 2).unwrap_or_default());
            compared += agree(&text, strip, &facts, &format!("{what} at {w}x{h}, {focus:?} focused"));
        }
    }
    app.focus = PaneId::Jobs;
    fleet_agrees(app, what);
    assert!(compared > 40, "{what}: only {compared} places compared");
}

fn cli(args: &[&str]) -> Cli {
    Cli::parse_from(std::iter::once("mcptop").chain(args.iter().copied()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_shows_each_fact_the_same_everywhere_through_changes() {
    let state = tempfile::tempdir().expect("dir");
    // SAFETY: set before any thread of this test reads the environment.
    unsafe { std::env::set_var("XDG_STATE_HOME", state.path()) };
    let cli = cli(&["--demo", "--demo-still"]);
    let mut settings = config::load(&Overrides::default()).expect("settings");
    settings.context_name = "demo".into();
    settings.context_names = vec!["demo".into(), "demo-lab".into()];
    settings.context.queues = mcptop::demo::QUEUES.iter().map(|s| s.to_string()).collect();
    let worlds = DemoWorlds::new(cli.seed, false);
    let w = worlds.clone();
    let world = tokio::task::spawn_blocking(move || w.get("demo")).await.expect("world");
    let audit = Arc::new(mcptop::audit::AuditLog::sqlite_memory());
    let opener = Opener { cli: &cli, base: settings, audit, fleet: None, demo: Some(worlds) };
    let mut live = Live::start(opener.open("demo".into()).await.expect("session"));
    live.pump(Duration::from_millis(800)).await;
    everywhere(&mut live, "the demo at start");

    // An approval: one job fewer awaits, everywhere.
    let before = live.app().facts(Utc::now()).awaiting_approval;
    let job = live.app().approvals.jobs().first().cloned().expect("a job awaits approval");
    let request = ActionRequest::Approve { job: JobRef::of(&job), note: None, title: None, body: None, edited: false };
    live.act(request).await;
    let after = live.app().facts(Utc::now()).awaiting_approval;
    assert_eq!(after.zip(before).map(|(a, b)| b - a), Some(1), "{before:?} → {after:?}");
    everywhere(&mut live, "after an approval");

    // A backup: the newest archive is now, everywhere.
    let items = "files".to_string();
    live.act(ActionRequest::Backup { context: "demo".into(), items, only: vec![] }).await;
    let dir = world.backup.as_ref().map(|(p, _)| p.dir.clone()).expect("the demo backs up");
    let list = mcptop::backup::list(&dir);
    live.app().update(Msg::BackupsLoaded(list, Utc::now()));
    assert!(live.app().facts(Utc::now()).last_backup_age_s.is_some_and(|a| a < 60));
    everywhere(&mut live, "after a backup");

    // A container goes unhealthy (the demo's worker-2 fails its check 40 s in every 90).
    let now = Utc::now();
    let sick_at = now + chrono::Duration::seconds(90 - now.timestamp().rem_euclid(90) + 5);
    world.platform.advance(sick_at);
    live.pump(Duration::from_millis(1500)).await;
    let health = live.app().facts(Utc::now()).health.expect("health");
    assert!(health.containers_unhealthy >= 1, "{health:?}");
    everywhere(&mut live, "with a container unhealthy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_redis_shows_each_fact_the_same_everywhere_as_a_queue_stalls() {
    let redis = harness::Redis::start();
    let mut c = redis.conn();
    let now = Utc::now().timestamp_millis();
    for i in 0..5 {
        let id = format!("q{i}");
        harness::seed_job(&mut c, "mcp:", &id, now - 600_000 - i * 1000, "queued", &[("queue", b"analysis")]);
        harness::enqueue(&mut c, "mcp:", "analysis", &id);
    }
    for i in 0..3 {
        harness::seed_job(&mut c, "mcp:", &format!("a{i}"), now - 1000, "awaiting_approval", &[("hostname", b"db-01")]);
    }
    harness::seed_job(&mut c, "mcp:", "r1", now - 1000, "running", &[]);
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("c.toml");
    let toml = format!("[contexts.lab]\nredis_url = \"{}\"\nstall_after_s = 3\npoll_interval_ms = 200\n", redis.url());
    std::fs::write(&config, toml).expect("config");
    let path = config.to_string_lossy().into_owned();
    let cli = cli(&["--config", &path]);
    let ov = Overrides { config: Some(config.clone()), ..Default::default() };
    let settings = config::load(&ov).expect("settings");
    let audit = Arc::new(mcptop::audit::AuditLog::sqlite_memory());
    let opener = Opener { cli: &cli, base: settings, audit, fleet: None, demo: None };
    let mut live = Live::start(opener.open("lab".into()).await.expect("session"));
    live.pump(Duration::from_millis(800)).await;
    let f = live.app().facts(Utc::now());
    assert_eq!((f.queued, f.awaiting_approval, f.running), (Some(5), Some(3), Some(1)), "{f:?}");
    assert_ne!(f.stalled, Some(true), "not watched long enough to say");
    everywhere(&mut live, "Redis at start");

    // Nothing takes a job for longer than stall_after_s: stalled, everywhere.
    live.pump(Duration::from_secs(4)).await;
    assert_eq!(live.app().facts(Utc::now()).stalled, Some(true));
    everywhere(&mut live, "Redis with the queue stalled");

    // A worker takes one: it moves again.
    let _: () = redis::cmd("RPOP").arg("mcp:queue:analysis").query(&mut c).expect("take a job");
    live.pump(Duration::from_millis(800)).await;
    let f = live.app().facts(Utc::now());
    assert_eq!((f.queued, f.stalled), (Some(4), Some(false)), "{f:?}");
    everywhere(&mut live, "Redis after a job was taken");
}
