//! Checks of everything in a config that can be checked before connecting. Messages never
//! repeat a URL (it may hold credentials).

use redis::IntoConnectionInfo;

use super::{ConfigError, ContextConfig, KnowledgeBaseConfig, invalid};

/// A sentinel's address: `host:port` (a name or an IPv4 address) or `[IPv6]:port`, nothing
/// else. The message never repeats the value: `user:password@host` would print the password.
fn check_sentinel(addr: &str) -> Result<(), &'static str> {
    if addr.contains('@') {
        return Err(
            "credentials do not go in a sentinel's address (sentinels with a password are not supported yet); use host:port",
        );
    }
    let (host, port) = addr.rsplit_once(':').ok_or("use host:port")?;
    port.parse::<u16>().map_err(|_| "use host:port (the port a number)")?;
    let host_ok = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
        None => {
            !host.is_empty()
                && host.split('.').all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        }
    };
    if host_ok { Ok(()) } else { Err("use host:port, or [IPv6]:port") }
}

/// Every value of a context that can be checked before connecting, each error naming its key.
pub(super) fn context(name: &str, context: &ContextConfig, redis_url_from_flag: bool) -> Result<(), ConfigError> {
    let key = |k: &str| format!("contexts.{name}.{k}");
    if let Some(url) = &context.redis_url {
        let from = if redis_url_from_flag { "--redis-url".to_string() } else { key("redis_url") };
        check_redis_url(url).map_err(|m| invalid(from, m))?;
    }
    match (context.redis_sentinels.is_empty(), &context.redis_master) {
        (true, None) => {}
        (false, Some(m)) if !m.trim().is_empty() => {
            for (i, addr) in context.redis_sentinels.iter().enumerate() {
                check_sentinel(addr).map_err(|m| invalid(key(&format!("redis_sentinels[{i}]")), m))?;
            }
        }
        (false, _) => return Err(invalid(key("redis_master"), "name the master the sentinels monitor")),
        (true, Some(_)) => {
            return Err(invalid(key("redis_sentinels"), "list the sentinels (host:port) that know redis_master"));
        }
    }
    if context.redis_cluster {
        if context.redis_url.is_none() {
            return Err(invalid(key("redis_cluster"), "name one of the cluster's nodes in redis_url"));
        }
        if !context.redis_sentinels.is_empty() {
            return Err(invalid(key("redis_cluster"), "a Redis Cluster has no sentinels: use one or the other"));
        }
        if !crate::clients::redis::hash_tagged(&context.key_prefix) {
            return Err(invalid(
                key("key_prefix"),
                format!(
                    "{:?} has no hash tag, which a Redis Cluster needs: use e.g. \"{{mcp}}:\" (with the braces), so the keys each one-round-trip script reads share a slot",
                    context.key_prefix
                ),
            ));
        }
    }
    if context.queues.is_empty() || context.queues.iter().any(|q| q.trim().is_empty()) {
        return Err(invalid(key("queues"), "list at least one queue name, none empty"));
    }
    // Every number is bounded, so none can overflow a duration or a timestamp later.
    for (name, value, range) in [
        ("poll_interval_ms", context.poll_interval_ms, 100..=3_600_000),
        ("timeout_ms", context.timeout_ms, 1..=600_000),
        ("stall_after_s", context.stall_after_s, 1..=7 * 86_400),
        ("ack_duration_s", context.ack_duration_s, 60..=366 * 86_400),
    ] {
        if !range.contains(&value) {
            return Err(invalid(key(name), format!("must be between {} and {}", range.start(), range.end())));
        }
    }
    if let Some(url) = &context.prometheus_url {
        check_http_url(url).map_err(|m| invalid(key("prometheus_url"), m))?;
    }
    for (i, am) in context.alertmanagers.iter().enumerate() {
        check_http_url(&am.url).map_err(|m| invalid(key(&format!("alertmanagers[{i}].url")), m))?;
    }
    for (i, svc) in context.services.iter().enumerate() {
        check_http_url(&svc.url).map_err(|m| invalid(key(&format!("services[{i}].url")), m))?;
    }
    if let Some(d) = &context.docker
        && !(d.starts_with("unix://") || d.starts_with("tcp://") || d.starts_with('/'))
    {
        return Err(invalid(key("docker"), "use unix:///path/to/docker.sock, /path/to/docker.sock or tcp://host:port"));
    }
    if !(1..=86_400).contains(&context.dedup_window_s) {
        return Err(invalid(key("dedup_window_s"), "must be between 1 and 86400"));
    }
    if let Some(url) = &context.gateway_url {
        check_http_url(url).map_err(|m| invalid(key("gateway_url"), m))?;
    }
    if let Some(z) = &context.zammad {
        check_http_url(&z.url).map_err(|m| invalid(key("zammad.url"), m))?;
        if z.group.trim().is_empty() {
            return Err(invalid(key("zammad.group"), "must not be empty"));
        }
    }
    if let Some(n) = &context.ntfy {
        check_http_url(&n.url).map_err(|m| invalid(key("ntfy.url"), m))?;
        let topic_ok = !n.topic.is_empty()
            && n.topic.len() <= 64
            && n.topic.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !topic_ok {
            return Err(invalid(key("ntfy.topic"), "1–64 letters, digits, - or _"));
        }
    }
    for (i, z) in context.zabbix.iter().enumerate() {
        check_http_url(&z.url).map_err(|m| invalid(key(&format!("zabbix[{i}].url")), m))?;
    }
    // Alerts are told apart, kept when their source fails and acknowledged by source name.
    let mut names: Vec<(&str, String)> = context
        .alertmanagers
        .iter()
        .enumerate()
        .map(|(i, a)| (a.name.as_str(), format!("alertmanagers[{i}].name")))
        .chain(context.zabbix.iter().enumerate().map(|(i, z)| (z.name.as_str(), format!("zabbix[{i}].name"))))
        .collect();
    if context.crowdsec.is_some() {
        names.push(("crowdsec", "crowdsec".into()));
    }
    for (i, (name, at)) in names.iter().enumerate() {
        if let Some((_, first)) = names[..i].iter().find(|(n, _)| n == name) {
            return Err(invalid(
                key(at),
                format!("the alert source name {name:?} is taken by {first}: give each a name of its own"),
            ));
        }
    }
    if let Some(cs) = &context.crowdsec {
        check_http_url(&cs.url).map_err(|m| invalid(key("crowdsec.url"), m))?;
        match (&cs.machine_id, &cs.password, &cs.bouncer_key) {
            (Some(_), Some(_), _) | (None, None, Some(_)) => {}
            _ => {
                return Err(invalid(
                    key("crowdsec"),
                    "give machine_id and password (alerts and decisions), or bouncer_key (decisions only)",
                ));
            }
        }
    }
    if let Some(b) = &context.backup {
        for (i, d) in b.databases.iter().flatten().enumerate() {
            check_postgres_url(&d.url).map_err(|m| invalid(key(&format!("backup.databases[{i}].url")), m))?;
        }
        if b.dir.as_os_str().is_empty() {
            return Err(invalid(key("backup.dir"), "must name a directory"));
        }
        for (name, value) in [("keep_last", b.keep_last), ("keep_daily", b.keep_daily), ("keep_weekly", b.keep_weekly)]
        {
            if value == Some(0) {
                return Err(invalid(key(&format!("backup.{name}")), "must be at least 1 (omit it to keep everything)"));
            }
        }
        if b.pg_dump_compress > 9 {
            return Err(invalid(key("backup.pg_dump_compress"), "a gzip level from 0 (none) to 9"));
        }
    }
    if let Some(kb) = &context.knowledge_base {
        check_knowledge_base(kb, &|k: &str| key(&format!("knowledge_base.{k}")))?;
    }
    Ok(())
}

