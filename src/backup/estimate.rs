//! The expected size of a backup, for the progress line's total and ETA. Each item is expected
//! to be as large as it was in this context's newest archive; an item never taken before is
//! guessed from the source (`pg_database_size`, Redis's `used_memory`, the files' sizes), a guess
//! that may be several times what the compressed dump turns out to be. Either way it is said to
//! be an estimate.

use std::collections::HashMap;
use std::path::Path;

use super::{Kind, Manifest, Plan, archive, list, sidecar};

/// The expected bytes of `plan`'s items, when anything is known of them.
pub async fn estimate(plan: &Plan) -> Option<u64> {
    let last = last_sizes(&plan.dir, &plan.context);
    let mut total = 0u64;
    if plan.includes(Kind::Postgres) {
        for db in &plan.databases {
            total = total.saturating_add(match last.get(&format!("postgres/{}.dump", db.name)) {
                Some(bytes) => *bytes,
                None => database_size(plan, db).await.unwrap_or(0),
            });
        }
    }
    if let Some(r) = plan.redis.clone().filter(|_| plan.includes(Kind::Redis)) {
        let records = last.get("redis/keys.records").copied();
        let rdb = last.get("redis/dump.rdb").copied().filter(|_| plan.rdb);
        let wanted = 1 + u64::from(plan.rdb);
        let known = records.into_iter().chain(rdb).collect::<Vec<_>>();
        total = known.iter().fold(total, |t, b| t.saturating_add(*b));
        if (known.len() as u64) < wanted {
            let timeout = plan.timeout;
            let used = tokio::task::spawn_blocking(move || {
                let mut conn = archive::connect(&r, timeout).ok()?;
                let info: String = redis::cmd("INFO").arg("memory").query(&mut conn).ok()?;
                info.lines().find_map(|l| l.strip_prefix("used_memory:").and_then(|v| v.trim().parse::<u64>().ok()))
            })
            .await
            .ok()
            .flatten();
            total = total.saturating_add(used.unwrap_or(0).saturating_mul(wanted - known.len() as u64));
        }
    }
    if plan.includes(Kind::Files) {
        for (name, dir) in &plan.paths {
            total = total.saturating_add(match last.get(&format!("files/{name}/")) {
                Some(bytes) => *bytes,
                None => {
                    let dir = dir.clone();
                    tokio::task::spawn_blocking(move || tree_size(&dir)).await.unwrap_or(0)
                }
            });
        }
    }
    (total > 0).then_some(total)
}

/// Each item's bytes in the newest archive of `context` in `dir`.
fn last_sizes(dir: &Path, context: &str) -> HashMap<String, u64> {
    list(dir)
        .unwrap_or_default()
        .iter()
        .find_map(|a| {
            let m: Manifest = serde_json::from_slice(&std::fs::read(sidecar(&a.path, "manifest.json")).ok()?).ok()?;
            (m.context == context).then(|| m.items.into_iter().map(|i| (i.name, i.bytes)).collect())
        })
        .unwrap_or_default()
}

async fn database_size(plan: &Plan, db: &super::Database) -> Option<u64> {
    use sqlx::ConnectOptions;
    use std::str::FromStr;
    let mut opts = sqlx::postgres::PgConnectOptions::from_str(&db.url).ok()?;
    if let Some(pw) = &db.password {
        opts = opts.password(pw.expose());
    }
    let size = tokio::time::timeout(plan.timeout, async {
        let mut conn = opts.connect().await.ok()?;
        sqlx::query_scalar::<_, i64>("SELECT pg_database_size(current_database())").fetch_one(&mut conn).await.ok()
    })
    .await
    .ok()
    .flatten()?;
    Some(size.max(0) as u64)
}

/// The bytes of the regular files under `dir`, without following links; at most 100,000
/// entries are looked at, so a huge tree cannot hold up the start.
fn tree_size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut seen = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            seen += 1;
            if seen > 100_000 {
                return total;
            }
            match entry.metadata() {
                Ok(m) if m.is_dir() => stack.push(entry.path()),
                Ok(m) if m.is_file() => total = total.saturating_add(m.len()),
                _ => {}
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_come_from_the_newest_archive_of_the_same_context() {
        let dir = tempfile::tempdir().expect("dir");
        let manifest = |context: &str, bytes: u64| {
            serde_json::json!({
                "format_version": 1, "created_at": "2026-11-22T03:00:00Z", "host": "h", "context": context,
                "mcptop_version": "0", "compression": "gzip",
                "items": [{"name": "redis/keys.records", "kind": "redis", "source": "s", "bytes": bytes,
                           "sha256": "0", "started_at": "2026-11-22T03:00:00Z", "seconds": 1.0}]
            })
            .to_string()
        };
        for (stamp, context, bytes) in
            [("20261120T030000Z", "prod", 5), ("20261121T030000Z", "prod", 7), ("20261122T030000Z", "lab", 9)]
        {
            let archive = dir.path().join(format!("mcp-backup-{stamp}.tar.gz"));
            std::fs::write(&archive, b"").expect("archive");
            std::fs::write(sidecar(&archive, "manifest.json"), manifest(context, bytes)).expect("manifest");
        }
        assert_eq!(last_sizes(dir.path(), "prod").get("redis/keys.records"), Some(&7));
        assert_eq!(last_sizes(dir.path(), "lab").get("redis/keys.records"), Some(&9));
        assert!(last_sizes(dir.path(), "other").is_empty());
        std::fs::create_dir_all(dir.path().join("t/a")).expect("tree");
        std::fs::write(dir.path().join("t/a/f"), [0u8; 300]).expect("file");
        std::fs::write(dir.path().join("t/g"), [0u8; 20]).expect("file");
        assert_eq!(tree_size(&dir.path().join("t")), 320);
    }
}
