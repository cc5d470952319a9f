//! The dashboard under load, as a person runs it (the release binary in a 200×60 tmux pane):
//!
//! 1. memory: every HTTP source answering at its body limit — Alertmanager 60,000 alerts in
//!    about 8 MB, Zabbix 2,000 problems and CrowdSec a day of alerts near 8 MB, Prometheus
//!    thousands of targets, the gateway's /health, /metrics, LiteLLM's models and Ollama's loaded
//!    ones (stand-ins serving the services' own shapes: what is measured is mcptop, not them) —
//!    the resident memory sampled every second for 30 s, the peak and the last;
//! 2. an incident storm: a real Redis with 10,000 jobs as workers leave them (analysis, hits,
//!    drafts), 1,000 job status changes a second, half of them among the 200 newest (on screen),
//!    each with its event on `{p}events`, for 20 s; the CPU the dashboard uses (from /proc, user +
//!    system), and how long a new job takes to reach the screen (seen by tmux), every 2 s.
//!
//! `MCPTOP_BIN` measures another build (an older commit's). `cargo bench --bench load` runs it
//! in full; under `cargo test` a small smoke version keeps it working.
#![allow(clippy::disallowed_macros)] // a test or bench reports on its own terminal

#[path = "../tests/harness/mod.rs"]
mod harness;
#[path = "common/timing.rs"]
mod timing;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

fn bin() -> String {
    std::env::var("MCPTOP_BIN").unwrap_or_else(|_| harness::mcptop_bin().display().to_string())
}

/// A tmux pane running mcptop; its pid.
struct Pane {
    sock: String,
    _state: tempfile::TempDir,
}

impl Pane {
    fn start(args: &str) -> Pane {
        let state = tempfile::tempdir().expect("dir");
        let sock = format!("mcptop-load-{}-{}", std::process::id(), rand_suffix());
        let cmd = format!("XDG_STATE_HOME={} {} {args}", state.path().display(), bin());
        let ok = Command::new("tmux")
            .args(["-L", &sock, "new-session", "-d", "-x", "200", "-y", "60", &cmd])
            .status()
            .expect("tmux")
            .success();
        assert!(ok, "tmux");
        Pane { sock, _state: state }
    }

    fn pid(&self) -> String {
        let out =
            Command::new("tmux").args(["-L", &self.sock, "list-panes", "-F", "#{pane_pid}"]).output().expect("tmux");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux").args(["-L", &self.sock, "capture-pane", "-p"]).output().expect("tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["-L", &self.sock, "kill-server"]).status();
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}

/// `(VmRSS, VmHWM)` in KiB.
fn rss_kb(pid: &str) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        status.lines().find(|l| l.starts_with(name))?.split_whitespace().nth(1)?.parse().ok()
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// User + system CPU time of a process, in clock ticks.
fn cpu_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = after.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// A server answering each path with a fixed body (the services' own shapes).
fn serve(routes: Vec<(&'static str, String)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let routes = Arc::new(routes);
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let routes = routes.clone();
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 65536];
                let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
                let n = conn.read(&mut buf).unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]).into_owned();
                let path = req.split_whitespace().nth(1).unwrap_or("").split('?').next().unwrap_or("").to_string();
                let body: &str = if path == "/api_jsonrpc.php" {
                    let method = req.split("\"method\":\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or("");
                    routes.iter().find(|(p, _)| *p == method).map(|(_, b)| b.as_str()).unwrap_or("{}")
                } else {
                    routes.iter().find(|(p, _)| *p == path).map(|(_, b)| b.as_str()).unwrap_or("{}")
                };
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = conn.write_all(head.as_bytes());
                let _ = conn.write_all(body.as_bytes());
            });
        }
    });
    url
}

/// A JSON array of `item(i)` as long as it stays under `bytes`.
fn array_under(bytes: usize, item: impl Fn(usize) -> serde_json::Value) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    let mut size = 2;
    for i in 0.. {
        let v = item(i);
        let n = v.to_string().len() + 1;
        if size + n > bytes {
            break;
        }
        size += n;
        out.push(v);
    }
    out
}

