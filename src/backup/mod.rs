//! Backups (CONTRACT.md §6): one archive `mcp-backup-<YYYYMMDDTHHMMSSZ>.tar.gz` (or `.tar.zst`)
//! holding `pg_dump -Fc` of each database, the context's Redis keys as DUMP/RESTORE records, the
//! configured directories, and `manifest.json` with a sha256 and size per member, computed while
//! the data streams. Written under a temporary name, fsynced, renamed; nothing is overwritten;
//! one backup at a time per directory. The engine is synchronous (files, child processes, a
//! blocking Redis connection) and runs on a blocking thread; progress goes to a callback.

pub mod archive;
mod dumps;
mod estimate;
mod files;
mod lock;
pub mod progress;
pub mod prune;
pub mod rdb;
mod redis_dump;
mod redis_source;
pub mod restore;
pub mod verify;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::Settings;
use crate::domain::Secret;

pub use archive::run;
pub use estimate::estimate;
pub use progress::{Progress, ProgressSink};
pub use redis_source::RedisSource;
pub use verify::verify;

/// How archives are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    #[default]
    Gzip,
    Zstd,
}

impl Compression {
    pub fn extension(self) -> &'static str {
        match self {
            Compression::Gzip => "tar.gz",
            Compression::Zstd => "tar.zst",
        }
    }
}

/// What an archive member holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Postgres,
    Redis,
    Files,
}

impl Kind {
    pub fn parse(s: &str) -> Result<Kind, String> {
        match s.trim() {
            "postgres" => Ok(Kind::Postgres),
            "redis" => Ok(Kind::Redis),
            "files" => Ok(Kind::Files),
            other => Err(format!("{other:?} is not one of postgres, redis, files")),
        }
    }
}

/// One file of a `files` item.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct FileEntry {
    /// The member's path in the archive (`files/<name>/…`).
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

/// One item of a backup, as the manifest records it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Item {
    /// The member's path (`postgres/mcp.dump`, `redis/keys.records`), or the directory
    /// (`files/<name>/`) of a files item.
    pub name: String,
    pub kind: Kind,
    /// Where it came from: a URL without credentials, or a path.
    pub source: String,
    pub bytes: u64,
    /// Of the member; of a files item, of its file list (`sha256  path` lines).
    pub sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileEntry>,
    pub started_at: DateTime<Utc>,
    pub seconds: f64,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Manifest {
    pub format_version: u32,
    pub created_at: DateTime<Utc>,
    pub host: String,
    pub context: String,
    pub mcptop_version: String,
    pub compression: Compression,
    pub items: Vec<Item>,
}

pub const FORMAT_VERSION: u32 = 2;

/// A database to dump.
#[derive(Debug, Clone)]
pub struct Database {
    /// From the URL's path: the member is `postgres/<name>.dump`.
    pub name: String,
    pub url: String,
    pub password: Option<Secret>,
}

/// Which archives retention keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Retention {
    pub keep_last: Option<usize>,
    pub keep_daily: Option<usize>,
    pub keep_weekly: Option<usize>,
}

impl Retention {
    pub fn configured(&self) -> bool {
        self.keep_last.is_some() || self.keep_daily.is_some() || self.keep_weekly.is_some()
    }
}

/// Everything a backup of one context needs, resolved from its settings.
#[derive(Debug, Clone)]
pub struct Plan {
    pub context: String,
    pub dir: PathBuf,
    pub compression: Compression,
    pub databases: Vec<Database>,
    pub redis: Option<RedisSource>,
    /// Also a full RDB snapshot of the Redis server.
    pub rdb: bool,
    /// (name, directory): the name is the directory's last component, made unique.
    pub paths: Vec<(String, PathBuf)>,
    pub pg_dump: PathBuf,
    /// pg_dump's gzip level (`-Z`).
    pub pg_dump_compress: u8,
    pub pg_restore: PathBuf,
    pub retention: Retention,
    pub max_age_h: Option<u64>,
    /// Only these kinds (`--only`); all when empty.
    pub only: Vec<Kind>,
    pub timeout: std::time::Duration,
}

