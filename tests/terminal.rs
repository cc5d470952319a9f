//! The real binary in a real terminal (tmux): keys answer, and every way out — `q`, Ctrl-C,
//! SIGTERM, SIGHUP (a dropped SSH session) — leaves the alternate screen and restores the
//! terminal's modes.

mod harness;

use std::process::Command;
use std::time::Duration;

use harness::{eventually, mcptop_bin, require};

struct Tmux {
    bin: std::path::PathBuf,
    sock: String,
}

impl Tmux {
    /// Run mcptop in a 100×30 pane; when it exits, print its exit code and the tty's canonical
    /// mode (`icanon` restored, `-icanon` still raw), then wait so the pane can be read.
    fn start(args: &str) -> Tmux {
        let bin = require("tmux", "tmux");
        let sock = format!("mcptop-test-{}-{}", std::process::id(), rand_suffix());
        let state = tempfile::tempdir().unwrap().keep();
        let cmd = format!(
            "XDG_STATE_HOME={} {} {args}; echo EXITED $?; stty -a | grep -o -- '-*icanon'; sleep 60",
            state.display(),
            mcptop_bin().display()
        );
        let ok = Command::new(&bin)
            .args(["-L", &sock, "new-session", "-d", "-x", "100", "-y", "30", "sh", "-c", &cmd])
            .status()
            .unwrap()
            .success();
        assert!(ok, "tmux new-session");
        let t = Tmux { bin, sock };
        assert!(
            eventually(Duration::from_secs(10), || t.screen().contains("Jobs")),
            "dashboard drawn:\n{}",
            t.screen()
        );
        t
    }

    fn screen(&self) -> String {
        let out = Command::new(&self.bin).args(["-L", &self.sock, "capture-pane", "-p"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Type keys one at a time, as a person does: Esc followed at once by a key would reach
    /// the program as one Alt-key.
    fn keys(&self, keys: &[&str]) {
        for k in keys {
            Command::new(&self.bin).args(["-L", &self.sock, "send-keys", k]).status().unwrap();
            std::thread::sleep(Duration::from_millis(80));
        }
    }

    /// The mcptop process in the pane (a child of the pane's shell).
    fn mcptop_pid(&self) -> String {
        let out = Command::new(&self.bin).args(["-L", &self.sock, "list-panes", "-F", "#{pane_pid}"]).output().unwrap();
        let shell = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let out = Command::new("pgrep").args(["-P", &shell, "-x", "mcptop"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn exited(&self, code: i32) {
        let want = format!("EXITED {code}");
        assert!(eventually(Duration::from_secs(5), || self.screen().contains(&want)), "{want}:\n{}", self.screen());
        let screen = self.screen();
        assert!(screen.lines().any(|l| l.trim() == "icanon"), "terminal mode restored:\n{screen}");
        assert!(!screen.contains("┏"), "alternate screen left:\n{screen}");
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new(&self.bin).args(["-L", &self.sock, "kill-server"]).status();
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}

#[test]
fn keys_answer_and_q_restores_the_terminal() {
    let t = Tmux::start("--demo");
    t.keys(&["?"]);
    assert!(eventually(Duration::from_secs(3), || t.screen().contains("Help")), "{}", t.screen());
    t.keys(&["Escape", "f"]);
    assert!(eventually(Duration::from_secs(3), || t.screen().contains("failures only")), "{}", t.screen());
    t.keys(&["q"]);
    t.exited(0);
}

#[test]
fn ctrl_c_always_quits() {
    let t = Tmux::start("--demo");
    t.keys(&["/", "d", "b"]); // even while typing a filter
    t.keys(&["C-c"]);
    t.exited(0);
}

#[test]
fn sigterm_and_sighup_restore_the_terminal() {
    for (signal, code) in [("-TERM", 143), ("-HUP", 129)] {
        let t = Tmux::start("--demo");
        let pid = t.mcptop_pid();
        assert!(!pid.is_empty(), "mcptop runs in the pane");
        Command::new("kill").args([signal, &pid]).status().unwrap();
        t.exited(code);
    }
}

#[test]
fn redis_down_at_start_still_draws_the_dashboard() {
    let port = harness::free_port();
    let t = Tmux::start(&format!("--redis-url redis://127.0.0.1:{port}/0"));
    assert!(eventually(Duration::from_secs(5), || t.screen().contains("cannot connect")), "{}", t.screen());
    t.keys(&["j", "?"]);
    assert!(eventually(Duration::from_secs(3), || t.screen().contains("Help")), "keys answer while Redis is down");
    t.keys(&["Escape", "q"]);
    t.exited(0);
}
