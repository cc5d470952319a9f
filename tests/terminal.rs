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

/// tmux's view of the pane: whether the alternate screen and mouse reporting are still on.
fn pane_modes(t: &Tmux) -> String {
    let out = Command::new("tmux")
        .args(["-L", t.socket(), "display", "-p", "alt=#{alternate_on} mouse=#{mouse_any_flag}"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The demo's folders of process `pid` in the temporary directory.
fn demo_folders(pid: &str) -> Vec<String> {
    std::fs::read_dir(std::env::temp_dir())
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!("mcptop-demo-{pid}-")))
        .collect()
}

/// Every signal that ends a process by default and can be caught gives the terminal back —
/// raw mode, the alternate screen, the mouse — and the exit code 128 + its number; the demo's
/// folders go too.
#[test]
fn every_terminating_signal_restores_the_terminal_and_the_mouse() {
    let mut config = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut config, b"mouse = true\n").unwrap();
    let path = config.path().display().to_string();
    for (signal, n) in [("TERM", 15), ("HUP", 1), ("INT", 2), ("QUIT", 3), ("USR1", 10), ("USR2", 12), ("ALRM", 14)] {
        let t = start(&format!("--demo --config {path}"));
        let pid = t.mcptop_pid();
        assert!(!pid.is_empty(), "mcptop runs in the pane");
        assert!(eventually(Duration::from_secs(5), || !demo_folders(&pid).is_empty()), "the demo made its folders");
        assert_eq!(pane_modes(&t), "alt=1 mouse=1", "the dashboard's modes are on");
        Command::new("kill").args([&format!("-{signal}"), &pid]).status().unwrap();
        t.exited(128 + n);
        assert_eq!(pane_modes(&t), "alt=0 mouse=0", "SIG{signal}: the pane's modes are back");
        assert!(demo_folders(&pid).is_empty(), "SIG{signal} left {:?}", demo_folders(&pid));
    }
}

/// `kill -TSTP` stops it with the terminal given back; on continue it draws again.
#[test]
fn a_stop_gives_the_terminal_back_and_continue_redraws() {
    let t = start("--demo");
    let pid = t.mcptop_pid();
    Command::new("kill").args(["-TSTP", &pid]).status().unwrap();
    let stopped = eventually(Duration::from_secs(5), || pane_modes(&t).starts_with("alt=0"));
    assert!(stopped, "modes {:?}, state {:?}", pane_modes(&t), std::fs::read_to_string(format!("/proc/{pid}/stat")));
    Command::new("kill").args(["-CONT", &pid]).status().unwrap();
    assert!(eventually(Duration::from_secs(5), || pane_modes(&t).starts_with("alt=1")), "{}", pane_modes(&t));
    // Drawn whole again, not only what changed meanwhile.
    assert!(
        eventually(Duration::from_secs(5), || t.screen().contains("mcptop") && t.screen().contains("Jobs")),
        "{}",
        t.screen()
    );
    t.keys(&["q"]);
    t.exited(0);
}

/// The terminal going away (the tmux session killed: an SSH session dropped) leaves no demo
/// folder behind, and the log says it stopped.
#[test]
fn a_terminal_that_goes_away_leaves_nothing_behind() {
    let t = start("--demo");
    let pid = t.mcptop_pid();
    assert!(eventually(Duration::from_secs(5), || !demo_folders(&pid).is_empty()));
    Command::new("tmux").args(["-L", t.socket(), "kill-server"]).status().unwrap();
    let gone = eventually(Duration::from_secs(10), || {
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
            || std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "))
    });
    assert!(gone, "mcptop ended");
    assert!(demo_folders(&pid).is_empty(), "left {:?}", demo_folders(&pid));
    let log = std::fs::read_dir(t.state_dir().join("mcptop")).unwrap().flatten().next().map(|e| e.path());
    let log = std::fs::read_to_string(log.unwrap()).unwrap_or_default();
    assert!(log.contains("stopped"), "the log ends with its stop:\n{log}");
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
