//! The interface every job-queue source implements: the real Redis client and the demo platform.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::Stream;

use crate::domain::{JobDetail, JobStatus, JobsPage, JobsQuery, QueueSnapshot};

/// Why a source did not answer. Messages never carry secrets (clients redact them).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SourceError {
    #[error("timed out after {} ms", .0.as_millis())]
    Timeout(Duration),
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("{0}")]
    Server(String),
    #[error("unexpected reply: {0}")]
    Decode(String),
    #[error("HTTP {status}: {message}")]
    Http { status: u16, message: String },
    #[error("reply larger than {0} bytes")]
    TooLarge(usize),
}

/// A status change pushed on `{p}events`.
#[derive(Debug, Clone, PartialEq)]
pub struct JobEvent {
    pub job_id: Option<String>,
    pub status: Option<JobStatus>,
    pub at: Option<DateTime<Utc>>,
}

/// Push updates; the stream ends when the subscription is lost.
pub type EventStream = Pin<Box<dyn Stream<Item = JobEvent> + Send>>;

/// Queue and job data, as the Redis client and the demo platform both provide it.
pub trait JobSource: Send + Sync + 'static {
    /// A short name for status output and error lines ("redis", "demo").
    fn name(&self) -> &str;
    /// Queue lengths, oldest ages and counts by status, in one round trip.
    fn queues(&self) -> impl Future<Output = Result<QueueSnapshot, SourceError>> + Send;
    /// One window of jobs, newest first.
    fn jobs(&self, query: JobsQuery) -> impl Future<Output = Result<JobsPage, SourceError>> + Send;
    /// Every field of one job; `None` when it does not exist.
    fn job_detail(&self, id: String) -> impl Future<Output = Result<Option<JobDetail>, SourceError>> + Send;
    /// Subscribe to status changes.
    fn events(&self) -> impl Future<Output = Result<EventStream, SourceError>> + Send;
}
