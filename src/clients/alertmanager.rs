//! Alertmanager API v2 (APIS.md §1): alerts from one or more Alertmanagers, silences.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use futures_util::future::join_all;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::instrument;

use super::crowdsec::CrowdSecClient;
use super::error::SourceError;
use super::http::{self, Items};
use super::zabbix::ZabbixClient;
use crate::domain::alert::{self, Alert, AlertSource, AlertState, AlertsSnapshot};
use crate::domain::job::parse_time;

/// The most alerts kept of one source: enough for any incident, few enough that a source at
/// its body limit (60,000 alerts in 8 MB) cannot take the dashboard's memory. The rest are
/// counted and said.
pub const MAX_ALERTS_PER_SOURCE: usize = 5_000;

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

    /// Every alert this Alertmanager has (active, silenced, inhibited, unprocessed), read one by
    /// one: an alert that cannot be read is skipped and counted.
    #[instrument(skip(self), fields(am = %self.name), level = "debug")]
    pub async fn alerts(&self) -> Result<Items<Alert>, SourceError> {
        let req = self.http.get(http::join(&self.url, "/api/v2/alerts"));
        let body = http::send(req, self.timeout).await?;
        http::items(&body, "alerts", MAX_ALERTS_PER_SOURCE, |v| {
            parse_alert(v, &self.name).ok_or_else(|| "no fingerprint".to_string())
        })
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

/// Each source's last good answer and when it was read, by source name.
type LastGood = BTreeMap<String, (Items<Alert>, DateTime<Utc>)>;

/// Every alert source of a context — the Alertmanagers, Zabbix servers and CrowdSec — queried
/// together.
#[derive(Clone, Default)]
pub struct AlertsClient {
    pub managers: Vec<Alertmanager>,
    pub zabbix: Vec<Arc<ZabbixClient>>,
    pub crowdsec: Option<Arc<CrowdSecClient>>,
    /// Each source's last good alerts and when they were read: a source that fails keeps them.
    last_good: Arc<Mutex<LastGood>>,
    /// The most one source may take, all its calls together (Zabbix makes up to three in a row,
    /// CrowdSec up to five): a slower one is that source's failure, not the whole list's.
    deadline: Duration,
}

impl AlertsClient {
    pub fn new(managers: Vec<Alertmanager>) -> AlertsClient {
        let deadline = managers.iter().map(|m| m.timeout).max().unwrap_or(Duration::from_secs(2));
        AlertsClient { managers, deadline, ..Default::default() }
    }

    /// The same, with Zabbix servers and CrowdSec as further sources, each given at most
    /// `deadline` for all its calls.
    pub fn with_monitors(
        self,
        zabbix: Vec<Arc<ZabbixClient>>,
        crowdsec: Option<Arc<CrowdSecClient>>,
        deadline: Duration,
    ) -> Self {
        AlertsClient { zabbix, crowdsec, deadline, ..self }
    }

    /// Every source's name and kind: the Alertmanagers', then the Zabbix servers', then CrowdSec.
    pub fn sources(&self) -> Vec<(String, &'static str)> {
        let mut names: Vec<(String, &'static str)> =
            self.managers.iter().map(|m| (m.name.clone(), "alertmanager")).collect();
        names.extend(self.zabbix.iter().map(|z| (z.name.clone(), "zabbix")));
        names.extend(self.crowdsec.iter().map(|c| (c.name.clone(), "crowdsec")));
        names
    }

    /// Every source's name.
    pub fn source_names(&self) -> Vec<String> {
        self.sources().into_iter().map(|(n, _)| n).collect()
    }

    /// Alerts from every source at once, Alertmanagers' merged, with each source's outcome. A
    /// source that fails keeps showing its last good alerts, and says from when they are; one
    /// source down never hides the others' alerts, and each keeps its own error.
    pub async fn snapshot(&self) -> AlertsSnapshot {
        let deadline = self.deadline;
        let within =
            |f| async move { tokio::time::timeout(deadline, f).await.unwrap_or(Err(SourceError::Timeout(deadline))) };
        let am = join_all(self.managers.iter().map(|m| within(m.alerts().boxed())));
        let zbx = join_all(self.zabbix.iter().map(|z| within(z.problems().boxed())));
        let cs = async {
            match &self.crowdsec {
                Some(c) => Some(within(c.alerts().boxed()).await),
                None => None,
            }
        };
        let (am, zbx, cs) = tokio::join!(am, zbx, cs);
        let results = self.sources().into_iter().zip(am.into_iter().chain(zbx).chain(cs));
        let now = Utc::now();
        let mut lists = Vec::new();
        let mut sources = Vec::new();
        let mut last_good = self.last_good.lock().unwrap_or_else(|e| e.into_inner());
        for ((name, kind), r) in results {
            let mut outcome = AlertSource::answered(&name, kind, now);
            let shown = match r {
                Ok(items) => {
                    last_good.insert(name, (items.clone(), now));
                    Some(items)
                }
                Err(e) => {
                    outcome.error = Some(e.to_string());
                    let kept = last_good.get(&name).cloned();
                    outcome.read_at = kept.as_ref().map(|(_, at)| *at);
                    kept.map(|(items, _)| items)
                }
            };
            if let Some(items) = shown {
                outcome.alerts = items.items.len();
                outcome.skipped = items.skipped;
                outcome.skipped_why = items.why;
                outcome.beyond_cap = items.beyond_cap;
                lists.push(items.items);
            }
            sources.push(outcome);
        }
        AlertsSnapshot { alerts: alert::merge(lists), sources, fetched_at: now }
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
