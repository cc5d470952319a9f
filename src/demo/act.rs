//! The demo's write side: new analyses enter its queue and are processed, transitions are checked
//! like the Redis scripts check them, decisions take a lock, approvals open simulated tickets and
//! send simulated notifications.

use chrono::Duration;
use futures_util::FutureExt;

use super::{DemoPlatform, SimState};
use crate::clients::SourceError;
use crate::domain::action::{AnalysisRequest, Created, NewTicket, Notification, QueueOp, Ticket};
use crate::domain::action::{Transition, TransitionOutcome};
use crate::domain::{JobEvent, JobStatus};
use crate::sources::{BoxFuture, JobControl, Notifier, Ticketing};

/// Where the demo's tickets seem to live.
pub const ZAMMAD_URL: &str = "https://zammad.demo.invalid";

impl SimState {
    fn create_requested(&mut self, req: &AnalysisRequest, requested_by: &str, queue: &str, window_s: u64) -> Created {
        let now = self.now;
        let hash = req.dedup_hash();
        self.dedup.retain(|_, (_, until)| *until > now);
        if let Some((id, _)) = self.dedup.get(&hash) {
            return Created { job_id: id.clone(), deduplicated: true };
        }
        let id = self.create(now);
        let ts = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let optional = [("metrics", &req.metrics), ("logs", &req.logs), ("crowdsec_alerts", &req.crowdsec_alerts)];
        if let Some(job) = self.jobs.get_mut(&id) {
            for (k, v) in [
                ("queue", queue),
                ("alert_type", req.alert_type.as_str()),
                ("source", req.source.as_str()),
                ("hostname", req.hostname.as_str()),
                ("severity", req.severity.as_str()),
                ("description", req.description.as_str()),
                ("timestamp", req.timestamp.as_str()),
                ("requested_by", requested_by),
                ("created_at", ts.as_str()),
            ] {
                job.fields.insert(k.into(), v.as_bytes().to_vec());
            }
            for (k, v) in optional {
                if let Some(v) = v {
                    job.fields.insert(k.into(), v.as_bytes().to_vec());
                }
            }
        }
        self.enqueue(&id);
        self.dedup.insert(hash, (id.clone(), now + Duration::seconds(window_s as i64)));
        Created { job_id: id, deduplicated: false }
    }

    fn transition(&mut self, t: &Transition) -> TransitionOutcome {
        let now = self.now;
        let Some(job) = self.jobs.get(&t.id) else { return TransitionOutcome::Missing };
        if job.status != t.from {
            return TransitionOutcome::WrongStatus(job.status.as_str().to_string());
        }
        if let Some(v) = t.guard.and_then(|g| job.fields.get(g)).filter(|v| !v.is_empty()) {
            return TransitionOutcome::AlreadySet(String::from_utf8_lossy(v).into_owned());
        }
        if let Some(token) = &t.lock
            && self.locks.get(&t.id).is_none_or(|(held, until)| held != token || *until <= chrono::Utc::now())
        {
            return TransitionOutcome::LockLost;
        }
        let on_queue = self.queues.values().any(|q| q.contains(&t.id));
        if t.queue == QueueOp::Remove && !on_queue {
            return TransitionOutcome::Gone;
        }
        if let Some(job) = self.jobs.get_mut(&t.id) {
            for (k, v) in &t.set {
                job.fields.insert(k.clone(), v.as_bytes().to_vec());
            }
        }
        self.set(&t.id, t.to.clone(), now);
        let mut removed = 0;
        match t.queue {
            QueueOp::Keep => {}
            QueueOp::Push => self.enqueue(&t.id),
            QueueOp::Remove => {
                for q in self.queues.values_mut() {
                    let before = q.len();
                    q.retain(|id| id != &t.id);
                    removed += (before - q.len()) as u64;
                }
            }
        }
        TransitionOutcome::Done { removed }
    }
}