/// The audit store's PostgreSQL URL and table, when set.
pub(super) fn audit(a: &super::AuditConfig) -> Result<(), ConfigError> {
    if let Some(url) = &a.database_url {
        check_postgres_url(url).map_err(|m| invalid("audit.database_url", m))?;
    }
    if let Some(t) = &a.table
        && !(t.split('.').count() <= 2 && t.split('.').all(is_identifier))
    {
        return Err(invalid("audit.table", "must be a plain table name, optionally schema.table (letters, digits, _)"));
    }
    Ok(())
}

/// A postgres:// URL without a password in it.
fn check_postgres_url(url: &str) -> Result<(), String> {
    let rest = url.strip_prefix("postgres://").or_else(|| url.strip_prefix("postgresql://"));
    match rest {
        None => Err("not a postgres:// or postgresql:// URL".into()),
        Some(r)
            if r.split(['/', '?'])
                .next()
                .unwrap_or_default()
                .rsplit_once('@')
                .is_some_and(|(u, _)| u.contains(':')) =>
        {
            Err("holds a password: put it in database_password = \"env:NAME\" or \"file:/path\"".into())
        }
        Some(_) => refuse_secret_param(url),
    }
}

/// Check everything about the knowledge base that can be checked without connecting. Table and
/// column names become SQL identifiers (values are always bound), so they must be plain names.
fn check_knowledge_base(kb: &KnowledgeBaseConfig, key: &dyn Fn(&str) -> String) -> Result<(), ConfigError> {
    check_postgres_url(&kb.database_url).map_err(|m| invalid(key("database_url"), m))?;
    let table_ok = kb.table.split('.').count() <= 2 && kb.table.split('.').all(is_identifier);
    if !table_ok {
        return Err(invalid(key("table"), "must be a plain table name, optionally schema.table (letters, digits, _)"));
    }
    let c = &kb.columns;
    for (name, value) in [("id", &c.id), ("embedding", &c.embedding), ("text", &c.text), ("metadata", &c.metadata)] {
        if !is_identifier(value) {
            return Err(invalid(key(&format!("columns.{name}")), "must be a plain column name (letters, digits, _)"));
        }
    }
    if !(1..=1000).contains(&kb.top_k) {
        return Err(invalid(key("top_k"), "must be between 1 and 1000"));
    }
    if !(-1.0..=1.0).contains(&kb.threshold) {
        return Err(invalid(key("threshold"), "must be a cosine similarity between -1 and 1"));
    }
    if !(1..=16_000).contains(&kb.dimensions) {
        return Err(invalid(key("dimensions"), "must be between 1 and 16000 (pgvector's limit)"));
    }
    let e = &kb.embeddings;
    if e.litellm_url.is_none() && e.ollama_url.is_none() {
        return Err(invalid(key("embeddings"), "set litellm_url, ollama_url, or both"));
    }
    for (name, url) in [("litellm_url", &e.litellm_url), ("ollama_url", &e.ollama_url)] {
        if let Some(u) = url {
            check_http_url(u).map_err(|m| invalid(key(&format!("embeddings.{name}")), m))?;
        }
    }
    if !(1..=600_000).contains(&e.timeout_ms) {
        return Err(invalid(key("embeddings.timeout_ms"), "must be between 1 and 600000"));
    }
    if kb.ef_search.is_some_and(|ef| !(1..=1000).contains(&ef)) {
        return Err(invalid(key("ef_search"), "must be between 1 and 1000 (pgvector's limit)"));
    }
    Ok(())
}

