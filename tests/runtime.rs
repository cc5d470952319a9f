//! The runtime against a real Redis: it keeps running when Redis stops, the panes keep their last
//! data and show the error, its age and the next retry, and it recovers by itself once Redis
//! comes back. Pushed events reach the state without waiting for a poll.
#![allow(clippy::disallowed_macros)] // a test or bench reports on its own terminal

mod harness;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use harness::{Redis, seed_job};
use mcptop::clients::RedisClient;
use mcptop::clients::redis::RedisSettings;
use mcptop::runtime::{self, RuntimeOptions, SourceMsg};
use mcptop::tui::app::{App, Msg};
use mcptop::tui::keymap::KeyMap;
use mcptop::tui::theme::Theme;
use tokio::sync::mpsc;

const P: &str = "mcp:";

fn client(url: String) -> Arc<RedisClient> {
    Arc::new(
        RedisClient::new(RedisSettings {
            url,
            password: None,
            prefix: P.into(),
            queues: vec!["analysis".into()],
            timeout: Duration::from_millis(500),
        })
        .unwrap(),
    )
}

/// Feed runtime messages into the app until `done` holds or `timeout` passes.
async fn pump(
    app: &mut App,
    rx: &mut mpsc::Receiver<SourceMsg>,
    timeout: Duration,
    done: impl Fn(&App) -> bool,
) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    while !done(app) {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(m)) => {
                app.update(Msg::Source(m));
            }
            _ => return done(app),
        }
    }
    true
}

/// A Redis holding one job, and an app fed by a runtime polling it every `interval`.
fn watch(
    status: &str,
    interval: Duration,
    timeout: Duration,
) -> (Redis, redis::Connection, App, mpsc::Receiver<SourceMsg>, runtime::Runtime) {
    let redis = Redis::start();
    let mut c = redis.conn();
    seed_job(&mut c, P, "j1", Utc::now().timestamp_millis(), status, &[("hostname", b"db-01")]);
    let (tx, rx) = mpsc::channel(256);
    let opts = RuntimeOptions { interval, timeout, ..Default::default() };
    let mut app = App::new("test", "redis", KeyMap::default(), Utc::now());
    app.update(Msg::Resized { width: 160, height: 48 });
    let sources = mcptop::sources::Sources { jobs: Some(client(redis.url())), ..mcptop::sources::Sources::none() };
    let handle = runtime::start(&sources, opts, app.initial_query(), tx);
    (redis, c, app, rx, handle)
}

fn screen(app: &App) -> String {
    mcptop::tui::svg::to_text(&mcptop::tui::render_to_buffer(app, &Theme::built_in("default"), 160, 48))
}

// The runtime's tasks keep running on worker threads while the test blocks stopping and
// starting Redis (as they do in the binary while Redis comes and goes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopping_degrades_the_panes_and_restarting_recovers() {
    let (redis, _c, mut app, mut rx, handle) = watch("failed", Duration::from_secs(1), Duration::from_millis(500));
    assert!(
        pump(&mut app, &mut rx, Duration::from_secs(5), |a| a.jobs.page.data.is_some() && a.jobs.queues.data.is_some())
            .await
    );

    let (port, dir) = redis.stop();
    let failed = |a: &App| a.jobs.page.error.is_some() && a.jobs.queues.error.is_some();
    assert!(pump(&mut app, &mut rx, Duration::from_secs(5), failed).await, "the panes notice Redis is gone");
    assert!(app.jobs.page.data.is_some() && app.jobs.queues.data.is_some(), "last good data is kept");
    let err = app.jobs.page.error.clone().unwrap();
    assert!(err.retry_at > err.since, "a next retry is scheduled");
    app.now = Utc::now() + chrono::Duration::seconds(3);
    let text = screen(&app);
    assert!(text.contains("STALE"), "the title says the data is stale:\n{text}");
    assert!(text.contains("retry in"), "the pane says when it retries:\n{text}");
    assert!(text.contains("showing last good data") && text.contains("db-01"), "{text}");

    // keep the failure going for a while so backoff is at its longest
    tokio::time::sleep(Duration::from_secs(3)).await;
    while rx.try_recv().is_ok() {}

    let redis = Redis::start_on(port, dir);
    let recovered = |a: &App| a.jobs.page.error.is_none() && a.jobs.queues.error.is_none();
    assert!(
        pump(&mut app, &mut rx, harness::HANG_GUARD, recovered).await,
        "the panes never recovered after Redis came back:\n{}",
        screen(&app)
    );
    assert_eq!(app.jobs.page.data.as_ref().map(|p| p.total), Some(0), "fresh data from the new (empty) server");
    drop(handle);
    drop(redis);
}

// The runtime's tasks keep running on worker threads while the test writes to Redis (blocking).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushed_events_refresh_without_waiting_for_a_poll() {
    // polling once an hour: within the test, only a push can explain a refresh
    let (_redis, mut c, mut app, mut rx, _handle) = watch("queued", Duration::from_secs(3600), Duration::from_secs(1));
    assert!(
        pump(&mut app, &mut rx, Duration::from_secs(5), |a| a.jobs.page.data.is_some() && a.jobs.events.connected)
            .await
    );

    redis::pipe()
        .cmd("HSET")
        .arg("mcp:job:j1")
        .arg("status")
        .arg("running")
        .cmd("ZREM")
        .arg("mcp:jobs:queued")
        .arg("j1")
        .cmd("ZADD")
        .arg("mcp:jobs:running")
        .arg(1)
        .arg("j1")
        .cmd("PUBLISH")
        .arg("mcp:events")
        .arg(r#"{"job_id":"j1","status":"running","at":"2026-11-21T03:00:00Z"}"#)
        .query::<()>(&mut c)
        .unwrap();
    let running = |a: &App| {
        a.jobs
            .page
            .data
            .as_ref()
            .is_some_and(|p| p.jobs.first().is_some_and(|j| j.status == mcptop::domain::JobStatus::Running))
            && a.jobs.queues.data.as_ref().is_some_and(|s| s.count(&mcptop::domain::JobStatus::Running) == Some(1))
    };
    assert!(pump(&mut app, &mut rx, harness::HANG_GUARD, running).await, "the event never brought the change");
}
