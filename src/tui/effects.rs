//! The one effect executor, shared by the event loop and `--snapshot`: it feeds a message to
//! `App::update` and carries out the effects — requests to the runtime, actions in their own
//! task — none of which waits.

use tokio::sync::mpsc;

use super::app::{App, Effect, Msg};
use crate::actions::{ActionRequest, Actions};
use crate::audit::Query;
use crate::domain::JobsQuery;
use crate::runtime::{Request, Runtime, TaskSlot};

pub struct Executor {
    pub runtime: Runtime,
    pub actions: Actions,
    /// Where finished actions report back.
    pub done: mpsc::Sender<Msg>,
    /// Every context, for the fleet view; its checks run only while the view is open.
    pub fleet: Option<std::sync::Arc<Vec<crate::fleet::FleetTarget>>>,
    fleet_task: TaskSlot,
    /// The followed container log's reader.
    logs_task: TaskSlot,
}

/// Log lines reach the app in batches: at most this many, at least every [`LOG_FLUSH`].
const LOG_BATCH: usize = 2000;
const LOG_FLUSH: std::time::Duration = std::time::Duration::from_millis(50);

/// How often the fleet view checks every context: lightly, well under the panes' pace.
pub const FLEET_INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

impl Executor {
    /// An executor whose actions report backup progress to the app.
    pub fn new(runtime: Runtime, mut actions: Actions, done: mpsc::Sender<Msg>) -> Executor {
        let tx = done.clone();
        actions.progress = Some(std::sync::Arc::new(move |p: &crate::backup::Progress| {
            // Progress is sampled: one lost when the channel is full is replaced 200 ms later.
            let _ = tx.try_send(Msg::BackupProgress(p.clone()));
        }));
        Executor {
            runtime,
            actions,
            done,
            fleet: None,
            fleet_task: TaskSlot::default(),
            logs_task: TaskSlot::default(),
        }
    }

    /// Update the app with `msg` and carry out what it asks for.
    pub fn apply(&self, app: &mut App, msg: Msg) {
        for effect in app.update(msg) {
            match effect {
                Effect::FetchJobs(q) => self.runtime.request(Request::FetchJobs(q)),
                Effect::FollowDetail(id) => self.runtime.request(Request::FollowDetail(id)),
                Effect::RefreshAlerts => self.runtime.request(Request::RefreshAlerts),
                Effect::RagSearch(r) => self.runtime.request(Request::Search(r)),
                Effect::RunAction(request) => self.run_action(request),
                Effect::RunBulk(requests) => self.run_bulk(requests),
                Effect::RefreshJobs => self.runtime.request(Request::RefreshJobs),
                Effect::FetchMatching(query) => self.fetch_matching(query),
                Effect::LoadAudit(query) => self.load_audit(query),
                Effect::LoadBackups => self.load_backups(),
                Effect::VerifyBackup(path) => self.verify_backup(path),
                Effect::SaveCommandHistory(lines) => save_history(lines),
                Effect::FollowLogs { container, stream, tail } => self.follow_logs(container, stream, tail),
                Effect::StopLogs => self.logs_task.stop(),
                Effect::StartFleet => self.start_fleet(),
                Effect::StopFleet => self.fleet_task.stop(),
                Effect::Quit => app.quit = true,
            }
        }
    }

    /// Read a container's log (its last `tail` lines, then new ones) into lines, sent in
    /// batches, until stopped or the log ends.
    fn follow_logs(&self, container: String, stream: u64, tail: u64) {
        let ops = self.actions.ops.clone();
        let done = self.done.clone();
        let task = tokio::spawn(async move {
            let (tx, mut rx) = mpsc::channel::<crate::sources::LogFrame>(256);
            let request = crate::sources::LogsRequest { follow: true, tail: Some(tail), since: None, timestamps: true };
            let pump = ops.logs(&container, request, tx);
            let done_lines = done.clone();
            // Owns the receiver: when the app goes away, the engine's stream stops too.
            let consume = async move {
                let done = done_lines;
                let mut lines = crate::logs::LineAssembler::new(true);
                let mut batch = Vec::new();
                let mut last = tokio::time::Instant::now();
                loop {
                    let frame = tokio::time::timeout(LOG_FLUSH, rx.recv()).await;
                    let ended = matches!(frame, Ok(None));
                    match frame {
                        Ok(Some((stderr, bytes))) => lines.push(&bytes, stderr, &mut batch),
                        Ok(None) => lines.finish(&mut batch),
                        Err(_) => {}
                    }
                    let due = batch.len() >= LOG_BATCH || last.elapsed() >= LOG_FLUSH || ended;
                    if due && !batch.is_empty() {
                        if done.send(Msg::LogLines(stream, std::mem::take(&mut batch))).await.is_err() {
                            return;
                        }
                        last = tokio::time::Instant::now();
                    }
                    if ended {
                        return;
                    }
                }
            };
            let (result, ()) = tokio::join!(pump, consume);
            let _ = done.send(Msg::LogEnded(stream, result.err().map(|e| e.to_string()))).await;
        });
        self.logs_task.set(task);
    }

