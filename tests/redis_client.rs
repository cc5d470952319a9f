//! The Redis client against a real redis-server: queue statistics, job windows, filters, details,
//! and hostile job records rendered into a screen buffer.
#![allow(clippy::disallowed_macros)] // a test or bench reports on its own terminal

mod harness;

use std::time::Duration;

use chrono::{TimeZone, Utc};
use harness::{Redis, enqueue, seed_job};
use mcptop::clients::RedisClient;
use mcptop::clients::redis::RedisSettings;
use mcptop::domain::{JobStatus, JobsQuery, Severity};
use mcptop::runtime::SourceMsg;
use mcptop::tui::app::{App, Msg};
use mcptop::tui::keymap::KeyMap;
use mcptop::tui::theme::Theme;

const P: &str = "mcp:";

fn client(redis: &Redis) -> RedisClient {
    RedisClient::new(RedisSettings {
        url: redis.url(),
        password: None,
        prefix: P.into(),
        queues: vec!["analysis".into(), "other".into()],
        timeout: Duration::from_secs(2),
    })
    .expect("client")
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

#[tokio::test]
async fn queue_stats_count_lengths_ages_and_statuses() {
    let redis = Redis::start();
    let mut c = redis.conn();
    let t = now_ms();
    seed_job(&mut c, P, "old", t - 90_000, "queued", &[("queue", b"analysis")]);
    seed_job(&mut c, P, "new", t - 1_000, "queued", &[("queue", b"analysis")]);
    seed_job(&mut c, P, "f1", t - 5_000, "failed", &[]);
    seed_job(&mut c, P, "d1", t - 5_000, "done", &[]);
    enqueue(&mut c, P, "analysis", "old");
    enqueue(&mut c, P, "analysis", "new");
    // a bare id string is accepted too (CONTRACT.md §1)
    redis::cmd("LPUSH").arg("mcp:queue:other").arg("bare-id").query::<()>(&mut c).unwrap();

    let snap = client(&redis).queues().await.expect("queues");
    let analysis = &snap.queues[0];
    assert_eq!((analysis.name.as_str(), analysis.length), ("analysis", Some(2)));
    assert_eq!(analysis.oldest_id.as_deref(), Some("old"));
    let age = analysis.oldest_age_s.expect("age of the oldest job");
    assert!((89.0..120.0).contains(&age), "oldest age {age}");
    assert_eq!(analysis.enqueued_last_min, 1 + 2, "new, f1 and d1 were created in the last minute");
    assert_eq!(snap.queues[1].oldest_id.as_deref(), Some("bare-id"));
    assert_eq!(snap.queues[1].oldest_age_s, None, "no such job in the index");
    assert_eq!(snap.total_jobs, Some(4));
    assert_eq!(snap.count(&JobStatus::Queued), Some(2));
    assert_eq!(snap.count(&JobStatus::Failed), Some(1));
    assert_eq!(snap.count(&JobStatus::Running), Some(0));
    assert!(snap.problems.is_empty());

    // Retried: queued again 3 s ago (its score in the queued set), created long before. It has
    // waited 3 s, not since it was created.
    redis::cmd("ZADD").arg("mcp:jobs:queued").arg(t - 3_000).arg("old").query::<()>(&mut c).unwrap();
    let snap = client(&redis).queues().await.expect("queues");
    let age = snap.queues[0].oldest_age_s.expect("age");
    assert!((2.0..30.0).contains(&age), "waited since it was queued again: {age}");

    // Keys of the wrong type: the snapshot says which, the counts are unknown (never 0).
    redis::cmd("DEL").arg("mcp:jobs").query::<()>(&mut c).unwrap();
    redis::cmd("SET").arg("mcp:jobs").arg("oops").query::<()>(&mut c).unwrap();
    redis::cmd("SET").arg("mcp:jobs:failed").arg("oops").query::<()>(&mut c).unwrap();
    redis::cmd("SET").arg("mcp:queue:other").arg("oops").query::<()>(&mut c).unwrap();
    let snap = client(&redis).queues().await.expect("a partial snapshot");
    assert_eq!(snap.total_jobs, None);
    assert_eq!(snap.count(&JobStatus::Failed), None);
    assert_eq!(snap.count(&JobStatus::Queued), Some(2));
    assert_eq!(snap.queues[1].length, None);
    assert_eq!(snap.waiting(), None);
    assert_eq!(
        snap.problems,
        ["mcp:jobs is not a sorted set", "mcp:jobs:failed is not a sorted set", "mcp:queue:other is not a list"]
    );
}

// The client's connection lives on the runtime while the test writes to Redis (blocking): worker
// threads keep it served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_windows_are_newest_first_one_round_trip_and_filterable() {
    let redis = Redis::start();
    let mut c = redis.conn();
    let t = now_ms();
    for i in 0..300 {
        let status = if i % 30 == 0 { "failed" } else { "done" };
        let host = format!("host-{:03}", i);
        seed_job(
            &mut c,
            P,
            &format!("job{i:03}"),
            t - (300 - i) * 1000,
            status,
            &[("hostname", host.as_bytes()), ("severity", b"Hoch")],
        );
    }
    let client = client(&redis);
    let page = client.jobs(JobsQuery { offset: 0, limit: 10, ..Default::default() }).await.expect("window");
    assert_eq!(page.total, 300);
    assert_eq!(page.jobs.len(), 10);
    assert_eq!(page.jobs[0].id, "job299");
    assert_eq!(page.jobs[0].severity, Severity::High);

    let before = client.round_trips();
    let deep = client.jobs(JobsQuery { offset: 250, limit: 10, ..Default::default() }).await.expect("window");
    assert_eq!(client.round_trips() - before, 1, "one window is one round trip");
    assert_eq!(deep.jobs[0].id, "job049");

    let failed = client.jobs(JobsQuery { failures_only: true, limit: 50, ..Default::default() }).await.unwrap();
    assert_eq!(failed.total, 10);
    assert!(failed.jobs.iter().all(|j| j.status == JobStatus::Failed));

    let filtered = client.jobs(JobsQuery { filter: "HOST-12".into(), limit: 50, ..Default::default() }).await.unwrap();
    let ids: Vec<_> = filtered.jobs.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(
        ids,
        ["job129", "job128", "job127", "job126", "job125", "job124", "job123", "job122", "job121", "job120"]
    );
    assert_eq!(filtered.scanned, Some(300));

    let by_id = client.jobs(JobsQuery { filter: "job007".into(), limit: 5, ..Default::default() }).await.unwrap();
    assert_eq!(by_id.jobs.len(), 1);
    assert_eq!(by_id.jobs[0].id, "job007");

    // an exact id is found however deep it is, even beyond the scan bound
    let old = t - 1_000_000_000;
    seed_job(&mut c, P, "Ancient-Job", old, "done", &[]);
    let filler: Vec<(i64, String)> =
        (0..mcptop::clients::redis::FILTER_MAX_SCAN as i64 + 10).map(|i| (t + i, format!("f{i}"))).collect();
    redis::cmd("ZADD").arg("mcp:jobs").arg(&filler).query::<()>(&mut c).unwrap();
    let deep = client.jobs(JobsQuery { filter: "Ancient-Job".into(), limit: 5, ..Default::default() }).await.unwrap();
    assert_eq!(deep.jobs.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), ["Ancient-Job"]);
    assert_eq!(deep.scanned, Some(mcptop::clients::redis::FILTER_MAX_SCAN as u64));
}

