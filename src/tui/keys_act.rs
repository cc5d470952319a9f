//! Keys that act: the Approvals pane (approve, edit then approve, reject), marks and bulk retry
//! or cancel on the Jobs pane, the analysis form, and the audit log view. Every action passes
//! through a confirmation naming its target, except in read-only mode, where it goes straight to
//! the action layer, which refuses it and records the refusal.

use super::app::{App, Effect, Mode, PaneId, Toast};
use super::forms::{self, Form};
use super::keymap::Action;
use super::keys::movement;
use super::popup::Popup;
use crate::actions::{ActionRequest, JobRef};
use crate::domain::action::AnalysisRequest;
use crate::domain::text::count;
use crate::domain::{Job, JobStatus, JobsQuery};

impl App {
    /// The acting keys that are not a pane's own; `None` for any other key.
    pub(super) fn on_act_action(&mut self, action: Action) -> Option<Vec<Effect>> {
        Some(match action {
            Action::Analyze => self.open_analyze(),
            Action::Audit => {
                self.mode = Mode::Audit;
                self.audit.open();
                vec![Effect::LoadAudit(self.audit.query())]
            }
            Action::Retry | Action::CancelJob => self.bulk_action(action),
            Action::Mark => {
                if let Some(job) = self.jobs.selected_job().cloned()
                    && self.jobs.marks.remove(&job.id).is_none()
                {
                    self.jobs.marks.insert(job.id.clone(), job);
                }
                let len = self.jobs.marks.len();
                if len > 0 {
                    self.toast(format!("{len} marked · r retry · C cancel · * with no filter clears"), true);
                }
                self.jobs.on_list_action(Action::Down).unwrap_or_default()
            }
            Action::MarkAll => {
                let (filter, failures) = (self.jobs.view.filter().to_string(), self.jobs.view.failures_only());
                if filter.is_empty() && !failures {
                    let n = self.jobs.marks.len();
                    self.jobs.marks.clear();
                    self.toast(format!("marks cleared ({n}); * marks every job matching a filter (/ or f)"), true);
                    return Some(vec![]);
                }
                let limit = crate::clients::redis::FILTER_MAX_SCAN;
                vec![Effect::FetchMatching(JobsQuery { filter, failures_only: failures, limit, ..Default::default() })]
            }
            _ => return None,
        })
    }

    /// Keys of the Backups pane: move, take a backup (confirmation names the context and the
    /// items), verify the selected archive.
    pub(super) fn on_backups_action(&mut self, action: Action) -> Option<Vec<Effect>> {
        let rows = self.pane_rows(PaneId::Backups);
        if let Some(delta) = movement(action, rows) {
            self.backups.move_cursor(delta);
            return Some(vec![]);
        }
        match action {
            Action::RunBackup | Action::VerifyBackup if !self.backups.configured => {
                self.toast("no backup is configured for this context ([contexts.NAME.backup])".into(), false);
                Some(vec![])
            }
            Action::RunBackup | Action::VerifyBackup if self.backups.running.is_some() => {
                self.toast("a backup or verify is already running".into(), false);
                Some(vec![])
            }
            Action::RunBackup => {
                let request = ActionRequest::Backup {
                    context: self.context.clone(),
                    items: self.backups.items.clone(),
                    only: vec![],
                };
                let mut summary = request.describe();
                if self.refusal.is_some() {
                    summary.push_str(
                        "\nread-only mode allows a backup: it only reads the platform; old archives are not pruned",
                    );
                }
                self.popup = Some(Popup::Confirm { requests: vec![request], summary, back: None });
                Some(vec![])
            }
            Action::VerifyBackup => match self.backups.selected() {
                Some(a) => {
                    let path = a.path.clone();
                    Some(vec![Effect::VerifyBackup(path)])
                }
                None => {
                    self.toast("no archive to verify".into(), false);
                    Some(vec![])
                }
            },
            _ => None,
        }
    }

    /// Keys of the Approvals pane: move, approve, edit then approve, reject.
    pub(super) fn on_approvals_action(&mut self, action: Action) -> Option<Vec<Effect>> {
        let rows = self.pane_rows(PaneId::Approvals);
        if let Some(delta) = movement(action, rows) {
            self.approvals.move_cursor(delta);
            return Some(vec![]);
        }
        if !matches!(action, Action::Approve | Action::Reject | Action::EditDraft) {
            return None;
        }
        let Some(job) = self.approvals.selected().map(JobRef::of) else {
            self.toast("nothing awaits approval".into(), false);
            return Some(vec![]);
        };
        if self.refusal.is_some() {
            // Through the action layer, which refuses it and records the refusal.
            let request = match action {
                Action::Reject => ActionRequest::Reject { job, note: String::new() },
                _ => ActionRequest::Approve { job, note: None, title: None, body: None, edited: false },
            };
            return Some(vec![Effect::RunAction(request)]);
        }
        if action == Action::Reject {
            self.popup = Some(Popup::Form(Box::new(Form::reject(job))));
            return Some(vec![]);
        }
        let Some(detail) = self.approvals.selected_detail() else {
            self.toast("the draft is still loading; try again in a moment".into(), false);
            return Some(vec![]);
        };
        let title = crate::actions::decide::ticket_title(detail, None);
        let body = detail.ticket_draft.as_ref().and_then(|d| d.body.clone()).unwrap_or_default();
        self.popup = Some(Popup::Form(Box::new(Form::approve(job, &title, &body, action == Action::EditDraft))));
        Some(vec![])
    }

