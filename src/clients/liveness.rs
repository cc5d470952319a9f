//! Push streams that end when their connection stops answering. A half-open TCP connection
//! delivers nothing and reports no error, so a quiet stream is checked every so often by a
//! request on the same connection (or, where the API has none, on a new one); a failed check
//! ends the stream and the subscriber reconnects.

use std::future::Future;
use std::time::Duration;

use futures_util::{Stream, StreamExt, stream};

/// How often a push stream's connection is checked.
pub const CHECK_EVERY: Duration = Duration::from_secs(15);

/// `items`, ending at the first failed `check` (run every `every`) or when `items` ends.
pub fn until_dead<S, T, F, Fut>(items: S, every: Duration, check: F) -> impl Stream<Item = T> + Send + use<S, T, F, Fut>
where
    S: Stream<Item = T> + Send + 'static,
    T: Send + 'static,
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = bool> + Send,
{
    let tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    stream::unfold((Box::pin(items), check, tick), |(mut items, mut check, mut tick)| async move {
        loop {
            tokio::select! {
                item = items.next() => return item.map(|i| (i, (items, check, tick))),
                _ = tick.tick() => {
                    if !check().await {
                        tracing::debug!("push stream failed its liveness check");
                        return None;
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[tokio::test(start_paused = true)]
    async fn a_silent_stream_ends_when_its_check_fails() {
        let alive = Arc::new(AtomicBool::new(true));
        let a = alive.clone();
        let silent = stream::pending::<u32>();
        let mut s = Box::pin(until_dead(silent, Duration::from_secs(15), move || {
            let a = a.clone();
            async move { a.load(Ordering::SeqCst) }
        }));
        let first = tokio::time::timeout(Duration::from_secs(40), s.next()).await;
        assert!(first.is_err(), "alive: the stream stays open");
        alive.store(false, Ordering::SeqCst);
        let ended = tokio::time::timeout(Duration::from_secs(20), s.next()).await;
        assert_eq!(ended.ok(), Some(None), "dead: the stream ends");
    }
}
