//! How the client reaches Redis: one server, the master Sentinel names, or a Redis Cluster;
//! the connection kept and rebuilt, and every script run with a timeout.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, ConnectionAddr, Value};

use super::RedisClient;
use super::sentinel::Sentinel;
use crate::clients::SourceError;

/// A server's address as Sentinel gives it.
pub(super) type HostPort = (String, u16);

/// A connection to one server or to a Redis Cluster; scripts and pipelines run on either.
#[derive(Clone)]
pub(super) enum Conn {
    Single(MultiplexedConnection),
    Cluster(redis::cluster_async::ClusterConnection),
}

impl redis::aio::ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a redis::Cmd) -> redis::RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

/// Whether a key prefix carries a hash tag (`{mcp}:`): every key then hashes to one slot, as
/// the scripts that read or change several keys in one round trip need on a Redis Cluster.
pub fn hash_tagged(prefix: &str) -> bool {
    prefix.find('{').is_some_and(|open| prefix[open + 1..].find('}').is_some_and(|len| len > 0))
}

impl RedisClient {
    /// Find the master through these sentinels (`host:port`) instead of the URL's address; the
    /// URL still gives the user, password and database.
    pub fn with_sentinel(mut self, sentinels: Vec<String>, master: String) -> Self {
        self.sentinel = Some(Arc::new(Sentinel::new(sentinels, master, self.settings.timeout)));
        self
    }

    /// Talk to a Redis Cluster whose nodes are found from the URL's. The key prefix must carry a
    /// hash tag (see [`hash_tagged`]).
    pub fn with_cluster(mut self) -> Result<Self, SourceError> {
        if !hash_tagged(&self.settings.prefix) {
            return Err(SourceError::Connect(format!(
                "a Redis Cluster needs a hash-tagged key prefix such as \"{{mcp}}:\" (not {:?}): each one-round-trip script reads several keys, which must share a slot",
                self.settings.prefix
            )));
        }
        let cluster = redis::cluster::ClusterClient::builder(vec![self.info.clone()])
            .connection_timeout(self.settings.timeout)
            .response_timeout(self.settings.timeout)
            .retries(1)
            .build()
            .map_err(|e| SourceError::Connect(format!("Redis Cluster: {:?}", e.kind())))?;
        self.cluster = Some(cluster);
        Ok(self)
    }

    pub fn sentinel(&self) -> Option<&Arc<Sentinel>> {
        self.sentinel.as_ref()
    }

    /// The master's address when Sentinel finds it (`None` without Sentinel).
    pub(super) async fn master(&self) -> Result<Option<HostPort>, SourceError> {
        match &self.sentinel {
            Some(s) => Ok(Some(s.master().await?)),
            None => Ok(None),
        }
    }

    /// The client for a server: the URL's, or this Sentinel master's.
    pub(super) fn client_for(&self, master: &Option<HostPort>) -> Result<redis::Client, SourceError> {
        let info = match master {
            Some((host, port)) => self.info.clone().set_addr(ConnectionAddr::Tcp(host.clone(), *port)),
            None => self.info.clone(),
        };
        redis::Client::open(info).map_err(|e| SourceError::Connect(format!("{:?}", e.kind()).to_string()))
    }

    /// Before a write behind Sentinel: ask the sentinels now, whatever is known, so a write
    /// right after a failover goes to the new master (the old one takes writes for a few
    /// seconds more, and loses them when demoted). The next call then connects there.
    pub(super) async fn before_write(&self) -> Result<(), SourceError> {
        if let Some(s) = &self.sentinel {
            s.fresh_master().await?;
        }
        Ok(())
    }

    pub(super) async fn connection(&self) -> Result<Conn, SourceError> {
        if let Some(cluster) = &self.cluster {
            let mut guard = self.conn.lock().await;
            if let Some((conn, _)) = guard.as_ref() {
                return Ok(conn.clone());
            }
            let conn = tokio::time::timeout(self.settings.timeout, cluster.get_async_connection())
                .await
                .map_err(|_| SourceError::Timeout(self.settings.timeout))?
                .map_err(|e| self.server_error(e))?;
            let conn = Conn::Cluster(conn);
            *guard = Some((conn.clone(), None));
            return Ok(conn);
        }
        // Sentinel is asked before the lock, and answers at once while an address is known.
        let master = self.master().await?;
        let mut guard = self.conn.lock().await;
        if let Some((conn, to)) = guard.as_ref()
            && *to == master
        {
            return Ok(conn.clone());
        }
        let client = self.client_for(&master)?;
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.settings.timeout))
            .set_response_timeout(Some(self.settings.timeout));
        let conn =
            tokio::time::timeout(self.settings.timeout, client.get_multiplexed_async_connection_with_config(&config))
                .await
                .map_err(|_| SourceError::Timeout(self.settings.timeout))?
                .map_err(|e| self.server_error(e))?;
        let conn = Conn::Single(conn);
        *guard = Some((conn.clone(), master));
        Ok(conn)
    }

    /// Run one script with a timeout; on a connection failure drop the connection so the next
    /// call reconnects.
    pub(super) async fn invoke(&self, inv: redis::ScriptInvocation<'_>) -> Result<Value, SourceError> {
        let mut conn = self.connection().await?;
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        let result = tokio::time::timeout(self.settings.timeout, inv.invoke_async::<Value>(&mut conn)).await;
        let err = match result {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(e)) => self.server_error(e),
            Err(_) => SourceError::Timeout(self.settings.timeout),
        };
        if !matches!(err, SourceError::Server(_)) {
            *self.conn.lock().await = None;
        }
        Err(err)
    }
}
