//! Alertmanager API v2 (APIS.md §1): alerts from one or more Alertmanagers, silences.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::future::join_all;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::instrument;

use super::error::SourceError;
use super::http;
use crate::domain::alert::{self, Alert, AlertState, AlertsSnapshot};
use crate::domain::job::parse_time;

/// One Alertmanager.
#[derive(Debug, Clone)]
pub struct Alertmanager {
    pub name: String,
    pub url: String,
    http: reqwest::Client,
    timeout: Duration,
}

/// A matcher of a silence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Matcher {
    pub name: String,
    pub value: String,
    pub is_regex: bool,
    #[serde(default = "yes")]
    pub is_equal: bool,
}

fn yes() -> bool {
    true
}

/// A silence to create.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewSilence {
    pub matchers: Vec<Matcher>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub created_by: String,
    pub comment: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Created {
    #[serde(rename = "silenceID")]
    silence_id: String,
}

impl Alertmanager {
    pub fn new(name: &str, url: &str, timeout: Duration) -> Result<Alertmanager, SourceError> {
        Ok(Alertmanager { name: name.into(), url: url.into(), http: http::client(timeout)?, timeout })
    }

    /// Every alert this Alertmanager has (active, silenced, inhibited, unprocessed).
    #[instrument(skip(self), fields(am = %self.name), level = "debug")]
    pub async fn alerts(&self) -> Result<Vec<Alert>, SourceError> {
        let req = self.http.get(http::join(&self.url, "/api/v2/alerts"));
        let items: Vec<Value> = http::json(req, self.timeout).await?;
        Ok(items.iter().filter_map(|v| parse_alert(v, &self.name)).collect())
    }

    /// Create a silence; returns its id.
    #[instrument(skip(self, silence), fields(am = %self.name))]
    pub async fn create_silence(&self, silence: &NewSilence) -> Result<String, SourceError> {
        let req = self.http.post(http::join(&self.url, "/api/v2/silences")).json(silence);
        let created: Created = http::json(req, self.timeout).await?;
        Ok(created.silence_id)
    }

    /// Expire a silence (Alertmanager keeps it, expired).
    #[instrument(skip(self), fields(am = %self.name))]
    pub async fn expire_silence(&self, id: &str) -> Result<(), SourceError> {
        if !id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') || id.is_empty() {
            return Err(SourceError::Server(format!("{id:?} is not a silence id")));
        }
        let req = self.http.delete(http::join(&self.url, &format!("/api/v2/silence/{id}")));
        http::send(req, self.timeout).await.map(|_| ())
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|s| s.as_str().map(String::from)).collect())
        .unwrap_or_default()
}

fn string_map(v: Option<&Value>) -> Vec<(String, String)> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter().map(|(k, v)| (k.clone(), v.as_str().map(String::from).unwrap_or_else(|| v.to_string()))).collect()
        })
        .unwrap_or_default()
}

/// One `GettableAlert`, leniently: a field of the wrong type is unknown, not a failed list.
fn parse_alert(v: &Value, source: &str) -> Option<Alert> {
    let status = v.get("status");
    Some(Alert::new(
        v.get("fingerprint")?.as_str()?,
        string_map(v.get("labels")),
        string_map(v.get("annotations")),
        AlertState::parse(status.and_then(|s| s.get("state")).and_then(Value::as_str).unwrap_or("")),
        strings(status.and_then(|s| s.get("silencedBy"))),
        strings(status.and_then(|s| s.get("inhibitedBy"))),
        v.get("startsAt").and_then(Value::as_str).and_then(parse_time),
        v.get("generatorURL").and_then(Value::as_str),
        source,
    ))
}

/// All configured Alertmanagers, queried together.
#[derive(Debug, Clone)]
pub struct AlertsClient {
    pub managers: Vec<Alertmanager>,
}

impl AlertsClient {
    /// Alerts from every Alertmanager at once, merged; fails only when every one fails, so one
    /// Alertmanager down never hides the others' alerts.
    pub async fn snapshot(&self) -> Result<AlertsSnapshot, SourceError> {
        let results = join_all(self.managers.iter().map(|m| m.alerts())).await;
        let mut lists = Vec::new();
        let mut failures = Vec::new();
        let mut last_error = None;
        for (m, r) in self.managers.iter().zip(results) {
            match r {
                Ok(a) => lists.push(a),
                Err(e) => {
                    failures.push((m.name.clone(), e.to_string()));
                    last_error = Some(e);
                }
            }
        }
        if lists.is_empty()
            && let Some(e) = last_error
        {
            return Err(if self.managers.len() > 1 {
                SourceError::Server(failures.iter().map(|(n, e)| format!("{n}: {e}")).collect::<Vec<_>>().join("; "))
            } else {
                e
            });
        }
        Ok(AlertsSnapshot { alerts: alert::merge(lists), failures, fetched_at: Utc::now() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gettable_alerts_parse_leniently() {
        let v: Value = serde_json::from_str(
            r#"{"labels":{"alertname":"DiskFull","instance":"db-01:9100","severity":"critical","n":7},
            "annotations":{"summary":"/var 97% full\u001b]0;x\u0007"},"receivers":[{"name":"pager"}],
            "fingerprint":"7c3f1a9be0d2e4aa","startsAt":"2026-05-01T09:41:07.311Z",
            "updatedAt":"2026-05-01T09:55:07.312Z","endsAt":"2026-05-01T09:59:07.311Z",
            "generatorURL":"http://prom:9090/graph?g0.expr=...",
            "status":{"state":"suppressed","silencedBy":["s1"],"inhibitedBy":[],"mutedBy":[]}}"#,
        )
        .unwrap_or_default();
        let a = parse_alert(&v, "am-a");
        let a = a.as_ref();
        assert_eq!(a.map(|a| a.name()), Some("DiskFull"));
        assert_eq!(a.map(|a| a.state), Some(AlertState::Suppressed));
        assert_eq!(a.map(|a| a.summary()), Some("/var 97% full\x1b]0;x\x07"), "raw; cleaned when drawn");
        assert_eq!(a.and_then(|a| a.labels.get("n")).map(String::as_str), Some("7"));
        assert_eq!(parse_alert(&serde_json::json!({"labels": 5}), "am"), None, "no fingerprint: skipped");
    }

    #[test]
    fn silences_serialise_as_the_api_wants() {
        let s = NewSilence {
            matchers: vec![Matcher {
                name: "alertname".into(),
                value: "DiskFull".into(),
                is_regex: false,
                is_equal: true,
            }],
            starts_at: DateTime::from_timestamp(0, 0).unwrap_or_default(),
            ends_at: DateTime::from_timestamp(3600, 0).unwrap_or_default(),
            created_by: "alice@ops".into(),
            comment: "resize".into(),
        };
        let v = serde_json::to_value(&s).unwrap_or_default();
        assert_eq!(v["matchers"][0]["isRegex"], false);
        assert_eq!(v["createdBy"], "alice@ops");
        assert!(v["endsAt"].as_str().is_some_and(|t| t.starts_with("1970-01-01T01:00:00")));
    }
}
