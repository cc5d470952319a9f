//! What an action's outcome does to the app: a toast saying what happened, marks cleared, and
//! the data it changed fetched at once.

use super::app::{App, Effect, Mode, Toast};
use crate::actions::{ActionError, ActionRequest, Done};
use crate::domain::Job;

impl App {
    /// Show what an action did, and fetch what it changed at once.
    pub(super) fn action_done(&mut self, request: ActionRequest, result: Result<Done, ActionError>) -> Vec<Effect> {
        let (text, ok) = match &result {
            Ok(d) => match &d.warning {
                Some(w) => (format!("✓ {} — warning: {w}", d.message), false),
                None => (format!("✓ {}", d.message), true),
            },
            Err(e) => (format!("✗ {}: {e}", request.describe()), false),
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
                let n = jobs.len();
                self.jobs.marks.extend(jobs.into_iter().map(|j| (j.id.clone(), j)));
                Toast {
                    text: format!("marked {n} jobs matching the filter ({} marked)", self.jobs.marks.len()),
                    ok: true,
                    at: self.now,
                }
            }
            Err(e) => Toast { text: format!("✗ could not list the matching jobs: {e}"), ok: false, at: self.now },
        });
        vec![]
    }
}
