//! Starting analyses, retrying failed jobs and cancelling queued ones. Each status change is one
//! atomic transition: it happens only if the job is in the expected status at that moment.

use std::sync::Arc;

use serde_json::json;

use super::{ActionError, Actions, Done, JobRef};
use crate::domain::JobStatus;
use crate::domain::action::{AnalysisRequest, QueueOp, Transition, TransitionOutcome};
use crate::sources::JobControl;

impl Actions {
    pub(super) fn control(&self) -> Result<&Arc<dyn JobControl>, ActionError> {
        self.control.as_ref().ok_or_else(|| ActionError::Failed("no job queue (redis_url) is configured".into()))
    }

    /// `mcptop:user@host`: who asked, as `requested_by` and `decided_by` hold it.
    pub(super) fn requested_by(&self) -> String {
        format!("mcptop:{}", self.actor.name())
    }
}

/// Queue an analysis: through the gateway when one is configured, else straight to Redis.
pub(super) async fn analyze(a: &Actions, req: &AnalysisRequest) -> Result<Done, ActionError> {
    let (created, via) = match &a.gateway {
        Some(g) => (g.analyze(req).await, "the gateway"),
        None => (a.control()?.create(req, &a.requested_by(), &a.queue, a.dedup_window_s).await, "the queue"),
    };
    let c = created.map_err(|e| ActionError::Failed(format!("{via}: {e}; no job was created")))?;
    let message = if c.deduplicated {
        format!("already queued as job {}", c.job_id)
    } else {
        format!("queued as job {} (via {via})", c.job_id)
    };
    Ok(Done { message, warning: None, data: json!({"job_id": c.job_id, "deduplicated": c.deduplicated}) })
}

/// A failed job goes back to `queued` and onto its queue; its attempts are kept.
pub(super) async fn retry(a: &Actions, job: &JobRef) -> Result<Done, ActionError> {
    let t = Transition {
        id: job.id.clone(),
        from: JobStatus::Failed,
        to: JobStatus::Queued,
        set: vec![("retried_by".into(), a.requested_by())],
        queue: QueueOp::Push,
        guard: None,
        lock: None,
    };
    transition(a, &t, "retried", "failed").await
}

/// A queued job is cancelled and taken off its queue.
pub(super) async fn cancel(a: &Actions, job: &JobRef) -> Result<Done, ActionError> {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let t = Transition {
        id: job.id.clone(),
        from: JobStatus::Queued,
        to: JobStatus::Cancelled,
        set: vec![("finished_at".into(), now), ("cancelled_by".into(), a.requested_by())],
        queue: QueueOp::Remove,
        guard: None,
        lock: None,
    };
    transition(a, &t, "cancelled", "queued").await
}

async fn transition(a: &Actions, t: &Transition, verb: &str, needs: &str) -> Result<Done, ActionError> {
    let outcome = a.control()?.transition(t).await.map_err(|e| ActionError::Failed(format!("job queue: {e}")))?;
    match outcome {
        TransitionOutcome::Done { .. } => Ok(Done {
            message: format!("job {} {verb}", t.id),
            warning: None,
            data: json!({"job_id": t.id, "status": t.to.as_str()}),
        }),
        TransitionOutcome::Gone => Err(ActionError::Refused(format!(
            "job {} is no longer on its queue: a worker has taken it; nothing changed",
            t.id
        ))),
        TransitionOutcome::LockLost => Err(ActionError::Refused(format!("job {} is being decided", t.id))),
        TransitionOutcome::Missing => Err(ActionError::Refused(format!("no job {}", t.id))),
        TransitionOutcome::WrongStatus(s) => Err(ActionError::Refused(format!(
            "job {} is {}, not {needs}",
            t.id,
            if s.is_empty() { "without a status" } else { &s }
        ))),
        TransitionOutcome::AlreadySet(v) => Err(ActionError::Refused(format!("job {} already has {v}", t.id))),
    }
}