/// Bodies just under the 8 MB limit (`limit`), in each service's shape.
fn big_bodies(limit: usize) -> Vec<(&'static str, String)> {
    use serde_json::json;
    let alerts = array_under(limit, |i| {
        json!({"labels": {"alertname": format!("R{}", i % 300), "instance": format!("h{i}"), "severity": "critical"},
            "fingerprint": format!("{i:x}"), "status": {"state": "active"}})
    });
    // problem.get asks for at most 2,000: long names bring them to the limit.
    let name = "x".repeat((limit / 2000).saturating_sub(300));
    let problems = array_under(limit - 64, |i| {
        json!({"eventid": (100000 + i).to_string(), "objectid": (5000 + i % 50).to_string(),
            "clock": "1767225600", "name": format!("{name} problem {i}"), "severity": "4",
            "acknowledged": "0", "suppressed": "0", "r_eventid": "0", "tags": []})
    });
    let triggers: Vec<_> = (0..50).map(|i| json!({"triggerid": (5000 + i).to_string(), "hosts": [{"host": format!("h{i}"), "name": format!("h{i}")}]})).collect();
    let cs = array_under(limit - 64, |i| {
        json!({"id": i, "scenario": "crowdsecurity/ssh-bf", "message": "x".repeat(2400),
                "events_count": 12, "start_at": "2026-11-22 02:27:06 +0000 UTC", "stop_at": "2026-11-22 02:27:06 +0000 UTC",
                "source": {"ip": format!("198.51.{}.{}", i / 250, i % 250), "scope": "Ip", "value": "x", "as_name": "AS", "cn": "DE"},
                "decisions": [{"id": i, "type": "ban", "scope": "Ip", "value": "x", "duration": "3h", "origin": "crowdsec", "scenario": "s"}]})
    });
    let targets = array_under(limit - 128, |i| {
        let health = if i % 7 == 0 { "down" } else { "up" };
        json!({"labels": {"job": "node", "instance": format!("host-{i:05}:9100")}, "scrapeUrl": "http://x/metrics",
                "lastError": "x".repeat(300), "lastScrape": "2026-11-21T03:00:00Z", "health": health})
    });
    let metrics: String =
        (0..10_000).map(|i| format!("mcp_requests_total{{path=\"/p{i}\"}} {i}\n")).collect::<String>()
            + "mcp_analyses_completed_total 1000\nmcp_active_jobs 3\n";
    let models: Vec<_> = (0..200).map(|i| json!({"id": format!("model-{i}"), "object": "model"})).collect();
    vec![
        ("/api/v2/alerts", serde_json::to_string(&alerts).unwrap_or_default()),
        ("apiinfo.version", json!({"jsonrpc": "2.0", "result": "6.0.14", "id": 1}).to_string()),
        ("problem.get", json!({"jsonrpc": "2.0", "result": problems, "id": 1}).to_string()),
        ("trigger.get", json!({"jsonrpc": "2.0", "result": triggers, "id": 1}).to_string()),
        (
            "/v1/watchers/login",
            json!({"code": 200, "expire": "2099-01-01T00:00:00Z", "token": "eyJhbGciOiJIUzI1NiJ9.bench.bench"})
                .to_string(),
        ),
        ("/v1/alerts", serde_json::to_string(&cs).unwrap_or_default()),
        ("/api/v1/targets", json!({"status": "success", "data": {"activeTargets": targets}}).to_string()),
        (
            "/health",
            json!({"status": "healthy", "components": {"redis": {"status": "healthy", "latency_ms": 1.0}}}).to_string(),
        ),
        ("/metrics", metrics),
        ("/v1/models", json!({"object": "list", "data": models}).to_string()),
        ("/api/ps", json!({"models": []}).to_string()),
    ]
}

