//! The pgvector knowledge base (CONTRACT.md §3, APIS.md §7) through sqlx: a small pool that
//! connects lazily, values always bound, one `ORDER BY embedding <=> $1 LIMIT $2` query per
//! search (the shape the HNSW index serves), and errors that name what is wrong.
//!
//! Table and column names cannot be bound; they come from the config, where they were checked
//! to be plain identifiers, and are double-quoted here.

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pgvector::Vector;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{AssertSqlSafe, Row};
use tokio::sync::Mutex;

use crate::domain::Secret;
use crate::domain::rag::{KbStats, MAX_HIT_CHARS, RagHit};
use crate::domain::text::clean_line;

/// The longest one database call may take: a little over the server's `statement_timeout`, so
/// that its cleaner error wins when it fires.
pub fn call_budget(timeout: Duration) -> Duration {
    timeout + Duration::from_millis(250)
}

/// Column names of the knowledge-base table.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct KbColumns {
    pub id: String,
    pub embedding: String,
    pub text: String,
    pub metadata: String,
}

impl Default for KbColumns {
    fn default() -> Self {
        KbColumns { id: "id".into(), embedding: "embedding".into(), text: "text".into(), metadata: "metadata".into() }
    }
}
use super::error::RagError;

/// Tables with at least this many rows (by the planner's estimate) are not counted exactly.
const ESTIMATE_ABOVE: f64 = 100_000.0;
/// How long the table's shape (dimensions, index) is trusted before it is read again.
const SHAPE_TTL: Duration = Duration::from_secs(60);
/// pgvector's default `hnsw.ef_search`; HNSW returns at most this many rows.
const DEFAULT_EF_SEARCH: u32 = 40;

#[derive(Debug, Clone)]
pub struct KbSettings {
    pub url: String,
    pub password: Option<Secret>,
    pub table: String,
    pub columns: KbColumns,
    /// Upper bound on one database call; also the server's `statement_timeout`.
    pub timeout: Duration,
    pub ef_search: Option<u32>,
    /// What the embedder is expected to return, checked when the column does not say.
    pub dimensions: usize,
}

pub struct KnowledgeBase {
    pool: PgPool,
    settings: KbSettings,
    /// The table as an SQL name, quoted.
    table_sql: String,
    search_sql: Arc<str>,
    count_sql: Arc<str>,
    shape: Mutex<Option<(Instant, KbStats)>>,
}

/// `name` → `"name"`, `schema.table` → `"schema"."table"` (names were checked to be identifiers).
fn quoted(name: &str) -> String {
    name.split('.').map(|part| format!("\"{part}\"")).collect::<Vec<_>>().join(".")
}

const STATS_SQL: &str = "SELECT current_database()::text AS db, \
    (SELECT extversion::text FROM pg_extension WHERE extname = 'vector') AS ext, \
    to_regclass($1)::oid::int8 AS rel, \
    (SELECT array_agg(a.attname::text) FROM pg_attribute a \
        WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped) AS cols, \
    (SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a \
        WHERE a.attrelid = to_regclass($1) AND a.attname = $2 AND NOT a.attisdropped) AS col_type, \
    (SELECT a.atttypmod FROM pg_attribute a \
        WHERE a.attrelid = to_regclass($1) AND a.attname = $2 AND NOT a.attisdropped) AS typmod, \
    (SELECT c.reltuples::float8 FROM pg_class c WHERE c.oid = to_regclass($1)) AS reltuples, \
    (SELECT array_agg(ic.relname::text || ' ' || am.amname::text || ' ' || oc.opcname::text) \
        FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam \
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] \
        JOIN pg_opclass oc ON oc.oid = i.indclass[0] \
        WHERE i.indrelid = to_regclass($1) AND a.attname = $2) AS indexes";

