//! Keep a push subscription (Redis `{p}events`, Docker events) alive: connect, nudge the
//! pollers the item concerns, and every poller on every (re)connect — pushes sent while disconnected are lost —
//! report the state, and reconnect with backoff when the stream ends or fails.

use std::pin::Pin;

use chrono::Utc;
use futures_util::{Stream, StreamExt};
use tokio::sync::mpsc;

use super::{Feed, RuntimeOptions, SourceMsg, backoff};
use crate::clients::SourceError;
use crate::sources::BoxFuture;

/// A subscription's items: what changed (a job's id), when the push says.
pub type Pushes = Pin<Box<dyn Stream<Item = Option<String>> + Send>>;

pub async fn keep_subscribed<C, N>(feed: Feed, opts: RuntimeOptions, connect: C, nudge: N, tx: mpsc::Sender<SourceMsg>)
where
    C: Fn() -> BoxFuture<'static, Result<Pushes, SourceError>> + Send,
    N: Fn(Option<&str>) + Send,
{
    let state =
        |connected: bool, error: Option<String>| SourceMsg::PushState { feed, connected, error, at: Utc::now() };
    let mut failures = 0u32;
    loop {
        let error = match tokio::time::timeout(opts.timeout, connect()).await {
            Ok(Ok(mut pushes)) => {
                failures = 0;
                if tx.send(state(true, None)).await.is_err() {
                    return;
                }
                // Anything may have changed while no push could arrive.
                nudge(None);
                while let Some(changed) = pushes.next().await {
                    nudge(changed.as_deref());
                }
                "subscription lost".to_string()
            }
            Ok(Err(e)) => e.to_string(),
            Err(_) => SourceError::Timeout(opts.timeout).to_string(),
        };
        failures += 1;
        tracing::debug!(?feed, %error, failures, "push subscription down");
        if tx.send(state(false, Some(error))).await.is_err() {
            return;
        }
        tokio::time::sleep(backoff(failures, opts.interval)).await;
    }
}
