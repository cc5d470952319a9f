//! Pollers and subscriptions: one task per source, a timeout on every call, backoff on failure,
//! one fetch in flight per source. They send owned snapshots as messages; they never touch the UI.
//! [`start`] starts everything a set of sources needs; [`Runtime::request`] is how the UI (and
//! `--snapshot`) ask for something, without ever waiting.

mod poller;
mod subscribe;
mod tasks;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::{FutureExt, StreamExt};
use tokio::sync::{Notify, mpsc, watch};

use crate::clients::SourceError;
use crate::domain::pipeline::PipelineSnapshot;
use crate::domain::{
    AlertsSnapshot, Container, JobDetail, JobStatus, JobsPage, JobsQuery, KbStats, QueueSnapshot, RagSearch,
    ServiceStatus, Target,
};
use crate::sources::{JobSource, KnowledgeSource, OpsSource, Sources};

pub use poller::{Pace, backoff};
pub use subscribe::Pushes;
pub use tasks::{TaskSet, TaskSlot};

/// Which feed a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Feed {
    Queues,
    Jobs,
    /// Jobs awaiting approval, oldest first.
    Approvals,
    Detail,
    /// Job status changes pushed on `{p}events`.
    Events,
    Containers,
    /// Docker's events stream.
    ContainerEvents,
    Services,
    Targets,
    Alerts,
    /// The knowledge base's description (size, dimensions, index).
    Knowledge,
    /// The AI pipeline's numbers: gateway `/metrics`, LiteLLM's models, Ollama's loaded ones.
    Pipeline,
    /// Knowledge-base searches.
    Search,
}

impl Feed {
    /// How the error history names it.
    pub fn name(self) -> &'static str {
        match self {
            Feed::Queues => "queues",
            Feed::Jobs => "jobs",
            Feed::Approvals => "approvals",
            Feed::Detail => "job detail",
            Feed::Events => "job events",
            Feed::Containers => "containers",
            Feed::ContainerEvents => "container events",
            Feed::Services => "services",
            Feed::Targets => "targets",
            Feed::Alerts => "alerts",
            Feed::Knowledge => "knowledge base",
            Feed::Pipeline => "AI pipeline",
            Feed::Search => "KB search",
        }
    }
}

/// What the runtime tells the UI.
#[derive(Debug, Clone)]
pub enum SourceMsg {
    QueuesLoaded(QueueSnapshot),
    JobsLoaded(JobsPage),
    ApprovalsLoaded(JobsPage),
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
    /// Something an operator should know that is not a failure, such as the Redis master moving
    /// (kept in the error history with the feed it concerns).
    Notice {
        feed: Feed,
        text: String,
        at: DateTime<Utc>,
    },
    /// A push subscription (`Events` or `ContainerEvents`) came up or went down.
    PushState {
        feed: Feed,
        connected: bool,
        error: Option<String>,
        at: DateTime<Utc>,
    },
    ContainersLoaded(Vec<Container>, DateTime<Utc>),
    ServicesLoaded(Vec<ServiceStatus>, DateTime<Utc>),
    TargetsLoaded(Vec<Target>, DateTime<Utc>),
    AlertsLoaded(AlertsSnapshot),
    PipelineLoaded(PipelineSnapshot),
    KbStatsLoaded(KbStats, DateTime<Utc>),
    /// The answer to a knowledge-base search request.
    RagSearched {
        request: RagRequest,
        result: Result<RagSearch, String>,
        at: DateTime<Utc>,
    },
}

impl SourceMsg {
    /// The feed this message is about, which decides the state it goes to.
    pub fn feed(&self) -> Feed {
        match self {
            SourceMsg::QueuesLoaded(_) => Feed::Queues,
            SourceMsg::JobsLoaded(_) => Feed::Jobs,
            SourceMsg::ApprovalsLoaded(_) => Feed::Approvals,
            SourceMsg::DetailLoaded { .. } => Feed::Detail,
            SourceMsg::Failed { feed, .. } | SourceMsg::PushState { feed, .. } | SourceMsg::Notice { feed, .. } => {
                *feed
            }
            SourceMsg::ContainersLoaded(..) => Feed::Containers,
            SourceMsg::ServicesLoaded(..) => Feed::Services,
            SourceMsg::TargetsLoaded(..) => Feed::Targets,
            SourceMsg::AlertsLoaded(_) => Feed::Alerts,
            SourceMsg::PipelineLoaded(_) => Feed::Pipeline,
            SourceMsg::KbStatsLoaded(..) => Feed::Knowledge,
            SourceMsg::RagSearched { .. } => Feed::Search,
        }
    }
}

