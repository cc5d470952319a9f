//! Approving and rejecting ticket drafts, step by step as CONTRACT.md §4 says: take the job's
//! lock; refuse a job that already has a ticket; find the ticket by its `[job J]` title or open
//! it; update the job atomically (only from `awaiting_approval`); notify; release the lock. The
//! audit records around it are written by `Actions::run`.

use std::time::Duration;

use serde_json::json;

use super::{ActionError, Actions, Done, JobRef};
use crate::domain::action::{NewTicket, Notification, QueueOp, Ticket, Transition, TransitionOutcome};
use crate::domain::action::{job_marker, notify_priority, ticket_priority};
use crate::domain::{JobDetail, JobStatus, Severity};

/// How long the lock is held at most (CONTRACT.md §1).
const LOCK_TTL_MS: u64 = 30_000;
/// How long a decision may take while holding the lock: well inside the lock's life, so no
/// second decision can start while this one could still land (the transition also checks that
/// the lock is still this decision's).
const DECISION_BUDGET: Duration = Duration::from_secs(25);
/// How long a second operator waits for the first one's decision before giving up.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// Hold the job's decision lock while `f` runs. Someone else holding it is waited for, then the
/// job is read again: by then it is usually decided, and the answer says so.
async fn locked<F, Fut>(a: &Actions, job: &JobRef, f: F) -> Result<Done, ActionError>
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = Result<Done, ActionError>>,
{
    let control = a.control()?;
    let token = uuid::Uuid::new_v4().to_string();
    let deadline = tokio::time::Instant::now() + LOCK_WAIT;
    loop {
        match control.lock(&job.id, &token, LOCK_TTL_MS).await {
            Ok(true) => break,
            Ok(false) if tokio::time::Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(50)).await,
            Ok(false) => {
                return Err(ActionError::Refused(format!(
                    "job {} is being decided by someone else; try again in a minute",
                    job.id
                )));
            }
            Err(e) => return Err(ActionError::Failed(format!("job queue: {e}"))),
        }
    }
    let result = tokio::time::timeout(DECISION_BUDGET, f(token.clone())).await.unwrap_or_else(|_| {
        Err(ActionError::Failed(format!(
            "job {}: no decision within {} s; nothing was recorded on the job (a ticket may exist: approving again finds it)",
            job.id,
            DECISION_BUDGET.as_secs()
        )))
    });
    if let Err(e) = control.unlock(&job.id, &token).await {
        tracing::warn!(job = %job.id, error = %e, "could not release the decision lock; it expires by itself");
    }
    result
}

/// The job as it is now, awaiting approval, or why it cannot be decided.
async fn decidable(a: &Actions, id: &str) -> Result<JobDetail, ActionError> {
    let detail = a
        .control()?
        .decision_detail(id)
        .await
        .map_err(|e| ActionError::Failed(format!("job queue: {e}")))?
        .ok_or_else(|| ActionError::Refused(format!("no job {id}")))?;
    if let Some(t) = detail.field("ticket_id").filter(|t| !t.is_empty()) {
        let number = detail.field("ticket_number").unwrap_or(t);
        return Err(ActionError::Refused(format!("job {id} is already approved (ticket #{number})")));
    }
    match &detail.job.status {
        JobStatus::AwaitingApproval => Ok(detail),
        JobStatus::Rejected => Err(ActionError::Refused(format!("job {id} is already rejected"))),
        other => Err(ActionError::Refused(format!("job {id} is {other}, not awaiting approval"))),
    }
}

