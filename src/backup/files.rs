//! Configured directories in and out of an archive. In: every file hashed as it is copied, every
//! directory (empty ones too) and link as an entry, each with its owner, mode and time. Out: the
//! staged tree copied over the target with those owners (when we may set them: as root), modes
//! and times — a Docker volume comes back owned by the container's user, not by whoever restored.

use std::collections::HashMap;
use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use chrono::Utc;
use sha2::{Digest, Sha256};

use super::archive::Encoder;
use super::progress::{Meter, Progress};
use super::{FileEntry, Item, Kind};

/// A reader that hashes and counts what passes through it, and reports progress.
struct HashingReader<'a, R> {
    inner: R,
    hash: Sha256,
    bytes: u64,
    meter: &'a mut Meter,
    report: &'a dyn Fn(&Progress),
}

impl<R: Read> Read for HashingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        self.meter.add(n as u64, self.report);
        Ok(n)
    }
}

/// A header carrying `meta`'s owner, mode (setuid and friends included; restore drops them) and
/// modification time.
fn header(kind: tar::EntryType, size: u64, meta: &Metadata) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(meta.mode() & 0o7777);
    h.set_uid(meta.uid().into());
    h.set_gid(meta.gid().into());
    h.set_mtime(meta.mtime().max(0) as u64);
    h
}

/// A directory, entry by entry, each file hashed as it is copied in.
pub(super) fn add_dir(
    name: &str,
    dir: &Path,
    tar: &mut tar::Builder<Encoder>,
    meter: &mut Meter,
    report: &dyn Fn(&Progress),
) -> Result<Item, String> {
    let started_at = Utc::now();
    let t = Instant::now();
    let mut files = Vec::new();
    let root = std::fs::metadata(dir).map_err(|e| format!("cannot read {}: {}", dir.display(), e.kind()))?;
    let root_member = format!("files/{name}/");
    tar.append_data(&mut header(tar::EntryType::Directory, 0, &root), &root_member, io::empty())
        .map_err(|e| format!("writing {root_member}: {e}"))?;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&d)
            .map_err(|e| format!("cannot read {}: {}", d.display(), e.kind()))?
            .flatten()
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let path = e.path();
            let rel = path.strip_prefix(dir).unwrap_or(&path).to_string_lossy().into_owned();
            let member = format!("files/{name}/{rel}");
            let meta = std::fs::symlink_metadata(&path).map_err(|e| format!("{}: {}", path.display(), e.kind()))?;
            if meta.is_dir() {
                let member = format!("{member}/");
                tar.append_data(&mut header(tar::EntryType::Directory, 0, &meta), &member, io::empty())
                    .map_err(|e| format!("writing {member}: {e}"))?;
                stack.push(path);
            } else if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                let mut h = header(tar::EntryType::Symlink, 0, &meta);
                h.set_mode(0o777);
                tar.append_link(&mut h, &member, &target).map_err(|e| format!("writing {member}: {e}"))?;
            } else if meta.is_file() {
                let f = File::open(&path).map_err(|e| format!("{}: {}", path.display(), e.kind()))?;
                let size = meta.len();
                let mut reader = HashingReader { inner: f.take(size), hash: Sha256::new(), bytes: 0, meter, report };
                tar.append_data(&mut header(tar::EntryType::Regular, size, &meta), &member, &mut reader)
                    .map_err(|e| format!("writing {member}: {e}"))?;
                if reader.bytes != size {
                    return Err(format!("{} changed size while being copied", path.display()));
                }
                files.push(FileEntry { path: member, bytes: size, sha256: hex::encode(reader.hash.finalize()) });
            }
        }
    }
    let list: String = files.iter().map(|f| format!("{}  {}\n", f.sha256, f.path)).collect();
    Ok(Item {
        name: format!("files/{name}/"),
        kind: Kind::Files,
        source: dir.display().to_string(),
        bytes: files.iter().map(|f| f.bytes).sum(),
        sha256: hex::encode(Sha256::digest(list.as_bytes())),
        tool: None,
        tool_version: None,
        server_version: None,
        records: None,
        files,
        started_at,
        seconds: t.elapsed().as_secs_f64(),
    })
}

/// What an archive says of an entry besides its bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Owner {
    pub uid: u32,
    pub gid: u32,
    /// Permission bits; a directory keeps its setgid and sticky bits, a file none of the three.
    pub mode: u32,
    pub mtime: u64,
}

impl Owner {
    pub fn of(h: &tar::Header) -> Option<Owner> {
        let keep = if h.entry_type().is_dir() { 0o3777 } else { 0o777 };
        Some(Owner {
            uid: u32::try_from(h.uid().ok()?).ok()?,
            gid: u32::try_from(h.gid().ok()?).ok()?,
            mode: h.mode().ok()? & keep,
            mtime: h.mtime().ok()?,
        })
    }

    /// The time, when it is one a file can have.
    fn time(&self) -> Option<SystemTime> {
        SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(self.mtime.min(i64::MAX as u64)))
    }
}

