//! The real binary in a real terminal (tmux): keys answer, and every way out — `q`, Ctrl-C,
//! SIGTERM, SIGHUP (a dropped SSH session) — leaves the alternate screen and restores the
//! terminal's modes.
#![allow(clippy::disallowed_macros)] // a test or bench reports on its own terminal

mod harness;

use std::process::Command;
use std::time::Duration;

use harness::{Tmux, eventually};

fn start(args: &str) -> Tmux {
    let t = Tmux::start(args, 100, 30, "");
    t.wait_for("Jobs", Duration::from_secs(10));
    t
}

#[test]
fn keys_answer_and_q_restores_the_terminal() {
    let t = start("--demo");
    t.keys(&["?"]);
    assert!(eventually(Duration::from_secs(3), || t.screen().contains("Help")), "{}", t.screen());
    t.keys(&["Escape", "f"]);
    assert!(eventually(Duration::from_secs(3), || t.screen().contains("failures only")), "{}", t.screen());
    t.keys(&["q"]);
    t.exited(0);
}

#[test]
fn ctrl_c_always_quits() {
    let t = start("--demo");
    t.keys(&["/", "d", "b"]); // even while typing a filter
    t.keys(&["C-c"]);
    t.exited(0);
}

#[test]
fn sigterm_and_sighup_restore_the_terminal() {
    for (signal, code) in [("-TERM", 143), ("-HUP", 129)] {
        let t = start("--demo");
        let pid = t.mcptop_pid();
        assert!(!pid.is_empty(), "mcptop runs in the pane");
        Command::new("kill").args([signal, &pid]).status().unwrap();
        t.exited(code);
    }
}

#[test]
fn redis_down_at_start_still_draws_the_dashboard() {
    let port = harness::free_port();
    let t = start(&format!("--redis-url redis://127.0.0.1:{port}/0"));
    assert!(eventually(Duration::from_secs(5), || t.screen().contains("cannot connect")), "{}", t.screen());
    t.keys(&["j", "?"]);
    assert!(eventually(Duration::from_secs(3), || t.screen().contains("Help")), "keys answer while Redis is down");
    t.keys(&["Escape", "q"]);
    t.exited(0);
}
