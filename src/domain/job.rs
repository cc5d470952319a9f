//! Job records of CONTRACT.md §1, parsed leniently: anything missing or malformed becomes unknown.
//! Values are kept as Redis holds them (bytes that are not UTF-8 replaced): actions use them, and
//! the screen cleans them when drawn.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;

use super::rag::RagHit;
use super::text::clean_line;

/// Longest multi-line field kept for the detail view, in characters.
pub const MAX_TEXT_CHARS: usize = 64 * 1024;

/// Where a job stands (CONTRACT.md §1). Anything else is kept, cleaned, as `Unknown`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    AwaitingApproval,
    Approved,
    Rejected,
    Done,
    Failed,
    Cancelled,
    Unknown(String),
}

impl JobStatus {
    /// Every status of the contract, in the order the status bar shows them.
    pub const ALL: [JobStatus; 8] = [
        JobStatus::Queued,
        JobStatus::Running,
        JobStatus::AwaitingApproval,
        JobStatus::Approved,
        JobStatus::Rejected,
        JobStatus::Done,
        JobStatus::Failed,
        JobStatus::Cancelled,
    ];

    pub fn parse(s: &str) -> Self {
        match s.trim() {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "awaiting_approval" => Self::AwaitingApproval,
            "approved" => Self::Approved,
            "rejected" => Self::Rejected,
            "done" => Self::Done,
            "failed" => Self::Failed,
            "cancelled" => Self::Cancelled,
            other => Self::Unknown(other.to_string()),
        }
    }

    /// The name used in Redis keys and JSON output.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::AwaitingApproval => "awaiting_approval",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Unknown(_) => "unknown",
        }
    }

    /// A short label for narrow columns.
    pub fn short(&self) -> &str {
        match self {
            Self::AwaitingApproval => "approval",
            Self::Cancelled => "cancel",
            Self::Unknown(_) => "?",
            other => other.as_str(),
        }
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status change pushed on `{p}events`.
#[derive(Debug, Clone, PartialEq)]
pub struct JobEvent {
    pub job_id: Option<String>,
    pub status: Option<JobStatus>,
    pub at: Option<DateTime<Utc>>,
}

/// Alert severity; the German labels the platform also sends mean the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
    Unknown,
}

impl Severity {
    pub fn parse(s: &str) -> Self {
        let s = s.trim();
        let is = |names: [&str; 2]| names.iter().any(|n| s.eq_ignore_ascii_case(n));
        if is(["critical", "kritisch"]) {
            Self::Critical
        } else if is(["high", "hoch"]) {
            Self::High
        } else if is(["medium", "mittel"]) {
            Self::Medium
        } else if is(["low", "gering"]) {
            Self::Low
        } else {
            Self::Unknown
        }
    }

    /// A monitoring system's severity label on the platform's levels: the four levels and their
    /// German names, plus Alertmanager's usual words (`warning` → medium, `info`/`none` → low,
    /// `page`/`error` → high), in any case; anything else is unknown.
    pub fn from_label(s: &str) -> Self {
        match s.trim().to_ascii_lowercase().as_str() {
            "warning" | "warn" => Self::Medium,
            "info" | "none" => Self::Low,
            "page" | "error" => Self::High,
            other => Self::parse(other),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::High => "high",
            Self::Medium => "medium",
            Self::Low => "low",
            Self::Unknown => "unknown",
        }
    }
}

/// One row of the jobs list: the small fields of a job hash, as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    pub id: String,
    pub queue: Option<String>,
    pub status: JobStatus,
    pub severity: Severity,
    pub hostname: Option<String>,
    pub alert_type: Option<String>,
    pub source: Option<String>,
    /// The start of the description, one line.
    pub summary: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
    /// Who approved or rejected it (`mcptop:alice@ops-1`).
    pub decided_by: Option<String>,
}

/// The list fields fetched for every row, in the order the window script returns them.
pub const LIST_FIELDS: [&str; 11] = [
    "status",
    "severity",
    "hostname",
    "alert_type",
    "source",
    "description",
    "created_at",
    "updated_at",
    "queue",
    "error",
    "decided_by",
];

/// Raw field values as they came from Redis: `None` where the field is missing.
pub type RawFields = BTreeMap<String, Vec<u8>>;

