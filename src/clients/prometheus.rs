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

/// The most targets kept (a Prometheus scraping more is summed up by their health anyway).
pub const MAX_TARGETS: usize = 10_000;
/// Longest last error kept for a target.
pub const MAX_ERROR_CHARS: usize = 512;

impl PrometheusClient {
    pub fn new(url: &str, timeout: Duration) -> Result<Self, SourceError> {
        Ok(PrometheusClient { url: url.into(), http: http::client(timeout)?, timeout })
    }

    /// Active targets, each up, down or unknown with its last error: read one by one (one that
    /// cannot be read is skipped), at most [`MAX_TARGETS`], each error cut to
    /// [`MAX_ERROR_CHARS`].
    pub async fn targets(&self) -> Result<Vec<Target>, SourceError> {
        /// The envelope, its list left unparsed (read item by item below).
        #[derive(serde::Deserialize)]
        struct Envelope<'a> {
            status: Option<String>,
            error: Option<String>,
            #[serde(borrow)]
            data: Option<Data<'a>>,
        }
        #[derive(serde::Deserialize)]
        struct Data<'a> {
            #[serde(rename = "activeTargets", borrow)]
            active_targets: Option<Vec<&'a serde_json::value::RawValue>>,
        }
        let req = self.http.get(http::join(&self.url, "/api/v1/targets")).query(&[("state", "active")]);
        let body = http::send(req, self.timeout).await?;
        let v: Envelope<'_> =
            serde_json::from_slice(&body).map_err(|e| SourceError::Decode(clean_line(&e.to_string())))?;
        if v.status.as_deref() != Some("success") {
            let msg = v.error.as_deref().unwrap_or("status is not success");
            return Err(SourceError::Server(clean_line(msg)));
        }
        let targets =
            v.data.and_then(|d| d.active_targets).ok_or_else(|| SourceError::Decode("no data.activeTargets".into()))?;
        let text = |t: &Value, p: &str| t.pointer(p).and_then(Value::as_str).map(String::from);
        let items = http::items_of(targets, MAX_TARGETS, |t| {
            Ok(Target {
                job: text(t, "/labels/job").or_else(|| text(t, "/scrapePool")).unwrap_or_else(|| "?".into()),
                instance: text(t, "/labels/instance").unwrap_or_else(|| "?".into()),
                health: text(t, "/health").unwrap_or_else(|| "unknown".into()),
                last_error: crate::domain::text::cut(&text(t, "/lastError").unwrap_or_default(), MAX_ERROR_CHARS),
                last_scrape: t
                    .get("lastScrape")
                    .and_then(Value::as_str)
                    .and_then(parse_time)
                    .filter(|ts| ts.timestamp() > 0),
            })
        });
        let mut out = items.items;
        out.sort_by(|a, b| (&a.job, &a.instance).cmp(&(&b.job, &b.instance)));
        Ok(out)
    }
}
