//! Container logs against a real dockerd: a container that prints 100,000 lines, escape
//! sequences, invalid UTF-8 and a 1 MB line while the log view follows it. The view keeps up,
//! stays bounded and interprets nothing; `mcptop logs --grep` prints what `grep -E` prints.
#![allow(clippy::disallowed_macros)] // a test or bench reports on its own terminal

mod harness;

use std::process::Command;
use std::time::{Duration, Instant};

use harness::{BUSYBOX_IMAGE, Dockerd, Tmux, eventually, mcptop_bin};

const FLOOD: &str = r#"sleep 4; seq 0 99999 | sed 's/^/line /'; printf '\033]0;owned\007\033[2J evil\n'; printf '\377\376 bad utf8\n'; head -c 1048576 /dev/zero | tr '\0' x; echo; echo done-marker; exec sleep 3600"#;

/// Resident memory of a process, in kB.
fn rss_kb(pid: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_hostile_flood_is_followed_bounded_escaped_and_filtered_as_grep_does() {
    let d = Dockerd::start();
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, format!("[contexts.t]\ndocker = \"{}\"\n", d.endpoint())).expect("config");
    d.cli(&["run", "-d", "--name", "flood", "--network", "none", BUSYBOX_IMAGE, "sh", "-c", FLOOD]);

    // The log view, opened before the flood starts, follows all of it.
    let t = Tmux::start(&format!("--config {}", config.display()), 120, 30, "");
    t.wait_for("flood", Duration::from_secs(15));
    t.keys(&["3", "Enter"]);
    t.wait_for("Logs flood", Duration::from_secs(10));
    let started = Instant::now();
    t.wait_for("done-marker", Duration::from_secs(90));
    let seconds = started.elapsed().as_secs_f64();
    let pid = t.mcptop_pid();
    let rss = rss_kb(&pid);
    eprintln!("followed 100,004 lines in {seconds:.1} s (from the view opening, the 4 s wait included); RSS {rss} kB");
    let screen = t.screen();
    assert!(screen.contains("older dropped"), "the buffer is bounded (10,000 lines):\n{screen}");
    assert!(rss < 200_000, "memory stays bounded: {rss} kB");
    // Nothing was interpreted: the title is not "owned", the screen was not cleared, and the
    // escape sequence is shown as text.
    let title = Command::new("tmux").args(["-L", &t_socket(&t), "display", "-p", "#{pane_title}"]).output();
    let title = title.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).unwrap_or_default();
    assert_ne!(title, "owned", "the escape sequence retitled the terminal");
    t.keys(&["/"]);
    t.type_text("owned|bad utf8|xxxx");
    t.keys(&["Enter"]);
    t.wait_for("3 matching", Duration::from_secs(5));
    let screen = t.screen();
    assert!(screen.contains("^[]0;owned^G^[[2J evil"), "shown escaped:\n{screen}");
    assert!(screen.contains("\u{fffd}\u{fffd} bad utf8"), "invalid UTF-8 replaced:\n{screen}");
    assert!(screen.contains("bytes cut"), "the 1 MB line is cut:\n{screen}");
    // Still responsive: a key takes effect at once.
    t.keys(&["t"]);
    assert!(eventually(Duration::from_secs(2), || t.screen().contains("Z ")), "timestamps shown:\n{}", t.screen());
    t.keys(&["Escape", "Escape", "q"]);
    t.exited(0);

    // Headless: the same filter prints exactly what grep prints.
    let ours = Command::new(mcptop_bin())
        .args(["--config", config.to_str().unwrap_or_default(), "logs", "flood", "--grep", "line [0-9]*7$"])
        .env("XDG_STATE_HOME", dir.path())
        .output()
        .expect("mcptop logs");
    assert_eq!(ours.status.code(), Some(0), "{}", String::from_utf8_lossy(&ours.stderr));
    let theirs = Command::new("sh")
        .arg("-c")
        .arg(format!("docker -H {} logs flood 2>&1 | grep -E 'line [0-9]*7$'", d.endpoint()))
        .output()
        .expect("docker logs | grep");
    let (ours, theirs) = (String::from_utf8_lossy(&ours.stdout), String::from_utf8_lossy(&theirs.stdout));
    assert_eq!(ours.lines().count(), 10_000);
    assert!(ours == theirs, "mcptop logs --grep differs from grep -E");
    let all = Command::new(mcptop_bin())
        .args(["--config", config.to_str().unwrap_or_default(), "logs", "flood", "--tail", "5"])
        .env("XDG_STATE_HOME", dir.path())
        .output()
        .expect("mcptop logs");
    assert!(!all.stdout.contains(&0x1b), "no raw escape byte reaches the terminal");
}

fn t_socket(t: &Tmux) -> String {
    t.socket().to_string()
}
