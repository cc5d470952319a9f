//! Configuration: the file (contexts, theme, keys), then the environment, then flags. Secrets are
//! references (`env:NAME`, `file:/path`) resolved at start and never printed.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use redis::IntoConnectionInfo;

use crate::domain::Secret;
use serde::Deserialize;

/// A configuration problem, always naming the key or file at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{key}: {message}")]
    Invalid { key: String, message: String },
}

fn invalid(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key: key.into(), message: message.into() }
}

/// The config file as written. Unknown keys are errors, so a typo never silently does nothing.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub default_context: Option<String>,
    pub theme: Option<String>,
    pub log_level: Option<String>,
    #[serde(default)]
    pub read_only: bool,
    /// Ages on screen move in steps of this many seconds (1–60; default 5). Fewer redraws of a
    /// screen full of ages: less traffic on a slow link. The clock still ticks every second.
    pub age_refresh_s: Option<u32>,
    /// Action name → keys, replacing that action's default keys.
    #[serde(default)]
    pub keys: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub contexts: BTreeMap<String, ContextConfig>,
}

/// One platform stack.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextConfig {
    pub redis_url: Option<String>,
    pub redis_password: Option<SecretRef>,
    #[serde(default = "default_prefix")]
    pub key_prefix: String,
    #[serde(default = "default_queues")]
    pub queues: Vec<String>,
    #[serde(default = "default_poll_ms")]
    pub poll_interval_ms: u64,
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    #[serde(default = "default_stall_s")]
    pub stall_after_s: u64,
    #[serde(default)]
    pub read_only: bool,
    pub theme: Option<String>,
    /// Docker or Podman API: `unix:///var/run/docker.sock`, a socket path, or `tcp://host:2375`.
    pub docker: Option<String>,
    pub prometheus_url: Option<String>,
    #[serde(default)]
    pub alertmanagers: Vec<AlertmanagerConfig>,
    #[serde(default)]
    pub services: Vec<ServiceConfig>,
    /// Labels alerts are grouped by.
    #[serde(default = "default_group_by")]
    pub alert_group_by: Vec<String>,
    /// Length of the silence an ack creates, in seconds.
    #[serde(default = "default_ack_s")]
    pub ack_duration_s: u64,
    /// The pgvector knowledge base and the embeddings APIs that search it.
    pub knowledge_base: Option<KnowledgeBaseConfig>,
}

/// The knowledge base (CONTRACT.md §3): where it is, its shape, and how queries are embedded.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnowledgeBaseConfig {
    /// `postgres://user@host:5432/db`; the password goes in `database_password`, by reference.
    pub database_url: String,
    pub database_password: Option<SecretRef>,
    /// The table, optionally schema-qualified (`kb.mcp_knowledge`).
    #[serde(default = "default_kb_table")]
    pub table: String,
    #[serde(default)]
    pub columns: KbColumns,
    #[serde(default = "default_top_k")]
    pub top_k: usize,
    /// Lowest cosine similarity (1 − distance) a hit needs.
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    /// What the embedder returns and the column holds.
    #[serde(default = "default_dimensions")]
    pub dimensions: usize,
    /// Put before every query text (nomic models want `search_query: `).
    #[serde(default = "default_query_prefix")]
    pub query_prefix: String,
    /// `hnsw.ef_search` for each query (pgvector's default is 40; it must be ≥ top_k).
    pub ef_search: Option<u32>,
    #[serde(default)]
    pub embeddings: EmbeddingsConfig,
}

pub use crate::clients::kb::KbColumns;

/// The embeddings APIs: LiteLLM's OpenAI-compatible one first, Ollama's as the fallback.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmbeddingsConfig {
    /// The LiteLLM proxy's base URL (`/v1/embeddings` is added).
    pub litellm_url: Option<String>,
    pub litellm_model: String,
    /// LiteLLM master or virtual key, by reference.
    pub litellm_key: Option<SecretRef>,
    /// Ollama's base URL (`/api/embed` is added).
    pub ollama_url: Option<String>,
    pub ollama_model: String,
    /// Upper bound on one embedding call, in ms (model loading can take seconds).
    pub timeout_ms: u64,
}

impl Default for EmbeddingsConfig {
    fn default() -> Self {
        EmbeddingsConfig {
            litellm_url: None,
            litellm_model: "nomic-embed-text".into(),
            litellm_key: None,
            ollama_url: None,
            ollama_model: "nomic-embed-text".into(),
            timeout_ms: 5000,
        }
    }
}

