//! The Redis client for CONTRACT.md §1: queue statistics, job windows, job details and the
//! `{p}events` subscription. Every call has a timeout; a broken connection is rebuilt lazily.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use futures_util::StreamExt;

use redis::{ConnectionInfo, IntoConnectionInfo, Script, Value};
use tokio::sync::Mutex;
use tracing::{debug, instrument};

use super::error::SourceError;
use super::liveness;
use crate::domain::JobEvent;
use crate::domain::Secret;
use crate::domain::job::{LIST_FIELDS, RawFields, parse_time};
use crate::domain::secret::scrub_all;
use crate::domain::text::MAX_LINE_CHARS;
use crate::domain::{Job, JobDetail, JobStatus, JobsPage, JobsQuery, QueueSnapshot, QueueStats};

use super::scripts;

mod connect;
pub mod sentinel;
mod write;

pub use connect::hash_tagged;
use connect::{Conn, HostPort};
use sentinel::Sentinel;

/// Longest job-field value fetched for a list row, in bytes.
const LIST_FIELD_BYTES: usize = 512;
/// Longest job-field value fetched for the detail view, in bytes.
const DETAIL_FIELD_BYTES: usize = 256 * 1024;
/// Most fields of one job hash fetched for the detail view.
const DETAIL_MAX_FIELDS: usize = 200;
/// Most bytes of field values in one detail reply.
const DETAIL_MAX_BYTES: usize = 1024 * 1024;
/// Most index entries one filtered window looks at. The scan runs inside Redis, which serves
/// nobody else meanwhile: 10,000 entries cost about 50 ms there (see benches/jobs_refresh.rs).
pub const FILTER_MAX_SCAN: usize = 10_000;
/// Longest field a decision reads (a draft, an analysis, the hits).
const DECISION_FIELD_BYTES: usize = 1024 * 1024;
/// What a decision reads of a job.
const DECISION_FIELDS: [&str; 12] = [
    "id",
    "status",
    "queue",
    "severity",
    "hostname",
    "alert_type",
    "ticket_id",
    "ticket_number",
    "ticket_draft",
    "analysis",
    "rag_hits",
    "decided_by",
];
/// Most ids of the last minute looked at for per-queue enqueue rates.
const RECENT_CAP: usize = 2_000;

/// How to reach Redis and what the keys are called.
#[derive(Debug, Clone)]
pub struct RedisSettings {
    pub url: String,
    /// A password from a secret reference; overrides one in the URL.
    pub password: Option<Secret>,
    pub prefix: String,
    pub queues: Vec<String>,
    pub timeout: Duration,
}

/// A handle on one Redis server; cheap to share behind an `Arc`.
pub struct RedisClient {
    /// How to connect: the URL's address, or the master's that Sentinel gives.
    info: ConnectionInfo,
    sentinel: Option<Arc<Sentinel>>,
    /// A Redis Cluster, found from the URL's node.
    cluster: Option<redis::cluster::ClusterClient>,
    /// The open connection and the Sentinel master address it goes to.
    conn: Mutex<Option<(Conn, Option<HostPort>)>>,
    settings: RedisSettings,
    secrets: Vec<Secret>,
    round_trips: AtomicU64,
    queues_script: Script,
    window_script: Script,
    detail_script: Script,
    create_script: Script,
    transition_script: Script,
    lock_script: Script,
    unlock_script: Script,
    decision_script: Script,
}

impl RedisClient {
    /// Check the URL and prepare a client; nothing connects until the first call.
    pub fn new(settings: RedisSettings) -> Result<Self, SourceError> {
        let mut info = settings
            .url
            .as_str()
            .into_connection_info()
            .map_err(|e| SourceError::Connect(format!("invalid Redis URL: {:?}", e.kind())))?;
        let mut secrets = Vec::new();
        if let Some(pw) = info.redis_settings().password() {
            secrets.push(Secret::new(pw));
        }
        if let Some(pw) = &settings.password {
            info = info.clone().set_redis_settings(info.redis_settings().clone().set_password(pw.expose()));
            secrets.push(pw.clone());
        }
        Ok(RedisClient {
            info,
            sentinel: None,
            cluster: None,
            conn: Mutex::new(None),
            settings,
            secrets,
            round_trips: AtomicU64::new(0),
            queues_script: Script::new(scripts::QUEUES),
            window_script: Script::new(scripts::WINDOW),
            detail_script: Script::new(scripts::DETAIL),
            create_script: Script::new(scripts::CREATE),
            transition_script: Script::new(scripts::TRANSITION),
            lock_script: Script::new(scripts::LOCK),
            unlock_script: Script::new(scripts::UNLOCK),
            decision_script: Script::new(scripts::DECISION),
        })
    }