impl KnowledgeBase {
    /// A pool of at most two connections, none opened until the first query. Call it inside a
    /// Tokio runtime (sqlx's pool needs one, even lazily).
    pub fn new(settings: KbSettings) -> Result<KnowledgeBase, RagError> {
        let mut opts = PgConnectOptions::from_str(&settings.url)
            .map_err(|e| RagError::Database(format!("knowledge_base.database_url: {}", clean_line(&e.to_string()))))?
            .application_name("mcptop")
            .options([("statement_timeout", settings.timeout.as_millis().max(1))]);
        if let Some(pw) = &settings.password {
            opts = opts.password(pw.expose());
        }
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .min_connections(0)
            .acquire_timeout(settings.timeout)
            .idle_timeout(Duration::from_secs(120))
            .connect_lazy_with(opts);
        let c = &settings.columns;
        let table_sql = quoted(&settings.table);
        let search_sql = format!(
            "SELECT {id}::text AS id, (1 - ({emb} <=> $1))::float8 AS score, left({text}::text, $3) AS text, \
             left({meta}::text, $3) AS metadata FROM {table_sql} ORDER BY {emb} <=> $1 LIMIT $2",
            id = quoted(&c.id),
            emb = quoted(&c.embedding),
            text = quoted(&c.text),
            meta = quoted(&c.metadata),
        );
        // Identifiers only, checked by the config and quoted; every value is bound.
        let count_sql = format!("SELECT count(*) FROM {table_sql}").into();
        Ok(KnowledgeBase {
            pool,
            settings,
            table_sql,
            search_sql: search_sql.into(),
            count_sql,
            shape: Mutex::new(None),
        })
    }

    /// The search statement: `$1` the query vector, `$2` top_k, `$3` the longest text and
    /// metadata kept (a cut metadata is shown as text).
    pub fn search_sql(&self) -> &str {
        &self.search_sql
    }

    /// The pool, for tests and benchmarks that run their own statements beside the client's.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Size, dimensions and index of the table, with the pgvector extension checked.
    pub async fn stats(&self) -> Result<KbStats, RagError> {
        let stats = self.bounded("reading the catalog", self.read_stats()).await?;
        *self.shape.lock().await = Some((Instant::now(), stats.clone()));
        Ok(stats)
    }

