//! What the operator's actions carry to the platform: an analysis request (CONTRACT.md §1–§2),
//! a job status transition, a ticket (APIS.md §4) and a notification (APIS.md §5). Input is
//! checked here, once, for the form and the command line alike.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::job::{JobStatus, Severity};
use super::text::is_unsafe;

/// Longest one-line field of an analysis request, in characters.
pub const MAX_FIELD_CHARS: usize = 256;
/// Longest description, in bytes.
pub const MAX_DESCRIPTION_BYTES: usize = 32 * 1024;
/// Longest metrics, logs or CrowdSec context, in bytes.
pub const MAX_CONTEXT_BYTES: usize = 256 * 1024;

/// A request for an analysis: the body of the gateway's `POST /api/v1/analyze`, and the fields of
/// the job hash when written to Redis directly.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AnalysisRequest {
    pub alert_type: String,
    pub source: String,
    pub hostname: String,
    pub severity: String,
    /// RFC 3339; when the alert happened (now, for a manual request).
    pub timestamp: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logs: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crowdsec_alerts: Option<String>,
}

impl AnalysisRequest {
    /// Check every field; the error names the field at fault. Nothing is written on an error.
    pub fn validate(&self) -> Result<(), String> {
        for (name, value) in [
            ("alert type", &self.alert_type),
            ("source", &self.source),
            ("hostname", &self.hostname),
            ("severity", &self.severity),
        ] {
            if value.trim().is_empty() {
                return Err(format!("{name} is required"));
            }
            if value.chars().count() > MAX_FIELD_CHARS {
                return Err(format!("{name} is longer than {MAX_FIELD_CHARS} characters"));
            }
            if let Some(c) = value.chars().find(|c| is_unsafe(*c)) {
                return Err(format!("{name} holds a control character ({})", c.escape_unicode()));
            }
        }
        if Severity::parse(&self.severity) == Severity::Unknown {
            return Err(format!(
                "severity {:?} is not one of critical, high, medium, low (or Kritisch, Hoch, Mittel, Gering)",
                super::text::escape_line(&self.severity)
            ));
        }
        if super::job::parse_time(&self.timestamp).is_none() {
            return Err("timestamp is not an RFC 3339 time".into());
        }
        check_text("description", &self.description, MAX_DESCRIPTION_BYTES)?;
        if self.description.trim().is_empty() {
            return Err("description is required".into());
        }
        for (name, value) in
            [("metrics", &self.metrics), ("logs", &self.logs), ("crowdsec alerts", &self.crowdsec_alerts)]
        {
            if let Some(v) = value {
                check_text(name, v, MAX_CONTEXT_BYTES)?;
            }
        }
        Ok(())
    }

    /// The dedup key of CONTRACT.md §1: sha256 of `alert_type|source|hostname|description`, each
    /// trimmed and lower-cased, as lowercase hex.
    pub fn dedup_hash(&self) -> String {
        let norm = |s: &str| s.trim().to_lowercase();
        let text = [&self.alert_type, &self.source, &self.hostname, &self.description].map(|s| norm(s)).join("|");
        hex::encode(Sha256::digest(text.as_bytes()))
    }
}

/// Multi-line text: newlines and tabs are fine, other control characters and escapes are not.
/// Longest one-line note, title or comment an operator writes, in characters.
pub const MAX_NOTE_CHARS: usize = 1024;

/// A one-line field an operator writes (a note, a title, a silence comment): at most
/// [`MAX_NOTE_CHARS`], no control character, line feeds included (it is shown on one line and
/// stored in Alertmanager, Zammad and the audit log).
pub fn check_line(name: &str, value: &str) -> Result<(), String> {
    if value.chars().count() > MAX_NOTE_CHARS {
        return Err(format!("{name} is longer than {MAX_NOTE_CHARS} characters"));
    }
    match value.chars().find(|c| is_unsafe(*c)) {
        Some(c) => Err(format!("{name} holds a control character ({})", c.escape_unicode())),
        None => Ok(()),
    }
}

/// Multi-line text an operator or a service wrote: at most `max` bytes, no control character
/// but line feeds and tabs.
pub fn check_text(name: &str, value: &str, max: usize) -> Result<(), String> {
    if value.len() > max {
        return Err(format!("{name} is larger than {} KiB ({} KiB given)", max / 1024, value.len() / 1024));
    }
    match value.chars().find(|c| !matches!(c, '\n' | '\t') && is_unsafe(*c)) {
        Some(c) => Err(format!("{name} holds a control character ({})", c.escape_unicode())),
        None => Ok(()),
    }
}

/// A new job, or the one an identical request made inside the dedup window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Created {
    pub job_id: String,
    pub deduplicated: bool,
}

