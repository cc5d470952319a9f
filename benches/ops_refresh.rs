//! Refresh cost on loopback (target: under 50 ms): alerts from two real Alertmanagers holding
//! 1,000 alerts each (the same alerts, as an HA pair has them), and 300 containers from a real
//! dockerd, first with every inspect and then with inspect results reused; and the time from a
//! container's health change (Docker's event) to new data at the UI (target: under 1 s).
//!
//! `cargo bench --bench ops_refresh` runs it in full; under `cargo test` a small smoke version.
#![allow(clippy::disallowed_macros)] // a test or bench reports on its own terminal

#[path = "../tests/harness/mod.rs"]
mod harness;
#[path = "common/timing.rs"]
mod timing;

use std::sync::Arc;
use std::time::{Duration, Instant};

use timing::{stats, time};

use mcptop::clients::alertmanager::{Alertmanager, AlertsClient};
use mcptop::clients::docker::DockerClient;
use mcptop::domain::Health;
use mcptop::runtime::{self, RuntimeOptions, SourceMsg};
use mcptop::sources::{RealOps, Sources};

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (alerts, containers, iterations) = if full { (1000, 300, 50) } else { (20, 3, 3) };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");

    let (a, b) = (harness::Alertmanager::start(), harness::Alertmanager::start());
    let batch: Vec<serde_json::Value> = (0..alerts)
        .map(|i| {
            let severity = ["critical", "warning", "info"][i % 3];
            serde_json::json!({"labels": {"alertname": format!("Rule{}", i % 40), "instance": format!("host-{i:04}:9100"),
                "severity": severity},
                "annotations": {"summary": format!("something is wrong on host-{i:04}"), "description": "x".repeat(200)}})
        })
        .collect();
    a.post_alerts(&serde_json::Value::Array(batch.clone()));
    b.post_alerts(&serde_json::Value::Array(batch));
    let client = AlertsClient::new(vec![
        Alertmanager::new("am-a", &a.url(), Duration::from_secs(5)).expect("client"),
        Alertmanager::new("am-b", &b.url(), Duration::from_secs(5)).expect("client"),
    ]);
    let n = rt.block_on(client.snapshot()).alerts.len();
    assert_eq!(n, alerts, "de-duplicated across the pair");
    let (p50, p95) = time(
        &rt,
        || async {
            {
                client.snapshot().await;
            }
        },
        iterations,
    );
    println!("alerts refresh, 2 Alertmanagers x {alerts} alerts: median {p50:.1} ms, p95 {p95:.1} ms");

    let d = harness::Dockerd::start();
    let t = Instant::now();
    for i in 0..containers {
        d.cli(&[
            "create",
            "--name",
            &format!("svc-{i:03}"),
            "--network",
            "none",
            "--health-cmd",
            "true",
            harness::BUSYBOX_IMAGE,
            "sleep",
            "3600",
        ]);
    }
    eprintln!("created {containers} containers in {:.1} s", t.elapsed().as_secs_f64());
    let (p50, p95) = time(
        &rt,
        || async {
            // a new client each time: nothing cached, every container inspected
            let docker = DockerClient::new(&d.endpoint(), Duration::from_secs(10));
            assert_eq!(docker.containers().await.expect("containers").len(), containers);
        },
        iterations.min(10),
    );
    println!(
        "containers refresh, {containers} containers, cold (list + {containers} inspects): median {p50:.1} ms, p95 {p95:.1} ms"
    );
    let docker = DockerClient::new(&d.endpoint(), Duration::from_secs(10));
    rt.block_on(docker.containers()).expect("warm up");
    let (p50, p95) = time(&rt, || async { docker.containers().await.map(|_| ()).expect("containers") }, iterations);
    println!(
        "containers refresh, {containers} containers, warm (list, inspects reused): median {p50:.1} ms, p95 {p95:.1} ms"
    );

    // health change -> UI: a container whose check flips, polling slowed to a minute
    d.cli(&[
        "run",
        "-d",
        "--name",
        "flip",
        "--network",
        "none",
        "--health-cmd",
        "test -f /tmp/ok",
        "--health-interval",
        "1s",
        "--health-retries",
        "1",
        harness::BUSYBOX_IMAGE,
        "sh",
        "-c",
        "touch /tmp/ok; exec sleep 3600",
    ]);
    assert!(harness::eventually(Duration::from_secs(20), || d.health("flip") == "healthy"));
    let ops = RealOps {
        docker: Some(Arc::new(DockerClient::new(&d.endpoint(), Duration::from_secs(10)))),
        ..Default::default()
    };
    let sources = Sources { ops: Arc::new(ops), ..Sources::none() };
    let samples = if full { 10 } else { 1 };
    let lags: Vec<f64> = rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::channel(64);
        let opts = RuntimeOptions { interval: Duration::from_secs(60), ..Default::default() };
        let _runtime = runtime::start(&sources, opts, Default::default(), tx);
        let mut out = Vec::new();
        let mut want = Health::Unhealthy;
        // wait for the first load
        while !matches!(rx.recv().await, Some(SourceMsg::ContainersLoaded(..))) {}
        for _ in 0..samples * 2 {
            let flip = if want == Health::Unhealthy {
                vec!["exec", "flip", "rm", "-f", "/tmp/ok"]
            } else {
                vec!["exec", "flip", "touch", "/tmp/ok"]
            };
            d.cli(&flip);
            let seen = loop {
                match tokio::time::timeout(Duration::from_secs(20), rx.recv()).await.expect("pushed") {
                    Some(SourceMsg::ContainersLoaded(c, _))
                        if c.iter().any(|c| c.name == "flip" && c.health == want) =>
                    {
                        break chrono::Utc::now();
                    }
                    _ => {}
                }
            };
            if let Some(ns) = d.event_time_ns(&format!("health_status: {}", want.as_str()), seen) {
                out.push((seen.timestamp_nanos_opt().unwrap_or(0) - ns) as f64 / 1e6);
            }
            want = if want == Health::Unhealthy { Health::Healthy } else { Health::Unhealthy };
        }
        out
    });
    let (p50, p95) = stats(lags.clone());
    println!(
        "health change -> UI (Docker's event to new data, {} samples): median {p50:.0} ms, p95 {p95:.0} ms",
        lags.len()
    );
}
