//! Actions shared by the TUI and the CLI. Every action goes through [`Actions::run`], the one
//! place that refuses it in read-only mode and that records it in the audit log (CONTRACT.md §5)
//! before it runs and with its outcome.

pub mod backups;
pub mod decide;
pub mod jobs;
pub mod silence;

use std::sync::Arc;

use chrono::Duration;
use serde::Serialize;

use crate::audit::{AuditLog, Outcome, Record};
use crate::backup::Kind;
use crate::clients::alertmanager::Matcher;
use crate::config::Settings;
use crate::domain::action::AnalysisRequest;
use crate::domain::{Job, Severity};
use crate::sources::{Analyzer, JobControl, JobSource, Notifier, OpsSource, Sources, Ticketing};

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
        let host = crate::backup::hostname();
        let ssh_client = std::env::var("SSH_CLIENT").ok().and_then(|s| s.split_whitespace().next().map(String::from));
        Actor { user, host, ssh_client }
    }

    /// `user@host`, as `createdBy` and in comments.
    pub fn name(&self) -> String {
        format!("{}@{}", self.user, self.host)
    }

    /// `user@host`, and `(ssh ADDRESS)` when there is one: the audit log's actor.
    pub fn audit_name(&self) -> String {
        match &self.ssh_client {
            Some(a) => format!("{} (ssh {a})", self.name()),
            None => self.name(),
        }
    }
}

/// A job an action is about, with what its confirmation shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobRef {
    pub id: String,
    pub host: Option<String>,
    pub severity: Severity,
}

impl JobRef {
    pub fn of(job: &Job) -> JobRef {
        JobRef { id: job.id.clone(), host: job.hostname.clone(), severity: job.severity }
    }

    /// `job 7f3a (db-01, critical)`.
    pub fn describe(&self) -> String {
        format!("job {} ({}, {})", self.id, self.host.as_deref().unwrap_or("?"), self.severity.as_str())
    }
}

/// Every action's name, as the audit log records it ([`ActionRequest::name`]).
pub const ACTION_NAMES: [&str; 12] = [
    "silence",
    "ack",
    "ack_problem",
    "expire",
    "analyze",
    "approve",
    "reject",
    "retry",
    "cancel",
    "backup",
    "restore",
    "prune",
];

/// Something an operator asked for.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ActionRequest {
    /// Silence alerts matching `matchers` for `duration_s`, on the named Alertmanagers (all when
    /// empty).
    SilenceAdd { matchers: Vec<Matcher>, duration_s: i64, comment: String, alertmanagers: Vec<String> },
    /// A short silence for one alert's labels, with the comment "ack by user@host".
    Ack { matchers: Vec<Matcher>, alertmanagers: Vec<String>, target: String },
    /// Acknowledge a Zabbix problem: `event.acknowledge` with a message naming the operator.
    AckProblem { server: String, eventid: String, target: String },
    /// Expire a silence wherever it exists.
    SilenceExpire { id: String, alertmanagers: Vec<String> },
    /// Start an analysis (CONTRACT.md §1–§2).
    Analyze { request: AnalysisRequest },
    /// Approve a ticket draft (CONTRACT.md §4). `title` and `body` are exactly what the operator
    /// saw (edited or not); `None` takes the draft's.
    Approve { job: JobRef, note: Option<String>, title: Option<String>, body: Option<String>, edited: bool },
    /// Reject a ticket draft; the note is required.
    Reject { job: JobRef, note: String },
    /// Put a failed job back on its queue.
    Retry { job: JobRef },
    /// Take a queued job off its queue.
    Cancel { job: JobRef },
    /// Take a backup of the context (CONTRACT.md §6): `items` says what it holds.
    Backup { context: String, items: String, only: Vec<Kind> },
    /// Restore an archive into the context; `confirmed` is the context name the operator typed.
    Restore { archive: String, context: String, only: Vec<Kind>, confirmed: String },
    /// Delete the archives retention no longer keeps.
    Prune { dir: String },
}

