//! The one-line text inputs: the filter (Jobs or Alerts) and the knowledge-base query with its
//! recall of recent queries. Keys arrive as key-map actions of the `Input` mode; anything else
//! edits the text.

use crossterm::event::KeyEvent;
use ratatui_textarea::{CursorMove, TextArea};

use super::app::PaneId;
use super::keymap::Action;

/// What a key in a text input asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum InputOutcome {
    /// The text changed (a filter applies as it is typed).
    Edited(String),
    /// Accepted.
    Submitted(String),
    /// Closed without accepting.
    Cancelled,
    /// Nothing for the app to do.
    Nothing,
}

#[derive(Debug, Default)]
pub struct Inputs {
    pub filter: TextArea<'static>,
    /// Which pane the filter being typed applies to (Jobs or Alerts).
    pub filter_target: Option<PaneId>,
    pub query: TextArea<'static>,
    /// The command line (`:`).
    pub command: TextArea<'static>,
    /// Where ↑/↓ are in the recent queries or commands.
    recall: Option<usize>,
}

fn line(text: &TextArea<'static>) -> String {
    text.lines().first().cloned().unwrap_or_default()
}

fn with_text(text: &str) -> TextArea<'static> {
    let mut t = TextArea::new(vec![text.to_string()]);
    t.move_cursor(CursorMove::End);
    t
}

impl Inputs {
    /// Start typing a filter for `pane`, from its current filter.
    pub fn open_filter(&mut self, pane: PaneId, current: &str) {
        self.filter = with_text(current);
        self.filter_target = Some(pane);
    }

    /// Start typing the log view's filter, from its current one.
    pub fn open_log_filter(&mut self, current: &str) {
        self.filter = with_text(current);
    }

    pub fn clear_filter(&mut self) {
        self.filter = TextArea::default();
    }

    /// Start typing a knowledge-base query.
    pub fn open_query(&mut self) {
        self.query = TextArea::default();
        self.recall = None;
    }

    pub fn filter_key(&mut self, key: KeyEvent, action: Option<Action>) -> InputOutcome {
        match action {
            Some(Action::Submit) => InputOutcome::Submitted(line(&self.filter)),
            Some(Action::Cancel) => {
                self.filter = TextArea::default();
                InputOutcome::Cancelled
            }
            // Tab completes commands only; a filter has nothing to complete.
            Some(Action::Complete) => InputOutcome::Nothing,
            _ => {
                self.filter.input(key);
                InputOutcome::Edited(line(&self.filter))
            }
        }
    }

    /// A key in the query box; `history` is the recent queries, newest last.
    pub fn query_key(&mut self, key: KeyEvent, action: Option<Action>, history: &[String]) -> InputOutcome {
        recall_key(&mut self.query, &mut self.recall, key, action, history)
    }

    /// Start typing a command (`:`).
    pub fn open_command(&mut self) {
        self.command = TextArea::default();
        self.recall = None;
    }

    /// A key on the command line; `history` is the earlier commands, newest last.
    pub fn command_key(&mut self, key: KeyEvent, action: Option<Action>, history: &[String]) -> InputOutcome {
        recall_key(&mut self.command, &mut self.recall, key, action, history)
    }

    /// The command being typed.
    pub fn command_line(&self) -> String {
        line(&self.command)
    }

    /// Replace the command being typed (completion), the cursor at its end.
    pub fn set_command(&mut self, text: &str) {
        self.command = with_text(text);
    }
}

/// A key in a one-line input with a history: Enter submits, Esc cancels, ↑/↓ recall, anything
/// else edits (and is reported as an edit).
fn recall_key(
    text: &mut TextArea<'static>,
    recall: &mut Option<usize>,
    key: KeyEvent,
    action: Option<Action>,
    history: &[String],
) -> InputOutcome {
    let at = match action {
        Some(Action::Submit) => {
            let typed = line(text);
            *text = TextArea::default();
            return InputOutcome::Submitted(typed);
        }
        Some(Action::Cancel) => {
            *text = TextArea::default();
            return InputOutcome::Cancelled;
        }
        Some(Action::RecallOlder) if !history.is_empty() => {
            Some(recall.map_or(history.len() - 1, |p| p.saturating_sub(1)))
        }
        Some(Action::RecallNewer) => match *recall {
            Some(p) if p + 1 < history.len() => Some(p + 1),
            _ => None,
        },
        Some(Action::Complete) => return InputOutcome::Nothing,
        _ => {
            text.input(key);
            return InputOutcome::Edited(line(text));
        }
    };
    *recall = at;
    *text = with_text(at.and_then(|i| history.get(i)).map(String::as_str).unwrap_or(""));
    InputOutcome::Edited(line(text))
}
