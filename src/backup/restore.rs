//! Restoring an archive: databases (`pg_restore --clean --if-exists`), then Redis, then files,
//! then a verify — the platform runbook's order. Every member's path is checked before anything
//! is written: an absolute path, `..`, a hard link, a device or a symbolic link pointing outside
//! its directory refuses the whole archive.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use super::archive::{connect, decoder};
use super::files::{Owner, copy_tree};
use super::progress::{Meter, Progress};
use super::verify::{VerifyReport, verify};
use super::{FORMAT_VERSION, Kind, Manifest, Plan, redis_dump};
use crate::domain::secret::scrub_all;

/// Why a member may not be restored, if it may not.
fn unsafe_member(path: &Path, kind: tar::EntryType, link: Option<&Path>) -> Option<String> {
    let shown = path.display();
    if path.is_absolute() || path.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Some(format!("{shown}: an absolute path or one with `..`"));
    }
    let top = path.components().next().map(|c| c.as_os_str().to_string_lossy().into_owned()).unwrap_or_default();
    if !(path == Path::new("manifest.json") || ["postgres", "redis", "files"].contains(&top.as_str())) {
        return Some(format!("{shown}: not a member mcptop writes"));
    }
    match kind {
        tar::EntryType::Regular | tar::EntryType::Directory => None,
        tar::EntryType::Symlink if top == "files" => {
            let target = link?;
            // The link, resolved from its own directory, must stay inside files/<name>/; `..`
            // only at the start, so no step can pass through another link and back out.
            let mut depth: i64 = path.components().count() as i64 - 3;
            let mut descended = false;
            for c in target.components() {
                match c {
                    Component::Normal(_) => {
                        depth += 1;
                        descended = true;
                    }
                    Component::CurDir => {}
                    Component::ParentDir if !descended => depth -= 1,
                    Component::ParentDir => {
                        return Some(format!("{shown}: a link with `..` after a name ({})", target.display()));
                    }
                    _ => return Some(format!("{shown}: a link to an absolute path ({})", target.display())),
                }
                if depth < 0 {
                    return Some(format!("{shown}: a link pointing outside its directory ({})", target.display()));
                }
            }
            None
        }
        other => Some(format!("{shown}: a {other:?} entry, which mcptop never writes")),
    }
}

/// An entry whose path goes through a link written earlier would be written wherever the link
/// points: refused.
fn through_link(path: &Path, links: &std::collections::HashSet<PathBuf>) -> Option<String> {
    path.ancestors()
        .skip(1)
        .find(|a| links.contains(*a))
        .map(|l| format!("{}: a path through the link {}", path.display(), l.display()))
}

/// Read the archive through once: its manifest, and every member's path checked. Nothing is
/// written. A truncated or foreign file is an error saying so.
pub fn inspect(archive: &Path) -> Result<Manifest, String> {
    let mut tar = tar::Archive::new(decoder(archive)?);
    let mut manifest = None;
    let mut links = std::collections::HashSet::new();
    let entries = tar.entries().map_err(|e| format!("{}: not a tar archive ({e})", archive.display()))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("{}: unreadable or truncated ({e})", archive.display()))?;
        let path = entry.path().map_err(|e| format!("a member with an unreadable name ({e})"))?.into_owned();
        let link = entry.link_name().ok().flatten().map(|l| l.into_owned());
        let why =
            unsafe_member(&path, entry.header().entry_type(), link.as_deref()).or_else(|| through_link(&path, &links));
        if let Some(why) = why {
            return Err(format!("refused before writing anything: {why}"));
        }
        if entry.header().entry_type().is_symlink() {
            links.insert(path.clone());
        }
        if path == Path::new("manifest.json") {
            let mut body = Vec::new();
            entry.read_to_end(&mut body).map_err(|e| format!("manifest.json: {e}"))?;
            manifest = Some(serde_json::from_slice::<Manifest>(&body).map_err(|e| format!("manifest.json: {e}"))?);
        } else {
            // Read through, so a truncated archive fails here, before anything is written.
            std::io::copy(&mut entry, &mut std::io::sink())
                .map_err(|e| format!("{}: unreadable ({e})", path.display()))?;
        }
    }
    let m = manifest.ok_or_else(|| format!("{}: no manifest.json: not an mcptop archive", archive.display()))?;
    if m.format_version > FORMAT_VERSION {
        return Err(format!(
            "{}: archive format {} is newer than this mcptop reads ({FORMAT_VERSION}); use mcptop {} or later",
            archive.display(),
            m.format_version,
            m.mcptop_version
        ));
    }
    // The manifest's names become paths in the staging directory: they must be plain too.
    for item in &m.items {
        let kind = if item.kind == Kind::Files { tar::EntryType::Directory } else { tar::EntryType::Regular };
        if let Some(why) = unsafe_member(Path::new(item.name.trim_end_matches('/')), kind, None) {
            return Err(format!("refused before writing anything: the manifest names {why}"));
        }
    }
    Ok(m)
}

