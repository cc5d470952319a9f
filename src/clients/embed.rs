//! Query embeddings (APIS.md §6): LiteLLM's OpenAI-compatible `POST /v1/embeddings` first,
//! Ollama's `POST /api/embed` as the fallback when LiteLLM cannot be reached. Every call has a
//! timeout and a body limit; keys are sent as bearer tokens and appear in no message.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use super::error::{RagError, SourceError};
use super::http;
use crate::domain::Secret;
use crate::domain::rag::Embedder;
use crate::domain::secret::scrub_all;

/// One embeddings API.
#[derive(Debug, Clone)]
pub struct EmbedEndpoint {
    pub url: String,
    pub model: String,
    /// A bearer token (LiteLLM master or virtual key).
    pub key: Option<Secret>,
}

/// A query's vector and which API made it.
#[derive(Debug, Clone, PartialEq)]
pub struct Embedding {
    pub vector: Vec<f32>,
    pub via: Embedder,
    /// Why LiteLLM was passed over, when Ollama answered instead.
    pub fallback_reason: Option<String>,
}

#[derive(Debug, Clone)]
pub struct EmbedClient {
    http: reqwest::Client,
    timeout: Duration,
    litellm: Option<EmbedEndpoint>,
    ollama: Option<EmbedEndpoint>,
}

impl EmbedClient {
    pub fn new(
        litellm: Option<EmbedEndpoint>,
        ollama: Option<EmbedEndpoint>,
        timeout: Duration,
    ) -> Result<Self, SourceError> {
        Ok(EmbedClient { http: http::client(timeout)?, timeout, litellm, ollama })
    }

    /// Embed one text. LiteLLM's own refusals (a bad key, an unknown model) are errors, not a
    /// reason to fall back: the contract falls back only when LiteLLM is unreachable.
    pub async fn embed(&self, text: &str) -> Result<Embedding, RagError> {
        // A proxy may quote the key it was given back in its error; it never reaches a screen.
        self.embed_inner(text).await.map_err(|e| match e {
            RagError::Embed(m) => RagError::Embed(self.scrub(m)),
            other => other,
        })
    }

    fn scrub(&self, message: String) -> String {
        scrub_all(&message, self.litellm.iter().chain(&self.ollama).flat_map(|ep| &ep.key))
    }

    async fn embed_inner(&self, text: &str) -> Result<Embedding, RagError> {
        let mut fallback_reason = None;
        if let Some(ep) = &self.litellm {
            match self.litellm_embed(ep, text).await {
                Ok(vector) => return Ok(Embedding { vector, via: Embedder::Litellm, fallback_reason: None }),
                Err(e) if self.ollama.is_some() && unreachable(&e) => {
                    fallback_reason = Some(self.scrub(format!("litellm: {e}")))
                }
                Err(e) => return Err(RagError::Embed(format!("litellm: {e}"))),
            }
        }
        let Some(ep) = &self.ollama else { return Err(RagError::Embed("no embeddings API configured".into())) };
        match self.ollama_embed(ep, text).await {
            Ok(vector) => Ok(Embedding { vector, via: Embedder::Ollama, fallback_reason }),
            Err(e) => Err(RagError::Embed(match fallback_reason {
                Some(first) => format!("{first}; ollama: {e}"),
                None => format!("ollama: {e}"),
            })),
        }
    }

    async fn litellm_embed(&self, ep: &EmbedEndpoint, text: &str) -> Result<Vec<f32>, SourceError> {
        let body = json!({"model": ep.model, "input": [text], "encoding_format": "float"});
        let mut req = self.http.post(http::join(&ep.url, "/v1/embeddings")).json(&body);
        if let Some(key) = &ep.key {
            req = req.bearer_auth(key.expose());
        }
        let mut resp: OpenAiEmbeddings = http::json_with_secret(req, self.timeout, ep.key.as_ref()).await?;
        resp.data.sort_by_key(|d| d.index);
        match resp.data.into_iter().next().map(|d| d.embedding) {
            Some(OpenAiVector::Floats(v)) => checked(v),
            Some(OpenAiVector::Base64(_)) => {
                Err(SourceError::Decode("a base64 embedding; mcptop asks for float".into()))
            }
            None => Err(SourceError::Decode("no embedding in data".into())),
        }
    }

    async fn ollama_embed(&self, ep: &EmbedEndpoint, text: &str) -> Result<Vec<f32>, SourceError> {
        let body = json!({"model": ep.model, "input": text, "truncate": true});
        let req = self.http.post(http::join(&ep.url, "/api/embed")).json(&body);
        let resp: OllamaEmbed = http::json(req, self.timeout).await?;
        match resp.embeddings.into_iter().next() {
            Some(v) => checked(v),
            None => Err(SourceError::Decode("no embedding in embeddings".into())),
        }
    }
}

/// Whether an error means the API is not there (so the fallback should answer).
fn unreachable(e: &SourceError) -> bool {
    match e {
        SourceError::Connect(_) | SourceError::Timeout(_) => true,
        SourceError::Http { status, .. } => *status >= 500 || *status == 429,
        _ => false,
    }
}

/// A vector must have values, all finite, not all zero (cosine distance is undefined for zero).
fn checked(v: Vec<f32>) -> Result<Vec<f32>, SourceError> {
    if v.is_empty() {
        return Err(SourceError::Decode("an empty embedding".into()));
    }
    if v.iter().any(|x| !x.is_finite()) {
        return Err(SourceError::Decode("an embedding with a non-finite value".into()));
    }
    if v.iter().all(|x| *x == 0.0) {
        return Err(SourceError::Decode("an all-zero embedding".into()));
    }
    Ok(v)
}

#[derive(Deserialize)]
struct OpenAiEmbeddings {
    data: Vec<OpenAiItem>,
}

#[derive(Deserialize)]
struct OpenAiItem {
    #[serde(default)]
    index: usize,
    embedding: OpenAiVector,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OpenAiVector {
    Floats(Vec<f32>),
    /// `encoding_format: "base64"`; only its shape matters.
    Base64(#[allow(dead_code)] String),
}

#[derive(Deserialize)]
struct OllamaEmbed {
    embeddings: Vec<Vec<f32>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_unreachable_litellm_falls_back() {
        assert!(unreachable(&SourceError::Connect("refused".into())));
        assert!(unreachable(&SourceError::Timeout(Duration::from_secs(1))));
        assert!(unreachable(&SourceError::Http { status: 503, message: String::new() }));
        assert!(!unreachable(&SourceError::Http { status: 401, message: String::new() }));
        assert!(!unreachable(&SourceError::Decode(String::new())));
    }

    #[test]
    fn a_key_quoted_back_is_scrubbed() {
        let ep = EmbedEndpoint { url: "http://x".into(), model: "m".into(), key: Some(Secret::new("sk-secret-1234")) };
        let c = EmbedClient::new(Some(ep), None, Duration::from_secs(1)).expect("client");
        assert_eq!(c.scrub("bad key sk-secret-1234 given".into()), "bad key *** given");
    }

    #[test]
    fn vectors_are_checked() {
        assert!(checked(vec![]).is_err());
        assert!(checked(vec![0.0, 0.0]).is_err());
        assert!(checked(vec![1.0, f32::NAN]).is_err());
        assert_eq!(checked(vec![0.5, 0.0]), Ok(vec![0.5, 0.0]));
    }
}
