//! A backup of a 500 MB PostgreSQL database plus 1,000,000 Redis keys (real servers from the
//! test harness): `mcptop`'s engine (checksums included) against running `pg_dump -Fc` and
//! `redis-cli --rdb` by hand one after the other (target: at least 0.9× their combined speed),
//! gzip against zstd (size and time), and verify's throughput on the same archive.
//!
//! `cargo bench --bench backup` runs it in full (seeding takes a few minutes); under `cargo test`
//! a small smoke version runs.
#![allow(clippy::disallowed_macros)] // a test or bench reports on its own terminal

#[path = "../tests/harness/mod.rs"]
mod harness;

use std::process::Command;
use std::time::Instant;

use mcptop::backup::{self, Compression, Database, Plan, RedisSource, Retention};

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (rows, keys) = if full { (1_100_000u64, 1_000_000u64) } else { (2_000, 2_000) };
    let pg = harness::postgres::Postgres::start();
    let redis = harness::Redis::start();
    let t = Instant::now();
    pg.psql("postgres", "CREATE DATABASE big");
    pg.psql(
        "big",
        &format!(
            "CREATE TABLE events AS SELECT i AS id, md5(i::text) || repeat(md5((i * 7)::text), 12) AS body, now() AS at \
             FROM generate_series(1, {rows}) i; CREATE INDEX ON events (id);"
        ),
    );
    let size = pg.psql("big", "SELECT pg_database_size('big')");
    let mut c = redis.conn();
    let seed = "for i = tonumber(ARGV[1]), tonumber(ARGV[2]) do redis.call('SET', 'mcp:k:' .. i, string.rep('v', 64), 'EX', 86400) end return 0";
    let mut from = 1;
    while from <= keys {
        let to = (from + 49_999).min(keys);
        redis::cmd("EVAL").arg(seed).arg(0).arg(from).arg(to).query::<i64>(&mut c).expect("seed redis");
        from = to + 1;
    }
    eprintln!("seeded {rows} rows ({size} bytes) and {keys} keys in {:.0} s", t.elapsed().as_secs_f64());

    let bin = harness::postgres::bin_dir();
    let dir = tempfile::tempdir().expect("dir");
    // By hand: pg_dump -Fc, then redis-cli --rdb.
    let t = Instant::now();
    let dump = dir.path().join("by-hand.dump");
    let ok = Command::new(bin.join("pg_dump"))
        .args(["-Fc", "-f"])
        .arg(&dump)
        .arg("--dbname")
        .arg(pg.url_for("big"))
        .status();
    assert!(ok.is_ok_and(|s| s.success()), "pg_dump");
    let pg_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let rdb = dir.path().join("by-hand.rdb");
    let ok = Command::new(harness::require("redis-cli", "redis-tools"))
        .args(["-p", &redis.svc.port.to_string(), "--rdb"])
        .arg(&rdb)
        .output();
    assert!(ok.is_ok_and(|o| o.status.success()), "redis-cli --rdb");
    let redis_s = t.elapsed().as_secs_f64();
    let by_hand = pg_s + redis_s;
    let hand_bytes =
        std::fs::metadata(&dump).map(|m| m.len()).unwrap_or(0) + std::fs::metadata(&rdb).map(|m| m.len()).unwrap_or(0);
    println!("by hand: pg_dump -Fc {pg_s:.1} s + redis-cli --rdb {redis_s:.1} s = {by_hand:.1} s, {hand_bytes} bytes");

    // For comparison only: by hand at the level mcptop uses.
    let t = Instant::now();
    let ok = Command::new(bin.join("pg_dump"))
        .args(["-Fc", "-Z1", "-f"])
        .arg(dir.path().join("by-hand-z1.dump"))
        .arg("--dbname")
        .arg(pg.url_for("big"))
        .status();
    assert!(ok.is_ok_and(|s| s.success()), "pg_dump -Z1");
    println!("(pg_dump -Fc -Z1 by hand: {:.1} s)", t.elapsed().as_secs_f64());

    let mut gzip_archive = None;
    for compression in [Compression::Gzip, Compression::Zstd] {
        let plan = Plan {
            context: "bench".into(),
            dir: dir.path().join(format!("{compression:?}")),
            compression,
            databases: vec![Database { name: "big".into(), url: pg.url_for("big"), password: None }],
            redis: Some(RedisSource::at(&redis.url(), None, "mcp:")),
            rdb: false,
            paths: vec![],
            pg_dump: bin.join("pg_dump"),
            pg_dump_compress: 1,
            pg_restore: bin.join("pg_restore"),
            retention: Retention::default(),
            max_age_h: None,
            only: vec![],
            timeout: std::time::Duration::from_secs(5),
        };
        let t = Instant::now();
        let summary = backup::run(&plan, None, &|_| {}).expect("backup");
        let s = t.elapsed().as_secs_f64();
        let input: u64 = summary.items.iter().map(|i| i.bytes).sum();
        println!(
            "mcptop backup run, {compression:?}: {s:.1} s ({:.2}× the by-hand speed), {} bytes archived from {input} bytes of dumps and records, {:.0} MB/s",
            by_hand / s,
            summary.bytes,
            input as f64 / s / 1e6
        );
        for i in &summary.items {
            println!("  {}: {:.1} s, {} bytes", i.name, i.seconds, i.bytes);
        }
        if compression == Compression::Gzip {
            gzip_archive = Some((summary.archive, plan.pg_restore.clone(), input));
        }
    }
    if let Some((archive, pg_restore, input)) = gzip_archive {
        let t = Instant::now();
        let report = backup::verify(&archive, &pg_restore, &|_| {}).expect("verify");
        let s = t.elapsed().as_secs_f64();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        println!("verify (gzip archive): {s:.1} s, {:.0} MB/s of members", input as f64 / s / 1e6);
    }
}
