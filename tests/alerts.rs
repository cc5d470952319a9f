//! Alerts against two real Alertmanagers (an HA pair as mcptop sees it), one of them failing,
//! and Alertmanager stand-ins that misbehave: 500, a hang, garbage JSON.
#![allow(clippy::disallowed_macros)] // a test or bench reports on its own terminal

mod harness;

use std::process::Command;
use std::time::Duration;

use harness::{Alertmanager, mcptop_bin};
use mcptop::clients::alertmanager::{Alertmanager as AmClient, AlertsClient};
use mcptop::domain::AlertState;
use serde_json::json;

fn alert(name: &str, instance: &str, severity: &str, summary: &str) -> serde_json::Value {
    json!({"labels": {"alertname": name, "instance": instance, "severity": severity},
           "annotations": {"summary": summary}, "generatorURL": "http://prom:9090/graph"})
}

fn client(ams: &[(&str, String)], timeout: Duration) -> AlertsClient {
    AlertsClient::new(ams.iter().map(|(n, u)| AmClient::new(n, u, timeout).expect("client")).collect())
}

fn config(dir: &tempfile::TempDir, ams: &[(&str, String)]) -> std::path::PathBuf {
    let mut text = String::from("[contexts.test]\ntimeout_ms = 1000\n");
    for (name, url) in ams {
        text.push_str(&format!("[[contexts.test.alertmanagers]]\nname = \"{name}\"\nurl = \"{url}\"\n"));
    }
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn mcptop_alerts(config: &std::path::Path) -> (Option<i32>, serde_json::Value) {
    let out = Command::new(mcptop_bin())
        .args(["--config", config.to_str().unwrap(), "alerts", "--output", "json"])
        .env("XDG_STATE_HOME", std::env::temp_dir())
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("JSON: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), v)
}

#[tokio::test]
async fn an_ha_pair_shows_each_alert_once_with_both_sources() {
    let (a, b) = (Alertmanager::start(), Alertmanager::start());
    let both = alert("DiskFull", "db-01:9100", "critical", "/var 97% full\u{1b}[31m");
    a.post_alerts(&json!([both]));
    b.post_alerts(&json!([both, alert("HighCPU", "web-01:9100", "warning", "CPU high")]));
    let ams = [("am-a", a.url()), ("am-b", b.url())];
    let snap = client(&ams, Duration::from_secs(2)).snapshot().await;
    assert_eq!(snap.alerts.len(), 2, "{:?}", snap.alerts);
    let disk = snap.alerts.iter().find(|a| a.name() == "DiskFull").unwrap();
    assert_eq!(disk.sources, ["am-a", "am-b"]);
    assert_eq!(disk.summary(), "/var 97% full\u{1b}[31m", "kept as sent; cleaned when drawn");
    assert!(snap.sources.iter().all(|s| s.error.is_none()), "{:?}", snap.sources);

    let dir = tempfile::tempdir().unwrap();
    let (code, v) = mcptop_alerts(&config(&dir, &ams));
    assert_eq!(code, Some(0));
    let groups = v["groups"].as_array().unwrap();
    assert_eq!(groups[0]["key"]["alertname"], "DiskFull", "critical first");
    assert_eq!(groups[0]["alerts"][0]["sources"], json!(["am-a", "am-b"]));
    assert_eq!(groups[1]["key"]["alertname"], "HighCPU");
    let summary = &groups[0]["alerts"][0]["annotations"]["summary"];
    assert_eq!(summary, "/var 97% full\u{1b}[31m", "JSON carries the raw value, JSON-escaped");
}

#[tokio::test]
async fn one_alertmanager_down_never_hides_the_others_alerts() {
    let a = Alertmanager::start();
    a.post_alerts(&json!([alert("DiskFull", "db-01:9100", "critical", "full")]));
    let dead = format!("http://127.0.0.1:{}", harness::free_port());
    let ams = [("am-a", a.url()), ("am-dead", dead)];
    let snap = client(&ams, Duration::from_secs(1)).snapshot().await;
    assert_eq!(snap.alerts.len(), 1);
    let failed: Vec<_> = snap.sources.iter().filter(|s| s.error.is_some()).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].name, "am-dead");
    assert!(failed[0].error.as_deref().is_some_and(|e| e.contains("connect")), "{:?}", snap.sources);

    let dir = tempfile::tempdir().unwrap();
    let (code, v) = mcptop_alerts(&config(&dir, &ams));
    assert_eq!(code, Some(1), "a source did not answer");
    assert_eq!(v["sources"][1]["ok"], false);
    assert_eq!(v["groups"][0]["alerts"][0]["labels"]["alertname"], "DiskFull");
}

