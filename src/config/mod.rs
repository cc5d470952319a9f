//! Configuration: the file (contexts, theme, keys), then the environment, then flags. Secrets are
//! references (`env:NAME`, `file:/path`) resolved at start and never printed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::domain::Secret;

mod check;
mod monitors;
mod secret_ref;

pub use monitors::{CrowdSecConfig, ZabbixConfig};
use secret_ref::Secrets;
pub use secret_ref::{MAX_SECRET_BYTES, SecretRef};

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
    /// Ring the terminal bell once when a job newly awaits approval.
    #[serde(default)]
    pub bell: bool,
    /// `y` copies the selection's handle through OSC 52 (works over SSH and in tmux). On
    /// unless set to false, with or without a config file.
    pub yank: Option<bool>,
    /// Clicks focus panes and select rows, the wheel scrolls. Off by default: capturing the
    /// mouse breaks text selection in many terminals.
    #[serde(default)]
    pub mouse: bool,
    /// Lines a container log view keeps (100–1,000,000; default 10,000).
    pub log_lines: Option<usize>,
    /// Where actions are recorded (CONTRACT.md §5): a SQLite file by default.
    #[serde(default)]
    pub audit: AuditConfig,
    /// Action name → keys, replacing that action's default keys.
    #[serde(default)]
    pub keys: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub contexts: BTreeMap<String, ContextConfig>,
}

/// One platform stack.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ContextConfig {
    pub redis_url: Option<String>,
    pub redis_password: Option<SecretRef>,
    /// Sentinels (`host:port`) that know the master named `redis_master`; the master's address
    /// then comes from them, and `redis_url` (optional) gives only the user, password and db.
    #[serde(default)]
    pub redis_sentinels: Vec<String>,
    pub redis_master: Option<String>,
    /// `redis_url` is one node of a Redis Cluster; `key_prefix` must then carry a hash tag
    /// (`{mcp}:`) so each script's keys share a slot.
    #[serde(default)]
    pub redis_cluster: bool,
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
    /// A production stack: the header carries a badge in the theme's `alarm` role.
    #[serde(default)]
    pub production: bool,
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
    /// The AI gateway (CONTRACT.md §2); new analyses go through it when set, else to Redis.
    pub gateway_url: Option<String>,
    /// The gateway's bearer token, by reference.
    pub gateway_token: Option<SecretRef>,
    /// How long an identical analysis request is answered with the job already queued, in s.
    #[serde(default = "default_dedup_s")]
    pub dedup_window_s: u64,
    /// Where approved drafts become tickets.
    pub zammad: Option<ZammadConfig>,
    /// Where approvals are announced.
    pub ntfy: Option<NtfyConfig>,
    /// Backups of this context's data (CONTRACT.md §6).
    pub backup: Option<BackupConfig>,
    /// Zabbix servers whose problems join the Alerts pane.
    #[serde(default)]
    pub zabbix: Vec<ZabbixConfig>,
    /// CrowdSec's local API, whose alerts join the Alerts pane.
    pub crowdsec: Option<CrowdSecConfig>,
}

/// What a backup holds and where it goes.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct BackupConfig {
    /// Where archives go.
    pub dir: PathBuf,
    /// Retention: the newest N archives are kept (and, optionally, the newest of each of the
    /// last N days and weeks). Without any, nothing is pruned.
    pub keep_last: Option<usize>,
    pub keep_daily: Option<usize>,
    pub keep_weekly: Option<usize>,
    /// PostgreSQL databases (`pg_dump -Fc` each); by default the knowledge base's database.
    pub databases: Option<Vec<DatabaseConfig>>,
    /// The context's Redis keys under its prefix, as DUMP/RESTORE records.
    #[serde(default = "default_true")]
    pub redis: bool,
    /// Also a full RDB snapshot of the server (the replication protocol, as `redis-cli --rdb`).
    #[serde(default)]
    pub redis_rdb: bool,
    /// Directories to include (e.g. Docker volume directories), each as `files/<name>/`.
    #[serde(default)]
    pub paths: Vec<PathBuf>,
    pub pg_dump: Option<PathBuf>,
    pub pg_restore: Option<PathBuf>,
    /// pg_dump's gzip level (`-Z`, 0–9). 1 by default: about 2.5× faster than pg_dump's own
    /// default of 6 for about 12 % more bytes, and the archive is compressed again anyway.
    #[serde(default = "default_pg_dump_compress")]
    pub pg_dump_compress: u8,
    #[serde(default)]
    pub compression: crate::backup::Compression,
    /// The newest archive older than this many hours is a warning.
    pub max_age_h: Option<u64>,
}

/// A database to back up: a postgres:// URL without a password, and the password by reference.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    pub url: String,
    pub password: Option<SecretRef>,
}

fn default_true() -> bool {
    true
}

fn default_pg_dump_compress() -> u8 {
    1
}

