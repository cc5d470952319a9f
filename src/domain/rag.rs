//! Knowledge-base (RAG) hits: the ones a worker stored on a job (`rag_hits`) and the ones a live
//! search finds. A hit keeps what the service sent (bounded) for JSON output; everything shown on
//! a terminal goes through the cleaning methods here.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::text::{clean_line, clean_text};

/// Longest hit text kept, in characters (the database query cuts it there too).
pub const MAX_HIT_CHARS: usize = 16 * 1024;

/// One knowledge-base entry found similar to a query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RagHit {
    /// As stored: a number for the contract's `bigserial`, else a string.
    pub id: serde_json::Value,
    /// Cosine similarity, 1 − distance; unknown when a worker stored none.
    pub score: Option<f64>,
    /// As stored, cut to `MAX_HIT_CHARS`. Use [`RagHit::snippet`] or [`RagHit::full_text`] to show it.
    pub text: String,
    /// As stored (JSON); use [`RagHit::metadata_pairs`] to show it.
    pub metadata: serde_json::Value,
}

impl RagHit {
    pub fn new(id: serde_json::Value, score: Option<f64>, text: &str, metadata: serde_json::Value) -> RagHit {
        let text = match text.char_indices().nth(MAX_HIT_CHARS) {
            Some((cut, _)) => text[..cut].to_string(),
            None => text.to_string(),
        };
        RagHit { id, score: score.filter(|s| s.is_finite()), text, metadata }
    }

    /// A hit from one entry of a job's `rag_hits`; missing or odd fields become unknown.
    pub fn from_json(v: &serde_json::Value) -> RagHit {
        let id = match v.get("id") {
            Some(id @ (serde_json::Value::Number(_) | serde_json::Value::String(_))) => id.clone(),
            _ => serde_json::Value::Null,
        };
        let score = v.get("score").and_then(|s| s.as_f64());
        let text = v.get("text").and_then(|t| t.as_str()).unwrap_or_default();
        RagHit::new(id, score, text, v.get("metadata").cloned().unwrap_or(serde_json::Value::Null))
    }

    /// The id as one clean line (`?` when unknown).
    pub fn id_label(&self) -> String {
        match &self.id {
            serde_json::Value::Null => "?".into(),
            serde_json::Value::String(s) => clean_line(s),
            other => clean_line(&other.to_string()),
        }
    }

    /// The text on one clean line, whitespace runs folded.
    pub fn snippet(&self) -> String {
        let folded: String = self.text.split_whitespace().take(200).collect::<Vec<_>>().join(" ");
        clean_line(&folded)
    }

    /// The whole text, cleaned, newlines kept.
    pub fn full_text(&self) -> String {
        clean_text(&self.text, MAX_HIT_CHARS)
    }

    /// The metadata as clean `(key, value)` lines; a non-object shows as one `value` pair.
    pub fn metadata_pairs(&self) -> Vec<(String, String)> {
        match &self.metadata {
            serde_json::Value::Null => vec![],
            serde_json::Value::Object(m) => m.iter().map(|(k, v)| (clean_line(k), scalar(v))).collect(),
            other => vec![("value".into(), scalar(other))],
        }
    }

    /// Where the entry came from (`source`, else `type`), for a short tag in lists.
    pub fn source(&self) -> Option<String> {
        ["source", "type", "kind"].iter().find_map(|k| self.metadata.get(k)).map(scalar).filter(|s| !s.is_empty())
    }
}

fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => clean_line(s),
        other => clean_line(&other.to_string()),
    }
}

/// A job's `rag_hits` field: the hits, or why they cannot be read.
pub fn parse_job_hits(s: &str) -> Result<Vec<RagHit>, String> {
    let value: serde_json::Value =
        serde_json::from_str(s).map_err(|e| clean_line(&format!("rag_hits is not JSON: {e}")))?;
    let items = value.as_array().ok_or("rag_hits is not a JSON array")?;
    Ok(items.iter().map(RagHit::from_json).collect())
}

/// The knowledge base as the catalog describes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KbStats {
    /// The table, as configured.
    pub table: String,
    /// Rows: exact for small tables, the planner's estimate for big ones.
    pub rows: Option<u64>,
    pub rows_estimated: bool,
    /// The embedding column's declared dimensions (`vector(768)` → 768).
    pub dimensions: Option<u32>,
    /// The HNSW (or IVFFlat) cosine index on the embedding column, if one exists.
    pub index: Option<String>,
    /// Why no index serves the cosine search, when one does not.
    pub index_note: Option<String>,
    /// pgvector's version.
    pub extension: Option<String>,
}

/// Which embeddings API answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Embedder {
    Litellm,
    Ollama,
    Demo,
}

impl Embedder {
    pub fn name(self) -> &'static str {
        match self {
            Embedder::Litellm => "litellm",
            Embedder::Ollama => "ollama",
            Embedder::Demo => "demo",
        }
    }
}

/// The outcome of one search.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RagSearch {
    pub query: String,
    pub top_k: usize,
    pub threshold: f64,
    /// Hits at or above the threshold, most similar first.
    pub hits: Vec<RagHit>,
    /// Rows the query returned before the threshold was applied.
    pub candidates: usize,
    pub embedder: Embedder,
    /// Why the first embeddings API was not used, when the fallback answered.
    pub fallback_reason: Option<String>,
    pub embed_ms: u64,
    pub db_ms: u64,
    pub at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn odd_and_hostile_hits_show_as_unknown_or_escaped() {
        let hits = parse_job_hits(
            r#"[{"id":7,"score":0.9,"text":"disk\u001b[2J full\non db","metadata":{"source":"zammad\u0007","n":3}},
                {"score":"high"}, 5]"#,
        );
        let hits = hits.unwrap_or_default();
        assert_eq!(hits.len(), 3);
        assert_eq!(hits[0].id_label(), "7");
        assert_eq!(hits[0].snippet(), "disk^[[2J full on db");
        assert_eq!(hits[0].full_text(), "disk^[[2J full\non db");
        assert_eq!(hits[0].source().as_deref(), Some("zammad^G"));
        assert_eq!(hits[0].metadata_pairs(), vec![("n".into(), "3".into()), ("source".into(), "zammad^G".into())]);
        assert_eq!((hits[1].id_label(), hits[1].score, hits[1].text.as_str()), ("?".into(), None, ""));
        assert_eq!(hits[2].metadata_pairs(), vec![]);
        assert!(parse_job_hits("{}").is_err() && parse_job_hits("nope").is_err());
    }

    #[test]
    fn text_is_bounded_and_scores_finite() {
        let long = "é".repeat(MAX_HIT_CHARS + 10);
        let h = RagHit::new(json!("a"), Some(f64::NAN), &long, json!(null));
        assert_eq!(h.text.chars().count(), MAX_HIT_CHARS);
        assert_eq!(h.score, None);
    }
}