/// A plain SQL identifier: a letter or `_`, then letters, digits or `_`, at most 63 bytes.
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.len() <= 63
}

/// Query parameters that carry credentials (`?password=`, `?token=`): refused in every URL.
const SECRET_PARAMS: [&str; 11] =
    ["password", "passwd", "pass", "pwd", "token", "access_token", "api_key", "apikey", "key", "secret", "auth"];

/// The name of a query parameter of `url` that would carry a credential, if any.
fn secret_param(url: &str) -> Option<&'static str> {
    let query = url.split_once('?')?.1.split('#').next().unwrap_or_default();
    query
        .split('&')
        .filter_map(|p| p.split('=').next())
        .find_map(|name| SECRET_PARAMS.iter().find(|s| s.eq_ignore_ascii_case(name)).copied())
}

fn refuse_secret_param(url: &str) -> Result<(), String> {
    match secret_param(url) {
        Some(p) => Err(format!("carries a credential in its query (?{p}=): give it by reference in its own setting")),
        None => Ok(()),
    }
}

/// A Redis URL must parse, use a Redis scheme and hold no password (that goes in
/// `redis_password`, by reference). The message never repeats the URL.
fn check_redis_url(url: &str) -> Result<(), String> {
    let scheme = url.split("://").next().unwrap_or_default();
    if !matches!(scheme, "redis" | "rediss" | "unix" | "redis+unix") || !url.contains("://") {
        return Err("not a Redis URL: it must start with redis://, rediss:// or unix://".into());
    }
    refuse_secret_param(url)?;
    let info = url.into_connection_info().map_err(|e| format!("invalid URL: {:?}", e.kind()))?;
    if info.redis_settings().password().is_some() {
        return Err("holds a password: put it in redis_password = \"env:NAME\" or \"file:/path\"".into());
    }
    Ok(())
}

/// An HTTP(S) URL with no credentials in it (a token goes in a `token`/`…_key` setting, by
/// reference). The message never repeats the URL.
fn check_http_url(url: &str) -> Result<(), String> {
    let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"));
    match rest {
        Some(r) if r.split(['/', '?', '#']).next().unwrap_or_default().contains('@') => {
            Err("holds credentials (user:password@): give a token by reference in its own setting instead".into())
        }
        Some(r) if !r.is_empty() && !r.starts_with('/') && !r.contains(char::is_whitespace) => refuse_secret_param(url),
        _ => Err("not an http:// or https:// URL".into()),
    }
}
