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

/// Longest secret read (a PEM key or a JWT fits many times over).
pub const MAX_SECRET_BYTES: usize = 64 * 1024;

/// Longest a secret file may take to read (a hung network mount, a pipe nobody writes to).
pub const SECRET_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

impl SecretRef {
    /// Read the secret: at most [`MAX_SECRET_BYTES`], within [`SECRET_READ_TIMEOUT`], from a
    /// regular file or a pipe (`<(pass show x)`), never a device. The error names the config key
    /// and the reference, never the value.
    pub fn resolve(&self, key: &str) -> Result<Secret, ConfigError> {
        let value = match self {
            SecretRef::Env(name) => match std::env::var_os(name) {
                None => return Err(invalid(key, format!("environment variable {name} is not set"))),
                Some(v) => {
                    v.into_string().map_err(|_| invalid(key, format!("environment variable {name} is not UTF-8")))?
                }
            },
            SecretRef::File(path) => {
                read_bounded(path.clone()).map_err(|why| invalid(key, format!("{}: {why}", path.display())))?
            }
        };
        let value = value.trim_end_matches(['\n', '\r']);
        if value.is_empty() {
            return Err(invalid(key, format!("{self:?} is empty")));
        }
        if value.len() > MAX_SECRET_BYTES {
            return Err(invalid(key, format!("{self:?} is longer than {MAX_SECRET_BYTES} bytes")));
        }
        Ok(Secret::new(value))
    }
}

/// A secret file's text, read on a thread of its own so that nothing can hold up the caller
/// longer than [`SECRET_READ_TIMEOUT`] (the thread of a read that hangs is left behind; what it
/// may read is bounded).
fn read_bounded(path: PathBuf) -> Result<String, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(read_file(&path));
    });
    match rx.recv_timeout(SECRET_READ_TIMEOUT) {
        Ok(r) => r,
        Err(_) => Err(format!(
            "no answer within {} s (a pipe nobody writes to, a hung mount?)",
            SECRET_READ_TIMEOUT.as_secs()
        )),
    }
}

fn read_file(path: &std::path::Path) -> Result<String, String> {
    use std::io::Read;
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    // Not blocking on open: a pipe without a writer would wait for one.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| format!("cannot read it: {}", e.kind()))?;
    let kind = file.metadata().map_err(|e| format!("cannot read it: {}", e.kind()))?.file_type();
    if kind.is_fifo() {
        // Blocking reads from here on (bounded by the caller's timeout).
        // SAFETY: F_GETFL/F_SETFL on a descriptor this function owns.
        unsafe {
            use std::os::fd::AsRawFd;
            let fd = file.as_raw_fd();
            let flags = libc::fcntl(fd, libc::F_GETFL);
            if flags >= 0 {
                libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
            }
        }
    } else if !kind.is_file() {
        let what = if kind.is_char_device() || kind.is_block_device() {
            "a device"
        } else if kind.is_dir() {
            "a directory"
        } else {
            "not a regular file"
        };
        return Err(format!("is {what}, not a file holding the secret"));
    }
    let mut buf = Vec::new();
    file.take(MAX_SECRET_BYTES as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("cannot read it: {}", e.kind()))?;
    if buf.len() > MAX_SECRET_BYTES {
        return Err(format!("is larger than {MAX_SECRET_BYTES} bytes"));
    }
    String::from_utf8(buf).map_err(|_| "is not UTF-8 text".to_string())
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
