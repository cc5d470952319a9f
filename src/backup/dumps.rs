//! Reading each source into its spool file, hashed as it streams: `pg_dump -Fc` of a database,
//! the Redis prefix as records, the server's RDB snapshot.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Instant;

use chrono::Utc;
use sha2::Digest;

use super::archive::Hashing;
use super::progress::{Meter, Progress};
use super::{Item, Kind, Plan, redis_dump};

/// The first line of `tool --version`.
fn version(tool: &Path) -> Option<String> {
    let out = Command::new(tool).arg("--version").output().ok()?;
    String::from_utf8_lossy(&out.stdout).lines().next().map(|l| l.trim().to_string())
}

pub(super) fn dump_database(
    plan: &Plan,
    db: &super::Database,
    spool: &Path,
    meter: &Mutex<Meter>,
    report: &(dyn Fn(&Progress) + Sync),
) -> Result<(Item, PathBuf), String> {
    let started_at = Utc::now();
    let t = Instant::now();
    let member = format!("postgres/{}.dump", db.name);
    let path = spool.join(format!("{}.dump", db.name));
    let mut cmd = Command::new(&plan.pg_dump);
    cmd.arg("--format=custom")
        .arg(format!("--compress={}", plan.pg_dump_compress))
        .arg("--no-password")
        .arg("--dbname")
        .arg(&db.url);
    if let Some(pw) = &db.password {
        // The password goes by the environment, never on a command line others can read.
        cmd.env("PGPASSWORD", pw.expose());
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e} (set backup.pg_dump)", plan.pg_dump.display()))?;
    let mut out = Hashing::spool(&path)?;
    let mut stdout = child.stdout.take().ok_or("pg_dump: no output")?;
    let mut stderr = child.stderr.take().ok_or("pg_dump: no error stream")?;
    let errors = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = stdout.read(&mut buf).map_err(|e| format!("reading pg_dump: {e}"))?;
        if n == 0 {
            break;
        }
        out.write_all(&buf[..n]).map_err(|e| format!("spooling the dump: {e}"))?;
        meter.lock().unwrap_or_else(|e| e.into_inner()).add(n as u64, report);
    }
    out.flush().map_err(|e| format!("spooling the dump: {e}"))?;
    let status = child.wait().map_err(|e| format!("pg_dump: {e}"))?;
    let stderr = errors.join().unwrap_or_default();
    if !status.success() {
        let first = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("no message").to_string();
        let hint = if stderr.contains("server version mismatch") {
            " — this pg_dump is older than the server: set backup.pg_dump to one of the server's major version"
        } else {
            ""
        };
        return Err(format!("pg_dump of {} failed: {first}{hint}", db.name));
    }
    let (sha, bytes) = (hex::encode(out.hash.finalize()), out.bytes);
    let (server_version, _) = dump_versions(&plan.pg_restore, &path);
    let item = Item {
        name: member,
        kind: Kind::Postgres,
        source: redact_url(&db.url),
        bytes,
        sha256: sha,
        tool: Some(format!("pg_dump -Fc -Z{}", plan.pg_dump_compress)),
        tool_version: version(&plan.pg_dump),
        server_version,
        records: None,
        files: vec![],
        started_at,
        seconds: t.elapsed().as_secs_f64(),
    };
    Ok((item, path))
}

/// The server and pg_dump versions a dump's header names (`pg_restore --list`).
fn dump_versions(pg_restore: &Path, dump: &Path) -> (Option<String>, Option<String>) {
    let Ok(out) = Command::new(pg_restore).arg("--list").arg(dump).output() else { return (None, None) };
    let text = String::from_utf8_lossy(&out.stdout);
    let find = |label: &str| text.lines().find_map(|l| l.split_once(label).map(|(_, v)| v.trim().to_string()));
    (find("Dumped from database version:"), find("Dumped by pg_dump version:"))
}

pub(super) fn dump_redis(
    plan: &Plan,
    r: &super::RedisSource,
    spool: &Path,
    meter: &Mutex<Meter>,
    report: &(dyn Fn(&Progress) + Sync),
) -> Result<(Item, PathBuf), String> {
    let started_at = Utc::now();
    let t = Instant::now();
    let member = "redis/keys.records".to_string();
    // Resolved once (the Sentinel master, the cluster node): both connections go to one server.
    let url = r.current_url(plan.timeout)?;
    let connect = || super::archive::connect_to(&url, r.password.as_ref(), plan.timeout);
    let mut conn = connect()?;
    let server_version: Option<String> = redis::cmd("INFO")
        .arg("server")
        .query::<String>(&mut conn)
        .ok()
        .and_then(|i| i.lines().find_map(|l| l.strip_prefix("redis_version:").map(|v| v.trim().to_string())));
    let path = spool.join("keys.records");
    let mut out = Hashing::spool(&path)?;
    let mut scan = connect()?;
    let records = redis_dump::dump(&mut scan, &mut conn, &r.prefix, &mut out, &mut |n| {
        meter.lock().unwrap_or_else(|e| e.into_inner()).add(n, report)
    })?;
    out.flush().map_err(|e| format!("spooling the Redis records: {e}"))?;
    let (sha, bytes) = (hex::encode(out.hash.finalize()), out.bytes);
    let item = Item {
        name: member,
        kind: Kind::Redis,
        source: format!("{} (keys {}*)", redact_url(&url), r.prefix),
        bytes,
        sha256: sha,
        tool: Some("SCAN + DUMP/PTTL".into()),
        tool_version: None,
        server_version,
        records: Some(records),
        files: vec![],
        started_at,
        seconds: t.elapsed().as_secs_f64(),
    };
    Ok((item, path))
}

/// The server's whole RDB snapshot, as `redis-cli --rdb` fetches it.
pub(super) fn snapshot_redis(
    plan: &Plan,
    r: &super::RedisSource,
    spool: &Path,
    meter: &Mutex<Meter>,
    report: &(dyn Fn(&Progress) + Sync),
) -> Result<(Item, PathBuf), String> {
    let started_at = Utc::now();
    let t = Instant::now();
    let path = spool.join("dump.rdb");
    let mut out = Hashing::spool(&path)?;
    super::rdb::fetch(r, plan.timeout, &mut out, &mut |n| {
        meter.lock().unwrap_or_else(|e| e.into_inner()).add(n, report)
    })?;
    out.flush().map_err(|e| format!("spooling the RDB snapshot: {e}"))?;
    let item = Item {
        name: "redis/dump.rdb".into(),
        kind: Kind::Redis,
        source: redact_url(&r.url),
        bytes: out.bytes,
        sha256: hex::encode(out.hash.finalize()),
        tool: Some("SYNC (RDB snapshot)".into()),
        tool_version: None,
        server_version: None,
        records: None,
        files: vec![],
        started_at,
        seconds: t.elapsed().as_secs_f64(),
    };
    Ok((item, path))
}

/// A URL without its user info (config refuses passwords in URLs; this is belt and braces).
fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.rsplit_once('@').map(|(_, h)| h).unwrap_or(rest);
            format!("{scheme}://{host}")
        }
        None => url.to_string(),
    }
}
