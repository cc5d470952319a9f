//! The fleet (`:fleet` and `mcptop fleet`) over three contexts of real Redis servers, one of
//! them stopped: the other two rows stay live and the stopped one says why, in the TUI and in
//! the JSON. Also what one check of a context costs Redis.
#![allow(clippy::disallowed_macros)] // a test or bench reports on its own terminal

mod harness;

use std::process::Command;
use std::time::Duration;

use harness::{Redis, Tmux, mcptop_bin, seed_job};

fn config(dir: &std::path::Path, redis: &[&Redis]) -> std::path::PathBuf {
    let mut text = String::new();
    for (name, r) in ["alpha", "beta", "gamma"].iter().zip(redis) {
        text.push_str(&format!("[contexts.{name}]\nredis_url = \"{}\"\ntimeout_ms = 500\n", r.url()));
    }
    text.push_str("[contexts.alpha.backup]\ndir = \"/nonexistent/mcptop-fleet-test\"\n");
    let path = dir.join("config.toml");
    std::fs::write(&path, text).expect("config");
    path
}

#[test]
fn a_stopped_redis_fails_only_its_row() {
    let (a, b, mut c) = (Redis::start(), Redis::start(), Redis::start());
    let now = chrono::Utc::now().timestamp_millis();
    for (r, n) in [(&a, 3), (&b, 5)] {
        for i in 0..n {
            seed_job(&mut r.conn(), "mcp:", &format!("j{i}"), now - i, "awaiting_approval", &[]);
        }
    }
    c.svc.stop();
    let dir = tempfile::tempdir().expect("dir");
    let config = config(dir.path(), &[&a, &b, &c]);

    // Headless: every row, the failing one with its reason, exit 1.
    let out = Command::new(mcptop_bin())
        .args(["--config", config.to_str().unwrap_or_default(), "fleet", "--output", "json"])
        .env("XDG_STATE_HOME", dir.path())
        .output()
        .expect("mcptop fleet");
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let row = |name: &str| rows.as_array().into_iter().flatten().find(|r| r["context"] == name).cloned();
    let (alpha, beta, gamma) = (row("alpha"), row("beta"), row("gamma"));
    assert_eq!(alpha.as_ref().map(|r| r["awaiting_approval"].clone()), Some(serde_json::json!(3)), "{rows}");
    assert_eq!(beta.as_ref().map(|r| r["awaiting_approval"].clone()), Some(serde_json::json!(5)), "{rows}");
    let gamma = gamma.expect("gamma's row");
    assert_eq!(gamma["queued"], serde_json::Value::Null, "{gamma}");
    let failed = &gamma["sources"][0];
    assert_eq!((failed["name"].as_str(), failed["ok"].as_bool()), (Some("redis"), Some(false)), "{gamma}");
    assert!(failed["error"].as_str().is_some_and(|e| !e.is_empty()), "it says why: {gamma}");
    let alpha = alpha.expect("alpha");
    let backups = alpha["sources"].as_array().into_iter().flatten().find(|s| s["name"] == "backups").cloned();
    assert_eq!(backups.map(|s| s["ok"].clone()), Some(serde_json::json!(true)), "no archives yet is no error: {alpha}");

    // The TUI: the same rows, live, the stopped one with its reason.
    let t = Tmux::start(&format!("--config {} --context alpha", config.display()), 140, 30, "");
    t.wait_for("alpha", Duration::from_secs(10));
    t.keys(&[":"]);
    t.type_text("fleet");
    t.keys(&["Enter"]);
    t.wait_for("✗ redis:", Duration::from_secs(10));
    let screen = t.screen();
    let line = |name: &str| {
        screen.lines().find(|l| l.starts_with('┃') && l.contains(&format!(" {name} "))).unwrap_or_default().to_string()
    };
    assert!(line("alpha").contains("✓ redis"), "{screen}");
    assert!(line("beta").contains("✓ redis") && line("beta").contains(" 5 "), "{screen}");
    assert!(line("gamma").contains("✗ redis:"), "{screen}");
    // Enter on beta's row switches to it.
    t.keys(&["j", "Enter"]);
    t.wait_for("switched to context beta", Duration::from_secs(10));
    t.keys(&["q"]);
    t.exited(0);
}

#[test]
fn one_check_costs_a_context_a_few_redis_commands() {
    let a = Redis::start();
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("c.toml"), format!("[contexts.only]\nredis_url = \"{}\"\n", a.url())).expect("cfg");
    let _: () = redis::cmd("CONFIG").arg("RESETSTAT").query(&mut a.conn()).expect("reset");
    let out = Command::new(mcptop_bin())
        .args(["--config", dir.path().join("c.toml").to_str().unwrap_or_default(), "fleet", "--output", "json"])
        .env("XDG_STATE_HOME", dir.path())
        .output()
        .expect("mcptop fleet");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stats: String = redis::cmd("INFO").arg("commandstats").query(&mut a.conn()).expect("stats");
    let calls: u64 = stats
        .lines()
        .filter(|l| l.starts_with("cmdstat_") && !l.starts_with("cmdstat_config") && !l.starts_with("cmdstat_info"))
        .filter_map(|l| l.split("calls=").nth(1)?.split(',').next()?.parse::<u64>().ok())
        .sum();
    eprintln!("Redis commands for one fleet check of one context: {calls}\n{stats}");
    assert!(calls > 0 && calls <= 20, "a light check: {calls} commands\n{stats}");
}
