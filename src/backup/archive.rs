//! Writing an archive (`run`) and checking one (`verify`). Each member's sha256 and size are
//! computed as its bytes stream past, once: a dump is hashed while `pg_dump` writes it to a
//! spool file beside the archive, a directory's files while they are copied into the tar.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::Utc;
use sha2::{Digest, Sha256};

use super::dumps::{dump_database, dump_redis, snapshot_redis};
use super::lock::Lock;
use super::progress::{Meter, Progress};
use super::{Compression, FORMAT_VERSION, Item, Kind, Manifest, Plan, sidecar};
use crate::domain::secret::scrub_all;

/// What a finished backup reports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    pub archive: PathBuf,
    pub bytes: u64,
    pub items: Vec<Item>,
    pub seconds: f64,
    /// Said once: a stale lock taken over, archives pruned.
    pub notes: Vec<String>,
}

/// A writer that hashes and counts what passes through it.
pub(super) struct Hashing<W> {
    pub inner: W,
    pub hash: Sha256,
    pub bytes: u64,
}

impl Hashing<BufWriter<File>> {
    /// A spool file, hashed as it is written.
    pub(super) fn spool(path: &Path) -> Result<Self, String> {
        let file = File::create(path).map_err(|e| format!("spool: {e}"))?;
        Ok(Hashing { inner: BufWriter::new(file), hash: Sha256::new(), bytes: 0 })
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A spool file read into the archive; the current item says how far it is.
struct Archiving<'a> {
    inner: File,
    label: String,
    total: u64,
    bytes: u64,
    meter: &'a std::sync::Mutex<Meter>,
    report: &'a dyn Fn(&Progress),
}

impl Read for Archiving<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        let mut meter = self.meter.lock().unwrap_or_else(|e| e.into_inner());
        meter.item = format!("{} ({} %)", self.label, self.bytes * 100 / self.total.max(1));
        meter.add(0, self.report);
        Ok(n)
    }
}

/// The compressing writer of an archive. `finish` writes the trailer and reports its errors
/// (dropping an encoder would swallow them: a full disk at the very end must not pass).
pub(super) enum Encoder {
    Gzip(flate2::write::GzEncoder<BufWriter<File>>),
    Zstd(zstd::stream::write::Encoder<'static, BufWriter<File>>),
}

impl Encoder {
    fn new(c: Compression, file: File) -> io::Result<Encoder> {
        let w = BufWriter::with_capacity(1 << 20, file);
        Ok(match c {
            // Level 1: dumps are compressed already; the rest compresses well enough fast.
            Compression::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(w, flate2::Compression::fast())),
            Compression::Zstd => {
                let mut z = zstd::stream::write::Encoder::new(w, 3)?;
                z.include_checksum(true)?;
                Encoder::Zstd(z)
            }
        })
    }

    fn finish(self) -> io::Result<()> {
        let w = match self {
            Encoder::Gzip(g) => g.finish()?,
            Encoder::Zstd(z) => z.finish()?,
        };
        w.into_inner().map_err(|e| e.into_error())?;
        Ok(())
    }
}

impl Write for Encoder {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Encoder::Gzip(g) => g.write(buf),
            Encoder::Zstd(z) => z.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Encoder::Gzip(g) => g.flush(),
            Encoder::Zstd(z) => z.flush(),
        }
    }
}

/// The decompressing reader of an archive, by its name.
pub fn decoder(path: &Path) -> Result<Box<dyn Read>, String> {
    let f = File::open(path).map_err(|e| format!("cannot open {}: {}", path.display(), e.kind()))?;
    let r = BufReader::with_capacity(1 << 20, f);
    let name = path.to_string_lossy();
    if name.ends_with(".tar.zst") {
        Ok(Box::new(zstd::stream::read::Decoder::with_buffer(r).map_err(|e| format!("{}: {e}", path.display()))?))
    } else if name.ends_with(".tar.gz") {
        Ok(Box::new(flate2::read::GzDecoder::new(r)))
    } else {
        Err(format!("{}: not a .tar.gz or .tar.zst archive", path.display()))
    }
}

pub(super) fn tar_header(size: u64, mode: u32) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_size(size);
    h.set_mode(mode);
    h.set_mtime(Utc::now().timestamp().max(0) as u64);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    h
}

