//! Switching context in the running dashboard (`:ctx NAME`), through the real binary in a real
//! terminal, against two real Redis servers (one context also with a real Alertmanager): fifty
//! switches leave no connection behind on either server and no task in the runtime.
#![allow(clippy::disallowed_macros)] // a test or bench reports on its own terminal

mod harness;

use std::time::Duration;

use harness::{Alertmanager, Redis, Tmux, eventually, seed_job};

/// Clients connected to a Redis server, not counting the one asking.
fn clients(r: &Redis) -> usize {
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut r.conn()).expect("CLIENT LIST");
    list.lines().count().saturating_sub(1)
}

/// The runtime's live tasks the log reports after each switch, in order.
fn alive_tasks(t: &Tmux) -> Vec<usize> {
    let dir = t.state_dir().join("mcptop");
    let mut values = Vec::new();
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        for line in text.lines().filter(|l| l.contains("first data after switching context")) {
            let n: Option<usize> =
                line.split("alive_tasks=").nth(1).and_then(|v| v.split_whitespace().next()?.parse().ok());
            values.extend(n);
        }
    }
    values
}

fn switch(t: &Tmux, name: &str) {
    t.keys(&[":"]);
    t.type_text(&format!("ctx {name}"));
    t.keys(&["Enter"]);
    t.wait_for(&format!("switched to context {name} (first data"), Duration::from_secs(10));
}

#[test]
fn fifty_switches_leak_no_connection_and_no_task() {
    let (a, b) = (Redis::start(), Redis::start());
    let am = Alertmanager::start();
    let now = chrono::Utc::now().timestamp_millis();
    seed_job(&mut a.conn(), "mcp:", "ja", now, "failed", &[("hostname", b"host-in-a")]);
    seed_job(&mut b.conn(), "mcp:", "jb", now, "failed", &[("hostname", b"host-in-b")]);
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[contexts.a]\nredis_url = \"{}\"\nproduction = true\n[[contexts.a.alertmanagers]]\nname = \"am\"\nurl = \"{}\"\n\
             [contexts.b]\nredis_url = \"{}\"\n",
            a.url(),
            am.url(),
            b.url()
        ),
    )
    .expect("config");
    let t = Tmux::start(&format!("--config {} --context a", config.display()), 120, 40, "");
    t.wait_for("host-in-a", Duration::from_secs(10));
    assert!(t.screen().contains("PRODUCTION"), "the production badge:\n{}", t.screen());

    // One round trip first: the baseline is a context that has been switched away from and back.
    switch(&t, "b");
    t.wait_for("host-in-b", Duration::from_secs(10));
    assert!(!t.screen().contains("PRODUCTION"), "b is not production:\n{}", t.screen());
    switch(&t, "a");
    t.wait_for("host-in-a", Duration::from_secs(10));
    let settled = |r: &Redis, want: usize| eventually(Duration::from_secs(5), || clients(r) == want);
    assert!(settled(&b, 0), "b's connections closed on leaving it: {}", clients(&b));
    let (base_a, base_tasks) = (clients(&a), alive_tasks(&t).last().copied().unwrap_or(0));
    assert!(base_a > 0 && base_tasks > 0, "a is connected ({base_a}) and the log counts tasks ({base_tasks})");

    for _ in 0..25 {
        switch(&t, "b");
        switch(&t, "a");
    }
    t.wait_for("host-in-a", Duration::from_secs(10));
    assert!(settled(&a, base_a), "Redis a: {} clients after 50 switches, {base_a} before", clients(&a));
    assert!(settled(&b, 0), "Redis b: {} clients left after leaving it", clients(&b));
    let tasks = alive_tasks(&t);
    assert_eq!(tasks.len(), 52, "one line per switch: {tasks:?}");
    let after = tasks.last().copied().unwrap_or(0);
    eprintln!("clients of a: {base_a}; tasks after each switch: {tasks:?}");
    // A few one-off tasks (a backup listing, an action) may be in flight; a leak would add
    // the pollers of every switch.
    assert!(after <= base_tasks + 2, "tasks: {base_tasks} before, {after} after 50 switches: {tasks:?}");
    t.keys(&["q"]);
    t.exited(0);
}