/// Copy a staged tree over `to`, creating what is missing. `owners` holds, by member path
/// (`files/<name>/…`, no trailing slash), what the archive recorded; `prefix` is `files/<name>`.
/// Owners are set where permitted (as root) and skipped where not, as tar does; returns how
/// many could not be set. Nothing in the target is followed: links there are replaced, and
/// owners, modes and times are set through a handle opened without following links.
pub(super) fn copy_tree(from: &Path, to: &Path, prefix: &Path, owners: &HashMap<PathBuf, Owner>) -> io::Result<usize> {
    if std::fs::symlink_metadata(to).is_ok_and(|m| m.file_type().is_symlink()) {
        std::fs::remove_file(to)?;
    }
    std::fs::create_dir_all(to)?;
    let mut refused = 0;
    // Directories get their modes last: a read-only one must not stop its own contents.
    let mut dirs: Vec<(PathBuf, Option<&Owner>)> = vec![(to.to_path_buf(), owners.get(prefix))];
    if from.exists() {
        let mut stack: Vec<PathBuf> = vec![from.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d)?.flatten() {
                let src = e.path();
                let rel = src.strip_prefix(from).unwrap_or(&src);
                let dst = to.join(rel);
                let owner = owners.get(&prefix.join(rel));
                let meta = std::fs::symlink_metadata(&src)?;
                // Whatever is in the target's place goes, unless it is a directory to fill.
                if let Some(m) = std::fs::symlink_metadata(&dst).ok().filter(|m| !(m.is_dir() && meta.is_dir())) {
                    if m.is_dir() {
                        std::fs::remove_dir_all(&dst)?;
                    } else {
                        std::fs::remove_file(&dst)?;
                    }
                }
                if meta.is_dir() {
                    std::fs::create_dir_all(&dst)?;
                    dirs.push((dst, owner));
                    stack.push(src);
                } else if meta.file_type().is_symlink() {
                    std::os::unix::fs::symlink(std::fs::read_link(&src)?, &dst)?;
                    if let Some(o) = owner {
                        refused += usize::from(!lchown(&dst, o)?);
                    }
                } else {
                    // A new file (create_new: never through a link put there meanwhile).
                    let mut out = File::options().write(true).create_new(true).open(&dst)?;
                    io::copy(&mut File::open(&src)?, &mut out)?;
                    let mode = owner.map_or(meta.mode() & 0o777, |o| o.mode);
                    if let Some(o) = owner {
                        refused += usize::from(!apply(&out, o)?);
                    } else {
                        out.set_permissions(std::fs::Permissions::from_mode(mode))?;
                    }
                }
            }
        }
    }
    for (dir, owner) in dirs.into_iter().rev() {
        if let Some(o) = owner {
            let handle = File::options().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_DIRECTORY).open(&dir)?;
            refused += usize::from(!apply(&handle, o)?);
        }
    }
    Ok(refused)
}

/// Time, owner and mode through an open handle. Returns false when the owner could not be set
/// (not root); the mode and time are set anyway.
fn apply(f: &File, o: &Owner) -> io::Result<bool> {
    if let Some(time) = o.time() {
        // A time the file system cannot hold is not worth failing a restore over.
        let _ = f.set_modified(time);
    }
    let m = f.metadata()?;
    let owned = if m.uid() == o.uid && m.gid() == o.gid {
        true
    } else {
        match std::os::unix::fs::fchown(f, Some(o.uid), Some(o.gid)) {
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => false,
            other => other.map(|_| true)?,
        }
    };
    f.set_permissions(std::fs::Permissions::from_mode(o.mode))?;
    Ok(owned)
}

/// A link's own owner; false when not permitted.
fn lchown(path: &Path, o: &Owner) -> io::Result<bool> {
    let m = std::fs::symlink_metadata(path)?;
    if m.uid() == o.uid && m.gid() == o.gid {
        return Ok(true);
    }
    match std::os::unix::fs::lchown(path, Some(o.uid), Some(o.gid)) {
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => Ok(false),
        other => other.map(|_| true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_tree_replaces_links_in_the_target_and_survives_absurd_times() {
        let root = tempfile::tempdir().expect("dir");
        let (stage, target, outside) = (root.path().join("stage"), root.path().join("target"), root.path().join("out"));
        std::fs::create_dir_all(stage.join("sub")).expect("stage");
        std::fs::create_dir_all(stage.join("empty")).expect("stage");
        std::fs::write(stage.join("sub/f"), "data").expect("file");
        std::fs::create_dir_all(&outside).expect("outside");
        std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o700)).expect("mode");
        // The target already has a link where the archive has a directory: it must be replaced,
        // never followed (the mode below would land on `outside`).
        std::fs::create_dir_all(&target).expect("target");
        std::os::unix::fs::symlink(&outside, target.join("sub")).expect("link");
        let me = std::fs::metadata(root.path()).expect("me");
        let owner = |mode, mtime| Owner { uid: me.uid(), gid: me.gid(), mode, mtime };
        let prefix = Path::new("files/data");
        let owners: HashMap<PathBuf, Owner> = [
            (prefix.join("sub"), owner(0o1755, 1_700_000_000)),
            (prefix.join("sub/f"), owner(0o640, u64::MAX)),
            (prefix.join("empty"), owner(0o750, 1_600_000_000)),
        ]
        .into();
        assert_eq!(copy_tree(&stage, &target, prefix, &owners).expect("copy"), 0);
        let sub = std::fs::symlink_metadata(target.join("sub")).expect("sub");
        assert!(sub.is_dir() && !sub.file_type().is_symlink(), "a real directory now");
        assert_eq!((sub.mode() & 0o7777, sub.mtime()), (0o1755, 1_700_000_000), "sticky bit and time kept");
        assert_eq!(std::fs::metadata(&outside).expect("out").mode() & 0o777, 0o700, "the link's target untouched");
        assert_eq!(std::fs::read_to_string(target.join("sub/f")).expect("f"), "data");
        assert_eq!(std::fs::metadata(target.join("sub/f")).expect("f").mode() & 0o777, 0o640);
        assert!(target.join("empty").is_dir());
    }
}