    async fn read_stats(&self) -> Result<KbStats, RagError> {
        let s = &self.settings;
        let row = sqlx::query(STATS_SQL)
            .bind(&self.table_sql)
            .bind(&s.columns.embedding)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.db_error(e))?;
        let get_text = |name: &str| row.try_get::<Option<String>, _>(name).ok().flatten();
        let database = get_text("db").unwrap_or_else(|| "?".into());
        let Some(extension) = get_text("ext") else { return Err(RagError::ExtensionMissing { database }) };
        if row.try_get::<Option<i64>, _>("rel").ok().flatten().is_none() {
            return Err(RagError::TableMissing { table: s.table.clone(), database });
        }
        let cols: Vec<String> = row.try_get::<Option<Vec<String>>, _>("cols").ok().flatten().unwrap_or_default();
        let c = &s.columns;
        for (key, name) in [("id", &c.id), ("embedding", &c.embedding), ("text", &c.text), ("metadata", &c.metadata)] {
            if !cols.contains(name) {
                return Err(RagError::ColumnMissing {
                    table: s.table.clone(),
                    column: name.clone(),
                    key: format!("columns.{key}"),
                });
            }
        }
        let col_type = get_text("col_type").unwrap_or_default();
        if !col_type.starts_with("vector") {
            return Err(RagError::NotAVector {
                column: format!("{}.{}", s.table, c.embedding),
                found: clean_line(&col_type),
            });
        }
        let typmod = row.try_get::<Option<i32>, _>("typmod").ok().flatten().unwrap_or(-1);
        let indexes: Vec<String> = row.try_get::<Option<Vec<String>>, _>("indexes").ok().flatten().unwrap_or_default();
        let (index, index_note) = cosine_index(&indexes, &c.embedding);
        let reltuples = row.try_get::<Option<f64>, _>("reltuples").ok().flatten().unwrap_or(-1.0);
        let (rows, rows_estimated) = if reltuples >= ESTIMATE_ABOVE {
            (Some(reltuples as u64), true)
        } else {
            let count = sqlx::query_scalar::<_, i64>(AssertSqlSafe(self.count_sql.clone()))
                .fetch_one(&self.pool)
                .await
                .map_err(|e| self.db_error(e))?;
            (Some(count.max(0) as u64), false)
        };
        Ok(KbStats {
            table: s.table.clone(),
            rows,
            rows_estimated,
            dimensions: (typmod > 0).then_some(typmod as u32),
            index,
            index_note,
            extension: Some(clean_line(&extension)),
        })
    }

    /// The table's shape, read again when older than a minute.
    async fn shape(&self) -> Result<KbStats, RagError> {
        if let Some((at, s)) = self.shape.lock().await.as_ref()
            && at.elapsed() < SHAPE_TTL
        {
            return Ok(s.clone());
        }
        self.stats().await
    }

    /// The `top_k` entries nearest to `vector` by cosine distance, most similar first. The
    /// threshold is applied by the caller, so it can tell "nothing close" from "nothing there".
    pub async fn search(&self, vector: &[f32], top_k: usize) -> Result<Vec<RagHit>, RagError> {
        let shape = self.shape().await?;
        let s = &self.settings;
        match shape.dimensions {
            Some(dims) if dims as usize != vector.len() => {
                return Err(RagError::DimensionMismatch {
                    got: vector.len(),
                    want: dims as usize,
                    what: format!("column {}.{} is vector({dims})", s.table, s.columns.embedding),
                });
            }
            // A plain `vector` column says nothing about its size: hold the embedder to the config.
            None if vector.len() != s.dimensions => {
                return Err(RagError::DimensionMismatch {
                    got: vector.len(),
                    want: s.dimensions,
                    what: format!("knowledge_base.dimensions is {}", s.dimensions),
                });
            }
            _ => {}
        }
        self.bounded("the search query", self.query(vector, top_k)).await
    }

    async fn query(&self, vector: &[f32], top_k: usize) -> Result<Vec<RagHit>, RagError> {
        let q = sqlx::query(AssertSqlSafe(self.search_sql.clone()))
            .bind(Vector::from(vector.to_vec()))
            .bind(top_k as i64)
            .bind(MAX_HIT_CHARS as i32);
        let ef = self.settings.ef_search.unwrap_or(DEFAULT_EF_SEARCH).max(top_k as u32);
        let rows = if ef == DEFAULT_EF_SEARCH && self.settings.ef_search.is_none() {
            q.fetch_all(&self.pool).await
        } else {
            // HNSW returns at most ef_search rows: raise it for this query only.
            async {
                let mut tx = self.pool.begin().await?;
                sqlx::query("SELECT set_config('hnsw.ef_search', $1, true)")
                    .bind(ef.to_string())
                    .execute(&mut *tx)
                    .await?;
                let rows = q.fetch_all(&mut *tx).await?;
                tx.commit().await?;
                Ok(rows)
            }
            .await
        };
        let rows = rows.map_err(|e| self.db_error(e))?;
        Ok(rows.iter().map(hit_from_row).collect())
    }

    async fn bounded<T>(
        &self,
        what: &'static str,
        f: impl Future<Output = Result<T, RagError>>,
    ) -> Result<T, RagError> {
        let limit = call_budget(self.settings.timeout);
        tokio::time::timeout(limit, f).await.map_err(|_| RagError::Timeout { what, ms: limit.as_millis() as u64 })?
    }

    /// A database error as a message that names what is wrong, never the URL or password.
    fn db_error(&self, e: sqlx::Error) -> RagError {
        let s = &self.settings;
        match e {
            sqlx::Error::Database(db) => {
                let msg = clean_line(db.message());
                match db.code().as_deref() {
                    Some("42P01") => RagError::TableMissing { table: s.table.clone(), database: "?".into() },
                    Some("57014") => {
                        RagError::Timeout { what: "the query (statement_timeout)", ms: s.timeout.as_millis() as u64 }
                    }
                    // pgvector: "different vector dimensions {column} and {query}".
                    _ if msg.contains("different vector dimensions") => {
                        let n: Vec<usize> = msg.split(' ').filter_map(|w| w.parse().ok()).collect();
                        let (want, got) = (n.first().copied().unwrap_or(0), n.get(1).copied().unwrap_or(0));
                        let what = format!("column {}.{} is vector({want})", s.table, s.columns.embedding);
                        RagError::DimensionMismatch { got, want, what }
                    }
                    _ => RagError::Database(msg),
                }
            }
            sqlx::Error::PoolTimedOut => {
                RagError::Connect(format!("no connection to PostgreSQL within {} ms", s.timeout.as_millis()))
            }
            sqlx::Error::Io(io) => RagError::Connect(clean_line(&io.to_string())),
            sqlx::Error::Tls(t) => RagError::Connect(format!("TLS: {}", clean_line(&t.to_string()))),
            other => RagError::Database(clean_line(&other.to_string())),
        }
    }
}

