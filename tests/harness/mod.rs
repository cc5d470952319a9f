//! The test harness: starts real services on free loopback ports in temporary directories, waits
//! until they are ready, and stops them by pid. A missing binary fails the test with the command
//! that installs it; nothing is ever skipped. Later services (PostgreSQL, Alertmanager,
//! Prometheus, dockerd) plug in as more `Service::start` callers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The longest a test waits for an outcome: a guard against a hang, never a measure of speed.
/// How fast things happen is measured by the benchmarks.
pub const HANG_GUARD: Duration = Duration::from_secs(60);

/// A free TCP port on 127.0.0.1 for a server, outside the kernel's ephemeral port range.
///
/// Not port 0: the kernel answers that from its ephemeral range
/// (`/proc/sys/net/ipv4/ip_local_port_range`), the same range it draws the local port of every
/// outgoing connection from. A server stopped and started again on its port (`Redis::stop`, then
/// `Redis::start_on`) would race every connection opened on the machine in between, any of which
/// may be given that port; and a connection to an unused port in that range can even connect to
/// itself. The kernel never hands out a port outside the range on its own, so one is picked at
/// random outside it, and kept only if no socket on the machine uses it (`/proc/net/tcp`,
/// `/proc/net/tcp6`) and it can be bound. This process never hands out a port twice, so tests
/// running in parallel cannot both pick one before either server has bound it, nor start a server
/// on the port another test uses as "nothing listening here".
pub fn free_port() -> u16 {
    use std::collections::BTreeSet;
    use std::hash::BuildHasher;
    use std::sync::Mutex;
    static GIVEN: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

    let range = outside_ephemeral_range();
    let span = u64::from(range.end - range.start);
    let start = std::collections::hash_map::RandomState::new().hash_one(std::process::id()) % span;
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    for i in 0..span {
        let port = range.start + u16::try_from((start + i) % span).expect("within the range");
        if given.contains(&port) || port_in_use(port) {
            continue;
        }
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            given.insert(port);
            return port;
        }
    }
    panic!("no free loopback port in {range:?}, outside the ephemeral range")
}

/// Ports the kernel never gives the local end of a connection: from 20000 up to the start of its
/// ephemeral range (32768–60999 by default), or, should the range start lower, above its end.
fn outside_ephemeral_range() -> std::ops::Range<u16> {
    let text = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap_or_default();
    let bounds: Vec<u16> = text.split_whitespace().filter_map(|n| n.parse().ok()).collect();
    let (low, high) = match bounds.as_slice() {
        &[low, high] => (low, high),
        _ => (32768, 60999),
    };
    if low > 21000 {
        20000..low
    } else if high < 64000 {
        high + 1..65535
    } else {
        panic!(
            "the ephemeral port range {low}-{high} leaves no ports for test servers; \
             narrow it: sysctl -w net.ipv4.ip_local_port_range=\"32768 60999\""
        )
    }
}

/// Whether any TCP socket on the machine (listening, connected or in TIME_WAIT, IPv4 or IPv6)
/// has `port` as its local port.
fn port_in_use(port: u16) -> bool {
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().any(|table| {
        std::fs::read_to_string(table).unwrap_or_default().lines().skip(1).any(|line| {
            line.split_whitespace()
                .nth(1)
                .and_then(|local| local.rsplit_once(':'))
                .and_then(|(_, hex)| u16::from_str_radix(hex, 16).ok())
                == Some(port)
        })
    })
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
    /// The signal that stops it quickly (`TERM`; PostgreSQL's fast shutdown is `INT`).
    pub stop_signal: &'static str,
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
        let mut svc = Service { name, port, child: Some(child), dir, stop_signal: "TERM" };
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

    /// Stop by pid: the stop signal, wait up to 10 s, then SIGKILL. Always reaps the child.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        let _ = Command::new("kill").arg(format!("-{}", self.stop_signal)).arg(child.id().to_string()).status();
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

pub mod crowdsec;
pub mod embeddings;
pub mod postgres;
pub mod sentinel;
pub mod standins;
pub mod zabbix;

/// A real redis-server.
pub struct Redis {
    pub svc: Service,
}

impl Redis {
    pub fn start() -> Redis {
        Self::start_on(free_port(), tempfile::tempdir().expect("temp dir"))
    }

    /// Start on a given port and directory (to restart a stopped server where it was). The port
    /// should come from `free_port`, outside the ephemeral range, so that nothing else on the
    /// machine can have been given it while the server was stopped.
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

/// An HTTP GET on loopback, returning the status code (for readiness checks).
pub fn http_status(port: u16, path: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_millis(500))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).ok()?;
    std::str::from_utf8(&buf[..n]).ok()?.split_whitespace().nth(1)?.parse().ok()
}

