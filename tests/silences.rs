//! Silences through mcptop against a real Alertmanager: add, ack and expire change what the
//! Alertmanager API says; read-only mode and a missing confirmation change nothing.

mod harness;

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use harness::{Alertmanager, eventually, mcptop_bin};
use serde_json::json;

fn setup(extra: &str) -> (Alertmanager, tempfile::TempDir, std::path::PathBuf, String) {
    let am = Alertmanager::start();
    am.post_alerts(&json!([{"labels": {"alertname": "DiskFull", "instance": "db-01:9100", "severity": "critical"},
                            "annotations": {"summary": "/var 97% full"}}]));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[contexts.t]\nack_duration_s = 600\n{extra}[[contexts.t.alertmanagers]]\nname = \"am-a\"\nurl = \"{}\"\n",
            am.url()
        ),
    )
    .unwrap();
    let fp = am.alerts()[0]["fingerprint"].as_str().unwrap().to_string();
    (am, dir, config, fp)
}

fn mcptop(config: &std::path::Path, args: &[&str]) -> Output {
    Command::new(mcptop_bin())
        .arg("--config")
        .arg(config)
        .args(args)
        .env("USER", "alice")
        .env("XDG_STATE_HOME", std::env::temp_dir())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn state(am: &Alertmanager) -> String {
    am.alerts()[0]["status"]["state"].as_str().unwrap_or("").to_string()
}

#[test]
fn add_suppresses_the_alert_and_expire_brings_it_back() {
    let (am, _dir, config, _) = setup("");
    assert_eq!(state(&am), "active");
    let out = mcptop(
        &config,
        &[
            "silence",
            "add",
            "-m",
            "alertname=DiskFull",
            "-m",
            "instance=~db-0.*",
            "--duration",
            "2h",
            "--comment",
            "resizing /var",
            "--yes",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(eventually(Duration::from_secs(5), || state(&am) == "suppressed"), "the alert is silenced");
    let silences = am.silences();
    let s = &silences[0];
    assert_eq!(s["comment"], "resizing /var");
    assert!(s["createdBy"].as_str().unwrap().starts_with("alice@"), "{}", s["createdBy"]);
    assert_eq!(s["matchers"][1], json!({"name": "instance", "value": "db-0.*", "isRegex": true, "isEqual": true}));

    let id = s["id"].as_str().unwrap();
    let out = mcptop(&config, &["silence", "expire", id, "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(am.silences()[0]["status"]["state"], "expired");
    assert!(eventually(Duration::from_secs(5), || state(&am) == "active"), "the alert fires again");
}

#[test]
fn ack_is_a_short_silence_naming_who_acked() {
    let (am, _dir, config, fp) = setup("");
    let out = mcptop(&config, &["silence", "ack", &fp, "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(eventually(Duration::from_secs(5), || state(&am) == "suppressed"));
    let s = &am.silences()[0];
    assert!(s["comment"].as_str().unwrap().starts_with("ack by alice@"), "{}", s["comment"]);
    let starts = chrono::DateTime::parse_from_rfc3339(s["startsAt"].as_str().unwrap()).unwrap();
    let ends = chrono::DateTime::parse_from_rfc3339(s["endsAt"].as_str().unwrap()).unwrap();
    assert!(((ends - starts).num_seconds() - 600).abs() <= 2, "ack_duration_s = 600");
    // every label of the alert, by equality
    assert_eq!(s["matchers"].as_array().unwrap().len(), 3);
}

#[test]
fn read_only_is_refused_in_the_action_layer_and_nothing_changes() {
    let (am, _dir, config, fp) = setup("read_only = true\n");
    for args in [
        vec!["silence", "add", "-m", "alertname=DiskFull", "--comment", "x", "--yes"],
        vec!["silence", "ack", fp.as_str(), "--yes"],
    ] {
        let out = mcptop(&config, &args);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("read-only mode"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(am.silences(), json!([]));
    assert_eq!(state(&am), "active");
}

#[test]
fn without_confirmation_nothing_is_done() {
    let (am, _dir, config, _) = setup("");
    let out = mcptop(&config, &["silence", "add", "-m", "alertname=DiskFull", "--comment", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    assert_eq!(am.silences(), json!([]));
    let no_comment = mcptop(&config, &["silence", "add", "-m", "alertname=DiskFull", "--comment", " ", "--yes"]);
    assert_eq!(no_comment.status.code(), Some(2), "a comment is required");
    assert_eq!(am.silences(), json!([]));
}

/// The whole path a person takes: the Alerts pane, `a`, the confirmation naming the alert, `y`.
#[test]
fn acking_from_the_dashboard_silences_the_alert() {
    let (am, dir, config, _) = setup("");
    let t = harness::Tmux::start(&format!("--config {}", config.display()), 140, 40, "USER=bob");
    t.wait_for("DiskFull", Duration::from_secs(10));
    t.keys(&["4", "a"]);
    t.wait_for("Ack DiskFull on db-01:9100 on am-a", Duration::from_secs(3));
    t.keys(&["y"]);
    assert!(eventually(Duration::from_secs(5), || state(&am) == "suppressed"), "{}", t.screen());
    assert!(am.silences()[0]["comment"].as_str().unwrap().starts_with("ack by bob@"));
    t.wait_for("silenced until", Duration::from_secs(5));
    drop(dir);
}
