//! Knowledge-base search as the TUI and the CLI both use it: embed the query, run one pgvector
//! query, keep the hits at or above the threshold. Real services or the demo platform.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;

use crate::clients::embed::{EmbedClient, EmbedEndpoint};
use crate::clients::kb::{KbSettings, KnowledgeBase};
use crate::config::Settings;
use crate::demo::DemoPlatform;
use crate::domain::rag::{KbStats, RagSearch};

/// Why a search or the knowledge base's description failed, naming what is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RagError {
    #[error("the query is empty")]
    EmptyQuery,
    #[error("embeddings: {0}")]
    Embed(String),
    #[error("dimension mismatch: the embedder returned {got} dimensions but {what}")]
    DimensionMismatch { got: usize, want: usize, what: String },
    #[error("the pgvector extension is not installed in database {database:?} (CREATE EXTENSION vector)")]
    ExtensionMissing { database: String },
    #[error("table {table} does not exist in database {database:?} (knowledge_base.table)")]
    TableMissing { table: String, database: String },
    #[error("column {column} does not exist in table {table} (knowledge_base.{key})")]
    ColumnMissing { table: String, column: String, key: String },
    #[error("column {column} is {found}, not a pgvector vector")]
    NotAVector { column: String, found: String },
    #[error("cannot connect to PostgreSQL: {0}")]
    Connect(String),
    #[error("PostgreSQL: {0}")]
    Database(String),
    #[error("{what} timed out after {ms} ms")]
    Timeout { what: &'static str, ms: u64 },
}

/// Search settings a caller may override per search.
#[derive(Debug, Clone)]
pub struct SearchDefaults {
    pub top_k: usize,
    pub threshold: f64,
    pub query_prefix: String,
    pub dimensions: usize,
}

/// The embeddings APIs and the database, together.
pub struct RagClient {
    pub embed: EmbedClient,
    pub kb: KnowledgeBase,
    pub defaults: SearchDefaults,
}

impl RagClient {
    /// The client of the context's knowledge base, if it has one. Connects to nothing yet, but
    /// must be called inside a Tokio runtime.
    pub fn from_settings(settings: &Settings) -> Result<Option<RagClient>, RagError> {
        let Some(kb) = &settings.context.knowledge_base else { return Ok(None) };
        let e = &kb.embeddings;
        let litellm = e.litellm_url.as_ref().map(|url| EmbedEndpoint {
            url: url.clone(),
            model: e.litellm_model.clone(),
            key: settings.litellm_key.clone(),
        });
        let ollama = e.ollama_url.as_ref().map(|url| EmbedEndpoint {
            url: url.clone(),
            model: e.ollama_model.clone(),
            key: None,
        });
        let db = KnowledgeBase::new(KbSettings {
            url: kb.database_url.clone(),
            password: settings.kb_password.clone(),
            table: kb.table.clone(),
            columns: kb.columns.clone(),
            timeout: settings.context.timeout(),
            ef_search: kb.ef_search,
            dimensions: kb.dimensions,
        })?;
        Ok(Some(RagClient {
            embed: EmbedClient::new(litellm, ollama, Duration::from_millis(e.timeout_ms)),
            kb: db,
            defaults: SearchDefaults {
                top_k: kb.top_k,
                threshold: kb.threshold,
                query_prefix: kb.query_prefix.clone(),
                dimensions: kb.dimensions,
            },
        }))
    }

    /// Embed the query (with the configured prefix), then search with that vector.
    pub async fn search(&self, query: &str, top_k: usize, threshold: f64) -> Result<RagSearch, RagError> {
        let query = query.trim();
        if query.is_empty() {
            return Err(RagError::EmptyQuery);
        }
        let started = Instant::now();
        let embedding = self.embed.embed(&format!("{}{query}", self.defaults.query_prefix)).await?;
        let embed_ms = started.elapsed().as_millis() as u64;
        let mut search = self.search_vector(query, &embedding.vector, top_k, threshold).await?;
        search.embedder = embedding.via;
        search.fallback_reason = embedding.fallback_reason;
        search.embed_ms = embed_ms;
        Ok(search)
    }

    /// The search without the embedder: one query, then the threshold.
    pub async fn search_vector(
        &self,
        query: &str,
        vector: &[f32],
        top_k: usize,
        threshold: f64,
    ) -> Result<RagSearch, RagError> {
        let started = Instant::now();
        let rows = self.kb.search(vector, top_k).await?;
        let candidates = rows.len();
        let hits = rows.into_iter().filter(|h| h.score.is_some_and(|s| s >= threshold)).collect();
        Ok(RagSearch {
            query: query.to_string(),
            top_k,
            threshold,
            hits,
            candidates,
            embedder: crate::domain::rag::Embedder::Demo,
            fallback_reason: None,
            embed_ms: 0,
            db_ms: started.elapsed().as_millis() as u64,
            at: Utc::now(),
        })
    }
}

/// Where searches go: the real services or the demo platform.
#[derive(Clone)]
pub enum RagSource {
    Real(Arc<RagClient>),
    Demo(DemoPlatform),
}

impl RagSource {
    pub fn defaults(&self) -> SearchDefaults {
        match self {
            RagSource::Real(r) => r.defaults.clone(),
            RagSource::Demo(_) => SearchDefaults {
                top_k: 5,
                threshold: 0.7,
                query_prefix: "search_query: ".into(),
                dimensions: crate::demo::kb::DIMENSIONS,
            },
        }
    }

    pub async fn stats(&self) -> Result<KbStats, RagError> {
        match self {
            RagSource::Real(r) => r.kb.stats().await,
            RagSource::Demo(d) => Ok(d.kb_stats()),
        }
    }

    pub async fn search(&self, query: &str, top_k: usize, threshold: f64) -> Result<RagSearch, RagError> {
        match self {
            RagSource::Real(r) => r.search(query, top_k, threshold).await,
            RagSource::Demo(d) => d.kb_search(query, top_k, threshold),
        }
    }
}