/// A real Alertmanager (Debian's prometheus-alertmanager), not clustered.
pub struct Alertmanager {
    pub svc: Service,
}

impl Alertmanager {
    pub fn start() -> Alertmanager {
        let bin = require("prometheus-alertmanager", "prometheus-alertmanager");
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let config = dir.path().join("am.yml");
        std::fs::write(&config, "route:\n  receiver: 'null'\n  group_wait: 1s\nreceivers:\n  - name: 'null'\n")
            .unwrap();
        let mut cmd = Command::new(bin);
        cmd.arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=");
        let svc = Service::start("alertmanager", port, dir, cmd, |p| http_status(p, "/-/ready") == Some(200));
        Alertmanager { svc }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.svc.port)
    }

    /// Post alerts as Prometheus does (`[PostableAlert]`), with `curl`-free plain HTTP.
    pub fn post_alerts(&self, alerts: &serde_json::Value) {
        let status = http_request(self.svc.port, "POST", "/api/v2/alerts", &alerts.to_string()).0;
        assert_eq!(status, 200, "posting alerts");
    }

    pub fn alerts(&self) -> serde_json::Value {
        let (status, body) = http_request(self.svc.port, "GET", "/api/v2/alerts", "");
        assert_eq!(status, 200);
        serde_json::from_str(&body).expect("alerts JSON")
    }

    pub fn silences(&self) -> serde_json::Value {
        let (status, body) = http_request(self.svc.port, "GET", "/api/v2/silences", "");
        assert_eq!(status, 200);
        serde_json::from_str(&body).expect("silences JSON")
    }
}

/// A small blocking HTTP/1.0 request on loopback: (status, body).
pub fn http_request(port: u16, method: &str, path: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let status = out.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

/// Debian's Redis exporter, watching a Redis.
pub struct RedisExporter {
    pub svc: Service,
}

impl RedisExporter {
    pub fn start(redis_port: u16) -> RedisExporter {
        Self::start_on(free_port(), redis_port)
    }

    pub fn start_on(port: u16, redis_port: u16) -> RedisExporter {
        let bin = require("prometheus-redis-exporter", "prometheus-redis-exporter");
        let mut cmd = Command::new(bin);
        cmd.arg(format!("-redis.addr=redis://127.0.0.1:{redis_port}"))
            .arg(format!("-web.listen-address=127.0.0.1:{port}"));
        let svc = Service::start("redis-exporter", port, tempfile::tempdir().expect("temp dir"), cmd, |p| {
            http_status(p, "/metrics") == Some(200)
        });
        RedisExporter { svc }
    }
}

/// A real Prometheus scraping the given targets every second.
pub struct Prometheus {
    pub svc: Service,
}

impl Prometheus {
    pub fn start(job: &str, targets: &[u16]) -> Prometheus {
        let bin = require("prometheus", "prometheus");
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let list: Vec<String> = targets.iter().map(|p| format!("'127.0.0.1:{p}'")).collect();
        let config = dir.path().join("prom.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 500ms\nscrape_configs:\n  - job_name: '{job}'\n    static_configs:\n      - targets: [{}]\n",
                list.join(", ")
            ),
        )
        .unwrap();
        let mut cmd = Command::new(bin);
        cmd.arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"));
        let svc = Service::start("prometheus", port, dir, cmd, |p| http_status(p, "/-/ready") == Some(200));
        Prometheus { svc }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.svc.port)
    }

    /// The health of every active target, from Prometheus itself.
    pub fn target_health(&self) -> Vec<String> {
        let (_, body) = http_request(self.svc.port, "GET", "/api/v1/targets", "");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        v.pointer("/data/activeTargets")
            .and_then(|t| t.as_array())
            .map(|a| a.iter().filter_map(|t| t["health"].as_str().map(String::from)).collect())
            .unwrap_or_default()
    }
}

