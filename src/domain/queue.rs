//! Queue statistics (CONTRACT.md §1): lengths, oldest waiting job, counts by status, and a
//! queue's recent past, from which "stalled" and the rate jobs leave at are derived.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::job::JobStatus;

/// One queue as sampled at one moment. A count Redis could not read (a key of the wrong type)
/// is `None` and named in [`QueueSnapshot::problems`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueStats {
    pub name: String,
    /// Waiting jobs (`LLEN {p}queue:{name}`).
    pub length: Option<u64>,
    /// Jobs a worker has taken (`LLEN {p}processing:{name}`).
    pub processing: Option<u64>,
    /// The id at the tail, the next one a worker takes; used to notice that jobs are taken.
    pub oldest_id: Option<String>,
    /// How long the oldest waiting job has waited since it was queued (its score in
    /// `{p}jobs:queued`, else its creation), by the server's clock.
    pub oldest_age_s: Option<f64>,
    /// Jobs of this queue created in the last minute (counted up to a cap).
    pub enqueued_last_min: u64,
}

/// Everything the Queue pane shows, from one round trip.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueSnapshot {
    pub queues: Vec<QueueStats>,
    /// `(status, ZCARD {p}jobs:{status})` for every status set that could be read.
    pub by_status: Vec<(JobStatus, u64)>,
    /// `ZCARD {p}jobs`, when it could be read.
    pub total_jobs: Option<u64>,
    /// Keys that could not be read, said the way the Jobs pane says it (`mcp:jobs is not a
    /// sorted set`): the snapshot is partial, and every view says so.
    pub problems: Vec<String>,
    /// The server's clock when sampled (ages are computed with it, so client skew does not lie).
    pub server_time: DateTime<Utc>,
    pub fetched_at: DateTime<Utc>,
}

impl QueueSnapshot {
    /// Jobs in `status`, `None` when its set could not be read.
    pub fn count(&self, status: &JobStatus) -> Option<u64> {
        self.by_status.iter().find(|(s, _)| s == status).map(|(_, n)| *n)
    }

    /// Jobs waiting in every queue: the sum of the lists' lengths (not `ZCARD {p}jobs:queued`),
    /// `None` when one list could not be read.
    pub fn waiting(&self) -> Option<u64> {
        self.queues.iter().map(|q| q.length).sum()
    }

    /// The longest any job has waited, over every queue.
    pub fn oldest_age_s(&self) -> Option<f64> {
        self.queues.iter().filter_map(|q| q.oldest_age_s).reduce(f64::max)
    }
}

/// One queue's recent past: samples of its length, and when a job was last seen leaving it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueHistory {
    /// (server time, length), one sample every few seconds, the last ten minutes.
    pub samples: VecDeque<(DateTime<Utc>, u64)>,
    oldest_id: Option<String>,
    /// The first sample: nothing is known of the queue before it.
    pub first_seen: Option<DateTime<Utc>>,
    /// The last time a job was seen leaving the queue (its oldest job changed) or the queue was
    /// seen empty; `None` while neither has been seen.
    pub last_progress: Option<DateTime<Utc>>,
}

/// Sample spacing and span of the queue history.
const SAMPLE_EVERY: i64 = 5;
const HISTORY_SPAN: i64 = 600;
/// How far back "out per minute" looks, and the window a sample may fall in to serve.
const RATE_SPAN: i64 = 60;

impl QueueHistory {
    pub fn record(&mut self, at: DateTime<Utc>, length: Option<u64>, oldest_id: Option<&String>) {
        let Some(length) = length else { return };
        if self.samples.back().is_none_or(|(t, _)| (at - *t).num_seconds() >= SAMPLE_EVERY) {
            self.samples.push_back((at, length));
        } else if let Some(last) = self.samples.back_mut() {
            last.1 = length;
        }
        while self.samples.front().is_some_and(|(t, _)| (at - *t).num_seconds() > HISTORY_SPAN) {
            self.samples.pop_front();
        }
        let seen_before = self.first_seen.is_some();
        self.first_seen.get_or_insert(at);
        if length == 0 || (seen_before && self.oldest_id.as_ref() != oldest_id) {
            self.last_progress = Some(at);
        }
        self.oldest_id = oldest_id.cloned();
    }

    /// Length about a minute before `at`, if the history reaches that far.
    pub fn length_a_minute_before(&self, at: DateTime<Utc>) -> Option<u64> {
        self.samples
            .iter()
            .map(|(t, l)| ((at - *t).num_seconds(), *l))
            .filter(|(age, _)| (RATE_SPAN - 10..=RATE_SPAN + 15).contains(age))
            .min_by_key(|(age, _)| (age - RATE_SPAN).abs())
            .map(|(_, l)| l)
    }

    /// Seconds until a minute of history exists (0 when it does).
    pub fn rate_ready_in(&self, at: DateTime<Utc>) -> i64 {
        let span = self.samples.front().map(|(t, _)| (at - *t).num_seconds()).unwrap_or(0);
        (RATE_SPAN - 10 - span).max(0)
    }
}

/// Jobs leaving a queue per minute. Not counted by Redis: estimated as the jobs that came in
/// over the last minute minus the growth of the queue, so it is shown as an estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutRate {
    /// About this many a minute.
    About(u64),
    /// Known once the history covers a minute, in this many seconds.
    WarmingUp(i64),
}