impl ActionRequest {
    /// Whether the request can be carried out as it is: one rule for the TUI and the CLI, said
    /// before anything is asked, recorded or sent. Every note and comment an operator writes is
    /// one line without control characters; a draft's title and body are the worker's text and
    /// pass as they are, bounded in size; a job is named; a silence's matchers are what
    /// Alertmanager accepts and do not silence everything.
    pub fn validate(&self) -> Result<(), String> {
        use crate::domain::action::check_line;
        let job = |j: &JobRef| {
            if j.id.trim().is_empty() { Err("a job id is required".to_string()) } else { Ok(()) }
        };
        match self {
            ActionRequest::SilenceAdd { matchers, duration_s, comment, .. } => {
                silence::check_matchers(matchers)?;
                if comment.trim().is_empty() {
                    return Err("a silence needs a comment".into());
                }
                check_line("comment", comment)?;
                if *duration_s <= 0 {
                    return Err("a silence needs a duration".into());
                }
                Ok(())
            }
            ActionRequest::Ack { matchers, .. } => matchers.iter().try_for_each(silence::check_matcher),
            ActionRequest::Analyze { request } => request.validate(),
            ActionRequest::Approve { job: j, note, title, body, .. } => {
                job(j)?;
                if let Some(n) = note {
                    check_line("note", n)?;
                }
                // The title and body are the worker's draft, edited or not: they go to Zammad as
                // the operator confirmed them, whatever they hold (shown escaped on screen).
                // Only their size is bounded.
                if let Some(t) = title
                    && t.chars().count() > 4096
                {
                    return Err("title is longer than 4,096 characters".into());
                }
                if let Some(b) = body
                    && b.len() > 1024 * 1024
                {
                    return Err("body is larger than 1 MiB".into());
                }
                Ok(())
            }
            ActionRequest::Reject { job: j, note } => {
                job(j)?;
                if note.trim().is_empty() {
                    return Err("a rejection needs a note".into());
                }
                check_line("note", note)
            }
            ActionRequest::Retry { job: j } | ActionRequest::Cancel { job: j } => job(j),
            _ => Ok(()),
        }
    }

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
            ActionRequest::AckProblem { server, eventid, target } => {
                format!("Acknowledge Zabbix problem {target} (event {eventid}) on {server}")
            }
            ActionRequest::SilenceExpire { id, alertmanagers } => {
                format!("Expire silence {id} on {}", on(alertmanagers))
            }
            ActionRequest::Analyze { request: r } => {
                format!("Analyse {} on {} ({}, from {})", r.alert_type, r.hostname, r.severity, r.source)
            }
            ActionRequest::Approve { job, title, note, .. } => format!(
                "Approve {}: open ticket “{}”{}",
                job.describe(),
                title.as_deref().unwrap_or("(the draft's title)"),
                note.as_deref().filter(|n| !n.is_empty()).map(|n| format!(" — note “{n}”")).unwrap_or_default()
            ),
            ActionRequest::Reject { job, note } => format!("Reject {} — note “{note}”", job.describe()),
            ActionRequest::Retry { job } => format!("Retry {}", job.describe()),
            ActionRequest::Cancel { job } => format!("Cancel {}", job.describe()),
            ActionRequest::Backup { context, items, .. } => format!("Back up context {context}: {items}"),
            ActionRequest::Restore { archive, context, .. } => {
                format!("Restore {archive} into context {context}: its databases, Redis keys and files are replaced")
            }
            ActionRequest::Prune { dir } => format!("Delete the archives in {dir} that retention no longer keeps"),
        }
    }

    /// The audit log's action name.
    pub fn name(&self) -> &'static str {
        match self {
            ActionRequest::SilenceAdd { .. } => "silence",
            ActionRequest::Ack { .. } => "ack",
            ActionRequest::AckProblem { .. } => "ack_problem",
            ActionRequest::SilenceExpire { .. } => "expire",
            ActionRequest::Analyze { .. } => "analyze",
            ActionRequest::Approve { .. } => "approve",
            ActionRequest::Reject { .. } => "reject",
            ActionRequest::Retry { .. } => "retry",
            ActionRequest::Cancel { .. } => "cancel",
            ActionRequest::Backup { .. } => "backup",
            ActionRequest::Restore { .. } => "restore",
            ActionRequest::Prune { .. } => "prune",
        }
    }

    /// The audit log's target.
    pub fn target(&self) -> String {
        match self {
            ActionRequest::SilenceAdd { matchers, .. } => {
                format!("{{{}}}", matchers.iter().map(silence::matcher_text).collect::<Vec<_>>().join(", "))
            }
            ActionRequest::Ack { target, .. } => target.clone(),
            ActionRequest::AckProblem { server, eventid, .. } => format!("{server} event {eventid}"),
            ActionRequest::SilenceExpire { id, .. } => format!("silence {id}"),
            ActionRequest::Analyze { request } => format!("{} on {}", request.alert_type, request.hostname),
            ActionRequest::Approve { job, .. }
            | ActionRequest::Reject { job, .. }
            | ActionRequest::Retry { job }
            | ActionRequest::Cancel { job } => format!("job {}", job.id),
            ActionRequest::Backup { context, .. } => format!("context {context}"),
            ActionRequest::Restore { archive, .. } => archive.clone(),
            ActionRequest::Prune { dir } => dir.clone(),
        }
    }

    /// Whether it changes the platform (a backup only reads it, so read-only mode allows it).
    pub fn changes_platform(&self) -> bool {
        !matches!(self, ActionRequest::Backup { .. })
    }
}

