//! Checking an archive: every member re-read against the manifest's sha256 and size, each
//! dump listed with `pg_restore --list`, the Redis records read through, the RDB header checked,
//! and the compression's own checksum read at the end. Problems name the member.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::Utc;
use sha2::{Digest, Sha256};

use super::archive::decoder;
use super::progress::{Meter, Progress};
use super::{Kind, Manifest, redis_dump, sidecar};

/// What verify found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VerifyReport {
    pub archive: PathBuf,
    pub members: usize,
    pub bytes: u64,
    pub problems: Vec<String>,
    pub manifest: Option<Manifest>,
}

/// Re-read every member against the manifest's sha256 and size; list each dump with
/// `pg_restore --list`; read the Redis records through. Problems name the member.
pub fn verify(archive: &Path, pg_restore: &Path, report: &dyn Fn(&Progress)) -> Result<VerifyReport, String> {
    let result = verify_members(archive, pg_restore, report);
    // Whatever the outcome, the pane shows it: a failed verify never leaves an older "ok".
    let verdict = match &result {
        Ok(r) if r.problems.is_empty() => "ok".to_string(),
        Ok(r) => format!("failed: {}", r.problems.join("; ")),
        Err(e) => format!("failed: {e}"),
    };
    let _ = std::fs::write(sidecar(archive, "verified"), format!("{verdict} {}\n", Utc::now().to_rfc3339()));
    result
}

fn verify_members(archive: &Path, pg_restore: &Path, report: &dyn Fn(&Progress)) -> Result<VerifyReport, String> {
    // The total from the manifest beside the archive, when there is one.
    let total = std::fs::read(sidecar(archive, "manifest.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<Manifest>(&b).ok())
        .map(|m| m.items.iter().map(|i| i.bytes).sum());
    let mut meter = Meter::new("verify", total, false);
    let mut tar = tar::Archive::new(decoder(archive)?);
    let mut seen: std::collections::HashMap<String, (String, u64)> = Default::default();
    let mut problems = Vec::new();
    let mut manifest: Option<Manifest> = None;
    let scratch = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    let entries = tar.entries().map_err(|e| format!("{}: not a tar archive: {e}", archive.display()))?;
    let mut bytes = 0u64;
    for entry in entries {
        let mut entry =
            entry.map_err(|e| format!("{}: unreadable after {} members: {e}", archive.display(), seen.len()))?;
        let path = entry.path().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
        // Links and directories carry no bytes to check.
        if entry.header().entry_type().is_symlink() || entry.header().entry_type().is_dir() {
            continue;
        }
        meter.item = path.clone();
        let mut hash = Sha256::new();
        let mut body = Vec::new();
        let keep = path == "manifest.json";
        let spool =
            (path.starts_with("postgres/") || path.starts_with("redis/")).then(|| scratch.path().join("member"));
        let mut spool_file = match &spool {
            Some(p) => Some(BufWriter::new(File::create(p).map_err(|e| format!("temporary file: {e}"))?)),
            None => None,
        };
        let mut buf = vec![0u8; 1 << 16];
        let mut n_total = 0u64;
        loop {
            let n = entry.read(&mut buf).map_err(|e| format!("{path}: unreadable ({e})"))?;
            if n == 0 {
                break;
            }
            hash.update(&buf[..n]);
            n_total += n as u64;
            if keep {
                body.extend_from_slice(&buf[..n]);
            }
            if let Some(f) = spool_file.as_mut() {
                f.write_all(&buf[..n]).map_err(|e| format!("temporary file: {e}"))?;
            }
            meter.add(n as u64, report);
        }
        bytes += n_total;
        if let (Some(mut f), Some(p)) = (spool_file, spool.as_ref()) {
            f.flush().map_err(|e| format!("temporary file: {e}"))?;
            drop(f);
            if path.starts_with("postgres/") {
                match Command::new(pg_restore).arg("--list").arg(p).output() {
                    Ok(o) if o.status.success() => {}
                    Ok(o) => problems.push(format!(
                        "{path}: pg_restore --list failed: {}",
                        String::from_utf8_lossy(&o.stderr).lines().next().unwrap_or("no message")
                    )),
                    Err(e) => problems.push(format!("{path}: cannot run {}: {e}", pg_restore.display())),
                }
            } else if path.ends_with(".rdb") {
                let mut head = [0u8; 5];
                let ok = File::open(p).and_then(|mut f| f.read_exact(&mut head)).is_ok() && head == *super::rdb::MAGIC;
                if !ok {
                    problems.push(format!("{path}: not an RDB file (no REDIS header)"));
                }
            } else {
                let mut r = BufReader::new(File::open(p).map_err(|e| format!("temporary file: {e}"))?);
                if let Err(e) = redis_dump::read(&mut r, &mut |_| Ok(())) {
                    problems.push(format!("{path}: {e}"));
                }
            }
        }
        if keep {
            manifest = Some(serde_json::from_slice(&body).map_err(|e| format!("manifest.json: unreadable ({e})"))?);
        } else {
            seen.insert(path, (hex::encode(hash.finalize()), n_total));
        }
    }
    // Read past the tar's end, so the compression's own checksum (gzip CRC, zstd) is checked.
    let mut rest = tar.into_inner();
    io::copy(&mut rest, &mut io::sink())
        .map_err(|e| format!("{}: corrupt after the last member ({e})", archive.display()))?;
    let Some(m) = manifest.clone() else {
        return Err(format!("{}: no manifest.json: not an mcptop archive, or truncated", archive.display()));
    };
    let mut expected: Vec<(String, String, u64)> = Vec::new();
    for item in &m.items {
        if item.kind == Kind::Files {
            expected.extend(item.files.iter().map(|f| (f.path.clone(), f.sha256.clone(), f.bytes)));
        } else {
            expected.push((item.name.clone(), item.sha256.clone(), item.bytes));
        }
    }
    for (name, sha, size) in &expected {
        match seen.remove(name) {
            None => problems.push(format!("{name}: missing from the archive")),
            Some((got, n)) if got != *sha || n != *size => problems.push(format!(
                "{name}: checksum mismatch (sha256 {got}, {n} bytes; the manifest says {sha}, {size} bytes)"
            )),
            Some(_) => {}
        }
    }
    for name in seen.keys() {
        problems.push(format!("{name}: not in the manifest"));
    }
    report(&meter.progress());
    Ok(VerifyReport { archive: archive.to_path_buf(), members: expected.len(), bytes, problems, manifest: Some(m) })
}