/// Zammad's REST API (APIS.md §4).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ZammadConfig {
    pub url: String,
    /// The API access token (`Authorization: Token token=…`), by reference.
    pub token: Option<SecretRef>,
    /// The customer's e-mail for new tickets (`customer_id: "guess:<email>"`).
    pub customer: Option<String>,
    /// The group when a draft names none.
    #[serde(default = "default_group")]
    pub group: String,
}

/// ntfy's publish API (APIS.md §5).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct NtfyConfig {
    pub url: String,
    pub topic: String,
    /// An access token (`Authorization: Bearer tk_…`), by reference.
    pub token: Option<SecretRef>,
}

/// The audit store: a SQLite file (default `$XDG_DATA_HOME/mcptop/audit.sqlite3`), or a
/// PostgreSQL table when `database_url` is set.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    /// The SQLite file, instead of the default one.
    pub path: Option<PathBuf>,
    /// `postgres://user@host/db`: keep the log in PostgreSQL instead.
    pub database_url: Option<String>,
    pub database_password: Option<SecretRef>,
    /// The PostgreSQL table (created when missing).
    pub table: Option<String>,
}

fn default_dedup_s() -> u64 {
    600
}
fn default_group() -> String {
    "Users".into()
}

/// The knowledge base (CONTRACT.md §3): where it is, its shape, and how queries are embedded.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
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
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
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
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct AlertmanagerConfig {
    pub name: String,
    pub url: String,
}

/// A service whose health URL is probed.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
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
            redis_sentinels: vec![],
            redis_master: None,
            redis_cluster: false,
            key_prefix: default_prefix(),
            queues: default_queues(),
            poll_interval_ms: default_poll_ms(),
            timeout_ms: default_timeout_ms(),
            stall_after_s: default_stall_s(),
            read_only: false,
            production: false,
            theme: None,
            docker: None,
            prometheus_url: None,
            alertmanagers: vec![],
            services: vec![],
            alert_group_by: default_group_by(),
            ack_duration_s: default_ack_s(),
            knowledge_base: None,
            gateway_url: None,
            gateway_token: None,
            dedup_window_s: default_dedup_s(),
            zammad: None,
            ntfy: None,
            backup: None,
            zabbix: vec![],
            crowdsec: None,
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
    /// Resolved `gateway_token`, `zammad.token`, `ntfy.token` and `audit.database_password`.
    pub gateway_token: Option<Secret>,
    pub zammad_token: Option<Secret>,
    pub ntfy_token: Option<Secret>,
    /// Resolved `zabbix[i].token`, in order; `crowdsec.password` and `crowdsec.bouncer_key`.
    pub zabbix_tokens: Vec<Secret>,
    pub crowdsec_password: Option<Secret>,
    pub crowdsec_bouncer_key: Option<Secret>,
    pub audit_password: Option<Secret>,
    /// Resolved passwords of the backup's databases, in the order of `backup.databases`.
    pub backup_passwords: Vec<Option<Secret>>,
    pub audit: AuditConfig,
    pub bell: bool,
    pub yank: bool,
    pub mouse: bool,
    pub log_lines: usize,
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
    check::context(&name, &context, ov.redis_url.is_some())?;
    let secrets = Secrets::resolve(&name, &context)?;
    let log_level = ov.log_level.clone().or(file.log_level).unwrap_or_else(|| "info".into());
    if log_level.parse::<tracing::Level>().is_err() {
        return Err(invalid("log_level", format!("{log_level:?} is not one of error, warn, info, debug, trace")));
    }
    let theme = ov.theme.clone().or(context.theme.clone()).or(file.theme).unwrap_or_else(|| "default".into());
    check::audit(&file.audit)?;
    let audit_password =
        file.audit.database_password.as_ref().map(|r| r.resolve("audit.database_password")).transpose()?;
    let log_lines = file.log_lines.unwrap_or(10_000);
    if !(100..=1_000_000).contains(&log_lines) {
        return Err(invalid("log_lines", "must be between 100 and 1,000,000"));
    }
    let age_refresh_s = file.age_refresh_s.unwrap_or(5);
    if !(1..=60).contains(&age_refresh_s) {
        return Err(invalid("age_refresh_s", "must be between 1 and 60 (seconds)"));
    }
    Ok(Settings {
        read_only: ov.read_only || file.read_only || context.read_only,
        context_name: name,
        context,
        redis_password: secrets.redis_password,
        service_tokens: secrets.service_tokens,
        kb_password: secrets.kb_password,
        litellm_key: secrets.litellm_key,
        gateway_token: secrets.gateway_token,
        zammad_token: secrets.zammad_token,
        ntfy_token: secrets.ntfy_token,
        zabbix_tokens: secrets.zabbix_tokens,
        crowdsec_password: secrets.crowdsec_password,
        crowdsec_bouncer_key: secrets.crowdsec_bouncer_key,
        audit_password,
        backup_passwords: secrets.backup_passwords,
        audit: file.audit,
        bell: file.bell,
        yank: file.yank.unwrap_or(true),
        mouse: file.mouse,
        log_lines,
        context_names,
        theme,
        log_level,
        keys: file.keys,
        age_refresh_s,
    })
}

#[cfg(test)]
mod tests;
