//! A planted secret never shows: every source is configured with it and fails — a Redis that is
//! not there, a PostgreSQL that is not there, and a stand-in server that quotes the
//! `Authorization` header it got back in its error body (as some proxies do) — and at
//! `--log-level trace` the value appears in no output, no error and no log line.
#![allow(clippy::disallowed_macros)] // a test or bench reports on its own terminal

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

// ------------------------------------------------------------------------------------------------
// Every encoding, in error and success bodies, across every source.

/// The secrets of one context, each with a marker of its own inside, and characters every
/// escaper changes (`/`, `+`, `=`, `&`, `<`, `>`); the knowledge base's password, which never
/// travels in a header, also holds `"`, `\` and a non-ASCII letter.
struct Planted {
    slots: Vec<(&'static str, String)>,
}

impl Planted {
    fn new() -> Planted {
        let slot = |name: &'static str| (name, format!("s/x+Tok=&x<y>{}/end", Planted::marker(name)));
        let mut slots: Vec<(&'static str, String)> =
            ["GATEWAY", "LITELLM", "ZABBIX", "CROWDSEC", "ZAMMAD", "NTFY"].into_iter().map(slot).collect();
        slots.push(("KBPW", format!("pw\"with\\slash/é+{}=end", Planted::marker("KBPW"))));
        // The session token CrowdSec hands out: mcptop obtains it; a secret all the same.
        slots.push(("JWT", format!("eyJhbGciOiJIUzI1NiJ9.{}payload.c2lnbmF0dXJl", Planted::marker("JWT"))));
        Planted { slots }
    }

    /// A run of letters and digits found nowhere else, different for each slot.
    fn marker(name: &str) -> String {
        let code: String = name.bytes().map(|b| char::from(b'a' + (b.wrapping_mul(7) % 26))).collect();
        format!("QmR7{code}Z9kP4wX2")
    }

    fn get(&self, name: &str) -> &str {
        self.slots.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str()).unwrap_or_default()
    }

    /// Every form in which a piece of a secret would say too much: its marker raw, each
    /// character escaped (`\u00XX`, `%XX`, `&#NN;`), and its base64 at the three alignments.
    fn forms(&self) -> Vec<(String, String)> {
        use base64::Engine;
        let mut out = Vec::new();
        for (name, value) in &self.slots {
            let marker = Planted::marker(name);
            for w in marker.as_bytes().windows(8) {
                out.push((name.to_string(), String::from_utf8_lossy(w).into_owned()));
            }
            // Any eight characters of the marker, each escaped: a cut one says as much.
            let chars: Vec<char> = marker.chars().collect();
            for w in chars.windows(8) {
                let each = |f: &dyn Fn(char) -> String| w.iter().map(|c| f(*c)).collect::<String>();
                out.push((name.to_string(), each(&|c| format!("\\u{:04x}", c as u32))));
                out.push((name.to_string(), each(&|c| format!("\\u{:04X}", c as u32))));
                out.push((name.to_string(), each(&|c| format!("%{:02X}", c as u32))));
                out.push((name.to_string(), each(&|c| format!("&#{};", c as u32))));
            }
            for offset in 0..3usize {
                let mut bytes = vec![b'a'; offset];
                bytes.extend_from_slice(value.as_bytes());
                let enc = base64::engine::general_purpose::STANDARD.encode(&bytes);
                let (from, to) = ((offset * 8).div_ceil(6), bytes.len() * 8 / 6);
                out.push((name.to_string(), enc[from..to].to_string()));
            }
        }
        out
    }

