//! The command line's keys and what a command does: the same state changes as the keys (a
//! command naming an action runs that action), plus what only has a name (`:errors`, `:theme`).

use crossterm::event::KeyEvent;

use super::app::{App, Effect, Mode, PaneId};
use super::commands::{self, Run};
use super::input::InputOutcome;
use super::jobs_state::fetch;
use super::keymap::Action;
use super::keys::movement;

impl App {
    pub(super) fn open_command(&mut self) -> Vec<Effect> {
        self.inputs.open_command();
        // Where Esc (or a command that leaves the mode alone) goes back to.
        self.command_return = if self.mode == Mode::Command { self.command_return } else { self.mode };
        self.mode = Mode::Command;
        self.completion_at = None;
        self.completions = commands::complete("", &self.choices);
        vec![]
    }

    pub(super) fn on_command_key(&mut self, key: KeyEvent, action: Option<Action>) -> Vec<Effect> {
        if action == Some(Action::Complete) {
            self.complete();
            return vec![];
        }
        match self.inputs.command_key(key, action, &self.command_history) {
            InputOutcome::Submitted(line) => {
                // The last command's message is not this one's answer.
                self.toast = None;
                let back = self.command_return;
                self.mode = back;
                self.completions.clear();
                if line.trim().is_empty() {
                    return vec![];
                }
                commands::remember(&mut self.command_history, &line);
                let mut effects = vec![Effect::SaveCommandHistory(self.command_history.clone())];
                effects.extend(self.run_command(&line));
                // A command that left the fleet or a log stops what fed it.
                if back == Mode::Fleet && self.mode != Mode::Fleet {
                    effects.push(Effect::StopFleet);
                }
                if matches!(back, Mode::Logs | Mode::LogFilter) && !matches!(self.mode, Mode::Logs | Mode::LogFilter) {
                    self.logs = None;
                    effects.push(Effect::StopLogs);
                }
                effects
            }
            InputOutcome::Cancelled => {
                self.mode = self.command_return;
                self.completions.clear();
                vec![]
            }
            InputOutcome::Edited(line) => {
                self.completion_at = None;
                self.completions = commands::complete(&line, &self.choices);
                vec![]
            }
            InputOutcome::Nothing => vec![],
        }
    }

    /// Tab: fill in the one candidate, or what all share; pressed again, the next candidate.
    fn complete(&mut self) {
        let typed = self.inputs.command_line();
        if let Some(i) = self.completion_at {
            let next = (i + 1) % self.completions.len().max(1);
            if let Some(c) = self.completions.get(next) {
                self.completion_at = Some(next);
                self.inputs.set_command(c);
            }
            return;
        }
        self.completions = commands::complete(&typed, &self.choices);
        match self.completions.as_slice() {
            [] => {}
            [one] => {
                // A command that takes something gets its space, ready for the argument.
                let takes = commands::parse(one).is_ok_and(|(c, a)| !c.args.is_empty() && a.is_empty());
                let text = if takes { format!("{one} ") } else { one.clone() };
                self.inputs.set_command(&text);
                self.completions = commands::complete(&text, &self.choices);
            }
            many => {
                let shared = commands::common_prefix(many);
                if shared.len() > typed.len() {
                    self.inputs.set_command(&shared);
                } else {
                    self.completion_at = Some(0);
                    let first = many[0].clone();
                    self.inputs.set_command(&first);
                }
            }
        }
    }