impl Job {
    /// Build a row from raw fields. `id` comes from the index; `score_ms` (the index score, epoch
    /// ms) stands in for `created_at` when the hash lacks it.
    pub fn from_fields(id: &str, score_ms: Option<f64>, fields: &RawFields) -> Self {
        let line =
            |name: &str| fields.get(name).map(|v| String::from_utf8_lossy(v).into_owned()).filter(|s| !s.is_empty());
        let time = |name: &str| fields.get(name).and_then(|v| parse_time(&String::from_utf8_lossy(v)));
        Job {
            id: id.to_string(),
            queue: line("queue"),
            status: fields
                .get("status")
                .map(|v| JobStatus::parse(&String::from_utf8_lossy(v)))
                .unwrap_or_else(|| JobStatus::Unknown(String::new())),
            severity: fields
                .get("severity")
                .map(|v| Severity::parse(&String::from_utf8_lossy(v)))
                .unwrap_or(Severity::Unknown),
            hostname: line("hostname"),
            alert_type: line("alert_type"),
            source: line("source"),
            summary: line("description"),
            created_at: time("created_at").or_else(|| score_ms.and_then(epoch_ms)),
            updated_at: time("updated_at"),
            error: line("error"),
            decided_by: line("decided_by"),
        }
    }

    /// Whether the row matches a filter typed in `/` (id, host, alert type or text). Case is
    /// folded for ASCII letters only, exactly as Redis's Lua `string.lower` does, so the demo and
    /// a real platform match the same jobs.
    pub fn matches(&self, needle: &str) -> bool {
        if needle.is_empty() {
            return true;
        }
        let needle = needle.to_ascii_lowercase();
        [Some(&self.id), self.hostname.as_ref(), self.alert_type.as_ref(), self.summary.as_ref()]
            .into_iter()
            .flatten()
            .any(|s| s.to_ascii_lowercase().contains(&needle))
    }
}

/// Parse an RFC 3339 timestamp, or epoch seconds/milliseconds, as some producers write those.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let n: f64 = s.parse().ok()?;
    if n > 1e11 { epoch_ms(n) } else { epoch_ms(n * 1000.0) }
}

fn epoch_ms(ms: f64) -> Option<DateTime<Utc>> {
    if !ms.is_finite() || !(0.0..=1e15).contains(&ms) {
        return None;
    }
    Utc.timestamp_millis_opt(ms as i64).single()
}

/// Which jobs the list shows: a window of the newest, optionally failures only or filtered.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JobsQuery {
    pub failures_only: bool,
    /// Only jobs in this status (its index set, ordered by `updated_at`).
    pub status: Option<JobStatus>,
    /// Oldest first (without a text filter).
    pub oldest_first: bool,
    pub filter: String,
    pub offset: usize,
    pub limit: usize,
}

/// One window of jobs as fetched.
#[derive(Debug, Clone, PartialEq)]
pub struct JobsPage {
    pub query: JobsQuery,
    /// Jobs in the index the window was taken from (all jobs, or failed ones).
    pub total: u64,
    /// With a text filter: how many index entries the search looked at, newest first.
    pub scanned: Option<u64>,
    pub jobs: Vec<Job>,
    pub fetched_at: DateTime<Utc>,
}

/// Every field of one job, for the detail view.
#[derive(Debug, Clone, PartialEq)]
pub struct JobDetail {
    pub job: Job,
    /// Every field as text, in name order, including ones mcptop does not know.
    pub fields: Vec<(String, String)>,
    pub analysis: Option<Analysis>,
    pub rag_hits: Option<Result<Vec<RagHit>, String>>,
    pub ticket_draft: Option<TicketDraft>,
    pub fetched_at: DateTime<Utc>,
}

/// The worker's analysis (the `analysis` field's JSON).
#[derive(Debug, Clone, PartialEq, Default, serde::Deserialize)]
#[serde(default)]
pub struct Analysis {
    pub summary: Option<String>,
    pub root_cause: Option<String>,
    pub impact: Option<String>,
    pub immediate_action: Option<String>,
    pub priority: Option<serde_json::Value>,
    pub confidence: Option<f64>,
    pub model: Option<String>,
}

/// The ticket the AI drafted, awaiting approval.
#[derive(Debug, Clone, PartialEq, Default, serde::Deserialize)]
#[serde(default)]
pub struct TicketDraft {
    pub title: Option<String>,
    pub group: Option<String>,
    pub priority: Option<serde_json::Value>,
    pub body: Option<String>,
}