    /// The first form of a secret found in `text`.
    fn leak(&self, text: &str) -> Option<(String, String)> {
        self.forms().into_iter().find(|(_, f)| text.contains(f.as_str()))
    }
}

/// `s` as PHP's json_encode writes it: JSON with `/` as `\/`.
fn php(s: &str) -> String {
    let j = serde_json::to_string(s).unwrap_or_default();
    j[1..j.len() - 1].replace('/', "\\/")
}

/// Every UTF-16 unit as `\uXXXX` (Python's ensure_ascii, at its most eager).
fn all_escaped(s: &str) -> String {
    s.encode_utf16().map(|u| format!("\\u{u:04x}")).collect()
}

/// Every byte as `%XX`.
fn percent(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// Every character as an HTML entity.
fn html(s: &str) -> String {
    s.chars().map(|c| format!("&#{};", c as u32)).collect()
}

/// A server for every HTTP source of the context, each quoting secrets back in another
/// encoding, in its error bodies and in the fields of its success bodies that mcptop shows.
fn quoting_server(p: &Planted) -> String {
    use base64::Engine;
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (gw, llm, zbx, jwt, zam, kb) =
        (p.get("GATEWAY"), p.get("LITELLM"), p.get("ZABBIX"), p.get("JWT"), p.get("ZAMMAD"), p.get("KBPW"));
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("admin:{llm}"));
    let routes: Vec<(&'static str, &'static str, u16, String)> = vec![
        // A 200 answer quoting secrets of other sources (cross-secret), escaped.
        (
            "GET",
            "/health",
            200,
            format!(
                r#"{{"status":"degraded","components":{{"redis":{{"status":"unhealthy","error":"AUTH {}"}},"pgvector":{{"status":"unhealthy","error":"password {} refused"}},"litellm":{{"status":"degraded","error":"key {}"}}}}}}"#,
                all_escaped(zam),
                php(kb),
                percent(llm)
            ),
        ),
        ("GET", "/metrics", 401, format!(r#"{{"detail":"token {} refused"}}"#, php(gw))),
        (
            "GET",
            "/v1/models",
            200,
            format!(
                r#"{{"object":"list","data":[{{"id":"{}","object":"model"}},{{"id":"Basic {basic}","object":"model"}}]}}"#,
                php(llm)
            ),
        ),
        ("GET", "/api/ps", 200, format!(r#"{{"models":[{{"name":"{}","size":1}}]}}"#, html(gw))),
        (
            "POST",
            "/v1/embeddings",
            401,
            format!(
                r#"{{"error":{{"message":"Invalid key {}","type":"auth_error","param":"None","code":"401"}}}}"#,
                all_escaped(llm)
            ),
        ),
        ("POST", "/api/embed", 500, format!(r#"{{"error":"upstream said {}"}}"#, percent(kb))),
        (
            "GET",
            "/api/v2/alerts",
            200,
            format!(
                r#"[{{"labels":{{"alertname":"Leak","severity":"critical","instance":"{}"}},"annotations":{{"summary":"token {} seen"}},"fingerprint":"fp1","startsAt":"2026-05-01T09:41:07Z","status":{{"state":"active","silencedBy":[],"inhibitedBy":[]}}}}]"#,
                php(zam),
                php(gw)
            ),
        ),
        (
            "POST",
            "/api_jsonrpc.php",
            200,
            format!(
                r#"{{"jsonrpc":"2.0","error":{{"code":-32602,"message":"Invalid params.","data":"token {} is wrong"}},"id":1}}"#,
                php(zbx)
            ),
        ),
        (
            "POST",
            "/v1/watchers/login",
            200,
            format!(r#"{{"code":200,"expire":"2099-01-01T00:00:00Z","token":"{jwt}"}}"#),
        ),
        ("GET", "/v1/alerts", 401, format!(r#"{{"message":"token {} expired"}}"#, jwt.replace('.', "\\u002e"))),
        ("GET", "/api/v1/tickets/search", 200, "[]".to_string()),
        (
            "POST",
            "/api/v1/tickets",
            422,
            format!(
                r#"{{"error":"Token token={} is not valid","error_human":"check {}"}}"#,
                php(zam),
                all_escaped(zam)
            ),
        ),
        (
            "POST",
            "/api/v1/analyze",
            422,
            format!(
                r#"{{"detail":[{{"loc":["body"],"msg":"token {} is not valid","type":"value_error"}}]}}"#,
                all_escaped(gw)
            ),
        ),
    ];
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let routes = routes.clone();
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 65536];
                let _ = conn.set_read_timeout(Some(std::time::Duration::from_secs(5)));
                let n = conn.read(&mut buf).unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]).into_owned();
                let mut line = request.split_whitespace();
                let (method, path) = (line.next().unwrap_or(""), line.next().unwrap_or(""));
                let path = path.split('?').next().unwrap_or("");
                let (status, body) = routes
                    .iter()
                    .find(|(m, p, ..)| *m == method && *p == path)
                    .map(|(.., s, b)| (*s, b.clone()))
                    .unwrap_or((404, r#"{"detail":"Not Found"}"#.to_string()));
                let reply = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = conn.write_all(reply.as_bytes());
            });
        }
    });
    url
}

#[test]
fn no_secret_shows_in_any_encoding_from_any_source_in_any_output() {
    let planted = Planted::new();
    let echo = quoting_server(&planted);
    let redis = harness::Redis::start();
    let now = chrono::Utc::now().timestamp_millis();
    let draft = serde_json::json!({"title": "[job j1] DiskFull on db-01", "group": "Ops", "priority": "3 high", "body": "full"});
    harness::seed_job(
        &mut redis.conn(),
        "mcp:",
        "j1",
        now,
        "awaiting_approval",
        &[("hostname", b"db-01"), ("severity", b"high"), ("ticket_draft", draft.to_string().as_bytes())],
    );
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("config.toml");
    let pg_port = free_port();
    std::fs::write(
        &config,
        format!(
            "[contexts.leak]\ntimeout_ms = 1500\nredis_url = \"{redis}\"\n\
             gateway_url = \"{echo}\"\ngateway_token = \"env:P_GATEWAY\"\n\
             [[contexts.leak.alertmanagers]]\nname = \"am\"\nurl = \"{echo}\"\n\
             [[contexts.leak.zabbix]]\nname = \"zbx\"\nurl = \"{echo}\"\ntoken = \"env:P_ZABBIX\"\n\
             [contexts.leak.crowdsec]\nurl = \"{echo}\"\nmachine_id = \"mcptop\"\npassword = \"env:P_CROWDSEC\"\n\
             [[contexts.leak.services]]\nname = \"gateway\"\nurl = \"{echo}/health\"\nkind = \"gateway\"\ntoken = \"env:P_GATEWAY\"\n\
             [contexts.leak.zammad]\nurl = \"{echo}\"\ntoken = \"env:P_ZAMMAD\"\ncustomer = \"ops@example.com\"\n\
             [contexts.leak.ntfy]\nurl = \"{echo}\"\ntopic = \"ops\"\ntoken = \"env:P_NTFY\"\n\
             [contexts.leak.knowledge_base]\ndatabase_url = \"postgres://mcp@127.0.0.1:{pg_port}/mcp\"\n\
             database_password = \"env:P_KBPW\"\n\
             [contexts.leak.knowledge_base.embeddings]\nlitellm_url = \"{echo}\"\nlitellm_key = \"env:P_LITELLM\"\nollama_url = \"{echo}\"\n",
            redis = redis.url()
        ),
    )
    .expect("config");
    let (state, data) = (dir.path().join("state"), dir.path().join("data"));
    let env: Vec<(String, String)> =
        planted.slots.iter().filter(|(n, _)| *n != "JWT").map(|(n, v)| (format!("P_{n}"), v.clone())).collect();
    let runs: &[&[&str]] = &[
        &["health"],
        &["health", "--output", "json"],
        &["pipeline"],
        &["pipeline", "--output", "json"],
        &["alerts"],
        &["alerts", "--output", "json"],
        &["rag", "search", "disk full"],
        &["rag", "search", "disk full", "--output", "json"],
        &["approve", "j1", "--yes"],
        &["approve", "j1", "--yes", "--output", "json"],
        &[
            "analyze",
            "--alert-type",
            "DiskFull",
            "--host",
            "db-01",
            "--severity",
            "high",
            "--description",
            "full",
            "--yes",
        ],
        &["fleet"],
        &["fleet", "--output", "json"],
        &["audit", "--output", "json"],
        &["audit"],
        &["config", "show"],
        &["--snapshot", "--size", "200x60"],
    ];
    let mut said = String::new();
    for args in runs {
        let out = Command::new(mcptop_bin())
            .args(["--config", config.to_str().expect("path"), "--log-level", "trace"])
            .args(*args)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("XDG_STATE_HOME", &state)
            .env("XDG_DATA_HOME", &data)
            .stdin(Stdio::null())
            .output()
            .expect("mcptop runs");
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        let both = format!("{stdout}\n{stderr}");
        assert!(planted.leak(&both).is_none(), "{args:?} printed {:?}:\n{both}", planted.leak(&both));
        assert!(!both.trim().is_empty(), "{args:?} said nothing");
        said.push_str(&both);
    }
    // The echoes reached the outputs, masked: each route's quote shows as `***`.
    for quoted in [
        "AUTH ***",
        "password *** refused",
        "token *** refused",
        "Invalid key ***",
        "token *** is wrong",
        "token *** expired",
        "Token token=*** is not valid",
        "token *** seen",
    ] {
        assert!(said.contains(quoted), "{quoted:?} is not in the outputs:\n{said}");
    }
    // The dashboard, its error history included.
    let t = harness::Tmux::start(
        &format!("--config {} --log-level trace", config.display()),
        200,
        60,
        &env.iter().map(|(k, v)| format!("{k}={}", shell_quote(v))).collect::<Vec<_>>().join(" "),
    );
    // Every source has answered or failed, the AI line included.
    t.wait_for("Ollama", harness::HANG_GUARD);
    t.wait_for("token *** expired", harness::HANG_GUARD);
    std::thread::sleep(std::time::Duration::from_secs(2));
    let dashboard = t.screen();
    let opened = harness::eventually(harness::HANG_GUARD, || {
        t.keys(&["Escape", ":"]);
        t.type_text("errors");
        t.keys(&["Enter"]);
        harness::eventually(std::time::Duration::from_secs(2), || t.screen().contains("Source errors"))
    });
    let errors = t.screen();
    assert!(opened && errors.contains("LAST"), "the error history shows:\n{errors}");
    for (what, screen) in [("dashboard", &dashboard), (":errors", &errors)] {
        assert!(planted.leak(screen).is_none(), "the {what} shows {:?}:\n{screen}", planted.leak(screen));
    }
    let tui_log_dir = t.state_dir().join("mcptop");
    t.keys(&["q"]);
    // Every log line at trace level, and the audit database's raw bytes.
    let mut files: Vec<std::path::PathBuf> = Vec::new();
    for d in [state.join("mcptop"), tui_log_dir, data.join("mcptop")] {
        files.extend(std::fs::read_dir(&d).into_iter().flatten().flatten().map(|e| e.path()));
    }
    assert!(files.iter().any(|f| f.to_string_lossy().contains("audit")), "the audit was written: {files:?}");
    for f in &files {
        let bytes = String::from_utf8_lossy(&std::fs::read(f).unwrap_or_default()).into_owned();
        assert!(planted.leak(&bytes).is_none(), "{} holds {:?}", f.display(), planted.leak(&bytes));
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}