/// Take a backup of `plan`. Runs on a blocking thread; `report` gets progress.
pub fn run(plan: &Plan, estimate: Option<u64>, report: &(dyn Fn(&Progress) + Sync)) -> Result<Summary, String> {
    let secrets = plan.secrets();
    let scrub = |s: String| scrub_all(&s, &secrets);
    std::fs::create_dir_all(&plan.dir).map_err(|e| format!("cannot create {}: {}", plan.dir.display(), e.kind()))?;
    let lock = Lock::take(&plan.dir)?;
    let mut notes: Vec<String> = lock.took_over.iter().cloned().collect();
    notes.extend(clean_partials(&plan.dir));
    let started = Instant::now();
    let created_at = Utc::now();
    let stamp = created_at.format("%Y%m%dT%H%M%SZ").to_string();
    let name = format!("mcp-backup-{stamp}.{}", plan.compression.extension());
    let final_path = plan.dir.join(&name);
    if final_path.exists() {
        return Err(format!(
            "{} exists already; nothing is ever overwritten (try again in a second)",
            final_path.display()
        ));
    }
    let partial = plan.dir.join(format!(".{name}.partial"));
    let spool = plan.dir.join(format!(".mcp-backup-{stamp}.spool"));
    let result = write_archive(plan, &partial, &spool, created_at, estimate, report).map_err(&scrub);
    let _ = std::fs::remove_dir_all(&spool);
    let (items, bytes) = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(format!("{e}; nothing was kept"));
        }
    };
    let manifest = manifest(plan, created_at, items.clone());
    let side = sidecar(&final_path, "manifest.json");
    let finish = || -> io::Result<()> {
        std::fs::write(&side, serde_json::to_vec_pretty(&manifest).unwrap_or_default())?;
        std::fs::rename(&partial, &final_path)?;
        File::open(&plan.dir)?.sync_all()
    };
    if let Err(e) = finish() {
        let _ = std::fs::remove_file(&partial);
        let _ = std::fs::remove_file(&side);
        return Err(format!("cannot finish {}: {e}; nothing was kept", final_path.display()));
    }
    if plan.retention.configured() {
        match super::prune::prune(&plan.dir, plan.retention, false) {
            Ok(decisions) => {
                let gone: Vec<String> = decisions.iter().filter(|d| !d.keep).map(|d| d.name.clone()).collect();
                if !gone.is_empty() {
                    notes.push(format!("pruned {}", gone.join(", ")));
                }
            }
            Err(e) => notes.push(format!("prune failed: {e}")),
        }
    }
    drop(lock);
    Ok(Summary { archive: final_path, bytes, items, seconds: started.elapsed().as_secs_f64(), notes })
}

fn manifest(plan: &Plan, created_at: chrono::DateTime<Utc>, items: Vec<Item>) -> Manifest {
    Manifest {
        format_version: FORMAT_VERSION,
        created_at,
        host: super::hostname(),
        context: plan.context.clone(),
        mcptop_version: env!("CARGO_PKG_VERSION").into(),
        compression: plan.compression,
        items,
    }
}

/// Remove what a run that died left: partial archives and spool directories.
fn clean_partials(dir: &Path) -> Vec<String> {
    let mut notes = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with(".mcp-backup-") && (name.ends_with(".partial") || name.ends_with(".spool")) {
            let removed =
                if e.path().is_dir() { std::fs::remove_dir_all(e.path()) } else { std::fs::remove_file(e.path()) };
            if removed.is_ok() {
                notes.push(format!("removed {name}, left by a run that did not finish"));
            }
        }
    }
    notes
}

