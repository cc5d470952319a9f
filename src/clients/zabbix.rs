//! Zabbix's JSON-RPC API (APIS.md §8, SERVICES.md): problems (`problem.get`, hosts through
//! `trigger.get`) as alerts, and `event.acknowledge`.
//!
//! Authentication depends on the server's version, read once with `apiinfo.version` (which
//! takes none): from 6.4 an `Authorization: Bearer` header (7.2 refuses the old field); before
//! that only the `auth` field of the request body (6.0 ignores the header).
//!
//! Severities map onto the Alerts pane's levels: Disaster → critical, High → high, Average and
//! Warning → medium, Information → low, Not classified → unknown.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::DateTime;
use serde_json::{Value, json};

use super::error::SourceError;
use super::http::{self, Items};
use crate::domain::alert::{Alert, AlertState, Origin};
use crate::domain::{Secret, text::clean_line};

/// Most problems read in one refresh (newest first).
pub const MAX_PROBLEMS: usize = 2_000;
/// Longest problem name kept (shown; never matched on).
pub const MAX_NAME_CHARS: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Auth {
    /// `Authorization: Bearer` (6.4 and later).
    Header,
    /// The `auth` body field (before 6.4).
    Body,
}

/// How a server of this version (`apiinfo.version`, "6.0.14") wants the token: the header from
/// 6.4 on, the body field before (an unreadable version is taken as old: 6.0 ignores the header,
/// and a 7.2 server that refuses the field says so in the error).
fn auth_for(version: &str) -> Auth {
    let mut parts = version.trim().split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if (major, minor) >= (6, 4) { Auth::Header } else { Auth::Body }
}

/// What acknowledging did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acked {
    Done,
    /// It was acknowledged already: nothing sent (a decision is idempotent).
    Already,
}

pub struct ZabbixClient {
    pub name: String,
    api: String,
    token: Secret,
    http: reqwest::Client,
    timeout: Duration,
    /// How the server wants the token and its version, read once (again after a refusal).
    auth: std::sync::Mutex<Option<(Auth, String)>>,
}

impl ZabbixClient {
    pub fn new(name: &str, url: &str, token: Secret, timeout: Duration) -> Result<Self, SourceError> {
        let api = if url.trim_end_matches('/').ends_with(".php") {
            url.to_string()
        } else {
            http::join(url, "/api_jsonrpc.php")
        };
        Ok(ZabbixClient {
            name: name.into(),
            api,
            token,
            http: http::client(timeout)?,
            timeout,
            auth: std::sync::Mutex::new(None),
        })
    }

