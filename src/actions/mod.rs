//! Actions shared by the TUI and the CLI. Every action goes through [`Actions::run`], the one
//! place that refuses it in read-only mode and that records it before and after (the audit log
//! of CONTRACT.md §5 plugs in at [`Audit`]).

pub mod silence;

use std::sync::Arc;

use chrono::Duration;
use serde::Serialize;

use crate::clients::alertmanager::Matcher;
use crate::config::Settings;
use crate::sources::OpsSource;

/// Who acts: `user@host`, and the SSH client address when there is one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Actor {
    pub user: String,
    pub host: String,
    pub ssh_client: Option<String>,
}

impl Actor {
    /// From the environment: `$USER` (or `$LOGNAME`), the host name, `$SSH_CLIENT`'s address.
    pub fn from_env() -> Actor {
        let user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into());
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .or_else(|_| std::fs::read_to_string("/etc/hostname"))
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "unknown".into());
        let ssh_client = std::env::var("SSH_CLIENT").ok().and_then(|s| s.split_whitespace().next().map(String::from));
        Actor { user, host, ssh_client }
    }

    /// `user@host`, as `createdBy` and in comments.
    pub fn name(&self) -> String {
        format!("{}@{}", self.user, self.host)
    }
}

/// Something an operator asked for.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ActionRequest {
    /// Silence alerts matching `matchers` for `duration_s`, on the named Alertmanagers (all when
    /// empty).
    SilenceAdd { matchers: Vec<Matcher>, duration_s: i64, comment: String, alertmanagers: Vec<String> },
    /// A short silence for one alert's labels, with the comment "ack by user@host".
    Ack { matchers: Vec<Matcher>, alertmanagers: Vec<String>, target: String },
    /// Expire a silence wherever it exists.
    SilenceExpire { id: String, alertmanagers: Vec<String> },
}

impl ActionRequest {
    /// What the confirmation names: the action and its target.
    pub fn describe(&self) -> String {
        let matchers = |m: &[Matcher]| m.iter().map(silence::matcher_text).collect::<Vec<_>>().join(", ");
        let on = |ams: &[String]| if ams.is_empty() { "every Alertmanager".to_string() } else { ams.join(", ") };
        match self {
            ActionRequest::SilenceAdd { matchers: m, duration_s, comment, alertmanagers } => format!(
                "Silence {{{}}} for {} on {} — “{}”",
                matchers(m),
                silence::format_duration(*duration_s),
                on(alertmanagers),
                comment
            ),
            ActionRequest::Ack { target, alertmanagers, .. } => format!("Ack {target} on {}", on(alertmanagers)),
            ActionRequest::SilenceExpire { id, alertmanagers } => {
                format!("Expire silence {id} on {}", on(alertmanagers))
            }
        }
    }
}

/// Why an action did not run or did not succeed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ActionError {
    #[error("read-only mode: {0} refused")]
    ReadOnly(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Failed(String),
}

/// Where actions are recorded before they run and with their outcome. The audit log of a later
/// feature implements this; until then actions are logged.
pub trait Audit: Send + Sync {
    fn started(&self, actor: &Actor, request: &ActionRequest);
    fn finished(&self, actor: &Actor, request: &ActionRequest, outcome: &Result<String, ActionError>);
}

/// Records actions in the log file.
pub struct LogAudit;

impl Audit for LogAudit {
    fn started(&self, actor: &Actor, request: &ActionRequest) {
        tracing::info!(actor = %actor.name(), request = ?request, "action started");
    }
    fn finished(&self, actor: &Actor, request: &ActionRequest, outcome: &Result<String, ActionError>) {
        tracing::info!(actor = %actor.name(), request = ?request, ?outcome, "action finished");
    }
}

/// The action layer of one context.
#[derive(Clone)]
pub struct Actions {
    pub read_only: bool,
    pub actor: Actor,
    /// Where silences go: the real Alertmanagers or the demo's.
    pub ops: Arc<dyn OpsSource>,
    pub ack_duration: Duration,
    pub audit: Arc<dyn Audit>,
}

impl Actions {
    /// The actions of the context `settings` describe, acting through `ops`.
    pub fn new(settings: &Settings, ops: Arc<dyn OpsSource>) -> Actions {
        Actions {
            read_only: settings.read_only,
            actor: Actor::from_env(),
            ops,
            ack_duration: Duration::seconds(settings.context.ack_duration_s as i64),
            audit: Arc::new(LogAudit),
        }
    }

    /// Run one action: refused in read-only mode, recorded before and after.
    pub async fn run(&self, request: ActionRequest) -> Result<String, ActionError> {
        if self.read_only {
            let refused = Err(ActionError::ReadOnly(request.describe()));
            self.audit.finished(&self.actor, &request, &refused);
            return refused;
        }
        self.audit.started(&self.actor, &request);
        let outcome = match &request {
            ActionRequest::SilenceAdd { .. } | ActionRequest::Ack { .. } | ActionRequest::SilenceExpire { .. } => {
                silence::run(self, &request).await
            }
        };
        self.audit.finished(&self.actor, &request, &outcome);
        outcome
    }
}