/// What a finished action reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Done {
    pub message: String,
    /// It happened, but something after it did not (a notification that failed).
    pub warning: Option<String>,
    /// The result for `--output json`: the job id, the ticket…
    pub data: serde_json::Value,
}

impl Done {
    pub fn new(message: impl Into<String>) -> Done {
        Done { message: message.into(), warning: None, data: serde_json::Value::Null }
    }
}

/// Why an action did not run or did not succeed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ActionError {
    /// The action's name (`approve`): the caller already names the target.
    #[error("read-only mode refuses {0}")]
    ReadOnly(&'static str),
    /// Bad input; nothing was written.
    #[error("{0}")]
    Invalid(String),
    /// The target is not in a state that allows it: wrong status, already decided, locked.
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Failed(String),
}

impl ActionError {
    /// The exit code scripts rely on: 1 failed, 2 bad input, 3 refused.
    pub fn exit_code(&self) -> u8 {
        match self {
            ActionError::Failed(_) => 1,
            ActionError::Invalid(_) => 2,
            ActionError::ReadOnly(_) | ActionError::Refused(_) => 3,
        }
    }
}

/// The action layer of one context: every action runs through [`Actions::run`].
#[derive(Clone)]
pub struct Actions {
    pub read_only: bool,
    pub actor: Actor,
    pub context: String,
    /// Where silences go: the real Alertmanagers or the demo's.
    pub ops: Arc<dyn OpsSource>,
    pub ack_duration: Duration,
    pub audit: Arc<AuditLog>,
    pub jobs: Option<Arc<dyn JobSource>>,
    pub control: Option<Arc<dyn JobControl>>,
    pub gateway: Option<Arc<dyn Analyzer>>,
    pub tickets: Option<Arc<dyn Ticketing>>,
    pub notify: Option<Arc<dyn Notifier>>,
    /// The queue new analyses go to (the context's first).
    pub queue: String,
    pub dedup_window_s: u64,
    /// The Zammad group when a draft names none.
    pub group: String,
    /// Backups of this context, when configured.
    pub backup: Option<Arc<crate::backup::Plan>>,
    /// Where backup, verify and restore progress goes (the TUI's pane, the CLI's bar).
    pub progress: Option<crate::backup::ProgressSink>,
}

