//! Pollers and subscriptions: one task per source, a timeout on every call, backoff on failure,
//! one fetch in flight per source. They send owned snapshots as messages; they never touch the UI.

mod poller;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;

use crate::domain::{
    AlertsSnapshot, Container, JobDetail, JobsPage, JobsQuery, KbStats, QueueSnapshot, RagSearch, ServiceStatus, Target,
};
use crate::ops::OpsSource;
use crate::rag::RagSource;
use crate::source::{JobSource, SourceError};

pub use poller::{Pace, backoff};

/// Which feed a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Feed {
    Queues,
    Jobs,
    Detail,
    Events,
    Containers,
    Services,
    Targets,
    Alerts,
    /// The knowledge base's description (size, dimensions, index).
    Knowledge,
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
    ContainersLoaded(Vec<Container>, DateTime<Utc>),
    ServicesLoaded(Vec<ServiceStatus>, DateTime<Utc>),
    TargetsLoaded(Vec<Target>, DateTime<Utc>),
    AlertsLoaded(AlertsSnapshot),
    /// Docker's events stream came up or went down.
    ContainerEventsState {
        connected: bool,
    },
    KbStatsLoaded(KbStats, DateTime<Utc>),
    /// The answer to a knowledge-base search request.
    RagSearched {
        request: RagRequest,
        result: Result<RagSearch, String>,
        at: DateTime<Utc>,
    },
}

/// A knowledge-base search the UI asked for; `id` tells its answer from older ones.
#[derive(Debug, Clone, PartialEq)]
pub struct RagRequest {
    pub id: u64,
    pub query: String,
    pub top_k: usize,
    pub threshold: f64,
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

impl RuntimeOptions {
    fn pace(&self) -> Pace {
        Pace { interval: self.interval, min_gap: self.min_gap }
    }

