//! Finding the Redis master through Sentinel, and noticing when it moves.
//!
//! The sentinels are asked `SENTINEL get-master-addr-by-name` at most once every
//! [`CHECK_EVERY`], on the way to a Redis call; a new address makes the caller drop its
//! connection and open one to the new master, and is published as a [`MasterMove`]. A failover
//! forced with `SENTINEL FAILOVER` leaves the old master answering (with data nobody writes any
//! more) for about ten seconds before it is demoted, so waiting for its connection to break
//! would show stale numbers as fresh: the address is checked instead.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Value};
use tokio::sync::{Mutex, watch};
use tracing::{info, warn};

use crate::clients::SourceError;

/// Longest the known master address is trusted without asking a sentinel.
pub const CHECK_EVERY: Duration = Duration::from_secs(1);

/// The master moved from one address to another.
#[derive(Debug, Clone, PartialEq)]
pub struct MasterMove {
    pub master: String,
    pub from: String,
    pub to: String,
    pub at: DateTime<Utc>,
}

impl MasterMove {
    /// One line for the error history and a toast.
    pub fn describe(&self) -> String {
        format!("Sentinel: master {} moved from {} to {}", self.master, self.from, self.to)
    }
}

#[derive(Default)]
struct State {
    /// The master's address as last reported, and when that was.
    current: Option<(String, u16)>,
    checked: Option<Instant>,
    /// An open connection to a sentinel (its index in `addrs`).
    conn: Option<(usize, MultiplexedConnection)>,
}

/// The sentinels of one monitored master.
pub struct Sentinel {
    addrs: Vec<String>,
    master: String,
    timeout: Duration,
    state: Mutex<State>,
    /// Bumped on every move; a subscription started on an older generation ends itself.
    generation: AtomicU64,
    moves: watch::Sender<Option<MasterMove>>,
}

impl Sentinel {
    pub fn new(addrs: Vec<String>, master: String, timeout: Duration) -> Sentinel {
        Sentinel {
            addrs,
            master,
            timeout,
            state: Mutex::new(State::default()),
            generation: AtomicU64::new(0),
            moves: watch::Sender::new(None),
        }
    }

    pub fn master_name(&self) -> &str {
        &self.master
    }

    /// Moves as they are noticed; the latest one is kept for a late subscriber.
    pub fn moves(&self) -> watch::Receiver<Option<MasterMove>> {
        self.moves.subscribe()
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The master's address: the one known if it was checked within [`CHECK_EVERY`], else what
    /// the first sentinel that answers says. When no sentinel answers, the last known address is
    /// kept (the master may still be there) unless none is known yet.
    pub async fn master(&self) -> Result<(String, u16), SourceError> {
        let mut state = self.state.lock().await;
        if let (Some(addr), Some(at)) = (&state.current, state.checked)
            && at.elapsed() < CHECK_EVERY
        {
            return Ok(addr.clone());
        }
        let asked = self.ask(&mut state).await;
        state.checked = Some(Instant::now());
        match asked {
            Ok(addr) => {
                if let Some(old) = state.current.as_ref().filter(|old| **old != addr) {
                    let moved = MasterMove {
                        master: self.master.clone(),
                        from: format!("{}:{}", old.0, old.1),
                        to: format!("{}:{}", addr.0, addr.1),
                        at: Utc::now(),
                    };
                    info!(from = %moved.from, to = %moved.to, "Redis master moved");
                    self.generation.fetch_add(1, Ordering::AcqRel);
                    self.moves.send_replace(Some(moved));
                }
                state.current = Some(addr.clone());
                Ok(addr)
            }
            Err(e) => match &state.current {
                Some(addr) => {
                    warn!(error = %e, "no sentinel answered; keeping the last known master");
                    Ok(addr.clone())
                }
                None => Err(e),
            },
        }
    }

    /// Ask the sentinels in turn, starting with the one last connected.
    async fn ask(&self, state: &mut State) -> Result<(String, u16), SourceError> {
        let mut errors = Vec::new();
        let first = state.conn.as_ref().map(|(i, _)| *i).unwrap_or(0);
        for k in 0..self.addrs.len() {
            let i = (first + k) % self.addrs.len();
            let conn = match state.conn.take() {
                Some((j, conn)) if j == i => conn,
                _ => match self.connect(i).await {
                    Ok(conn) => conn,
                    Err(e) => {
                        errors.push(format!("{}: {e}", self.addrs[i]));
                        continue;
                    }
                },
            };
            let mut c = conn.clone();
            let mut cmd = redis::cmd("SENTINEL");
            cmd.arg("get-master-addr-by-name").arg(&self.master);
            match tokio::time::timeout(self.timeout, cmd.query_async::<Value>(&mut c)).await {
                Ok(Ok(v)) => {
                    state.conn = Some((i, conn));
                    return parse_addr(&v).ok_or_else(|| {
                        SourceError::Server(format!(
                            "sentinel {} does not know a master named {:?}",
                            self.addrs[i], self.master
                        ))
                    });
                }
                Ok(Err(e)) => errors.push(format!("{}: {e}", self.addrs[i])),
                Err(_) => errors.push(format!("{}: no answer within {:?}", self.addrs[i], self.timeout)),
            }
        }
        Err(SourceError::Connect(format!("no sentinel answered ({})", errors.join("; "))))
    }

    async fn connect(&self, i: usize) -> Result<MultiplexedConnection, String> {
        let client = redis::Client::open(format!("redis://{}/", self.addrs[i])).map_err(|e| e.to_string())?;
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout));
        match tokio::time::timeout(self.timeout, client.get_multiplexed_async_connection_with_config(&config)).await {
            Ok(Ok(c)) => Ok(c),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {:?}", self.timeout)),
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