    /// Retry or cancel: the marked jobs, else the selected one. Only jobs in the right status
    /// are offered; the confirmation names the count and the filter.
    fn bulk_action(&mut self, action: Action) -> Vec<Effect> {
        let (needs, verb) = match action {
            Action::Retry => (JobStatus::Failed, "Retry"),
            _ => (JobStatus::Queued, "Cancel"),
        };
        let make = |job: &Job| {
            let r = JobRef::of(job);
            if action == Action::Retry { ActionRequest::Retry { job: r } } else { ActionRequest::Cancel { job: r } }
        };
        let marked = !self.jobs.marks.is_empty();
        let candidates: Vec<&Job> =
            if marked { self.jobs.marks.values().collect() } else { self.jobs.selected_job().into_iter().collect() };
        let (ok, skipped): (Vec<&Job>, Vec<&Job>) = candidates.into_iter().partition(|j| j.status == needs);
        if ok.is_empty() {
            let what =
                if marked { "none of the marked jobs is".to_string() } else { "the selected job is not".to_string() };
            self.toast(format!("{what} {needs}: nothing to {}", verb.to_lowercase()), false);
            return vec![];
        }
        let requests: Vec<ActionRequest> = ok.iter().map(|j| make(j)).collect();
        if self.refusal.is_some() {
            return vec![Effect::RunBulk(requests)];
        }
        let summary = if requests.len() == 1 && !marked {
            requests[0].describe()
        } else {
            let filter = match (self.jobs.view.filter(), self.jobs.view.failures_only()) {
                ("", false) => String::new(),
                ("", true) => " (current filter: failures only)".into(),
                (f, fo) => format!(" (current filter “{f}”{})", if fo { ", failures only" } else { "" }),
            };
            let n = requests.len() as u64;
            let what = count(n, &format!("marked {needs} job"), &format!("marked {needs} jobs"));
            let mut s = format!("{verb} {what}{filter}:");
            for r in requests.iter().take(5) {
                s.push_str(&format!("\n  {}", r.describe()));
            }
            if requests.len() > 5 {
                s.push_str(&format!("\n  … and {} more", requests.len() - 5));
            }
            if !skipped.is_empty() {
                let (n, are) = (skipped.len() as u64, if skipped.len() == 1 { "is" } else { "are" });
                let what = count(n, "marked job", "marked jobs");
                s.push_str(&format!("\n{what} {are} not {needs} and left alone"));
            }
            s
        };
        self.popup = Some(Popup::Confirm { requests, summary, back: None });
        vec![]
    }

    /// The analysis form, prefilled from what is selected.
    fn open_analyze(&mut self) -> Vec<Effect> {
        let (prefill, from) = match self.focus {
            PaneId::Alerts => match self.ops.selected_alert() {
                Some(a) => (forms::from_alert(a), format!("alert {}", a.name())),
                None => Default::default(),
            },
            PaneId::Approvals => match self.approvals.selected_detail() {
                Some(d) => (forms::from_job(d), format!("job {}", d.job.id)),
                None => Default::default(),
            },
            _ => match self.jobs.selected_job() {
                Some(j) => (job_request(j), format!("job {}", j.id)),
                None => Default::default(),
            },
        };
        self.popup = Some(Popup::Form(Box::new(Form::analyze(&prefill, &from))));
        vec![]
    }

    pub(super) fn toast(&mut self, text: String, ok: bool) {
        self.toast = Some(Toast { text, ok, at: self.now });
    }

    /// Keys of the audit log view.
    pub(super) fn on_audit_action(&mut self, action: Action) -> Vec<Effect> {
        let rows = self.size.1.saturating_sub(5).max(1) as usize;
        if let Some(scroll) = self.audit.detail {
            // One record in full: the movement keys scroll it; back or Enter returns to the list.
            self.audit.detail = match (action, movement(action, rows)) {
                (Action::Back | Action::Open | Action::Audit, _) => None,
                (Action::Top, _) => Some(0),
                (_, Some(delta)) => Some((scroll as isize + delta).clamp(0, u16::MAX as isize) as u16),
                _ => Some(scroll),
            };
            return match action {
                Action::Quit => self.quit(),
                _ => vec![],
            };
        }
        if let Some(delta) = movement(action, rows) {
            self.audit.move_cursor(delta);
            return vec![];
        }
        match action {
            Action::Quit => self.quit(),
            Action::Open if self.audit.selected().is_some() => {
                self.audit.detail = Some(0);
                vec![]
            }
            // A filter is cleared first, then the view closes.
            Action::Back if !self.audit.filter.is_empty() => {
                self.audit.filter.clear();
                self.audit.cursor = 0;
                vec![Effect::LoadAudit(self.audit.query())]
            }
            Action::Back | Action::Audit => {
                self.mode = Mode::Normal;
                vec![]
            }
            Action::Command => self.open_command(),
            Action::Filter => {
                self.inputs.open_filter(PaneId::Queue, &self.audit.filter.clone());
                self.inputs.filter_target = None;
                self.mode = Mode::Filter;
                vec![]
            }
            _ => vec![Effect::LoadAudit(self.audit.query())],
        }
    }
}

/// An analysis request prefilled from a job's row.
fn job_request(j: &Job) -> AnalysisRequest {
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    AnalysisRequest {
        alert_type: s(&j.alert_type),
        source: s(&j.source),
        hostname: s(&j.hostname),
        severity: if j.severity == crate::domain::Severity::Unknown {
            String::new()
        } else {
            j.severity.as_str().into()
        },
        description: s(&j.summary),
        ..Default::default()
    }
}