impl Actions {
    /// The actions of the context `settings` describe, acting through `sources`, recorded in `audit`.
    pub fn new(settings: &Settings, sources: &Sources, audit: Arc<AuditLog>) -> Actions {
        let c = &settings.context;
        Actions {
            read_only: settings.read_only,
            actor: Actor::from_env(),
            context: settings.context_name.clone(),
            ops: sources.ops.clone(),
            ack_duration: Duration::seconds(c.ack_duration_s as i64),
            audit,
            jobs: sources.jobs.clone(),
            control: sources.control.clone(),
            gateway: sources.gateway.clone(),
            tickets: sources.tickets.clone(),
            notify: sources.notify.clone(),
            queue: c.queues.first().cloned().unwrap_or_else(|| "analysis".into()),
            dedup_window_s: c.dedup_window_s,
            group: c.zammad.as_ref().map(|z| z.group.clone()).unwrap_or_else(|| "Users".into()),
            backup: crate::backup::Plan::from_settings(settings).map(Arc::new),
            progress: None,
        }
    }

    /// Why actions are refused here, if they are: the UI shows it on refused actions.
    pub fn refusal(&self) -> Option<&'static str> {
        self.read_only.then_some("read-only mode")
    }

    async fn record(&self, request: &ActionRequest, outcome: Outcome, detail: String) -> Result<i64, String> {
        let record = Record {
            id: 0,
            at: chrono::Utc::now(),
            actor: self.actor.audit_name(),
            context: self.context.clone(),
            action: request.name().into(),
            target: request.target(),
            params: serde_json::to_value(request).unwrap_or_default(),
            outcome,
            detail,
        };
        self.audit.append(&record).await
    }

    /// Run one action: bad input said at once (nothing recorded, nothing sent), refused in
    /// read-only mode (and recorded so), recorded before it runs and with its outcome. An action
    /// whose first record cannot be written does not run.
    pub async fn run(&self, request: ActionRequest) -> Result<Done, ActionError> {
        request.validate().map_err(ActionError::Invalid)?;
        if self.read_only && request.changes_platform() {
            let refused = ActionError::ReadOnly(request.name());
            let _ = self.record(&request, Outcome::Failed, "refused: read-only mode".into()).await;
            return Err(refused);
        }
        if let Err(e) = self.record(&request, Outcome::Started, String::new()).await {
            return Err(ActionError::Failed(format!("{e}; nothing was done")));
        }
        let outcome = match &request {
            ActionRequest::SilenceAdd { .. } | ActionRequest::Ack { .. } | ActionRequest::SilenceExpire { .. } => {
                silence::run(self, &request).await.map(Done::new)
            }
            ActionRequest::AckProblem { server, eventid, target } => {
                silence::ack_problem(self, server, eventid, target).await
            }
            ActionRequest::Analyze { request: r } => jobs::analyze(self, r).await,
            ActionRequest::Approve { job, note, title, body, .. } => {
                decide::approve(self, job, note.as_deref(), title.as_deref(), body.as_deref()).await
            }
            ActionRequest::Reject { job, note } => decide::reject(self, job, note).await,
            ActionRequest::Retry { job } => jobs::retry(self, job).await,
            ActionRequest::Cancel { job } => jobs::cancel(self, job).await,
            ActionRequest::Backup { only, .. } => backups::run(self, only).await,
            ActionRequest::Restore { archive, context, only, confirmed } => {
                backups::restore(self, archive, context, only, confirmed).await
            }
            ActionRequest::Prune { .. } => backups::prune(self).await,
        };
        let (result, detail) = match &outcome {
            Ok(d) => (
                Outcome::Ok,
                d.warning.as_ref().map(|w| format!("{} (warning: {w})", d.message)).unwrap_or(d.message.clone()),
            ),
            Err(e) => (Outcome::Failed, e.to_string()),
        };
        if let Err(e) = self.record(&request, result, detail).await {
            return outcome.map(|mut d| {
                d.warning =
                    Some(format!("{}outcome not recorded: {e}", d.warning.map(|w| w + "; ").unwrap_or_default()));
                d
            });
        }
        outcome
    }
}
