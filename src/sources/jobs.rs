//! The job queue as the runtime and the CLI read it: the Redis client, or the demo platform.

use std::pin::Pin;

use futures_util::{FutureExt, Stream, StreamExt};

use super::BoxFuture;
use crate::clients::redis::sentinel::Notice;
use crate::clients::{RedisClient, SourceError};
use crate::domain::{JobDetail, JobEvent, JobsPage, JobsQuery, QueueSnapshot};

/// Push updates; the stream ends when the subscription is lost.
pub type EventStream = Pin<Box<dyn Stream<Item = JobEvent> + Send>>;

/// Queue and job data.
pub trait JobSource: Send + Sync {
    /// A short name for status output and error lines ("redis", "demo").
    fn name(&self) -> &str;
    /// Queue lengths, oldest ages and counts by status, in one round trip.
    fn queues(&self) -> BoxFuture<'_, Result<QueueSnapshot, SourceError>>;
    /// One window of jobs, newest first.
    fn jobs(&self, query: JobsQuery) -> BoxFuture<'_, Result<JobsPage, SourceError>>;
    /// Every field of one job; `None` when it does not exist.
    fn job_detail(&self, id: String) -> BoxFuture<'_, Result<Option<JobDetail>, SourceError>>;
    /// Subscribe to status changes.
    fn events(&self) -> BoxFuture<'_, Result<EventStream, SourceError>>;
    /// Sentinel's notices (the master moved, no sentinel answers), when Sentinel finds Redis.
    fn sentinel_notices(&self) -> Option<tokio::sync::watch::Receiver<Option<Notice>>> {
        None
    }
}

impl JobSource for RedisClient {
    fn name(&self) -> &str {
        "redis"
    }
    fn queues(&self) -> BoxFuture<'_, Result<QueueSnapshot, SourceError>> {
        RedisClient::queues(self).boxed()
    }
    fn jobs(&self, query: JobsQuery) -> BoxFuture<'_, Result<JobsPage, SourceError>> {
        RedisClient::jobs(self, query).boxed()
    }
    fn job_detail(&self, id: String) -> BoxFuture<'_, Result<Option<JobDetail>, SourceError>> {
        async move { RedisClient::job_detail(self, id).await }.boxed()
    }
    fn events(&self) -> BoxFuture<'_, Result<EventStream, SourceError>> {
        async move { RedisClient::events(self).await.map(|s| s.boxed()) }.boxed()
    }
    fn sentinel_notices(&self) -> Option<tokio::sync::watch::Receiver<Option<Notice>>> {
        self.sentinel().map(|s| s.notices())
    }
}