impl JobControl for DemoPlatform {
    fn create<'a>(
        &'a self,
        req: &'a AnalysisRequest,
        requested_by: &'a str,
        queue: &'a str,
        window_s: u64,
    ) -> BoxFuture<'a, Result<Created, SourceError>> {
        let (created, at) = {
            let mut st = self.lock();
            let queue = if st.queues.contains_key(queue) { queue.to_string() } else { super::QUEUES[0].to_string() };
            (st.create_requested(req, requested_by, &queue, window_s), st.now)
        };
        if !created.deduplicated {
            let _ = self.events.send(JobEvent {
                job_id: Some(created.job_id.clone()),
                status: Some(JobStatus::Queued),
                at: Some(at),
            });
        }
        async move { Ok(created) }.boxed()
    }

    fn transition<'a>(&'a self, t: &'a Transition) -> BoxFuture<'a, Result<TransitionOutcome, SourceError>> {
        let (outcome, at) = {
            let mut st = self.lock();
            (st.transition(t), st.now)
        };
        if matches!(outcome, TransitionOutcome::Done { .. }) {
            let _ = self.events.send(JobEvent { job_id: Some(t.id.clone()), status: Some(t.to.clone()), at: Some(at) });
        }
        async move { Ok(outcome) }.boxed()
    }

    fn lock<'a>(&'a self, id: &'a str, token: &'a str, ttl_ms: u64) -> BoxFuture<'a, Result<bool, SourceError>> {
        let taken = {
            let mut st = self.lock();
            let now = chrono::Utc::now();
            st.locks.retain(|_, (_, until)| *until > now);
            if st.locks.contains_key(id) {
                false
            } else {
                st.locks.insert(id.to_string(), (token.to_string(), now + Duration::milliseconds(ttl_ms as i64)));
                true
            }
        };
        async move { Ok(taken) }.boxed()
    }

    fn decision_detail<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<crate::domain::JobDetail>, SourceError>> {
        let d = self.decision(id);
        async move { Ok(d) }.boxed()
    }

    fn unlock<'a>(&'a self, id: &'a str, token: &'a str) -> BoxFuture<'a, Result<(), SourceError>> {
        {
            let mut st = self.lock();
            if st.locks.get(id).is_some_and(|(t, _)| t == token) {
                st.locks.remove(id);
            }
        }
        async move { Ok(()) }.boxed()
    }
}

impl DemoPlatform {
    fn decision(&self, id: &str) -> Option<crate::domain::JobDetail> {
        let st = self.lock();
        st.jobs.get(id).map(|j| crate::domain::JobDetail::from_fields(id, &j.fields, st.now))
    }
}

impl Ticketing for DemoPlatform {
    fn find<'a>(&'a self, _job_id: &'a str, marker: &'a str) -> BoxFuture<'a, Result<Option<Ticket>, SourceError>> {
        let found = self.lock().tickets.iter().find(|t| t.title.contains(marker)).cloned();
        async move { Ok(found) }.boxed()
    }

    fn create<'a>(&'a self, t: &'a NewTicket) -> BoxFuture<'a, Result<Ticket, SourceError>> {
        let ticket = {
            let mut st = self.lock();
            let n = st.tickets.len() + 1;
            let ticket = Ticket {
                id: (5000 + n).to_string(),
                number: (91000 + n).to_string(),
                title: t.title.clone(),
                url: format!("{ZAMMAD_URL}/#ticket/zoom/{}", 5000 + n),
            };
            st.tickets.push(ticket.clone());
            st.counters.tickets += 1;
            ticket
        };
        async move { Ok(ticket) }.boxed()
    }
}

impl Notifier for DemoPlatform {
    fn publish<'a>(&'a self, n: &'a Notification) -> BoxFuture<'a, Result<(), SourceError>> {
        self.lock().notifications.push(n.clone());
        async move { Ok(()) }.boxed()
    }
}

impl DemoPlatform {
    /// The simulated notifications sent so far (for tests).
    pub fn notifications(&self) -> Vec<Notification> {
        self.lock().notifications.clone()
    }
}
