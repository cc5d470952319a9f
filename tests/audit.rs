//! The audit log (CONTRACT.md §5): append-only on SQLite (triggers refuse changes) and on
//! PostgreSQL (the code only inserts and selects), filters newest first, secrets removed before
//! anything is written; read-only mode refused in the action layer and recorded; the CLI's
//! `retry`, `cancel`, `analyze`, `audit` and `config show` against a real Redis, with their exit
//! codes and what they leave in Redis.
#![allow(clippy::disallowed_macros)] // a test or bench reports on its own terminal

mod harness;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use harness::postgres::Postgres;
use harness::{Redis, free_port, mcptop_bin, seed_job};
use mcptop::actions::{ActionError, ActionRequest, Actions, JobRef};
use mcptop::audit::{AuditLog, Outcome, Query, Record};
use mcptop::config::{self, FileConfig, Overrides};
use mcptop::domain::action::AnalysisRequest;
use mcptop::domain::{Secret, Severity};
use mcptop::sources::Sources;
use serde_json::json;
use sqlx::ConnectOptions;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A record as the action layer writes it, at `at_ms` (whole milliseconds, as stored).
fn record(at_ms: i64, actor: &str, action: &str, target: &str, outcome: Outcome, detail: &str) -> Record {
    Record {
        id: 0,
        at: DateTime::from_timestamp_millis(at_ms).expect("a valid time"),
        actor: actor.into(),
        context: "prod".into(),
        action: action.into(),
        target: target.into(),
        params: json!({"action": action, "job": {"id": target.trim_start_matches("job ")}}),
        outcome,
        detail: detail.into(),
    }
}

fn all() -> Query {
    Query { limit: 1000, ..Default::default() }
}