/// The rate jobs leave `q` at, from its history.
pub fn out_rate(q: &QueueStats, history: Option<&QueueHistory>, server_now: DateTime<Utc>) -> OutRate {
    let before = history.and_then(|h| h.length_a_minute_before(server_now));
    match (before, q.length) {
        (Some(before), Some(now)) => {
            OutRate::About((q.enqueued_last_min as i64 - (now as i64 - before as i64)).max(0) as u64)
        }
        _ => OutRate::WarmingUp(history.map(|h| h.rate_ready_in(server_now)).unwrap_or(RATE_SPAN - 10).max(1)),
    }
}

/// Whether a queue is stalled: jobs are waiting and none has left it for `after`. `None` when
/// that cannot be known yet: jobs have waited longer than `after`, but the queue has not been
/// watched that long (a single read cannot tell a stuck queue from a slow one).
pub fn stalled(
    q: &QueueStats,
    history: Option<&QueueHistory>,
    server_now: DateTime<Utc>,
    after: chrono::Duration,
) -> Option<bool> {
    match q.length {
        Some(0) => return Some(false),
        None => return None,
        Some(_) => {}
    }
    // The oldest job has waited less than `after`: it was queued since, or one ahead of it left.
    if q.oldest_age_s.is_some_and(|a| a < after.as_seconds_f64()) {
        return Some(false);
    }
    let h = history?;
    let quiet_since = h.last_progress.or(h.first_seen)?;
    if server_now - quiet_since >= after {
        Some(true)
    } else if h.last_progress.is_some() {
        Some(false)
    } else {
        None
    }
}

/// Over every queue: stalled if one is, not stalled if none is, unknown otherwise.
pub fn any_stalled<'h>(
    snap: &QueueSnapshot,
    history: impl Fn(&str) -> Option<&'h QueueHistory>,
    after: chrono::Duration,
) -> Option<bool> {
    let each: Vec<Option<bool>> =
        snap.queues.iter().map(|q| stalled(q, history(&q.name), snap.server_time, after)).collect();
    if each.contains(&Some(true)) {
        Some(true)
    } else if each.iter().all(|s| *s == Some(false)) {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap_or_default()
    }

    fn queue(length: u64, oldest: &str, age: f64) -> QueueStats {
        QueueStats {
            name: "analysis".into(),
            length: Some(length),
            processing: Some(0),
            oldest_id: Some(oldest.into()),
            oldest_age_s: Some(age),
            enqueued_last_min: 0,
        }
    }

    #[test]
    fn stalled_means_waiting_and_nothing_left_for_the_whole_span() {
        let after = chrono::Duration::seconds(120);
        let mut h = QueueHistory::default();
        h.record(t(0), Some(3), Some(&"a".into()));
        // Young jobs: something left or they just came, whatever the history says.
        assert_eq!(stalled(&queue(3, "a", 30.0), Some(&h), t(10), after), Some(false));
        // Old jobs, watched for less than the span: unknown, never a false STALLED.
        assert_eq!(stalled(&queue(3, "a", 500.0), Some(&h), t(60), after), None);
        assert_eq!(stalled(&queue(3, "a", 500.0), None, t(60), after), None, "one read cannot tell");
        // Watched the whole span and the oldest never changed: stalled.
        h.record(t(125), Some(3), Some(&"a".into()));
        assert_eq!(stalled(&queue(3, "a", 625.0), Some(&h), t(125), after), Some(true));
        // A job left (the oldest changed): not stalled, until the span passes again.
        h.record(t(130), Some(2), Some(&"b".into()));
        assert_eq!(stalled(&queue(2, "b", 600.0), Some(&h), t(131), after), Some(false));
        assert_eq!(stalled(&queue(2, "b", 800.0), Some(&h), t(251), after), Some(true));
        // Empty is never stalled.
        assert_eq!(stalled(&queue(0, "b", 0.0), Some(&h), t(900), after), Some(false));
    }

    #[test]
    fn out_rate_is_an_estimate_once_a_minute_is_known() {
        let mut h = QueueHistory::default();
        let mut q = queue(60, "a", 10.0);
        h.record(t(0), Some(60), Some(&"a".into()));
        assert_eq!(out_rate(&q, Some(&h), t(20)), OutRate::WarmingUp(30));
        h.record(t(60), Some(50), Some(&"b".into()));
        q.length = Some(50);
        q.enqueued_last_min = 12;
        // 12 came in and the queue shrank by 10: about 22 left.
        assert_eq!(out_rate(&q, Some(&h), t(60)), OutRate::About(22));
    }

    #[test]
    fn a_count_that_could_not_be_read_is_unknown() {
        let snap = QueueSnapshot {
            queues: vec![queue(3, "a", 1.0), QueueStats { length: None, ..queue(0, "b", 0.0) }],
            by_status: vec![(JobStatus::Queued, 3)],
            total_jobs: None,
            problems: vec!["mcp:queue:b is not a list".into()],
            server_time: t(0),
            fetched_at: t(0),
        };
        assert_eq!(snap.waiting(), None);
        assert_eq!(snap.count(&JobStatus::Queued), Some(3));
        assert_eq!(snap.count(&JobStatus::Failed), None);
    }
}
