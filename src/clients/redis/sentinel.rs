//! Finding the Redis master through Sentinel, and noticing when it moves.
//!
//! The sentinels are asked `SENTINEL get-master-addr-by-name` at most once every
//! [`CHECK_EVERY`], on the way to a Redis call; a new address makes the caller drop its
//! connection and open one to the new master, and is published as a [`Notice`]. A failover
//! forced with `SENTINEL FAILOVER` leaves the old master answering (with data nobody writes any
//! more) for about ten seconds before it is demoted, so waiting for its connection to break
//! would show stale numbers as fresh: the address is checked instead.
//!
//! No call waits on a sentinel while an address is known: one caller asks (all sentinels at
//! once, each within the timeout, the first answer wins) and the others use the known address
//! meanwhile. A sentinel that is down or unreachable therefore costs nothing but its own
//! timeout in that one background question; when none answers, the last known master is kept
//! and that is said once, as a notice, until one answers again.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Value};
use tokio::sync::watch;
use tracing::{info, warn};

use crate::clients::SourceError;

/// Longest the known master address is trusted without asking a sentinel (two small questions
/// a second, to one sentinel's connection each, while the dashboard reads).
pub const CHECK_EVERY: Duration = Duration::from_millis(500);

/// Something about the sentinels an operator should know: the master moved, or no sentinel
/// answers (and the last known master is used), or they answer again.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub text: String,
    pub at: DateTime<Utc>,
}

#[derive(Default)]
struct State {
    /// The master's address as last reported, and when a sentinel was last asked.
    current: Option<(String, u16)>,
    checked: Option<Instant>,
    /// A caller is asking the sentinels now.
    asking: bool,
    /// No sentinel answered the last question (said once, until one answers).
    unreachable: bool,
}

/// The sentinels of one monitored master.
pub struct Sentinel {
    addrs: Vec<String>,
    master: String,
    timeout: Duration,
    state: Mutex<State>,
    /// An open connection to each sentinel, made when first needed.
    conns: Vec<tokio::sync::Mutex<Option<MultiplexedConnection>>>,
    /// Bumped on every move; a subscription started on an older generation ends itself.
    generation: AtomicU64,
    notices: watch::Sender<Option<Notice>>,
}

/// Clears `asking` however the question ends, a cancelled caller included.
struct Asking<'a>(&'a Mutex<State>);

impl Drop for Asking<'_> {
    fn drop(&mut self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).asking = false;
    }
}

impl Sentinel {
    pub fn new(addrs: Vec<String>, master: String, timeout: Duration) -> Sentinel {
        let conns = addrs.iter().map(|_| tokio::sync::Mutex::new(None)).collect();
        Sentinel {
            addrs,
            master,
            timeout,
            state: Mutex::new(State::default()),
            conns,
            generation: AtomicU64::new(0),
            notices: watch::Sender::new(None),
        }
    }

    pub fn master_name(&self) -> &str {
        &self.master
    }

