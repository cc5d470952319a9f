//! Redis behind Sentinel: the dashboard finds the master through three real sentinels, and when
//! `SENTINEL FAILOVER` moves it, follows it — its connections leave the old master, new jobs
//! written to the new one show, and the move is in the error history.
#![allow(clippy::disallowed_macros)] // a test or bench reports on its own terminal

mod harness;

use std::time::Duration;

use harness::sentinel::{MASTER_NAME, SentinelSet};
use harness::{HANG_GUARD, Tmux, eventually, seed_job};

/// mcptop's connections to a server: every client but the asking one, the sentinels' own
/// (named `sentinel-…`) and replication links (flag `S`).
fn our_clients(set: &SentinelSet, port: u16) -> usize {
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut set.conn(port)).unwrap_or_default();
    list.lines()
        .filter(|l| !l.contains(" name=sentinel-") && !l.contains(" flags=S ") && !l.contains(" cmd=client|list "))
        .count()
}

#[test]
fn the_dashboard_follows_a_sentinel_failover() {
    let set = SentinelSet::start();
    let old = set.master.port;
    let now = chrono::Utc::now().timestamp_millis();
    seed_job(&mut set.conn(old), "mcp:", "j-before", now, "failed", &[("hostname", b"host-before")]);

    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("config.toml");
    let sentinels: Vec<String> = set.addrs().iter().map(|a| format!("\"{a}\"")).collect();
    std::fs::write(
        &config,
        format!("[contexts.ha]\nredis_sentinels = [{}]\nredis_master = \"{MASTER_NAME}\"\n", sentinels.join(", ")),
    )
    .expect("config");
    let t = Tmux::start(&format!("--config {}", config.display()), 160, 40, "");
    t.wait_for("host-before", Duration::from_secs(20));
    assert!(our_clients(&set, old) > 0, "connected to the master Sentinel named");

    set.failover();
    let new = set.master_port().expect("new master");
    assert_ne!(new, old);
    assert_eq!(new, set.replica.port, "the replica was promoted");
    seed_job(&mut set.conn(new), "mcp:", "j-after", now + 1, "failed", &[("hostname", b"host-after")]);

    // Following means leaving the old master too: it still answers as a master for about ten
    // seconds after a forced failover, with data nobody writes any more.
    let left = eventually(HANG_GUARD, || our_clients(&set, old) == 0 && our_clients(&set, new) > 0);
    assert!(
        left,
        "mcptop's connections: {} on the old master, {} on the new one",
        our_clients(&set, old),
        our_clients(&set, new)
    );
    t.wait_for("host-after", HANG_GUARD);

    t.keys(&[":"]);
    t.type_text("errors");
    t.keys(&["Enter"]);
    let moved = format!("moved from 127.0.0.1:{old} to 127.0.0.1:{new}");
    t.wait_for(&moved, Duration::from_secs(10));

    // Every sentinel gone: the known master is kept, and that is said once.
    let mut set = set;
    for s in &mut set.sentinels {
        s.stop();
    }
    t.wait_for(&format!("Sentinel: still using the last known master 127.0.0.1:{new}"), HANG_GUARD);
    t.keys(&["Escape"]);
    seed_job(&mut set.conn(new), "mcp:", "j-late", now + 2, "failed", &[("hostname", b"host-late")]);
    t.wait_for("host-late", HANG_GUARD);
}

#[test]
fn the_cli_reads_the_queue_through_sentinel_and_says_when_none_answers() {
    let set = SentinelSet::start();
    let now = chrono::Utc::now().timestamp_millis();
    seed_job(&mut set.conn(set.master.port), "mcp:", "j1", now, "queued", &[("hostname", b"h1")]);
    harness::enqueue(&mut set.conn(set.master.port), "mcp:", "analysis", "j1");
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("config.toml");
    let write = |sentinels: &[String]| {
        let list: Vec<String> = sentinels.iter().map(|a| format!("\"{a}\"")).collect();
        std::fs::write(
            &config,
            format!("[contexts.ha]\nredis_sentinels = [{}]\nredis_master = \"{MASTER_NAME}\"\n", list.join(", ")),
        )
        .expect("config");
    };
    // The first sentinel listed is down, the second accepts connections and never answers (a
    // blackholed host): the third answers.
    let dead = format!("127.0.0.1:{}", harness::free_port());
    let hole = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let hole_addr = hole.local_addr().expect("addr").to_string();
    write(&[dead.clone(), hole_addr, set.addrs()[1].clone()]);
    let status = || {
        std::process::Command::new(harness::mcptop_bin())
            .args(["--config"])
            .arg(&config)
            .args(["status", "--output", "json"])
            .output()
            .expect("mcptop status")
    };
    let out = status();
    let text = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    assert_eq!(v["queues"][0]["length"], 1, "queue read through Sentinel: {text}");

    write(std::slice::from_ref(&dead));
    let out = status();
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(all.contains("no sentinel answered") && all.contains(&dead), "says which sentinel failed: {all}");
}

#[test]
fn a_backup_reads_redis_from_the_master_sentinel_names() {
    let set = SentinelSet::start();
    let now = chrono::Utc::now().timestamp_millis();
    for i in 0..3 {
        seed_job(&mut set.conn(set.master.port), "mcp:", &format!("b{i}"), now + i, "done", &[]);
    }
    set.failover();
    let new = set.master_port().expect("new master");
    // Only the new master has these for the next ten seconds or so.
    for i in 3..5 {
        seed_job(&mut set.conn(new), "mcp:", &format!("b{i}"), now + i, "done", &[]);
    }
    let keys: Vec<String> = redis::cmd("KEYS").arg("mcp:*").query(&mut set.conn(new)).expect("keys");
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("config.toml");
    let sentinels: Vec<String> = set.addrs().iter().map(|a| format!("\"{a}\"")).collect();
    std::fs::write(
        &config,
        format!(
            "[contexts.ha]\nredis_sentinels = [{}]\nredis_master = \"{MASTER_NAME}\"\n[contexts.ha.backup]\ndir = \"{}\"\ndatabases = []\n",
            sentinels.join(", "),
            dir.path().join("backups").display()
        ),
    )
    .expect("config");
    let out = std::process::Command::new(harness::mcptop_bin())
        .arg("--config")
        .arg(&config)
        .args(["backup", "run", "--yes", "--output", "json"])
        .env("XDG_DATA_HOME", dir.path())
        .env("XDG_STATE_HOME", dir.path())
        .output()
        .expect("mcptop backup run");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&out.stderr));
    // The answer follows the progress lines: the one JSON document that is not a status line.
    let answer: String = text.lines().skip_while(|l| l.contains("\"message_type\"")).collect::<Vec<_>>().join("\n");
    let v: serde_json::Value = serde_json::from_str(&answer).unwrap_or_default();
    let item = v["data"]["items"].as_array().and_then(|i| i.iter().find(|i| i["kind"] == "redis")).cloned();
    let item = item.unwrap_or_else(|| panic!("a Redis item: {text}"));
    // Five job hashes, `mcp:jobs` and `mcp:jobs:done`: what the new master holds, not the old.
    assert_eq!(keys.len(), 7);
    assert_eq!(item["records"], keys.len(), "{item}");
    assert_eq!(item["source"], format!("redis://127.0.0.1:{new}/ (keys mcp:*)"), "the server it read");
}
