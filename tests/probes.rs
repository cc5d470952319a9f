//! Service probes: a stand-in AI gateway (it cannot run here) answering `GET /health` exactly as
//! CONTRACT.md §2 says and recording what it received, a plain service answering 503, and one
//! that is not there — through `mcptop health`.
#![allow(clippy::disallowed_macros)] // a test or bench reports on its own terminal

mod harness;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::{Arc, Mutex};

use harness::{free_port, mcptop_bin};

/// A loopback HTTP server answering every request with `status` and `body`, keeping the
/// requests it received.
fn stand_in(status: &'static str, body: &'static str) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let mut buf = [0u8; 8192];
            let n = conn.read(&mut buf).unwrap_or(0);
            log.lock().unwrap().push(String::from_utf8_lossy(&buf[..n]).into_owned());
            let reply = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = conn.write_all(reply.as_bytes());
        }
    });
    (url, seen)
}

const GATEWAY_HEALTH: &str = r#"{"status":"degraded","components":{
  "redis":{"status":"healthy","latency_ms":0.8},
  "ollama":{"status":"unhealthy","latency_ms":2001.5,"error":"timeout after 2s\u001b[31m"},
  "litellm":{"status":"healthy","latency_ms":6.1},"pgvector":{"status":"healthy","latency_ms":2.2},
  "zammad":{"status":"healthy","latency_ms":88.0},"ntfy":{"status":"healthy","latency_ms":9.0}}}"#;

#[test]
fn the_gateway_reports_components_and_plain_services_their_status() {
    let (gateway, seen) = stand_in("200 OK", GATEWAY_HEALTH);
    let (zammad, _) = stand_in("503 Service Unavailable", r#"{"detail":"maintenance"}"#);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[contexts.t]\ntimeout_ms = 1000\n\
             [[contexts.t.services]]\nname = \"gateway\"\nurl = \"{gateway}/health\"\nkind = \"gateway\"\ntoken = \"env:GW_TOKEN\"\n\
             [[contexts.t.services]]\nname = \"zammad\"\nurl = \"{zammad}/api/v1/monitoring/health_check\"\n\
             [[contexts.t.services]]\nname = \"ntfy\"\nurl = \"http://127.0.0.1:{}/v1/health\"\n",
            free_port()
        ),
    )
    .unwrap();
    let out = Command::new(mcptop_bin())
        .args(["--config", config.to_str().unwrap(), "health", "--output", "json"])
        .env("GW_TOKEN", "tok-123-secret")
        .env("XDG_STATE_HOME", std::env::temp_dir())
        .output()
        .unwrap();
    // the probes answered (a down service is data, not a failed source)
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("tok-123-secret"), "the token never appears");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let svc = |name: &str| v["services"].as_array().unwrap().iter().find(|s| s["name"] == name).cloned().unwrap();
    let gw = svc("gateway");
    assert_eq!((gw["ok"].clone(), gw["detail"].clone()), (false.into(), "degraded".into()));
    assert!(gw["latency_ms"].as_u64().is_some());
    let comps = gw["components"].as_array().unwrap();
    assert_eq!(comps.len(), 6);
    let ollama = comps.iter().find(|c| c["name"] == "ollama").unwrap();
    assert_eq!(ollama["status"], "unhealthy");
    assert_eq!(ollama["error"], "timeout after 2s\u{1b}[31m", "JSON carries the raw value");
    let raw = String::from_utf8_lossy(&out.stdout);
    assert!(raw.contains(r"timeout after 2s\u001b[31m") && !raw.contains('\u{1b}'), "escaped in JSON: {raw}");
    let z = svc("zammad");
    assert_eq!((z["ok"].clone(), z["detail"].clone()), (false.into(), "HTTP 503: maintenance".into()));
    let n = svc("ntfy");
    assert_eq!(n["ok"], false);
    assert!(n["detail"].as_str().unwrap().contains("cannot connect"), "{}", n["detail"]);
    // what the gateway received: GET /health with the bearer token
    let req = seen.lock().unwrap()[0].clone();
    assert!(req.starts_with("GET /health HTTP/1.1"), "{req}");
    assert!(req.to_lowercase().contains("authorization: bearer tok-123-secret"), "{req}");
}