    pub fn settings(&self) -> &RedisSettings {
        &self.settings
    }

    /// Requests sent so far (for benchmarks: one script call is one round trip once loaded).
    pub fn round_trips(&self) -> u64 {
        self.round_trips.load(Ordering::Relaxed)
    }

    fn key(&self, suffix: &str) -> String {
        format!("{}{}", self.settings.prefix, suffix)
    }

    /// An error message with every known secret removed.
    fn redact(&self, msg: String) -> String {
        scrub_all(&msg, &self.secrets)
    }

    fn server_error(&self, e: redis::RedisError) -> SourceError {
        let msg = self.redact(e.to_string());
        if e.is_io_error() || e.is_connection_refusal() || e.is_connection_dropped() {
            // "Connection refused (os error 111)": the number says nothing more to an operator,
            // and the room it takes hides the rest of a pane's error line.
            let msg = match msg.rsplit_once(" (os error ") {
                Some((head, tail)) if tail.trim_end_matches(')').chars().all(|c| c.is_ascii_digit()) => {
                    head.to_string()
                }
                _ => msg,
            };
            SourceError::Connect(msg)
        } else if e.is_timeout() {
            SourceError::Timeout(self.settings.timeout)
        } else {
            SourceError::Server(msg)
        }
    }
}

/// Queue statistics, job windows, job details and pushed events (CONTRACT.md §1).
impl RedisClient {
    /// Queue lengths, oldest ages and counts by status, in one round trip.
    #[instrument(skip(self), level = "debug")]
    pub async fn queues(&self) -> Result<QueueSnapshot, SourceError> {
        let mut inv = self.queues_script.prepare_invoke();
        // The script builds its keys from the prefix (ARGV); the prefix as its one KEYS entry
        // only routes it, on a Redis Cluster, to the node holding the prefix's hash-tag slot.
        inv.key(&self.settings.prefix);
        inv.arg(&self.settings.prefix).arg(RECENT_CAP).arg(MAX_LINE_CHARS);
        for q in &self.settings.queues {
            inv.arg(q);
        }
        let value = self.invoke(inv).await?;
        parse_queues(value, &self.settings.prefix)
    }

    /// One window of jobs, newest first. A text filter folds ASCII case only (Lua's
    /// `string.lower`); the demo folds the same way.
    #[instrument(skip(self), level = "debug")]
    pub async fn jobs(&self, query: JobsQuery) -> Result<JobsPage, SourceError> {
        let index = match (&query.status, query.failures_only) {
            (Some(s), _) => self.key(&format!("jobs:{}", s.as_str())),
            (None, true) => self.key("jobs:failed"),
            (None, false) => self.key("jobs"),
        };
        let mut inv = self.window_script.prepare_invoke();
        inv.key(index)
            .arg(&self.settings.prefix)
            .arg(query.offset)
            .arg(query.limit)
            .arg(query.filter.trim().to_ascii_lowercase())
            .arg(FILTER_MAX_SCAN)
            .arg(LIST_FIELD_BYTES)
            .arg(query.filter.trim())
            .arg(if query.oldest_first { "asc" } else { "desc" });
        for f in LIST_FIELDS {
            inv.arg(f);
        }
        let value = self.invoke(inv).await?;
        parse_window(value, query)
    }

    /// Every field of one job; `None` when it does not exist.
    #[instrument(skip(self), level = "debug")]
    pub async fn job_detail(&self, id: String) -> Result<Option<JobDetail>, SourceError> {
        let mut inv = self.detail_script.prepare_invoke();
        inv.key(self.key(&format!("job:{id}"))).arg(DETAIL_FIELD_BYTES).arg(DETAIL_MAX_FIELDS).arg(DETAIL_MAX_BYTES);
        let items = match self.invoke(inv).await? {
            Value::Array(items) => items,
            other => return Err(decode_error("job detail", &other)),
        };
        if items.is_empty() {
            return Ok(None);
        }
        let mut fields = RawFields::new();
        for pair in items.chunks(2) {
            if let [k, v] = pair {
                fields.insert(String::from_utf8_lossy(&bytes(k)).into_owned(), bytes(v));
            }
        }
        Ok(Some(JobDetail::from_fields(&id, &fields, Utc::now())))
    }

