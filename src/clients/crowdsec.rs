//! CrowdSec's local API (APIS.md §8, SERVICES.md): alerts with a machine's JWT, active
//! decisions with a bouncer key.
//!
//! The JWT comes from `POST /v1/watchers/login` and lasts an hour; it is refreshed with
//! `GET /v1/refresh_token` when less than five minutes are left, and logged in again when the API
//! says 401. Alerts are a decision's context: one with an active ban is high, another decision
//! medium, none low.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio::sync::Mutex;
use tracing::warn;

use super::error::SourceError;
use super::http::{self, Items};
use crate::domain::Secret;
use crate::domain::alert::{Alert, AlertState, Decision, Origin};

/// Alerts read in one refresh (the API's own default is 100, and it has no offset).
pub const MAX_ALERTS: usize = 1_000;
/// Refresh the JWT when less than this is left.
const REFRESH_BEFORE: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

pub struct CrowdSecClient {
    pub name: String,
    base: String,
    machine: Option<(String, Secret)>,
    bouncer_key: Option<Secret>,
    http: reqwest::Client,
    timeout: Duration,
    token: Mutex<Option<(Secret, DateTime<Utc>)>>,
}

impl CrowdSecClient {
    pub fn new(
        url: &str,
        machine: Option<(String, Secret)>,
        bouncer_key: Option<Secret>,
        timeout: Duration,
    ) -> Result<Self, SourceError> {
        Ok(CrowdSecClient {
            name: "crowdsec".into(),
            base: url.into(),
            machine,
            bouncer_key,
            http: http::client(timeout)?,
            timeout,
            token: Mutex::new(None),
        })
    }

    fn secrets(&self) -> Vec<&Secret> {
        self.machine.iter().map(|(_, p)| p).chain(self.bouncer_key.iter()).collect()
    }

    /// Send a request carrying `secret`: an error body is scrubbed of it before it is shortened
    /// (no part of a JWT survives the cut), then of the other secrets too.
    async fn send(&self, req: reqwest::RequestBuilder, secret: Option<&Secret>) -> Result<Value, SourceError> {
        let body = self.send_body(req, secret).await?;
        if body.trim_ascii() == b"null" {
            return Ok(Value::Array(vec![])); // "nothing matches" is the literal null
        }
        serde_json::from_slice(&body).map_err(|e| SourceError::Decode(format!("CrowdSec: {e}")))
    }

    /// [`CrowdSecClient::send`], the body as it came.
    async fn send_body(&self, req: reqwest::RequestBuilder, secret: Option<&Secret>) -> Result<Vec<u8>, SourceError> {
        let mut result = http::send_with_secret(req, self.timeout, secret).await;
        if let Err(SourceError::Http { message, .. }) = &mut result {
            for s in self.secrets() {
                *message = s.scrub(message);
            }
        }
        result
    }

    /// A valid JWT: the one held, refreshed when it is about to expire, or a new login.
    async fn jwt(&self, fresh: bool) -> Result<Secret, SourceError> {
        let Some((machine_id, password)) = &self.machine else {
            return Err(SourceError::Connect("reading CrowdSec alerts needs machine_id and password".into()));
        };
        let mut held = self.token.lock().await;
        let now = Utc::now();
        if let (false, Some((token, expire))) = (fresh, held.as_ref()) {
            if *expire - now > REFRESH_BEFORE {
                return Ok(token.clone());
            }
            let req = self.http.get(http::join(&self.base, "/v1/refresh_token")).bearer_auth(token.expose());
            if let Ok(v) = self.send(req, Some(token)).await
                && let Some(t) = parse_login(&v)
            {
                *held = Some(t.clone());
                return Ok(t.0);
            }
        }
        let body = json!({"machine_id": machine_id, "password": password.expose(), "scenarios": []});
        let req = self.http.post(http::join(&self.base, "/v1/watchers/login")).json(&body);
        let v = self.send(req, Some(password)).await?;
        let t = parse_login(&v).ok_or_else(|| SourceError::Decode("CrowdSec login: no token in the answer".into()))?;
        *held = Some(t.clone());
        Ok(t.0)
    }