fn ids(records: &[Record]) -> Vec<i64> {
    records.iter().map(|r| r.id).collect()
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display())) {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// Run the binary with its XDG directories inside `home`, so the default audit file is
/// `home/data/mcptop/audit.sqlite3` and nothing of the user's is read or written.
fn mcptop_in(home: &Path, args: &[&str]) -> Output {
    mcptop_env(home, args, &[])
}

fn mcptop_env(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(mcptop_bin());
    cmd.args(args)
        .env_remove("MCPTOP_CONFIG")
        .env_remove("MCPTOP_REDIS_URL")
        .env_remove("MCPTOP_CONTEXT")
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run mcptop")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
fn said(o: &Output) -> String {
    format!("exit {:?}\n--- stdout\n{}\n--- stderr\n{}", o.status.code(), stdout(o), stderr(o))
}

fn json_of(o: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", said(o)))
}

/// `mcptop audit …` as JSON: the records, newest first.
fn audit_records(home: &Path, redis_url: &str, extra: &[&str]) -> Vec<serde_json::Value> {
    let mut args: Vec<&str> = vec!["--redis-url", redis_url, "audit"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--output", "json"]);
    let out = mcptop_in(home, &args);
    assert_eq!(out.status.code(), Some(0), "audit: {}", said(&out));
    match json_of(&out) {
        serde_json::Value::Array(v) => v,
        other => panic!("audit --output json is not an array: {other}"),
    }
}

fn hget(c: &mut redis::Connection, key: &str, field: &str) -> Option<String> {
    redis::cmd("HGET").arg(key).arg(field).query(c).expect("HGET")
}
fn llen(c: &mut redis::Connection, key: &str) -> i64 {
    redis::cmd("LLEN").arg(key).query(c).expect("LLEN")
}
fn keys(c: &mut redis::Connection, pattern: &str) -> Vec<String> {
    redis::cmd("KEYS").arg(pattern).query(c).expect("KEYS")
}

fn seed_failed_job(c: &mut redis::Connection, id: &str) {
    let now = Utc::now().timestamp_millis();
    let fields: [(&str, &[u8]); 5] = [
        ("queue", b"analysis"),
        ("hostname", b"db-01"),
        ("severity", b"high"),
        ("alert_type", b"DiskFull"),
        ("attempts", b"2"),
    ];
    seed_job(c, "mcp:", id, now, "failed", &fields);
}

// ---------------------------------------------------------------------------------------------
// 1. SQLite: append-only, filters, newest first
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn sqlite_log_is_append_only_and_filters() {
    let dir = tempfile::tempdir().expect("dir");
    // A directory that does not exist yet: the log creates it.
    let path = dir.path().join("nested").join("audit.sqlite3");
    let log = AuditLog::sqlite_file(&path, Duration::from_secs(2)).expect("open the log");
    assert!(log.location.contains("audit.sqlite3"), "location names the file: {}", log.location);

    let base = Utc::now().timestamp_millis();
    let hour = 3_600_000;
    let written = [
        record(base - 2 * hour, "alice@ops-1", "retry", "job j1", Outcome::Ok, "job j1 retried"),
        record(base - hour, "Bob@ops-2", "approve", "job j2", Outcome::Failed, "zammad: 503"),
        record(base, "alice@ops-1 (ssh 10.0.0.9)", "retry", "job j3", Outcome::Started, ""),
    ];
    let mut given = Vec::new();
    for r in &written {
        given.push(log.append(r).await.expect("append"));
    }
    assert!(given.windows(2).all(|w| w[0] < w[1]), "ids grow with each append: {given:?}");

    // Everything, newest first, each record as written.
    let everything = log.query(&all()).await.expect("query");
    assert_eq!(ids(&everything), given.iter().rev().copied().collect::<Vec<_>>(), "newest first");
    for (got, (want, id)) in everything.iter().rev().zip(written.iter().zip(&given)) {
        assert_eq!(got, &Record { id: *id, ..want.clone() }, "round trip");
    }

    let q = |f: fn(&mut Query)| {
        let mut q = all();
        f(&mut q);
        q
    };
    let by_action = log.query(&q(|q| q.action = Some("retry".into()))).await.expect("query");
    assert_eq!(ids(&by_action), vec![given[2], given[0]], "action = retry");

    let by_outcome = log.query(&q(|q| q.outcome = Some("failed".into()))).await.expect("query");
    assert_eq!(ids(&by_outcome), vec![given[1]], "outcome = failed");

    let by_actor = log.query(&q(|q| q.actor = Some("ALICE".into()))).await.expect("query");
    assert_eq!(ids(&by_actor), vec![given[2], given[0]], "actor: part of it, any case");
    let by_actor = log.query(&q(|q| q.actor = Some("bob@OPS".into()))).await.expect("query");
    assert_eq!(ids(&by_actor), vec![given[1]], "actor: part of it, any case");
    let by_ssh = log.query(&q(|q| q.actor = Some("10.0.0.9".into()))).await.expect("query");
    assert_eq!(ids(&by_ssh), vec![given[2]], "actor: the SSH address");

    let since = DateTime::from_timestamp_millis(base - hour - hour / 2);
    let recent = log.query(&Query { since, ..all() }).await.expect("query");
    assert_eq!(ids(&recent), vec![given[2], given[1]], "since 90 minutes ago");

    let combined = log
        .query(&Query { since, action: Some("retry".into()), actor: Some("alice".into()), ..all() })
        .await
        .expect("query");
    assert_eq!(ids(&combined), vec![given[2]], "filters combine");

    let none = log.query(&q(|q| q.action = Some("cancel".into()))).await.expect("query");
    assert!(none.is_empty(), "no cancel records: {none:?}");

    let newest = log.query(&Query { limit: 1, ..Default::default() }).await.expect("query");
    assert_eq!(ids(&newest), vec![given[2]], "limit 1 is the newest");

    // Straight at the file, past the code: the triggers refuse any change to a written row.
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .busy_timeout(Duration::from_secs(5))
        .connect()
        .await
        .expect("open the file directly");
    let update = sqlx::query("UPDATE audit_log SET detail = 'x'").execute(&mut conn).await;
    let err = update.expect_err("UPDATE must fail on the audit log");
    assert!(err.to_string().contains("append-only"), "the trigger's message: {err}");
    let delete = sqlx::query("DELETE FROM audit_log").execute(&mut conn).await;
    let err = delete.expect_err("DELETE must fail on the audit log");
    assert!(err.to_string().contains("append-only"), "the trigger's message: {err}");
    let one = sqlx::query("DELETE FROM audit_log WHERE action = 'approve'").execute(&mut conn).await;
    assert!(one.is_err(), "deleting one row must fail too");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log").fetch_one(&mut conn).await.expect("count");
    assert_eq!(count, 3, "no row was removed");
    let after = log.query(&all()).await.expect("query");
    assert_eq!(after, everything, "no row was changed");

    // And the code never writes anything but INSERTs: no UPDATE or DELETE of the log anywhere
    // in the crate (the triggers' `BEFORE UPDATE ON audit_log` is the only mention allowed).
    let mut files = Vec::new();
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    assert!(files.len() > 10, "found the crate's sources: {files:?}");
    let forbidden = [
        "update audit_log",
        "delete from audit_log",
        "update {table}",
        "delete from {table}",
        "truncate audit_log",
        "truncate {table}",
        "truncate table",
        "insert or replace into audit_log",
        "replace into audit_log",
    ];
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read source");
        let flat = text.to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ");
        for f in forbidden {
            assert!(!flat.contains(f), "{} holds {f:?}: the audit log is append-only", file.display());
        }
    }
    let audit_rs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/audit.rs")).expect("read src/audit.rs");
    for f in ["\"UPDATE ", "\"DELETE ", "\"update ", "\"delete ", "DROP TABLE", "drop table"] {
        assert!(!audit_rs.contains(f), "src/audit.rs holds a statement starting {f:?}");
    }
    assert!(audit_rs.contains("BEFORE UPDATE ON audit_log") && audit_rs.contains("BEFORE DELETE ON audit_log"));
}

// ---------------------------------------------------------------------------------------------
// 2. PostgreSQL: round trip, secrets removed, concurrent creation of the table
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn postgres_log_round_trips_and_secrets_are_removed() {
    const SECRET: &str = "tok-SECRET-123";
    let pg = Postgres::start();
    let log = AuditLog::postgres(&pg.url(), None, "mcptop_audit", Duration::from_secs(5))
        .expect("configure the log")
        .with_secrets([Secret::new(SECRET)]);
    assert!(log.location.contains("mcptop_audit"), "location names the table: {}", log.location);
    assert!(!log.location.contains("postgres://"), "location does not repeat the URL: {}", log.location);

    let at = DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).expect("now");
    let written = Record {
        id: 0,
        at,
        actor: "alice@ops-1".into(),
        context: "prod".into(),
        action: "approve".into(),
        target: "job j9".into(),
        params: json!({"action": "approve", "token": SECRET, "headers": {"authorization": format!("Bearer {SECRET}")}}),
        outcome: Outcome::Failed,
        detail: format!("zammad: 401 token {SECRET} is not valid"),
    };
    let id = log.append(&written).await.expect("append");
    assert!(id > 0, "an id from the table: {id}");

    let got = log.query(&all()).await.expect("query");
    assert_eq!(got.len(), 1, "{got:?}");
    let r = &got[0];
    assert_eq!(r.id, id);
    assert_eq!(r.at, at, "the time survives (millisecond precision)");
    assert_eq!((r.actor.as_str(), r.context.as_str()), ("alice@ops-1", "prod"));
    assert_eq!((r.action.as_str(), r.target.as_str(), r.outcome), ("approve", "job j9", Outcome::Failed));
    assert_eq!(r.params["token"], "***", "params: {}", r.params);
    assert_eq!(r.params["headers"]["authorization"], "Bearer ***", "params: {}", r.params);
    assert_eq!(r.params["action"], "approve", "the rest of params is kept: {}", r.params);
    assert_eq!(r.detail, "zammad: 401 token *** is not valid");
    let as_text = format!("{r:?} {}", r.params);
    assert!(!as_text.contains(SECRET), "the secret came back: {as_text}");

    // In the table itself, not just in what the code reads back.
    assert_eq!(pg.psql("postgres", "SELECT count(*) FROM mcptop_audit"), "1");
    let raw = pg.psql("postgres", "SELECT params::text || ' ' || detail FROM mcptop_audit");
    assert!(!raw.contains(SECRET) && raw.contains("***"), "stored: {raw}");

    // Filters work on PostgreSQL too.
    let none = log.query(&Query { action: Some("retry".into()), ..all() }).await.expect("query");
    assert!(none.is_empty(), "{none:?}");
    let by_actor = log.query(&Query { actor: Some("ALICE".into()), ..all() }).await.expect("query");
    assert_eq!(ids(&by_actor), vec![id]);

    // Two processes' logs creating the same missing table at once, and appending: every append
    // succeeds (one CREATE wins, the other sees the table exist).
    let t = Duration::from_secs(5);
    let x = AuditLog::postgres(&pg.url(), None, "mcptop_audit_race", t).expect("log x");
    let y = AuditLog::postgres(&pg.url(), None, "mcptop_audit_race", t).expect("log y");
    let records: Vec<Record> = (0..40)
        .map(|i| record(Utc::now().timestamp_millis(), &format!("user{i}@ops"), "retry", "job r", Outcome::Ok, ""))
        .collect();
    let writes = records.iter().enumerate().map(|(i, r)| if i % 2 == 0 { x.append(r) } else { y.append(r) });
    let results = futures_util::future::join_all(writes).await;
    let failures: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(failures.is_empty(), "concurrent appends failed: {failures:?}");
    let distinct: BTreeSet<i64> = results.iter().filter_map(|r| r.as_ref().ok().copied()).collect();
    assert_eq!(distinct.len(), 40, "40 distinct ids");
    assert_eq!(pg.psql("postgres", "SELECT count(*) FROM mcptop_audit_race"), "40");

    // And a second log on the existing table appends next to the first one's record.
    let z = AuditLog::postgres(&pg.url(), None, "mcptop_audit", t).expect("log z");
    let more: Vec<Record> = (0..40)
        .map(|i| record(Utc::now().timestamp_millis(), "bob@ops", "cancel", &format!("job c{i}"), Outcome::Ok, ""))
        .collect();
    let writes = more.iter().enumerate().map(|(i, r)| if i % 2 == 0 { log.append(r) } else { z.append(r) });
    let results = futures_util::future::join_all(writes).await;
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    assert_eq!(pg.psql("postgres", "SELECT count(*) FROM mcptop_audit"), "41");
    let newest = z.query(&Query { limit: 1, ..Default::default() }).await.expect("query");
    assert_eq!(newest.len(), 1);
    assert!(newest[0].id > id, "newest first: {newest:?}");
}

// ---------------------------------------------------------------------------------------------
// 3. Read-only refused in the action layer, and recorded
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn read_only_is_enforced_in_the_action_layer_and_audited() {
    let redis = Redis::start();
    let mut c = redis.conn();
    seed_failed_job(&mut c, "j1");

    let file = FileConfig { read_only: true, ..Default::default() };
    let ov = Overrides { redis_url: Some(redis.url()), ..Default::default() };
    let settings = config::resolve(file, &ov).expect("settings");
    assert!(settings.read_only, "read_only from the file is kept");
    let sources = Sources::from_context(&settings).expect("sources");
    let log = Arc::new(AuditLog::sqlite_memory());
    let actions = Actions::new(&settings, &sources, log.clone());
    assert!(actions.read_only);
    assert!(actions.refusal().is_some(), "the UI is told why");

    let job = JobRef { id: "j1".into(), host: Some("db-01".into()), severity: Severity::High };
    let result = actions.run(ActionRequest::Retry { job }).await;
    assert!(matches!(result, Err(ActionError::ReadOnly(_))), "retry in read-only mode: {result:?}");
    if let Err(e) = &result {
        assert_eq!(e.exit_code(), 3);
    }

    // Nothing changed in Redis.
    assert_eq!(hget(&mut c, "mcp:job:j1", "status").as_deref(), Some("failed"));
    assert_eq!(llen(&mut c, "mcp:queue:analysis"), 0, "nothing was queued");
    assert_eq!(hget(&mut c, "mcp:job:j1", "retried_by"), None);

    // Exactly one record for it: failed, "refused: …".
    let records = log.query(&Query { action: Some("retry".into()), ..all() }).await.expect("query");
    assert_eq!(records.len(), 1, "{records:?}");
    let r = &records[0];
    assert_eq!(r.outcome, Outcome::Failed);
    assert!(r.detail.starts_with("refused:"), "detail: {:?}", r.detail);
    assert!(r.detail.contains("read-only"), "detail: {:?}", r.detail);
    assert_eq!(r.target, "job j1");
    assert_eq!(r.context, settings.context_name);
    assert!(!r.actor.is_empty(), "an actor is recorded");
    assert_eq!(r.params["job"]["id"], "j1", "params: {}", r.params);

    // A new analysis is refused the same way and creates nothing.
    let request = AnalysisRequest {
        alert_type: "DiskFull".into(),
        source: "manual".into(),
        hostname: "db-02".into(),
        severity: "high".into(),
        timestamp: "2026-01-01T00:00:00Z".into(),
        description: "/var is 97% full".into(),
        ..Default::default()
    };
    let result = actions.run(ActionRequest::Analyze { request }).await;
    assert!(matches!(result, Err(ActionError::ReadOnly(_))), "analyze in read-only mode: {result:?}");
    assert_eq!(llen(&mut c, "mcp:queue:analysis"), 0, "nothing was queued");
    assert!(keys(&mut c, "mcp:dedup:*").is_empty(), "no dedup key");
    let total: i64 = redis::cmd("ZCARD").arg("mcp:jobs").query(&mut c).expect("ZCARD");
    assert_eq!(total, 1, "no job was created");

    let records = log.query(&all()).await.expect("query");
    assert_eq!(records.len(), 2, "{records:?}");
    assert!(records.iter().all(|r| r.outcome == Outcome::Failed && r.detail.starts_with("refused:")), "{records:?}");
    assert_eq!(records[0].action, "analyze", "newest first");
}

// ---------------------------------------------------------------------------------------------
// 4. The CLI: read-only exit 3, then retry and cancel for real, all in `mcptop audit`
// ---------------------------------------------------------------------------------------------

#[test]
fn cli_read_only_refuses_with_exit_3_and_the_audit_command_shows_it() {
    let redis = Redis::start();
    let url = redis.url();
    let mut c = redis.conn();
    seed_failed_job(&mut c, "j1");
    let home = tempfile::tempdir().expect("home");
    let home = home.path();

    // Read-only: refused, exit 3, nothing changed; recorded in the default SQLite file.
    let out = mcptop_in(home, &["--redis-url", &url, "--read-only", "retry", "j1", "--yes"]);
    assert_eq!(out.status.code(), Some(3), "read-only retry: {}", said(&out));
    assert!(stderr(&out).contains("read-only"), "says why: {}", said(&out));
    assert_eq!(hget(&mut c, "mcp:job:j1", "status").as_deref(), Some("failed"));
    assert_eq!(llen(&mut c, "mcp:queue:analysis"), 0);
    let file = home.join("data").join("mcptop").join("audit.sqlite3");
    assert!(file.is_file(), "the default audit file {} exists", file.display());

    let records = audit_records(home, &url, &[]);
    assert_eq!(records.len(), 1, "{records:#?}");
    let r = &records[0];
    assert_eq!(r["action"], "retry", "{r}");
    assert_eq!(r["outcome"], "failed", "{r}");
    assert_eq!(r["target"], "job j1", "{r}");
    assert!(r["detail"].as_str().is_some_and(|d| d.starts_with("refused:")), "{r}");
    assert!(r["at"].as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok()).is_some(), "at is RFC 3339: {r}");
    assert!(r["id"].as_i64().is_some_and(|id| id > 0), "{r}");

    // The table form shows it too.
    let table = mcptop_in(home, &["--redis-url", &url, "audit"]);
    assert_eq!(table.status.code(), Some(0), "{}", said(&table));
    assert!(stdout(&table).contains("retry") && stdout(&table).contains("refused"), "{}", said(&table));

    // For real: exit 0, queued again with its attempts kept, one queue entry.
    let out = mcptop_in(home, &["--redis-url", &url, "retry", "j1", "--yes", "--output", "json"]);
    assert_eq!(out.status.code(), Some(0), "retry: {}", said(&out));
    let v = json_of(&out);
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["data"]["status"], "queued", "{v}");
    assert_eq!(hget(&mut c, "mcp:job:j1", "status").as_deref(), Some("queued"));
    assert_eq!(hget(&mut c, "mcp:job:j1", "attempts").as_deref(), Some("2"), "attempts kept");
    assert!(hget(&mut c, "mcp:job:j1", "retried_by").is_some_and(|b| b.starts_with("mcptop:")), "retried_by names who");
    assert_eq!(llen(&mut c, "mcp:queue:analysis"), 1);
    let entry: Option<String> = redis::cmd("LINDEX").arg("mcp:queue:analysis").arg(0).query(&mut c).expect("LINDEX");
    let entry: serde_json::Value = serde_json::from_str(&entry.expect("an entry")).expect("entry JSON");
    assert_eq!(entry, json!({"job_id": "j1"}));

    let records = audit_records(home, &url, &["--action", "retry"]);
    let outcomes: Vec<&str> = records.iter().filter_map(|r| r["outcome"].as_str()).collect();
    assert_eq!(outcomes, vec!["ok", "started", "failed"], "newest first: {records:#?}");
    assert!(records.iter().all(|r| r["target"] == "job j1"), "{records:#?}");
    let ids: Vec<i64> = records.iter().filter_map(|r| r["id"].as_i64()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "ids descending: {ids:?}");

    // Again: the job is queued, not failed: refused, exit 3, nothing changed.
    let out = mcptop_in(home, &["--redis-url", &url, "retry", "j1", "--yes"]);
    assert_eq!(out.status.code(), Some(3), "retry of a queued job: {}", said(&out));
    assert!(stderr(&out).contains("queued"), "says the status: {}", said(&out));
    assert_eq!(hget(&mut c, "mcp:job:j1", "status").as_deref(), Some("queued"));
    assert_eq!(llen(&mut c, "mcp:queue:analysis"), 1, "not queued twice");

    // Cancel: exit 0, cancelled, off the queue.
    let out = mcptop_in(home, &["--redis-url", &url, "cancel", "j1", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "cancel: {}", said(&out));
    assert_eq!(hget(&mut c, "mcp:job:j1", "status").as_deref(), Some("cancelled"));
    assert_eq!(llen(&mut c, "mcp:queue:analysis"), 0, "taken off its queue");

    let cancels = audit_records(home, &url, &["--action", "cancel"]);
    let outcomes: Vec<&str> = cancels.iter().filter_map(|r| r["outcome"].as_str()).collect();
    assert_eq!(outcomes, vec!["ok", "started"], "{cancels:#?}");
    let failed = audit_records(home, &url, &["--outcome", "failed"]);
    assert_eq!(failed.len(), 2, "the read-only refusal and the wrong-status refusal: {failed:#?}");
}

