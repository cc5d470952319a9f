//! The real binary, headless: `mcptop status` against a real Redis, a dead one, and config files
//! that are valid or broken in the ways people break them.
#![allow(clippy::disallowed_macros)] // a test or bench reports on its own terminal

mod harness;

use std::process::{Command, Output};

use chrono::Utc;
use harness::{Redis, enqueue, free_port, mcptop_bin, seed_job};

fn mcptop(args: &[&str]) -> Output {
    Command::new(mcptop_bin())
        .args(args)
        .env_remove("MCPTOP_CONFIG")
        .env_remove("MCPTOP_REDIS_URL")
        .env_remove("MCPTOP_CONTEXT")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .env("XDG_STATE_HOME", std::env::temp_dir())
        .output()
        .expect("run mcptop")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn status_json_reports_queues_and_jobs_and_exits_0() {
    let redis = Redis::start();
    let mut c = redis.conn();
    let t = Utc::now().timestamp_millis();
    seed_job(&mut c, "mcp:", "a", t - 30_000, "queued", &[("queue", b"analysis")]);
    seed_job(&mut c, "mcp:", "b", t, "failed", &[]);
    enqueue(&mut c, "mcp:", "analysis", "a");
    let out = mcptop(&["--redis-url", &redis.url(), "status", "--output", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(v["context"], "default");
    assert!(v["fetched_at"].as_str().is_some());
    assert_eq!(v["sources"][0]["name"], "redis");
    assert_eq!(v["sources"][0]["ok"], true);
    assert!(v["sources"][0]["latency_ms"].as_u64().is_some());
    assert_eq!(v["queues"][0]["name"], "analysis");
    assert_eq!(v["queues"][0]["length"], 1);
    let age = v["queues"][0]["oldest_age_s"].as_f64().unwrap();
    assert!((29.0..60.0).contains(&age), "{age}");
    assert_eq!(v["jobs"]["total"], 2);
    assert_eq!(v["jobs"]["by_status"]["queued"], 1);
    assert_eq!(v["jobs"]["by_status"]["failed"], 1);

    let table = mcptop(&["--redis-url", &redis.url(), "status"]);
    assert_eq!(table.status.code(), Some(0));
    let text = stdout(&table);
    assert!(text.contains("analysis") && text.contains("JOBS 2"), "{text}");
}

#[test]
fn status_exits_1_when_redis_does_not_answer_and_never_prints_the_password() {
    // A password inside the URL is refused outright, naming the flag and not the password.
    let url = format!("redis://:s3cret-pw@127.0.0.1:{}/0", free_port());
    let out = mcptop(&["--redis-url", &url, "status", "--output", "json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--redis-url") && stderr(&out).contains("redis_password"), "{}", stderr(&out));
    assert!(!stdout(&out).contains("s3cret-pw") && !stderr(&out).contains("s3cret-pw"));
    // By reference it is used, and still never printed.
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("config.toml");
    let text =
        format!("[contexts.t]\nredis_url = \"redis://127.0.0.1:{}/0\"\nredis_password = \"env:PW\"\n", free_port());
    std::fs::write(&config, text).expect("config");
    let out = Command::new(mcptop_bin())
        .args(["--config", config.to_str().expect("path"), "status", "--output", "json"])
        .env("PW", "s3cret-pw")
        .env("XDG_STATE_HOME", std::env::temp_dir())
        .output()
        .expect("run mcptop");
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON even on failure");
    assert_eq!(v["sources"][0]["ok"], false);
    assert!(v["sources"][0]["error"].as_str().is_some_and(|e| !e.is_empty()));
    assert!(!stdout(&out).contains("s3cret-pw") && !stderr(&out).contains("s3cret-pw"));
}

#[test]
fn status_works_on_the_demo_platform() {
    let out = mcptop(&["--demo", "status", "--output", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["context"], "demo");
    assert!(v["jobs"]["total"].as_u64().unwrap() > 100);
}

#[test]
fn broken_config_files_name_the_key() {
    let fixture = |name: &str| format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let cases = [
        ("unknown_key.toml", "redis_ulr"),
        ("bad_url.toml", "redis_url"),
        ("literal_secret.toml", "redis_password"),
        ("bad_key_binding.toml", "keys.zoom"),
    ];
    for (file, key) in cases {
        let out = mcptop(&["--config", &fixture(file), "--snapshot"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{file}: {err}");
        assert!(err.contains(key), "{file}: the error names {key}: {err}");
        assert!(!err.contains("hunter2"), "{file}: no secret in errors: {err}");
    }
    let missing = mcptop(&["--config", "/nonexistent/mcptop.toml", "status"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("/nonexistent/mcptop.toml"));
}

#[test]
fn the_example_config_is_valid() {
    let example = format!("{}/config/mcptop.example.toml", env!("CARGO_MANIFEST_DIR"));
    let redis = Redis::start();
    let out = Command::new(mcptop_bin())
        .args(["--config", &example, "--context", "staging", "--redis-url", &redis.url(), "status"])
        .env("MCP_REDIS_PASSWORD", "")
        .env("XDG_STATE_HOME", std::env::temp_dir())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn without_a_terminal_the_dashboard_says_what_to_use_instead() {
    let out = mcptop(&["--demo"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("mcptop status"), "{}", stderr(&out));
}

#[test]
fn no_color_draws_without_colours() {
    let run = |no_color: Option<&str>| {
        let mut cmd = Command::new(mcptop_bin());
        cmd.args(["--demo", "--snapshot", "svg"])
            .env("XDG_CONFIG_HOME", "/nonexistent")
            .env("XDG_STATE_HOME", std::env::temp_dir());
        match no_color {
            Some(v) => cmd.env("NO_COLOR", v),
            None => cmd.env_remove("NO_COLOR"),
        };
        String::from_utf8_lossy(&cmd.output().unwrap().stdout).into_owned()
    };
    let colours = |svg: &str| -> std::collections::BTreeSet<String> {
        svg.split("fill=\"").skip(1).filter_map(|s| s.split('"').next()).map(String::from).collect()
    };
    let default = colours(&run(None));
    assert!(default.len() > 5, "the default theme has colours: {default:?}");
    let mono = colours(&run(Some("1")));
    assert_eq!(mono.len(), 2, "only the terminal's own foreground and background: {mono:?}");
}

#[test]
fn snapshot_prints_one_frame_of_the_demo() {
    let out = mcptop(&["--demo", "--snapshot", "--size", "120x36"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("DEMO") && text.contains("Jobs") && text.contains("Backups"), "{text}");
    assert!(!text.contains("not configured"), "the demo configures every pane:\n{text}");
    assert!(text.lines().count() >= 36);
}

#[test]
fn status_says_when_a_key_has_the_wrong_type_and_exits_1() {
    let redis = Redis::start();
    let mut c = redis.conn();
    redis::cmd("SET").arg("mcp:jobs").arg("not a sorted set").query::<()>(&mut c).expect("set");
    let out = mcptop(&["--redis-url", &redis.url(), "status", "--output", "json"]);
    assert_eq!(out.status.code(), Some(1), "partial is not ok: {}", stdout(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(v["sources"][0]["ok"], false, "{v}");
    assert_eq!(v["sources"][0]["error"], "mcp:jobs is not a sorted set", "the words the dashboard uses: {v}");
    assert_eq!(v["jobs"]["total"], serde_json::Value::Null, "unknown, not 0: {v}");
    let table = mcptop(&["--redis-url", &redis.url(), "status"]);
    assert_eq!(table.status.code(), Some(1));
    assert!(stdout(&table).contains("mcp:jobs is not a sorted set"), "{}", stdout(&table));
}

#[test]
fn the_demo_starts_on_the_context_asked_for_and_refuses_others() {
    let lab = mcptop(&["--demo", "--context", "demo-lab", "--snapshot", "--size", "120x30"]);
    assert_eq!(lab.status.code(), Some(0), "{}", stderr(&lab));
    assert!(stdout(&lab).lines().next().is_some_and(|l| l.contains("demo-lab")), "{}", stdout(&lab));
    let bogus = mcptop(&["--demo", "--context", "bogus", "status"]);
    assert_eq!(bogus.status.code(), Some(2), "{}", stderr(&bogus));
    assert!(stderr(&bogus).contains("demo-lab"), "names the demo's contexts: {}", stderr(&bogus));
}

#[test]
fn bad_input_exits_2_before_anything_is_done() {
    let redis = Redis::start();
    for args in [
        vec!["reject", "", "--note", "x", "--yes"],
        vec!["approve", "", "--yes"],
        vec!["audit", "--action", "bogus"],
        vec!["audit", "--outcome", "maybe"],
        vec!["reject", "j1", "--note", "two\nlines", "--yes"],
    ] {
        let url = redis.url();
        let mut all = vec!["--redis-url", url.as_str()];
        all.extend(args.iter().copied());
        let out = mcptop(&all);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}{}", stdout(&out), stderr(&out));
    }
}

#[test]
fn a_cli_table_cannot_be_forged_by_a_line_feed_in_a_value() {
    let redis = Redis::start();
    let mut c = redis.conn();
    let t = Utc::now().timestamp_millis();
    redis::cmd("LPUSH").arg("mcp:queue:ana\nFAKE ROW\x1b[2J").arg("x").query::<()>(&mut c).expect("push");
    seed_job(&mut c, "mcp:", "a", t, "queued", &[("queue", b"analysis")]);
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        format!(
            "[contexts.x]\nredis_url = \"{}\"\nqueues = [\"analysis\", \"ana\\nFAKE ROW\\u001b[2J\"]\n",
            redis.url()
        ),
    )
    .expect("config");
    let out = mcptop(&["--config", config.to_str().expect("path"), "status"]);
    let text = stdout(&out);
    assert!(!text.lines().any(|l| l.starts_with("FAKE ROW")), "a forged row:\n{text}");
    assert!(text.contains("ana^JFAKE ROW^[[2J"), "shown escaped on its own row:\n{text}");
    assert!(!text.contains('\x1b'), "{text:?}");
}

/// The README's screenshot (`scripts/screenshot`) shows every pane as the program draws it now:
/// none waiting for data or unconfigured, the AI line and the panes added since.
#[test]
fn the_readme_screenshot_is_current() {
    let svg = include_str!("../assets/screenshot.svg");
    for stale in ["not configured", "loading…"] {
        assert!(!svg.contains(stale), "assets/screenshot.svg shows {stale:?}: run scripts/screenshot");
    }
    for pane in
        ["Queue", "Jobs", "Health", "Alerts", "RAG hits", "Approvals", "awaiting", "Backups", "archives", "analyses"]
    {
        assert!(svg.contains(pane), "assets/screenshot.svg lacks {pane:?}: run scripts/screenshot");
    }
}