/// A real dockerd on a socket of its own, with a busybox image built from the local
/// busybox-static binary (there is no registry here).
pub struct Dockerd {
    pub svc: Service,
    pub socket: PathBuf,
    docker: PathBuf,
}

pub const BUSYBOX_IMAGE: &str = "mcp-test-busybox:latest";

impl Dockerd {
    pub fn start() -> Dockerd {
        let bin = require("dockerd", "docker.io");
        let docker = require("docker", "docker.io");
        let busybox = require("busybox", "busybox-static");
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("docker");
        std::fs::create_dir_all(root.join("data")).unwrap();
        std::fs::create_dir_all(root.join("exec")).unwrap();
        std::fs::write(root.join("daemon.json"), "{}").unwrap();
        let socket = dir.path().join("docker.sock");
        let mut cmd = Command::new(bin);
        cmd.arg("--config-file")
            .arg(root.join("daemon.json"))
            .arg("--data-root")
            .arg(root.join("data"))
            .arg("--exec-root")
            .arg(root.join("exec"))
            .arg("--pidfile")
            .arg(root.join("dockerd.pid"))
            .arg("-H")
            .arg(format!("unix://{}", socket.display()))
            .args(["--bridge=none", "--iptables=false", "--ip6tables=false", "--ip-masq=false"]);
        let sock = socket.clone();
        let svc = Service::start("dockerd", 0, dir, cmd, move |_| unix_ping(&sock));
        let d = Dockerd { svc, socket, docker };
        // a busybox image, built from the local binary
        d.cli(&import_args(&busybox_rootfs(d.svc.dir.path(), &busybox)));
        d
    }