// ---------------------------------------------------------------------------------------------
// 5. `config show` prints references, never values
// ---------------------------------------------------------------------------------------------

#[test]
fn config_show_never_prints_secrets() {
    const ZAMMAD: &str = "zammad-5ecret-Qv81xT";
    const GATEWAY: &str = "gateway-5ecret-Lm29pZ";
    const NTFY: &str = "tk_ntfy5ecretRw73kd";
    let home = tempfile::tempdir().expect("home");
    let home = home.path();
    let token_file = home.join("ntfy-token");
    std::fs::write(&token_file, format!("{NTFY}\n")).expect("token file");
    let config = home.join("mcptop.toml");
    let text = format!(
        "[contexts.prod]\n\
         redis_url = \"redis://127.0.0.1:{port}/0\"\n\
         gateway_url = \"http://127.0.0.1:1\"\n\
         gateway_token = \"env:MCPTOP_T_GW\"\n\
         zammad = {{ url = \"http://127.0.0.1:1\", token = \"env:MCPTOP_T_ZAMMAD\" }}\n\
         ntfy = {{ url = \"http://127.0.0.1:1\", topic = \"ops\", token = \"file:{file}\" }}\n",
        port = free_port(),
        file = token_file.display()
    );
    std::fs::write(&config, text).expect("config");
    let env = [("MCPTOP_T_ZAMMAD", ZAMMAD), ("MCPTOP_T_GW", GATEWAY)];
    let config = config.to_str().expect("path");
    let leaks = |text: &str| [ZAMMAD, GATEWAY, NTFY].into_iter().filter(|s| text.contains(s)).collect::<Vec<_>>();

    let table = mcptop_env(home, &["--config", config, "--log-level", "trace", "config", "show"], &env);
    assert_eq!(table.status.code(), Some(0), "config show: {}", said(&table));
    let text = stdout(&table);
    assert!(text.contains("env:MCPTOP_T_ZAMMAD"), "the reference is shown: {text}");
    assert!(text.contains("env:MCPTOP_T_GW"), "the reference is shown: {text}");
    assert!(text.contains(&format!("file:{}", token_file.display())), "the reference is shown: {text}");
    assert!(text.contains("set"), "whether each secret was read: {text}");
    assert!(leaks(&said(&table)).is_empty(), "printed {:?}:\n{}", leaks(&said(&table)), said(&table));

    let out =
        mcptop_env(home, &["--config", config, "--log-level", "trace", "config", "show", "--output", "json"], &env);
    assert_eq!(out.status.code(), Some(0), "config show --output json: {}", said(&out));
    assert!(leaks(&said(&out)).is_empty(), "printed {:?}:\n{}", leaks(&said(&out)), said(&out));
    let v = json_of(&out);
    assert_eq!(v["context"], "prod", "{v}");
    assert_eq!(v["secrets"]["zammad.token"], "set", "{v}");
    assert_eq!(v["secrets"]["gateway_token"], "set", "{v}");
    assert_eq!(v["secrets"]["ntfy.token"], "set", "{v}");
    assert_eq!(v["secrets"]["redis_password"], "not set", "{v}");
    assert_eq!(v["settings"]["zammad"]["token"], "env:MCPTOP_T_ZAMMAD", "{v}");
    assert_eq!(v["settings"]["gateway_token"], "env:MCPTOP_T_GW", "{v}");
    assert_eq!(v["settings"]["ntfy"]["token"], format!("file:{}", token_file.display()), "{v}");
    assert!(stdout(&out).contains("env:MCPTOP_T_ZAMMAD"));

    // Nor in any file it left behind (logs at trace level, the audit directory).
    let mut left = Vec::new();
    let mut stack = vec![home.join("state"), home.join("data")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                left.push(path);
            }
        }
    }
    for path in left {
        let bytes = std::fs::read(&path).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        assert!(leaks(&text).is_empty(), "{} holds {:?}", path.display(), leaks(&text));
    }
}

