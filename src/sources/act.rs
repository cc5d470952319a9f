//! What actions write through: the job queue (new jobs, atomic transitions, decision locks),
//! the gateway, Zammad and ntfy — the real clients, or the demo platform's simulations.

use futures_util::FutureExt;

use super::BoxFuture;
use crate::clients::gateway::GatewayClient;
use crate::clients::ntfy::NtfyClient;
use crate::clients::zammad::ZammadClient;
use crate::clients::{RedisClient, SourceError};
use crate::domain::JobDetail;
use crate::domain::action::{AnalysisRequest, Created, NewTicket, Notification, Ticket, Transition, TransitionOutcome};

/// Writes to the job queue (CONTRACT.md §1).
pub trait JobControl: Send + Sync {
    /// Create a job, or answer the one an identical request made within `window_s`.
    fn create<'a>(
        &'a self,
        req: &'a AnalysisRequest,
        requested_by: &'a str,
        queue: &'a str,
        window_s: u64,
    ) -> BoxFuture<'a, Result<Created, SourceError>>;
    /// Carry out a transition if the job is in its `from` status at that moment.
    fn transition<'a>(&'a self, t: &'a Transition) -> BoxFuture<'a, Result<TransitionOutcome, SourceError>>;
    /// Take the job's decision lock for `ttl_ms`; false when someone else holds it.
    fn lock<'a>(&'a self, id: &'a str, token: &'a str, ttl_ms: u64) -> BoxFuture<'a, Result<bool, SourceError>>;
    fn unlock<'a>(&'a self, id: &'a str, token: &'a str) -> BoxFuture<'a, Result<(), SourceError>>;
    /// What a decision reads of a job, whole; `None` when it does not exist.
    fn decision_detail<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<JobDetail>, SourceError>>;
}

/// Creates jobs through the AI gateway.
pub trait Analyzer: Send + Sync {
    fn analyze<'a>(&'a self, req: &'a AnalysisRequest) -> BoxFuture<'a, Result<Created, SourceError>>;
}

/// Where approved drafts become tickets.
pub trait Ticketing: Send + Sync {
    /// The ticket whose title carries `marker` (`[job J]`), if there is one.
    fn find<'a>(&'a self, job_id: &'a str, marker: &'a str) -> BoxFuture<'a, Result<Option<Ticket>, SourceError>>;
    fn create<'a>(&'a self, t: &'a NewTicket) -> BoxFuture<'a, Result<Ticket, SourceError>>;
}

/// Where approvals are announced.
pub trait Notifier: Send + Sync {
    fn publish<'a>(&'a self, n: &'a Notification) -> BoxFuture<'a, Result<(), SourceError>>;
}

impl JobControl for RedisClient {
    fn create<'a>(
        &'a self,
        req: &'a AnalysisRequest,
        requested_by: &'a str,
        queue: &'a str,
        window_s: u64,
    ) -> BoxFuture<'a, Result<Created, SourceError>> {
        self.create_job(req, requested_by, queue, window_s).boxed()
    }
    fn transition<'a>(&'a self, t: &'a Transition) -> BoxFuture<'a, Result<TransitionOutcome, SourceError>> {
        RedisClient::transition(self, t).boxed()
    }
    fn lock<'a>(&'a self, id: &'a str, token: &'a str, ttl_ms: u64) -> BoxFuture<'a, Result<bool, SourceError>> {
        RedisClient::lock(self, id, token, ttl_ms).boxed()
    }
    fn unlock<'a>(&'a self, id: &'a str, token: &'a str) -> BoxFuture<'a, Result<(), SourceError>> {
        RedisClient::unlock(self, id, token).boxed()
    }
    fn decision_detail<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<JobDetail>, SourceError>> {
        RedisClient::decision_detail(self, id).boxed()
    }
}

impl Analyzer for GatewayClient {
    fn analyze<'a>(&'a self, req: &'a AnalysisRequest) -> BoxFuture<'a, Result<Created, SourceError>> {
        GatewayClient::analyze(self, req).boxed()
    }
}

impl Ticketing for ZammadClient {
    fn find<'a>(&'a self, job_id: &'a str, marker: &'a str) -> BoxFuture<'a, Result<Option<Ticket>, SourceError>> {
        ZammadClient::find(self, job_id, marker).boxed()
    }
    fn create<'a>(&'a self, t: &'a NewTicket) -> BoxFuture<'a, Result<Ticket, SourceError>> {
        ZammadClient::create(self, t).boxed()
    }
}

impl Notifier for NtfyClient {
    fn publish<'a>(&'a self, n: &'a Notification) -> BoxFuture<'a, Result<(), SourceError>> {
        NtfyClient::publish(self, n).boxed()
    }
}