fn memory(full: bool) {
    // Just under the clients' limit (8 MiB): what a source at its limit sends.
    let bodies = big_bodies(if full { 8 * 1024 * 1024 - 4096 } else { 100_000 });
    for (p, b) in &bodies {
        eprintln!("  {p}: {:.1} MB", b.len() as f64 / 1e6);
    }
    let url = serve(bodies);
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("c.toml");
    // LOAD_ONLY=alertmanager|zabbix|crowdsec|prometheus|gateway|kb: one source, to see what each costs.
    let only = std::env::var("LOAD_ONLY").ok();
    let on = |s: &str| only.as_deref().is_none_or(|o| o == s);
    let mut text = String::from("[contexts.load]\ntimeout_ms = 5000\n");
    if on("prometheus") {
        text += &format!("prometheus_url = \"{url}\"\n");
    }
    if on("gateway") {
        text += &format!(
            "gateway_url = \"{url}\"\n[[contexts.load.services]]\nname = \"gateway\"\nurl = \"{url}/health\"\nkind = \"gateway\"\n"
        );
    }
    if on("alertmanager") {
        text += &format!("[[contexts.load.alertmanagers]]\nname = \"am\"\nurl = \"{url}\"\n");
    }
    if on("zabbix") {
        text += &format!("[[contexts.load.zabbix]]\nname = \"zbx\"\nurl = \"{url}\"\ntoken = \"env:LOAD_TOKEN\"\n");
    }
    if on("crowdsec") {
        text +=
            &format!("[contexts.load.crowdsec]\nurl = \"{url}\"\nmachine_id = \"m\"\npassword = \"env:LOAD_TOKEN\"\n");
    }
    if on("kb") {
        text += &format!(
            "[contexts.load.knowledge_base]\ndatabase_url = \"postgres://x@127.0.0.1:1/x\"\n\
             [contexts.load.knowledge_base.embeddings]\nlitellm_url = \"{url}\"\nollama_url = \"{url}\"\n"
        );
    }
    std::fs::write(&config, text).expect("config");
    // SAFETY: set before the panes start; nothing else here reads the environment meanwhile.
    unsafe { std::env::set_var("LOAD_TOKEN", "bench-token-123456") };
    let pane = Pane::start(&format!("--config {}", config.display()));
    std::thread::sleep(Duration::from_secs(2));
    let pid = pane.pid();
    let seconds = if full { 30 } else { 4 };
    let mut rss = Vec::new();
    for _ in 0..seconds {
        std::thread::sleep(Duration::from_secs(1));
        if let Some((now, _)) = rss_kb(&pid) {
            rss.push(now);
        }
    }
    let hwm = rss_kb(&pid).map(|(_, h)| h).unwrap_or(0);
    let shown = pane.screen().contains("firing");
    println!(
        "memory, every source at its body limit: VmRSS last {} MiB, max {} MiB; VmHWM {} MiB (alerts on screen: {shown})",
        rss.last().copied().unwrap_or(0) / 1024,
        rss.iter().max().copied().unwrap_or(0) / 1024,
        hwm / 1024
    );
}

const STORM: &str = r#"
local p, n, seed = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 1, n do
  -- Half the changes hit the 200 newest jobs (the ones on screen), half any of the 10,000.
  local k = (seed * 7919 + i * 104729)
  local n_id = (k % 10000) + 1
  if i % 2 == 0 then n_id = 10000 - (k % 200) end
  local id = string.format('%08d', n_id)
  local from = redis.call('HGET', p .. 'job:' .. id, 'status')
  local to = 'done'
  if from == 'done' then to = 'running' end
  redis.call('HSET', p .. 'job:' .. id, 'status', to, 'updated_at', now)
  if from then redis.call('ZREM', p .. 'jobs:' .. from, id) end
  redis.call('ZADD', p .. 'jobs:' .. to, now, id)
  redis.call('PUBLISH', p .. 'events', '{"job_id":"' .. id .. '","status":"' .. to .. '"}')
end
return n
"#;