pub(super) async fn approve(
    a: &Actions,
    job: &JobRef,
    note: Option<&str>,
    title: Option<&str>,
    body: Option<&str>,
) -> Result<Done, ActionError> {
    let tickets =
        a.tickets.as_ref().ok_or_else(|| ActionError::Failed("no Zammad is configured (zammad.url)".into()))?;
    locked(a, job, |token| async move {
        let detail = decidable(a, &job.id).await?;
        let draft = detail
            .ticket_draft
            .clone()
            .ok_or_else(|| ActionError::Refused(format!("job {} has no ticket draft", job.id)))?;
        let marker = job_marker(&job.id);
        let title = ticket_title(&detail, title);
        let body = body.map(String::from).or(draft.body.clone()).unwrap_or_default();
        let severity = detail.job.severity;
        let new = NewTicket {
            title: title.clone(),
            group: draft.group.clone().filter(|g| !g.trim().is_empty()).unwrap_or_else(|| a.group.clone()),
            priority: ticket_priority(severity).into(),
            note: internal_note(&detail, &body, &a.requested_by(), note),
        };
        // A retry after a crash between these two steps finds the ticket it made.
        let (ticket, reused) = match tickets.find(&job.id, &marker).await {
            Ok(Some(t)) => (t, true),
            Ok(None) => match tickets.create(&new).await {
                Ok(t) => (t, false),
                Err(e) => (created_anyway(tickets.as_ref(), &job.id, &marker, e).await?, false),
            },
            Err(e) => return Err(zammad_failed(&job.id, e)),
        };
        let t = Transition {
            id: job.id.clone(),
            from: JobStatus::AwaitingApproval,
            to: JobStatus::Approved,
            set: decision_fields(a, note.unwrap_or(""))
                .into_iter()
                .chain([
                    ("ticket_id".to_string(), ticket.id.clone()),
                    ("ticket_number".to_string(), ticket.number.clone()),
                    ("ticket_url".to_string(), ticket.url.clone()),
                ])
                .collect(),
            queue: QueueOp::Keep,
            guard: Some("ticket_id"),
            lock: Some(token),
        };
        match a.control()?.transition(&t).await {
            Ok(TransitionOutcome::Done { .. }) => {}
            Ok(other) => {
                return Err(ActionError::Refused(format!(
                    "ticket #{} exists but job {} changed meanwhile ({other:?}); nothing else done",
                    ticket.number, job.id
                )));
            }
            Err(e) => {
                return Err(ActionError::Failed(format!(
                    "ticket #{} exists but job {} could not be updated: {e}; approving again reuses the ticket",
                    ticket.number, job.id
                )));
            }
        }
        let warning = notify(a, &detail, &ticket, severity).await.err();
        let message = format!(
            "job {} approved: ticket #{} {}{}",
            job.id,
            ticket.number,
            ticket.url,
            if reused { " (found from an earlier attempt)" } else { "" }
        );
        let data = json!({"job_id": job.id, "ticket_id": ticket.id, "ticket_number": ticket.number,
            "ticket_url": ticket.url, "ticket_reused": reused, "notified": warning.is_none()});
        Ok(Done { message, warning, data })
    })
    .await
}

pub(super) async fn reject(a: &Actions, job: &JobRef, note: &str) -> Result<Done, ActionError> {
    if note.trim().is_empty() {
        return Err(ActionError::Invalid("a rejection needs a note: say why".into()));
    }
    locked(a, job, |token| async move {
        decidable(a, &job.id).await?;
        let t = Transition {
            id: job.id.clone(),
            from: JobStatus::AwaitingApproval,
            to: JobStatus::Rejected,
            set: decision_fields(a, note),
            queue: QueueOp::Keep,
            guard: Some("ticket_id"),
            lock: Some(token),
        };
        match a.control()?.transition(&t).await {
            Ok(TransitionOutcome::Done { .. }) => Ok(Done {
                message: format!("job {} rejected", job.id),
                warning: None,
                data: json!({"job_id": job.id, "status": "rejected"}),
            }),
            Ok(other) => Err(ActionError::Refused(format!("job {} changed meanwhile ({other:?})", job.id))),
            Err(e) => Err(ActionError::Failed(format!("job queue: {e}"))),
        }
    })
    .await
}

/// The ticket's title: the operator's edit or the draft's, always carrying `[job J]` so a retry
/// finds the ticket.
pub fn ticket_title(d: &JobDetail, edited: Option<&str>) -> String {
    let marker = job_marker(&d.job.id);
    let draft = d.ticket_draft.as_ref().and_then(|t| t.title.clone());
    let title = edited.map(String::from).or(draft).unwrap_or_else(|| {
        format!("{} on {}", d.job.alert_type.as_deref().unwrap_or("alert"), d.job.hostname.as_deref().unwrap_or("?"))
    });
    if title.contains(&marker) { title } else { format!("{marker} {title}") }
}