    async fn get_alerts(&self, token: &Secret) -> Result<Vec<u8>, SourceError> {
        let ask = |limit: &'static str| {
            self.http
                .get(http::join(&self.base, "/v1/alerts"))
                // `limit` 0 is "all": on CrowdSec 1.4.6 a limit of 200 or more can hang the API
                // for good (crowdsecurity/crowdsec#3695), below 200 it cannot.
                .query(&[("limit", limit), ("since", "24h")])
                .bearer_auth(token.expose())
        };
        match self.send_body(ask("0"), Some(token)).await {
            // A day of alerts beyond the body limit (a host under attack): the newest 100.
            Err(SourceError::TooLarge(max)) => {
                warn!(max, "CrowdSec's alerts of the day exceed the body limit; reading the newest 100");
                self.send_body(ask("100"), Some(token)).await
            }
            other => other,
        }
    }

    /// The last day's alerts with their decisions (machine login), or, with only a bouncer key,
    /// each active decision as an alert.
    pub async fn alerts(&self) -> Result<Items<Alert>, SourceError> {
        if self.machine.is_none() {
            return self.decisions_as_alerts().await;
        }
        let token = self.jwt(false).await?;
        let body = match self.get_alerts(&token).await {
            // Expired or revoked since it was read: log in once more.
            Err(SourceError::Http { status: 401, .. }) => self.get_alerts(&self.jwt(true).await?).await?,
            other => other?,
        };
        http::items(&body, "CrowdSec alerts", MAX_ALERTS, |a| alert(a, &self.name).ok_or_else(|| "no id".into()))
    }

    async fn decisions_as_alerts(&self) -> Result<Items<Alert>, SourceError> {
        let Some(key) = &self.bouncer_key else {
            return Err(SourceError::Connect("no CrowdSec credentials configured".into()));
        };
        let req = self.http.get(http::join(&self.base, "/v1/decisions")).header("X-Api-Key", key.expose());
        let body = self.send_body(req, Some(key)).await?;
        http::items(&body, "CrowdSec decisions", MAX_ALERTS, |d| {
            let d = decision(d);
            let id = d.id.ok_or_else(|| "a decision without an id".to_string())?;
            let labels = vec![
                ("alertname".to_string(), d.scenario.clone()),
                ("severity".to_string(), if d.kind == "ban" { "high" } else { "medium" }.to_string()),
                ("source_ip".to_string(), d.value.clone()),
                ("instance".to_string(), d.value.clone()),
            ];
            let summary = format!("{} {} {} for {}", d.kind, d.scope, d.value, d.duration);
            let alert = Alert::new(
                &format!("crowdsec:decision:{id}"),
                labels,
                [("summary".to_string(), summary)],
                AlertState::Active,
                vec![],
                vec![],
                None,
                None,
                &self.name,
            );
            Ok(alert.with_origin(Origin::CrowdSec { id, events_count: None, decisions: vec![d] }))
        })
    }
}

fn parse_login(v: &Value) -> Option<(Secret, DateTime<Utc>)> {
    let token = v.get("token")?.as_str()?;
    let expire = v.get("expire").and_then(Value::as_str).and_then(crate::domain::job::parse_time);
    // Without a readable expiry, assume the API's hour less the margin: refreshed in time.
    Some((Secret::new(token), expire.unwrap_or_else(|| Utc::now() + chrono::TimeDelta::minutes(55))))
}

/// `2026-11-22 02:27:06 +0000 UTC` (Go's default format, as the API writes it), or RFC 3339.
pub fn parse_go_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    // The zone's name after the offset says nothing more: `UTC`, `CET`, or Go's `+03` for a zone
    // without one.
    let offset = |t: &str| t.len() == 5 && t.starts_with(['+', '-']) && t[1..].bytes().all(|b| b.is_ascii_digit());
    let trimmed = match s.rsplit_once(' ') {
        Some((head, _)) if head.rsplit_once(' ').is_some_and(|(_, o)| offset(o)) => head,
        _ => s,
    };
    DateTime::parse_from_str(trimmed, "%Y-%m-%d %H:%M:%S%.f %z")
        .ok()
        .map(|t| t.with_timezone(&Utc))
        .or_else(|| crate::domain::job::parse_time(s))
}

