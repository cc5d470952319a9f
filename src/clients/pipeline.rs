//! The AI pipeline's numbers: the gateway's Prometheus `/metrics` (CONTRACT.md §2, parsed with
//! the `prometheus-parse` crate), LiteLLM's `GET /v1/models` and Ollama's `GET /api/ps`
//! (APIS.md §6). The three are asked at once and each fails alone, keeping its last good value.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::sync::Mutex;

use super::error::SourceError;
use super::http;
use crate::domain::Secret;
use crate::domain::job::parse_time;
use crate::domain::pipeline::{Buckets, GatewayNumbers, LoadedModel, Part, PipelineSnapshot, Window, quantile};

/// Longest `/metrics` body read (a gateway exports a few dozen series).
const MAX_METRICS_BYTES: usize = 2 * 1024 * 1024;
/// Most model names kept from one answer.
const MAX_MODELS: usize = 200;

/// Where the pipeline's parts are; each is optional.
#[derive(Debug, Clone, Default)]
pub struct PipelineEndpoints {
    pub gateway_url: Option<String>,
    pub gateway_token: Option<Secret>,
    pub litellm_url: Option<String>,
    pub litellm_key: Option<Secret>,
    pub ollama_url: Option<String>,
}

impl PipelineEndpoints {
    pub fn any(&self) -> bool {
        self.gateway_url.is_some() || self.litellm_url.is_some() || self.ollama_url.is_some()
    }
}

pub struct PipelineClient {
    http: reqwest::Client,
    endpoints: PipelineEndpoints,
    timeout: Duration,
    window: Mutex<Window>,
    last: Mutex<Option<PipelineSnapshot>>,
}

impl PipelineClient {
    pub fn new(endpoints: PipelineEndpoints, timeout: Duration) -> Result<Self, SourceError> {
        Ok(PipelineClient {
            http: http::client(timeout)?,
            endpoints,
            timeout,
            window: Mutex::new(Window::default()),
            last: Mutex::new(None),
        })
    }

    /// All three parts, asked at once.
    pub async fn snapshot(&self) -> PipelineSnapshot {
        let e = &self.endpoints;
        let (gateway, models, loaded) = tokio::join!(
            async {
                match &e.gateway_url {
                    Some(u) => Some(self.gateway(u).await),
                    None => None,
                }
            },
            async {
                match &e.litellm_url {
                    Some(u) => Some(self.litellm_models(u).await),
                    None => None,
                }
            },
            async {
                match &e.ollama_url {
                    Some(u) => Some(self.ollama_loaded(u).await),
                    None => None,
                }
            },
        );
        let now = Utc::now();
        let mut last = self.last.lock().await;
        let prev = last.as_ref();
        let snap = PipelineSnapshot {
            gateway: part(gateway, prev.map(|p| &p.gateway), now),
            litellm_models: part(models, prev.map(|p| &p.litellm_models), now),
            ollama_loaded: part(loaded, prev.map(|p| &p.ollama_loaded), now),
            fetched_at: now,
        };
        *last = Some(snap.clone());
        snap
    }

    async fn gateway(&self, base: &str) -> Result<GatewayNumbers, SourceError> {
        let mut req = self.http.get(http::join(base, "/metrics"));
        if let Some(t) = &self.endpoints.gateway_token {
            req = req.bearer_auth(t.expose());
        }
        let resp = req.send().await.map_err(|e| http::transport_error(e, self.timeout))?;
        let status = resp.status();
        let body = http::read_limited(resp, MAX_METRICS_BYTES, self.timeout).await?;
        if !status.is_success() {
            let body = match &self.endpoints.gateway_token {
                Some(s) => s.scrub(&String::from_utf8_lossy(&body)).into_bytes(),
                None => body,
            };
            return Err(SourceError::Http { status: status.as_u16(), message: http::error_message(&body) });
        }
        let text = String::from_utf8_lossy(&body);
        let metrics = parse_metrics(&text)?;
        let mut numbers = metrics.numbers();
        self.window.lock().await.apply(Utc::now(), &mut numbers, metrics.duration);
        Ok(numbers)
    }

    async fn litellm_models(&self, base: &str) -> Result<Vec<String>, SourceError> {
        let mut req = self.http.get(http::join(base, "/v1/models"));
        if let Some(k) = &self.endpoints.litellm_key {
            req = req.bearer_auth(k.expose());
        }
        let v: Value = http::json_with_secret(req, self.timeout, self.endpoints.litellm_key.as_ref()).await?;
        let data = v
            .get("data")
            .and_then(Value::as_array)
            .ok_or_else(|| SourceError::Decode("LiteLLM's /v1/models answer has no \"data\" list".into()))?;
        Ok(data.iter().filter_map(|m| m.get("id")?.as_str().map(String::from)).take(MAX_MODELS).collect())
    }

    async fn ollama_loaded(&self, base: &str) -> Result<Vec<LoadedModel>, SourceError> {
        let v: Value = http::json(self.http.get(http::join(base, "/api/ps")), self.timeout).await?;
        let models = v
            .get("models")
            .and_then(Value::as_array)
            .ok_or_else(|| SourceError::Decode("Ollama's /api/ps answer has no \"models\" list".into()))?;
        Ok(models
            .iter()
            .take(MAX_MODELS)
            .map(|m| LoadedModel {
                name: m.get("name").or_else(|| m.get("model")).and_then(Value::as_str).unwrap_or("?").to_string(),
                size: m.get("size").and_then(Value::as_u64),
                size_vram: m.get("size_vram").and_then(Value::as_u64),
                expires_at: m.get("expires_at").and_then(Value::as_str).and_then(parse_time),
            })
            .collect())
    }
}