/// A create that failed in transit (a timeout, a dropped connection) may still have made the
/// ticket: look for it a few times (Zammad's search index lags) before saying it failed.
async fn created_anyway(
    tickets: &dyn crate::sources::Ticketing,
    id: &str,
    marker: &str,
    e: crate::clients::SourceError,
) -> Result<Ticket, ActionError> {
    use crate::clients::SourceError::{Server, Timeout};
    // Refused connections and HTTP answers are certain: nothing was created.
    if !matches!(e, Timeout(_) | Server(_)) {
        return Err(zammad_failed(id, e));
    }
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Ok(Some(t)) = tickets.find(id, marker).await {
            return Ok(t);
        }
    }
    Err(ActionError::Failed(format!(
        "Zammad: {e}; no ticket found afterwards, so job {id} stays awaiting approval (if one appears, approving again reuses it)"
    )))
}

fn zammad_failed(id: &str, e: crate::clients::SourceError) -> ActionError {
    ActionError::Failed(format!("Zammad: {e}; job {id} stays awaiting approval"))
}

fn decision_fields(a: &Actions, note: &str) -> Vec<(String, String)> {
    vec![
        ("decided_by".into(), a.requested_by()),
        ("decided_at".into(), chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        ("decision_note".into(), note.to_string()),
    ]
}

/// The ticket's internal note: the draft's body, then the analysis, the knowledge-base hits and
/// the job id, as the operator approved them.
pub fn internal_note(d: &JobDetail, body: &str, by: &str, note: Option<&str>) -> String {
    let mut out = String::new();
    if !body.trim().is_empty() {
        out.push_str(body.trim_end());
        out.push_str("\n\n");
    }
    out.push_str("--- Analysis (mcptop) ---\n");
    if let Some(an) = &d.analysis {
        for (k, v) in [
            ("Summary", &an.summary),
            ("Root cause", &an.root_cause),
            ("Impact", &an.impact),
            ("Immediate action", &an.immediate_action),
            ("Model", &an.model),
        ] {
            if let Some(v) = v {
                out.push_str(&format!("{k}: {v}\n"));
            }
        }
        if let Some(c) = an.confidence {
            out.push_str(&format!("Confidence: {:.0}%\n", c * 100.0));
        }
    } else {
        out.push_str("(no analysis)\n");
    }
    out.push_str("\n--- Similar past incidents (knowledge base) ---\n");
    match &d.rag_hits {
        Some(Ok(hits)) if !hits.is_empty() => {
            for h in hits {
                let score = h.score.map(|s| format!("{s:.2}")).unwrap_or_else(|| "?".into());
                out.push_str(&format!("#{} ({score}): {}\n", h.id_label(), h.text));
            }
        }
        _ => out.push_str("(none)\n"),
    }
    out.push_str(&format!("\nJob: {}\nApproved by: {by}\n", d.job.id));
    if let Some(n) = note.filter(|n| !n.trim().is_empty()) {
        out.push_str(&format!("Note: {n}\n"));
    }
    out
}

/// Tell ntfy; an error is returned as the warning text.
async fn notify(a: &Actions, d: &JobDetail, ticket: &Ticket, severity: Severity) -> Result<(), String> {
    let Some(n) = &a.notify else { return Ok(()) };
    let analysis = d.analysis.clone().unwrap_or_default();
    let mut body = String::new();
    if let Some(i) = &analysis.impact {
        body.push_str(&format!("Impact: {i}\n"));
    }
    if let Some(i) = &analysis.immediate_action {
        body.push_str(&format!("Immediate action: {i}\n"));
    }
    body.push_str(&format!("Ticket #{}: {}", ticket.number, ticket.url));
    let tags = vec![
        match severity {
            Severity::Critical => "rotating_light",
            Severity::High => "warning",
            Severity::Medium | Severity::Unknown => "large_orange_diamond",
            Severity::Low => "information_source",
        }
        .to_string(),
        "mcptop".to_string(),
        severity.as_str().to_string(),
    ];
    let msg = Notification {
        title: ticket.title.clone(),
        priority: notify_priority(severity),
        tags,
        click: Some(ticket.url.clone()),
        body,
    };
    n.publish(&msg).await.map_err(|e| format!("ntfy: {e}; the ticket exists and the job is approved"))
}