fn storm(full: bool) {
    let redis = harness::Redis::start();
    let mut c = redis.conn();
    let now = chrono::Utc::now().timestamp_millis();
    // Jobs as a worker leaves them: an analysis, the knowledge-base hits it used, a draft.
    let analysis =
        serde_json::json!({"summary": "disk almost full on the data volume", "root_cause": "log rotation stopped",
        "impact": "writes fail within hours", "immediate_action": "rotate and compress /var/log", "priority": 2,
        "confidence": 0.8, "model": "ollama/llama3.1:8b"})
        .to_string();
    let hits = serde_json::json!([{"id": 41, "score": 0.91, "text": "resize /var on db hosts ".repeat(20), "metadata": {"src": "wiki"}},
        {"id": 42, "score": 0.85, "text": "log rotation runbook ".repeat(20), "metadata": {"src": "wiki"}}]).to_string();
    let draft = serde_json::json!({"title": "DiskFull on db-01", "group": "Ops", "priority": "3 high",
        "body": "The data volume is almost full. Rotate the logs.\n".repeat(5)})
    .to_string();
    let mut pipe = redis::pipe();
    for i in 1..=10_000 {
        let id = format!("{i:08}");
        let st = ["done", "running", "awaiting_approval", "failed"][i % 4];
        pipe.cmd("HSET")
            .arg(format!("mcp:job:{id}"))
            .arg("id")
            .arg(&id)
            .arg("status")
            .arg(st)
            .arg("hostname")
            .arg(format!("host-{}", i % 300))
            .arg("severity")
            .arg("high")
            .arg("alert_type")
            .arg("DiskFull")
            .arg("created_at")
            .arg("2026-11-21T03:00:00Z")
            .arg("queue")
            .arg("analysis")
            .arg("description")
            .arg("the data volume of the database host is 97% full and growing".repeat(3))
            .arg("analysis")
            .arg(&analysis)
            .arg("rag_hits")
            .arg(&hits)
            .arg("ticket_draft")
            .arg(&draft)
            .ignore();
        pipe.cmd("ZADD").arg("mcp:jobs").arg(now - 20_000_000 + i as i64).arg(&id).ignore();
        pipe.cmd("ZADD").arg(format!("mcp:jobs:{st}")).arg(now - 20_000_000 + i as i64).arg(&id).ignore();
    }
    pipe.query::<()>(&mut c).expect("seed");
    let pane = Pane::start(&format!("--redis-url {}", redis.url()));
    std::thread::sleep(Duration::from_secs(3));
    let pid = pane.pid();
    let seconds = if full { 20 } else { 3 };
    let stop = Arc::new(AtomicBool::new(false));
    let driver = {
        let (url, stop) = (redis.url(), stop.clone());
        std::thread::spawn(move || {
            let mut c = redis::Client::open(url).expect("client").get_connection().expect("conn");
            let script = redis::Script::new(STORM);
            let mut batch = 0u64;
            let start = Instant::now();
            while !stop.load(Ordering::SeqCst) {
                batch += 1;
                let _: u64 = script.arg("mcp:").arg(10).arg(batch).invoke(&mut c).expect("storm");
                // 10 changes every 10 ms: 1,000 a second.
                let due = start + Duration::from_millis(10 * batch);
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            }
            batch * 10
        })
    };
    std::thread::sleep(Duration::from_secs(1));
    let ticks_before = cpu_ticks(&pid).unwrap_or(0);
    let began = Instant::now();
    let mut latencies = Vec::new();
    let mut n = 0;
    while began.elapsed() < Duration::from_secs(seconds) {
        n += 1;
        let host = format!("storm-new-{n}");
        let id = format!("new{n:05}");
        let t = Instant::now();
        harness::seed_job(
            &mut c,
            "mcp:",
            &id,
            chrono::Utc::now().timestamp_millis(),
            "queued",
            &[("hostname", host.as_bytes())],
        );
        let _: () = redis::cmd("PUBLISH")
            .arg("mcp:events")
            .arg(format!(r#"{{"job_id":"{id}","status":"queued"}}"#))
            .query(&mut c)
            .expect("publish");
        if harness::eventually(Duration::from_secs(5), || pane.screen().contains(&host)) {
            latencies.push(t.elapsed().as_secs_f64() * 1e3);
        }
        std::thread::sleep(Duration::from_millis(1500));
    }
    let elapsed = began.elapsed().as_secs_f64();
    let ticks = cpu_ticks(&pid).unwrap_or(0) - ticks_before;
    stop.store(true, Ordering::SeqCst);
    let changes = driver.join().unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let cpu = ticks as f64 / hz / elapsed * 100.0;
    let (p50, _) = timing::stats(latencies.clone());
    let max = latencies.iter().cloned().fold(0.0, f64::max);
    println!(
        "storm, {changes} status changes with events (~{:.0}/s), 10,000 jobs: CPU {cpu:.1}% of one core; \
         a new job on screen in {p50:.0} ms median, {max:.0} ms max ({} of {n} seen; tmux polled every 20 ms)",
        changes as f64 / (elapsed + 1.0),
        latencies.len()
    );
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    harness::require("tmux", "tmux");
    println!("binary: {}", bin());
    // LOAD_PART=memory|storm runs one part.
    let part = std::env::var("LOAD_PART").ok();
    if part.as_deref().is_none_or(|p| p == "memory") {
        memory(full);
    }
    if part.as_deref().is_none_or(|p| p == "storm") {
        storm(full);
    }
}
