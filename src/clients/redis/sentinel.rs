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

/// How long the other sentinels may still answer once one has.
const STRAGGLERS: Duration = Duration::from_millis(100);

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
    /// The configuration epoch of `current`: an answer from an older one (a sentinel that has
    /// not heard of the failover yet) never moves the master back.
    epoch: u64,
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
            Ok(Answer { epoch, .. }) if epoch < st.epoch && st.current.is_some() => {
                Ok(st.current.clone().unwrap_or_default())
            }
            Ok(Answer { addr, epoch }) => {
                st.epoch = epoch;
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

    /// Ask every sentinel at once. Sentinels learn a failover from its leader a moment apart,
    /// so for a little while some still name the old master: once one answers, the others get
    /// [`STRAGGLERS`] more, and the answer of the newest configuration epoch wins.
    async fn ask(&self) -> Result<Answer, SourceError> {
        let mut pending: FuturesUnordered<_> = (0..self.addrs.len()).map(|i| self.ask_one(i)).collect();
        let mut errors = Vec::new();
        let mut best: Option<Answer> = None;
        loop {
            let next = match best {
                None => pending.next().await,
                Some(_) => match tokio::time::timeout(STRAGGLERS, pending.next()).await {
                    Ok(next) => next,
                    Err(_) => break,
                },
            };
            match next {
                None => break,
                Some(Ok(a)) => {
                    if best.as_ref().is_none_or(|b| a.epoch > b.epoch) {
                        best = Some(a);
                    }
                }
                Some(Err(e)) => errors.push(e),
            }
        }
        best.ok_or_else(|| SourceError::Connect(format!("no sentinel answered ({})", errors.join("; "))))
    }

    /// One sentinel's answer, within the timeout (connecting included).
    async fn ask_one(&self, i: usize) -> Result<Answer, String> {
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
            cmd.arg("MASTER").arg(&self.master);
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
            Ok(Ok(v)) => parse_master(&v).ok_or_else(|| format!("{addr}: no master named {:?}", self.master)),
            Ok(Err(e)) if e.contains("No such master") => Err(format!("{addr}: no master named {:?}", self.master)),
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

/// One sentinel's view of the master: where it is, and the configuration epoch that says so.
#[derive(Debug, Clone, PartialEq)]
struct Answer {
    addr: (String, u16),
    epoch: u64,
}

/// `SENTINEL MASTER name`'s field/value list: `ip`, `port` and `config-epoch`.
fn parse_master(v: &Value) -> Option<Answer> {
    let Value::Array(items) = v else { return None };
    let text = |v: &Value| match v {
        Value::BulkString(b) => String::from_utf8(b.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        Value::Int(n) => Some(n.to_string()),
        _ => None,
    };
    let fields: Vec<String> = items.iter().map(|v| text(v).unwrap_or_default()).collect();
    let field = |k: &str| fields.chunks(2).find(|p| p[0] == k).and_then(|p| p.get(1));
    Some(Answer {
        addr: (field("ip")?.clone(), field("port")?.parse().ok()?),
        epoch: field("config-epoch").and_then(|e| e.parse().ok()).unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masters_parse_with_their_epoch_and_anything_else_is_none() {
        let b = |s: &str| Value::BulkString(s.as_bytes().to_vec());
        let v = Value::Array(vec![
            b("name"),
            b("mymaster"),
            b("ip"),
            b("10.0.0.5"),
            b("port"),
            b("6380"),
            b("config-epoch"),
            b("3"),
        ]);
        assert_eq!(parse_master(&v), Some(Answer { addr: ("10.0.0.5".into(), 6380), epoch: 3 }));
        assert_eq!(parse_master(&Value::Nil), None);
        assert_eq!(parse_master(&Value::Array(vec![b("ip"), b("h"), b("port"), b("x")])), None);
        assert_eq!(parse_master(&Value::Array(vec![b("ip")])), None, "an odd list");
    }
}
