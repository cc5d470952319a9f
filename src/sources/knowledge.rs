//! The knowledge base as the TUI and the CLI search it: embed the query, run one pgvector
//! query, keep the hits at or above the threshold. The real services or the demo platform.

use std::time::{Duration, Instant};

use chrono::Utc;
use futures_util::FutureExt;

use super::BoxFuture;
use crate::clients::RagError;
use crate::clients::embed::{EmbedClient, EmbedEndpoint};
use crate::clients::kb::{KbSettings, KnowledgeBase};
use crate::config::Settings;
use crate::domain::rag::{Embedder, KbStats, RagSearch};

/// Searches and the knowledge base's description.
pub trait KnowledgeSource: Send + Sync {
    /// The configured search settings.
    fn defaults(&self) -> SearchDefaults;
    /// Size, dimensions and index of the knowledge base.
    fn stats(&self) -> BoxFuture<'_, Result<KbStats, RagError>>;
    /// Embed `query`, search, keep the hits at or above `threshold`.
    fn search<'a>(&'a self, query: &'a str, top_k: usize, threshold: f64)
    -> BoxFuture<'a, Result<RagSearch, RagError>>;
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
            embed: EmbedClient::new(litellm, ollama, Duration::from_millis(e.timeout_ms))
                .map_err(|e| RagError::Embed(e.to_string()))?,
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
            embedder: Embedder::Demo,
            fallback_reason: None,
            embed_ms: 0,
            db_ms: started.elapsed().as_millis() as u64,
            at: Utc::now(),
        })
    }
}

impl KnowledgeSource for RagClient {
    fn defaults(&self) -> SearchDefaults {
        self.defaults.clone()
    }
    fn stats(&self) -> BoxFuture<'_, Result<KbStats, RagError>> {
        self.kb.stats().boxed()
    }
    fn search<'a>(
        &'a self,
        query: &'a str,
        top_k: usize,
        threshold: f64,
    ) -> BoxFuture<'a, Result<RagSearch, RagError>> {
        RagClient::search(self, query, top_k, threshold).boxed()
    }
}