    /// Check every context now, then every [`FLEET_INTERVAL`], until stopped.
    fn start_fleet(&self) {
        let Some(targets) = self.fleet.clone() else {
            let _ = self.done.try_send(Msg::FleetLoaded(Vec::new(), chrono::Utc::now()));
            return;
        };
        let done = self.done.clone();
        let task = tokio::spawn(async move {
            // Each context's queue history, from check to check: what tells a stalled queue.
            let mut histories = crate::fleet::Histories::new();
            loop {
                let rows = crate::fleet::check_all(&targets, Some(&mut histories)).await;
                if done.send(Msg::FleetLoaded(rows, chrono::Utc::now())).await.is_err() {
                    return;
                }
                tokio::time::sleep(FLEET_INTERVAL).await;
            }
        });
        self.fleet_task.set(task);
    }

    /// List every job a filter matches (bounded by the query's limit), in a task of its own.
    fn fetch_matching(&self, query: JobsQuery) {
        let done = self.done.clone();
        let jobs = self.actions.jobs.clone();
        tokio::spawn(async move {
            let result = match jobs {
                Some(j) => j.jobs(query).await.map(|p| p.jobs).map_err(|e| e.to_string()),
                None => Err("no job queue is configured".into()),
            };
            let _ = done.send(Msg::Matching(result)).await;
        });
    }

    /// List the backup directory on a blocking thread.
    fn load_backups(&self) {
        let Some(plan) = self.actions.backup.clone() else { return };
        let done = self.done.clone();
        tokio::spawn(async move {
            let result = tokio::task::spawn_blocking(move || crate::backup::list(&plan.dir))
                .await
                .unwrap_or_else(|e| Err(e.to_string()));
            let _ = done.send(Msg::BackupsLoaded(result, chrono::Utc::now())).await;
        });
    }

    /// Verify an archive on a blocking thread, with progress.
    fn verify_backup(&self, path: std::path::PathBuf) {
        let Some(plan) = self.actions.backup.clone() else { return };
        let done = self.done.clone();
        let progress = self.actions.progress.clone();
        tokio::spawn(async move {
            let result = tokio::task::spawn_blocking(move || {
                let report = |p: &crate::backup::Progress| {
                    if let Some(s) = &progress {
                        s(p)
                    }
                };
                crate::backup::verify(&path, &plan.pg_restore, &report)
            })
            .await
            .unwrap_or_else(|e| Err(e.to_string()));
            let _ = done.send(Msg::BackupVerified(result)).await;
        });
    }

    /// Read the audit log in a task of its own.
    fn load_audit(&self, query: Query) {
        let done = self.done.clone();
        let audit = self.actions.audit.clone();
        tokio::spawn(async move {
            let result = audit.query(&query).await;
            let _ = done.send(Msg::AuditLoaded(query, result, chrono::Utc::now())).await;
        });
    }

    /// Run actions one after another in one task (each audited on its own, none crowding the
    /// audit store's pool); the outcomes come back together.
    fn run_bulk(&self, requests: Vec<ActionRequest>) {
        let done = self.done.clone();
        let actions = self.actions.clone();
        tokio::spawn(async move {
            let mut results = Vec::with_capacity(requests.len());
            for request in requests {
                let result = actions.run(request.clone()).await;
                results.push((request, result));
            }
            let _ = done.send(Msg::BulkDone(results)).await;
        });
    }

    /// Run an action in its own task; its outcome comes back as a message.
    fn run_action(&self, request: ActionRequest) {
        let done = self.done.clone();
        let actions = self.actions.clone();
        tokio::spawn(async move {
            let result = actions.run(request.clone()).await;
            let _ = done.send(Msg::ActionDone { request, result }).await;
        });
    }
}

/// Write the command-line history on a blocking thread; a failure only costs the history.
/// One write at a time (in order), through a temporary file of this process's own, readable
/// by the user only (it holds searches and filters). Two mcptop processes: the last to save
/// wins.
fn save_history(lines: Vec<String>) {
    static WRITING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let Some(path) = super::commands::history_path() else { return };
    tokio::task::spawn_blocking(move || {
        let _one = WRITING.lock().unwrap_or_else(|e| e.into_inner());
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let tmp = path.with_extension(format!("{}.tmp", std::process::id()));
            let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
            f.write_all((lines.join("\n") + "\n").as_bytes())?;
            std::fs::rename(&tmp, &path)
        };
        if let Err(e) = write() {
            tracing::warn!("cannot save the command history to {}: {e}", path.display());
        }
    });
}