    /// The server's version, and how it wants the token.
    pub async fn version(&self) -> Result<String, SourceError> {
        Ok(self.auth().await?.1)
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Option<(Auth, String)>> {
        self.auth.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn auth(&self) -> Result<(Auth, String), SourceError> {
        if let Some(known) = self.held().clone() {
            return Ok(known);
        }
        let body = self.rpc("apiinfo.version", json!([]), None).await?;
        let v: Rpc<Value> =
            serde_json::from_slice(&body).map_err(|e| SourceError::Decode(clean_line(&e.to_string())))?;
        let version = v.result.as_ref().and_then(Value::as_str).unwrap_or_default().to_string();
        let known = (auth_for(&version), version);
        *self.held() = Some(known.clone());
        Ok(known)
    }

    async fn call(&self, method: &str, params: Value) -> Result<Value, SourceError> {
        let body = self.call_raw(method, params).await?;
        let answer: Rpc<Value> = serde_json::from_slice(&body)
            .map_err(|e| SourceError::Decode(clean_line(&format!("Zabbix {method}: {e}"))))?;
        answer.result.ok_or_else(|| SourceError::Decode(format!("Zabbix {method}: no result")))
    }

    /// The answer's body, once Zabbix said it is not an error.
    async fn call_raw(&self, method: &str, params: Value) -> Result<Vec<u8>, SourceError> {
        let auth = self.auth().await?.0;
        let result = self.rpc(method, params, Some(auth)).await;
        // Refused: the server may have been upgraded (7.2 refuses the body field) — the version
        // is read again next time.
        if let Err(SourceError::Server(m)) = &result
            && ["Not authorized", "re-login", "unexpected parameter"].iter().any(|s| m.contains(s))
        {
            *self.held() = None;
        }
        result
    }

    async fn rpc(&self, method: &str, params: Value, auth: Option<Auth>) -> Result<Vec<u8>, SourceError> {
        let mut body = json!({"jsonrpc": "2.0", "method": method, "params": params, "id": 1});
        let mut req = self.http.post(&self.api).header("Content-Type", "application/json-rpc");
        match auth {
            Some(Auth::Header) => req = req.bearer_auth(self.token.expose()),
            Some(Auth::Body) => body["auth"] = Value::String(self.token.expose().to_string()),
            None => {}
        }
        let body = http::send_with_secret(req.json(&body), self.timeout, Some(&self.token)).await?;
        // Only the error is parsed here; the result is left for the caller to read its way.
        let answer: Rpc<&serde_json::value::RawValue> = serde_json::from_slice(&body)
            .map_err(|e| SourceError::Decode(clean_line(&format!("Zabbix {method}: {e}"))))?;
        if let Some(e) = answer.error {
            let text = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let msg = format!("Zabbix {method}: {} {}", text("message"), text("data"));
            return Err(SourceError::Server(clean_line(&self.token.scrub(msg.trim()))));
        }
        Ok(body)
    }

    /// Open problems and recently resolved ones, newest first, with their hosts. A problem that
    /// cannot be read (no event id, a number out of range) is skipped and counted.
    pub async fn problems(&self) -> Result<Items<Alert>, SourceError> {
        let params = json!({"output": "extend", "recent": true, "selectTags": "extend",
                            "sortfield": ["eventid"], "sortorder": "DESC", "limit": MAX_PROBLEMS});
        let body = self.call_raw("problem.get", params).await?;
        let answer: Rpc<Vec<&serde_json::value::RawValue>> = serde_json::from_slice(&body).map_err(|e| {
            SourceError::Decode(clean_line(&format!("Zabbix problem.get: the result is not a list: {e}")))
        })?;
        let raw = answer.result.ok_or_else(|| SourceError::Decode("Zabbix problem.get: no result".into()))?;
        // The triggers first (for the hosts), from each problem's objectid alone: the problems are
        // read whole only one at a time, into their alerts.
        #[derive(serde::Deserialize)]
        struct Trigger {
            objectid: Option<Value>,
        }
        let mut triggers: Vec<String> = raw
            .iter()
            .filter_map(|r| serde_json::from_str::<Trigger>(r.get()).ok()?.objectid)
            .filter_map(|v| v.as_str().map(String::from).or_else(|| v.as_u64().map(|n| n.to_string())))
            .collect();
        triggers.sort_unstable();
        triggers.dedup();
        let hosts = if triggers.is_empty() {
            BTreeMap::new()
        } else {
            let params = json!({"triggerids": triggers, "output": ["triggerid"], "selectHosts": ["host", "name"]});
            hosts_by_trigger(&self.call("trigger.get", params).await?)
        };
        Ok(http::items_of(raw, MAX_PROBLEMS, |p| {
            problem_alert(p, &hosts, &self.name).ok_or_else(|| "a problem without an event id".to_string())
        }))
    }

    /// Acknowledge one problem's event with a message; nothing is sent when it already is.
    pub async fn acknowledge(&self, eventid: &str, message: &str) -> Result<Acked, SourceError> {
        if eventid.is_empty() || !eventid.chars().all(|c| c.is_ascii_digit()) {
            return Err(SourceError::Server(format!("{eventid:?} is not a Zabbix event id")));
        }
        let current =
            self.call("problem.get", json!({"eventids": [eventid], "output": ["eventid", "acknowledged"]})).await?;
        let acked = current.as_array().and_then(|a| a.first()).map(|p| field(p, "acknowledged") == "1");
        if acked == Some(true) {
            return Ok(Acked::Already);
        }
        // 6 = acknowledge (2) + add a message (4).
        self.call("event.acknowledge", json!({"eventids": [eventid], "action": 6, "message": message})).await?;
        Ok(Acked::Done)
    }
}

/// A JSON-RPC answer: its result, in whatever shape the call reads it, or its error.
#[derive(serde::Deserialize)]
struct Rpc<T> {
    result: Option<T>,
    #[serde(default)]
    error: Option<Value>,
}

/// A field as Zabbix sends it: a string (numbers too), or a number from a newer server.
fn field<'a>(v: &'a Value, k: &str) -> std::borrow::Cow<'a, str> {
    match v.get(k) {
        Some(Value::String(s)) => s.as_str().into(),
        Some(Value::Number(n)) => n.to_string().into(),
        _ => "".into(),
    }
}

fn hosts_by_trigger(v: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for t in v.as_array().into_iter().flatten() {
        let host = t
            .get("hosts")
            .and_then(Value::as_array)
            .and_then(|h| h.first())
            .map(|h| if field(h, "name").is_empty() { field(h, "host") } else { field(h, "name") });
        if let Some(host) = host {
            out.insert(field(t, "triggerid").into_owned(), host.into_owned());
        }
    }
    out
}

/// The Zabbix severity's name and our level.
pub fn severity(level: Option<u8>) -> (&'static str, &'static str) {
    match level {
        Some(5) => ("disaster", "critical"),
        Some(4) => ("high", "high"),
        Some(3) => ("average", "medium"),
        Some(2) => ("warning", "medium"),
        Some(1) => ("information", "low"),
        Some(0) => ("not classified", "unknown"),
        _ => ("?", "unknown"),
    }
}