// ---------------------------------------------------------------------------------------------
// 6. `analyze`: bad input names the field and writes nothing; good input creates one job
// ---------------------------------------------------------------------------------------------

#[test]
fn bad_analysis_input_names_the_field_and_writes_nothing() {
    let redis = Redis::start();
    let url = redis.url();
    let mut c = redis.conn();
    let home = tempfile::tempdir().expect("home");
    let home = home.path();
    let analyze = |host: &str, severity: &str, description: &str, extra: &[&str]| {
        let mut args: Vec<&str> = vec![
            "--redis-url",
            &url,
            "analyze",
            "--alert-type",
            "DiskFull",
            "--host",
            host,
            "--severity",
            severity,
            "--description",
            description,
            "--yes",
        ];
        args.extend_from_slice(extra);
        mcptop_in(home, &args)
    };

    let out = analyze("db-01", "urgent", "x", &[]);
    assert_eq!(out.status.code(), Some(2), "bad severity: {}", said(&out));
    assert!(stderr(&out).contains("severity"), "names the field: {}", said(&out));

    // 64 KiB: past the 32 KiB limit, and still under the kernel's 128 KiB limit on one argument.
    let big = "x".repeat(64 * 1024);
    let out = analyze("db-01", "high", &big, &[]);
    assert_eq!(out.status.code(), Some(2), "huge description: {}", stderr(&out).chars().take(2000).collect::<String>());
    assert!(
        stderr(&out).contains("description"),
        "names the field: {}",
        stderr(&out).chars().take(2000).collect::<String>()
    );

    let out = analyze("db\x1b[2J01", "high", "x", &[]);
    assert_eq!(out.status.code(), Some(2), "escape in the host: {}", said(&out));
    assert!(stderr(&out).contains("hostname"), "names the field: {}", said(&out));
    assert!(!said(&out).contains('\x1b'), "no raw escape reaches the terminal: {:?}", said(&out));

    let written = keys(&mut c, "mcp:*");
    assert!(written.is_empty(), "bad input wrote nothing to Redis: {written:?}");

    // A good one: a new job, then the same again within the window: the same job.
    let description = "/var is 97% full";
    let first = analyze("db-01", "high", description, &["--output", "json"]);
    assert_eq!(first.status.code(), Some(0), "analyze: {}", said(&first));
    let v = json_of(&first);
    assert_eq!(v["deduplicated"], false, "{v}");
    let id = v["job_id"].as_str().unwrap_or_else(|| panic!("a job id: {v}")).to_string();
    assert!(!id.is_empty());

    let again = analyze("db-01", "high", description, &["--output", "json"]);
    assert_eq!(again.status.code(), Some(0), "analyze again: {}", said(&again));
    let v = json_of(&again);
    assert_eq!(v["deduplicated"], true, "{v}");
    assert_eq!(v["job_id"], id.as_str(), "the same job: {v}");

    // The job hash as CONTRACT.md §1 describes it.
    let job: HashMap<String, String> =
        redis::cmd("HGETALL").arg(format!("mcp:job:{id}")).query(&mut c).expect("HGETALL");
    let field = |k: &str| job.get(k).map(String::as_str).unwrap_or_else(|| panic!("field {k} missing: {job:?}"));
    assert_eq!(field("id"), id);
    assert_eq!(field("queue"), "analysis");
    assert_eq!(field("status"), "queued");
    assert_eq!(field("alert_type"), "DiskFull");
    assert_eq!(field("source"), "manual");
    assert_eq!(field("hostname"), "db-01");
    assert_eq!(field("severity"), "high");
    assert_eq!(field("description"), description);
    assert_eq!(field("attempts"), "0");
    assert!(field("requested_by").starts_with("mcptop:"), "{job:?}");
    for k in ["timestamp", "created_at", "updated_at"] {
        assert!(DateTime::parse_from_rfc3339(field(k)).is_ok(), "{k} is RFC 3339: {job:?}");
    }

    // Indexed, queued once, and the dedup key with its window.
    let in_jobs: Option<f64> = redis::cmd("ZSCORE").arg("mcp:jobs").arg(&id).query(&mut c).expect("ZSCORE");
    assert!(in_jobs.is_some(), "in mcp:jobs");
    let in_queued: Option<f64> = redis::cmd("ZSCORE").arg("mcp:jobs:queued").arg(&id).query(&mut c).expect("ZSCORE");
    assert!(in_queued.is_some(), "in mcp:jobs:queued");
    let entries: Vec<String> =
        redis::cmd("LRANGE").arg("mcp:queue:analysis").arg(0).arg(-1).query(&mut c).expect("LRANGE");
    assert_eq!(entries.len(), 1, "queued once: {entries:?}");
    let entry: serde_json::Value = serde_json::from_str(&entries[0]).expect("entry JSON");
    assert_eq!(entry, json!({"job_id": id.as_str()}));

    let dedup = keys(&mut c, "mcp:dedup:*");
    assert_eq!(dedup.len(), 1, "{dedup:?}");
    let hash = dedup[0].trim_start_matches("mcp:dedup:");
    assert!(hash.len() == 64 && hash.chars().all(|ch| ch.is_ascii_hexdigit() && !ch.is_ascii_uppercase()), "{hash}");
    let expected = AnalysisRequest {
        alert_type: "DiskFull".into(),
        source: "manual".into(),
        hostname: "db-01".into(),
        description: description.into(),
        ..Default::default()
    }
    .dedup_hash();
    assert_eq!(hash, expected, "sha256 of alert_type|source|hostname|description");
    let holds: Option<String> = redis::cmd("GET").arg(&dedup[0]).query(&mut c).expect("GET");
    assert_eq!(holds.as_deref(), Some(id.as_str()));
    let ttl: i64 = redis::cmd("TTL").arg(&dedup[0]).query(&mut c).expect("TTL");
    assert!((1..=600).contains(&ttl), "TTL within the default 600 s window: {ttl}");

    // Both runs recorded; the refused inputs never ran.
    let records = audit_records(home, &url, &["--action", "analyze", "--outcome", "ok"]);
    assert_eq!(records.len(), 2, "{records:#?}");
    assert!(records.iter().all(|r| r["target"] == "DiskFull on db-01"), "{records:#?}");
}