fn part<T: Clone>(result: Option<Result<T, SourceError>>, previous: Option<&Part<T>>, now: DateTime<Utc>) -> Part<T> {
    match result {
        None => Part::off(),
        Some(Ok(data)) => Part::ok(data, now),
        Some(Err(e)) => Part::failed(previous, e.to_string()),
    }
}

/// The gateway's series that matter, each summed over its label sets.
#[derive(Debug, Default, PartialEq)]
pub struct GatewayMetrics {
    values: BTreeMap<String, f64>,
    /// `mcp_analysis_duration_seconds` buckets, summed over label sets.
    pub duration: Option<Buckets>,
}

impl GatewayMetrics {
    fn get(&self, name: &str) -> Option<f64> {
        self.values.get(name).copied()
    }

    pub fn numbers(&self) -> GatewayNumbers {
        GatewayNumbers {
            requests_total: self.get("mcp_requests_total"),
            analyses_completed_total: self.get("mcp_analyses_completed_total"),
            tickets_created_total: self.get("mcp_tickets_created_total"),
            rag_searches_total: self.get("mcp_rag_searches_total"),
            embeddings_stored_total: self.get("mcp_embeddings_stored_total"),
            queue_length: self.get("mcp_queue_length"),
            active_jobs: self.get("mcp_active_jobs"),
            duration_p50_s: self.duration.as_ref().and_then(|b| quantile(0.5, b)),
            duration_p95_s: self.duration.as_ref().and_then(|b| quantile(0.95, b)),
            ..GatewayNumbers::default()
        }
    }
}

/// Parse a text exposition. A malformed line is skipped (the crate's choice, and ours: one bad
/// series must not hide the others); an answer with none of the gateway's series is an error,
/// since it is most likely not the gateway's `/metrics` at all.
pub fn parse_metrics(text: &str) -> Result<GatewayMetrics, SourceError> {
    use prometheus_parse::{Scrape, Value as P};
    let scrape = Scrape::parse(text.lines().map(|l| Ok(l.to_string())))
        .map_err(|e| SourceError::Decode(format!("not Prometheus text: {e}")))?;
    let mut out = GatewayMetrics::default();
    let mut buckets: BTreeMap<u64, (f64, f64)> = BTreeMap::new();
    for s in scrape.samples {
        if !s.metric.starts_with("mcp_") {
            continue;
        }
        match s.value {
            P::Counter(v) | P::Gauge(v) | P::Untyped(v) if v.is_finite() => {
                *out.values.entry(s.metric).or_default() += v;
            }
            P::Histogram(h) if s.metric == "mcp_analysis_duration_seconds" => {
                for c in h.iter().filter(|c| !c.less_than.is_nan()) {
                    // Keyed by the bound's bits (bounds are positive, so they order as floats).
                    let slot = buckets.entry(c.less_than.to_bits()).or_insert((c.less_than, 0.0));
                    slot.1 += c.count;
                }
            }
            _ => {}
        }
    }
    if !buckets.is_empty() {
        let mut b: Buckets = buckets.into_values().collect();
        b.sort_by(|x, y| x.0.total_cmp(&y.0));
        out.duration = Some(b);
    }
    if out.values.is_empty() && out.duration.is_none() {
        return Err(SourceError::Decode("no mcp_* series in the gateway's /metrics".into()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# HELP mcp_requests_total Requests\n# TYPE mcp_requests_total counter\n\
        mcp_requests_total{endpoint=\"/api/v1/analyze\"} 40\nmcp_requests_total{endpoint=\"/health\"} 2\n\
        # TYPE mcp_analyses_completed_total counter\nmcp_analyses_completed_total 30\n\
        # TYPE mcp_queue_length gauge\nmcp_queue_length 3\n\
        # TYPE mcp_analysis_duration_seconds histogram\n\
        mcp_analysis_duration_seconds_bucket{le=\"1.0\"} 10\nmcp_analysis_duration_seconds_bucket{le=\"5.0\"} 20\n\
        mcp_analysis_duration_seconds_bucket{le=\"+Inf\"} 30\nmcp_analysis_duration_seconds_sum 100\n\
        mcp_analysis_duration_seconds_count 30\nbad line {{{\nprocess_cpu_seconds_total 5\n";

    #[test]
    fn the_gateway_exposition_becomes_numbers() {
        let m = parse_metrics(TEXT).unwrap_or_default();
        let n = m.numbers();
        assert_eq!(n.requests_total, Some(42.0), "summed over label sets");
        assert_eq!(n.analyses_completed_total, Some(30.0));
        assert_eq!(n.queue_length, Some(3.0));
        assert_eq!(n.tickets_created_total, None, "not exported: unknown, not 0");
        assert_eq!(m.duration.as_ref().map(Vec::len), Some(3));
        // Rank 15 of 30 falls in (1, 5]: 1 + 4 × 5/10.
        assert_eq!(n.duration_p50_s, Some(3.0));
        assert!(parse_metrics("up 1\n").is_err(), "no gateway series");
        assert!(parse_metrics("").is_err());
    }
}
