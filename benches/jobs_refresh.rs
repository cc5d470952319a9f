//! One jobs-pane refresh against a real Redis holding 1,000 and then 1,000,000 jobs: round trips
//! and time (targets: at most 2 round trips; the 1,000,000 case within 1.2× of the 1,000 case),
//! and mcptop's resident memory with the 1,000,000-job Redis (target: under 30 MB).
//!
//! `cargo bench --bench jobs_refresh` runs it in full. Under `cargo test` it runs a small
//! smoke version (1,000 jobs, a few iterations), so the benchmark itself stays working.
#![allow(clippy::disallowed_macros)] // a test or bench reports on its own terminal

#[path = "../tests/harness/mod.rs"]
mod harness;

use std::process::Command;
use std::time::{Duration, Instant};

use mcptop::clients::RedisClient;
use mcptop::clients::redis::RedisSettings;
use mcptop::domain::JobsQuery;

const SEED: &str = r#"
local p, from, to, base = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local statuses = {'done', 'done', 'done', 'failed', 'awaiting_approval', 'queued'}
for i = from, to do
  local id = string.format('%08d', i)
  local st = statuses[(i % 6) + 1]
  redis.call('HSET', p .. 'job:' .. id, 'id', id, 'status', st, 'severity', 'high', 'hostname', 'host-' .. (i % 500),
    'alert_type', 'DiskFull', 'source', 'zabbix', 'description', 'disk almost full on the data volume',
    'created_at', '2026-11-21T03:00:00Z', 'updated_at', '2026-11-21T03:00:10Z', 'queue', 'analysis')
  redis.call('ZADD', p .. 'jobs', base + i, id)
  redis.call('ZADD', p .. 'jobs:' .. st, base + i, id)
end
return to - from + 1
"#;

fn seed(conn: &mut redis::Connection, n: u64) {
    redis::cmd("FLUSHALL").query::<()>(conn).expect("flush");
    let base = chrono::Utc::now().timestamp_millis() as u64 - n;
    let mut from = 1;
    while from <= n {
        let to = (from + 49_999).min(n);
        redis::cmd("EVAL").arg(SEED).arg(0).arg("mcp:").arg(from).arg(to).arg(base).query::<u64>(conn).expect("seed");
        from = to + 1;
    }
}

struct Stats {
    median_us: f64,
    p95_us: f64,
    round_trips: f64,
}

fn measure<F, Fut>(rt: &tokio::runtime::Runtime, client: &RedisClient, iterations: usize, f: F) -> Stats
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    rt.block_on(f()); // warm up: loads the script once
    let before = client.round_trips();
    let mut times: Vec<f64> = (0..iterations)
        .map(|_| {
            let t = Instant::now();
            rt.block_on(f());
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    let round_trips = (client.round_trips() - before) as f64 / iterations as f64;
    times.sort_by(|a, b| a.total_cmp(b));
    Stats { median_us: times[times.len() / 2], p95_us: times[times.len() * 95 / 100], round_trips }
}

/// Time from a status change published on `{p}events` to the runtime delivering the changed
/// job to the UI, with polling slowed to a minute so only the push path can explain it.
fn push_latency(rt: &tokio::runtime::Runtime, url: &str, conn: &mut redis::Connection, samples: usize) -> Vec<f64> {
    use mcptop::runtime::{self, RuntimeOptions, SourceMsg};
    let client = std::sync::Arc::new(
        RedisClient::new(RedisSettings {
            url: url.into(),
            password: None,
            prefix: "mcp:".into(),
            queues: vec!["analysis".into()],
            timeout: Duration::from_secs(5),
        })
        .expect("client"),
    );
    let opts = RuntimeOptions { interval: Duration::from_secs(60), ..Default::default() };
    rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::channel(256);
        let sources = mcptop::sources::Sources { jobs: Some(client), ..mcptop::sources::Sources::none() };
        let _runtime = runtime::start(&sources, opts, JobsQuery { limit: 60, ..Default::default() }, tx);
        // wait for the subscription and the first window
        let mut ready = (false, false);
        while ready != (true, true) {
            match rx.recv().await {
                Some(SourceMsg::PushState { connected: true, .. }) => ready.0 = true,
                Some(SourceMsg::JobsLoaded(_)) => ready.1 = true,
                _ => {}
            }
        }
        let mut out = Vec::new();
        for i in 0..samples {
            tokio::time::sleep(Duration::from_millis(150)).await;
            while rx.try_recv().is_ok() {}
            let note = format!("push-{i}");
            let t = Instant::now();
            redis::pipe()
                .cmd("HSET")
                .arg("mcp:job:00001000")
                .arg("hostname")
                .arg(&note)
                .cmd("PUBLISH")
                .arg("mcp:events")
                .arg(r#"{"job_id":"00001000","status":"done"}"#)
                .query::<()>(conn)
                .expect("publish");
            loop {
                match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
                    Ok(Some(SourceMsg::JobsLoaded(p)))
                        if p.jobs.iter().any(|j| j.hostname.as_deref() == Some(&note)) =>
                    {
                        break;
                    }
                    Ok(Some(_)) => {}
                    _ => panic!("no update within 5 s"),
                }
            }
            out.push(t.elapsed().as_secs_f64() * 1e3);
        }
        out.sort_by(|a, b| a.total_cmp(b));
        out
    })
}