impl Plan {
    /// The plan of the context `settings` describe; `None` without a `[backup]` table.
    pub fn from_settings(s: &Settings) -> Option<Plan> {
        let b = s.context.backup.as_ref()?;
        let databases: Vec<Database> = match &b.databases {
            Some(dbs) => dbs
                .iter()
                .zip(s.backup_passwords.iter().chain(std::iter::repeat(&None)))
                .map(|(d, pw)| Database { name: db_name(&d.url), url: d.url.clone(), password: pw.clone() })
                .collect(),
            None => s
                .context
                .knowledge_base
                .as_ref()
                .map(|kb| Database {
                    name: db_name(&kb.database_url),
                    url: kb.database_url.clone(),
                    password: s.kb_password.clone(),
                })
                .into_iter()
                .collect(),
        };
        // Two databases of one name (on two hosts) get two members.
        let mut databases = databases;
        for i in 1..databases.len() {
            let base = databases[i].name.clone();
            let mut n = 2;
            while databases[..i].iter().any(|d| d.name == databases[i].name) {
                databases[i].name = format!("{base}-{n}");
                n += 1;
            }
        }
        let c = &s.context;
        let sentinel =
            c.redis_master.clone().filter(|_| !c.redis_sentinels.is_empty()).map(|m| (c.redis_sentinels.clone(), m));
        let url = c.redis_url.clone().or_else(|| sentinel.as_ref().map(|_| "redis://127.0.0.1/".to_string()));
        let redis = url.filter(|_| b.redis).map(|url| RedisSource {
            url,
            password: s.redis_password.clone(),
            prefix: c.key_prefix.clone(),
            sentinel,
            cluster: c.redis_cluster,
        });
        let mut paths: Vec<(String, PathBuf)> = Vec::new();
        for p in &b.paths {
            let base = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "root".into());
            let base: String =
                base.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
            let mut name = base.clone();
            let mut n = 2;
            while paths.iter().any(|(x, _)| *x == name) {
                name = format!("{base}-{n}");
                n += 1;
            }
            paths.push((name, p.clone()));
        }
        Some(Plan {
            context: s.context_name.clone(),
            dir: b.dir.clone(),
            compression: b.compression,
            databases,
            redis,
            rdb: b.redis_rdb,
            paths,
            pg_dump: b.pg_dump.clone().unwrap_or_else(|| "pg_dump".into()),
            pg_dump_compress: b.pg_dump_compress,
            pg_restore: b.pg_restore.clone().unwrap_or_else(|| "pg_restore".into()),
            retention: Retention { keep_last: b.keep_last, keep_daily: b.keep_daily, keep_weekly: b.keep_weekly },
            max_age_h: b.max_age_h,
            only: Vec::new(),
            timeout: s.context.timeout(),
        })
    }

    pub fn includes(&self, kind: Kind) -> bool {
        self.only.is_empty() || self.only.contains(&kind)
    }

    /// What a backup of this plan holds, for a confirmation: `postgres mcp, redis mcp:*, files data`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.includes(Kind::Postgres) {
            parts.extend(self.databases.iter().map(|d| format!("postgres {}", d.name)));
        }
        if let Some(r) = self.redis.as_ref().filter(|_| self.includes(Kind::Redis)) {
            parts.push(format!("redis {}*", r.prefix));
        }
        if self.includes(Kind::Files) {
            parts.extend(self.paths.iter().map(|(n, _)| format!("files {n}")));
        }
        if parts.is_empty() { "nothing".into() } else { parts.join(", ") }
    }

    /// Every secret of the plan, to scrub from messages.
    pub fn secrets(&self) -> Vec<Secret> {
        self.databases
            .iter()
            .filter_map(|d| d.password.clone())
            .chain(self.redis.as_ref().and_then(|r| r.password.clone()))
            .collect()
    }
}

/// The database's name from its URL (`postgres://u@h:5432/mcp?x` → `mcp`).
fn db_name(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let path = rest.split_once('/').map(|(_, p)| p).unwrap_or("");
    let name = path.split(['?', '#']).next().unwrap_or("");
    let clean: String = name.chars().filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c)).collect();
    if clean.is_empty() { "postgres".into() } else { clean }
}

/// An archive in the backup directory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArchiveInfo {
    pub path: PathBuf,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub bytes: u64,
    /// From the manifest beside it (`<archive>.manifest.json`), when there is one.
    pub items: Vec<String>,
    /// `ok`, `failed: …`, or none when never verified.
    pub verified: Option<String>,
}

/// The archives in `dir`, newest first. Partial ones (a run that died) are not listed.
pub fn list(dir: &Path) -> Result<Vec<ArchiveInfo>, String> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(format!("cannot read {}: {}", dir.display(), e.kind())),
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(created_at) = archive_time(&name) else { continue };
        let path = entry.path();
        let bytes = entry.metadata().map(|m| m.len()).unwrap_or(0);
        let items = std::fs::read(sidecar(&path, "manifest.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<Manifest>(&b).ok())
            .map(|m| m.items.iter().map(|i| i.name.clone()).collect())
            .unwrap_or_default();
        let verified = std::fs::read_to_string(sidecar(&path, "verified")).ok().map(|s| s.trim().to_string());
        out.push(ArchiveInfo { path, name, created_at, bytes, items, verified });
    }
    out.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.name.cmp(&a.name)));
    Ok(out)
}

/// The time in an archive's name, if it is one: `mcp-backup-20261122T030000Z.tar.gz`.
pub fn archive_time(name: &str) -> Option<DateTime<Utc>> {
    let rest = name.strip_prefix("mcp-backup-")?;
    let (stamp, ext) = rest.split_once('.')?;
    if ext != "tar.gz" && ext != "tar.zst" {
        return None;
    }
    chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ").ok().map(|t| t.and_utc())
}

/// A file beside an archive: `<archive>.<suffix>`.
pub fn sidecar(archive: &Path, suffix: &str) -> PathBuf {
    let mut s = archive.as_os_str().to_owned();
    s.push(".");
    s.push(suffix);
    PathBuf::from(s)
}

/// This machine's name (also the audit log's actor's host).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse() {
        assert_eq!(db_name("postgres://mcp@db:5432/kb?sslmode=require"), "kb");
        assert_eq!(db_name("postgres://db"), "postgres");
        let t = archive_time("mcp-backup-20261122T030000Z.tar.zst").map(|t| t.to_rfc3339());
        assert_eq!(t.as_deref(), Some("2026-11-22T03:00:00+00:00"));
        assert_eq!(archive_time("mcp-backup-20261122T030000Z.tar.gz.partial"), None);
        assert_eq!(archive_time(".mcp-backup-20261122T030000Z.tar.gz"), None);
    }
}
