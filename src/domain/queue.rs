//! Queue statistics of CONTRACT.md §1: lengths, oldest waiting job, counts by status.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::job::JobStatus;

/// One queue as sampled at one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueStats {
    pub name: String,
    /// Waiting jobs (`LLEN {p}queue:{name}`).
    pub length: u64,
    /// Jobs a worker has taken (`LLEN {p}processing:{name}`).
    pub processing: u64,
    /// The id at the tail, the next one a worker takes; used to notice that jobs are taken.
    pub oldest_id: Option<String>,
    /// Age of the oldest waiting job, by the server's clock.
    pub oldest_age_s: Option<f64>,
    /// Jobs of this queue created in the last minute (counted up to a cap).
    pub enqueued_last_min: u64,
}

/// Everything the Queue pane shows, from one round trip.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueSnapshot {
    pub queues: Vec<QueueStats>,
    /// `(status, ZCARD {p}jobs:{status})` for every status of the contract.
    pub by_status: Vec<(JobStatus, u64)>,
    /// `ZCARD {p}jobs`.
    pub total_jobs: u64,
    /// The server's clock when sampled (ages are computed with it, so client skew does not lie).
    pub server_time: DateTime<Utc>,
    pub fetched_at: DateTime<Utc>,
}

impl QueueSnapshot {
    pub fn count(&self, status: &JobStatus) -> u64 {
        self.by_status.iter().find(|(s, _)| s == status).map(|(_, n)| *n).unwrap_or(0)
    }
}