fn default_kb_table() -> String {
    "mcp_knowledge".into()
}
fn default_top_k() -> usize {
    5
}
fn default_threshold() -> f64 {
    0.7
}
fn default_dimensions() -> usize {
    768
}
fn default_query_prefix() -> String {
    "search_query: ".into()
}

/// One Alertmanager (list two for an HA pair; alerts are de-duplicated).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertmanagerConfig {
    pub name: String,
    pub url: String,
}

/// A service whose health URL is probed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    pub name: String,
    pub url: String,
    /// `gateway` (the AI gateway's per-component JSON) or `http` (any 2xx is up).
    #[serde(default = "default_kind")]
    pub kind: crate::clients::probe::ProbeKind,
    /// Bearer token, by reference.
    pub token: Option<SecretRef>,
}

fn default_kind() -> crate::clients::probe::ProbeKind {
    crate::clients::probe::ProbeKind::Http
}
fn default_group_by() -> Vec<String> {
    vec!["alertname".into()]
}
fn default_ack_s() -> u64 {
    3600
}

fn default_prefix() -> String {
    "mcp:".into()
}
fn default_queues() -> Vec<String> {
    vec!["analysis".into()]
}
fn default_poll_ms() -> u64 {
    1000
}
fn default_timeout_ms() -> u64 {
    2000
}
fn default_stall_s() -> u64 {
    120
}

impl Default for ContextConfig {
    fn default() -> Self {
        ContextConfig {
            redis_url: None,
            redis_password: None,
            key_prefix: default_prefix(),
            queues: default_queues(),
            poll_interval_ms: default_poll_ms(),
            timeout_ms: default_timeout_ms(),
            stall_after_s: default_stall_s(),
            read_only: false,
            theme: None,
            docker: None,
            prometheus_url: None,
            alertmanagers: vec![],
            services: vec![],
            alert_group_by: default_group_by(),
            ack_duration_s: default_ack_s(),
            knowledge_base: None,
        }
    }
}

impl ContextConfig {
    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms)
    }
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
    pub fn stall_after(&self) -> Duration {
        Duration::from_secs(self.stall_after_s)
    }
}

/// Where a secret lives. Literal secrets are refused: they end up in backups and screenshots.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum SecretRef {
    Env(String),
    File(PathBuf),
}

impl TryFrom<String> for SecretRef {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if let Some(name) = s.strip_prefix("env:").filter(|n| !n.is_empty()) {
            Ok(SecretRef::Env(name.to_string()))
        } else if let Some(path) = s.strip_prefix("file:").filter(|p| !p.is_empty()) {
            Ok(SecretRef::File(PathBuf::from(path)))
        } else {
            Err("a secret must be a reference, `env:NAME` or `file:/path`, never the value itself".into())
        }
    }
}

impl fmt::Debug for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretRef::Env(n) => write!(f, "env:{n}"),
            SecretRef::File(p) => write!(f, "file:{}", p.display()),
        }
    }
}

impl SecretRef {
    /// Read the secret. The error names the reference, never the value.
    pub fn resolve(&self, key: &str) -> Result<Secret, ConfigError> {
        match self {
            SecretRef::Env(name) => std::env::var(name)
                .map(Secret::new)
                .map_err(|_| invalid(key, format!("environment variable {name} is not set"))),
            SecretRef::File(path) => std::fs::read_to_string(path)
                .map(|s| Secret::new(s.trim_end_matches(['\n', '\r'])))
                .map_err(|e| invalid(key, format!("cannot read {}: {}", path.display(), e.kind()))),
        }
    }
}

/// Overrides from the command line and the environment.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub context: Option<String>,
    pub redis_url: Option<String>,
    pub theme: Option<String>,
    pub log_level: Option<String>,
    pub read_only: bool,
}

/// Everything resolved: the chosen context with its secrets read, and the UI choices.
#[derive(Debug, Clone)]
pub struct Settings {
    pub context_name: String,
    pub context: ContextConfig,
    pub redis_password: Option<Secret>,
    /// Resolved tokens of `context.services`, in the same order.
    pub service_tokens: Vec<Option<Secret>>,
    /// Resolved `knowledge_base.database_password` and `knowledge_base.embeddings.litellm_key`.
    pub kb_password: Option<Secret>,
    pub litellm_key: Option<Secret>,
    pub context_names: Vec<String>,
    pub theme: String,
    pub log_level: String,
    pub read_only: bool,
    pub keys: BTreeMap<String, Vec<String>>,
    pub age_refresh_s: u32,
}

/// The default config path: `$XDG_CONFIG_HOME/mcptop/config.toml`.
pub fn default_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("mcptop").join("config.toml"))
}

