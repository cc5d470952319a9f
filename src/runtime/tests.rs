//! The runtime's pacing and coalescing, on a counting source and a paused clock.
use super::*;
use crate::domain::{JobEvent, JobStatus};
use crate::sources::{BoxFuture, EventStream, Sources};
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
    fn queues(&self) -> BoxFuture<'_, Result<QueueSnapshot, SourceError>> {
        async { Err(SourceError::Server("not in this test".into())) }.boxed()
    }
    fn jobs(&self, query: JobsQuery) -> BoxFuture<'_, Result<JobsPage, SourceError>> {
        async move {
            if query.status.is_some() {
                // The Approvals feed: not the window this test counts.
                return Ok(JobsPage { query, total: 0, scanned: None, jobs: vec![], fetched_at: Utc::now() });
            }
            if self.in_flight.fetch_add(1, Ordering::SeqCst) > 0 {
                self.overlapped.fetch_add(1, Ordering::SeqCst);
            }
            tokio::time::sleep(Duration::from_millis(30)).await;
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            self.jobs.fetch_add(1, Ordering::SeqCst);
            Ok(JobsPage { query, total: 0, scanned: None, jobs: vec![], fetched_at: Utc::now() })
        }
        .boxed()
    }
    fn job_detail(&self, _: String) -> BoxFuture<'_, Result<Option<JobDetail>, SourceError>> {
        async { Ok(None) }.boxed()
    }
    fn events(&self) -> BoxFuture<'_, Result<EventStream, SourceError>> {
        let rx = self.events.lock().ok().and_then(|mut g| g.take());
        async move {
            match rx {
                Some(rx) => {
                    Ok(Box::pin(futures_util::stream::unfold(
                        rx,
                        |mut rx| async move { rx.recv().await.map(|e| (e, rx)) },
                    )) as EventStream)
                }
                None => Err(SourceError::Connect("gone".into())),
            }
        }
        .boxed()
    }
}

/// Push 50 events over 5 s and count the jobs fetches they cause.
async fn fetches_during_event_storm(filter: &str) -> (usize, usize) {
    let (etx, erx) = mpsc::unbounded_channel();
    let source = Arc::new(Counting { events: Mutex::new(Some(erx)), ..Default::default() });
    let (tx, mut rx) = mpsc::channel(1024);
    let opts = RuntimeOptions { interval: Duration::from_secs(60), ..Default::default() };
    let query = JobsQuery { filter: filter.into(), limit: 10, ..Default::default() };
    let sources = Sources { jobs: Some(source.clone()), ..Sources::none() };
    let _runtime = start(&sources, opts, query, tx);
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
