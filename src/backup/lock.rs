//! One backup at a time per directory: `.mcptop-backup.lock` holds the host, pid and start time
//! of the run. A second run is refused, naming the holder; a lock left by a process that is gone
//! (on this host) is taken over, with a message — no manual unlock.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
struct Holder {
    host: String,
    pid: u32,
    started_at: DateTime<Utc>,
}

/// The lock, released when dropped: an advisory `flock` held for the whole run (the kernel
/// drops it when the process dies), the file naming the holder for whoever is refused.
pub struct Lock {
    path: PathBuf,
    _file: std::fs::File,
    /// Set when a stale lock was taken over: what to tell the user.
    pub took_over: Option<String>,
}

impl Lock {
    pub fn take(dir: &Path) -> Result<Lock, String> {
        use std::os::unix::fs::MetadataExt;
        let path = dir.join(".mcptop-backup.lock");
        let me = Holder { host: super::hostname(), pid: std::process::id(), started_at: Utc::now() };
        let holder_text =
            |h: &Holder| format!("pid {} on {} since {}", h.pid, h.host, h.started_at.format("%Y-%m-%d %H:%M:%S UTC"));
        for _ in 0..3 {
            let mut file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
            let held = || std::fs::read(&path).ok().and_then(|b| serde_json::from_slice::<Holder>(&b).ok());
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    let who = held().map(|h| holder_text(&h)).unwrap_or_else(|| "another process".into());
                    return Err(format!("another backup is running: {who} (lock {})", path.display()));
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(format!("cannot lock {}: {e}", path.display())),
            }
            // The file may have been removed (a run ending) between opening and locking it.
            let same = match (file.metadata(), std::fs::metadata(&path)) {
                (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
                _ => false,
            };
            if !same {
                continue;
            }
            let mut took_over = None;
            match held() {
                Some(h) if h.pid == me.pid && h.host == me.host => {}
                // Named, but holding no lock: a process of another host (its lock is not ours to
                // judge), or one that runs without taking it.
                Some(h) if h.host != me.host || Path::new(&format!("/proc/{}", h.pid)).exists() => {
                    return Err(format!("another backup is running: {} (lock {})", holder_text(&h), path.display()));
                }
                Some(h) => took_over = Some(format!("took over a stale lock: {} is gone", holder_text(&h))),
                None => {}
            }
            let body = serde_json::to_vec(&me).unwrap_or_default();
            file.set_len(0)
                .and_then(|_| file.write_all(&body))
                .and_then(|_| file.sync_all())
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            return Ok(Lock { path, _file: file, took_over });
        }
        Err(format!("cannot take the lock {}", path.display()))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Removed while still locked; the flock goes with the file handle.
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_run_is_refused_and_a_dead_holder_is_taken_over() {
        let dir = tempfile::tempdir().expect("dir");
        let first = Lock::take(dir.path()).expect("first");
        let second = Lock::take(dir.path()).err().unwrap_or_default();
        assert!(
            second.contains("another backup is running") && second.contains(&std::process::id().to_string()),
            "{second}"
        );
        drop(first);
        let stale = Holder { host: crate::backup::hostname(), pid: u32::MAX - 1, started_at: Utc::now() };
        std::fs::write(dir.path().join(".mcptop-backup.lock"), serde_json::to_vec(&stale).unwrap_or_default())
            .expect("write");
        let lock = Lock::take(dir.path()).expect("taken over");
        assert!(lock.took_over.as_deref().is_some_and(|m| m.contains("stale lock")));
    }
}