/// Resident memory of the real TUI watching this Redis, in a 160×48 tmux pane, after 5 s.
fn tui_rss_kb(url: &str) -> Option<(u64, u64)> {
    let tmux = harness::require("tmux", "tmux");
    let sock = format!("mcptop-bench-{}", std::process::id());
    let cmd = format!("{} --redis-url {url}", harness::mcptop_bin().display());
    let ok = Command::new(&tmux)
        .args(["-L", &sock, "new-session", "-d", "-x", "160", "-y", "48", &cmd])
        .env("XDG_STATE_HOME", std::env::temp_dir())
        .status()
        .ok()?
        .success();
    if !ok {
        return None;
    }
    std::thread::sleep(Duration::from_secs(5));
    let pid = Command::new(&tmux).args(["-L", &sock, "list-panes", "-F", "#{pane_pid}"]).output().ok()?;
    let pid = String::from_utf8_lossy(&pid.stdout).trim().to_string();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok();
    let _ = Command::new(&tmux).args(["-L", &sock, "kill-server"]).status();
    let field = |name: &str| -> Option<u64> {
        status.as_ref()?.lines().find(|l| l.starts_with(name))?.split_whitespace().nth(1)?.parse().ok()
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (sizes, iterations): (&[u64], usize) = if full { (&[1_000, 1_000_000], 300) } else { (&[1_000], 5) };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let redis = harness::Redis::start();
    let mut conn = redis.conn();
    let client = RedisClient::new(RedisSettings {
        url: redis.url(),
        password: None,
        prefix: "mcp:".into(),
        queues: vec!["analysis".into()],
        timeout: Duration::from_secs(5),
    })
    .expect("client");
    // the window the dashboard asks for at 200×60: visible rows plus the margin on each side
    let window = 53 + 2 * 20;
    println!("{:>10} {:<28} {:>12} {:>12} {:>12}", "jobs", "call", "median_us", "p95_us", "round_trips");
    let mut medians = Vec::new();
    for &n in sizes {
        let t = Instant::now();
        seed(&mut conn, n);
        eprintln!("seeded {n} jobs in {:.1} s", t.elapsed().as_secs_f64());
        let cases: [(&str, JobsQuery); 3] = [
            ("jobs window (top)", JobsQuery { limit: window, ..Default::default() }),
            ("jobs window (middle)", JobsQuery { offset: n as usize / 2, limit: window, ..Default::default() }),
            ("failures only", JobsQuery { failures_only: true, limit: window, ..Default::default() }),
        ];
        for (name, q) in cases {
            let s =
                measure(&rt, &client, iterations, || async { client.jobs(q.clone()).await.map(|_| ()).expect("jobs") });
            println!("{n:>10} {name:<28} {:>12.0} {:>12.0} {:>12.2}", s.median_us, s.p95_us, s.round_trips);
            assert!(s.round_trips <= 2.0, "a refresh must take at most 2 round trips");
            if name == "jobs window (top)" {
                medians.push(s.median_us);
            }
        }
        let s = measure(&rt, &client, iterations, || async { client.queues().await.map(|_| ()).expect("queues") });
        println!("{n:>10} {:<28} {:>12.0} {:>12.0} {:>12.2}", "queue stats", s.median_us, s.p95_us, s.round_trips);
        let q = JobsQuery { filter: "host-499x".into(), limit: window, ..Default::default() };
        let s = measure(&rt, &client, iterations.min(20), || async {
            client.jobs(q.clone()).await.map(|_| ()).expect("search")
        });
        println!(
            "{n:>10} {:<28} {:>12.0} {:>12.0} {:>12.2}",
            "text filter, no match (10k)", s.median_us, s.p95_us, s.round_trips
        );
        if n == 1_000 {
            let ms = push_latency(&rt, &redis.url(), &mut conn, if full { 50 } else { 3 });
            println!(
                "{n:>10} {:<28} {:>12.1} {:>12.1} {:>12}",
                "event -> UI, ms (not us)",
                ms[ms.len() / 2],
                ms[ms.len() * 95 / 100],
                "-"
            );
        }
        if full && n == 1_000_000 {
            match tui_rss_kb(&redis.url()) {
                Some((rss, hwm)) => println!("\nmcptop TUI with {n} jobs: VmRSS {} KiB, VmHWM {} KiB", rss, hwm),
                None => println!("\nmcptop TUI resident memory: could not be measured (tmux?)"),
            }
        }
    }
    if let [small, big] = medians[..] {
        println!("\n1,000,000 / 1,000 median ratio for one refresh: {:.2}", big / small);
    }
}