/// A knowledge-base search the UI asked for; `id` tells its answer from older ones.
#[derive(Debug, Clone, PartialEq)]
pub struct RagRequest {
    pub id: u64,
    pub query: String,
    pub top_k: usize,
    pub threshold: f64,
}

/// What the UI can ask the runtime for.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// A different window of jobs; fetched at once.
    FetchJobs(JobsQuery),
    /// Follow one job's details (or stop with `None`).
    FollowDetail(Option<String>),
    /// Fetch alerts now (an action just changed them).
    RefreshAlerts,
    /// Fetch queues, jobs and approvals now (an action just changed them).
    RefreshJobs,
    /// Search the knowledge base; the latest request wins.
    Search(RagRequest),
}

/// Timing of the pollers.
#[derive(Debug, Clone, Copy)]
pub struct RuntimeOptions {
    /// Poll interval when nothing is pushed.
    pub interval: Duration,
    /// The clients' timeout for one call; each feed's budget is derived from it by its client.
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

    /// The queues' counts and the approvals window (up to 500 jobs) change with every push of
    /// a storm, but a person reads them a few times a second at most: pushes are folded into
    /// one fetch every 2.5 gaps (250 ms), while the job list keeps the short gap, so that a new
    /// job still shows within a quarter of a second.
    fn counts_pace(&self) -> Pace {
        Pace { interval: self.interval, min_gap: self.min_gap * 5 / 2 }
    }

    /// A text search scans thousands of jobs inside Redis (tens of ms at a million jobs), so it
    /// is repeated at most every 5 intervals and 2 s, whatever is pushed.
    /// The pipeline's counters change slowly and cost three requests a read: every 5 intervals
    /// and at least 5 s.
    fn pipeline_pace(&self) -> Pace {
        Pace { interval: (self.interval * 5).max(Duration::from_secs(5)), min_gap: self.min_gap }
    }

    fn search_pace(&self) -> Pace {
        Pace { interval: self.interval * 5, min_gap: self.min_gap.max(Duration::from_secs(2)) }
    }

    /// The longest one fetch of `feed` may take: the budget its client enforces itself, plus a
    /// little, so that the client's own (clearer) timeout error is the one reported.
    pub fn budget(&self, feed: Feed) -> Duration {
        let client = match feed {
            Feed::Containers => crate::clients::docker::fetch_budget(self.timeout),
            Feed::Knowledge => crate::clients::kb::call_budget(self.timeout),
            _ => self.timeout,
        };
        client + Duration::from_millis(250)
    }
}

/// Most jobs awaiting approval fetched, oldest first.
pub const APPROVALS_WINDOW: usize = 500;

/// Longest a whole search may take: two embeddings calls (LiteLLM, then Ollama) and the query.
const SEARCH_BUDGET: Duration = Duration::from_secs(30);

/// The running pollers and subscriptions of one set of sources; they stop when this is dropped.
pub struct Runtime {
    jobs_query: Option<watch::Sender<JobsQuery>>,
    detail: Option<watch::Sender<Option<String>>>,
    jobs_nudges: Vec<Arc<Notify>>,
    alerts_nudge: Arc<Notify>,
    search: Option<watch::Sender<Option<RagRequest>>>,
    _tasks: TaskSet,
}

impl Runtime {
    /// Ask for something; never waits.
    pub fn request(&self, request: Request) {
        match request {
            Request::FetchJobs(query) => {
                if let Some(tx) = &self.jobs_query {
                    tx.send_if_modified(|q| {
                        let changed = *q != query;
                        *q = query;
                        changed
                    });
                }
            }
            Request::FollowDetail(id) => {
                if let Some(tx) = &self.detail {
                    tx.send_replace(id);
                }
            }
            Request::RefreshAlerts => self.alerts_nudge.notify_one(),
            Request::RefreshJobs => self.jobs_nudges.iter().for_each(|n| n.notify_one()),
            Request::Search(r) => {
                if let Some(tx) = &self.search {
                    tx.send_replace(Some(r));
                }
            }
        }
    }
}

/// Start every poller and subscription the sources need, sending to `tx`. `initial` is the
/// first window of jobs to fetch.
pub fn start(sources: &Sources, opts: RuntimeOptions, initial: JobsQuery, tx: mpsc::Sender<SourceMsg>) -> Runtime {
    let mut tasks = TaskSet::default();
    let (jobs_query, detail, jobs_nudges) = match &sources.jobs {
        Some(jobs) => {
            let (q, d, n) = start_jobs(jobs.clone(), opts, initial, &tx, &mut tasks);
            (Some(q), Some(d), n)
        }
        None => (None, None, vec![]),
    };
    let alerts_nudge = start_ops(sources.ops.clone(), opts, &tx, &mut tasks);
    let search = sources.knowledge.clone().map(|k| start_knowledge(k, opts, &tx, &mut tasks));
    Runtime { jobs_query, detail, jobs_nudges, alerts_nudge, search, _tasks: tasks }
}

