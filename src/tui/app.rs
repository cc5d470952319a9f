//! The dashboard's state and its one `update` function: a message in, state changed and effects
//! out. No I/O happens here; effects are carried out by the executor (`effects.rs`). Each pane's
//! data lives in its own state (`jobs_state`, `ops_state`, `rag_state`); runtime messages are
//! routed to it by feed, and keys are turned into actions by the key map of the current mode.

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;

use super::approvals_state::ApprovalsState;
use super::audit_view::AuditView;
use super::backups_state::BackupsState;
use super::input::Inputs;
use super::jobs_state::{JobsState, fetch};
use super::keymap::KeyMap;
use super::layout;
use super::loadable::Loadable;
use super::ops_state::OpsState;
use super::popup::Popup;
use super::rag_state::RagState;
use crate::actions::{ActionError, ActionRequest, Done};
use crate::audit::{Query, Record};
use crate::domain::Job;
use crate::domain::JobsQuery;
use crate::runtime::{RagRequest, SourceMsg};

/// The panes, in focus order. Number keys focus them by position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaneId {
    Queue,
    Jobs,
    Health,
    Alerts,
    Rag,
    Approvals,
    Backups,
}

impl PaneId {
    pub const ALL: [PaneId; 7] =
        [PaneId::Queue, PaneId::Jobs, PaneId::Health, PaneId::Alerts, PaneId::Rag, PaneId::Approvals, PaneId::Backups];

    pub fn title(self) -> &'static str {
        match self {
            PaneId::Queue => "Queue",
            PaneId::Jobs => "Jobs",
            PaneId::Health => "Health",
            PaneId::Alerts => "Alerts",
            PaneId::Rag => "RAG hits",
            PaneId::Approvals => "Approvals",
            PaneId::Backups => "Backups",
        }
    }

    pub fn number(self) -> usize {
        PaneId::ALL.iter().position(|p| *p == self).unwrap_or(0) + 1
    }
}

/// What the keyboard is talking to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Filter,
    /// Typing a knowledge-base query.
    RagQuery,
    Help,
    Detail,
    /// The audit log view.
    Audit,
    /// Typing on the command line (`:`).
    Command,
    /// The last source errors (`:errors`).
    Errors,
    /// One row per configured context (`:fleet`).
    Fleet,
    /// A container's log.
    Logs,
    /// Typing the log view's filter.
    LogFilter,
}

/// Everything that can happen to the app.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    /// A click or the wheel (`mouse = true`).
    Mouse(crossterm::event::MouseEvent),
    Resized {
        width: u16,
        height: u16,
    },
    Tick(DateTime<Utc>),
    Source(SourceMsg),
    /// An action finished (or was refused).
    ActionDone {
        request: ActionRequest,
        result: Result<Done, ActionError>,
    },
    /// A bulk action finished: each job's outcome, in order.
    BulkDone(Vec<(ActionRequest, Result<Done, ActionError>)>),
    /// Every job matching a filter, to mark (`MarkAll`).
    Matching(Result<Vec<Job>, String>),
    /// The backup directory's archives.
    BackupsLoaded(Result<Vec<crate::backup::ArchiveInfo>, String>, DateTime<Utc>),
    /// A backup, verify or restore is under way.
    BackupProgress(crate::backup::Progress),
    /// A verify finished.
    BackupVerified(Result<crate::backup::verify::VerifyReport, String>),
    /// Lines of the followed container's log (`LogView::stream` says which stream).
    LogLines(u64, Vec<crate::logs::LogLine>),
    /// The followed log ended: the container stopped, or the engine said why not.
    LogEnded(u64, Option<String>),
    /// The fleet's rows, one per context.
    FleetLoaded(Vec<crate::fleet::FleetRow>, DateTime<Utc>),
    /// The audit log view's records, for the query they answer.
    AuditLoaded(Query, Result<Vec<Record>, String>, DateTime<Utc>),
}

/// What the event loop must do after an update.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    FetchJobs(JobsQuery),
    FollowDetail(Option<String>),
    /// Run a confirmed action through the action layer.
    RunAction(ActionRequest),
    /// Run confirmed actions one after another, each decided and recorded on its own.
    RunBulk(Vec<ActionRequest>),
    /// Fetch alerts now (after a silence changed them).
    RefreshAlerts,
    /// Search the knowledge base.
    RagSearch(RagRequest),
    /// Fetch queues, jobs and approvals now (after an action changed them).
    RefreshJobs,
    /// Fetch every job matching this query (up to the filter scan limit), to mark them.
    FetchMatching(JobsQuery),
    /// Read the audit log.
    LoadAudit(Query),
    /// List the backup directory.
    LoadBackups,
    /// Verify an archive.
    VerifyBackup(std::path::PathBuf),
    /// Follow a container's log (`stream` tells its lines from an earlier one's).
    FollowLogs {
        container: String,
        stream: u64,
        tail: u64,
    },
    /// The log view closed: stop reading.
    StopLogs,
    /// Check every context now and every fleet interval while the fleet view is open.
    StartFleet,
    /// The fleet view closed: stop checking.
    StopFleet,
    /// Write the command-line history to the state directory.
    SaveCommandHistory(Vec<String>),
    Quit,
}

