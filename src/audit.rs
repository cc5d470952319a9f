//! The audit log (CONTRACT.md §5): every action, from the TUI or the CLI, recorded before it
//! runs and again with its outcome. Stored through sqlx — a SQLite file in the user's data
//! directory by default, a PostgreSQL table when configured. Append-only: this module only
//! inserts and selects; on SQLite, triggers also refuse any change to a written row.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{AssertSqlSafe, Row};
use tokio::sync::OnceCell;

use crate::config::Settings;
use crate::domain::Secret;
use crate::domain::secret::scrub_all;
use crate::domain::text::clean_line;

/// How an action ended, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Started,
    Ok,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Started => "started",
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
        }
    }
    fn parse(s: &str) -> Outcome {
        match s {
            "ok" => Outcome::Ok,
            "started" => Outcome::Started,
            _ => Outcome::Failed,
        }
    }
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    /// Assigned by the store; 0 before it is written.
    pub id: i64,
    pub at: DateTime<Utc>,
    /// `user@host`, and `(ssh ADDRESS)` when there is one.
    pub actor: String,
    pub context: String,
    pub action: String,
    pub target: String,
    /// The request, secrets removed.
    pub params: serde_json::Value,
    pub outcome: Outcome,
    pub detail: String,
}

/// Which records to read, newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    pub since: Option<DateTime<Utc>>,
    /// Part of the actor.
    pub actor: Option<String>,
    pub action: Option<String>,
    pub outcome: Option<String>,
    /// The context it was done in, exactly.
    pub context: Option<String>,
    pub limit: usize,
}

enum Store {
    Sqlite(SqlitePool),
    Postgres { pool: PgPool, table: String },
}

/// The audit log of one installation.
pub struct AuditLog {
    store: Store,
    /// "SQLite /path/audit.sqlite3", "PostgreSQL table mcptop_audit".
    pub location: String,
    schema: OnceCell<()>,
    /// Removed from params and details before they are written.
    secrets: Vec<Secret>,
    timeout: Duration,
}

const SQLITE_SCHEMA: [&str; 4] = [
    "CREATE TABLE IF NOT EXISTS audit_log (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, \
     actor TEXT NOT NULL, context TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL, \
     params TEXT NOT NULL, outcome TEXT NOT NULL, detail TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at)",
    "CREATE TRIGGER IF NOT EXISTS audit_log_keep_rows BEFORE UPDATE ON audit_log \
     BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_log_keep_all BEFORE DELETE ON audit_log \
     BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
];

