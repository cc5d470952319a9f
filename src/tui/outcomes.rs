//! What an action's outcome does to the app: a toast saying what happened, marks cleared, and
//! the data it changed fetched at once.

use super::app::{App, Effect, Mode, Toast};
use super::keymap::Action;
use crate::actions::{ActionError, ActionRequest, Done};
use crate::domain::Job;
use crate::domain::text::count;

impl App {
    /// Show what an action did, and fetch what it changed at once.
    pub(super) fn action_done(&mut self, request: ActionRequest, result: Result<Done, ActionError>) -> Vec<Effect> {
        let (text, ok) = match &result {
            Ok(d) => match &d.warning {
                Some(w) => (format!("✓ {} — warning: {w}", d.message), false),
                None => (format!("✓ {}", d.message), true),
            },
            // The target, not the whole description: the reason must fit the footer.
            Err(e) => (format!("✗ {} {}: {e}", request.name(), request.target()), false),
        };
        self.toast = Some(Toast { text, ok, at: self.now });
        if let (Ok(_), ActionRequest::Retry { job } | ActionRequest::Cancel { job }) = (&result, &request) {
            self.jobs.marks.remove(&job.id);
        }
        let mut effects = vec![Effect::RefreshAlerts, Effect::RefreshJobs];
        if matches!(request, ActionRequest::Backup { .. } | ActionRequest::Restore { .. } | ActionRequest::Prune { .. })
        {
            self.backups.running = None;
            effects.push(Effect::LoadBackups);
        }
        if self.mode == Mode::Audit {
            effects.push(Effect::LoadAudit(self.audit.query()));
        }
        effects
    }

    /// One toast for a whole bulk action: how many were done, refused and failed, and why.
    pub(super) fn bulk_done(&mut self, results: Vec<(ActionRequest, Result<Done, ActionError>)>) -> Vec<Effect> {
        let (mut ok, mut refused, mut failed) = (0, 0, 0);
        let mut first_error = None;
        for (request, result) in &results {
            match result {
                Ok(_) => {
                    ok += 1;
                    if let ActionRequest::Retry { job } | ActionRequest::Cancel { job } = request {
                        self.jobs.marks.remove(&job.id);
                    }
                }
                Err(e) => {
                    if e.exit_code() == 1 {
                        failed += 1
                    } else {
                        refused += 1
                    }
                    first_error.get_or_insert_with(|| format!("{}: {e}", request.target()));
                }
            }
        }
        let verb = results.first().map(|(r, _)| r.name()).unwrap_or("done");
        let mut text = format!("{verb}: {ok} done");
        if refused + failed > 0 {
            text.push_str(&format!(", {refused} refused, {failed} failed — {}", first_error.unwrap_or_default()));
        }
        self.toast = Some(Toast { text, ok: refused + failed == 0, at: self.now });
        let mut effects = vec![Effect::RefreshJobs];
        if self.mode == Mode::Audit {
            effects.push(Effect::LoadAudit(self.audit.query()));
        }
        effects
    }

    /// Mark every job a filter matched (or say why not).
    pub(super) fn mark_matching(&mut self, result: Result<Vec<Job>, String>) -> Vec<Effect> {
        self.toast = Some(match result {
            Ok(jobs) => {
                let n = jobs.len() as u64;
                self.jobs.marks.extend(jobs.into_iter().map(|j| (j.id.clone(), j)));
                let matching = if self.jobs.view.failures_only() {
                    let key = self.keymap.first_key(Action::Back).to_string();
                    format!("{} (failures only is on: {key} clears it)", count(n, "failed job", "failed jobs"))
                } else {
                    format!("{} matching the filter", count(n, "job", "jobs"))
                };
                Toast {
                    text: format!("marked {matching}; {} marked in all", self.jobs.marks.len()),
                    ok: true,
                    at: self.now,
                }
            }
            Err(e) => Toast { text: format!("✗ could not list the matching jobs: {e}"), ok: false, at: self.now },
        });
        vec![]
    }
}
