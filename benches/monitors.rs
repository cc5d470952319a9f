//! Every alert source at once, and Redis behind Sentinel:
//!
//! 1. one alerts refresh with 1,000 Alertmanager alerts, 500 Zabbix problems (real Zabbix 6.0
//!    server and PHP frontend) and 500 CrowdSec alerts (real local API), all asked together, and
//!    each source alone;
//! 2. the time from `SENTINEL FAILOVER` to the runtime's first queue read from the new master
//!    (master, replica and three real sentinels; a job is pushed to the new master as soon as
//!    Sentinel names it, and the first read that counts it can only come from there: the old
//!    master is demoted and resynced only ~10 s later).
//!
//! `cargo bench --bench monitors` runs it in full; under `cargo test` a small smoke version.
#![allow(clippy::disallowed_macros)] // a test or bench reports on its own terminal

#[path = "../tests/harness/mod.rs"]
mod harness;
#[path = "common/timing.rs"]
mod timing;

use std::sync::Arc;
use std::time::{Duration, Instant};

use timing::{stats, time};

use harness::crowdsec::CrowdSec;
use harness::sentinel::{MASTER_NAME, SentinelSet};
use harness::zabbix::Zabbix;
use mcptop::clients::RedisClient;
use mcptop::clients::alertmanager::{Alertmanager, AlertsClient};
use mcptop::clients::crowdsec::CrowdSecClient;
use mcptop::clients::redis::RedisSettings;
use mcptop::clients::zabbix::ZabbixClient;
use mcptop::domain::Secret;
use mcptop::runtime::{self, RuntimeOptions, SourceMsg};
use mcptop::sources::Sources;

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (am_n, zbx_n, cs_n, iterations, failovers) = if full { (1000, 500, 500, 20, 5) } else { (10, 3, 3, 2, 1) };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let timeout = Duration::from_secs(10);

    let am = harness::Alertmanager::start();
    let batch: Vec<serde_json::Value> = (0..am_n)
        .map(|i| {
            let severity = ["critical", "warning", "info"][i % 3];
            serde_json::json!({"labels": {"alertname": format!("Rule{}", i % 40), "instance": format!("host-{i:04}:9100"),
                "severity": severity},
                "annotations": {"summary": format!("something is wrong on host-{i:04}")}})
        })
        .collect();
    am.post_alerts(&serde_json::Value::Array(batch));
    let zbx = Zabbix::start();
    zbx.bulk_problems(zbx_n);
    zbx.wait_problems(zbx_n);
    let cs = CrowdSec::start();
    cs.add_alerts(cs_n);

    let manager = Alertmanager::new("am", &am.url(), timeout).expect("client");
    let zabbix = Arc::new(ZabbixClient::new("zabbix", &zbx.url(), Secret::new(zbx.token()), timeout).expect("client"));
    let machine = Some((cs.machine_id().to_string(), Secret::new(cs.password())));
    let crowdsec = Arc::new(CrowdSecClient::new(&cs.url(), machine, None, timeout).expect("client"));
    let all =
        AlertsClient::new(vec![manager.clone()]).with_monitors(vec![zabbix.clone()], Some(crowdsec.clone()), timeout);
    let n = rt.block_on(all.snapshot()).alerts.len();
    assert!(n >= am_n + zbx_n + cs_n, "every alert of every source: {n}");
    let (p50, p95) = time(
        &rt,
        || async {
            {
                all.snapshot().await;
            }
        },
        iterations,
    );
    println!(
        "alerts refresh, {am_n} Alertmanager + {zbx_n} Zabbix + {cs_n} CrowdSec, together: median {p50:.1} ms, p95 {p95:.1} ms"
    );
    let (p50, p95) = time(&rt, || async { manager.alerts().await.map(|_| ()).expect("am") }, iterations);
    println!("  Alertmanager alone ({am_n}): median {p50:.1} ms, p95 {p95:.1} ms");
    let (p50, p95) = time(&rt, || async { zabbix.problems().await.map(|_| ()).expect("zabbix") }, iterations);
    println!("  Zabbix alone ({zbx_n}, problem.get + trigger.get): median {p50:.1} ms, p95 {p95:.1} ms");
    let (p50, p95) = time(&rt, || async { crowdsec.alerts().await.map(|_| ()).expect("crowdsec") }, iterations);
    println!("  CrowdSec alone ({cs_n}): median {p50:.1} ms, p95 {p95:.1} ms");
    drop((zbx, cs, am));

    let set = SentinelSet::start();
    let client = RedisClient::new(RedisSettings {
        url: "redis://127.0.0.1/0".into(),
        password: None,
        prefix: "mcp:".into(),
        queues: vec!["analysis".into()],
        timeout: Duration::from_secs(2),
    })
    .expect("client")
    .with_sentinel(set.addrs(), MASTER_NAME.into());
    let sources = Sources { jobs: Some(Arc::new(client)), ..Sources::none() };
    let lags: Vec<(f64, f64, f64)> = rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::channel(256);
        let _runtime = runtime::start(&sources, RuntimeOptions::default(), Default::default(), tx);
        let mut out = Vec::new();
        let mut pushed = 0u64;
        for round in 0..failovers {
            // Settled: the sentinels see a replica in sync again.
            assert!(
                harness::eventually(Duration::from_secs(90), || set.ready_for_failover()),
                "ready before failover {round}"
            );
            while let Ok(msg) = rx.try_recv() {
                drop(msg);
            }
            let before = set.master_port();
            let t0 = Instant::now();
            let mut c = set.conn(set.sentinels[0].port);
            redis::cmd("SENTINEL").arg("FAILOVER").arg(MASTER_NAME).query::<()>(&mut c).expect("SENTINEL FAILOVER");
            let new = loop {
                match set.master_port() {
                    Some(p) if Some(p) != before => break p,
                    _ if t0.elapsed() > Duration::from_secs(60) => panic!("Sentinel never named a new master"),
                    _ => tokio::time::sleep(Duration::from_millis(5)).await,
                }
            };
            let promoted = t0.elapsed().as_secs_f64() * 1e3;
            pushed += 1;
            redis::cmd("LPUSH")
                .arg("mcp:queue:analysis")
                .arg(format!("{{\"job_id\":\"f{round}\"}}"))
                .query::<()>(&mut set.conn(new))
                .expect("push to the new master");
            let mut noticed = None;
            loop {
                match tokio::time::timeout(Duration::from_secs(30), rx.recv()).await.expect("a queue read") {
                    Some(SourceMsg::QueuesLoaded(q)) if q.queues.first().and_then(|s| s.length) == Some(pushed) => {
                        break;
                    }
                    Some(SourceMsg::Notice { text, .. }) if text.contains("moved") => {
                        noticed.get_or_insert(t0.elapsed().as_secs_f64() * 1e3);
                    }
                    _ => {}
                }
            }
            let read = t0.elapsed().as_secs_f64() * 1e3;
            out.push((promoted, noticed.unwrap_or(read), read));
        }
        out
    });
    let (p50, p95) = stats(lags.iter().map(|l| l.2).collect());
    let (s50, _) = stats(lags.iter().map(|l| l.0).collect());
    let (n50, _) = stats(lags.iter().map(|l| l.1).collect());
    println!(
        "SENTINEL FAILOVER -> first queue read from the new master ({} failovers): median {p50:.0} ms, p95 {p95:.0} ms \
         (Sentinel named the new master after a median {s50:.0} ms; mcptop noticed the move after {n50:.0} ms)",
        lags.len()
    );
}
