//! The test harness: starts real services on free loopback ports in temporary directories, waits
//! until they are ready, and stops them by pid. A missing binary fails the test with the command
//! that installs it; nothing is ever skipped. Later services (PostgreSQL, Alertmanager,
//! Prometheus, dockerd) plug in as more `Service::start` callers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free TCP port on 127.0.0.1 (bind to port 0, read it, close).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("no free loopback port")
}

/// The path of a binary, or a panic that says how to install it.
pub fn require(binary: &str, package: &str) -> PathBuf {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .chain(["/usr/sbin".into(), "/usr/bin".into(), "/sbin".into()])
        .map(|d| d.join(binary))
        .find(|p| p.is_file());
    found.unwrap_or_else(|| {
        panic!(
            "`{binary}` is not installed. Install it with `apt-get install -y {package}` \
             (or run ./scripts/test, which installs everything the tests need)"
        )
    })
}

/// A running service: its process, port and temporary directory.
pub struct Service {
    pub name: &'static str,
    pub port: u16,
    child: Option<Child>,
    pub dir: tempfile::TempDir,
}

impl Service {
    /// Start `cmd` (already holding its arguments) and wait until `ready` says so.
    pub fn start(
        name: &'static str,
        port: u16,
        dir: tempfile::TempDir,
        mut cmd: Command,
        ready: impl Fn(u16) -> bool,
    ) -> Service {
        let log = std::fs::File::create(dir.path().join(format!("{name}.log"))).expect("log file");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let mut svc = Service { name, port, child: Some(child), dir };
        svc.wait_ready(ready);
        svc
    }

    fn wait_ready(&mut self, ready: impl Fn(u16) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if ready(self.port) {
                return;
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
                panic!("{} exited early ({status}):\n{log}", self.name);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "{} was not ready within 20 s:\n{}",
            self.name,
            std::fs::read_to_string(self.log_path()).unwrap_or_default()
        );
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join(format!("{}.log", self.name))
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// Stop by pid: SIGTERM, wait up to 10 s, then SIGKILL. Always reaps the child.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A real redis-server.
pub struct Redis {
    pub svc: Service,
}

impl Redis {
    pub fn start() -> Redis {
        Self::start_on(free_port(), tempfile::tempdir().expect("temp dir"))
    }

    /// Start on a given port and directory (to restart a stopped server where it was).
    pub fn start_on(port: u16, dir: tempfile::TempDir) -> Redis {
        let bin = require("redis-server", "redis-server");
        let data = dir.path().join("redis");
        std::fs::create_dir_all(&data).expect("redis dir");
        let mut cmd = Command::new(bin);
        cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--repl-diskless-sync-delay", "0", "--daemonize", "no", "--dir"])
            .arg(&data);
        let svc = Service::start("redis", port, dir, cmd, |port| {
            redis::Client::open(format!("redis://127.0.0.1:{port}/"))
                .and_then(|c| c.get_connection_with_timeout(Duration::from_millis(200)))
                .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
                .is_ok()
        });
        Redis { svc }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.svc.port)
    }

    pub fn conn(&self) -> redis::Connection {
        redis::Client::open(self.url()).and_then(|c| c.get_connection()).expect("redis connection")
    }

    /// Stop the server and give back its port and directory, to start it again later.
    pub fn stop(mut self) -> (u16, tempfile::TempDir) {
        self.svc.stop();
        let port = self.svc.port;
        let dir = std::mem::replace(&mut self.svc.dir, tempfile::tempdir().expect("temp dir"));
        (port, dir)
    }
}

/// Write one job the way the platform does (CONTRACT.md §1): the hash, the index and the status
/// set. `fields` may hold anything, hostile bytes included.
pub fn seed_job(
    conn: &mut redis::Connection,
    prefix: &str,
    id: &str,
    created_ms: i64,
    status: &str,
    fields: &[(&str, &[u8])],
) {
    let mut p = redis::pipe();
    let key = format!("{prefix}job:{id}");
    p.cmd("HSET").arg(&key).arg("id").arg(id).arg("status").arg(status);
    for (k, v) in fields {
        p.cmd("HSET").arg(&key).arg(*k).arg(*v);
    }
    p.cmd("ZADD").arg(format!("{prefix}jobs")).arg(created_ms).arg(id);
    p.cmd("ZADD").arg(format!("{prefix}jobs:{status}")).arg(created_ms).arg(id);
    p.query::<()>(conn).expect("seed job");
}

/// Push a job id onto a queue as the producers do (`LPUSH` of `{"job_id": …}`).
pub fn enqueue(conn: &mut redis::Connection, prefix: &str, queue: &str, id: &str) {
    redis::cmd("LPUSH")
        .arg(format!("{prefix}queue:{queue}"))
        .arg(format!(r#"{{"job_id":"{id}"}}"#))
        .query::<()>(conn)
        .expect("enqueue");
}

/// The project's built binary.
pub fn mcptop_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_mcptop"))
}

/// Poll `f` until it is true or `timeout` passes; returns whether it became true.
pub fn eventually(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    f()
}
