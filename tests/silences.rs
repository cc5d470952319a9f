//! Silences through mcptop against a real Alertmanager: add, ack and expire change what the
//! Alertmanager API says; read-only mode and a missing confirmation change nothing.
#![allow(clippy::disallowed_macros)] // a test or bench reports on its own terminal

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
        assert_eq!(out.status.code(), Some(3), "3: refused");
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

/// What a real Alertmanager would refuse (a regex that does not compile, RE2's limits, matchers
/// that silence everything) and a comment with control characters are refused here, before
/// anything is asked or sent: exit 2, no silence, nothing in the audit log.
#[test]
fn bad_matchers_and_hostile_comments_never_reach_alertmanager() {
    let (am, dir, config, _) = setup("");
    let data = dir.path().join("data");
    for (matchers, comment) in [
        (vec!["alertname=~((("], "resizing"),
        (vec!["instance=~x{1001}"], "resizing"),
        (vec!["alertname=~.*"], "resizing"),
        (vec!["env!=prod"], "resizing"),
        (vec!["alertname=DiskFull"], "ok\x1b]0;owned\x07"),
        (vec!["alertname=DiskFull"], "two\nlines"),
    ] {
        let mut args = vec!["silence", "add"];
        for m in &matchers {
            args.extend(["-m", m]);
        }
        args.extend(["--comment", comment, "--yes"]);
        let out = Command::new(mcptop_bin())
            .arg("--config")
            .arg(&config)
            .args(&args)
            .env("XDG_STATE_HOME", std::env::temp_dir())
            .env("XDG_DATA_HOME", &data)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{matchers:?} {comment:?}: {stderr}");
        assert!(!stderr.contains('\x1b'), "nothing raw reaches the terminal: {stderr:?}");
    }
    assert_eq!(am.silences(), json!([]), "Alertmanager was sent nothing");
    let audit = Command::new(mcptop_bin())
        .arg("--config")
        .arg(&config)
        .args(["audit", "--output", "json"])
        .env("XDG_DATA_HOME", &data)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&audit.stdout).trim(), "[]", "nothing was recorded");
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

/// Labels as hostile as Alertmanager accepts: an escape sequence, a bidirectional override and a
/// 400-character value. A silence built from the alert mcptop read — by the one-key ack, and by
/// the silence form, whose text shows the values escaped — must suppress exactly that alert.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acks_and_silences_of_hostile_labels_suppress_exactly_that_alert() {
    use mcptop::actions::silence::matchers_for;
    use mcptop::actions::{ActionRequest, Actions};
    use mcptop::clients::alertmanager::{Alertmanager as AmClient, AlertsClient};
    use mcptop::sources::{OpsSource, RealOps};
    use mcptop::tui::keymap::KeyMap;
    use mcptop::tui::popup::{Popup, PopupOutcome, SilenceForm};
    use std::sync::Arc;

    let am = Alertmanager::start();
    let long = "v".repeat(400);
    let hostile = |n: &str| json!({"alertname": format!("Evil\u{1b}[2J{n}"), "instance": format!("db\u{202e}-01:{long}"), "job": "node\u{7}"});
    // Two alerts that differ only after the escape sequence: a silence of one must not touch the other.
    am.post_alerts(&json!([{"labels": hostile("A")}, {"labels": hostile("B")}]));
    let client = AlertsClient::new(vec![AmClient::new("am-a", &am.url(), Duration::from_secs(5)).expect("client")]);
    let ops: Arc<dyn OpsSource> = Arc::new(RealOps { alerts: Some(Arc::new(client)), ..Default::default() });
    let settings = mcptop::config::resolve(Default::default(), &Default::default()).expect("settings");
    let sources = mcptop::sources::Sources { ops: ops.clone(), ..mcptop::sources::Sources::none() };
    let actions = Actions::new(&settings, &sources, Arc::new(mcptop::audit::AuditLog::sqlite_memory()));
    let snap = ops.alerts().await.expect("alerts");
    let find = |name: &str| snap.alerts.iter().find(|a| a.name().ends_with(name)).expect("the alert").clone();
    let (a, b) = (find("A"), find("B"));
    assert_eq!(a.labels["instance"], format!("db\u{202e}-01:{long}"), "labels kept exactly as sent");
    let state_of = |am: &Alertmanager, fp: &str| {
        am.alerts()
            .as_array()
            .and_then(|all| all.iter().find(|x| x["fingerprint"] == fp).map(|x| x["status"]["state"].clone()))
            .and_then(|s| s.as_str().map(String::from))
            .unwrap_or_default()
    };

    // The one-key ack.
    let ack = ActionRequest::Ack { matchers: matchers_for(&a), alertmanagers: a.sources.clone(), target: "A".into() };
    let done = actions.run(ack).await;
    assert!(done.is_ok(), "{done:?}");
    let (fa, fb) = (a.fingerprint.clone(), b.fingerprint.clone());
    assert!(eventually(Duration::from_secs(10), || state_of(&am, &fa) == "suppressed"), "the acked alert is silenced");
    assert_eq!(state_of(&am, &fb), "active", "its sibling is not");

    // The form: what it shows is escaped, and what it submits matches the alert exactly.
    let mut form = Popup::Silence(Box::new(SilenceForm::new(&matchers_for(&b), b.sources.clone(), "B".into())));
    let Popup::Silence(f) = &form else { unreachable!() };
    let shown = f.fields[0].lines().join("\n");
    assert!(!shown.chars().any(|c| c != '\n' && (c.is_control() || c == '\u{202e}')), "escaped: {shown:?}");
    let km = KeyMap::default();
    let key = |c| crossterm::event::KeyEvent::new(c, crossterm::event::KeyModifiers::NONE);
    // The form opens on the comment field.
    for c in "hostile".chars() {
        form.on_key(key(crossterm::event::KeyCode::Char(c)), &km);
    }
    let PopupOutcome::Confirm(mut requests) = form.on_key(key(crossterm::event::KeyCode::Enter), &km) else {
        panic!("the form asks for confirmation")
    };
    let request = requests.remove(0);
    assert!(matches!(&request, ActionRequest::SilenceAdd { matchers, .. } if *matchers == matchers_for(&b)));
    let done = actions.run(request).await;
    assert!(done.is_ok(), "{done:?}");
    assert!(eventually(Duration::from_secs(10), || state_of(&am, &fb) == "suppressed"), "the form's silence matches");
}