/// Parse a config file's text. `path` is only used in messages.
pub fn parse(text: &str, path: &Path) -> Result<FileConfig, ConfigError> {
    toml::from_str(text).map_err(|e| {
        // Only the message and position: toml's own display quotes the offending line, which
        // could hold a secret someone pasted in by mistake.
        let line = e.span().map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        let key = e.span().and_then(|s| key_at(text, s.start));
        let at = match (line, key) {
            (Some(l), Some(k)) => format!("line {l}, key {k}: "),
            (Some(l), None) => format!("line {l}: "),
            _ => String::new(),
        };
        ConfigError::Parse { path: path.to_path_buf(), message: format!("{at}{}", e.message()) }
    })
}

/// The key on the line holding byte `pos` of a TOML text (`redis_url = …` → `redis_url`).
fn key_at(text: &str, pos: usize) -> Option<String> {
    let start = text[..pos.min(text.len())].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line = text[start..].lines().next()?;
    let (key, _) = line.split_once('=')?;
    Some(key.trim().to_string()).filter(|k| !k.is_empty())
}

/// Read the file (explicit path, else the default one if it exists) and apply the overrides.
pub fn load(ov: &Overrides) -> Result<Settings, ConfigError> {
    let file = match (&ov.config, default_path()) {
        (Some(path), _) => {
            let text =
                std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.clone(), source })?;
            parse(&text, path)?
        }
        (None, Some(path)) if path.exists() => {
            let text =
                std::fs::read_to_string(&path).map_err(|source| ConfigError::Read { path: path.clone(), source })?;
            parse(&text, &path)?
        }
        _ => FileConfig::default(),
    };
    resolve(file, ov)
}

