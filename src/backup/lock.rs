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

/// The lock, released when dropped.
pub struct Lock {
    path: PathBuf,
    /// Set when a stale lock was taken over: what to tell the user.
    pub took_over: Option<String>,
}

impl Lock {
    pub fn take(dir: &Path) -> Result<Lock, String> {
        let path = dir.join(".mcptop-backup.lock");
        let me = Holder { host: super::hostname(), pid: std::process::id(), started_at: Utc::now() };
        let mut took_over = None;
        for _ in 0..2 {
            match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut f) => {
                    let body = serde_json::to_vec(&me).unwrap_or_default();
                    f.write_all(&body)
                        .and_then(|_| f.sync_all())
                        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                    return Ok(Lock { path, took_over });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let held = std::fs::read(&path).ok().and_then(|b| serde_json::from_slice::<Holder>(&b).ok());
                    match held {
                        Some(h) if h.host == me.host && !Path::new(&format!("/proc/{}", h.pid)).exists() => {
                            took_over = Some(format!(
                                "took over a stale lock: pid {} on {} started {} and is gone",
                                h.pid,
                                h.host,
                                h.started_at.format("%Y-%m-%d %H:%M:%S UTC")
                            ));
                            let _ = std::fs::remove_file(&path);
                        }
                        Some(h) => {
                            return Err(format!(
                                "another backup is running: pid {} on {} since {} (lock {})",
                                h.pid,
                                h.host,
                                h.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
                                path.display()
                            ));
                        }
                        None => {
                            // Unreadable: a run that died between creating and writing it.
                            took_over = Some(format!("took over an unreadable lock {}", path.display()));
                            let _ = std::fs::remove_file(&path);
                        }
                    }
                }
                Err(e) => return Err(format!("cannot create {}: {e}", path.display())),
            }
        }
        Err(format!("cannot take the lock {}", path.display()))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
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