    /// A text search scans thousands of jobs inside Redis (tens of ms at a million jobs), so it
    /// is repeated at most every 5 intervals and 2 s, whatever is pushed.
    fn search_pace(&self) -> Pace {
        Pace { interval: self.interval * 5, min_gap: self.min_gap.max(Duration::from_secs(2)) }
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
        let pace = move |_: Option<&()>| opts.pace();
        poller::spawn(Feed::Queues, opts, nq, tx.clone(), None::<watch::Receiver<()>>, pace, move |_| {
            let source = source.clone();
            async move { source.queues().await.map(|s| Some(SourceMsg::QueuesLoaded(s))) }
        })
    };
    let jobs = {
        let source = source.clone();
        let pace = move |q: Option<&JobsQuery>| match q {
            Some(q) if !q.filter.trim().is_empty() => opts.search_pace(),
            _ => opts.pace(),
        };
        poller::spawn(Feed::Jobs, opts, nj, tx.clone(), Some(jobs_rx), pace, move |q: Option<JobsQuery>| {
            let source = source.clone();
            async move { source.jobs(q.unwrap_or_default()).await.map(|p| Some(SourceMsg::JobsLoaded(p))) }
        })
    };
    let details = {
        let source = source.clone();
        let pace = move |_: Option<&Option<String>>| opts.pace();
        poller::spawn(Feed::Detail, opts, nd, tx.clone(), Some(detail_rx), pace, move |id: Option<Option<String>>| {
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

/// The operations feeds' tasks, which stop when this is dropped.
pub struct Tasks {
    tasks: Vec<JoinHandle<()>>,
    alerts_nudge: Arc<Notify>,
}

impl Tasks {
    /// Fetch alerts now (an action just changed them).
    pub fn refresh_alerts(&self) {
        self.alerts_nudge.notify_one();
    }
}

impl Drop for Tasks {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Start a poller for each configured operations feed, and Docker's events stream, which makes
/// the containers poller fetch at once.
pub fn spawn_ops(ops: OpsSource, opts: RuntimeOptions, tx: mpsc::Sender<SourceMsg>) -> Tasks {
    let configured = ops.configured();
    let mut tasks = Vec::new();
    let pace = move |_: Option<&()>| opts.pace();
    let containers_nudge = Arc::new(Notify::new());
    if configured.containers {
        let o = ops.clone();
        tasks.push(poller::spawn(
            Feed::Containers,
            opts,
            containers_nudge.clone(),
            tx.clone(),
            None,
            pace,
            move |_| {
                let o = o.clone();
                async move { o.containers().await.map(|c| Some(SourceMsg::ContainersLoaded(c, Utc::now()))) }
            },
        ));
        tasks.push(tokio::spawn(container_events_task(ops.clone(), opts, containers_nudge, tx.clone())));
    }
    if configured.services {
        let o = ops.clone();
        tasks.push(poller::spawn(Feed::Services, opts, Arc::new(Notify::new()), tx.clone(), None, pace, move |_| {
            let o = o.clone();
            async move { o.services().await.map(|s| Some(SourceMsg::ServicesLoaded(s, Utc::now()))) }
        }));
    }
    if configured.targets {
        let o = ops.clone();
        tasks.push(poller::spawn(Feed::Targets, opts, Arc::new(Notify::new()), tx.clone(), None, pace, move |_| {
            let o = o.clone();
            async move { o.targets().await.map(|t| Some(SourceMsg::TargetsLoaded(t, Utc::now()))) }
        }));
    }
    let alerts_nudge = Arc::new(Notify::new());
    if configured.alerts {
        let o = ops.clone();
        tasks.push(poller::spawn(Feed::Alerts, opts, alerts_nudge.clone(), tx.clone(), None, pace, move |_| {
            let o = o.clone();
            async move { o.alerts().await.map(|a| Some(SourceMsg::AlertsLoaded(a))) }
        }));
    }
    Tasks { tasks, alerts_nudge }
}

/// The knowledge base's tasks: its description, re-read every 5 s (so a database going away
/// shows within seconds; the catalog query is cheap), and searches, the latest
/// request winning. They stop when this is dropped.
pub struct RagHandle {
    search: watch::Sender<Option<RagRequest>>,
    tasks: Vec<JoinHandle<()>>,
}

impl RagHandle {
    /// Search now; an answer to an older request still running is dropped by the UI (by id).
    pub fn search(&self, request: RagRequest) {
        self.search.send_replace(Some(request));
    }
}

impl Drop for RagHandle {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Longest a whole search may take: two embeddings calls (LiteLLM, then Ollama) and the query.
const SEARCH_BUDGET: Duration = Duration::from_secs(30);

pub fn spawn_rag(rag: RagSource, opts: RuntimeOptions, tx: mpsc::Sender<SourceMsg>) -> RagHandle {
    let stats_opts = RuntimeOptions { timeout: opts.timeout * 2, ..opts };
    let pace =
        move |_: Option<&()>| Pace { interval: Duration::from_secs(5).max(opts.interval), min_gap: opts.min_gap };
    let r = rag.clone();
    let stats =
        poller::spawn(Feed::Knowledge, stats_opts, Arc::new(Notify::new()), tx.clone(), None, pace, move |_| {
            let r = r.clone();
            async move {
                r.stats()
                    .await
                    .map(|s| Some(SourceMsg::KbStatsLoaded(s, Utc::now())))
                    .map_err(|e| SourceError::Server(e.to_string()))
            }
        });
    let (search, mut requests) = watch::channel(None::<RagRequest>);
    let searches = tokio::spawn(async move {
        while requests.changed().await.is_ok() {
            let Some(request) = requests.borrow_and_update().clone() else { continue };
            let result =
                match tokio::time::timeout(SEARCH_BUDGET, rag.search(&request.query, request.top_k, request.threshold))
                    .await
                {
                    Ok(r) => r.map_err(|e| e.to_string()),
                    Err(_) => Err(format!("the search took longer than {} s", SEARCH_BUDGET.as_secs())),
                };
            if tx.send(SourceMsg::RagSearched { request, result, at: Utc::now() }).await.is_err() {
                return;
            }
        }
    });
    RagHandle { search, tasks: vec![stats, searches] }
}

async fn container_events_task(ops: OpsSource, opts: RuntimeOptions, nudge: Arc<Notify>, tx: mpsc::Sender<SourceMsg>) {
    let mut failures = 0u32;
    loop {
        if let Ok(Ok(mut stream)) = tokio::time::timeout(opts.timeout, ops.container_events()).await {
            failures = 0;
            if tx.send(SourceMsg::ContainerEventsState { connected: true }).await.is_err() {
                return;
            }
            nudge.notify_one();
            while stream.next().await.is_some() {
                nudge.notify_one();
            }
        }
        failures += 1;
        if tx.send(SourceMsg::ContainerEventsState { connected: false }).await.is_err() {
            return;
        }
        tokio::time::sleep(backoff(failures, opts.interval)).await;
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::JobStatus;
    use crate::source::{EventStream, JobEvent};
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A source that counts calls, never overlaps them unnoticed, and pushes events on demand.
    #[derive(Default)]
    struct Counting {
        jobs: AtomicUsize,
        in_flight: AtomicUsize,
        overlapped: AtomicUsize,
        events: Mutex<Option<mpsc::UnboundedReceiver<JobEvent>>>,
    }

    impl JobSource for Counting {
        fn name(&self) -> &str {
            "counting"
        }
        async fn queues(&self) -> Result<QueueSnapshot, SourceError> {
            Err(SourceError::Server("not in this test".into()))
        }
        async fn jobs(&self, query: JobsQuery) -> Result<JobsPage, SourceError> {
            if self.in_flight.fetch_add(1, Ordering::SeqCst) > 0 {
                self.overlapped.fetch_add(1, Ordering::SeqCst);
            }
            tokio::time::sleep(Duration::from_millis(30)).await;
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            self.jobs.fetch_add(1, Ordering::SeqCst);
            Ok(JobsPage { query, total: 0, scanned: None, jobs: vec![], fetched_at: Utc::now() })
        }
        async fn job_detail(&self, _: String) -> Result<Option<JobDetail>, SourceError> {
            Ok(None)
        }
        async fn events(&self) -> Result<EventStream, SourceError> {
            let rx = self.events.lock().ok().and_then(|mut g| g.take());
            match rx {
                Some(rx) => {
                    Ok(Box::pin(futures_util::stream::unfold(
                        rx,
                        |mut rx| async move { rx.recv().await.map(|e| (e, rx)) },
                    )))
                }
                None => Err(SourceError::Connect("gone".into())),
            }
        }
    }

    /// Push 50 events over 5 s and count the jobs fetches they cause.
    async fn fetches_during_event_storm(filter: &str) -> (usize, usize) {
        let (etx, erx) = mpsc::unbounded_channel();
        let source = Arc::new(Counting { events: Mutex::new(Some(erx)), ..Default::default() });
        let (tx, mut rx) = mpsc::channel(1024);
        let opts = RuntimeOptions { interval: Duration::from_secs(60), ..Default::default() };
        let query = JobsQuery { filter: filter.into(), limit: 10, ..Default::default() };
        let _handle = spawn(source.clone(), opts, query, tx);
        tokio::spawn(async move { while rx.recv().await.is_some() {} });
        tokio::time::sleep(Duration::from_millis(500)).await;
        let before = source.jobs.load(Ordering::SeqCst);
        for _ in 0..50 {
            let _ = etx.send(JobEvent { job_id: None, status: Some(JobStatus::Done), at: None });
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        (source.jobs.load(Ordering::SeqCst) - before, source.overlapped.load(Ordering::SeqCst))
    }

    #[tokio::test(start_paused = true)]
    async fn pushes_are_coalesced_and_searches_are_paced() {
        let (plain, overlapped) = fetches_during_event_storm("").await;
        assert_eq!(overlapped, 0, "never two fetches of one feed at once");
        assert!((20..=51).contains(&plain), "each push refreshes the window, at most every 100 ms: {plain}");
        let (search, overlapped) = fetches_during_event_storm("db-01").await;
        assert_eq!(overlapped, 0);
        assert!((2..=4).contains(&search), "a search is repeated at most every 2 s: {search}");
    }
}