/// What a restore did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RestoreReport {
    pub restored: Vec<String>,
    pub verify: VerifyReport,
}

/// Restore `archive` into the targets of `plan` (only the kinds in `plan.only`, when set). Call
/// [`inspect`] first (and ask for the context's name); this checks every path again anyway.
pub fn restore(archive: &Path, plan: &Plan, report: &dyn Fn(&Progress)) -> Result<RestoreReport, String> {
    let secrets = plan.secrets();
    let scrub = |s: String| scrub_all(&s, &secrets);
    let manifest = inspect(archive)?;
    let total: u64 = manifest.items.iter().filter(|i| plan.includes(i.kind)).map(|i| i.bytes).sum();
    let mut meter = Meter::new("restore", Some(total), false);
    // Stage every wanted member (paths checked), then apply in order.
    // Staged beside the archives (same disk, room for them), not in a small /tmp.
    let stage = tempfile::Builder::new()
        .prefix(".mcp-restore-")
        .tempdir_in(&plan.dir)
        .map_err(|e| format!("staging directory in {}: {e}", plan.dir.display()))?;
    let mut links = std::collections::HashSet::new();
    let mut sums: std::collections::HashMap<String, (String, u64)> = Default::default();
    // Owners, modes and times of files/… entries; archives before format 2 recorded none.
    let mut owners: std::collections::HashMap<PathBuf, Owner> = Default::default();
    let mut tar = tar::Archive::new(decoder(archive)?);
    for entry in tar.entries().map_err(|e| e.to_string())? {
        let mut entry = entry.map_err(|e| format!("unreadable ({e})"))?;
        let path = entry.path().map_err(|e| e.to_string())?.into_owned();
        let kind = entry.header().entry_type();
        let link = entry.link_name().ok().flatten().map(|l| l.into_owned());
        if let Some(why) = unsafe_member(&path, kind, link.as_deref()).or_else(|| through_link(&path, &links)) {
            return Err(format!("refused: {why}"));
        }
        if kind.is_symlink() {
            links.insert(path.clone());
        }
        let wanted = match path.components().next().map(|c| c.as_os_str().to_string_lossy().into_owned()).as_deref() {
            Some("postgres") => plan.includes(Kind::Postgres),
            Some("redis") => plan.includes(Kind::Redis),
            Some("files") => plan.includes(Kind::Files),
            _ => false,
        };
        if !wanted {
            continue;
        }
        if manifest.format_version >= 2
            && path.starts_with("files")
            && let Some(owner) = Owner::of(entry.header())
        {
            owners.insert(path.clone(), owner);
        }
        let dest = stage.path().join(&path);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("staging: {e}"))?;
        }
        match kind {
            tar::EntryType::Directory => std::fs::create_dir_all(&dest).map_err(|e| format!("staging: {e}"))?,
            tar::EntryType::Symlink => {
                if let Some(target) = link {
                    std::os::unix::fs::symlink(&target, &dest).map_err(|e| format!("staging: {e}"))?;
                }
            }
            _ => {
                meter.item = path.display().to_string();
                let mut out = BufWriter::new(File::create(&dest).map_err(|e| format!("staging: {e}"))?);
                let mut hash = Sha256::new();
                let mut size = 0u64;
                let mut buf = vec![0u8; 1 << 16];
                loop {
                    let n = entry.read(&mut buf).map_err(|e| format!("{}: {e}", path.display()))?;
                    if n == 0 {
                        break;
                    }
                    hash.update(&buf[..n]);
                    size += n as u64;
                    out.write_all(&buf[..n]).map_err(|e| format!("staging: {e}"))?;
                    meter.add(n as u64, report);
                }
                out.flush().map_err(|e| format!("staging: {e}"))?;
                let sum = hex::encode(hash.finalize());
                sums.insert(path.to_string_lossy().into_owned(), (sum, size));
                if let Ok(mode) = entry.header().mode() {
                    // No setuid, setgid or sticky bits from an archive.
                    let _ = std::fs::set_permissions(&dest, std::os::unix::fs::PermissionsExt::from_mode(mode & 0o777));
                }
            }
        }
    }
    // Every staged member against the manifest, before anything is applied: a corrupt dump
    // never reaches pg_restore --clean.
    for item in manifest.items.iter().filter(|i| plan.includes(i.kind)) {
        let expected: Vec<(&str, &str, u64)> = if item.kind == Kind::Files {
            item.files.iter().map(|f| (f.path.as_str(), f.sha256.as_str(), f.bytes)).collect()
        } else {
            vec![(item.name.as_str(), item.sha256.as_str(), item.bytes)]
        };
        for (name, sha, bytes) in expected {
            match sums.get(name) {
                Some((got, n)) if got == sha && *n == bytes => {}
                Some(_) => return Err(format!("{name}: checksum mismatch; nothing was restored")),
                None => return Err(format!("{name}: missing from the archive; nothing was restored")),
            }
        }
    }
    let mut restored = Vec::new();
    // 1. Databases.
    for item in manifest.items.iter().filter(|i| i.kind == Kind::Postgres && plan.includes(Kind::Postgres)) {
        let name = item.name.trim_start_matches("postgres/").trim_end_matches(".dump");
        let db = plan.databases.iter().find(|d| d.name == name).ok_or_else(|| {
            format!("the archive holds database {name}, which this context does not configure (backup.databases)")
        })?;
        meter.item = format!("pg_restore {name}");
        report(&meter.progress());
        let mut cmd = Command::new(&plan.pg_restore);
        cmd.args(["--clean", "--if-exists", "--no-owner", "--no-password", "--single-transaction", "--dbname"])
            .arg(&db.url)
            .arg(stage.path().join(&item.name));
        if let Some(pw) = &db.password {
            cmd.env("PGPASSWORD", pw.expose());
        }
        let out = cmd
            .output()
            .map_err(|e| format!("cannot run {}: {e} (set backup.pg_restore)", plan.pg_restore.display()))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let first = err.lines().find(|l| l.contains("error")).or(err.lines().next()).unwrap_or("no message");
            return Err(scrub(format!("pg_restore of {name} failed: {first}")));
        }
        restored.push(item.name.clone());
    }
    // 2. Redis.
    for item in manifest.items.iter().filter(|i| i.kind == Kind::Redis && plan.includes(Kind::Redis)) {
        if item.name.ends_with(".rdb") {
            restored.push(format!(
                "{} skipped (an RDB snapshot is restored by stopping Redis and putting it in place as its dbfilename)",
                item.name
            ));
            continue;
        }
        let r = plan
            .redis
            .as_ref()
            .ok_or("the archive holds Redis keys, but this context has no Redis (redis_url or redis_sentinels)")?;
        meter.item = "redis RESTORE".into();
        report(&meter.progress());
        let mut conn = connect(r, plan.timeout).map_err(&scrub)?;
        let mut input = BufReader::new(File::open(stage.path().join(&item.name)).map_err(|e| format!("staging: {e}"))?);
        let n = redis_dump::restore(&mut conn, &mut input, &r.prefix).map_err(&scrub)?;
        restored.push(format!("{} ({n} keys)", item.name));
    }
    // 3. Files.
    for item in manifest.items.iter().filter(|i| i.kind == Kind::Files && plan.includes(Kind::Files)) {
        let name = item.name.trim_start_matches("files/").trim_end_matches('/');
        // The directory it came from when this context still has it; else by name.
        let by_source = plan.paths.iter().find(|(_, p)| p.display().to_string() == item.source);
        let (_, target) = by_source.or_else(|| plan.paths.iter().find(|(n, _)| n == name)).ok_or_else(|| {
            format!("the archive holds files {name}, which this context does not configure (backup.paths)")
        })?;
        let refused =
            copy_tree(&stage.path().join("files").join(name), target, &Path::new("files").join(name), &owners)
                .map_err(|e| format!("restoring {}: {e}", target.display()))?;
        restored.push(match refused {
            0 => item.name.clone(),
            n => format!("{} (the owners of {n} entries were not set: only root may)", item.name),
        });
    }
    let verify = verify(archive, &plan.pg_restore, report)?;
    Ok(RestoreReport { restored, verify })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_that_escape_are_refused() {
        let reg = tar::EntryType::Regular;
        assert_eq!(unsafe_member(Path::new("files/data/a.txt"), reg, None), None);
        assert!(unsafe_member(Path::new("/etc/passwd"), reg, None).is_some());
        assert!(unsafe_member(Path::new("files/data/../../x"), reg, None).is_some());
        assert!(unsafe_member(Path::new("etc/passwd"), reg, None).is_some());
        let link = tar::EntryType::Symlink;
        assert_eq!(unsafe_member(Path::new("files/data/l"), link, Some(Path::new("sub/f"))), None);
        assert!(unsafe_member(Path::new("files/data/l"), link, Some(Path::new("../../etc"))).is_some());
        assert!(unsafe_member(Path::new("files/data/l"), link, Some(Path::new("/etc"))).is_some());
        assert!(unsafe_member(Path::new("files/data/d/l"), link, Some(Path::new("../f"))).is_none());
        assert!(unsafe_member(Path::new("files/data/x"), tar::EntryType::Link, Some(Path::new("f"))).is_some());
        // `a → .` then `b → a/a/a/../../..`: textually inside, really outside.
        assert!(unsafe_member(Path::new("files/d/b"), link, Some(Path::new("a/a/a/a/../../../.."))).is_some());
        let links: std::collections::HashSet<PathBuf> = [PathBuf::from("files/d/b")].into();
        assert!(through_link(Path::new("files/d/b/etc/x"), &links).is_some());
        assert!(through_link(Path::new("files/d/c"), &links).is_none());
    }
}
