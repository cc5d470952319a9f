//! A real three-node Redis Cluster: with a hash-tagged key prefix mcptop reads the queue and the
//! jobs through the cluster (whichever node owns the slot); without one it says at start why it
//! cannot.
#![allow(clippy::disallowed_macros)] // a test or bench reports on its own terminal

mod harness;

use std::process::Command;
use std::time::Duration;

use harness::{HANG_GUARD, Service, eventually, free_port, mcptop_bin, require};

fn node() -> Service {
    let bin = require("redis-server", "redis-server");
    let (port, bus) = (free_port(), free_port());
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cmd = Command::new(bin);
    cmd.args(["--port", &port.to_string(), "--cluster-port", &bus.to_string(), "--bind", "127.0.0.1"])
        .args(["--cluster-enabled", "yes", "--save", "", "--appendonly", "no", "--daemonize", "no"])
        .arg("--cluster-config-file")
        .arg(dir.path().join("nodes.conf"))
        .arg("--dir")
        .arg(dir.path());
    Service::start("redis-cluster-node", port, dir, cmd, |port| {
        redis::Client::open(format!("redis://127.0.0.1:{port}/"))
            .and_then(|c| c.get_connection_with_timeout(Duration::from_millis(200)))
            .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
            .is_ok()
    })
}

fn cluster() -> Vec<Service> {
    let nodes: Vec<Service> = (0..3).map(|_| node()).collect();
    let cli = require("redis-cli", "redis-tools");
    let mut args: Vec<String> = vec!["--cluster".into(), "create".into()];
    args.extend(nodes.iter().map(|n| format!("127.0.0.1:{}", n.port)));
    args.extend(["--cluster-replicas", "0", "--cluster-yes"].map(String::from));
    let out = Command::new(cli).args(&args).output().expect("redis-cli --cluster create");
    assert!(out.status.success(), "cluster create: {}", String::from_utf8_lossy(&out.stdout));
    let ok = eventually(HANG_GUARD, || {
        nodes.iter().all(|n| {
            let info: String = redis::Client::open(format!("redis://127.0.0.1:{}/", n.port))
                .and_then(|c| c.get_connection())
                .and_then(|mut c| redis::cmd("CLUSTER").arg("INFO").query(&mut c))
                .unwrap_or_default();
            info.contains("cluster_state:ok")
        })
    });
    assert!(ok, "the cluster never became ok");
    nodes
}

fn status(config: &std::path::Path) -> (serde_json::Value, String, i32) {
    let out = Command::new(mcptop_bin())
        .arg("--config")
        .arg(config)
        .args(["status", "--output", "json"])
        .output()
        .expect("mcptop status");
    let v = serde_json::from_slice(&out.stdout).unwrap_or_default();
    (v, String::from_utf8_lossy(&out.stderr).into_owned(), out.status.code().unwrap_or(-1))
}

#[test]
fn a_cluster_is_read_with_a_hash_tagged_prefix_and_refused_without_one() {
    let nodes = cluster();
    let seeds: Vec<String> = nodes.iter().map(|n| format!("redis://127.0.0.1:{}/", n.port)).collect();
    let client = redis::cluster::ClusterClient::new(seeds).expect("cluster client");
    let mut c = client.get_connection().expect("cluster connection");
    let now = chrono::Utc::now().timestamp_millis();
    for (i, status) in ["queued", "queued", "failed"].iter().enumerate() {
        let id = format!("job-{i}");
        let key = format!("{{mcp}}:job:{id}");
        redis::cmd("HSET").arg(&key).arg("id").arg(&id).arg("status").arg(*status).exec(&mut c).expect("hset");
        redis::cmd("ZADD").arg("{mcp}:jobs").arg(now + i as i64).arg(&id).exec(&mut c).expect("zadd");
        redis::cmd("ZADD")
            .arg(format!("{{mcp}}:jobs:{status}"))
            .arg(now + i as i64)
            .arg(&id)
            .exec(&mut c)
            .expect("zadd");
        if *status == "queued" {
            redis::cmd("LPUSH")
                .arg("{mcp}:queue:analysis")
                .arg(format!("{{\"job_id\":\"{id}\"}}"))
                .exec(&mut c)
                .expect("lpush");
        }
    }
    // The node the config names is not necessarily the one that owns the slot: ask each.
    let slot: u16 = redis::cmd("CLUSTER").arg("KEYSLOT").arg("{mcp}").query(&mut c).expect("keyslot");
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("config.toml");
    for n in &nodes {
        std::fs::write(
            &config,
            format!("[contexts.c]\nredis_url = \"redis://127.0.0.1:{}/0\"\nredis_cluster = true\nkey_prefix = \"{{mcp}}:\"\n", n.port),
        )
        .expect("config");
        let (v, stderr, code) = status(&config);
        assert_eq!(code, 0, "through node {} (slot {slot}): {v} {stderr}", n.port);
        assert_eq!(v["queues"][0]["length"], 2, "{v}");
        assert_eq!(v["jobs"]["total"], 3, "{v}");
        assert_eq!(v["jobs"]["by_status"]["failed"], 1, "{v}");
    }

    std::fs::write(
        &config,
        format!("[contexts.c]\nredis_url = \"redis://127.0.0.1:{}/0\"\nredis_cluster = true\n", nodes[0].port),
    )
    .expect("config");
    let (_, stderr, code) = status(&config);
    assert_eq!(code, 2, "refused at start: {stderr}");
    assert!(stderr.contains("contexts.c.key_prefix") && stderr.contains("hash tag"), "{stderr}");
}