    /// Status changes pushed on `{p}events`. The subscription's connection is pinged every
    /// [`liveness::CHECK_EVERY`]; the stream ends when a ping fails or the connection drops.
    pub async fn events(&self) -> Result<impl futures_util::Stream<Item = JobEvent> + Send + use<>, SourceError> {
        let channel = self.key("events");
        // The generation is read first: a move noticed while subscribing ends the stream.
        let born = self.sentinel.as_ref().map(|s| s.generation());
        let client = self.client_for(&self.master().await?)?;
        let subscribe = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        let pubsub = tokio::time::timeout(self.settings.timeout, subscribe)
            .await
            .map_err(|_| SourceError::Timeout(self.settings.timeout))?
            .map_err(|e| self.server_error(e))?;
        debug!(%channel, "subscribed");
        let (sink, messages) = pubsub.split();
        let timeout = self.settings.timeout;
        // Behind Sentinel the subscription also ends when the master moves, so it is made again
        // on the new master (the old one may answer pings for a while yet).
        let sentinel = self.sentinel.clone();
        let every = if sentinel.is_some() { sentinel::CHECK_EVERY } else { liveness::CHECK_EVERY };
        let pinged = std::sync::Arc::new(std::sync::Mutex::new(std::time::Instant::now()));
        let check = move || {
            let mut sink = sink.clone();
            let sentinel = sentinel.clone();
            let pinged = pinged.clone();
            async move {
                if let Some(s) = &sentinel {
                    if Some(s.generation()) != born {
                        return false;
                    }
                    let mut last = pinged.lock().unwrap_or_else(|e| e.into_inner());
                    if last.elapsed() < liveness::CHECK_EVERY {
                        return true;
                    }
                    *last = std::time::Instant::now();
                }
                matches!(tokio::time::timeout(timeout, sink.ping::<Value>()).await, Ok(Ok(_)))
            }
        };
        let events = messages.map(|msg| parse_event(msg.get_payload_bytes()));
        Ok(liveness::until_dead(events, every, check))
    }
}

/// Bytes of a bulk or simple string; empty for anything else.
fn bytes(v: &Value) -> Vec<u8> {
    match v {
        Value::BulkString(b) => b.clone(),
        Value::SimpleString(s) => s.clone().into_bytes(),
        Value::Int(n) => n.to_string().into_bytes(),
        _ => Vec::new(),
    }
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(n) => Some(*n),
        Value::BulkString(b) => std::str::from_utf8(b).ok()?.trim().parse::<f64>().ok().map(|f| f as i64),
        _ => None,
    }
}

fn float(v: &Value) -> Option<f64> {
    match v {
        Value::Int(n) => Some(*n as f64),
        Value::BulkString(b) => std::str::from_utf8(b).ok()?.trim().parse().ok(),
        Value::Double(d) => Some(*d),
        _ => None,
    }
}

fn decode_error(what: &str, v: &Value) -> SourceError {
    let shape = match v {
        Value::Nil => "nil",
        Value::Int(_) => "integer",
        Value::Array(_) => "array",
        Value::BulkString(_) | Value::SimpleString(_) => "string",
        _ => "other",
    };
    SourceError::Decode(format!("{what}: got {shape}"))
}

pub(super) fn count(v: &Value) -> u64 {
    known_count(v).unwrap_or(0)
}

/// A count the script read, `None` for its `-1`: a key of the wrong type.
fn known_count(v: &Value) -> Option<u64> {
    int(v).filter(|n| *n >= 0).map(|n| n as u64)
}

/// What the Jobs pane says of a key it cannot read, said the same way here.
fn wrong_type(key: &str, want: &str) -> String {
    format!("{key} is not a {want}")
}

fn parse_queues(value: Value, prefix: &str) -> Result<QueueSnapshot, SourceError> {
    let Value::Array(top) = value else { return Err(decode_error("queue stats", &value)) };
    let [now, total, Value::Array(counts), Value::Array(queues)] = top.as_slice() else {
        return Err(SourceError::Decode("queue stats: wrong shape".into()));
    };
    let now_ms = int(now).unwrap_or(0);
    let server_time = Utc.timestamp_millis_opt(now_ms).single().unwrap_or_else(Utc::now);
    let mut problems = Vec::new();
    let total_jobs = known_count(total);
    if total_jobs.is_none() {
        problems.push(wrong_type(&format!("{prefix}jobs"), "sorted set"));
    }
    let mut by_status = Vec::new();
    for (status, n) in JobStatus::ALL.iter().zip(counts) {
        match known_count(n) {
            Some(n) => by_status.push((status.clone(), n)),
            None => problems.push(wrong_type(&format!("{prefix}jobs:{}", status.as_str()), "sorted set")),
        }
    }
    let mut stats = Vec::new();
    for q in queues {
        let Value::Array(f) = q else { continue };
        if f.len() != 6 {
            continue;
        }
        let name = String::from_utf8_lossy(&bytes(&f[0])).into_owned();
        let (length, processing) = (known_count(&f[1]), known_count(&f[2]));
        if length.is_none() {
            problems.push(wrong_type(&format!("{prefix}queue:{name}"), "list"));
        }
        if processing.is_none() {
            problems.push(wrong_type(&format!("{prefix}processing:{name}"), "list"));
        }
        stats.push(QueueStats {
            name,
            length,
            processing,
            oldest_id: matches!(f[3], Value::BulkString(_))
                .then(|| String::from_utf8_lossy(&bytes(&f[3])).into_owned()),
            oldest_age_s: float(&f[4]).map(|ms| ((now_ms as f64 - ms) / 1000.0).max(0.0)),
            enqueued_last_min: known_count(&f[5]).unwrap_or(0),
        });
    }
    Ok(QueueSnapshot { queues: stats, by_status, total_jobs, problems, server_time, fetched_at: Utc::now() })
}