/// Choose the context and check every value that can be checked before connecting.
pub fn resolve(file: FileConfig, ov: &Overrides) -> Result<Settings, ConfigError> {
    let context_names: Vec<String> = file.contexts.keys().cloned().collect();
    let name = ov
        .context
        .clone()
        .or(file.default_context.clone())
        .or_else(|| context_names.first().cloned())
        .unwrap_or_else(|| "default".into());
    let mut context = match file.contexts.get(&name) {
        Some(c) => c.clone(),
        None if ov.redis_url.is_some() || file.contexts.is_empty() => ContextConfig::default(),
        None => {
            return Err(invalid(
                "--context",
                format!("no context named {name:?}; the config has {}", context_names.join(", ")),
            ));
        }
    };
    if let Some(url) = &ov.redis_url {
        context.redis_url = Some(url.clone());
    }
    let key = |k: &str| format!("contexts.{name}.{k}");
    if let Some(url) = &context.redis_url {
        let from = if ov.redis_url.is_some() { "--redis-url".to_string() } else { key("redis_url") };
        check_redis_url(url).map_err(|m| invalid(from, m))?;
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
    let mut service_tokens = Vec::new();
    for (i, svc) in context.services.iter().enumerate() {
        check_http_url(&svc.url).map_err(|m| invalid(key(&format!("services[{i}].url")), m))?;
        let token = match &svc.token {
            Some(r) => Some(r.resolve(&key(&format!("services[{i}].token")))?),
            None => None,
        };
        service_tokens.push(token);
    }
    if let Some(d) = &context.docker
        && !(d.starts_with("unix://") || d.starts_with("tcp://") || d.starts_with('/'))
    {
        return Err(invalid(key("docker"), "use unix:///path/to/docker.sock, /path/to/docker.sock or tcp://host:port"));
    }
    let redis_password = match &context.redis_password {
        Some(r) => Some(r.resolve(&key("redis_password"))?),
        None => None,
    };
    let (mut kb_password, mut litellm_key) = (None, None);
    if let Some(kb) = &context.knowledge_base {
        let key = |k: &str| key(&format!("knowledge_base.{k}"));
        check_knowledge_base(kb, &key)?;
        if let Some(r) = &kb.database_password {
            kb_password = Some(r.resolve(&key("database_password"))?);
        }
        if let Some(r) = &kb.embeddings.litellm_key {
            litellm_key = Some(r.resolve(&key("embeddings.litellm_key"))?);
        }
    }
    let log_level = ov.log_level.clone().or(file.log_level).unwrap_or_else(|| "info".into());
    if log_level.parse::<tracing::Level>().is_err() {
        return Err(invalid("log_level", format!("{log_level:?} is not one of error, warn, info, debug, trace")));
    }
    let theme = ov.theme.clone().or(context.theme.clone()).or(file.theme).unwrap_or_else(|| "default".into());
    let age_refresh_s = file.age_refresh_s.unwrap_or(5);
    if !(1..=60).contains(&age_refresh_s) {
        return Err(invalid("age_refresh_s", "must be between 1 and 60 (seconds)"));
    }
    Ok(Settings {
        read_only: ov.read_only || file.read_only || context.read_only,
        context_name: name,
        context,
        redis_password,
        service_tokens,
        kb_password,
        litellm_key,
        context_names,
        theme,
        log_level,
        keys: file.keys,
        age_refresh_s,
    })
}

/// Check everything about the knowledge base that can be checked without connecting. Table and
/// column names become SQL identifiers (values are always bound), so they must be plain names.
fn check_knowledge_base(kb: &KnowledgeBaseConfig, key: &dyn Fn(&str) -> String) -> Result<(), ConfigError> {
    let url = &kb.database_url;
    let rest = url.strip_prefix("postgres://").or_else(|| url.strip_prefix("postgresql://"));
    match rest {
        None => return Err(invalid(key("database_url"), "not a postgres:// or postgresql:// URL")),
        Some(r)
            if r.split(['/', '?'])
                .next()
                .unwrap_or_default()
                .rsplit_once('@')
                .is_some_and(|(u, _)| u.contains(':')) =>
        {
            return Err(invalid(
                key("database_url"),
                "holds a password: put it in database_password = \"env:NAME\" or \"file:/path\"",
            ));
        }
        Some(_) => {}
    }
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

/// A Redis URL must parse, use a Redis scheme and hold no password (that goes in
/// `redis_password`, by reference). The message never repeats the URL.
fn check_redis_url(url: &str) -> Result<(), String> {
    let scheme = url.split("://").next().unwrap_or_default();
    if !matches!(scheme, "redis" | "rediss" | "unix" | "redis+unix") || !url.contains("://") {
        return Err("not a Redis URL: it must start with redis://, rediss:// or unix://".into());
    }
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
        Some(r) if !r.is_empty() && !r.starts_with('/') && !r.contains(char::is_whitespace) => Ok(()),
        _ => Err("not an http:// or https:// URL".into()),
    }
}

/// A URL fit to show: the password, if any, replaced by `***`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..s + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<FileConfig, ConfigError> {
        parse(s, Path::new("test.toml"))
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = parse_str("[contexts.prod]\nredis_ulr = \"redis://x\"\n").err().map(|e| e.to_string());
        assert!(err.unwrap_or_default().contains("redis_ulr"));
    }

    #[test]
    fn malformed_url_names_the_key_and_hides_the_password() {
        let file = parse_str("[contexts.prod]\nredis_url = \"http://:hunter2@x\"\n");
        let err = file.and_then(|f| resolve(f, &Overrides::default())).err().map(|e| e.to_string());
        let err = err.unwrap_or_default();
        assert!(err.contains("contexts.prod.redis_url"), "{err}");
        assert!(!err.contains("hunter2"));
    }

    #[test]
    fn literal_secrets_are_refused_and_references_resolve() {
        let err = parse_str("[contexts.a]\nredis_password = \"hunter2\"\n").err().map(|e| e.to_string());
        let err = err.unwrap_or_default();
        assert!(err.contains("env:NAME") && !err.contains("hunter2"), "{err}");
        let dir = tempfile::tempdir().ok();
        let path = dir.as_ref().map(|d| d.path().join("pw")).unwrap_or_default();
        std::fs::write(&path, "s3cret\n").ok();
        let text = format!("[contexts.a]\nredis_password = \"file:{}\"\n", path.display());
        let settings = parse_str(&text).and_then(|f| resolve(f, &Overrides::default()));
        let pw = settings.ok().and_then(|s| s.redis_password);
        assert_eq!(pw.as_ref().map(Secret::expose), Some("s3cret"));
        assert_eq!(format!("{pw:?}"), "Some(Secret(***))");
    }

    #[test]
    fn flags_override_file_and_contexts_are_chosen() {
        let text = "default_context = \"b\"\ntheme = \"light\"\n[contexts.a]\nredis_url = \"redis://a:1\"\n[contexts.b]\nredis_url = \"redis://b:2\"\nread_only = true\n";
        let s = parse_str(text).and_then(|f| resolve(f, &Overrides::default())).ok();
        assert_eq!(s.as_ref().map(|s| s.context_name.as_str()), Some("b"));
        assert_eq!(s.as_ref().map(|s| s.read_only), Some(true));
        let ov = Overrides { context: Some("a".into()), theme: Some("mono".into()), ..Default::default() };
        let s = parse_str(text).and_then(|f| resolve(f, &ov)).ok();
        assert_eq!(s.as_ref().and_then(|s| s.context.redis_url.clone()).as_deref(), Some("redis://a:1"));
        assert_eq!(s.as_ref().map(|s| s.theme.as_str()), Some("mono"));
        let ov = Overrides { context: Some("zzz".into()), ..Default::default() };
        assert!(parse_str(text).and_then(|f| resolve(f, &ov)).is_err());
    }

    #[test]
    fn knowledge_base_names_are_identifiers_and_passwords_references() {
        let base = "[contexts.a.knowledge_base]\nembeddings = { ollama_url = \"http://o:11434\" }\n";
        let check = |extra: &str| {
            parse_str(&format!("{base}{extra}"))
                .and_then(|f| resolve(f, &Overrides::default()))
                .err()
                .map(|e| e.to_string())
        };
        assert_eq!(check("database_url = \"postgres://mcp@db:5432/mcp\"\n"), None);
        let err = check("database_url = \"postgres://mcp:hunter2@db/mcp\"\n").unwrap_or_default();
        assert!(
            err.contains("knowledge_base.database_url")
                && err.contains("database_password")
                && !err.contains("hunter2"),
            "{err}"
        );
        let err = check("database_url = \"postgres://db/mcp\"\ntable = \"kb; DROP TABLE x\"\n").unwrap_or_default();
        assert!(err.contains("contexts.a.knowledge_base.table"), "{err}");
        let err =
            check("database_url = \"postgres://db/mcp\"\ncolumns = { text = \"body text\" }\n").unwrap_or_default();
        assert!(err.contains("columns.text"), "{err}");
        assert_eq!(check("database_url = \"postgres://db/mcp\"\ntable = \"kb.mcp_knowledge\"\n"), None);
        let err = check("database_url = \"mysql://db/mcp\"\n").unwrap_or_default();
        assert!(err.contains("database_url"), "{err}");
        let err = parse_str("[contexts.a.knowledge_base]\ndatabase_url = \"postgres://db/x\"\n")
            .and_then(|f| resolve(f, &Overrides::default()))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("knowledge_base.embeddings"), "{err}");
    }

    #[test]
    fn numbers_out_of_range_name_their_key() {
        for (line, key) in [
            ("ack_duration_s = 18446744073709551615", "contexts.p.ack_duration_s"),
            ("timeout_ms = 0", "contexts.p.timeout_ms"),
            ("timeout_ms = 18446744073709551615", "contexts.p.timeout_ms"),
            ("poll_interval_ms = 10", "contexts.p.poll_interval_ms"),
            ("stall_after_s = 0", "contexts.p.stall_after_s"),
        ] {
            let err = parse_str(&format!("[contexts.p]\n{line}\n"))
                .and_then(|f| resolve(f, &Overrides::default()))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains(key) && err.contains("between"), "{line}: {err}");
        }
        let err = parse_str("age_refresh_s = 0\n").and_then(|f| resolve(f, &Overrides::default())).err();
        assert!(err.is_some_and(|e| e.to_string().contains("age_refresh_s")));
    }

    #[test]
    fn a_password_in_any_url_is_refused_naming_the_key() {
        let check = |toml: &str| {
            parse_str(toml)
                .and_then(|f| resolve(f, &Overrides::default()))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        for (toml, key) in [
            ("[contexts.p]\nredis_url = \"redis://:hunter2@h:6379/0\"\n", "contexts.p.redis_url"),
            ("[contexts.p]\nredis_url = \"redis://u:hunter2@h:6379/0\"\n", "contexts.p.redis_url"),
            ("[contexts.p]\nprometheus_url = \"http://u:hunter2@h:9090\"\n", "contexts.p.prometheus_url"),
            ("[[contexts.p.alertmanagers]]\nname = \"a\"\nurl = \"https://hunter2@h\"\n", "alertmanagers[0].url"),
            ("[[contexts.p.services]]\nname = \"g\"\nurl = \"http://x:hunter2@h/health\"\n", "services[0].url"),
        ] {
            let err = check(toml);
            assert!(err.contains(key) && !err.contains("hunter2"), "{err}");
        }
        let ov = Overrides { redis_url: Some("redis://:hunter2@h".into()), ..Default::default() };
        let err = resolve(FileConfig::default(), &ov).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("--redis-url") && !err.contains("hunter2"), "{err}");
        assert_eq!(check("[contexts.p]\nredis_url = \"redis://user@h:6379/0\"\n"), "", "a user name alone is fine");
    }

    #[test]
    fn redacts_url_passwords() {
        assert_eq!(redact_url("redis://user:pw@h:1/0"), "redis://user:***@h:1/0");
        assert_eq!(redact_url("redis://:pw@h:1"), "redis://:***@h:1");
        assert_eq!(redact_url("redis://h:1"), "redis://h:1");
    }
}
