//! Finding the Redis master through Sentinel, and noticing when it moves.
//!
//! The sentinels are asked at most once every [`CHECK_EVERY`], on the way to a Redis call (and
//! afresh before a write); a new address makes the caller drop its connection and open one to
//! the new master, and is published as a [`Notice`]. A failover forced with `SENTINEL FAILOVER`
//! leaves the old master answering (with data nobody writes any more) for about ten seconds
//! before it is demoted, so waiting for its connection to break would show stale numbers as
//! fresh: the address is checked instead.
//!
//! Each sentinel is asked, in one round trip, `SENTINEL get-master-addr-by-name` (the address,
//! as clients are meant to follow it) and `SENTINEL MASTER` (its configuration epoch). All are
//! asked at once; once one answers, the others get [`STRAGGLERS`] more, and the newest epoch
//! wins: right after a failover only its leader knows, and the first answer could name the old
//! master and flip back and forth. An older epoch than the one known moves nothing — unless every
//! answer has been older for [`EPOCH_RESET_AFTER`] (the sentinels were re-created).
//!
//! No call waits on a sentinel while an address is known: one caller asks and the others use
//! the known address meanwhile. A sentinel that is down or unreachable costs nothing but its own
//! timeout in that one question; when none answers, the last known master is kept and that is
//! said once, as a notice, until one answers again.

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
pub const STRAGGLERS: Duration = Duration::from_millis(100);

/// How long every answer must name an older configuration epoch than the known one before it
/// is believed (several Sentinel hello periods: the sentinels were re-created, not lagging).
pub const EPOCH_RESET_AFTER: Duration = Duration::from_secs(30);

/// Longest the known master address is trusted without asking a sentinel (two small questions
/// a second, to one sentinel's connection each, while the dashboard reads).
pub const CHECK_EVERY: Duration = Duration::from_millis(500);

/// Something about the sentinels an operator should know: the master moved, or no sentinel
/// answers (and the last known master is used), or they answer again.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub text: String,
    pub at: DateTime<Utc>,
    /// The data may now be elsewhere (the master moved, or the sentinels answer again): worth
    /// reading everything again at once.
    pub reread: bool,
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
    /// Since when every answer has named an older epoch.
    older_since: Option<Instant>,
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

    fn notify(&self, text: String, reread: bool) {
        self.notices.send_replace(Some(Notice { text, at: Utc::now(), reread }));
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
        let older = matches!(&asked, Ok(a) if a.epoch < st.epoch && st.current.is_some());
        if !older {
            st.older_since = None;
        }
        let believed = older && st.older_since.get_or_insert_with(Instant::now).elapsed() >= EPOCH_RESET_AFTER;
        match asked {
            Ok(_) if older && !believed => {
                st.unreachable = false;
                Ok(st.current.clone().unwrap_or_default())
            }
            Ok(Answer { addr, epoch }) => {
                st.epoch = epoch;
                st.older_since = None;
                if std::mem::take(&mut st.unreachable) {
                    self.notify(format!("Sentinel: the sentinels answer again (master {})", self.master), true);
                }
                if let Some(old) = st.current.as_ref().filter(|old| **old != addr) {
                    let (from, to) = (format!("{}:{}", old.0, old.1), format!("{}:{}", addr.0, addr.1));
                    info!(%from, %to, "Redis master moved");
                    self.generation.fetch_add(1, Ordering::AcqRel);
                    self.notify(format!("Sentinel: master {} moved from {from} to {to}", self.master), true);
                }
                st.current = Some(addr.clone());
                Ok(addr)
            }
            Err(e) => match st.current.clone() {
                Some(addr) => {
                    if !std::mem::replace(&mut st.unreachable, true) {
                        warn!(error = %e, "no sentinel answered; keeping the last known master");
                        let text = format!("Sentinel: still using the last known master {}:{}: {e}", addr.0, addr.1);
                        self.notify(text, false);
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
        let mut deadline = None;
        loop {
            let next = match deadline {
                None => pending.next().await,
                Some(at) => match tokio::time::timeout_at(at, pending.next()).await {
                    Ok(next) => next,
                    Err(_) => break,
                },
            };
            match next {
                None => break,
                Some(Ok(a)) => {
                    deadline.get_or_insert_with(|| tokio::time::Instant::now() + STRAGGLERS);
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
            let mut conn = {
                let mut slot = self.conns[i].lock().await;
                match slot.as_ref() {
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
                }
            };
            // One round trip: Sentinel answers both from the same state.
            let mut pipe = redis::pipe();
            pipe.cmd("SENTINEL").arg("get-master-addr-by-name").arg(&self.master);
            pipe.cmd("SENTINEL").arg("MASTER").arg(&self.master);
            pipe.query_async::<(Value, Value)>(&mut conn).await.map_err(|e| e.to_string())
        })
        .await;
        let answer = match asked {
            Ok(Ok((addr_reply, master_reply))) => {
                let epoch = parse_epoch(&master_reply);
                parse_addr(&addr_reply).map(|addr| Answer { addr, epoch })
            }
            Ok(Err(e)) if e.contains("No such master") => None,
            Ok(Err(e)) => {
                self.forget(i).await;
                return Err(format!("{addr}: {e}"));
            }
            Err(_) => {
                // A connection that timed out may be half-open: the next question connects anew.
                self.forget(i).await;
                return Err(format!("{addr}: no answer within {:?}", self.timeout));
            }
        };
        answer.ok_or_else(|| format!("{addr}: no master named {:?}", self.master))
    }

    async fn forget(&self, i: usize) {
        *self.conns[i].lock().await = None;
    }
}

/// One sentinel's view of the master: where it is, and the configuration epoch that says so.
#[derive(Debug, Clone, PartialEq)]
struct Answer {
    addr: (String, u16),
    epoch: u64,
}

/// `["127.0.0.1", "6379"]` as `get-master-addr-by-name` answers; nil when it does not know the
/// master.
fn parse_addr(v: &Value) -> Option<(String, u16)> {
    let Value::Array(items) = v else { return None };
    match items.as_slice() {
        [host, port] => Some((text(host)?, text(port)?.parse().ok()?)),
        _ => None,
    }
}

/// The `config-epoch` of `SENTINEL MASTER name`'s field/value list (0 when missing).
fn parse_epoch(v: &Value) -> u64 {
    let Value::Array(items) = v else { return 0 };
    items
        .chunks(2)
        .find(|p| text(&p[0]).as_deref() == Some("config-epoch"))
        .and_then(|p| text(p.get(1)?)?.parse().ok())
        .unwrap_or(0)
}

fn text(v: &Value) -> Option<String> {
    redis::from_redis_value_ref(v).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_epochs_parse_and_anything_else_is_unknown() {
        let b = |s: &str| Value::BulkString(s.as_bytes().to_vec());
        assert_eq!(parse_addr(&Value::Array(vec![b("10.0.0.5"), b("6380")])), Some(("10.0.0.5".into(), 6380)));
        assert_eq!(parse_addr(&Value::Nil), None);
        assert_eq!(parse_addr(&Value::Array(vec![b("h"), b("port")])), None);
        let master = Value::Array(vec![b("name"), b("mymaster"), b("ip"), b("10.0.0.4"), b("config-epoch"), b("3")]);
        assert_eq!(parse_epoch(&master), 3);
        assert_eq!(parse_epoch(&Value::Array(vec![b("config-epoch")])), 0, "an odd list");
        assert_eq!(parse_epoch(&Value::Nil), 0);
    }
}