    /// Notices as they happen; the latest one is kept for a late subscriber.
    pub fn notices(&self) -> watch::Receiver<Option<Notice>> {
        self.notices.subscribe()
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn notify(&self, text: String) {
        self.notices.send_replace(Some(Notice { text, at: Utc::now() }));
    }

    /// The master's address: the one known if it was checked within [`CHECK_EVERY`] or while
    /// another caller asks, else what the first sentinel to answer says.
    pub async fn master(&self) -> Result<(String, u16), SourceError> {
        self.lookup(false).await
    }

    /// The master's address as the sentinels say now, known or not (before a write: for a few
    /// seconds after a failover the old master still takes writes that will be lost).
    pub async fn fresh_master(&self) -> Result<(String, u16), SourceError> {
        self.lookup(true).await
    }

    async fn lookup(&self, fresh: bool) -> Result<(String, u16), SourceError> {
        let _asking = {
            let mut st = self.state();
            if let Some(addr) = &st.current {
                let recent = st.checked.is_some_and(|at| at.elapsed() < CHECK_EVERY);
                if !fresh && (recent || st.asking) {
                    return Ok(addr.clone());
                }
            }
            st.asking = true;
            Asking(&self.state)
        };
        let asked = self.ask().await;
        let mut st = self.state();
        st.checked = Some(Instant::now());
        match asked {
            Ok(addr) => {
                if std::mem::take(&mut st.unreachable) {
                    self.notify(format!("Sentinel: the sentinels answer again (master {})", self.master));
                }
                if let Some(old) = st.current.as_ref().filter(|old| **old != addr) {
                    let (from, to) = (format!("{}:{}", old.0, old.1), format!("{}:{}", addr.0, addr.1));
                    info!(%from, %to, "Redis master moved");
                    self.generation.fetch_add(1, Ordering::AcqRel);
                    self.notify(format!("Sentinel: master {} moved from {from} to {to}", self.master));
                }
                st.current = Some(addr.clone());
                Ok(addr)
            }
            Err(e) => match st.current.clone() {
                Some(addr) => {
                    if !std::mem::replace(&mut st.unreachable, true) {
                        warn!(error = %e, "no sentinel answered; keeping the last known master");
                        self.notify(format!("Sentinel: still using the last known master {}:{}: {e}", addr.0, addr.1));
                    }
                    Ok(addr)
                }
                None => Err(e),
            },
        }
    }

    /// Ask every sentinel at once; the first answer wins.
    async fn ask(&self) -> Result<(String, u16), SourceError> {
        let mut pending: FuturesUnordered<_> = (0..self.addrs.len()).map(|i| self.ask_one(i)).collect();
        let mut errors = Vec::new();
        while let Some(result) = pending.next().await {
            match result {
                Ok(addr) => return Ok(addr),
                Err(e) => errors.push(e),
            }
        }
        Err(SourceError::Connect(format!("no sentinel answered ({})", errors.join("; "))))
    }

    /// One sentinel's answer, within the timeout (connecting included).
    async fn ask_one(&self, i: usize) -> Result<(String, u16), String> {
        let addr = &self.addrs[i];
        let asked = tokio::time::timeout(self.timeout, async {
            let mut slot = self.conns[i].lock().await;
            let mut conn = match slot.as_ref() {
                Some(c) => c.clone(),
                None => {
                    let client = redis::Client::open(format!("redis://{addr}/")).map_err(|e| e.to_string())?;
                    let config = AsyncConnectionConfig::new()
                        .set_connection_timeout(Some(self.timeout))
                        .set_response_timeout(Some(self.timeout));
                    let c = client
                        .get_multiplexed_async_connection_with_config(&config)
                        .await
                        .map_err(|e| e.to_string())?;
                    *slot = Some(c.clone());
                    c
                }
            };
            let mut cmd = redis::cmd("SENTINEL");
            cmd.arg("get-master-addr-by-name").arg(&self.master);
            match cmd.query_async::<Value>(&mut conn).await {
                Ok(v) => Ok(v),
                Err(e) => {
                    *slot = None;
                    Err(e.to_string())
                }
            }
        })
        .await;
        match asked {
            Ok(Ok(v)) => {
                parse_addr(&v).ok_or_else(|| format!("{addr}: does not know a master named {:?}", self.master))
            }
            Ok(Err(e)) => Err(format!("{addr}: {e}")),
            Err(_) => {
                // A connection that timed out may be half-open: the next question connects anew.
                if let Ok(mut slot) = self.conns[i].try_lock() {
                    *slot = None;
                }
                Err(format!("{addr}: no answer within {:?}", self.timeout))
            }
        }
    }
}

/// `["127.0.0.1", "6379"]` as a sentinel answers; nil when it does not know the master.
fn parse_addr(v: &Value) -> Option<(String, u16)> {
    let Value::Array(items) = v else { return None };
    let text = |v: &Value| match v {
        Value::BulkString(b) => String::from_utf8(b.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    };
    match items.as_slice() {
        [host, port] => Some((text(host)?, text(port)?.parse().ok()?)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_and_anything_else_is_none() {
        let v = Value::Array(vec![Value::BulkString(b"10.0.0.5".to_vec()), Value::BulkString(b"6380".to_vec())]);
        assert_eq!(parse_addr(&v), Some(("10.0.0.5".into(), 6380)));
        assert_eq!(parse_addr(&Value::Nil), None);
        let bad = Value::Array(vec![Value::BulkString(b"h".to_vec()), Value::BulkString(b"port".to_vec())]);
        assert_eq!(parse_addr(&bad), None);
    }
}
