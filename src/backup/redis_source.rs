//! The context's Redis as a backup reads it: the URL's server, the master the sentinels name,
//! or the cluster node that owns the key prefix's slot.

use super::archive;
use crate::domain::Secret;

/// The context's Redis.
#[derive(Debug, Clone)]
pub struct RedisSource {
    pub url: String,
    pub password: Option<Secret>,
    pub prefix: String,
    /// Sentinels (`host:port`) and the master's name, when Sentinel finds the master.
    pub sentinel: Option<(Vec<String>, String)>,
    /// `url` is a node of a Redis Cluster: the prefix's hash-tag slot decides the node.
    pub cluster: bool,
}

impl RedisSource {
    /// A plain server at `url`.
    pub fn at(url: &str, password: Option<Secret>, prefix: &str) -> RedisSource {
        RedisSource { url: url.into(), password, prefix: prefix.into(), sentinel: None, cluster: false }
    }

    /// The same source, pointed at the server that holds the keys now (see [`Self::current_url`]).
    pub fn resolved(&self, timeout: std::time::Duration) -> Result<RedisSource, String> {
        Ok(RedisSource { url: self.current_url(timeout)?, sentinel: None, cluster: false, ..self.clone() })
    }

    /// The URL of the server holding the keys now: the URL's, the master the sentinels name (the
    /// answer of the newest configuration epoch, as the dashboard follows it), or the cluster
    /// node that owns the prefix's slot (a hash-tagged prefix puts every key in one).
    pub fn current_url(&self, timeout: std::time::Duration) -> Result<String, String> {
        let timeout = timeout.max(std::time::Duration::from_secs(2));
        let with_addr = |host: &str, port: u16| -> Result<String, String> {
            let mut u = reqwest::Url::parse(&self.url).map_err(|_| "Redis URL: not a URL".to_string())?;
            // An IPv6 address comes bare from Sentinel and CLUSTER SLOTS.
            let host = if host.contains(':') && !host.starts_with('[') { format!("[{host}]") } else { host.into() };
            u.set_host(Some(&host)).map_err(|_| format!("Redis: {host} is not a host"))?;
            u.set_port(Some(port)).map_err(|_| "Redis URL: no port allowed".to_string())?;
            Ok(u.to_string())
        };
        if let Some((sentinels, master)) = &self.sentinel {
            let mut errors = Vec::new();
            let mut best: Option<(u64, String, u16)> = None;
            for s in sentinels {
                match ask_sentinel(s, master, timeout) {
                    Ok((host, port, epoch)) if best.as_ref().is_none_or(|b| epoch > b.0) => {
                        best = Some((epoch, host, port));
                    }
                    Ok(_) => {}
                    Err(e) => errors.push(format!("{s}: {e}")),
                }
            }
            let (_, host, port) = best.ok_or_else(|| format!("Redis: no sentinel answered ({})", errors.join("; ")))?;
            return with_addr(&host, port);
        }
        if self.cluster {
            let mut conn = archive::connect_to(&self.url, self.password.as_ref(), timeout)?;
            let slot: i64 = redis::cmd("CLUSTER")
                .arg("KEYSLOT")
                .arg(&self.prefix)
                .query(&mut conn)
                .map_err(|e| format!("Redis: {e}"))?;
            let slots: Vec<redis::Value> =
                redis::cmd("CLUSTER").arg("SLOTS").query(&mut conn).map_err(|e| format!("Redis: {e}"))?;
            let (host, port) =
                slot_owner(&slots, slot).ok_or_else(|| format!("Redis Cluster: no node owns slot {slot}"))?;
            // A node that does not know its own address answers an empty one: the node asked.
            if host.is_empty() || host == "?" {
                let u = reqwest::Url::parse(&self.url).map_err(|_| "Redis URL: not a URL".to_string())?;
                return with_addr(u.host_str().unwrap_or("127.0.0.1"), port);
            }
            return with_addr(&host, port);
        }
        Ok(self.url.clone())
    }
}

/// One sentinel's master address and configuration epoch, with timeouts on every step.
fn ask_sentinel(sentinel: &str, master: &str, timeout: std::time::Duration) -> Result<(String, u16, u64), String> {
    let client = redis::Client::open(format!("redis://{sentinel}/")).map_err(|e| e.to_string())?;
    let mut c = client.get_connection_with_timeout(timeout).map_err(|e| e.to_string())?;
    c.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    c.set_write_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    let mut pipe = redis::pipe();
    pipe.cmd("SENTINEL").arg("get-master-addr-by-name").arg(master);
    pipe.cmd("SENTINEL").arg("MASTER").arg(master);
    let (addr, info): (Option<(String, u16)>, Vec<String>) = pipe.query(&mut c).map_err(|e| e.to_string())?;
    let (host, port) = addr.ok_or_else(|| format!("no master named {master:?}"))?;
    let epoch = info.chunks(2).find(|p| p[0] == "config-epoch").and_then(|p| p.get(1)?.parse().ok()).unwrap_or(0);
    Ok((host, port, epoch))
}

/// The address of the node owning `slot` in a `CLUSTER SLOTS` answer.
fn slot_owner(slots: &[redis::Value], slot: i64) -> Option<(String, u16)> {
    use redis::{Value, from_redis_value_ref as read};
    slots.iter().find_map(|range| {
        let Value::Array(items) = range else { return None };
        let (lo, hi): (i64, i64) = (read(items.first()?).ok()?, read(items.get(1)?).ok()?);
        if !(lo..=hi).contains(&slot) {
            return None;
        }
        let Value::Array(node) = items.get(2)? else { return None };
        Some((read(node.first()?).ok()?, read(node.get(1)?).ok()?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slot_owner_is_found_and_ipv6_hosts_are_bracketed() {
        use redis::Value;
        let b = |s: &str| Value::BulkString(s.as_bytes().to_vec());
        let range = |lo, hi, host: &str, port| {
            Value::Array(vec![Value::Int(lo), Value::Int(hi), Value::Array(vec![b(host), Value::Int(port), b("id")])])
        };
        let slots = vec![range(0, 5460, "10.0.0.1", 7000), range(5461, 10922, "2001:db8::5", 7001)];
        assert_eq!(slot_owner(&slots, 6000), Some(("2001:db8::5".into(), 7001)));
        assert_eq!(slot_owner(&slots, 12000), None);
        assert_eq!(slot_owner(&[Value::Nil, Value::Int(3)], 1), None, "odd answers are unknown");

        let src = RedisSource::at("redis://u@10.9.9.9:6379/2", None, "{mcp}:");
        assert_eq!(
            src.current_url(std::time::Duration::from_secs(1)).ok().as_deref(),
            Some("redis://u@10.9.9.9:6379/2")
        );
        let mut u = reqwest::Url::parse("redis://u@10.9.9.9:6379/2").unwrap_or_else(|_| unreachable!());
        u.set_host(Some("[2001:db8::5]")).unwrap_or_else(|_| unreachable!());
        assert_eq!(u.as_str(), "redis://u@[2001:db8::5]:6379/2", "the user and db stay, the address is whole");
    }
}