/// Write every item into `partial`; fsynced. Returns the items and the archive's size.
fn write_archive(
    plan: &Plan,
    partial: &Path,
    spool: &Path,
    created_at: chrono::DateTime<Utc>,
    estimate: Option<u64>,
    report: &(dyn Fn(&Progress) + Sync),
) -> Result<(Vec<Item>, u64), String> {
    let io_err = |what: &str, e: io::Error| format!("{what}: {e}");
    std::fs::create_dir_all(spool).map_err(|e| io_err("spool directory", e))?;
    let file =
        std::fs::OpenOptions::new().write(true).create_new(true).open(partial).map_err(|e| io_err("archive", e))?;
    let writer = Encoder::new(plan.compression, file.try_clone().map_err(|e| io_err("archive", e))?)
        .map_err(|e| io_err("archive", e))?;
    let mut tar = tar::Builder::new(writer);
    // Databases and Redis are read at the same time, each into its own spool file (hashed as it
    // streams); each spool goes into the archive as soon as its dump is done, while the others
    // still run; directories are streamed in after.
    type Dump<'p> = Box<dyn FnOnce() -> Result<(Item, PathBuf), String> + Send + 'p>;
    // The server holding the keys (the Sentinel master, the cluster node) is found once, so
    // every Redis item of the archive comes from the same server.
    let redis = match plan.redis.as_ref().filter(|_| plan.includes(Kind::Redis)) {
        Some(r) => Some(r.resolved(plan.timeout)?),
        None => None,
    };
    let meter = std::sync::Mutex::new(Meter::new("backup", estimate, true));
    let mut dumps: Vec<(String, Dump)> = Vec::new();
    if plan.includes(Kind::Postgres) {
        for db in &plan.databases {
            let meter = &meter;
            dumps.push((
                format!("postgres {}", db.name),
                Box::new(move || dump_database(plan, db, spool, meter, report)),
            ));
        }
    }
    if let Some(r) = redis.as_ref() {
        let meter = &meter;
        dumps.push((format!("redis {}*", r.prefix), Box::new(move || dump_redis(plan, r, spool, meter, report))));
        if plan.rdb {
            dumps.push(("redis RDB".into(), Box::new(move || snapshot_redis(plan, r, spool, meter, report))));
        }
    }
    // What is still being read, for the progress line.
    let mut reading: Vec<Option<String>> = dumps.iter().map(|(label, _)| Some(label.clone())).collect();
    let still_reading = |r: &[Option<String>]| r.iter().flatten().cloned().collect::<Vec<_>>().join(" + ");
    meter.lock().unwrap_or_else(|e| e.into_inner()).item = still_reading(&reading);
    let mut spooled = std::thread::scope(|scope| -> Result<Vec<(usize, Item)>, String> {
        let (done, finished) = std::sync::mpsc::channel();
        let running = dumps.len();
        for (i, (_, dump)) in dumps.into_iter().enumerate() {
            let done = done.clone();
            scope.spawn(move || {
                // A panic becomes an error, so the run cleans up and says so.
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(dump))
                    .unwrap_or_else(|_| Err("a dump thread stopped unexpectedly".into()));
                // The receiver outlives every sender here; a failed send has nobody to tell.
                let _ = done.send((i, result));
            });
        }
        // A dump thread that panics drops its sender: the loop ends short instead of waiting.
        drop(done);
        let mut items = Vec::new();
        for (i, result) in finished.iter() {
            let (item, path) = result?;
            let f = File::open(&path).map_err(|e| format!("spool: {e}"))?;
            reading[i] = None;
            let label = match still_reading(&reading) {
                others if others.is_empty() => format!("archiving {}", item.name),
                others => format!("archiving {} while reading {others}", item.name),
            };
            let mut reader = Archiving { inner: f, label, total: item.bytes, bytes: 0, meter: &meter, report };
            tar.append_data(&mut tar_header(item.bytes, 0o600), &item.name, &mut reader)
                .map_err(|e| format!("writing {}: {e}", item.name))?;
            meter.lock().unwrap_or_else(|e| e.into_inner()).item = still_reading(&reading);
            items.push((i, item));
        }
        if items.len() < running {
            return Err("a dump thread stopped".into());
        }
        Ok(items)
    })?;
    // The manifest lists them in the plan's order, whichever finished first.
    spooled.sort_by_key(|(i, _)| *i);
    let mut items: Vec<Item> = spooled.into_iter().map(|(_, item)| item).collect();
    let mut meter = meter.into_inner().unwrap_or_else(|e| e.into_inner());
    if plan.includes(Kind::Files) {
        for (name, dir) in &plan.paths {
            meter.item = format!("files {name}");
            items.push(super::files::add_dir(name, dir, &mut tar, &mut meter, report)?);
        }
    }
    let m = manifest(plan, created_at, items.clone());
    let body = serde_json::to_vec_pretty(&m).map_err(|e| e.to_string())?;
    tar.append_data(&mut tar_header(body.len() as u64, 0o644), "manifest.json", body.as_slice())
        .map_err(|e| io_err("writing the manifest", e))?;
    let writer = tar.into_inner().map_err(|e| io_err("finishing the archive", e))?;
    writer.finish().map_err(|e| io_err("finishing the archive", e))?;
    file.sync_all().map_err(|e| io_err("syncing the archive", e))?;
    let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    report(&meter.progress());
    Ok((items, bytes))
}

/// A blocking Redis connection with timeouts.
pub(super) fn connect(r: &super::RedisSource, timeout: std::time::Duration) -> Result<redis::Connection, String> {
    connect_to(&r.current_url(timeout)?, r.password.as_ref(), timeout)
}

/// A blocking connection to the server at `url`.
pub(super) fn connect_to(
    url: &str,
    password: Option<&crate::domain::Secret>,
    timeout: std::time::Duration,
) -> Result<redis::Connection, String> {
    use redis::IntoConnectionInfo;
    let mut info = url.into_connection_info().map_err(|e| format!("Redis URL: {:?}", e.kind()))?;
    if let Some(pw) = password {
        info = info.clone().set_redis_settings(info.redis_settings().clone().set_password(pw.expose()));
    }
    let client = redis::Client::open(info).map_err(|e| format!("Redis: {e}"))?;
    let conn = client
        .get_connection_with_timeout(timeout.max(std::time::Duration::from_secs(2)))
        .map_err(|e| format!("Redis: {e}"))?;
    conn.set_read_timeout(Some(std::time::Duration::from_secs(60))).map_err(|e| format!("Redis: {e}"))?;
    Ok(conn)
}