/// The queue, jobs, detail and events tasks.
fn start_jobs(
    source: Arc<dyn JobSource>,
    opts: RuntimeOptions,
    initial: JobsQuery,
    tx: &mpsc::Sender<SourceMsg>,
    tasks: &mut TaskSet,
) -> (watch::Sender<JobsQuery>, watch::Sender<Option<String>>, Vec<Arc<Notify>>) {
    let (jobs_query, jobs_rx) = watch::channel(initial);
    let (detail, detail_rx) = watch::channel(None::<String>);
    let nudges: [Arc<Notify>; 4] = Default::default();
    let [nq, nj, nd, na] = nudges.clone();
    if let Some(mut notices) = source.sentinel_notices() {
        let tx = tx.clone();
        let again = nudges.clone();
        tasks.push(tokio::spawn(async move {
            while notices.changed().await.is_ok() {
                let Some(n) = notices.borrow_and_update().clone() else { continue };
                // The master moved (or the sentinels are back): read everything again now, from
                // where the data is, instead of at the next interval.
                if n.reread {
                    again.iter().for_each(|n| n.notify_one());
                }
                let notice = SourceMsg::Notice { feed: Feed::Queues, text: n.text, at: n.at };
                if tx.send(notice).await.is_err() {
                    break;
                }
            }
        }));
    }
    let s = source.clone();
    let pace = move |_: Option<&()>| opts.counts_pace();
    tasks.push(poller::spawn(Feed::Queues, opts, nq, tx.clone(), None::<watch::Receiver<()>>, pace, move |_| {
        let s = s.clone();
        async move { s.queues().await.map(|q| Some(SourceMsg::QueuesLoaded(q))) }
    }));
    let s = source.clone();
    let pace = move |q: Option<&JobsQuery>| match q {
        Some(q) if !q.filter.trim().is_empty() => opts.search_pace(),
        _ => opts.pace(),
    };
    tasks.push(poller::spawn(Feed::Jobs, opts, nj, tx.clone(), Some(jobs_rx), pace, move |q: Option<JobsQuery>| {
        let s = s.clone();
        async move { s.jobs(q.unwrap_or_default()).await.map(|p| Some(SourceMsg::JobsLoaded(p))) }
    }));
    let s = source.clone();
    let pace = move |_: Option<&()>| opts.counts_pace();
    tasks.push(poller::spawn(Feed::Approvals, opts, na, tx.clone(), None::<watch::Receiver<()>>, pace, move |_| {
        let s = s.clone();
        async move {
            let q = JobsQuery {
                status: Some(JobStatus::AwaitingApproval),
                oldest_first: true,
                limit: APPROVALS_WINDOW,
                ..Default::default()
            };
            s.jobs(q).await.map(|p| Some(SourceMsg::ApprovalsLoaded(p)))
        }
    }));
    let s = source.clone();
    let pace = move |_: Option<&Option<String>>| opts.pace();
    tasks.push(poller::spawn(
        Feed::Detail,
        opts,
        nd,
        tx.clone(),
        Some(detail_rx),
        pace,
        move |id: Option<Option<String>>| {
            let s = s.clone();
            async move {
                let Some(id) = id.flatten() else { return Ok(None) };
                let detail = s.job_detail(id.clone()).await?;
                Ok(Some(SourceMsg::DetailLoaded { id, detail: detail.map(Box::new), at: Utc::now() }))
            }
        },
    ));
    let connect = move || {
        let s = source.clone();
        async move { s.events().await.map(|e| e.map(|e| e.job_id).boxed() as Pushes) }.boxed()
    };
    let all = nudges.to_vec();
    // Every change moves the queues and the windows; the open job's detail only its own (a storm
    // of changes elsewhere leaves it alone). An event without a job id may concern anything.
    let shown = detail.subscribe();
    let route = move |changed: Option<&str>| {
        let [queues, jobs, detail, approvals] = &nudges;
        for n in [queues, jobs, approvals] {
            n.notify_one();
        }
        if changed.is_none_or(|id| shown.borrow().as_deref() == Some(id)) {
            detail.notify_one();
        }
    };
    tasks.push(tokio::spawn(subscribe::keep_subscribed(Feed::Events, opts, connect, route, tx.clone())));
    (jobs_query, detail, all)
}

