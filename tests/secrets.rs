//! A planted secret never shows: every source is configured with it and fails — a Redis that is
//! not there, a PostgreSQL that is not there, and a stand-in server that quotes the
//! `Authorization` header it got back in its error body (as some proxies do) — and at
//! `--log-level trace` the value appears in no output, no error and no log line.

mod harness;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use harness::{free_port, mcptop_bin};

/// Long, like a JWT: a server quoting it back in a long message must not leave a piece of it
/// past the point where the message is shortened.
fn secret() -> String {
    format!("eyJhbGciOiJIUzI1NiJ9.{}.planted-5ecret", "x7Qz".repeat(80))
}

/// Answers every request with 401 and LiteLLM's error shape, quoting the Authorization header it
/// received; keeps the requests.
fn echoing_server() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let mut buf = [0u8; 16384];
            let n = conn.read(&mut buf).unwrap_or(0);
            let request = String::from_utf8_lossy(&buf[..n]).into_owned();
            let auth = request
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with("authorization:"))
                .unwrap_or("no authorization header")
                .to_string();
            log.lock().expect("log").push(request);
            let body = serde_json::json!({"error": {"message": format!("Authentication Error, {auth} is not valid"),
                                                     "type": "auth_error", "param": "None", "code": "401"}})
            .to_string();
            let reply = format!(
                "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = conn.write_all(reply.as_bytes());
        }
    });
    (url, seen)
}

#[test]
fn a_planted_secret_appears_in_no_output_error_or_log() {
    let planted = secret();
    // Any 24 characters of it would already say too much.
    let pieces: Vec<&str> = (0..planted.len() - 24).step_by(12).map(|i| &planted[i..i + 24]).collect();
    let leaks = |text: &str| pieces.iter().any(|p| text.contains(p));
    let (echo, seen) = echoing_server();
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("config.toml");
    let (redis_port, pg_port) = (free_port(), free_port());
    std::fs::write(
        &config,
        format!(
            "[contexts.leak]\ntimeout_ms = 800\nredis_url = \"redis://127.0.0.1:{redis_port}/0\"\n\
             redis_password = \"env:MCPTOP_PLANTED\"\nprometheus_url = \"{echo}\"\ndocker = \"/nonexistent/docker.sock\"\n\
             [[contexts.leak.alertmanagers]]\nname = \"am\"\nurl = \"{echo}\"\n\
             [[contexts.leak.services]]\nname = \"gateway\"\nurl = \"{echo}/health\"\nkind = \"gateway\"\ntoken = \"env:MCPTOP_PLANTED\"\n\
             [contexts.leak.knowledge_base]\ndatabase_url = \"postgres://mcp@127.0.0.1:{pg_port}/mcp\"\n\
             database_password = \"env:MCPTOP_PLANTED\"\n\
             [contexts.leak.knowledge_base.embeddings]\nlitellm_url = \"{echo}\"\nlitellm_key = \"env:MCPTOP_PLANTED\"\n"
        ),
    )
    .expect("config");
    let state = dir.path().join("state");
    let runs: [&[&str]; 9] = [
        &["status"],
        &["status", "--output", "json"],
        &["health"],
        &["health", "--output", "json"],
        &["alerts", "--output", "json"],
        &["rag", "search", "disk full"],
        &["rag", "search", "disk full", "--output", "json"],
        &["rag", "stats"],
        &["--snapshot", "--size", "160x48"],
    ];
    for args in runs {
        let out = Command::new(mcptop_bin())
            .args(["--config", config.to_str().expect("path"), "--log-level", "trace"])
            .args(args)
            .env("MCPTOP_PLANTED", &planted)
            .env("XDG_STATE_HOME", &state)
            .stdin(Stdio::null())
            .output()
            .expect("mcptop runs");
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(!leaks(&stdout) && !leaks(&stderr), "{args:?} printed the secret:\n{stdout}\n{stderr}");
        assert!(!stdout.is_empty() || !stderr.is_empty(), "{args:?} said nothing");
    }
    let requests = seen.lock().expect("log").join("\n");
    assert!(requests.contains(&format!("Bearer {planted}")), "the secret was sent where it belongs: {requests}");
    let logs: Vec<_> = std::fs::read_dir(state.join("mcptop")).expect("a log directory").flatten().collect();
    assert!(!logs.is_empty(), "something was logged");
    let mut lines = 0;
    for entry in logs {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        lines += text.lines().count();
        assert!(!leaks(&text), "{} holds the secret", entry.path().display());
    }
    assert!(lines > 10, "trace logging wrote lines ({lines})");
}