/// One problem as an alert; `None` without an event id. Labels: `alertname` (the problem's
/// name), `severity` (our level), `zabbix_severity`, `host`, and the problem's tags.
pub(crate) fn problem_alert(p: &Value, hosts: &BTreeMap<String, String>, server: &str) -> Option<Alert> {
    let eventid = field(p, "eventid").into_owned();
    if eventid.is_empty() {
        return None;
    }
    let level = field(p, "severity").parse::<u8>().ok();
    let (zname, ours) = severity(level);
    // A problem's name is only shown (acknowledging goes by its event): bounded like a summary.
    let name = crate::domain::text::cut(&field(p, "name"), MAX_NAME_CHARS);
    let mut labels: Vec<(String, String)> = Vec::new();
    for t in p.get("tags").and_then(Value::as_array).into_iter().flatten() {
        let tag = field(t, "tag");
        if !tag.is_empty() {
            labels.push((tag.into_owned(), field(t, "value").into_owned()));
        }
    }
    labels.push(("alertname".into(), name.clone()));
    labels.push(("severity".into(), ours.into()));
    labels.push(("zabbix_severity".into(), zname.into()));
    if let Some(h) = hosts.get(field(p, "objectid").as_ref()) {
        labels.push(("host".into(), h.clone()));
    }
    let recovery = field(p, "r_eventid");
    let resolved = !recovery.is_empty() && recovery != "0";
    let mut annotations = vec![("summary".to_string(), name)];
    let opdata = field(p, "opdata");
    if !opdata.is_empty() {
        annotations.push(("description".into(), opdata.into_owned()));
    }
    let state = if resolved {
        AlertState::Resolved
    } else if field(p, "suppressed") == "1" {
        AlertState::Suppressed
    } else {
        AlertState::Active
    };
    let starts = field(p, "clock").parse::<i64>().ok().and_then(|c| DateTime::from_timestamp(c, 0));
    let acknowledged = field(p, "acknowledged") == "1";
    let alert = Alert::new(
        &format!("zabbix:{server}:{eventid}"),
        labels,
        annotations,
        state,
        vec![],
        vec![],
        starts,
        None,
        server,
    );
    Some(alert.with_origin(Origin::Zabbix { server: server.into(), eventid, acknowledged, severity: level }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_goes_where_the_version_wants_it() {
        assert_eq!(auth_for("6.0.14"), Auth::Body);
        assert_eq!(auth_for("6.2.9"), Auth::Body);
        assert_eq!(auth_for("6.4.0"), Auth::Header);
        assert_eq!(auth_for("7.2.1"), Auth::Header);
        assert_eq!(auth_for("garbage"), Auth::Body);
    }

    #[test]
    fn problems_become_alerts_with_their_host_and_raw_values() {
        let p = json!({"eventid": "42", "objectid": "7", "clock": "1767225600", "name": "CPU high on ci\u{1b}[2J",
                       "severity": "4", "acknowledged": "0", "suppressed": "0", "r_eventid": "0",
                       "opdata": "95 %", "tags": [{"tag": "service", "value": "db"}]});
        let hosts = BTreeMap::from([("7".to_string(), "ci-host".to_string())]);
        let a = problem_alert(&p, &hosts, "zbx").unwrap_or_else(|| unreachable!("has an event id"));
        assert_eq!(a.fingerprint, "zabbix:zbx:42");
        assert_eq!(a.name(), "CPU high on ci\u{1b}[2J", "raw; cleaned when drawn");
        assert_eq!(a.labels.get("host").map(String::as_str), Some("ci-host"));
        assert_eq!(a.labels.get("service").map(String::as_str), Some("db"));
        assert_eq!(a.severity(), crate::domain::Severity::High);
        assert_eq!(a.starts_at.map(|t| t.timestamp()), Some(1_767_225_600));
        assert!(matches!(&a.origin, Origin::Zabbix { eventid, acknowledged: false, .. } if eventid == "42"));
        assert!(problem_alert(&json!({"name": "x"}), &hosts, "zbx").is_none(), "no event id");
        let resolved = problem_alert(&json!({"eventid": "9", "r_eventid": "12", "suppressed": "0"}), &hosts, "zbx");
        assert_eq!(resolved.map(|a| a.state), Some(AlertState::Resolved), "recently resolved: not firing");
        let odd = problem_alert(&json!({"eventid": 5, "severity": {}}), &hosts, "zbx");
        assert_eq!(odd.map(|a| a.severity()), Some(crate::domain::Severity::Unknown), "odd types are unknown");
    }
}
