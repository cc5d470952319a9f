//! Keys: the key map of the current mode turns a key into an action, and the action changes the
//! focused pane's state (or opens a popup, which every action passes through).

use crossterm::event::KeyEvent;

use super::app::{App, Effect, Mode, PaneId, Toast};
use super::forms::{self, Form};
use super::input::InputOutcome;
use super::jobs_state::fetch;
use super::keymap::{Action, KeyMode};
use super::layout;
use super::ops_state::OpsDetail;
use super::popup::{Popup, PopupOutcome, SilenceForm};
use super::rag_state::Follow;
use crate::actions::silence::matchers_for;
use crate::actions::{ActionRequest, JobRef};
use crate::domain::action::AnalysisRequest;
use crate::domain::{Job, JobStatus, JobsQuery};

impl App {
    /// The key bindings live now.
    pub fn key_mode(&self) -> KeyMode {
        match (&self.popup, self.mode) {
            (Some(p), _) => p.key_mode(),
            (None, Mode::Filter | Mode::RagQuery) => KeyMode::Input,
            _ => KeyMode::Normal,
        }
    }

    pub(super) fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let action = self.keymap.action_in(self.key_mode(), &key);
        if action == Some(Action::ForceQuit) {
            return self.quit();
        }
        if let Some(popup) = self.popup.as_mut() {
            return match popup.on_key(key, &self.keymap) {
                PopupOutcome::Stay => vec![],
                PopupOutcome::Close => {
                    self.popup = None;
                    vec![]
                }
                PopupOutcome::Confirm(requests) => {
                    let summary = requests.iter().map(|r| r.describe()).collect::<Vec<_>>().join("\n");
                    self.popup = Some(Popup::Confirm { requests, summary });
                    vec![]
                }
                PopupOutcome::Run(requests) => {
                    self.popup = None;
                    requests.into_iter().map(Effect::RunAction).collect()
                }
            };
        }
        match self.mode {
            Mode::Help => {
                let detail_open = self.jobs.detail.is_some() || self.ops.detail.is_some();
                self.mode = if detail_open { Mode::Detail } else { Mode::Normal };
                vec![]
            }
            Mode::Filter => self.on_filter_key(key, action),
            Mode::RagQuery => self.on_query_key(key, action),
            Mode::Detail => action.map(|a| self.on_detail_action(a)).unwrap_or_default(),
            Mode::Audit => action.map(|a| self.on_audit_action(a)).unwrap_or_default(),
            Mode::Normal => action.map(|a| self.on_action(a)).unwrap_or_default(),
        }
    }

    fn quit(&mut self) -> Vec<Effect> {
        self.quit = true;
        vec![Effect::Quit]
    }

    fn on_filter_key(&mut self, key: KeyEvent, action: Option<Action>) -> Vec<Effect> {
        let text = match self.inputs.filter_key(key, action) {
            InputOutcome::Edited(text) => text,
            InputOutcome::Cancelled => {
                self.mode = Mode::Normal;
                String::new()
            }
            _ => {
                self.mode = if self.inputs.filter_target.is_none() { Mode::Audit } else { Mode::Normal };
                return vec![];
            }
        };
        if self.inputs.filter_target.is_none() {
            // The audit view's filter: applied as typed.
            self.mode = if self.mode == Mode::Normal { Mode::Audit } else { self.mode };
            self.audit.filter = text;
            return vec![Effect::LoadAudit(self.audit.query())];
        }
        if self.inputs.filter_target == Some(PaneId::Alerts) {
            self.ops.set_alert_filter(text);
            return vec![];
        }
        fetch(self.jobs.view.set_filter(text))
    }

    fn on_query_key(&mut self, key: KeyEvent, action: Option<Action>) -> Vec<Effect> {
        match self.inputs.query_key(key, action, &self.rag.history) {
            InputOutcome::Submitted(text) => {
                self.mode = Mode::Normal;
                self.focus = PaneId::Rag;
                self.rag.submit(&text, self.now).into_iter().map(Effect::RagSearch).collect()
            }
            InputOutcome::Cancelled => {
                self.mode = Mode::Normal;
                vec![]
            }
            _ => vec![],
        }
    }

    /// Visible list rows of a pane at the current size.
    fn pane_rows(&self, pane: PaneId) -> usize {
        let area = ratatui::layout::Rect::new(0, 0, self.size.0, self.size.1);
        let areas = layout::compute(area, self.zoomed.then_some(self.focus), self.jobs.queue_slots);
        areas.pane(pane).map(|r| r.height.saturating_sub(3) as usize).unwrap_or(1).max(1)
    }

    /// A list key in the focused pane; `None` when it is not one for that pane.
    fn on_pane_action(&mut self, action: Action) -> Option<Vec<Effect>> {
        match self.focus {
            PaneId::Jobs => self.jobs.on_list_action(action).inspect(|_| {
                if self.jobs.detail.is_some() {
                    self.mode = Mode::Detail;
                }
            }),
            PaneId::Alerts | PaneId::Health | PaneId::Rag => {
                // The RAG pane's first two lines describe the knowledge base and the subject.
                let rows = self.pane_rows(self.focus).saturating_sub(if self.focus == PaneId::Rag { 2 } else { 0 });
                if let Some(delta) = movement(action, rows.max(1)) {
                    self.ops_move(delta, rows.max(1));
                    return Some(vec![]);
                }
                let detail = match (self.focus, action) {
                    (PaneId::Alerts, Action::Open) => {
                        self.ops.selected_alert().map(|a| OpsDetail::Alert(a.fingerprint.clone()))
                    }
                    (PaneId::Rag, Action::Open) => self.rag.selected_hit().map(|h| OpsDetail::Hit(Box::new(h.clone()))),
                    (PaneId::Health, Action::Open) => {
                        self.ops.selected_container().map(|c| OpsDetail::Container(c.id.clone()))
                    }
                    (PaneId::Alerts, Action::Silence | Action::Ack | Action::Expire) => {
                        self.alert_action(action);
                        return Some(vec![]);
                    }
                    _ => return None,
                };
                if let Some(d) = detail {
                    self.ops.detail = Some((d, 0));
                    self.mode = Mode::Detail;
                }
                Some(vec![])
            }
            _ => None,
        }
    }

    /// Keys of the Approvals pane: move, approve, edit then approve, reject.
    fn on_approvals_action(&mut self, action: Action) -> Option<Vec<Effect>> {
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
            return requests.into_iter().map(Effect::RunAction).collect();
        }
        let summary = if requests.len() == 1 && !marked {
            requests[0].describe()
        } else {
            let filter = match (self.jobs.view.filter(), self.jobs.view.failures_only()) {
                ("", false) => String::new(),
                ("", true) => " (filter: failures only)".into(),
                (f, fo) => format!(" (filter: “{f}”{})", if fo { ", failures only" } else { "" }),
            };
            let mut s = format!("{verb} {} marked {needs} jobs{filter}:", requests.len());
            for r in requests.iter().take(5) {
                s.push_str(&format!("\n  {}", r.describe()));
            }
            if requests.len() > 5 {
                s.push_str(&format!("\n  … and {} more", requests.len() - 5));
            }
            if !skipped.is_empty() {
                s.push_str(&format!("\n{} marked jobs are not {needs} and are left alone", skipped.len()));
            }
            s
        };
        self.popup = Some(Popup::Confirm { requests, summary });
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

    fn toast(&mut self, text: String, ok: bool) {
        self.toast = Some(Toast { text, ok, at: self.now });
    }

    /// Keys of the audit log view.
    fn on_audit_action(&mut self, action: Action) -> Vec<Effect> {
        let rows = self.size.1.saturating_sub(5).max(1) as usize;
        if let Some(delta) = movement(action, rows) {
            self.audit.move_cursor(delta);
            return vec![];
        }
        match action {
            Action::Quit => self.quit(),
            Action::Back | Action::Audit => {
                self.mode = Mode::Normal;
                vec![]
            }
            Action::Filter => {
                self.inputs.open_filter(PaneId::Queue, &self.audit.filter.clone());
                self.inputs.filter_target = None;
                self.mode = Mode::Filter;
                vec![]
            }
            _ => vec![Effect::LoadAudit(self.audit.query())],
        }
    }

    fn ops_move(&mut self, delta: isize, rows: usize) {
        match self.focus {
            PaneId::Alerts => self.ops.move_alerts(delta, rows),
            PaneId::Health => self.ops.move_containers(delta, rows),
            _ => self.rag.move_cursor(delta, rows),
        }
    }

    fn on_action(&mut self, action: Action) -> Vec<Effect> {
        if self.focus == PaneId::Approvals
            && let Some(effects) = self.on_approvals_action(action)
        {
            return effects;
        }
        if let Some(effects) = self.on_pane_action(action) {
            return effects;
        }
        match action {
            Action::Analyze => self.open_analyze(),
            Action::Audit => {
                self.mode = Mode::Audit;
                vec![Effect::LoadAudit(self.audit.query())]
            }
            Action::Retry | Action::CancelJob => {
                self.set_focus(PaneId::Jobs);
                self.bulk_action(action)
            }
            Action::Mark => {
                self.set_focus(PaneId::Jobs);
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
                self.set_focus(PaneId::Jobs);
                let (filter, failures) = (self.jobs.view.filter().to_string(), self.jobs.view.failures_only());
                if filter.is_empty() && !failures {
                    let n = self.jobs.marks.len();
                    self.jobs.marks.clear();
                    self.toast(format!("marks cleared ({n}); * marks every job matching a filter (/ or f)"), true);
                    return vec![];
                }
                let limit = crate::clients::redis::FILTER_MAX_SCAN;
                vec![Effect::FetchMatching(JobsQuery { filter, failures_only: failures, limit, ..Default::default() })]
            }
            Action::Quit => self.quit(),
            Action::Help => {
                self.mode = Mode::Help;
                vec![]
            }
            Action::NextPane | Action::PrevPane => {
                let (i, n) = (self.focus.number() - 1, PaneId::ALL.len());
                let next = if action == Action::NextPane { (i + 1) % n } else { (i + n - 1) % n };
                self.focus(PaneId::ALL[next])
            }
            Action::FocusQueue => self.focus(PaneId::Queue),
            Action::FocusJobs => self.focus(PaneId::Jobs),
            Action::FocusHealth => self.focus(PaneId::Health),
            Action::FocusAlerts => self.focus(PaneId::Alerts),
            Action::FocusRag => self.focus(PaneId::Rag),
            Action::FocusApprovals => self.focus(PaneId::Approvals),
            Action::FocusBackups => self.focus(PaneId::Backups),
            Action::Zoom => {
                self.zoomed = !self.zoomed;
                self.relayout()
            }
            Action::Filter if self.focus == PaneId::Rag => self.open_query(),
            Action::SearchKb => {
                self.focus = PaneId::Rag;
                self.open_query()
            }
            Action::Filter => {
                if self.focus != PaneId::Alerts {
                    self.set_focus(PaneId::Jobs);
                }
                let current =
                    if self.focus == PaneId::Alerts { &self.ops.alert_filter } else { self.jobs.view.filter() };
                self.inputs.open_filter(self.focus, current);
                self.mode = Mode::Filter;
                self.relayout()
            }
            Action::ToggleFailures => {
                self.set_focus(PaneId::Jobs);
                fetch(self.jobs.view.toggle_failures())
            }
            Action::Back => self.back(),
            _ => vec![],
        }
    }

    /// Esc on the dashboard: unzoom, else clear the focused pane's filter.
    fn back(&mut self) -> Vec<Effect> {
        self.inputs.clear_filter();
        if self.zoomed {
            self.zoomed = false;
            return self.relayout();
        }
        if self.focus == PaneId::Alerts && !self.ops.alert_filter.is_empty() {
            self.ops.set_alert_filter(String::new());
            return vec![];
        }
        fetch(self.jobs.view.set_filter(String::new()))
    }

    fn open_query(&mut self) -> Vec<Effect> {
        self.inputs.open_query();
        self.mode = Mode::RagQuery;
        vec![]
    }

    /// Open the form or the confirmation for an action on the selected alert. Nothing runs
    /// without a confirmation that names the target.
    fn alert_action(&mut self, action: Action) {
        let Some(alert) = self.ops.selected_alert() else { return };
        let target = format!("{} on {}", alert.name(), alert.labels.get("instance").map(String::as_str).unwrap_or("?"));
        let ams = alert.sources.clone();
        self.popup = match action {
            Action::Silence => Some(Popup::Silence(Box::new(SilenceForm::new(&matchers_for(alert), ams, target)))),
            Action::Ack => {
                Some(Popup::confirm(ActionRequest::Ack { matchers: matchers_for(alert), alertmanagers: ams, target }))
            }
            _ => match alert.silenced_by.first() {
                Some(id) => Some(Popup::confirm(ActionRequest::SilenceExpire { id: id.clone(), alertmanagers: ams })),
                None => {
                    self.toast = Some(Toast { text: format!("{target} is not silenced"), ok: false, at: self.now });
                    None
                }
            },
        };
    }

    fn on_detail_action(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Quit => return self.quit(),
            Action::Help => {
                self.mode = Mode::Help;
                return vec![];
            }
            _ => {}
        }
        if let Some((_, scroll)) = self.ops.detail.as_mut() {
            match action {
                Action::Back | Action::Open => {
                    self.ops.detail = None;
                    self.mode = Mode::Normal;
                }
                Action::Down => *scroll = scroll.saturating_add(1),
                Action::Up => *scroll = scroll.saturating_sub(1),
                Action::Top => *scroll = 0,
                _ => {}
            }
            return vec![];
        }
        match self.jobs.on_detail_action(action, self.size.1 / 2) {
            Some(false) => vec![],
            Some(true) => {
                self.mode = Mode::Normal;
                // The RAG pane may still want the selected job's stored hits.
                vec![Effect::FollowDetail(self.rag.followed_job().map(String::from))]
            }
            None => {
                self.mode = Mode::Normal;
                vec![]
            }
        }
    }

    /// Focus a pane, relaying out when zoomed.
    fn focus(&mut self, pane: PaneId) -> Vec<Effect> {
        self.set_focus(pane);
        if self.zoomed { self.relayout() } else { vec![] }
    }

    /// Focus a pane; the RAG pane follows Jobs or Alerts when one of them gets the focus.
    fn set_focus(&mut self, pane: PaneId) {
        self.focus = pane;
        match pane {
            PaneId::Jobs => self.rag.follow = Follow::Jobs,
            PaneId::Alerts => self.rag.follow = Follow::Alerts,
            _ => {}
        }
    }
}

/// How far a movement key moves a cursor in a list showing `rows` rows.
fn movement(action: Action, rows: usize) -> Option<isize> {
    Some(match action {
        Action::Down => 1,
        Action::Up => -1,
        Action::PageDown => rows as isize,
        Action::PageUp => -(rows as isize),
        Action::Top => isize::MIN / 2,
        Action::Bottom => isize::MAX / 2,
        _ => return None,
    })
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