/// A short message at the bottom: what an action did.
#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    pub text: String,
    pub ok: bool,
    pub at: DateTime<Utc>,
}

/// The whole dashboard.
pub struct App {
    pub context: String,
    pub source_name: String,
    pub demo: bool,
    pub read_only: bool,
    /// The context is marked `production = true`: a badge, and confirmations say so.
    pub production: bool,
    /// A context asked for by `:ctx`; the event loop switches to it.
    pub switch_to: Option<String>,
    /// When the switch to this context was asked for, until its first data arrives.
    pub switched_at: Option<std::time::Instant>,
    pub keymap: KeyMap,
    pub now: DateTime<Utc>,
    /// Ages on screen move in steps of this many seconds (see `RenderCtx::ages_at`).
    pub age_step: u32,
    pub size: (u16, u16),
    pub focus: PaneId,
    pub zoomed: bool,
    pub mode: Mode,
    pub jobs: JobsState,
    pub ops: OpsState,
    pub rag: RagState,
    pub approvals: ApprovalsState,
    pub audit: AuditView,
    pub backups: BackupsState,
    /// `q` was pressed while a backup runs: the next `q` quits.
    pub quit_armed: bool,
    /// Where the audit log is, for the view's title.
    pub audit_location: String,
    /// Ring the bell when a job newly awaits approval (`bell = true`).
    pub bell: bool,
    /// The event loop rings the bell once and clears this.
    pub ring: bool,
    /// Why actions are refused here (read-only mode), shown beside them.
    pub refusal: Option<&'static str>,
    pub inputs: Inputs,
    /// The command line's history (newest last), its candidates for what is typed, and which
    /// one Tab put in.
    pub command_history: Vec<String>,
    pub completions: Vec<String>,
    pub completion_at: Option<usize>,
    /// Actions sent to the action layer whose outcome has not come back.
    pub in_flight: usize,
    /// How far the help overlay is scrolled.
    pub help_scroll: usize,
    /// The mode the command line was opened from.
    pub command_return: Mode,
    pub choices: super::commands::Choices,
    /// The container log being viewed.
    pub logs: Option<super::logs_view::LogView>,
    /// Lines a log view keeps (`log_lines`).
    pub log_lines: usize,
    /// The fleet view's rows and cursor.
    pub fleet: Loadable<Vec<crate::fleet::FleetRow>>,
    pub fleet_cursor: usize,
    /// The last source errors, for `:errors`.
    pub errors: super::errors_log::ErrorLog,
    /// Clicks and the wheel (`mouse = true`; off by default).
    pub mouse: bool,
    /// `y` copies the selection's handle (`yank = true`, the default).
    pub yank: bool,
    /// Text for the clipboard; the event loop sends it (OSC 52) and clears this.
    pub clipboard: Option<String>,
    /// A theme asked for by `:theme`; the event loop loads it.
    pub theme_request: Option<String>,
    pub popup: Option<Popup>,
    pub toast: Option<Toast>,
    pub quit: bool,
}

impl App {
    pub fn new(context: &str, source_name: &str, keymap: KeyMap, now: DateTime<Utc>) -> App {
        App {
            context: context.to_string(),
            source_name: source_name.to_string(),
            demo: false,
            read_only: false,
            production: false,
            switch_to: None,
            switched_at: None,
            keymap,
            now,
            age_step: 1,
            size: (80, 24),
            focus: PaneId::Jobs,
            zoomed: false,
            mode: Mode::Normal,
            jobs: JobsState::default(),
            ops: OpsState::default(),
            rag: RagState::default(),
            approvals: ApprovalsState::default(),
            audit: AuditView::default(),
            backups: BackupsState::default(),
            quit_armed: false,
            audit_location: String::new(),
            bell: false,
            ring: false,
            refusal: None,
            inputs: Inputs::default(),
            command_history: Vec::new(),
            completions: Vec::new(),
            completion_at: None,
            command_return: Mode::Normal,
            help_scroll: 0,
            in_flight: 0,
            choices: super::commands::Choices::default(),
            logs: None,
            log_lines: 10_000,
            fleet: Default::default(),
            fleet_cursor: 0,
            errors: Default::default(),
            theme_request: None,
            yank: true,
            mouse: false,
            clipboard: None,
            popup: None,
            toast: None,
            quit: false,
        }
    }

