//! The demo's backups: a backup directory in a temporary folder with a few archives already
//! taken (made by the real engine, dated in the past), and a simulated platform volume to back
//! up, big enough that a run shows its progress. Everything goes when the demo ends.

use std::io::Write;
use std::path::Path;

use chrono::{Duration, Utc};

use crate::backup::{Compression, Plan, Retention, run, sidecar};

/// The prefix of the demo's folders: `mcptop-demo-<pid>-…`, so a later run can tell one left by
/// a process that is gone (killed before it could remove it) and remove it.
const PREFIX: &str = "mcptop-demo-";

/// The demo's plan, and the folder that holds it (removed when dropped).
pub fn plan(context: &str) -> Option<(Plan, tempfile::TempDir)> {
    remove_leftovers(&std::env::temp_dir());
    let root = tempfile::Builder::new().prefix(&format!("{PREFIX}{}-", std::process::id())).tempdir().ok()?;
    let data = root.path().join("volumes").join("mcp-data");
    std::fs::create_dir_all(&data).ok()?;
    for (name, text) in
        [("ollama-models.txt", "llama3.1:8b\nnomic-embed-text\n"), ("gateway.env.example", "LOG_LEVEL=info\n")]
    {
        std::fs::write(data.join(name), text).ok()?;
    }
    let plan = Plan {
        context: context.to_string(),
        dir: root.path().join("backups"),
        compression: Compression::Gzip,
        databases: vec![],
        redis: None,
        rdb: false,
        paths: vec![("mcp-data".into(), data.clone())],
        pg_dump: "pg_dump".into(),
        pg_dump_compress: 1,
        pg_restore: "pg_restore".into(),
        retention: Retention { keep_last: Some(7), keep_daily: None, keep_weekly: None },
        max_age_h: Some(26),
        only: vec![],
        timeout: std::time::Duration::from_secs(2),
    };
    // Three archives of the past: taken now from the small volume, then dated back.
    for (i, hours) in [50i64, 26, 2].iter().enumerate() {
        let summary = run(&plan, None, &|_| {}).ok()?;
        let when = Utc::now() - Duration::hours(*hours);
        let name = format!("mcp-backup-{}.tar.gz", when.format("%Y%m%dT%H%M%SZ"));
        let to = plan.dir.join(&name);
        std::fs::rename(sidecar(&summary.archive, "manifest.json"), sidecar(&to, "manifest.json")).ok()?;
        std::fs::rename(&summary.archive, &to).ok()?;
        if i > 0 {
            let _ = std::fs::write(sidecar(&to, "verified"), format!("ok {}\n", when.to_rfc3339()));
        }
    }
    // The volume grows in the background, so a run has something to show progress on.
    std::thread::spawn(move || fill(&data));
    Some((plan, root))
}

/// Remove the demo folders in `tmp` of processes that are gone (SIGKILL, a crash): a demo never
/// leaves 50 MB behind for long.
pub fn remove_leftovers(tmp: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix(PREFIX).and_then(|r| r.split('-').next()).and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        let alive = pid > 0 && {
            // SAFETY: signal 0 only asks whether the process exists.
            let r = unsafe { libc::kill(pid, 0) };
            r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
        };
        // SAFETY: geteuid has no preconditions.
        let me = unsafe { libc::geteuid() };
        let mine = e.metadata().map(|m| std::os::unix::fs::MetadataExt::uid(&m) == me).unwrap_or(false);
        if !alive && mine {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// 16 MB of plausible-looking data (a log that compresses somewhat).
fn fill(dir: &Path) {
    let Ok(mut f) = std::fs::File::create(dir.join("worker.log")) else { return };
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut line = Vec::with_capacity(128);
    let mut written = 0usize;
    while written < 16 << 20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        line.clear();
        let _ = writeln!(
            line,
            "2026-11-22T03:{:02}:{:02}Z job {:016x} status done took {} ms",
            (x >> 8) % 60,
            (x >> 16) % 60,
            x,
            x % 9000
        );
        if f.write_all(&line).is_err() {
            return;
        }
        written += line.len();
    }
}
