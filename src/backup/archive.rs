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
use super::{Compression, FORMAT_VERSION, FileEntry, Item, Kind, Manifest, Plan, sidecar};
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

pub(super) fn hex(d: impl AsRef<[u8]>) -> String {
    hex::encode(d)
}

/// The compressing writer of an archive. `finish` writes the trailer and reports its errors
/// (dropping an encoder would swallow them: a full disk at the very end must not pass).
enum Encoder {
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

fn tar_header(size: u64, mode: u32) -> tar::Header {
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
    // streams); then each spool is copied into the archive, and directories streamed after.
    let mut sources: Vec<String> = Vec::new();
    if plan.includes(Kind::Postgres) {
        sources.extend(plan.databases.iter().map(|d| format!("postgres {}", d.name)));
    }
    if let Some(r) = plan.redis.as_ref().filter(|_| plan.includes(Kind::Redis)) {
        sources.push(format!("redis {}*", r.prefix));
    }
    let mut start = Meter::new("backup", estimate, true);
    start.item = sources.join(" + ");
    let meter = std::sync::Mutex::new(start);
    let spooled: Vec<Result<(Item, PathBuf), String>> = std::thread::scope(|scope| {
        let mut handles = Vec::new();
        if plan.includes(Kind::Postgres) {
            for db in &plan.databases {
                let meter = &meter;
                handles.push(scope.spawn(move || dump_database(plan, db, spool, meter, report)));
            }
        }
        if let Some(r) = plan.redis.as_ref().filter(|_| plan.includes(Kind::Redis)) {
            let meter = &meter;
            handles.push(scope.spawn(move || dump_redis(plan, r, spool, meter, report)));
            if plan.rdb {
                handles.push(scope.spawn(move || snapshot_redis(plan, r, spool, meter, report)));
            }
        }
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err("a dump thread stopped".into()))).collect()
    });
    let mut meter = meter.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut items = Vec::new();
    for result in spooled {
        let (item, path) = result?;
        meter.item = format!("archiving {}", item.name);
        report(&meter.progress());
        let mut f = File::open(&path).map_err(|e| format!("spool: {e}"))?;
        tar.append_data(&mut tar_header(item.bytes, 0o600), &item.name, &mut f)
            .map_err(|e| format!("writing {}: {e}", item.name))?;
        items.push(item);
    }
    if plan.includes(Kind::Files) {
        for (name, dir) in &plan.paths {
            meter.item = format!("files {name}");
            items.push(add_dir(name, dir, &mut tar, &mut meter, report)?);
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
    use redis::IntoConnectionInfo;
    let mut info = r.url.as_str().into_connection_info().map_err(|e| format!("Redis URL: {:?}", e.kind()))?;
    if let Some(pw) = &r.password {
        info = info.clone().set_redis_settings(info.redis_settings().clone().set_password(pw.expose()));
    }
    let client = redis::Client::open(info).map_err(|e| format!("Redis: {e}"))?;
    let conn = client
        .get_connection_with_timeout(timeout.max(std::time::Duration::from_secs(2)))
        .map_err(|e| format!("Redis: {e}"))?;
    conn.set_read_timeout(Some(std::time::Duration::from_secs(60))).map_err(|e| format!("Redis: {e}"))?;
    Ok(conn)
}

/// A directory, file by file, each hashed as it is copied in. Symbolic links are kept as links.
fn add_dir(
    name: &str,
    dir: &Path,
    tar: &mut tar::Builder<Encoder>,
    meter: &mut Meter,
    report: &dyn Fn(&Progress),
) -> Result<Item, String> {
    let started_at = Utc::now();
    let t = Instant::now();
    let mut files = Vec::new();
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
                stack.push(path);
            } else if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                h.set_mode(0o777);
                tar.append_link(&mut h, &member, &target).map_err(|e| format!("writing {member}: {e}"))?;
            } else if meta.is_file() {
                let f = File::open(&path).map_err(|e| format!("{}: {}", path.display(), e.kind()))?;
                let size = meta.len();
                let mut reader = HashingReader { inner: f.take(size), hash: Sha256::new(), bytes: 0, meter, report };
                let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions());
                tar.append_data(&mut tar_header(size, mode & 0o7777), &member, &mut reader)
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
