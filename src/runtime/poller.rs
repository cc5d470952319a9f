//! One poller: fetch, send, wait for the interval, a nudge or a new request; back off on failure.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::{Feed, RuntimeOptions, SourceMsg};
use crate::clients::SourceError;

/// Retry delay after `failures` failures in a row: 250 ms doubling, never more than 1 s (so a
/// source that comes back is seen within 2 s) nor more than the poll interval.
pub fn backoff(failures: u32, interval: Duration) -> Duration {
    let ms = 250u64.saturating_mul(1 << failures.saturating_sub(1).min(8));
    Duration::from_millis(ms.min(1000)).min(interval)
}

/// How often one request may be fetched: the poll interval and the shortest gap between two
/// fetches (pushed events can ask for more, never faster than that).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    pub interval: Duration,
    pub min_gap: Duration,
}

/// Spawn a loop around `fetch`. Fetches run one at a time by construction. `requests`, when
/// given, is the latest request (a window, a job id); a change fetches at once. `pace` sets the
/// timing per request, so an expensive one (a text search) can be fetched less often.
pub fn spawn<R, F, Fut>(
    feed: Feed,
    opts: RuntimeOptions,
    nudge: Arc<Notify>,
    tx: mpsc::Sender<SourceMsg>,
    mut requests: Option<watch::Receiver<R>>,
    pace: impl Fn(Option<&R>) -> Pace + Send + 'static,
    fetch: F,
) -> JoinHandle<()>
where
    R: Clone + Send + Sync + 'static,
    F: Fn(Option<R>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Option<SourceMsg>, SourceError>> + Send,
{
    tokio::spawn(async move {
        let mut failures = 0u32;
        loop {
            let started = Instant::now();
            let request = requests.as_mut().map(|r| r.borrow_and_update().clone());
            let Pace { interval, min_gap } = pace(request.as_ref());
            let budget = opts.budget(feed);
            let result = match tokio::time::timeout(budget, fetch(request)).await {
                Ok(r) => r,
                Err(_) => Err(SourceError::Timeout(budget)),
            };
            let wait = match result {
                Ok(msg) => {
                    failures = 0;
                    if let Some(msg) = msg
                        && tx.send(msg).await.is_err()
                    {
                        return;
                    }
                    interval
                }
                Err(error) => {
                    failures += 1;
                    let wait = backoff(failures, interval);
                    tracing::debug!(?feed, %error, failures, "fetch failed");
                    let now = Utc::now();
                    let retry_at = now + chrono::Duration::from_std(wait).unwrap_or_default();
                    if tx.send(SourceMsg::Failed { feed, error, at: now, retry_at }).await.is_err() {
                        return;
                    }
                    wait
                }
            };
            let request_changed = async {
                match requests.as_mut() {
                    Some(r) => r.changed().await.is_ok(),
                    None => std::future::pending().await,
                }
            };
            let asked = tokio::select! {
                _ = tokio::time::sleep(wait) => false,
                _ = nudge.notified(), if failures == 0 => false,
                ok = request_changed => if ok { true } else { return },
            };
            // Coalesce bursts of pushes: never start two fetches closer than `min_gap`. What the
            // user asked for (a new window, a filter) is not made to wait.
            if !asked {
                tokio::time::sleep_until(started + min_gap).await;
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let i = Duration::from_secs(5);
        assert_eq!(backoff(1, i), Duration::from_millis(250));
        assert_eq!(backoff(2, i), Duration::from_millis(500));
        assert_eq!(backoff(3, i), Duration::from_millis(1000));
        assert_eq!(backoff(30, i), Duration::from_millis(1000));
        assert_eq!(backoff(30, Duration::from_millis(300)), Duration::from_millis(300));
    }
}
