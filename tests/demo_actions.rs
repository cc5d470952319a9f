//! Every action in `--demo`, through the real binary in a real terminal (tmux): approve a draft
//! from the Approvals pane, see it in the audit view, start an analysis prefilled from a job,
//! and find actions refused (and said so) in read-only mode.
#![allow(clippy::disallowed_macros)] // a test or bench reports on its own terminal

mod harness;

use std::time::Duration;

use harness::{Tmux, eventually};

fn wait(t: &Tmux, text: &str) {
    t.wait_for(text, Duration::from_secs(10));
}

#[test]
fn the_demo_approves_audits_and_analyses() {
    let t = Tmux::start("--demo", 160, 48, "");
    wait(&t, "awaiting approval");
    t.keys(&["6", "z"]);
    wait(&t, "draft awaiting approval");
    t.keys(&["A"]);
    wait(&t, "note (optional)");
    t.type_text("checked by hand");
    t.keys(&["C-s"]);
    wait(&t, "open ticket “[job ");
    assert!(t.screen().contains("note “checked by hand”"), "{}", t.screen());
    t.keys(&["y"]);
    wait(&t, "approved: ticket #91001");

    t.keys(&["L"]);
    wait(&t, "Audit log");
    assert!(eventually(Duration::from_secs(5), || {
        let s = t.screen();
        s.contains("approve") && s.contains(" ok ") && s.contains(" started ")
    }));
    t.keys(&["Escape", "z", "2", "n"]);
    wait(&t, "New analysis from job");
    t.keys(&["C-s"]);
    wait(&t, "Analyse ");
    t.keys(&["y"]);
    wait(&t, "queued as job");
    t.keys(&["q"]);
    t.exited(0);
}

#[test]
fn read_only_refuses_in_the_action_layer_and_shows_why() {
    let t = Tmux::start("--demo --read-only", 160, 48, "");
    wait(&t, "awaiting approval");
    t.keys(&["6"]);
    wait(&t, "actions refused: read-only mode");
    t.keys(&["A"]);
    wait(&t, "read-only mode refuses approve");
    t.keys(&["L"]);
    wait(&t, "refused: read-only mode");
    t.keys(&["Escape", "q"]);
    t.exited(0);
}

#[test]
fn the_demo_backs_up_with_progress_and_verifies() {
    let t = Tmux::start("--demo", 160, 48, "");
    wait(&t, "awaiting approval");
    t.keys(&["7", "z"]);
    wait(&t, "3 archives");
    assert!(t.screen().contains("✓ verified"), "{}", t.screen());
    t.keys(&["b"]);
    wait(&t, "Back up context demo: files mcp-data");
    t.keys(&["y"]);
    wait(&t, "written: 1 item,");
    wait(&t, "4 archives");
    t.keys(&["g", "v"]);
    wait(&t, "✓ verified: ");
    t.keys(&["q"]);
    t.exited(0);
}