    /// Carry out a command line.
    pub fn run_command(&mut self, line: &str) -> Vec<Effect> {
        let (command, arg) = match commands::parse(line) {
            Ok(c) => c,
            Err(e) => {
                self.toast(e, false);
                return vec![];
            }
        };
        // A pane or an action from an overlay (fleet, errors, audit, a log) goes back to the
        // dashboard it acts on.
        let overlay = matches!(self.mode, Mode::Fleet | Mode::Errors | Mode::Audit | Mode::Logs | Mode::LogFilter);
        if overlay && matches!(command.run, Run::Pane(_) | Run::Key(_)) {
            self.mode = Mode::Normal;
        }
        match command.run {
            // A command names its pane's action: it goes to that pane (the form or confirmation
            // that follows names the target).
            Run::Key(action) => {
                if let Some((home, _)) = super::keys::home(action) {
                    self.set_focus(home);
                }
                self.on_action(action)
            }
            Run::Pane(pane) => self.command_pane(pane, arg),
            Run::Audit => {
                self.audit.open();
                self.audit.filter = arg;
                self.mode = Mode::Audit;
                vec![Effect::LoadAudit(self.audit.query())]
            }
            Run::Backup => match arg.as_str() {
                "run" | "" => {
                    self.set_focus(PaneId::Backups);
                    self.on_action(Action::RunBackup)
                }
                "verify" => {
                    self.set_focus(PaneId::Backups);
                    self.on_action(Action::VerifyBackup)
                }
                other => {
                    self.toast(format!(":backup {other}: say :backup run or :backup verify"), false);
                    vec![]
                }
            },
            Run::Errors => {
                self.errors.cursor = 0;
                self.mode = Mode::Errors;
                vec![]
            }
            Run::Theme if arg.is_empty() => {
                self.toast(format!("themes: {}", self.choices.themes.join(", ")), true);
                vec![]
            }
            Run::Theme => {
                self.theme_request = Some(arg);
                vec![]
            }
            Run::Ctx if arg.is_empty() || arg == self.context => {
                let others: Vec<&str> =
                    self.choices.contexts.iter().map(String::as_str).filter(|c| *c != self.context).collect();
                self.toast(format!("context {} (others: {})", self.context, others.join(", ")), true);
                vec![]
            }
            Run::Ctx if self.backups.running.is_some() && arg != self.context => {
                self.toast("a backup is running here: switching would stop watching it (wait for it)".into(), false);
                vec![]
            }
            Run::Ctx if self.in_flight > 0 && arg != self.context => {
                let n = crate::domain::text::count(self.in_flight as u64, "action", "actions");
                self.toast(
                    format!("{n} still running here: switch when they are done, or their outcome is lost"),
                    false,
                );
                vec![]
            }
            Run::Ctx if self.choices.contexts.contains(&arg) => {
                self.switch_to = Some(arg);
                vec![]
            }
            Run::Ctx => {
                self.toast(format!("no context {arg:?}; the config has {}", self.choices.contexts.join(", ")), false);
                vec![]
            }
            Run::Fleet => {
                self.mode = Mode::Fleet;
                vec![Effect::StartFleet]
            }
        }
    }

    /// `:jobs failed`, `:alerts FILTER`, `:rag QUERY`: focus, then narrow or search.
    fn command_pane(&mut self, pane: PaneId, arg: String) -> Vec<Effect> {
        self.set_focus(pane);
        let mut effects = if self.zoomed { self.relayout() } else { vec![] };
        match pane {
            PaneId::Jobs if matches!(arg.as_str(), "failed" | "failures") && !self.jobs.view.failures_only() => {
                effects.extend(fetch(self.jobs.view.toggle_failures()));
            }
            PaneId::Jobs if matches!(arg.as_str(), "failed" | "failures") => {}
            PaneId::Jobs if !arg.is_empty() => effects.extend(fetch(self.jobs.view.set_filter(arg))),
            PaneId::Alerts if !arg.is_empty() => self.ops.set_alert_filter(arg),
            PaneId::Rag if !arg.is_empty() => {
                effects.extend(self.rag.submit(&arg, self.now).map(Effect::RagSearch));
            }
            _ => {}
        }
        effects
    }