    /// The first window to ask for, before any key is pressed.
    pub fn initial_query(&mut self) -> JobsQuery {
        self.relayout();
        self.jobs.view.desired_query()
    }

    /// Apply one message. Returns what the executor must do.
    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        let mut effects = match msg {
            Msg::Tick(now) => {
                self.now = now;
                // The audit view follows what others record (the CLI, other operators).
                let stale = self.audit.records.updated_at.is_none_or(|at| (now - at).num_seconds() >= 5);
                let mut effects = Vec::new();
                if self.mode == Mode::Audit && stale && !self.audit.loading {
                    self.audit.loading = true;
                    effects.push(Effect::LoadAudit(self.audit.query()));
                }
                // The backup directory is re-read every 10 s (another run, a cron job, prune).
                let old = self.backups.archives.updated_at.is_none_or(|at| (now - at).num_seconds() >= 10);
                if self.backups.configured && old && !self.backups.loading {
                    self.backups.loading = true;
                    effects.push(Effect::LoadBackups);
                }
                effects
            }
            Msg::Resized { width, height } => {
                self.size = (width, height);
                let mut effects = self.relayout();
                // The first size is the start: read the backup directory at once (the next tick
                // asks again if this one is not carried out).
                if self.backups.configured && self.backups.archives.updated_at.is_none() {
                    effects.push(Effect::LoadBackups);
                }
                effects
            }
            Msg::Key(key) => self.on_key(key),
            Msg::Mouse(ev) => self.on_mouse(ev),
            Msg::Source(m) => self.on_source(m),
            Msg::ActionDone { request, result } => {
                self.in_flight = self.in_flight.saturating_sub(1);
                self.action_done(request, result)
            }
            Msg::Matching(result) => self.mark_matching(result),
            Msg::BulkDone(results) => {
                self.in_flight = self.in_flight.saturating_sub(1);
                self.bulk_done(results)
            }
            Msg::BackupsLoaded(result, at) => {
                self.backups.loaded(result, at);
                vec![]
            }
            Msg::BackupProgress(p) => {
                self.backups.running = Some(p);
                vec![]
            }
            Msg::BackupVerified(result) => {
                self.backups.running = None;
                let (text, ok) = match result {
                    Ok(r) if r.problems.is_empty() => {
                        let members = crate::domain::text::count(r.members as u64, "member", "members");
                        (format!("✓ verified: {members}, every checksum matches"), true)
                    }
                    Ok(r) => (format!("✗ verify: {}", r.problems.join("; ")), false),
                    Err(e) => (format!("✗ verify: {e}"), false),
                };
                self.toast = Some(Toast { text, ok, at: self.now });
                vec![Effect::LoadBackups]
            }
            Msg::LogLines(stream, lines) => {
                if let Some(v) = self.logs.as_mut().filter(|v| v.stream == stream) {
                    v.append(lines);
                }
                vec![]
            }
            Msg::LogEnded(stream, error) => {
                if let Some(v) = self.logs.as_mut().filter(|v| v.stream == stream) {
                    v.ended = Some(error.unwrap_or_else(|| "the log ended (the container stopped)".into()));
                }
                vec![]
            }
            Msg::FleetLoaded(rows, at) => {
                self.fleet_cursor = self.fleet_cursor.min(rows.len().saturating_sub(1));
                self.fleet.loaded(rows, at);
                vec![]
            }
            Msg::AuditLoaded(query, result, at) => {
                // An answer to an older filter is dropped: the newer one is on its way.
                if query == self.audit.query() {
                    self.audit.loaded(result, at);
                }
                vec![]
            }
        };
        effects.extend(self.sync_rag());
        self.in_flight += effects.iter().filter(|e| matches!(e, Effect::RunAction(_) | Effect::RunBulk(_))).count();
        effects
    }

    pub(super) fn relayout(&mut self) -> Vec<Effect> {
        let zoomed_jobs = self.zoomed && self.focus == PaneId::Jobs;
        self.jobs.view.set_rows(layout::jobs_rows(
            self.size,
            zoomed_jobs,
            self.jobs.queue_slots,
            self.ops.configured.pipeline,
        ));
        fetch(self.jobs.view.refetch_if_needed())
    }
}

#[cfg(test)]
#[path = "app_tests.rs"]
mod tests;
