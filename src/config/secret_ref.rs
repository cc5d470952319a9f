//! Where a secret lives: `env:NAME` or `file:/path`, never the value itself.

use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;

use super::{ConfigError, ContextConfig, invalid};
use crate::domain::Secret;

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

/// The context's secrets, read from their references.
pub(super) struct Secrets {
    pub redis_password: Option<Secret>,
    pub service_tokens: Vec<Option<Secret>>,
    pub kb_password: Option<Secret>,
    pub litellm_key: Option<Secret>,
    pub gateway_token: Option<Secret>,
    pub zammad_token: Option<Secret>,
    pub ntfy_token: Option<Secret>,
    pub zabbix_tokens: Vec<Secret>,
    pub crowdsec_password: Option<Secret>,
    pub crowdsec_bouncer_key: Option<Secret>,
    pub backup_passwords: Vec<Option<Secret>>,
}

impl Secrets {
    pub fn resolve(name: &str, c: &ContextConfig) -> Result<Secrets, ConfigError> {
        let read =
            |r: &Option<SecretRef>, k: &str| r.as_ref().map(|r| r.resolve(&format!("contexts.{name}.{k}"))).transpose();
        let service_tokens = c
            .services
            .iter()
            .enumerate()
            .map(|(i, svc)| read(&svc.token, &format!("services[{i}].token")))
            .collect::<Result<_, _>>()?;
        let kb = c.knowledge_base.as_ref();
        Ok(Secrets {
            redis_password: read(&c.redis_password, "redis_password")?,
            service_tokens,
            kb_password: read(&kb.and_then(|k| k.database_password.clone()), "knowledge_base.database_password")?,
            litellm_key: read(
                &kb.and_then(|k| k.embeddings.litellm_key.clone()),
                "knowledge_base.embeddings.litellm_key",
            )?,
            gateway_token: read(&c.gateway_token, "gateway_token")?,
            zammad_token: read(&c.zammad.as_ref().and_then(|z| z.token.clone()), "zammad.token")?,
            ntfy_token: read(&c.ntfy.as_ref().and_then(|n| n.token.clone()), "ntfy.token")?,
            zabbix_tokens: c
                .zabbix
                .iter()
                .enumerate()
                .map(|(i, z)| z.token.resolve(&format!("contexts.{name}.zabbix[{i}].token")))
                .collect::<Result<_, _>>()?,
            crowdsec_password: read(&c.crowdsec.as_ref().and_then(|x| x.password.clone()), "crowdsec.password")?,
            crowdsec_bouncer_key: read(
                &c.crowdsec.as_ref().and_then(|x| x.bouncer_key.clone()),
                "crowdsec.bouncer_key",
            )?,
            backup_passwords: c
                .backup
                .as_ref()
                .and_then(|b| b.databases.as_ref())
                .map(|dbs| {
                    dbs.iter()
                        .enumerate()
                        .map(|(i, d)| read(&d.password, &format!("backup.databases[{i}].password")))
                        .collect::<Result<Vec<_>, _>>()
                })
                .transpose()?
                .unwrap_or_default(),
        })
    }
}

/// Shown as the reference (`env:NAME`), which is safe to print; never the value.
impl serde::Serialize for SecretRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{self:?}"))
    }
}