/// What happens to a job's queue entry in a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueOp {
    Keep,
    /// Put the job back on its queue (retry).
    Push,
    /// Take every entry of the job off its queue (cancel).
    Remove,
}

/// One status change, carried out only if the job is in `from` at that moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub id: String,
    pub from: JobStatus,
    pub to: JobStatus,
    /// Fields to set with the status.
    pub set: Vec<(String, String)>,
    pub queue: QueueOp,
    /// A field that must be empty (`ticket_id`: no second ticket).
    pub guard: Option<&'static str>,
    /// The decision lock's token, which must still hold the lock (a decision that outlived it
    /// does not land).
    pub lock: Option<String>,
}

/// What an atomic transition found.
#[derive(Debug, Clone, PartialEq)]
pub enum TransitionOutcome {
    /// Done; how many queue entries were taken off.
    Done {
        removed: u64,
    },
    Missing,
    /// The job was in another status.
    WrongStatus(String),
    /// The guard field already has this value.
    AlreadySet(String),
    /// The decision lock is no longer held by this decision.
    LockLost,
    /// Cancelling: the job is no longer on its queue (a worker has it); nothing changed.
    Gone,
}

/// A ticket to open in Zammad.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewTicket {
    pub title: String,
    pub group: String,
    /// Zammad's priority name: `3 high`, `2 normal`, `1 low`.
    pub priority: String,
    /// The internal note: draft body, analysis, knowledge-base hits, job id.
    pub note: String,
}

/// A ticket as Zammad holds it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ticket {
    pub id: String,
    pub number: String,
    pub title: String,
    pub url: String,
}

/// A push notification.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notification {
    pub title: String,
    /// 1 (min) to 5 (max).
    pub priority: u8,
    pub tags: Vec<String>,
    pub click: Option<String>,
    pub body: String,
}

/// Zammad's priority for a severity (CONTRACT.md §4).
pub fn ticket_priority(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "3 high",
        Severity::Low => "1 low",
        Severity::Medium | Severity::Unknown => "2 normal",
    }
}

/// ntfy's priority for a severity (CONTRACT.md §4).
pub fn notify_priority(s: Severity) -> u8 {
    match s {
        Severity::Critical => 5,
        Severity::High => 4,
        Severity::Medium | Severity::Unknown => 3,
        Severity::Low => 2,
    }
}

/// The mark a ticket's title carries so a retry finds it: `[job J]`.
pub fn job_marker(id: &str) -> String {
    format!("[job {id}]")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> AnalysisRequest {
        AnalysisRequest {
            alert_type: "DiskFull".into(),
            source: "manual".into(),
            hostname: "db-01".into(),
            severity: "Kritisch".into(),
            timestamp: "2026-11-22T03:00:00Z".into(),
            description: "/var is 97% full\nsince 02:50".into(),
            ..Default::default()
        }
    }

    #[test]
    fn bad_input_names_the_field() {
        assert_eq!(request().validate(), Ok(()));
        type Change = fn(&mut AnalysisRequest);
        let cases: [(Change, &str); 6] = [
            (|r| r.hostname = "  ".into(), "hostname is required"),
            (|r| r.severity = "urgent".into(), "severity \"urgent\" is not one of"),
            (|r| r.description = "x".repeat(10 * 1024 * 1024), "description is larger than 32 KiB"),
            (|r| r.alert_type = "Disk\x1b[2JFull".into(), "alert type holds a control character"),
            (|r| r.description = "ok\u{202e}evil".into(), "description holds a control character"),
            (|r| r.logs = Some("a\x07".into()), "logs holds a control character"),
        ];
        for (change, want) in cases {
            let mut r = request();
            change(&mut r);
            let err = r.validate().err().unwrap_or_default();
            assert!(err.starts_with(want), "{err:?} should start with {want:?}");
        }
    }

    #[test]
    fn dedup_folds_case_and_trims_each_field() {
        let a = request();
        let b = AnalysisRequest {
            hostname: " DB-01 ".into(),
            description: "/VAR is 97% full\nSince 02:50 ".into(),
            ..a.clone()
        };
        assert_eq!(a.dedup_hash(), b.dedup_hash());
        assert_eq!(a.dedup_hash().len(), 64);
        let c = AnalysisRequest { hostname: "db-02".into(), ..a.clone() };
        assert_ne!(a.dedup_hash(), c.dedup_hash());
    }

    #[test]
    fn severities_map_to_priorities() {
        assert_eq!(ticket_priority(Severity::parse("Hoch")), "3 high");
        assert_eq!(ticket_priority(Severity::parse("medium")), "2 normal");
        assert_eq!(notify_priority(Severity::parse("critical")), 5);
        assert_eq!(notify_priority(Severity::parse("Gering")), 2);
    }
}