    /// `y`: the selection's natural handle to the clipboard, and a toast saying what it was.
    pub(super) fn yank(&mut self) -> Vec<Effect> {
        use super::ops_state::OpsDetail;
        if !self.yank {
            self.toast("copying is off (yank = false in the config)".into(), false);
            return vec![];
        }
        let in_detail = matches!(self.mode, Mode::Detail | Mode::Help);
        let containers = self.ops.containers.data.as_deref().unwrap_or_default();
        let handle: Option<(&str, String)> = match (&self.ops.detail, &self.jobs.detail) {
            (Some((OpsDetail::Alert(fp), _)), _) if in_detail => Some(("alert fingerprint", fp.clone())),
            (Some((OpsDetail::Container(id), _)), _) if in_detail => {
                let name = containers.iter().find(|c| c.id == *id).map(|c| c.name.clone());
                Some(("container", name.unwrap_or_else(|| id.clone())))
            }
            (Some((OpsDetail::Hit(hit), _)), _) if in_detail => Some(("knowledge-base id", raw_id(&hit.id))),
            (_, Some(view)) if in_detail => {
                let url = view.data.data.as_ref().and_then(|d| d.as_ref()?.field("ticket_url").map(String::from));
                match url {
                    Some(url) => Some(("ticket URL", url)),
                    None => Some(("job id", view.id.clone())),
                }
            }
            _ => match self.focus {
                PaneId::Jobs | PaneId::Queue => self.jobs.view.selected_id().map(|id| ("job id", id)),
                PaneId::Approvals => self.approvals.selected_id().map(|id| ("job id", id.to_string())),
                PaneId::Alerts => self.ops.selected_alert().map(|a| match a.silenced_by.first() {
                    Some(id) => ("silence id", id.clone()),
                    None => ("alert fingerprint", a.fingerprint.clone()),
                }),
                PaneId::Health => self.ops.selected_container().map(|c| ("container", c.name.clone())),
                PaneId::Rag => self.rag.selected_hit().map(|h| ("knowledge-base id", raw_id(&h.id))),
                PaneId::Backups => self.backups.selected().map(|a| ("archive", a.path.display().to_string())),
            },
        };
        match handle.map(|(what, raw)| (what, crate::tui::clipboard::prepare(&raw), raw)) {
            Some((what, Ok((text, trimmed)), _)) => {
                let shown = crate::domain::text::clean_line(&text);
                let note = if trimmed { " (surrounding whitespace taken off)" } else { "" };
                self.toast(format!("copied {what} {shown}{note}"), true);
                self.clipboard = Some(text);
            }
            Some((what, Err(why), raw)) => {
                let shown = crate::domain::text::clean_line(&raw);
                self.toast(format!("✗ not copied: the {what} {shown} — {}", why.says()), false);
            }
            None => self.toast("nothing selected to copy".into(), false),
        }
        vec![]
    }

    pub(super) fn on_fleet_action(&mut self, action: Action) -> Vec<Effect> {
        let n = self.fleet.data.as_ref().map(Vec::len).unwrap_or(0);
        if let Some(delta) = movement(action, n.max(1)) {
            self.fleet_cursor = self.fleet_cursor.saturating_add_signed(delta).min(n.saturating_sub(1));
            return vec![];
        }
        match action {
            // Through the dashboard's quit: a running backup asks first.
            Action::Quit => self.on_action(Action::Quit),
            Action::Command => self.open_command(),
            Action::Back => {
                self.mode = Mode::Normal;
                vec![Effect::StopFleet]
            }
            Action::Open => {
                self.mode = Mode::Normal;
                let row = self.fleet.data.as_ref().and_then(|rows| rows.get(self.fleet_cursor));
                match row.map(|r| r.context.clone()) {
                    Some(name) if name != self.context => self.switch_to = Some(name),
                    _ => {}
                }
                vec![Effect::StopFleet]
            }
            _ => vec![],
        }
    }

    pub(super) fn on_errors_action(&mut self, action: Action) -> Vec<Effect> {
        let rows = self.size.1.saturating_sub(5).max(1) as usize;
        if let Some(delta) = movement(action, rows) {
            self.errors.move_cursor(delta);
            return vec![];
        }
        match action {
            // Through the dashboard's quit: a running backup asks first.
            Action::Quit => self.on_action(Action::Quit),
            Action::Command => self.open_command(),
            Action::Back | Action::Open => {
                self.mode = Mode::Normal;
                vec![]
            }
            _ => vec![],
        }
    }
}

#[cfg(test)]
#[path = "command_tests.rs"]
mod tests;

/// A knowledge-base id as its value (`doc-7`, `42`), not as JSON (`"doc-7"`).
fn raw_id(id: &serde_json::Value) -> String {
    match id {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