fn text(v: &Value, k: &str) -> String {
    match v.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn decision(d: &Value) -> Decision {
    Decision {
        id: d.get("id").and_then(Value::as_i64),
        kind: text(d, "type"),
        scope: text(d, "scope"),
        value: text(d, "value"),
        duration: text(d, "duration"),
        origin: text(d, "origin"),
        scenario: text(d, "scenario"),
    }
}

/// One `/v1/alerts` item; `None` without an id. Labels: `alertname` (the scenario), `severity`,
/// `source_ip`, `source_range`, `as_name`, `as_number`, `country`, `instance` (the source).
pub(crate) fn alert(a: &Value, source: &str) -> Option<Alert> {
    let id = a.get("id")?.as_i64()?;
    let src = a.get("source").cloned().unwrap_or(Value::Null);
    let decisions: Vec<Decision> =
        a.get("decisions").and_then(Value::as_array).into_iter().flatten().map(decision).collect();
    let active: Vec<&Decision> = decisions.iter().filter(|d| d.active()).collect();
    let severity = if active.iter().any(|d| d.kind == "ban") {
        "high"
    } else if active.is_empty() {
        "low"
    } else {
        "medium"
    };
    let ip = text(&src, "ip");
    let value = if ip.is_empty() { text(&src, "value") } else { ip.clone() };
    let mut labels = vec![
        ("alertname".to_string(), text(a, "scenario")),
        ("severity".to_string(), severity.to_string()),
        ("instance".to_string(), value),
    ];
    for (label, key) in [
        ("source_ip", "ip"),
        ("source_range", "range"),
        ("as_name", "as_name"),
        ("as_number", "as_number"),
        ("country", "cn"),
    ] {
        let v = text(&src, key);
        if !v.is_empty() {
            labels.push((label.to_string(), v));
        }
    }
    let started = a.get("start_at").and_then(Value::as_str).and_then(parse_go_time);
    let alert = Alert::new(
        &format!("crowdsec:{id}"),
        labels,
        [("summary".to_string(), text(a, "message"))],
        AlertState::Active,
        vec![],
        vec![],
        started,
        None,
        source,
    );
    let events_count = a.get("events_count").and_then(Value::as_i64);
    Some(alert.with_origin(Origin::CrowdSec { id, events_count, decisions }))
}

/// The alert and its decisions as JSON, for an analysis request's `crowdsec_alerts`.
pub fn analysis_context(a: &Alert) -> Option<String> {
    let Origin::CrowdSec { id, events_count, decisions } = &a.origin else { return None };
    let v = json!({
        "id": id,
        "scenario": a.name(),
        "message": a.summary(),
        "events_count": events_count,
        "source": {
            "ip": a.labels.get("source_ip"), "range": a.labels.get("source_range"),
            "as_name": a.labels.get("as_name"), "as_number": a.labels.get("as_number"),
            "cn": a.labels.get("country"),
        },
        "start_at": a.starts_at,
        "decisions": decisions,
    });
    Some(json!([v]).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_parse_go_times_sources_and_decisions() {
        let a = json!({"id": 7, "scenario": "crowdsecurity/ssh-bf", "message": "Ip 1.2.3.4 performed 'ssh-bf' (6 events)",
            "events_count": 6, "start_at": "2026-11-22 02:27:06 +0000 UTC", "stop_at": "2026-11-22 02:27:10 +0000 UTC",
            "source": {"scope": "Ip", "value": "1.2.3.4", "ip": "1.2.3.4", "range": "1.2.3.0/24",
                       "as_name": "EXAMPLE\u{1b}]0;x\u{7}", "as_number": "64500", "cn": "DE"},
            "decisions": [{"id": 3, "origin": "crowdsec", "type": "ban", "scope": "Ip", "value": "1.2.3.4",
                           "duration": "3h59m59.5s", "scenario": "crowdsecurity/ssh-bf", "simulated": false}]});
        let alert = alert(&a, "crowdsec").unwrap_or_else(|| unreachable!("has an id"));
        assert_eq!(alert.fingerprint, "crowdsec:7");
        assert_eq!(alert.name(), "crowdsecurity/ssh-bf");
        assert_eq!(alert.severity(), crate::domain::Severity::High, "a ban");
        assert_eq!(alert.labels.get("country").map(String::as_str), Some("DE"));
        assert_eq!(alert.labels.get("as_name").map(String::as_str), Some("EXAMPLE\u{1b}]0;x\u{7}"), "raw");
        assert_eq!(alert.starts_at.map(|t| t.to_rfc3339()), Some("2026-11-22T02:27:06+00:00".into()));
        let ctx = analysis_context(&alert).unwrap_or_default();
        assert!(ctx.contains("3h59m59.5s") && ctx.contains("\"events_count\":6"), "{ctx}");
        assert!(super::alert(&json!({"scenario": "x"}), "crowdsec").is_none(), "no id");
        let expired = json!({"id": 8, "decisions": [{"id": 4, "type": "ban", "duration": "-1h0m0.22s"}]});
        assert_eq!(super::alert(&expired, "crowdsec").map(|a| a.severity()), Some(crate::domain::Severity::Low));
        assert_eq!(parse_go_time("2026-11-22 02:27:06.5 +0100 CET"), parse_go_time("2026-11-22 01:27:06.5 +0000 UTC"));
        assert!(parse_go_time("2026-11-22 01:27:06.5 +0000 UTC").is_some());
        assert_eq!(parse_go_time("2026-11-22 04:27:06.5 +0300 +03"), parse_go_time("2026-11-22 01:27:06.5 +0000 UTC"));
        assert_eq!(parse_go_time("2026-11-22 01:27:06 +0000"), parse_go_time("2026-11-22T01:27:06Z"));
    }
}