impl JobDetail {
    /// Build the detail from every raw field of the hash.
    pub fn from_fields(id: &str, fields: &RawFields, fetched_at: DateTime<Utc>) -> Self {
        let text = |name: &str| fields.get(name).map(|v| String::from_utf8_lossy(v).into_owned());
        let analysis = text("analysis").and_then(|s| serde_json::from_str::<Analysis>(&s).ok()).map(Analysis::checked);
        let ticket_draft = text("ticket_draft").and_then(|s| serde_json::from_str::<TicketDraft>(&s).ok());
        JobDetail {
            job: Job::from_fields(id, None, fields),
            fields: fields.iter().map(|(k, v)| (k.clone(), String::from_utf8_lossy(v).into_owned())).collect(),
            analysis,
            rag_hits: text("rag_hits").map(|s| super::rag::parse_job_hits(&s)),
            ticket_draft,
            fetched_at,
        }
    }

    /// A field's text, if present.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

impl Analysis {
    /// A confidence that is not a finite number is unknown.
    fn checked(self) -> Self {
        Analysis { confidence: self.confidence.filter(|c| c.is_finite()), ..self }
    }
}

/// Show a JSON scalar from outside as one clean line.
pub fn json_scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => clean_line(s),
        other => clean_line(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(pairs: &[(&str, &[u8])]) -> RawFields {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_vec())).collect()
    }

    #[test]
    fn parses_a_complete_row() {
        let f = raw(&[
            ("status", b"awaiting_approval"),
            ("severity", b"Kritisch"),
            ("hostname", b"db-01"),
            ("created_at", b"2026-05-01T10:00:00Z"),
        ]);
        let job = Job::from_fields("j1", None, &f);
        assert_eq!(job.status, JobStatus::AwaitingApproval);
        assert_eq!(job.severity, Severity::Critical);
        assert_eq!(job.hostname.as_deref(), Some("db-01"));
        assert_eq!(job.created_at.map(|t| t.to_rfc3339()).as_deref(), Some("2026-05-01T10:00:00+00:00"));
    }

    #[test]
    fn missing_and_malformed_fields_are_unknown() {
        let f = raw(&[("status", b"\xff\x1b[2J"), ("severity", b"7"), ("created_at", b"yesterday")]);
        let job = Job::from_fields("j\x1b]0;x\x07", Some(f64::NAN), &f);
        assert!(matches!(job.status, JobStatus::Unknown(ref s) if s == "\u{fffd}\x1b[2J"), "kept; cleaned when drawn");
        assert_eq!(job.severity, Severity::Unknown);
        assert_eq!(job.created_at, None);
        assert_eq!(job.id, "j\x1b]0;x\x07", "the id as stored: actions use it");
        assert_eq!(Job::from_fields("x", None, &RawFields::new()).hostname, None);
    }

    #[test]
    fn index_score_stands_in_for_created_at() {
        let job = Job::from_fields("j", Some(1_767_225_600_000.0), &RawFields::new());
        assert_eq!(job.created_at.map(|t| t.timestamp()), Some(1_767_225_600));
    }

    #[test]
    fn detail_parses_analysis_hits_and_draft_and_survives_garbage() {
        let f = raw(&[
            ("analysis", br#"{"summary":"disk\u001b[31m full","confidence":0.8,"priority":2}"#),
            ("rag_hits", br#"[{"id":7,"score":0.91,"text":"resize /var","metadata":{"src":"wiki"}}, 5]"#),
            ("ticket_draft", b"not json"),
        ]);
        let d = JobDetail::from_fields("j", &f, Utc::now());
        let a = d.analysis.as_ref().map(|a| a.summary.clone());
        assert_eq!(a, Some(Some("disk\x1b[31m full".into())));
        let hits = d.rag_hits.clone().and_then(|r| r.ok()).unwrap_or_default();
        assert_eq!(hits.len(), 2);
        assert_eq!(hits[0].id_label(), "7");
        assert_eq!(hits[1].id_label(), "?");
        assert_eq!(d.ticket_draft, None);
    }

    #[test]
    fn filter_matches_id_host_type_and_text() {
        let f = raw(&[("hostname", b"DB-01"), ("description", b"Disk full")]);
        let job = Job::from_fields("7f3a", None, &f);
        assert!(job.matches("db-01"));
        assert!(job.matches("7F3"));
        assert!(job.matches("disk"));
        assert!(!job.matches("web"));
    }
}