impl AuditLog {
    /// The store the settings name: PostgreSQL when `audit.database_url` is set, else the SQLite
    /// file (`audit.path`, or `$XDG_DATA_HOME/mcptop/audit.sqlite3`). Opens nothing yet; call
    /// inside a Tokio runtime.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<AuditLog> {
        let secrets = settings_secrets(settings);
        let timeout = settings.context.timeout().max(Duration::from_secs(2));
        let log = match &settings.audit.database_url {
            Some(url) => {
                let table = settings.audit.table.clone().unwrap_or_else(|| "mcptop_audit".into());
                AuditLog::postgres(url, settings.audit_password.as_ref(), &table, timeout)?
            }
            None => {
                let path = match &settings.audit.path {
                    Some(p) => p.clone(),
                    None => default_path()
                        .ok_or_else(|| anyhow::anyhow!("no data directory for the audit log: set audit.path"))?,
                };
                AuditLog::sqlite_file(&path, timeout)?
            }
        };
        Ok(AuditLog { secrets, ..log })
    }

    /// A SQLite file, created with its directory when missing.
    pub fn sqlite_file(path: &Path, timeout: Duration) -> anyhow::Result<AuditLog> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| anyhow::anyhow!("audit log: cannot create {}: {}", dir.display(), e.kind()))?;
        }
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(timeout);
        let pool = SqlitePoolOptions::new().max_connections(2).acquire_timeout(timeout).connect_lazy_with(opts);
        Ok(AuditLog::new(Store::Sqlite(pool), format!("SQLite {}", path.display()), timeout))
    }

    /// An in-memory SQLite log, for the demo: the same code, nothing left behind.
    pub fn sqlite_memory() -> AuditLog {
        let opts = SqliteConnectOptions::from_str("sqlite::memory:").unwrap_or_else(|_| SqliteConnectOptions::new());
        // One connection that never closes: an in-memory database lives as long as it does.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_lazy_with(opts);
        AuditLog::new(Store::Sqlite(pool), "the demo's in-memory log".into(), Duration::from_secs(2))
    }

    /// A PostgreSQL table, created when missing.
    pub fn postgres(url: &str, password: Option<&Secret>, table: &str, timeout: Duration) -> anyhow::Result<AuditLog> {
        let mut opts = PgConnectOptions::from_str(url)
            .map_err(|e| anyhow::anyhow!("audit.database_url: {}", clean_line(&e.to_string())))?
            .application_name("mcptop-audit");
        if let Some(pw) = password {
            opts = opts.password(pw.expose());
        }
        let pool = PgPoolOptions::new().max_connections(2).acquire_timeout(timeout).connect_lazy_with(opts);
        let location = format!("PostgreSQL table {table}");
        let mut log = AuditLog::new(Store::Postgres { pool, table: table.to_string() }, location, timeout);
        log.secrets.extend(password.cloned());
        Ok(log)
    }

    fn new(store: Store, location: String, timeout: Duration) -> AuditLog {
        AuditLog { store, location, schema: OnceCell::new(), secrets: Vec::new(), timeout }
    }

    /// Remove these values from everything written from now on.
    pub fn with_secrets(mut self, secrets: impl IntoIterator<Item = Secret>) -> AuditLog {
        self.secrets.extend(secrets);
        self
    }

    fn error(&self, e: sqlx::Error) -> String {
        let msg = match e {
            sqlx::Error::Database(db) => db.message().to_string(),
            sqlx::Error::PoolTimedOut => format!("no connection within {} ms", self.timeout.as_millis()),
            other => other.to_string(),
        };
        format!("audit log ({}): {}", self.location, clean_line(&scrub_all(&msg, &self.secrets)))
    }

    async fn ensure_schema(&self) -> Result<(), String> {
        self.schema
            .get_or_try_init(|| async {
                match &self.store {
                    Store::Sqlite(pool) => {
                        for sql in SQLITE_SCHEMA {
                            sqlx::query(sql).execute(pool).await.map_err(|e| self.error(e))?;
                        }
                    }
                    Store::Postgres { pool, table } => {
                        let sql = format!(
                            "CREATE TABLE IF NOT EXISTS {table} (id BIGSERIAL PRIMARY KEY, at TIMESTAMPTZ NOT NULL, \
                             actor TEXT NOT NULL, context TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL, \
                             params JSONB NOT NULL, outcome TEXT NOT NULL, detail TEXT NOT NULL)"
                        );
                        // Two processes creating it at once: one wins, the other sees it exist.
                        if let Err(e) = sqlx::query(AssertSqlSafe(sql)).execute(pool).await {
                            let exists = format!("SELECT 1 FROM {table} LIMIT 0");
                            sqlx::query(AssertSqlSafe(exists)).execute(pool).await.map_err(|_| self.error(e))?;
                        }
                    }
                }
                Ok::<(), String>(())
            })
            .await
            .map(|_| ())
    }

    /// Write one record; answers its id. Every secret is removed from every field first (the
    /// settings' and every one registered: other contexts', session tokens), in any encoding.
    pub async fn append(&self, r: &Record) -> Result<i64, String> {
        let work = async {
            self.ensure_schema().await?;
            let params = scrub_json(r.params.clone(), &self.secrets).to_string();
            let detail = scrub_all(&r.detail, &self.secrets);
            let (actor, target) = (scrub_all(&r.actor, &self.secrets), scrub_all(&r.target, &self.secrets));
            let r = &Record { actor, target, ..r.clone() };
            match &self.store {
                Store::Sqlite(pool) => sqlx::query(
                    "INSERT INTO audit_log (at, actor, context, action, target, params, outcome, detail) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                )
                .bind(r.at.to_rfc3339_opts(SecondsFormat::Millis, true))
                .bind(&r.actor)
                .bind(&r.context)
                .bind(&r.action)
                .bind(&r.target)
                .bind(params)
                .bind(r.outcome.as_str())
                .bind(detail)
                .fetch_one(pool)
                .await
                .and_then(|row| row.try_get::<i64, _>(0))
                .map_err(|e| self.error(e)),
                Store::Postgres { pool, table } => sqlx::query(AssertSqlSafe(format!(
                    "INSERT INTO {table} (at, actor, context, action, target, params, outcome, detail) \
                     VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8) RETURNING id"
                )))
                .bind(r.at)
                .bind(&r.actor)
                .bind(&r.context)
                .bind(&r.action)
                .bind(&r.target)
                .bind(params)
                .bind(r.outcome.as_str())
                .bind(detail)
                .fetch_one(pool)
                .await
                .and_then(|row| row.try_get::<i64, _>(0))
                .map_err(|e| self.error(e)),
            }
        };
        tokio::time::timeout(self.timeout * 2, work).await.map_err(|_| {
            format!("audit log ({}): timed out after {} ms", self.location, (self.timeout * 2).as_millis())
        })?
    }

    /// Records matching `q`, newest first.
    pub async fn query(&self, q: &Query) -> Result<Vec<Record>, String> {
        let work = async {
            self.ensure_schema().await?;
            let since = q.since.unwrap_or(DateTime::<Utc>::UNIX_EPOCH).max(DateTime::<Utc>::UNIX_EPOCH);
            let text = |o: &Option<String>| o.clone().unwrap_or_default();
            let limit = q.limit.clamp(1, 100_000) as i64;
            let filters = "(? = '' OR instr(lower(actor), lower(?)) > 0) AND (? = '' OR action = ?) AND (? = '' OR outcome = ?) \
                 AND (? = '' OR context = ?)";
            match &self.store {
                Store::Sqlite(pool) => {
                    let sql = format!(
                        "SELECT id, at, actor, context, action, target, params, outcome, detail FROM audit_log \
                         WHERE at >= ? AND {filters} ORDER BY id DESC LIMIT ?"
                    );
                    let rows = sqlx::query(AssertSqlSafe(sql))
                        .bind(since.to_rfc3339_opts(SecondsFormat::Millis, true))
                        .bind(text(&q.actor))
                        .bind(text(&q.actor))
                        .bind(text(&q.action))
                        .bind(text(&q.action))
                        .bind(text(&q.outcome))
                        .bind(text(&q.outcome))
                        .bind(text(&q.context))
                        .bind(text(&q.context))
                        .bind(limit)
                        .fetch_all(pool)
                        .await
                        .map_err(|e| self.error(e))?;
                    Ok(rows
                        .iter()
                        .map(|row| {
                            let at: String = row.try_get("at").unwrap_or_default();
                            let params: String = row.try_get("params").unwrap_or_default();
                            record(row, crate::domain::job::parse_time(&at), serde_json::from_str(&params).ok())
                        })
                        .collect())
                }
                Store::Postgres { pool, table } => {
                    let sql = format!(
                        "SELECT id, at, actor, context, action, target, params, outcome, detail FROM {table} \
                         WHERE at >= $1 AND ($2 = '' OR strpos(lower(actor), lower($2)) > 0) AND ($3 = '' OR action = $3) \
                         AND ($4 = '' OR outcome = $4) AND ($5 = '' OR context = $5) ORDER BY id DESC LIMIT $6"
                    );
                    let rows = sqlx::query(AssertSqlSafe(sql))
                        .bind(since)
                        .bind(text(&q.actor))
                        .bind(text(&q.action))
                        .bind(text(&q.outcome))
                        .bind(text(&q.context))
                        .bind(limit)
                        .fetch_all(pool)
                        .await
                        .map_err(|e| self.error(e))?;
                    Ok(rows.iter().map(|row| record(row, row.try_get("at").ok(), row.try_get("params").ok())).collect())
                }
            }
        };
        tokio::time::timeout(self.timeout * 2, work).await.map_err(|_| {
            format!("audit log ({}): timed out after {} ms", self.location, (self.timeout * 2).as_millis())
        })?
    }
}

