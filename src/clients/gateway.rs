//! The AI gateway's `POST /api/v1/analyze` (CONTRACT.md §2): it queues the job and applies the
//! dedup rule itself.

use std::time::Duration;

use super::error::SourceError;
use super::http;
use crate::domain::Secret;
use crate::domain::action::{AnalysisRequest, Created};

pub struct GatewayClient {
    http: reqwest::Client,
    base: String,
    token: Option<Secret>,
    timeout: Duration,
}

#[derive(serde::Deserialize)]
struct Answer {
    job_id: serde_json::Value,
    #[serde(default)]
    deduplicated: bool,
}

impl GatewayClient {
    pub fn new(base: &str, token: Option<Secret>, timeout: Duration) -> Result<Self, SourceError> {
        Ok(GatewayClient { http: http::client(timeout)?, base: base.into(), token, timeout })
    }

    pub async fn analyze(&self, req: &AnalysisRequest) -> Result<Created, SourceError> {
        let mut r = self.http.post(http::join(&self.base, "/api/v1/analyze")).json(req);
        if let Some(t) = &self.token {
            r = r.bearer_auth(t.expose());
        }
        let a: Answer = http::json_with_secret(r, self.timeout, self.token.as_ref()).await?;
        let job_id = match a.job_id {
            serde_json::Value::String(s) if !s.is_empty() => s,
            serde_json::Value::Number(n) => n.to_string(),
            _ => return Err(SourceError::Decode("no job_id in the gateway's answer".into())),
        };
        Ok(Created { job_id, deduplicated: a.deduplicated })
    }
}
