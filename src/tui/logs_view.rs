//! A container's log in the dashboard: follows new lines while at the bottom, pauses when
//! scrolled up (`G` follows again), `t` timestamps, `w` wrap, `/` filters (a regular expression,
//! the matches highlighted), `n`/`N` jump between the matching lines. The buffer is bounded
//! (`log_lines`, and 16 MB of text); every byte is drawn escaped.

use crossterm::event::KeyEvent;

use super::app::{App, Effect, Mode};
use super::input::InputOutcome;
use super::keymap::Action;
use super::keys::movement;
use crate::logs::{LogBuffer, LogLine};

/// Lines asked of the engine's history when a log opens.
pub const TAIL: u64 = 1000;

#[derive(Debug)]
pub struct LogView {
    /// The container's id (what the engine is asked for) and name (what is shown).
    pub container: String,
    pub name: String,
    /// Which stream this view reads: lines of an earlier one are dropped.
    pub stream: u64,
    pub buffer: LogBuffer,
    /// At the bottom, showing new lines as they come.
    pub follow: bool,
    /// The first shown line while paused.
    pub top: usize,
    /// The line `n`/`N` jumped to.
    pub selected: Option<usize>,
    pub timestamps: bool,
    pub wrap: bool,
    pub filter: String,
    pub filter_error: Option<String>,
    /// Why the log stopped, once it has.
    pub ended: Option<String>,
    /// Lines received since the view opened.
    pub received: u64,
}

impl LogView {
    pub fn new(container: &str, name: &str, stream: u64, max_lines: usize) -> LogView {
        LogView {
            container: container.into(),
            name: name.into(),
            stream,
            buffer: LogBuffer::new(max_lines),
            follow: true,
            top: 0,
            selected: None,
            timestamps: false,
            wrap: false,
            filter: String::new(),
            filter_error: None,
            ended: None,
            received: 0,
        }
    }

    pub fn append(&mut self, lines: Vec<LogLine>) {
        self.received += lines.len() as u64;
        let before = self.buffer.dropped;
        for l in lines {
            self.buffer.push(l);
        }
        // Paused: keep the same lines in view while old ones drop off the front.
        let gone = (self.buffer.dropped - before) as usize;
        if !self.follow && self.buffer.filter().is_none() {
            self.top = self.top.saturating_sub(gone);
            self.selected = self.selected.map(|s| s.saturating_sub(gone));
        }
    }

    /// The first shown line for a window of `rows`.
    pub fn first_row(&self, rows: usize) -> usize {
        let n = self.buffer.shown_len();
        if self.follow { n.saturating_sub(rows) } else { self.top.min(n.saturating_sub(1)) }
    }

    fn scroll(&mut self, delta: isize, rows: usize) {
        let n = self.buffer.shown_len();
        let top = self.first_row(rows).saturating_add_signed(delta);
        let last_top = n.saturating_sub(rows);
        if delta > 0 && top >= last_top {
            self.follow = true;
            self.top = last_top;
        } else {
            self.follow = false;
            self.top = top.min(last_top);
        }
    }

    /// `n`/`N`: the next or previous matching line, brought into view.
    fn jump(&mut self, forward: bool, rows: usize) {
        let n = self.buffer.shown_len();
        if n == 0 {
            return;
        }
        let from = self.selected.unwrap_or(if forward { self.first_row(rows).wrapping_sub(1) } else { n });
        let to = if forward { from.wrapping_add(1).min(n - 1) } else { from.saturating_sub(1) };
        self.selected = Some(to);
        self.follow = false;
        let top = self.first_row(rows);
        if to < top || to >= top + rows {
            self.top = to.saturating_sub(rows / 2);
        } else {
            self.top = top;
        }
    }

    pub fn set_filter(&mut self, text: &str) {
        self.filter = text.to_string();
        match self.buffer.set_filter(text) {
            Ok(()) => self.filter_error = None,
            Err(e) => self.filter_error = Some(e),
        }
        self.selected = None;
        self.follow = true;
    }
}

impl App {
    /// Open the log of the container selected in Health.
    pub(super) fn open_logs(&mut self) -> Vec<Effect> {
        let Some(c) = self.ops.selected_container() else { return vec![] };
        let stream = self.logs.as_ref().map_or(1, |v| v.stream + 1);
        let view = LogView::new(&c.id, &c.name, stream, self.log_lines);
        let effect = Effect::FollowLogs { container: view.container.clone(), stream, tail: TAIL };
        self.logs = Some(view);
        self.mode = Mode::Logs;
        vec![effect]
    }

    fn log_rows(&self) -> usize {
        self.size.1.saturating_sub(4).max(1) as usize
    }

    pub(super) fn on_logs_action(&mut self, action: Action) -> Vec<Effect> {
        let rows = self.log_rows();
        let Some(v) = self.logs.as_mut() else {
            self.mode = Mode::Normal;
            return vec![];
        };
        if let Some(delta) = movement(action, rows) {
            match action {
                Action::Bottom => {
                    v.follow = true;
                    v.selected = None;
                }
                _ => v.scroll(delta, rows),
            }
            return vec![];
        }
        match action {
            Action::ToggleTimestamps => v.timestamps = !v.timestamps,
            Action::ToggleWrap => v.wrap = !v.wrap,
            Action::NextMatch | Action::PrevMatch => v.jump(action == Action::NextMatch, rows),
            Action::Filter => {
                let current = v.filter.clone();
                self.inputs.open_log_filter(&current);
                self.mode = Mode::LogFilter;
            }
            Action::Back => {
                self.logs = None;
                self.mode = Mode::Normal;
                return vec![Effect::StopLogs];
            }
            Action::Yank => return self.yank(),
            Action::Command => return self.open_command(),
            Action::Quit => return self.on_action(Action::Quit),
            _ => {}
        }
        vec![]
    }

    pub(super) fn on_log_filter_key(&mut self, key: KeyEvent, action: Option<Action>) -> Vec<Effect> {
        let outcome = self.inputs.filter_key(key, action);
        let Some(v) = self.logs.as_mut() else {
            self.mode = Mode::Normal;
            return vec![];
        };
        match outcome {
            InputOutcome::Edited(text) => v.set_filter(&text),
            InputOutcome::Cancelled => {
                v.set_filter("");
                self.mode = Mode::Logs;
            }
            _ => self.mode = Mode::Logs,
        }
        vec![]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(s: &str) -> LogLine {
        LogLine { ts: None, text: s.into(), stderr: false, cut: 0 }
    }

    #[test]
    fn scrolling_up_pauses_and_the_bottom_follows_again() {
        let mut v = LogView::new("c1", "web", 1, 100);
        v.append((0..50).map(|i| line(&format!("l{i}"))).collect());
        assert_eq!(v.first_row(10), 40);
        v.scroll(-5, 10);
        assert!(!v.follow);
        assert_eq!(v.first_row(10), 35);
        v.append(vec![line("new")]);
        assert_eq!(v.first_row(10), 35, "paused: the view stays put");
        v.scroll(100, 10);
        assert!(v.follow);
        v.set_filter("l1");
        assert_eq!(v.buffer.shown_len(), 11);
        v.jump(true, 5);
        assert_eq!(v.selected, Some(6), "the first match below the view's top");
        v.jump(false, 5);
        assert_eq!(v.selected, Some(5));
    }
}