fn record<R: Row>(row: &R, at: Option<DateTime<Utc>>, params: Option<serde_json::Value>) -> Record
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let text = |k: &str| row.try_get::<String, _>(k).unwrap_or_default();
    Record {
        id: row.try_get::<i64, _>("id").unwrap_or_default(),
        at: at.unwrap_or(DateTime::<Utc>::MIN_UTC),
        actor: text("actor"),
        context: text("context"),
        action: text("action"),
        target: text("target"),
        params: params.unwrap_or(serde_json::Value::Null),
        outcome: Outcome::parse(&text("outcome")),
        detail: text("detail"),
    }
}

/// Every string in a JSON value with the secrets removed: scrubbing the serialised text would
/// miss a secret that JSON escapes, and could break the JSON around one that looks like syntax.
fn scrub_json(v: serde_json::Value, secrets: &[Secret]) -> serde_json::Value {
    use serde_json::Value;
    let v = match v {
        Value::String(s) => Value::String(secrets.iter().fold(s, |t, x| x.scrub(&t))),
        Value::Array(a) => Value::Array(a.into_iter().map(|x| scrub_json(x, secrets)).collect()),
        Value::Object(o) => Value::Object(
            o.into_iter().map(|(k, x)| (secrets.iter().fold(k, |t, s| s.scrub(&t)), scrub_json(x, secrets))).collect(),
        ),
        other => other,
    };
    crate::domain::secret::scrub_json(v)
}

/// `$XDG_DATA_HOME/mcptop/audit.sqlite3`.
pub fn default_path() -> Option<PathBuf> {
    dirs::data_dir().map(|d| d.join("mcptop").join("audit.sqlite3"))
}

/// Every secret the settings hold, so none can reach the log through a parameter or an error.
fn settings_secrets(s: &Settings) -> Vec<Secret> {
    [
        &s.redis_password,
        &s.kb_password,
        &s.litellm_key,
        &s.gateway_token,
        &s.zammad_token,
        &s.ntfy_token,
        &s.audit_password,
    ]
    .into_iter()
    .flatten()
    .chain(s.service_tokens.iter().flatten())
    .cloned()
    .collect()
}

/// Parse `--since`: `24h`, `30m`, `7d`, or an RFC 3339 time.
pub fn parse_since(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    if let Some(t) = crate::domain::job::parse_time(s).filter(|_| s.contains('-')) {
        return Ok(t);
    }
    let secs = crate::actions::silence::parse_duration(s)?;
    Ok(now - chrono::Duration::seconds(secs))
}