fn parse_window(value: Value, query: JobsQuery) -> Result<JobsPage, SourceError> {
    let Value::Array(top) = value else { return Err(decode_error("job window", &value)) };
    let [total, scanned, Value::Array(rows)] = top.as_slice() else {
        return Err(SourceError::Decode("job window: wrong shape".into()));
    };
    let jobs = rows
        .iter()
        .filter_map(|row| {
            let Value::Array(r) = row else { return None };
            let [id, score, Value::Array(vals)] = r.as_slice() else { return None };
            let fields: RawFields = LIST_FIELDS
                .iter()
                .zip(vals)
                .filter(|(_, v)| matches!(v, Value::BulkString(_)))
                .map(|(k, v)| (k.to_string(), bytes(v)))
                .collect::<BTreeMap<_, _>>();
            Some(Job::from_fields(&String::from_utf8_lossy(&bytes(id)), float(score), &fields))
        })
        .collect();
    Ok(JobsPage {
        total: count(total),
        scanned: int(scanned).filter(|n| *n >= 0).map(|n| n as u64),
        query,
        jobs,
        fetched_at: Utc::now(),
    })
}

/// Largest event payload worth parsing; a bigger one still means "something changed".
const MAX_EVENT_BYTES: usize = 64 * 1024;

/// Parse an event payload leniently: a payload that is not JSON still means "something changed".
fn parse_event(payload: &[u8]) -> JobEvent {
    // Read as borrowed strings into a small struct: a storm brings a thousand of these a second.
    #[derive(serde::Deserialize, Default)]
    #[serde(default)]
    struct Event<'a> {
        #[serde(borrow)]
        job_id: Option<std::borrow::Cow<'a, str>>,
        #[serde(borrow)]
        status: Option<std::borrow::Cow<'a, str>>,
        #[serde(borrow)]
        at: Option<std::borrow::Cow<'a, str>>,
    }
    let e: Event = if payload.len() > MAX_EVENT_BYTES {
        Event::default()
    } else {
        serde_json::from_slice(payload).unwrap_or_default()
    };
    JobEvent {
        job_id: e.job_id.map(String::from),
        status: e.status.as_deref().map(JobStatus::parse),
        at: e.at.as_deref().and_then(parse_time),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_parse_leniently() {
        let e = parse_event(br#"{"job_id":"j1","status":"done","at":"2026-01-01T00:00:00Z"}"#);
        assert_eq!(e.job_id.as_deref(), Some("j1"));
        assert_eq!(e.status, Some(JobStatus::Done));
        let garbage = parse_event(b"\xff\x1b[2J");
        assert_eq!(garbage, JobEvent { job_id: None, status: None, at: None });
        let mut huge = br#"{"job_id":""#.to_vec();
        huge.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
        huge.extend(br#""}"#);
        assert_eq!(parse_event(&huge).job_id, None, "a 10 MB payload is not parsed");
    }

    #[test]
    fn malformed_script_replies_are_decode_errors() {
        assert!(matches!(parse_queues(Value::Nil, "mcp:"), Err(SourceError::Decode(_))));
        assert!(matches!(
            parse_window(Value::Array(vec![Value::Int(1)]), JobsQuery::default()),
            Err(SourceError::Decode(_))
        ));
    }

    #[test]
    fn url_errors_do_not_echo_the_url() {
        let settings = RedisSettings {
            url: "redis://:hunter2@[bad".into(),
            password: None,
            prefix: "mcp:".into(),
            queues: vec![],
            timeout: Duration::from_secs(1),
        };
        let err = RedisClient::new(settings).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("invalid Redis URL"), "{err}");
        assert!(!err.contains("hunter2"));
    }
}