// The client's connection lives on the runtime while the test writes to Redis (blocking): worker
// threads keep it served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn details_hold_every_field_and_are_bounded() {
    let redis = Redis::start();
    let mut c = redis.conn();
    let huge = vec![b'x'; 10 * 1024 * 1024];
    seed_job(
        &mut c,
        P,
        "big",
        now_ms(),
        "awaiting_approval",
        &[
            ("description", &huge),
            ("analysis", br#"{"summary":"disk full","confidence":0.9}"#),
            ("custom_field", b"kept"),
        ],
    );
    let client = client(&redis);
    let d = client.job_detail("big".into()).await.unwrap().expect("exists");
    assert!(d.field("description").unwrap().len() <= 256 * 1024, "10 MB description is cut on the server");
    assert_eq!(d.field("custom_field"), Some("kept"));
    assert_eq!(d.analysis.and_then(|a| a.summary).as_deref(), Some("disk full"));
    assert!(client.job_detail("missing".into()).await.unwrap().is_none());

    // 100 fields of 1 MB each still make a reply of about 1 MB
    let mut p = redis::pipe();
    let mb = vec![b'y'; 1024 * 1024];
    for i in 0..100 {
        p.cmd("HSET").arg("mcp:job:wide").arg(format!("f{i:03}")).arg(&mb);
    }
    p.query::<()>(&mut c).unwrap();
    let d = client.job_detail("wide".into()).await.unwrap().expect("exists");
    let bytes: usize = d.fields.iter().map(|(_, v)| v.len()).sum();
    assert!(bytes <= 1024 * 1024 + 64 * 1024, "detail bounded in all: {bytes} bytes");
}

