//! Backups against a real PostgreSQL 18 + pgvector and a real Redis: a round trip (back up,
//! wipe, restore, compare row for row and key for key), verify catching a flipped byte in each
//! kind of member, one run at a time, partial runs cleaned, and restore refusing archives that
//! would write outside their targets.
#![allow(clippy::disallowed_macros)] // a test or bench reports on its own terminal

mod harness;

use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use harness::postgres::{Postgres, bin_dir};
use harness::{Redis, mcptop_bin, seed_job};
use redis::Commands;

struct Setup {
    pg: Postgres,
    redis: Redis,
    dir: tempfile::TempDir,
    config: PathBuf,
    files: PathBuf,
}

impl Setup {
    fn start() -> Setup {
        let pg = Postgres::start();
        pg.psql("postgres", "CREATE DATABASE kb");
        pg.psql(
            "kb",
            "CREATE EXTENSION IF NOT EXISTS vector;
             CREATE TABLE mcp_knowledge (id bigserial PRIMARY KEY, text text, metadata jsonb, embedding vector(3));
             INSERT INTO mcp_knowledge (text, metadata, embedding)
               SELECT 'incident ' || i, jsonb_build_object('n', i), ARRAY[i, i * 2, 1]::vector(3) FROM generate_series(1, 500) i;
             CREATE INDEX mcp_knowledge_hnsw ON mcp_knowledge USING hnsw (embedding vector_cosine_ops);",
        );
        let redis = Redis::start();
        let mut c = redis.conn();
        let now = chrono::Utc::now().timestamp_millis();
        for i in 0..50 {
            seed_job(
                &mut c,
                "mcp:",
                &format!("j{i}"),
                now - i,
                "done",
                &[("hostname", b"db-01"), ("description", b"disk \xff full")],
            );
        }
        harness::enqueue(&mut c, "mcp:", "analysis", "j1");
        let _: () = c.set_ex("mcp:dedup:abc", "j1", 600).expect("ttl key");
        let _: () = c.pset_ex("mcp:lock:job:j2", "tok", 90_000).expect("ttl key");
        let _: () = c.set("other:key", "not ours").expect("other");
        let dir = tempfile::tempdir().expect("dir");
        let files = dir.path().join("volumes").join("data");
        std::fs::create_dir_all(files.join("sub")).expect("files");
        std::fs::write(files.join("a.txt"), "alpha").expect("file");
        std::fs::write(files.join("sub").join("b.bin"), vec![7u8; 100_000]).expect("file");
        std::os::unix::fs::symlink("sub/b.bin", files.join("link")).expect("symlink");
        // An empty directory, a mode, a time and (as root) another owner must come back.
        std::fs::create_dir_all(files.join("empty")).expect("empty dir");
        let a = std::fs::File::options().write(true).open(files.join("a.txt")).expect("a");
        a.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000)).expect("mtime");
        std::fs::set_permissions(files.join("a.txt"), std::fs::Permissions::from_mode(0o640)).expect("mode");
        std::fs::set_permissions(files.join("sub"), std::fs::Permissions::from_mode(0o750)).expect("mode");
        if is_root() {
            std::os::unix::fs::chown(files.join("sub").join("b.bin"), Some(65534), Some(65534)).expect("chown");
        }
        let config = dir.path().join("config.toml");
        let bin = bin_dir();
        std::fs::write(
            &config,
            format!(
                "[contexts.prod]\nredis_url = \"{}\"\n[contexts.prod.backup]\ndir = \"{}\"\nkeep_last = 5\n\
                 databases = [{{ url = \"{}\" }}]\npaths = [\"{}\"]\npg_dump = \"{}\"\npg_restore = \"{}\"\n",
                redis.url(),
                dir.path().join("backups").display(),
                pg.url_for("kb"),
                files.display(),
                bin.join("pg_dump").display(),
                bin.join("pg_restore").display()
            ),
        )
        .expect("config");
        Setup { pg, redis, dir, config, files }
    }

    fn mcptop(&self, args: &[&str]) -> Output {
        Command::new(mcptop_bin())
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .env("XDG_DATA_HOME", self.dir.path())
            .env("XDG_STATE_HOME", self.dir.path())
            .env("MCPTOP_TEST_REDIS_PW", "s3cret-acl")
            .output()
            .expect("mcptop")
    }

    fn backups(&self) -> PathBuf {
        self.dir.path().join("backups")
    }

    fn archive(&self) -> PathBuf {
        let out = self.mcptop(&["backup", "run", "--yes", "--output", "json"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let list = self.mcptop(&["backup", "list", "--output", "json"]);
        let v: serde_json::Value = serde_json::from_slice(&list.stdout).expect("list json");
        PathBuf::from(v[0]["path"].as_str().expect("an archive"))
    }

    fn rows(&self) -> String {
        self.pg.psql("kb", "SELECT md5(string_agg(id || text || metadata::text || embedding::text, ',' ORDER BY id)) FROM mcp_knowledge")
    }

    /// Every key of the prefix with its DUMP and remaining TTL.
    fn keys(&self) -> Vec<(String, Vec<u8>, i64)> {
        let mut c = self.redis.conn();
        let mut keys: Vec<String> = c.keys("mcp:*").expect("keys");
        keys.sort();
        keys.into_iter()
            .map(|k| {
                let dump: Vec<u8> = redis::cmd("DUMP").arg(&k).query(&mut c).expect("dump");
                let ttl: i64 = c.pttl(&k).expect("pttl");
                (k, dump, ttl)
            })
            .collect()
    }
}

/// Whether the tests run as root (files we create are then root's), so owners can be set.
fn is_root() -> bool {
    let probe = tempfile::tempfile().expect("probe");
    probe.metadata().is_ok_and(|m| m.uid() == 0)
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn back_up_wipe_restore_and_compare() {
    let s = Setup::start();
    let (rows, keys) = (s.rows(), s.keys());
    let archive = s.archive();
    assert!(
        archive
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("mcp-backup-") && n.ends_with(".tar.gz"))
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(format!("{}.manifest.json", archive.display())).expect("manifest"))
            .expect("json");
    let kinds: Vec<&str> =
        manifest["items"].as_array().expect("items").iter().filter_map(|i| i["kind"].as_str()).collect();
    assert_eq!(kinds, ["postgres", "redis", "files"]);
    assert_eq!(
        manifest["items"][1]["records"], 55,
        "50 jobs, their two index sets, the queue, two TTL keys: {manifest}"
    );
    assert!(manifest["items"][0]["server_version"].as_str().is_some_and(|v| v.starts_with("18")), "{manifest}");

    // Wipe everything, then restore.
    s.pg.psql("kb", "DROP TABLE mcp_knowledge");
    let _: () = redis::cmd("FLUSHALL").query(&mut s.redis.conn()).expect("flush");
    std::fs::remove_dir_all(&s.files).expect("rm");
    let wrong = s.mcptop(&["backup", "restore", archive.to_str().unwrap_or_default(), "--confirm", "staging"]);
    assert_eq!(wrong.status.code(), Some(3), "the context's name must be typed: {}", text(&wrong));
    let out =
        s.mcptop(&["backup", "restore", archive.to_str().unwrap_or_default(), "--confirm", "prod", "--output", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    assert_eq!(s.rows(), rows, "row for row");
    let plan = s.pg.psql("kb", "SELECT indexdef FROM pg_indexes WHERE indexname = 'mcp_knowledge_hnsw'");
    assert!(plan.contains("hnsw"), "the HNSW index is back: {plan}");
    let after = s.keys();
    assert_eq!(after.len(), keys.len());
    for ((k, v, t), (k2, v2, t2)) in keys.iter().zip(&after) {
        assert_eq!((k, v), (k2, v2), "key for key, value for value");
        assert!((t - t2).abs() <= 1000 || (*t < 0 && *t2 < 0), "{k}: TTL {t} then {t2}");
    }
    let other: Option<String> = s.redis.conn().get("other:key").expect("get");
    assert_eq!(other, None, "only the prefix is backed up (FLUSHALL removed the rest)");
    assert_eq!(std::fs::read_to_string(s.files.join("a.txt")).expect("a"), "alpha");
    assert_eq!(std::fs::read(s.files.join("sub/b.bin")).expect("b").len(), 100_000);
    assert_eq!(std::fs::read_link(s.files.join("link")).expect("link"), Path::new("sub/b.bin"));
    assert!(s.files.join("empty").is_dir(), "an empty directory comes back");
    let a = std::fs::metadata(s.files.join("a.txt")).expect("a");
    assert_eq!((a.mode() & 0o777, a.mtime()), (0o640, 1_700_000_000), "mode and time come back");
    assert_eq!(std::fs::metadata(s.files.join("sub")).expect("sub").mode() & 0o777, 0o750);
    if is_root() {
        let b = std::fs::metadata(s.files.join("sub/b.bin")).expect("b");
        assert_eq!((b.uid(), b.gid()), (65534, 65534), "the owner comes back when restoring as root");
    }

    let audit = s.mcptop(&["audit", "--output", "json"]);
    let records: serde_json::Value = serde_json::from_slice(&audit.stdout).expect("audit json");
    let actions: Vec<&str> = records.as_array().expect("records").iter().filter_map(|r| r["action"].as_str()).collect();
    assert!(actions.contains(&"backup") && actions.contains(&"restore"), "{actions:?}");
}

/// Decompress, flip one byte inside a member's data, compress again.
fn flip_byte_in(archive: &Path, member: &str) -> PathBuf {
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(archive).expect("open")).read_to_end(&mut raw).expect("gunzip");
    let mut offset = None;
    let mut tar = tar::Archive::new(raw.as_slice());
    for e in tar.entries().expect("entries") {
        let e = e.expect("entry");
        if e.path().expect("path").to_string_lossy() == member {
            offset = Some(e.raw_file_position() as usize + (e.size() as usize) / 2);
        }
    }
    let at = offset.unwrap_or_else(|| panic!("no member {member}"));
    raw[at] ^= 0x01;
    let out = archive.with_file_name("mcp-backup-20200101T000000Z.tar.gz");
    let mut gz =
        flate2::write::GzEncoder::new(std::fs::File::create(&out).expect("create"), flate2::Compression::fast());
    gz.write_all(&raw).expect("gzip");
    gz.finish().expect("finish");
    std::fs::copy(format!("{}.manifest.json", archive.display()), format!("{}.manifest.json", out.display()))
        .expect("manifest");
    out
}

#[test]
fn verify_names_the_member_with_a_flipped_byte_and_runs_are_one_at_a_time() {
    let s = Setup::start();
    let archive = s.archive();
    let ok = s.mcptop(&["backup", "verify", archive.to_str().unwrap_or_default()]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    for member in ["postgres/kb.dump", "redis/keys.records", "files/data/sub/b.bin"] {
        let bad = flip_byte_in(&archive, member);
        let out = s.mcptop(&["backup", "verify", bad.to_str().unwrap_or_default()]);
        assert_eq!(out.status.code(), Some(1), "{member}: {}", text(&out));
        assert!(text(&out).contains(member) && text(&out).contains("checksum mismatch"), "{member}: {}", text(&out));
        std::fs::remove_file(&bad).expect("rm");
    }
    // A truncated archive, and a foreign file, are clear errors.
    let bytes = std::fs::read(&archive).expect("read");
    let cut = s.backups().join("mcp-backup-20200101T000001Z.tar.gz");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("write");
    let out = s.mcptop(&["backup", "verify", cut.to_str().unwrap_or_default()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let foreign = s.backups().join("mcp-backup-20200101T000002Z.tar.gz");
    std::fs::write(&foreign, b"PK\x03\x04 a zip file").expect("write");
    let out = s.mcptop(&["backup", "restore", foreign.to_str().unwrap_or_default(), "--confirm", "prod"]);
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));

    // One at a time: a live holder is named; a dead one's lock is taken over; partials cleaned.
    let lock = s.backups().join(".mcptop-backup.lock");
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default().trim().to_string();
    std::fs::write(&lock, format!(r#"{{"host":"{host}","pid":1,"started_at":"2026-11-22T03:00:00Z"}}"#)).expect("lock");
    let out = s.mcptop(&["backup", "run", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("another backup is running: pid 1"), "{}", text(&out));
    std::fs::write(&lock, format!(r#"{{"host":"{host}","pid":4000000,"started_at":"2026-11-22T03:00:00Z"}}"#))
        .expect("lock");
    std::fs::write(s.backups().join(".mcp-backup-20200101T000003Z.tar.gz.partial"), b"half").expect("partial");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let out = s.mcptop(&["backup", "run", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("took over a stale lock") && text(&out).contains("removed .mcp-backup-"),
        "{}",
        text(&out)
    );
    assert!(!lock.exists(), "the lock is released");
    let names: Vec<String> = std::fs::read_dir(s.backups())
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.ends_with(".partial") || n.ends_with(".spool")), "{names:?}");
}

/// A gzip'd tar holding a manifest and the given raw entries.
fn hostile_archive(dir: &Path, name: &str, build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> PathBuf {
    let mut b = tar::Builder::new(Vec::new());
    build(&mut b);
    let manifest = br#"{"format_version":1,"created_at":"2026-11-22T03:00:00Z","host":"h","context":"prod","mcptop_version":"0","compression":"gzip","items":[]}"#;
    let mut h = tar::Header::new_gnu();
    h.set_size(manifest.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append_data(&mut h, "manifest.json", &manifest[..]).expect("manifest");
    let raw = b.into_inner().expect("tar");
    let path = dir.join(name);
    let mut gz =
        flate2::write::GzEncoder::new(std::fs::File::create(&path).expect("create"), flate2::Compression::fast());
    gz.write_all(&raw).expect("gzip");
    gz.finish().expect("finish");
    path
}

/// Write a raw tar header naming `path` (the tar crate refuses `..` and absolute paths itself).
fn raw_entry(b: &mut tar::Builder<Vec<u8>>, path: &str, kind: tar::EntryType, link: Option<&str>) {
    let mut h = tar::Header::new_old();
    {
        let bytes = h.as_old_mut();
        bytes.name[..path.len()].copy_from_slice(path.as_bytes());
        if let Some(l) = link {
            bytes.linkname[..l.len()].copy_from_slice(l.as_bytes());
        }
    }
    h.set_entry_type(kind);
    h.set_size(if kind == tar::EntryType::Regular { 4 } else { 0 });
    h.set_mode(0o644);
    h.set_cksum();
    let data: &[u8] = if kind == tar::EntryType::Regular { b"evil" } else { b"" };
    b.append(&h, data).expect("append");
}

#[test]
fn restore_refuses_members_that_would_write_outside() {
    let s = Setup::start();
    let dir = s.dir.path();
    let outside = dir.join("escaped");
    let cases: [(&str, &str, tar::EntryType, Option<&str>); 4] = [
        ("dotdot", "files/data/../../../escaped", tar::EntryType::Regular, None),
        ("absolute", "/tmp/mcptop-escaped", tar::EntryType::Regular, None),
        ("symlink", "files/data/l", tar::EntryType::Symlink, Some("../../../../etc")),
        ("hardlink", "files/data/h", tar::EntryType::Link, Some("/etc/passwd")),
    ];
    for (what, path, kind, link) in cases {
        let archive = hostile_archive(dir, &format!("mcp-backup-2020010{}T000000Z.tar.gz", what.len() % 9), |b| {
            raw_entry(b, path, kind, link)
        });
        let out = s.mcptop(&["backup", "restore", archive.to_str().unwrap_or_default(), "--confirm", "prod"]);
        assert_ne!(out.status.code(), Some(0), "{what}: {}", text(&out));
        assert!(text(&out).contains("refused"), "{what}: {}", text(&out));
        assert!(!outside.exists() && !Path::new("/tmp/mcptop-escaped").exists(), "{what}: nothing written outside");
        std::fs::remove_file(&archive).expect("rm");
    }
    // Links that look inside but lead out together: `a → .`, `b → a/a/a/a/../../../..`, then a
    // file through `b`.
    let archive = hostile_archive(dir, "mcp-backup-20200109T000000Z.tar.gz", |b| {
        raw_entry(b, "files/data/a", tar::EntryType::Symlink, Some("."));
        raw_entry(b, "files/data/b", tar::EntryType::Symlink, Some("a/a/a/a/../../../.."));
        raw_entry(b, "files/data/b/tmp/mcptop-escaped-2", tar::EntryType::Regular, None);
    });
    let out = s.mcptop(&["backup", "restore", archive.to_str().unwrap_or_default(), "--confirm", "prod"]);
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("refused"), "{}", text(&out));
    assert!(!Path::new("/tmp/mcptop-escaped-2").exists(), "nothing written outside");
}

#[test]
fn a_write_error_or_a_kill_leaves_nothing_partial_and_secrets_stay_out() {
    let s = Setup::start();
    // 8 MB that does not compress, so the archive outgrows a 4 MB limit.
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let noise: Vec<u8> = (0..8 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    std::fs::write(s.files.join("noise.bin"), noise).expect("noise");
    // A size limit on the process (as a small disk would): a clear error, nothing kept.
    let cmd = format!(
        "trap '' XFSZ; ulimit -f 8192; exec {} --config {} backup run --yes",
        mcptop_bin().display(),
        s.config.display()
    );
    let out = Command::new("sh")
        .args(["-c", &cmd])
        .env("XDG_DATA_HOME", s.dir.path())
        .env("XDG_STATE_HOME", s.dir.path())
        .output()
        .expect("sh");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("File too large") && text(&out).contains("nothing was kept"), "{}", text(&out));
    let left: Vec<String> = std::fs::read_dir(s.backups())
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(left.iter().all(|n| n == ".mcptop-backup.lock" || !n.starts_with("mcp-backup")), "{left:?}");
    assert!(!left.iter().any(|n| n.ends_with(".partial") || n.ends_with(".spool")), "cleaned at once: {left:?}");

    // Killed midway: no file under the final name; the next run removes what it left.
    let mut child = Command::new(mcptop_bin())
        .arg("--config")
        .arg(&s.config)
        .args(["backup", "run", "--yes"])
        .env("XDG_DATA_HOME", s.dir.path())
        .env("XDG_STATE_HOME", s.dir.path())
        .spawn()
        .expect("spawn");
    harness::eventually(std::time::Duration::from_secs(10), || {
        std::fs::read_dir(s.backups())
            .map(|d| d.flatten().any(|e| e.file_name().to_string_lossy().ends_with(".spool")))
            .unwrap_or(false)
    });
    let _ = child.kill();
    let _ = child.wait();
    let finals = |dir: &Path| {
        std::fs::read_dir(dir)
            .map(|d| d.flatten().filter(|e| backup_name(&e.file_name().to_string_lossy())).count())
            .unwrap_or(0)
    };
    let before = finals(&s.backups());
    let out = s.mcptop(&["backup", "run", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(finals(&s.backups()), before + 1);
    let left: Vec<String> = std::fs::read_dir(s.backups())
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!left.iter().any(|n| n.ends_with(".partial") || n.ends_with(".spool") || n.ends_with(".lock")), "{left:?}");

    // An archive of another context asks for that context's name as well.
    let archive = std::fs::read_dir(s.backups())
        .expect("dir")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".tar.gz"))
        .expect("an archive");
    let other = s.dir.path().join("other.toml");
    let config = std::fs::read_to_string(&s.config).expect("config").replace("[contexts.prod", "[contexts.staging");
    std::fs::write(&other, config).expect("write");
    let run = |confirm: &str| {
        Command::new(mcptop_bin())
            .args([
                "--config",
                other.to_str().unwrap_or_default(),
                "backup",
                "restore",
                archive.to_str().unwrap_or_default(),
            ])
            .args(["--confirm", confirm, "--only", "files"])
            .env("XDG_DATA_HOME", s.dir.path())
            .env("XDG_STATE_HOME", s.dir.path())
            .output()
            .expect("mcptop")
    };
    let only_ours = run("staging");
    assert_eq!(only_ours.status.code(), Some(3), "{}", text(&only_ours));
    assert!(text(&only_ours).contains("\"prod\""), "names the archive's context: {}", text(&only_ours));
    let both = run("staging,prod");
    assert_eq!(both.status.code(), Some(0), "{}", text(&both));

    // A database password, given by reference, reaches no manifest, log, error or audit record.
    let secret = "pg-SECRET-7f3a9c2b";
    let with_pw = std::fs::read_to_string(&s.config).expect("config").replace(
        &format!("url = \"{}\" }}", s.pg.url_for("kb")),
        &format!("url = \"{}\", password = \"env:T_PG\" }}", s.pg.url_for("kb")),
    );
    std::fs::write(&s.config, with_pw).expect("write");
    let out = Command::new(mcptop_bin())
        .args(["--config", s.config.to_str().unwrap_or_default(), "--log-level", "trace", "backup", "run", "--yes"])
        .env("T_PG", secret)
        .env("XDG_DATA_HOME", s.dir.path())
        .env("XDG_STATE_HOME", s.dir.path())
        .output()
        .expect("mcptop");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!text(&out).contains(secret));
    let mut stack = vec![s.dir.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if !p.to_string_lossy().ends_with(".tar.gz") {
                let bytes = std::fs::read(&p).unwrap_or_default();
                assert!(!String::from_utf8_lossy(&bytes).contains(secret), "{} holds the secret", p.display());
            }
        }
    }
}

fn backup_name(n: &str) -> bool {
    n.starts_with("mcp-backup-") && (n.ends_with(".tar.gz") || n.ends_with(".tar.zst"))
}

#[test]
fn an_rdb_snapshot_is_taken_as_an_option_and_verified() {
    let s = Setup::start();
    // As an ACL user with a password: both the records and the snapshot authenticate as it.
    let _: () = redis::cmd("ACL")
        .arg(&["SETUSER", "backup", "on", ">s3cret-acl", "~*", "+@all"])
        .query(&mut s.redis.conn())
        .expect("acl user");
    let url = s.redis.url();
    let config = std::fs::read_to_string(&s.config)
        .expect("config")
        .replace("keep_last = 5", "keep_last = 5\nredis_rdb = true")
        .replace(&url, &url.replace("redis://", "redis://backup@"))
        .replace("[contexts.prod.backup]", "redis_password = \"env:MCPTOP_TEST_REDIS_PW\"\n[contexts.prod.backup]");
    assert!(config.contains("redis://backup@") && config.contains("redis_password"), "{config}");
    std::fs::write(&s.config, config).expect("write");
    let out = s.mcptop(&["backup", "run", "--only", "redis", "--yes", "--output", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let list = s.mcptop(&["backup", "list", "--output", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).expect("json");
    assert_eq!(v[0]["items"], serde_json::json!(["redis/keys.records", "redis/dump.rdb"]), "{v}");
    let archive = PathBuf::from(v[0]["path"].as_str().expect("path"));
    let ok = s.mcptop(&["backup", "verify", archive.to_str().unwrap_or_default()]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    let bad = flip_byte_in(&archive, "redis/dump.rdb");
    let out = s.mcptop(&["backup", "verify", bad.to_str().unwrap_or_default()]);
    assert!(text(&out).contains("redis/dump.rdb") && text(&out).contains("checksum mismatch"), "{}", text(&out));
}