/// The index that serves `<=>` on the embedding column, or a note saying why none does.
/// Each entry is `name am opclass` from the catalog.
fn cosine_index(indexes: &[String], column: &str) -> (Option<String>, Option<String>) {
    let parsed: Vec<Vec<&str>> = indexes.iter().map(|i| i.split(' ').collect()).collect();
    let serving = |am: &str| {
        parsed.iter().find(|p| p.len() == 3 && p[1] == am && p[2] == "vector_cosine_ops").map(|p| clean_line(p[0]))
    };
    if let Some(name) = serving("hnsw") {
        return (Some(format!("{name} (hnsw)")), None);
    }
    if let Some(name) = serving("ivfflat") {
        return (Some(format!("{name} (ivfflat)")), None);
    }
    let note = match parsed.iter().find(|p| p.len() == 3 && (p[1] == "hnsw" || p[1] == "ivfflat")) {
        Some(p) => format!("{} uses {}, not vector_cosine_ops: every search scans the table", p[0], p[2]),
        None => format!("no HNSW index on {column}: every search scans the table"),
    };
    (None, Some(clean_line(&note)))
}

fn hit_from_row(row: &PgRow) -> RagHit {
    let id = row.try_get::<Option<String>, _>("id").ok().flatten();
    let id = match id {
        Some(s) => s.parse::<i64>().map(serde_json::Value::from).unwrap_or(serde_json::Value::String(s)),
        None => serde_json::Value::Null,
    };
    let score = row.try_get::<Option<f64>, _>("score").ok().flatten();
    let text = row.try_get::<Option<String>, _>("text").ok().flatten().unwrap_or_default();
    let metadata = row
        .try_get::<Option<String>, _>("metadata")
        .ok()
        .flatten()
        .map(|m| serde_json::from_str(&m).unwrap_or(serde_json::Value::String(m)))
        .unwrap_or(serde_json::Value::Null);
    RagHit::new(id, score, &text, metadata)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted() {
        assert_eq!(quoted("mcp_knowledge"), "\"mcp_knowledge\"");
        assert_eq!(quoted("kb.Docs"), "\"kb\".\"Docs\"");
    }

    #[test]
    fn the_cosine_index_is_found_or_its_absence_explained() {
        let hnsw = vec!["kb_hnsw hnsw vector_cosine_ops".to_string(), "kb_pkey btree int8_ops".into()];
        assert_eq!(cosine_index(&hnsw, "embedding"), (Some("kb_hnsw (hnsw)".into()), None));
        let l2 = vec!["kb_l2 hnsw vector_l2_ops".to_string()];
        let (idx, note) = cosine_index(&l2, "embedding");
        assert_eq!(idx, None);
        assert!(note.unwrap_or_default().contains("vector_l2_ops"));
        let (idx, note) = cosine_index(&[], "embedding");
        assert_eq!(idx, None);
        assert!(note.unwrap_or_default().contains("no HNSW index on embedding"));
    }
}
