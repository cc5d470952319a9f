//! Writes of CONTRACT.md §1: new jobs, status transitions checked atomically, decision locks,
//! and the whole fields a decision reads. Each is one Lua script (`clients/scripts.rs`).

use chrono::Utc;
use redis::Value;

use super::{DECISION_FIELD_BYTES, DECISION_FIELDS, FILTER_MAX_SCAN, RedisClient, bytes, count, decode_error, int};
use crate::clients::SourceError;
use crate::domain::JobDetail;
use crate::domain::action::{AnalysisRequest, Created, QueueOp, Transition, TransitionOutcome};
use crate::domain::job::RawFields;
use crate::domain::text::clean_line;

/// Writes (CONTRACT.md §1): new jobs, status transitions checked atomically, decision locks.
/// Each is one Lua script, so it happens entirely or not at all.
impl RedisClient {
    /// Create a job for `req` on `queue`, or answer the job an identical request made within
    /// `window_s` seconds.
    pub async fn create_job(
        &self,
        req: &AnalysisRequest,
        requested_by: &str,
        queue: &str,
        window_s: u64,
    ) -> Result<Created, SourceError> {
        let now = Utc::now();
        let ts = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let id = uuid::Uuid::new_v4().to_string();
        self.before_write().await?;
        let mut inv = self.create_script.prepare_invoke();
        inv.key(&self.settings.prefix); // routing only, as in `queues`
        inv.arg(&self.settings.prefix)
            .arg(req.dedup_hash())
            .arg(window_s)
            .arg(&id)
            .arg(now.timestamp_millis())
            .arg(&ts)
            .arg(queue);
        for (k, v) in job_fields(&id, req, requested_by, queue, &ts) {
            inv.arg(k).arg(v);
        }
        let value = self.invoke(inv).await?;
        match value {
            Value::Array(v) if v.len() == 2 => Ok(Created {
                job_id: String::from_utf8_lossy(&bytes(&v[0])).into_owned(),
                deduplicated: int(&v[1]) == Some(1),
            }),
            other => Err(decode_error("create job", &other)),
        }
    }

    /// Carry out `t` if the job is in `t.from` now (one script: check, fields, sets, queue, event).
    pub async fn transition(&self, t: &Transition) -> Result<TransitionOutcome, SourceError> {
        let now = Utc::now();
        self.before_write().await?;
        let mut inv = self.transition_script.prepare_invoke();
        let op = match t.queue {
            QueueOp::Keep => "",
            QueueOp::Push => "push",
            QueueOp::Remove => "remove",
        };
        inv.key(&self.settings.prefix); // routing only, as in `queues`
        inv.arg(&self.settings.prefix)
            .arg(&t.id)
            .arg(t.from.as_str())
            .arg(t.to.as_str())
            .arg(now.timestamp_millis())
            .arg(now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .arg(op)
            .arg(t.guard.unwrap_or(""))
            .arg(t.lock.as_deref().unwrap_or(""))
            .arg(FILTER_MAX_SCAN);
        for (k, v) in &t.set {
            inv.arg(k).arg(v);
        }
        let Value::Array(v) = self.invoke(inv).await? else {
            return Err(SourceError::Decode("transition: not an array".into()));
        };
        let word = v.first().map(|w| String::from_utf8_lossy(&bytes(w)).into_owned()).unwrap_or_default();
        let arg = || v.get(1).map(|a| String::from_utf8_lossy(&bytes(a)).into_owned()).unwrap_or_default();
        Ok(match word.as_str() {
            "ok" => TransitionOutcome::Done { removed: v.get(1).map(count).unwrap_or(0) },
            "missing" => TransitionOutcome::Missing,
            "status" => TransitionOutcome::WrongStatus(arg()),
            "has" => TransitionOutcome::AlreadySet(arg()),
            "lock" => TransitionOutcome::LockLost,
            "gone" => TransitionOutcome::Gone,
            other => return Err(SourceError::Decode(format!("transition: {:?}", clean_line(other)))),
        })
    }

    /// The fields a decision reads, whole: a field over `DECISION_FIELD_BYTES` is an error, never
    /// cut (a cut draft would be sent as if it were the draft). `None` when the job is missing.
    pub async fn decision_detail(&self, id: &str) -> Result<Option<JobDetail>, SourceError> {
        let mut inv = self.decision_script.prepare_invoke();
        inv.key(self.key(&format!("job:{id}"))).arg(DECISION_FIELD_BYTES);
        for f in DECISION_FIELDS {
            inv.arg(f);
        }
        let Value::Array(items) = self.invoke(inv).await? else {
            return Err(SourceError::Decode("decision fields: not an array".into()));
        };
        if items.is_empty() {
            return Ok(None);
        }
        let fields: RawFields = items
            .chunks(2)
            .filter_map(|p| match p {
                [k, v] => Some((String::from_utf8_lossy(&bytes(k)).into_owned(), bytes(v))),
                _ => None,
            })
            .collect();
        Ok(Some(JobDetail::from_fields(id, &fields, Utc::now())))
    }

    /// Take `{p}lock:job:{id}` for `ttl_ms` unless someone holds it. `token` identifies the holder.
    pub async fn lock(&self, id: &str, token: &str, ttl_ms: u64) -> Result<bool, SourceError> {
        let mut inv = self.lock_script.prepare_invoke();
        inv.key(self.key(&format!("lock:job:{id}"))).arg(token).arg(ttl_ms);
        Ok(int(&self.invoke(inv).await?) == Some(1))
    }

    /// Release the lock if `token` still holds it.
    pub async fn unlock(&self, id: &str, token: &str) -> Result<(), SourceError> {
        let mut inv = self.unlock_script.prepare_invoke();
        inv.key(self.key(&format!("lock:job:{id}"))).arg(token);
        self.invoke(inv).await.map(|_| ())
    }
}

/// The fields of a new job hash (CONTRACT.md §1).
fn job_fields(
    id: &str,
    req: &AnalysisRequest,
    requested_by: &str,
    queue: &str,
    now: &str,
) -> Vec<(&'static str, String)> {
    let mut f = vec![
        ("id", id.to_string()),
        ("queue", queue.to_string()),
        ("status", "queued".to_string()),
        ("alert_type", req.alert_type.clone()),
        ("source", req.source.clone()),
        ("hostname", req.hostname.clone()),
        ("severity", req.severity.clone()),
        ("description", req.description.clone()),
        ("timestamp", req.timestamp.clone()),
        ("requested_by", requested_by.to_string()),
        ("created_at", now.to_string()),
        ("updated_at", now.to_string()),
        ("attempts", "0".to_string()),
    ];
    for (k, v) in [("metrics", &req.metrics), ("logs", &req.logs), ("crowdsec_alerts", &req.crowdsec_alerts)] {
        if let Some(v) = v {
            f.push((k, v.clone()));
        }
    }
    f
}
