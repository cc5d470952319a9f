//! Configured directories in and out of an archive. In: every file hashed as it is copied, every
//! directory (empty ones too) and link as an entry, each with its owner, mode and time. Out: the
//! staged tree copied over the target with those owners (when we may set them: as root), modes
//! and times — a Docker volume comes back owned by the container's user, not by whoever restored.

use std::collections::HashMap;
use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use chrono::Utc;
use sha2::{Digest, Sha256};

use super::archive::{Encoder, hex};
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
                files.push(FileEntry { path: member, bytes: size, sha256: hex(reader.hash.finalize()) });
            }
        }
    }
    let list: String = files.iter().map(|f| format!("{}  {}\n", f.sha256, f.path)).collect();
    Ok(Item {
        name: format!("files/{name}/"),
        kind: Kind::Files,
        source: dir.display().to_string(),
        bytes: files.iter().map(|f| f.bytes).sum(),
        sha256: hex(Sha256::digest(list.as_bytes())),
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
    /// Permission bits only: no setuid, setgid or sticky bit comes from an archive.
    pub mode: u32,
    pub mtime: u64,
}

impl Owner {
    pub fn of(h: &tar::Header) -> Option<Owner> {
        Some(Owner {
            uid: u32::try_from(h.uid().ok()?).ok()?,
            gid: u32::try_from(h.gid().ok()?).ok()?,
            mode: h.mode().ok()? & 0o777,
            mtime: h.mtime().ok()?,
        })
    }
}

/// Copy a staged tree over `to`, creating what is missing. `owners` holds, by member path
/// (`files/<name>/…`, no trailing slash), what the archive recorded; `prefix` is `files/<name>`.
/// Owners are set where permitted (as root) and skipped where not, as tar does.
pub(super) fn copy_tree(from: &Path, to: &Path, prefix: &Path, owners: &HashMap<PathBuf, Owner>) -> io::Result<()> {
    if std::fs::symlink_metadata(to).is_ok_and(|m| m.file_type().is_symlink()) {
        std::fs::remove_file(to)?;
    }
    std::fs::create_dir_all(to)?;
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
                // A link already in the target is replaced, never followed.
                let existing = std::fs::symlink_metadata(&dst).ok();
                if let Some(m) = existing.filter(|m| m.file_type().is_symlink() || m.is_dir() != meta.is_dir()) {
                    if m.is_dir() && !m.file_type().is_symlink() {
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
                        set_owner(&dst, o)?;
                    }
                } else {
                    std::fs::copy(&src, &dst)?;
                    if let Some(o) = owner {
                        File::open(&dst)?.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(o.mtime))?;
                        set_owner(&dst, o)?;
                        std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(o.mode))?;
                    }
                }
            }
        }
    }
    for (dir, owner) in dirs.into_iter().rev() {
        if let Some(o) = owner {
            set_owner(&dir, o)?;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(o.mode))?;
        }
    }
    Ok(())
}

/// The recorded owner, when it is not already the file's; not being allowed to is no error.
fn set_owner(path: &Path, o: &Owner) -> io::Result<()> {
    let m = std::fs::symlink_metadata(path)?;
    if m.uid() == o.uid && m.gid() == o.gid {
        return Ok(());
    }
    match std::os::unix::fs::lchown(path, Some(o.uid), Some(o.gid)) {
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => Ok(()),
        other => other,
    }
}
