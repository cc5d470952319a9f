//! Prometheus targets against a real Prometheus scraping a real Redis exporter: up, then down
//! with its last error once the exporter stops; and `mcptop health` reporting the same.
#![allow(clippy::disallowed_macros)] // a test or bench reports on its own terminal

mod harness;

use std::process::Command;
use std::time::Duration;

use harness::{Prometheus, Redis, RedisExporter, eventually, mcptop_bin};
use mcptop::clients::prometheus::PrometheusClient;

// The client's connection lives on the runtime while the test blocks on `mcptop health`, the
// exporter's stop and Prometheus: worker threads keep it served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_goes_down_with_its_last_error_when_the_exporter_stops() {
    let redis = Redis::start();
    let mut exporter = RedisExporter::start(redis.svc.port);
    let prom = Prometheus::start("redis", &[exporter.svc.port]);
    // targets read "unknown" until the first scrape (SERVICES.md)
    assert!(eventually(Duration::from_secs(20), || prom.target_health() == ["up"]), "first scrape");
    let client = PrometheusClient::new(&prom.url(), Duration::from_secs(2)).expect("client");
    let targets = client.targets().await.expect("targets");
    assert_eq!(targets.len(), 1);
    assert_eq!((targets[0].job.as_str(), targets[0].health.as_str()), ("redis", "up"));
    assert_eq!(targets[0].instance, format!("127.0.0.1:{}", exporter.svc.port));
    assert_eq!(targets[0].last_error, "");

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, format!("[contexts.t]\nprometheus_url = \"{}\"\n", prom.url())).unwrap();
    let health = || {
        let out = Command::new(mcptop_bin())
            .args(["--config", config.to_str().unwrap(), "health", "--output", "json"])
            .env("XDG_STATE_HOME", std::env::temp_dir())
            .output()
            .unwrap();
        (out.status.code(), serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap_or_default())
    };
    let (code, v) = health();
    assert_eq!(code, Some(0));
    assert_eq!(v["targets"][0]["health"], "up");
    assert_eq!(v["targets"][0]["job"], "redis");

    exporter.svc.stop();
    assert!(eventually(Duration::from_secs(20), || prom.target_health() == ["down"]), "Prometheus notices");
    let targets = client.targets().await.expect("targets");
    assert_eq!(targets[0].health, "down");
    assert!(targets[0].last_error.contains("connection refused"), "{}", targets[0].last_error);
    let (code, v) = health();
    assert_eq!(code, Some(0), "Prometheus itself answered");
    assert_eq!(v["targets"][0]["health"], "down");
    assert!(v["targets"][0]["last_error"].as_str().is_some_and(|e| !e.is_empty()));
}

#[tokio::test]
async fn prometheus_down_is_an_error_and_health_exits_1() {
    let url = format!("http://127.0.0.1:{}", harness::free_port());
    let err = PrometheusClient::new(&url, Duration::from_secs(1))
        .expect("client")
        .targets()
        .await
        .err()
        .map(|e| e.to_string());
    assert!(err.as_deref().is_some_and(|e| e.contains("connect")), "{err:?}");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, format!("[contexts.t]\nprometheus_url = \"{url}\"\ntimeout_ms = 500\n")).unwrap();
    let out = Command::new(mcptop_bin())
        .args(["--config", config.to_str().unwrap(), "health", "--output", "json"])
        .env("XDG_STATE_HOME", std::env::temp_dir())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["sources"][0]["name"], "prometheus");
    assert_eq!(v["sources"][0]["ok"], false);
}