    pub fn endpoint(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// Run the docker CLI against this daemon; panics with its output on failure.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new(&self.docker).arg("-H").arg(self.endpoint()).args(args).output().expect("docker CLI");
        assert!(out.status.success(), "docker {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// When Docker emitted its last `event` (e.g. `health_status: unhealthy`) in the 30 s
    /// before `around`, in Unix nanoseconds.
    pub fn event_time_ns(&self, event: &str, around: chrono::DateTime<chrono::Utc>) -> Option<i64> {
        let since = (around - chrono::Duration::seconds(30)).timestamp().to_string();
        let until = (around + chrono::Duration::seconds(1)).timestamp().to_string();
        let filter = format!("event={event}");
        let out = self.cli(&[
            "events",
            "--since",
            &since,
            "--until",
            &until,
            "--filter",
            &filter,
            "--format",
            "{{.TimeNano}}",
        ]);
        out.lines().last().and_then(|l| l.trim().parse().ok())
    }

    /// The health Docker itself reports for a container.
    pub fn health(&self, name: &str) -> String {
        self.cli(&["inspect", "--format", "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}", name])
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        // Containers first (a shell as PID 1 ignores SIGTERM, and dockerd would wait 10 s for
        // each), then the daemon, then the mount it leaves behind.
        if let Ok(out) = Command::new(&self.docker).arg("-H").arg(self.endpoint()).args(["ps", "-aq"]).output() {
            let ids: Vec<String> = String::from_utf8_lossy(&out.stdout).split_whitespace().map(String::from).collect();
            if !ids.is_empty() {
                let _ =
                    Command::new(&self.docker).arg("-H").arg(self.endpoint()).args(["rm", "-f"]).args(&ids).output();
            }
        }
        self.svc.stop();
        let netns = self.svc.dir.path().join("docker/exec/netns/default");
        let _ = Command::new("umount").arg(&netns).output();
    }
}

/// A root filesystem of the busybox-static binary and its applets, as a tar to import as an
/// image (there is no registry here). Returns the tar's path, in `dir`.
fn busybox_rootfs(dir: &Path, busybox: &Path) -> PathBuf {
    let rootfs = dir.join("rootfs");
    for sub in ["bin", "etc", "tmp", "proc", "sys", "dev"] {
        std::fs::create_dir_all(rootfs.join(sub)).unwrap();
    }
    std::fs::copy(busybox, rootfs.join("bin/busybox")).unwrap();
    for applet in ["sh", "echo", "sleep", "cat", "test", "touch", "rm", "true", "false"] {
        std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(applet)).unwrap();
    }
    std::fs::write(rootfs.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    let tar = dir.join("rootfs.tar");
    let ok = Command::new("tar").arg("-C").arg(&rootfs).arg("-cf").arg(&tar).arg(".").status().unwrap().success();
    assert!(ok, "tar rootfs");
    tar
}

/// `docker import` / `podman import` of a rootfs tar as the test image.
fn import_args(tar: &Path) -> Vec<&str> {
    let tar = tar.to_str().expect("UTF-8 temp path");
    vec!["import", "--change", "CMD [\"/bin/sh\"]", "--change", "ENV PATH=/bin", tar, BUSYBOX_IMAGE]
}

/// `GET /_ping` on a unix socket answers `OK`.
fn unix_ping(socket: &Path) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::os::unix::net::UnixStream::connect(socket) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n").is_err() {
        return false;
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.ends_with("OK")
}

/// The real binary in a real terminal: a tmux server of its own running `mcptop ARGS` in one
/// pane. When mcptop exits, the pane prints its exit code and whether the terminal's canonical
/// mode came back (`icanon`, or `-icanon` if still raw), then waits so the screen can be read.
pub struct Tmux {
    bin: PathBuf,
    sock: String,
    _state: tempfile::TempDir,
}

impl Tmux {
    pub fn start(args: &str, width: u16, height: u16, env: &str) -> Tmux {
        let bin = require("tmux", "tmux");
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let sock = format!("mcptop-test-{}-{nanos}", std::process::id());
        let state = tempfile::tempdir().expect("temp dir");
        let cmd = format!(
            "{env} XDG_STATE_HOME={} {} {args}; echo EXITED $?; stty -a | grep -o -- '-*icanon'; sleep 60",
            state.path().display(),
            mcptop_bin().display()
        );
        let (w, h) = (width.to_string(), height.to_string());
        let ok = Command::new(&bin)
            .args(["-L", &sock, "new-session", "-d", "-x", &w, "-y", &h, "sh", "-c", &cmd])
            .status()
            .expect("tmux")
            .success();
        assert!(ok, "tmux new-session");
        Tmux { bin, sock, _state: state }
    }

    /// The tmux server's socket name (`tmux -L NAME`).
    pub fn socket(&self) -> &str {
        &self.sock
    }

    /// The program's state directory (`XDG_STATE_HOME`): its log and command history.
    pub fn state_dir(&self) -> &Path {
        self._state.path()
    }