#[tokio::test]
async fn hostile_records_render_escaped_without_shifting_the_layout() {
    let redis = Redis::start();
    let mut c = redis.conn();
    let t = now_ms();
    let huge = vec![b'A'; 10 * 1024 * 1024];
    seed_job(
        &mut c,
        P,
        "ansi",
        t - 1000,
        "failed",
        &[
            ("hostname", b"db\x1b[31m-01\x1b]0;pwned\x07"),
            ("alert_type", b"Disk\nFull\r\n"),
            ("description", &huge),
            ("error", b"\x1b[2J\x1b[H cleared"),
        ],
    );
    seed_job(
        &mut c,
        P,
        "bytes",
        t - 2000,
        "running",
        &[
            ("status", b"\xff\xfe"),
            ("hostname", b"\xc3\x28\xa0\xa1"),
            ("severity", b"9000"),
            ("created_at", b"not a date"),
        ],
    );
    seed_job(
        &mut c,
        P,
        "wide",
        t - 3000,
        "running",
        &[("hostname", "数据库-服务器-非常长的主机名称-01".as_bytes()), ("alert_type", "🔥🔥🔥".as_bytes())],
    );
    seed_job(&mut c, P, "bidi", t - 4000, "done", &[("hostname", "evil\u{202e}gnp.exe".as_bytes())]);
    // an id in the index whose key is not a hash at all
    redis::cmd("ZADD").arg("mcp:jobs").arg(t - 5000).arg("wrongtype").query::<()>(&mut c).unwrap();
    redis::cmd("RPUSH").arg("mcp:job:wrongtype").arg("x").query::<()>(&mut c).unwrap();
    // and a queue key of the wrong type
    redis::cmd("SET").arg("mcp:queue:other").arg("oops").query::<()>(&mut c).unwrap();

    let client = client(&redis);
    let snap = client.queues().await.expect("queue stats survive a wrong-type key");
    let page = client.jobs(JobsQuery { limit: 20, ..Default::default() }).await.expect("window survives");
    assert_eq!(page.jobs.len(), 5);
    assert_eq!(page.jobs[4].status, JobStatus::Unknown(String::new()));

    for (w, h) in [(80u16, 24u16), (160, 48)] {
        let now = Utc.timestamp_millis_opt(t).unwrap();
        let mut app = App::new("test", "redis", KeyMap::default(), now);
        app.update(Msg::Resized { width: w, height: h });
        let _ = app.initial_query();
        app.update(Msg::Source(SourceMsg::QueuesLoaded(snap.clone())));
        app.update(Msg::Source(SourceMsg::JobsLoaded(page.clone())));
        let buf = mcptop::tui::render_to_buffer(&app, &Theme::built_in("default"), w, h);
        let text = mcptop::tui::svg::to_text(&buf);
        assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "no control characters reach the screen:\n{text}");
        assert!(text.contains("db^[[31m-01"), "escape shown escaped:\n{text}");
        assert!(text.contains("\\u{202e}"), "bidi override shown escaped");
        // every row is exactly the terminal's width: nothing shifted the layout
        for (i, line) in text.lines().enumerate() {
            let width = unicode_width::UnicodeWidthStr::width(line);
            assert!(width <= w as usize, "row {i} is {width} wide at {w}x{h}: {line}");
        }
        // the Jobs pane's right border is intact on every row of the pane
        let jobs = mcptop::tui::layout::compute(buf.area, None, app.focus, app.jobs.queue_slots, false)
            .pane(mcptop::tui::app::PaneId::Jobs)
            .unwrap();
        for y in jobs.y..jobs.y + jobs.height {
            let sym = buf[(jobs.x + jobs.width - 1, y)].symbol();
            assert!(["┃", "┓", "┛"].contains(&sym), "border broken at row {y}: {sym:?}\n{text}");
        }
    }

    let detail = client.job_detail("ansi".into()).await.unwrap().unwrap();
    assert_eq!(detail.field("error"), Some("\x1b[2J\x1b[H cleared"), "kept as stored; cleaned when drawn");
    let mut app = App::new("test", "redis", KeyMap::default(), Utc::now());
    app.jobs.detail = Some(mcptop::tui::jobs_state::DetailView { id: "ansi".into(), ..Default::default() });
    app.mode = mcptop::tui::app::Mode::Detail;
    app.update(Msg::Source(SourceMsg::DetailLoaded {
        id: "ansi".into(),
        detail: Some(Box::new(detail)),
        at: Utc::now(),
    }));
    let text = mcptop::tui::svg::to_text(&mcptop::tui::render_to_buffer(&app, &Theme::built_in("default"), 120, 40));
    assert!(!text.chars().any(|c| c.is_control() && c != '\n'));
    assert!(text.contains("db^[[31m-01^[]0;pwned^G"), "{text}");
    assert!(text.contains("Full^M"), "{text}");
}
