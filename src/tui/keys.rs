//! Keys: the key map of the current mode turns a key into an action, and the action changes the
//! focused pane's state (or opens a popup, which every action passes through).

use crossterm::event::KeyEvent;

use super::app::{App, Effect, Mode, PaneId, Toast};
use super::input::InputOutcome;
use super::jobs_state::fetch;
use super::keymap::{Action, KeyMode};
use super::layout;
use super::ops_state::OpsDetail;
use super::popup::{Popup, PopupOutcome, SilenceForm};
use super::rag_state::Follow;
use crate::actions::ActionRequest;
use crate::actions::silence::{ack_request, matchers_for};
use crate::domain::Origin;

impl App {
    /// The key bindings live now.
    pub fn key_mode(&self) -> KeyMode {
        match (&self.popup, self.mode) {
            (Some(p), _) => p.key_mode(),
            (None, Mode::Filter | Mode::RagQuery | Mode::Command | Mode::LogFilter) => KeyMode::Input,
            (None, Mode::Logs) => KeyMode::Logs,
            _ => KeyMode::Normal,
        }
    }

    pub(super) fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let mode = self.key_mode();
        // The log view's own keys first, then the dashboard's (movement, `/`, Esc, `q`).
        let action = self
            .keymap
            .action_in(mode, &key)
            .or_else(|| (mode == KeyMode::Logs).then(|| self.keymap.action_in(KeyMode::Normal, &key)).flatten());
        if action == Some(Action::ForceQuit) {
            return self.quit();
        }
        if let Some(popup) = self.popup.as_mut() {
            return match popup.on_key(key, &self.keymap) {
                PopupOutcome::Stay => vec![],
                PopupOutcome::Close => {
                    // A confirmation cancelled goes back to the form it came from, as typed;
                    // otherwise the footer says that nothing was done.
                    let (next, said) = match self.popup.take() {
                        Some(Popup::Confirm { back: Some(form), .. }) => (Some(*form), None),
                        Some(Popup::Confirm { requests, .. }) => {
                            let what = match requests.as_slice() {
                                [one] => format!("{} {}", one.name(), one.target()),
                                many => crate::domain::text::count(many.len() as u64, "action", "actions"),
                            };
                            (None, Some(format!("cancelled: {what} not done")))
                        }
                        Some(Popup::Form(_) | Popup::Silence(_)) => {
                            (None, Some("form closed: nothing sent".to_string()))
                        }
                        None => (None, None),
                    };
                    if let Some(mut form) = next {
                        form.set_error("not confirmed: edit, or submit again".into());
                        self.popup = Some(form);
                    }
                    if let Some(text) = said {
                        self.toast(text, true);
                    }
                    vec![]
                }
                PopupOutcome::Confirm(requests) => {
                    let summary = requests.iter().map(|r| r.describe()).collect::<Vec<_>>().join("\n");
                    let back = self.popup.take().map(Box::new);
                    self.popup = Some(Popup::Confirm { requests, summary, back });
                    vec![]
                }
                PopupOutcome::Run(mut requests) => {
                    self.popup = None;
                    if requests.iter().any(|r| matches!(r, ActionRequest::Backup { .. })) {
                        // Running from now, before the first progress arrives: `b` and `q` know.
                        self.backups.running = Some(crate::backup::Progress {
                            phase: "backup",
                            item: "starting".into(),
                            done: 0,
                            total: None,
                            estimated: true,
                            bytes_per_s: 0.0,
                            eta_s: None,
                            elapsed_s: 0.0,
                        });
                    }
                    match requests.len() {
                        1 => requests.pop().map(Effect::RunAction).into_iter().collect(),
                        _ => vec![Effect::RunBulk(requests)],
                    }
                }
            };
        }
        match self.mode {
            Mode::Help => {
                // The movement keys scroll it (it is taller than a small terminal); any other
                // key closes it.
                if let Some(delta) = action.and_then(|a| movement(a, self.size.1.saturating_sub(4).max(1) as usize)) {
                    self.help_scroll = self.help_scroll.saturating_add_signed(delta).min(500);
                    return vec![];
                }
                self.help_scroll = 0;
                let detail_open = self.jobs.detail.is_some() || self.ops.detail.is_some();
                self.mode = if detail_open { Mode::Detail } else { Mode::Normal };
                vec![]
            }
            Mode::Filter => self.on_filter_key(key, action),
            Mode::RagQuery => self.on_query_key(key, action),
            Mode::Command => self.on_command_key(key, action),
            Mode::Errors => action.map(|a| self.on_errors_action(a)).unwrap_or_default(),
            Mode::Fleet => action.map(|a| self.on_fleet_action(a)).unwrap_or_default(),
            Mode::Logs => action.map(|a| self.on_logs_action(a)).unwrap_or_default(),
            Mode::LogFilter => self.on_log_filter_key(key, action),
            Mode::Detail => action.map(|a| self.on_detail_action(a)).unwrap_or_default(),
            Mode::Audit => action.map(|a| self.on_audit_action(a)).unwrap_or_default(),
            Mode::Normal => action.map(|a| self.on_action(a)).unwrap_or_default(),
        }
    }

    /// An action as its key would run it in the current mode (the wheel's Up and Down).
    pub(super) fn on_key_action(&mut self, action: Action) -> Vec<Effect> {
        match self.mode {
            Mode::Logs => self.on_logs_action(action),
            Mode::Normal => self.on_action(action),
            _ => vec![],
        }
    }

    pub(super) fn quit(&mut self) -> Vec<Effect> {
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

    /// Where everything is at the current size.
    pub(super) fn areas(&self) -> layout::Areas {
        let area = ratatui::layout::Rect::new(0, 0, self.size.0, self.size.1);
        let zoomed = self.zoomed.then_some(self.focus);
        layout::compute(area, zoomed, self.focus, self.jobs.queue_slots, self.ops.configured.pipeline)
    }

    /// Visible list rows of a pane at the current size.
    pub(super) fn pane_rows(&self, pane: PaneId) -> usize {
        self.areas().pane(pane).map(|r| r.height.saturating_sub(3) as usize).unwrap_or(1).max(1)
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
                    // Enter: the container's log; `d`: its details (k9s's describe).
                    (PaneId::Health, Action::Open) if self.ops.selected_container().is_some() => {
                        return Some(self.open_logs());
                    }
                    (PaneId::Health, Action::Describe) => {
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

    fn ops_move(&mut self, delta: isize, rows: usize) {
        match self.focus {
            PaneId::Alerts => self.ops.move_alerts(delta, rows),
            PaneId::Health => self.ops.move_containers(delta, rows),
            _ => self.rag.move_cursor(delta, rows),
        }
    }

    pub(super) fn on_action(&mut self, action: Action) -> Vec<Effect> {
        // Going elsewhere (another pane, zoom, details, back) leaves the last message behind.
        if matches!(
            action,
            Action::FocusQueue
                | Action::FocusJobs
                | Action::FocusHealth
                | Action::FocusAlerts
                | Action::FocusRag
                | Action::FocusApprovals
                | Action::FocusBackups
                | Action::NextPane
                | Action::PrevPane
                | Action::Zoom
                | Action::Open
                | Action::Back
        ) {
            self.toast = None;
        }
        // A key that acts in one pane only says where, rather than doing nothing.
        if let Some((home, verb)) = home(action)
            && home != self.focus
        {
            let key = self.keymap.first_key(focus_action(home)).to_string();
            self.toast(format!("{verb} acts on the {} pane: press {key} first", home.title()), false);
            return vec![];
        }
        if self.focus == PaneId::Approvals
            && let Some(effects) = self.on_approvals_action(action)
        {
            return effects;
        }
        if self.focus == PaneId::Backups
            && let Some(effects) = self.on_backups_action(action)
        {
            return effects;
        }
        if let Some(effects) = self.on_pane_action(action) {
            return effects;
        }
        if let Some(effects) = self.on_act_action(action) {
            return effects;
        }
        match action {
            // Quitting while a backup runs asks first: the second `q` quits (Ctrl-C always does).
            Action::Quit if self.backups.running.is_some() && !self.quit_armed => {
                self.quit_armed = true;
                let key = self.keymap.first_key(Action::Quit).to_string();
                self.toast = Some(Toast {
                    text: format!("a backup is running: press {key} again to quit and stop it"),
                    ok: false,
                    at: self.now,
                });
                vec![]
            }
            Action::Quit => self.quit(),
            Action::Help => {
                self.mode = Mode::Help;
                vec![]
            }
            Action::Command => self.open_command(),
            Action::Yank => self.yank(),
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
        // Both narrowings of the job list at once: the text filter and `f`.
        fetch(self.jobs.view.clear_filters())
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
        let place = alert.labels.get("instance").or(alert.labels.get("host")).map(String::as_str).unwrap_or("?");
        let target = format!("{} on {place}", alert.name());
        let ams = alert.sources.clone();
        let from_alertmanager = matches!(alert.origin, Origin::Alertmanager);
        self.popup = match action {
            Action::Ack => match ack_request(alert) {
                Ok(request) => Some(Popup::confirm(request)),
                Err(why) => {
                    self.toast = Some(Toast { text: why, ok: false, at: self.now });
                    None
                }
            },
            // Silences are Alertmanager's: a Zabbix problem is acknowledged, a CrowdSec alert
            // stands.
            _ if !from_alertmanager => {
                let text = format!("{target} comes from {}: silences are Alertmanager's", alert.origin.system());
                self.toast = Some(Toast { text, ok: false, at: self.now });
                None
            }
            Action::Silence => Some(Popup::Silence(Box::new(SilenceForm::new(&matchers_for(alert), ams, target)))),
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
            Action::Yank => return self.yank(),
            Action::Command => return self.open_command(),
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
    pub(super) fn set_focus(&mut self, pane: PaneId) {
        self.focus = pane;
        match pane {
            PaneId::Jobs | PaneId::Approvals => self.rag.follow = Follow::Jobs,
            PaneId::Alerts => self.rag.follow = Follow::Alerts,
            _ => {}
        }
    }
}

/// The pane an action acts in, when it acts in one only, and what it does, in a few words.
pub(super) fn home(action: Action) -> Option<(PaneId, &'static str)> {
    Some(match action {
        Action::Approve => (PaneId::Approvals, "approve"),
        Action::Reject => (PaneId::Approvals, "reject"),
        Action::EditDraft => (PaneId::Approvals, "edit a draft"),
        Action::Silence => (PaneId::Alerts, "silence"),
        Action::Ack => (PaneId::Alerts, "ack"),
        Action::Expire => (PaneId::Alerts, "expire a silence"),
        Action::RunBackup => (PaneId::Backups, "back up"),
        Action::VerifyBackup => (PaneId::Backups, "verify an archive"),
        Action::Describe => (PaneId::Health, "describe a container"),
        Action::Retry => (PaneId::Jobs, "retry"),
        Action::CancelJob => (PaneId::Jobs, "cancel"),
        Action::Mark => (PaneId::Jobs, "mark"),
        Action::MarkAll => (PaneId::Jobs, "mark all"),
        _ => return None,
    })
}

/// The action that focuses `pane`.
pub(super) fn focus_action(pane: PaneId) -> Action {
    match pane {
        PaneId::Queue => Action::FocusQueue,
        PaneId::Jobs => Action::FocusJobs,
        PaneId::Health => Action::FocusHealth,
        PaneId::Alerts => Action::FocusAlerts,
        PaneId::Rag => Action::FocusRag,
        PaneId::Approvals => Action::FocusApprovals,
        PaneId::Backups => Action::FocusBackups,
    }
}

/// How far a movement key moves a cursor in a list showing `rows` rows.
pub(super) fn movement(action: Action, rows: usize) -> Option<isize> {
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
