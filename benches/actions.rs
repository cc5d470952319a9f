//! Actions, measured on loopback against a real Redis and PostgreSQL, with the Zammad and ntfy
//! stand-ins of the tests:
//! 1. one approval end to end (lock, audit, Zammad search + create, atomic update, ntfy, audit),
//!    p50/p95, audited in a SQLite file;
//! 2. ten concurrent approvers (each with its own clients, as ten processes would be) over the
//!    same 1,000 awaiting jobs: exactly 1,000 tickets, no duplicates, and the throughput;
//! 3. one audit insert on SQLite (a file, WAL) and on PostgreSQL, p50/p95.
//!
//! `cargo bench --bench actions` runs it in full; under `cargo test` a small smoke version runs.
#![allow(clippy::disallowed_macros)] // a test or bench reports on its own terminal

#[path = "../tests/harness/mod.rs"]
mod harness;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use harness::standins::{Ntfy, Zammad};
use mcptop::actions::{ActionRequest, Actions, JobRef};
use mcptop::audit::{AuditLog, Outcome, Record};
use mcptop::config::{ContextConfig, FileConfig, NtfyConfig, Overrides, ZammadConfig};
use mcptop::domain::{Secret, Severity};
use mcptop::sources::Sources;

const SEED: &str = r#"
local p, from, to = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
for i = from, to do
  local id = 'a' .. string.format('%06d', i)
  redis.call('HSET', p .. 'job:' .. id, 'id', id, 'status', 'awaiting_approval', 'severity', 'high',
    'hostname', 'db-' .. (i % 50), 'alert_type', 'DiskFull', 'queue', 'analysis',
    'analysis', '{"summary":"disk full","impact":"writes fail","immediate_action":"rotate logs","confidence":0.8}',
    'rag_hits', '[{"id":1,"score":0.9,"text":"resize /var"}]',
    'ticket_draft', '{"title":"[job ' .. id .. '] DiskFull","group":"Ops","body":"rotate the logs"}')
  redis.call('ZADD', p .. 'jobs', i, id)
  redis.call('ZADD', p .. 'jobs:awaiting_approval', i, id)
end
return 0
"#;

fn seed(redis: &harness::Redis, n: usize) -> Vec<String> {
    let mut c = redis.conn();
    redis::cmd("FLUSHALL").query::<()>(&mut c).expect("flush");
    redis::cmd("EVAL").arg(SEED).arg(0).arg("mcp:").arg(1).arg(n).query::<i64>(&mut c).expect("seed");
    (1..=n).map(|i| format!("a{i:06}")).collect()
}

fn actions(redis: &harness::Redis, zammad: &Zammad, ntfy: &Ntfy, audit: Arc<AuditLog>) -> Actions {
    let ctx = ContextConfig {
        redis_url: Some(redis.url()),
        zammad: Some(ZammadConfig { url: zammad.url(), token: None, customer: None, group: "Users".into() }),
        ntfy: Some(NtfyConfig { url: ntfy.url(), topic: "ops".into(), token: None }),
        timeout_ms: 10_000,
        ..Default::default()
    };
    let mut file = FileConfig::default();
    file.contexts.insert("bench".into(), ctx);
    let mut s = mcptop::config::resolve(file, &Overrides::default()).expect("settings");
    s.zammad_token = Some(Secret::new("bench-zammad"));
    s.ntfy_token = Some(Secret::new("bench-ntfy"));
    Actions::new(&s, &Sources::from_context(&s).expect("sources"), audit)
}

fn approve(id: &str) -> ActionRequest {
    let job = JobRef { id: id.into(), host: None, severity: Severity::High };
    ActionRequest::Approve { job, note: None, title: None, body: None, edited: false }
}

fn percentiles(mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
    (at(0.5), at(0.95))
}

fn record(i: usize) -> Record {
    Record {
        id: 0,
        at: chrono::Utc::now(),
        actor: "bench@host".into(),
        context: "bench".into(),
        action: "retry".into(),
        target: format!("job {i}"),
        params: serde_json::json!({"action": "retry", "job": {"id": i}}),
        outcome: Outcome::Started,
        detail: String::new(),
    }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (single, crowd, inserts) = if full { (300, 1_000, 1_000) } else { (10, 40, 20) };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let _in_runtime = rt.enter();
    let redis = harness::Redis::start();
    let dir = tempfile::tempdir().expect("dir");

    // 1. One approval end to end.
    let (zammad, ntfy) = (Zammad::start("bench-zammad"), Ntfy::start("bench-ntfy"));
    let audit =
        Arc::new(AuditLog::sqlite_file(&dir.path().join("audit.sqlite3"), Duration::from_secs(5)).expect("audit"));
    let a = actions(&redis, &zammad, &ntfy, audit.clone());
    let ids = seed(&redis, single);
    let times: Vec<f64> = ids
        .iter()
        .map(|id| {
            let t = Instant::now();
            rt.block_on(a.run(approve(id))).expect("approved");
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    let (p50, p95) = percentiles(times);
    println!("approve end to end ({single} jobs, SQLite audit): p50 {p50:.2} ms, p95 {p95:.2} ms");

    // 2. Ten approvers over the same jobs, each starting at a different place.
    let (zammad, ntfy) = (Zammad::start("bench-zammad"), Ntfy::start("bench-ntfy"));
    let ids = Arc::new(seed(&redis, crowd));
    let t = Instant::now();
    let approved: usize = rt.block_on(async {
        let tasks = (0..10).map(|k| {
            let a = actions(&redis, &zammad, &ntfy, audit.clone());
            let ids = ids.clone();
            tokio::spawn(async move {
                let n = ids.len();
                let mut won = 0;
                for i in 0..n {
                    if a.run(approve(&ids[(i + k * n / 10) % n])).await.is_ok() {
                        won += 1;
                    }
                }
                won
            })
        });
        futures_util::future::join_all(tasks).await.into_iter().map(|r| r.unwrap_or(0)).sum()
    });
    let elapsed = t.elapsed().as_secs_f64();
    let tickets = zammad.tickets();
    let titles: HashSet<String> = tickets.iter().map(|t| t["title"].to_string()).collect();
    assert_eq!(approved, crowd, "every job approved exactly once");
    assert_eq!(tickets.len(), crowd, "one ticket per job");
    assert_eq!(titles.len(), crowd, "no duplicate tickets");
    println!(
        "10 concurrent approvers over {crowd} jobs: {} tickets, {} duplicates, {:.1} s, {:.0} approvals/s",
        tickets.len(),
        tickets.len() - titles.len(),
        elapsed,
        crowd as f64 / elapsed
    );

    // 3. Audit inserts.
    let sqlite = AuditLog::sqlite_file(&dir.path().join("inserts.sqlite3"), Duration::from_secs(5)).expect("sqlite");
    let pg = harness::postgres::Postgres::start();
    let postgres = AuditLog::postgres(&pg.url(), None, "mcptop_audit", Duration::from_secs(5)).expect("pg");
    for (name, log) in [("SQLite (file, WAL)", &sqlite), ("PostgreSQL", &postgres)] {
        rt.block_on(log.append(&record(0))).expect("warm up: the table");
        let times: Vec<f64> = (1..=inserts)
            .map(|i| {
                let t = Instant::now();
                rt.block_on(log.append(&record(i))).expect("insert");
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        let (p50, p95) = percentiles(times);
        println!("audit insert, {name}, {inserts} rows: p50 {p50:.3} ms, p95 {p95:.3} ms");
    }
}
