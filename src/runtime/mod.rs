//! Pollers and subscriptions: one task per source, a timeout on every call, backoff on failure,
//! one fetch in flight per source. They send owned snapshots as messages; they never touch the UI.

mod poller;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;

use crate::domain::{JobDetail, JobsPage, JobsQuery, QueueSnapshot};
use crate::source::{JobSource, SourceError};

pub use poller::backoff;

/// Which feed a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Feed {
    Queues,
    Jobs,
    Detail,
    Events,
}

/// What the runtime tells the UI.
#[derive(Debug, Clone)]
pub enum SourceMsg {
    QueuesLoaded(QueueSnapshot),
    JobsLoaded(JobsPage),
    DetailLoaded {
        id: String,
        detail: Option<Box<JobDetail>>,
        at: DateTime<Utc>,
    },
    /// A fetch failed; the next try is at `retry_at`.
    Failed {
        feed: Feed,
        error: SourceError,
        at: DateTime<Utc>,
        retry_at: DateTime<Utc>,
    },
    /// The push subscription came up or went down.
    EventsState {
        connected: bool,
        error: Option<String>,
        at: DateTime<Utc>,
    },
}

/// Timing of the pollers.
#[derive(Debug, Clone, Copy)]
pub struct RuntimeOptions {
    /// Poll interval when nothing is pushed.
    pub interval: Duration,
    /// Upper bound on one fetch, on top of the client's own timeouts.
    pub timeout: Duration,
    /// Shortest gap between two fetches of one feed, so an event storm cannot flood Redis.
    pub min_gap: Duration,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        RuntimeOptions {
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(2),
            min_gap: Duration::from_millis(100),
        }
    }
}

/// The UI's handle on the runtime: it only ever sends requests, never waits.
pub struct RuntimeHandle {
    jobs_query: watch::Sender<JobsQuery>,
    detail: watch::Sender<Option<String>>,
    tasks: Vec<JoinHandle<()>>,
}

impl RuntimeHandle {
    /// Ask for a different window of jobs; the jobs poller fetches it at once.
    pub fn set_jobs_query(&self, query: JobsQuery) {
        self.jobs_query.send_if_modified(|q| {
            let changed = *q != query;
            *q = query;
            changed
        });
    }

    /// Follow one job's details (or stop with `None`).
    pub fn set_detail(&self, id: Option<String>) {
        self.detail.send_replace(id);
    }
}

impl Drop for RuntimeHandle {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Start the queue, jobs, detail and events tasks for one source.
pub fn spawn<S: JobSource>(
    source: Arc<S>,
    opts: RuntimeOptions,
    initial: JobsQuery,
    tx: mpsc::Sender<SourceMsg>,
) -> RuntimeHandle {
    let (jobs_query, jobs_rx) = watch::channel(initial);
    let (detail, detail_rx) = watch::channel(None::<String>);
    let nudges: [Arc<Notify>; 3] = Default::default();
    let [nq, nj, nd] = nudges.clone();

    let queues = {
        let source = source.clone();
        poller::spawn(Feed::Queues, opts, nq, tx.clone(), None::<watch::Receiver<()>>, move |_| {
            let source = source.clone();
            async move { source.queues().await.map(|s| Some(SourceMsg::QueuesLoaded(s))) }
        })
    };
    let jobs = {
        let source = source.clone();
        poller::spawn(Feed::Jobs, opts, nj, tx.clone(), Some(jobs_rx), move |q: Option<JobsQuery>| {
            let source = source.clone();
            async move { source.jobs(q.unwrap_or_default()).await.map(|p| Some(SourceMsg::JobsLoaded(p))) }
        })
    };
    let details = {
        let source = source.clone();
        poller::spawn(Feed::Detail, opts, nd, tx.clone(), Some(detail_rx), move |id: Option<Option<String>>| {
            let source = source.clone();
            async move {
                let Some(id) = id.flatten() else { return Ok(None) };
                let detail = source.job_detail(id.clone()).await?;
                Ok(Some(SourceMsg::DetailLoaded { id, detail: detail.map(Box::new), at: Utc::now() }))
            }
        })
    };
    let events = tokio::spawn(events_task(source, opts, nudges, tx));
    RuntimeHandle { jobs_query, detail, tasks: vec![queues, jobs, details, events] }
}

/// Keep a subscription to `{p}events`; every event nudges the pollers, and every (re)connect
/// nudges them too, since events sent while disconnected are lost.
async fn events_task<S: JobSource>(
    source: Arc<S>,
    opts: RuntimeOptions,
    nudges: [Arc<Notify>; 3],
    tx: mpsc::Sender<SourceMsg>,
) {
    let nudge_all = || nudges.iter().for_each(|n| n.notify_one());
    let mut failures = 0u32;
    loop {
        let result = tokio::time::timeout(opts.timeout, source.events()).await;
        match result {
            Ok(Ok(mut stream)) => {
                failures = 0;
                if tx.send(SourceMsg::EventsState { connected: true, error: None, at: Utc::now() }).await.is_err() {
                    return;
                }
                nudge_all();
                while stream.next().await.is_some() {
                    nudge_all();
                }
                let lost = SourceMsg::EventsState {
                    connected: false,
                    error: Some("subscription lost".into()),
                    at: Utc::now(),
                };
                if tx.send(lost).await.is_err() {
                    return;
                }
            }
            Ok(Err(e)) => {
                failures += 1;
                let msg = SourceMsg::EventsState { connected: false, error: Some(e.to_string()), at: Utc::now() };
                if tx.send(msg).await.is_err() {
                    return;
                }
            }
            Err(_) => failures += 1,
        }
        tokio::time::sleep(backoff(failures.max(1), opts.interval)).await;
    }
}