/// A stand-in that misbehaves the way broken Alertmanagers and proxies do.
async fn misbehaving(reply: &'static str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                if reply == "hang" {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    return;
                }
                let _ = sock.write_all(reply.as_bytes()).await;
            });
        }
    });
    url
}

#[tokio::test]
async fn a_500_a_hang_and_garbage_each_fail_alone_with_a_clear_error() {
    let a = Alertmanager::start();
    a.post_alerts(&json!([alert("DiskFull", "db-01:9100", "critical", "full")]));
    let e500 =
        misbehaving("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 26\r\n\r\n\"Failed to list: disk I/O\"")
            .await;
    let hang = misbehaving("hang").await;
    let garbage = misbehaving("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n{\"oops\": [1,").await;
    let ams = [("good", a.url()), ("e500", e500), ("hang", hang), ("garbage", garbage)];
    let snap = tokio::time::timeout(harness::HANG_GUARD, client(&ams, Duration::from_millis(500)).snapshot())
        .await
        .expect("the hang is cut off by the client's timeout: the snapshot never returned");
    assert_eq!(snap.alerts.len(), 1);
    let err = |n: &str| snap.sources.iter().find(|s| s.name == n).and_then(|s| s.error.clone()).unwrap_or_default();
    assert_eq!(err("e500"), "HTTP 500: Failed to list: disk I/O");
    assert!(err("hang").contains("timed out"), "{}", err("hang"));
    assert!(err("garbage").starts_with("unexpected reply"), "{}", err("garbage"));
    assert_eq!(snap.alerts[0].state, AlertState::Active);
}

#[tokio::test]
async fn hostile_alert_text_is_escaped_and_bounded_on_screen() {
    use chrono::Utc;
    use mcptop::runtime::SourceMsg;
    use mcptop::sources::{OpsConfigured, OpsSource, RealOps};
    use mcptop::tui::app::{App, Msg, PaneId};
    use mcptop::tui::keymap::KeyMap;
    use mcptop::tui::ops_state::OpsState;
    use std::sync::Arc;

    let am = Alertmanager::start();
    let megabyte = "D".repeat(1024 * 1024);
    am.post_alerts(&json!([
        {"labels": {"alertname": "Evil\u{1b}]0;pwned\u{7}", "instance": "db\u{1b}[2J-01", "severity": "critical"},
         "annotations": {"summary": "line1\nline2\r\u{202e}gnp.exe 🔥 数据库", "description": megabyte}},
    ]));
    let ops =
        RealOps { alerts: Some(Arc::new(client(&[("am-a", am.url())], Duration::from_secs(5)))), ..Default::default() };
    let snap = ops.alerts().await.expect("alerts");
    let alert = &snap.alerts[0];
    assert!(alert.annotations["description"].chars().count() < 9 * 1024, "1 MB description kept bounded");
    for (w, h) in [(80u16, 24u16), (160, 48)] {
        let mut app = App::new("t", "", KeyMap::default(), Utc::now());
        app.jobs.configured = false;
        app.ops = OpsState::new(OpsConfigured { alerts: true, ..Default::default() }, vec!["alertname".into()]);
        app.update(Msg::Resized { width: w, height: h });
        app.update(Msg::Source(SourceMsg::AlertsLoaded(snap.clone())));
        for zoom in [false, true] {
            app.focus = PaneId::Alerts;
            app.zoomed = zoom;
            let text = mcptop::tui::svg::to_text(&mcptop::tui::render_to_buffer(
                &app,
                &mcptop::tui::theme::Theme::built_in("default"),
                w,
                h,
            ));
            assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text}");
            if zoom {
                assert!(text.contains("Evil^[]0;pwned^G"), "{text}");
            }
            for line in text.lines() {
                assert!(unicode_width::UnicodeWidthStr::width(line) <= w as usize, "{line}");
            }
        }
        // and the detail view
        app.update(Msg::Key(crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Enter,
            crossterm::event::KeyModifiers::NONE,
        )));
        let text = mcptop::tui::svg::to_text(&mcptop::tui::render_to_buffer(
            &app,
            &mcptop::tui::theme::Theme::built_in("default"),
            w,
            h,
        ));
        assert!(text.contains("db^[[2J-01") && text.contains("\\u{202e}gnp.exe"), "{text}");
        assert!(!text.chars().any(|c| c.is_control() && c != '\n'));
    }
}
