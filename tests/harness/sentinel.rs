//! Redis behind Sentinel (SERVICES.md): a master, a replica and three sentinels on loopback, each
//! a child of the test with a fresh config, and a forced failover.

use std::process::Command;
use std::time::Duration;

use super::{HANG_GUARD, Service, eventually, free_port, require};

pub const MASTER_NAME: &str = "mymaster";

pub struct SentinelSet {
    pub master: Service,
    pub replica: Service,
    pub sentinels: Vec<Service>,
}

fn redis_server(name: &'static str, replica_of: Option<u16>) -> Service {
    let bin = require("redis-server", "redis-server");
    let port = free_port();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cmd = Command::new(bin);
    cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .args(["--repl-diskless-sync-delay", "0", "--protected-mode", "no", "--daemonize", "no", "--dir"])
        .arg(dir.path());
    if let Some(m) = replica_of {
        cmd.args(["--replicaof", "127.0.0.1", &m.to_string()]);
    }
    Service::start(name, port, dir, cmd, ping)
}

fn ping(port: u16) -> bool {
    redis::Client::open(format!("redis://127.0.0.1:{port}/"))
        .and_then(|c| c.get_connection_with_timeout(Duration::from_millis(200)))
        .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
        .is_ok()
}

fn query(port: u16, args: &[&str]) -> redis::RedisResult<redis::Value> {
    let mut c = redis::Client::open(format!("redis://127.0.0.1:{port}/"))?
        .get_connection_with_timeout(Duration::from_secs(2))?;
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(&mut c)
}

impl SentinelSet {
    /// Master, replica (in sync) and three sentinels that all see each other and the replica.
    pub fn start() -> SentinelSet {
        let master = redis_server("redis-master", None);
        let replica = redis_server("redis-replica", Some(master.port));
        let synced = eventually(HANG_GUARD, || {
            let info: String = redis::Client::open(format!("redis://127.0.0.1:{}/", replica.port))
                .and_then(|c| c.get_connection())
                .and_then(|mut c| redis::cmd("INFO").arg("replication").query(&mut c))
                .unwrap_or_default();
            info.contains("master_link_status:up")
        });
        assert!(synced, "the replica never synced with the master");
        let bin = require("redis-sentinel", "redis-sentinel");
        let sentinels: Vec<Service> = (0..3)
            .map(|_| {
                let port = free_port();
                let dir = tempfile::tempdir().expect("temp dir");
                let conf = dir.path().join("sentinel.conf");
                let text = format!(
                    "port {port}\nbind 127.0.0.1\ndaemonize no\nprotected-mode no\ndir {dir}\n\
                     logfile {dir}/sentinel-file.log\nsentinel announce-ip 127.0.0.1\n\
                     sentinel monitor {MASTER_NAME} 127.0.0.1 {m} 2\n\
                     sentinel down-after-milliseconds {MASTER_NAME} 1000\n\
                     sentinel failover-timeout {MASTER_NAME} 5000\n",
                    dir = dir.path().display(),
                    m = master.port,
                );
                std::fs::write(&conf, text).expect("sentinel config");
                let mut cmd = Command::new(&bin);
                cmd.arg(&conf);
                Service::start("redis-sentinel", port, dir, cmd, ping)
            })
            .collect();
        let set = SentinelSet { master, replica, sentinels };
        let ready = eventually(HANG_GUARD, || {
            set.sentinels.iter().all(|s| {
                let info = set.sentinel_master_info(s.port);
                info.get("num-slaves").map(String::as_str) == Some("1")
                    && info.get("num-other-sentinels").map(String::as_str) == Some("2")
            })
        });
        assert!(ready, "the sentinels never saw the replica and each other");
        set
    }

    /// `host:port` of every sentinel, for `redis_sentinels`.
    pub fn addrs(&self) -> Vec<String> {
        self.sentinels.iter().map(|s| format!("127.0.0.1:{}", s.port)).collect()
    }

    /// `SENTINEL master mymaster` as a map.
    pub fn sentinel_master_info(&self, port: u16) -> std::collections::BTreeMap<String, String> {
        let v = query(port, &["SENTINEL", "master", MASTER_NAME]).unwrap_or(redis::Value::Nil);
        let items: Vec<String> = redis::from_redis_value(v).unwrap_or_default();
        items.chunks(2).filter_map(|p| Some((p.first()?.clone(), p.get(1)?.clone()))).collect()
    }

    /// The master's port as the first sentinel says.
    pub fn master_port(&self) -> Option<u16> {
        let v = query(self.sentinels[0].port, &["SENTINEL", "get-master-addr-by-name", MASTER_NAME]).ok()?;
        let addr: Vec<String> = redis::from_redis_value(v).ok()?;
        addr.get(1)?.parse().ok()
    }

    /// Whether a failover can be forced now: every sentinel sees the master, the two others and
    /// a replica whose link to the master is up (after a failover the old master comes back as
    /// a replica only after ~10 s, and Sentinel learns its link is up at its next INFO).
    pub fn ready_for_failover(&self) -> bool {
        self.sentinels.iter().all(|s| {
            let info = self.sentinel_master_info(s.port);
            let v = query(s.port, &["SENTINEL", "REPLICAS", MASTER_NAME]).unwrap_or(redis::Value::Nil);
            let replicas: Vec<Vec<String>> = redis::from_redis_value(v).unwrap_or_default();
            let linked = replicas.iter().any(|r| {
                let field =
                    |k: &str| r.chunks(2).find(|p| p.first().map(String::as_str) == Some(k)).and_then(|p| p.get(1));
                field("flags").map(String::as_str) == Some("slave")
                    && field("master-link-status").map(String::as_str) == Some("ok")
            });
            info.get("flags").map(String::as_str) == Some("master")
                && info.get("num-other-sentinels").map(String::as_str) == Some("2")
                && linked
        })
    }

    /// Force a failover and wait until the first sentinel names the replica as master.
    pub fn failover(&self) {
        assert!(eventually(HANG_GUARD, || self.ready_for_failover()), "Sentinel never ready for a failover");
        let before = self.master_port();
        query(self.sentinels[0].port, &["SENTINEL", "FAILOVER", MASTER_NAME]).expect("SENTINEL FAILOVER");
        let moved = eventually(HANG_GUARD, || {
            let now = self.master_port();
            now.is_some() && now != before
        });
        assert!(moved, "Sentinel never reported a new master");
    }

    pub fn conn(&self, port: u16) -> redis::Connection {
        redis::Client::open(format!("redis://127.0.0.1:{port}/0")).and_then(|c| c.get_connection()).expect("redis")
    }
}