    pub fn screen(&self) -> String {
        let out = Command::new(&self.bin).args(["-L", &self.sock, "capture-pane", "-p"]).output().expect("tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Wait until the screen contains `text`; panics with the screen otherwise.
    pub fn wait_for(&self, text: &str, timeout: Duration) {
        assert!(eventually(timeout, || self.screen().contains(text)), "{text:?} not on screen:\n{}", self.screen());
    }

    /// Type keys one at a time, as a person does: Esc followed at once by a key would reach
    /// the program as one Alt-key.
    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            Command::new(&self.bin).args(["-L", &self.sock, "send-keys", k]).status().expect("tmux");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Type text literally (no key names).
    pub fn type_text(&self, text: &str) {
        Command::new(&self.bin).args(["-L", &self.sock, "send-keys", "-l", text]).status().expect("tmux");
        std::thread::sleep(Duration::from_millis(100));
    }

    /// The mcptop process in the pane (a child of the pane's shell).
    pub fn mcptop_pid(&self) -> String {
        let out =
            Command::new(&self.bin).args(["-L", &self.sock, "list-panes", "-F", "#{pane_pid}"]).output().expect("tmux");
        let shell = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let out = Command::new("pgrep").args(["-P", &shell, "-x", "mcptop"]).output().expect("pgrep");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// mcptop exited with `code`, left the alternate screen and restored the terminal's modes.
    pub fn exited(&self, code: i32) {
        self.wait_for(&format!("EXITED {code}"), Duration::from_secs(5));
        // The mode line comes right after.
        eventually(Duration::from_secs(5), || self.screen().lines().any(|l| l.trim().ends_with("icanon")));
        let screen = self.screen();
        assert!(screen.lines().any(|l| l.trim() == "icanon"), "terminal mode restored:\n{screen}");
        assert!(!screen.contains("┏"), "alternate screen left:\n{screen}");
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new(&self.bin).args(["-L", &self.sock, "kill-server"]).status();
    }
}

/// A real `podman system service` (Podman's Docker-compatible API, 1.41), configured per
/// SERVICES.md to keep everything under its temporary directory. Health checks run only when
/// triggered (`healthcheck`).
pub struct Podman {
    pub svc: Service,
    pub socket: PathBuf,
    podman: PathBuf,
}

impl Podman {
    pub fn start() -> Podman {
        let podman = require("podman", "podman");
        let busybox = require("busybox", "busybox-static");
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        std::fs::create_dir_all(root.join("tmp")).unwrap();
        std::fs::write(
            root.join("containers.conf"),
            format!(
                "[containers]\nnetns=\"none\"\ndefault_ulimits=[\"nofile=20000:20000\",\"nproc=32768:32768\"]\n\
                 [engine]\nruntime=\"runc\"\ncgroup_manager=\"cgroupfs\"\nevents_logger=\"file\"\n\
                 events_logfile_path=\"{0}/events.log\"\ntmp_dir=\"{0}/tmp\"\nvolume_path=\"{0}/volumes\"\n",
                root.display()
            ),
        )
        .unwrap();
        std::fs::write(
            root.join("storage.conf"),
            format!("[storage]\ndriver=\"overlay\"\ngraphroot=\"{0}/graph\"\nrunroot=\"{0}/run\"\n", root.display()),
        )
        .unwrap();
        let socket = root.join("podman.sock");
        let mut cmd = Command::new(&podman);
        cmd.args(["system", "service", "--time=0"]).arg(format!("unix://{}", socket.display()));
        Self::env(&mut cmd, root);
        let sock = socket.clone();
        let svc = Service::start("podman", 0, dir, cmd, move |_| unix_ping(&sock));
        let p = Podman { svc, socket, podman };
        p.cli(&import_args(&busybox_rootfs(p.svc.dir.path(), &busybox)));
        p
    }

    fn env(cmd: &mut Command, root: &Path) {
        cmd.env("CONTAINERS_CONF", root.join("containers.conf"))
            .env("CONTAINERS_STORAGE_CONF", root.join("storage.conf"));
    }

    pub fn endpoint(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// Run the podman CLI on the same storage; panics with its output on failure.
    pub fn cli(&self, args: &[&str]) -> String {
        let mut cmd = Command::new(&self.podman);
        cmd.args(args);
        Self::env(&mut cmd, self.svc.dir.path());
        let out = cmd.output().expect("podman CLI");
        assert!(out.status.success(), "podman {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        // Containers outlive the API service (conmon keeps them): remove them, then stop it,
        // then unmount whatever overlay is left under the directory.
        let mut cmd = Command::new(&self.podman);
        cmd.args(["rm", "-f", "-a", "-t", "0"]);
        Self::env(&mut cmd, self.svc.dir.path());
        let _ = cmd.output();
        self.svc.stop();
        let root = self.svc.dir.path().display().to_string();
        // Should a container have survived, its conmon names our directory: end it too.
        let _ = Command::new("pkill").args(["-f", &format!("conmon .*{root}")]).output();
        if let Ok(mounts) = std::fs::read_to_string("/proc/self/mounts") {
            let mut ours: Vec<&str> =
                mounts.lines().filter_map(|l| l.split_whitespace().nth(1)).filter(|m| m.starts_with(&root)).collect();
            ours.sort_by_key(|m| std::cmp::Reverse(m.len()));
            for m in ours {
                let _ = Command::new("umount").arg(m).output();
            }
        }
    }
}