/// A poller for each configured operations feed, and Docker's events stream, which makes the
/// containers poller fetch at once. Returns the alerts poller's nudge.
fn start_ops(
    ops: Arc<dyn OpsSource>,
    opts: RuntimeOptions,
    tx: &mpsc::Sender<SourceMsg>,
    tasks: &mut TaskSet,
) -> Arc<Notify> {
    let configured = ops.configured();
    let pace = move |_: Option<&()>| opts.pace();
    let alerts_nudge = Arc::new(Notify::new());
    let poll = |feed: Feed, nudge: Arc<Notify>, tasks: &mut TaskSet| {
        let o = ops.clone();
        tasks.push(poller::spawn(feed, opts, nudge, tx.clone(), None, pace, move |_| {
            let o = o.clone();
            async move {
                let now = Utc::now();
                let msg = match feed {
                    Feed::Containers => SourceMsg::ContainersLoaded(o.containers().await?, now),
                    Feed::Services => SourceMsg::ServicesLoaded(o.services().await?, now),
                    Feed::Targets => SourceMsg::TargetsLoaded(o.targets().await?, now),
                    _ => SourceMsg::AlertsLoaded(o.alerts().await?),
                };
                if matches!(feed, Feed::Alerts | Feed::Targets) {
                    give_back_free_memory();
                }
                Ok(Some(msg))
            }
        }));
    };
    if configured.containers {
        let nudge = Arc::new(Notify::new());
        poll(Feed::Containers, nudge.clone(), tasks);
        let o = ops.clone();
        let connect = move || {
            let o = o.clone();
            async move { o.container_events().await.map(|e| e.map(|_| None).boxed() as Pushes) }.boxed()
        };
        let nudge = move |_: Option<&str>| nudge.notify_one();
        tasks.push(tokio::spawn(subscribe::keep_subscribed(Feed::ContainerEvents, opts, connect, nudge, tx.clone())));
    }
    if configured.services {
        poll(Feed::Services, Arc::new(Notify::new()), tasks);
    }
    if configured.targets {
        poll(Feed::Targets, Arc::new(Notify::new()), tasks);
    }
    if configured.alerts {
        poll(Feed::Alerts, alerts_nudge.clone(), tasks);
    }
    if configured.pipeline {
        let o = ops.clone();
        let pace = move |_: Option<&()>| opts.pipeline_pace();
        tasks.push(poller::spawn(Feed::Pipeline, opts, Arc::new(Notify::new()), tx.clone(), None, pace, move |_| {
            let o = o.clone();
            async move { Ok(Some(SourceMsg::PipelineLoaded(o.pipeline().await?))) }
        }));
    }
    alerts_nudge
}

/// The knowledge base's description, re-read every 5 s (so a database going away shows within
/// seconds; the catalog query is cheap), and searches, the latest request winning.
fn start_knowledge(
    kb: Arc<dyn KnowledgeSource>,
    opts: RuntimeOptions,
    tx: &mpsc::Sender<SourceMsg>,
    tasks: &mut TaskSet,
) -> watch::Sender<Option<RagRequest>> {
    let pace =
        move |_: Option<&()>| Pace { interval: Duration::from_secs(5).max(opts.interval), min_gap: opts.min_gap };
    let k = kb.clone();
    tasks.push(poller::spawn(Feed::Knowledge, opts, Arc::new(Notify::new()), tx.clone(), None, pace, move |_| {
        let k = k.clone();
        async move {
            k.stats()
                .await
                .map(|s| Some(SourceMsg::KbStatsLoaded(s, Utc::now())))
                .map_err(|e| SourceError::Server(e.to_string()))
        }
    }));
    let (search, mut requests) = watch::channel(None::<RagRequest>);
    let tx = tx.clone();
    tasks.push(tokio::spawn(async move {
        while requests.changed().await.is_ok() {
            let Some(request) = requests.borrow_and_update().clone() else { continue };
            let search = kb.search(&request.query, request.top_k, request.threshold);
            let result = match tokio::time::timeout(SEARCH_BUDGET, search).await {
                Ok(r) => r.map_err(|e| e.to_string()),
                Err(_) => Err(format!("the search took longer than {} s", SEARCH_BUDGET.as_secs())),
            };
            if tx.send(SourceMsg::RagSearched { request, result, at: Utc::now() }).await.is_err() {
                return;
            }
        }
    }));
    search
}

/// Give the allocator's free memory back to the system. An alert source or Prometheus at its
/// body limit answers 8 MB that are parsed and freed at every refresh; glibc keeps such freed
/// memory in its heaps (one per thread), and the dashboard's resident memory would grow to
/// several times what it holds. Bounded by design: freed after each such refresh.
fn give_back_free_memory() {
    // SAFETY: malloc_trim only returns memory the allocator holds unused; it takes no pointer.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests;
