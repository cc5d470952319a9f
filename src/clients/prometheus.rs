//! Prometheus HTTP API (APIS.md §2): scrape targets and their health.

use std::time::Duration;

use serde_json::Value;

use super::error::SourceError;
use super::http;
use crate::domain::Target;
use crate::domain::job::parse_time;
use crate::domain::text::clean_line;

#[derive(Debug, Clone)]
pub struct PrometheusClient {
    pub url: String,
    http: reqwest::Client,
    timeout: Duration,
}

impl PrometheusClient {
    pub fn new(url: &str, timeout: Duration) -> Result<Self, SourceError> {
        Ok(PrometheusClient { url: url.into(), http: http::client(timeout)?, timeout })
    }

    /// Active targets, each up, down or unknown with its last error.
    pub async fn targets(&self) -> Result<Vec<Target>, SourceError> {
        let req = self.http.get(http::join(&self.url, "/api/v1/targets")).query(&[("state", "active")]);
        let v: Value = match http::json(req, self.timeout).await {
            Ok(v) => v,
            // Prometheus errors come in its envelope; say what it said.
            Err(SourceError::Http { status, message }) => return Err(SourceError::Http { status, message }),
            Err(e) => return Err(e),
        };
        if v.get("status").and_then(Value::as_str) != Some("success") {
            let msg = v.get("error").and_then(Value::as_str).unwrap_or("status is not success");
            return Err(SourceError::Server(clean_line(msg)));
        }
        let targets = v
            .pointer("/data/activeTargets")
            .and_then(Value::as_array)
            .ok_or_else(|| SourceError::Decode("no data.activeTargets".into()))?;
        let text = |t: &Value, p: &str| t.pointer(p).and_then(Value::as_str).map(String::from);
        let mut out: Vec<Target> = targets
            .iter()
            .map(|t| Target {
                job: text(t, "/labels/job").or_else(|| text(t, "/scrapePool")).unwrap_or_else(|| "?".into()),
                instance: text(t, "/labels/instance").unwrap_or_else(|| "?".into()),
                health: text(t, "/health").unwrap_or_else(|| "unknown".into()),
                last_error: text(t, "/lastError").unwrap_or_default(),
                last_scrape: t
                    .get("lastScrape")
                    .and_then(Value::as_str)
                    .and_then(parse_time)
                    .filter(|ts| ts.timestamp() > 0),
            })
            .collect();
        out.sort_by(|a, b| (&a.job, &a.instance).cmp(&(&b.job, &b.instance)));
        Ok(out)
    }
}
