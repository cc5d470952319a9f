//! HTTP health probes: the AI gateway's per-component `/health` (CONTRACT.md §2), and plain
//! services judged by their status code. Always answers with a status, never an error.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::error::SourceError;
use super::http;
use crate::domain::Secret;
use crate::domain::{ComponentStatus, ServiceStatus};

/// How a service's health URL is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeKind {
    /// `{"status": "healthy"|"degraded"|"unhealthy", "components": {…}}`.
    Gateway,
    /// Any 2xx is up.
    Http,
}

#[derive(Debug, Clone)]
pub struct Probe {
    pub name: String,
    pub url: String,
    pub kind: ProbeKind,
    /// A bearer token, from a secret reference.
    pub token: Option<Secret>,
}

#[derive(Debug, Clone)]
pub struct ProbeClient {
    pub probes: Vec<Probe>,
    http: reqwest::Client,
    timeout: Duration,
}

impl ProbeClient {
    pub fn new(probes: Vec<Probe>, timeout: Duration) -> Result<Self, SourceError> {
        Ok(ProbeClient { probes, http: http::client(timeout)?, timeout })
    }

    /// Probe every service at once.
    pub async fn statuses(&self) -> Vec<ServiceStatus> {
        futures_util::future::join_all(self.probes.iter().map(|p| self.probe(p))).await
    }

    async fn probe(&self, p: &Probe) -> ServiceStatus {
        let mut req = self.http.get(&p.url);
        if let Some(t) = &p.token {
            req = req.bearer_auth(t.expose());
        }
        let started = Instant::now();
        let result = http::send_with_secret(req, self.timeout, p.token.as_ref()).await;
        let latency_ms = Some(started.elapsed().as_millis() as u64);
        let mut s =
            ServiceStatus { name: p.name.clone(), ok: false, latency_ms, detail: String::new(), components: vec![] };
        match (result, p.kind) {
            // An error body quoting the token back was scrubbed by `send_with_secret`.
            (Err(e), _) => s.detail = e.to_string(),
            (Ok(_), ProbeKind::Http) => {
                s.ok = true;
                s.detail = "ok".into();
            }
            (Ok(body), ProbeKind::Gateway) => {
                let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let overall = v.get("status").and_then(Value::as_str).map(String::from);
                s.ok = overall.as_deref() == Some("healthy");
                s.detail = overall.unwrap_or_else(|| "no status in reply".into());
                s.components = components(&v);
            }
        }
        s
    }
}

fn components(v: &Value) -> Vec<ComponentStatus> {
    let Some(map) = v.get("components").and_then(Value::as_object) else { return vec![] };
    map.iter()
        .map(|(name, c)| ComponentStatus {
            name: name.to_string(),
            status: c.get("status").and_then(Value::as_str).map(String::from).unwrap_or_else(|| "unknown".into()),
            latency_ms: c.get("latency_ms").and_then(Value::as_f64).filter(|f| f.is_finite()),
            error: c.get("error").and_then(Value::as_str).map(String::from),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_components_parse_leniently() {
        let v: Value = serde_json::from_str(
            r#"{"status":"degraded","components":{"redis":{"status":"healthy","latency_ms":1.2},
            "ollama":{"status":"unhealthy","error":"connection refused\u001b[2J"},"zammad":5}}"#,
        )
        .unwrap_or_default();
        let c = components(&v);
        assert_eq!(c.len(), 3);
        let ollama = c.iter().find(|c| c.name == "ollama");
        assert_eq!(
            ollama.and_then(|c| c.error.as_deref()),
            Some("connection refused\x1b[2J"),
            "raw; cleaned when drawn"
        );
        assert!(c.iter().any(|c| c.name == "zammad" && c.status == "unknown"));
    }
}
