//! The mouse, when `mouse = true` (off by default: capturing it breaks text selection in many
//! terminals): a click focuses the pane under it and, in a list, selects the row; the wheel
//! scrolls the pane under the pointer.

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Position;

use super::app::{App, Effect, Mode, PaneId};
use super::jobs_state::fetch;
use super::keymap::Action;

/// Rows the wheel moves at a time.
const WHEEL_ROWS: usize = 3;

impl App {
    pub fn on_mouse(&mut self, ev: MouseEvent) -> Vec<Effect> {
        if !self.mouse || self.popup.is_some() {
            return vec![];
        }
        // In a log, the wheel scrolls it; other overlays take no clicks.
        if self.mode == Mode::Logs {
            return match ev.kind {
                MouseEventKind::ScrollUp => self.repeat(Action::Up),
                MouseEventKind::ScrollDown => self.repeat(Action::Down),
                _ => vec![],
            };
        }
        if self.mode != Mode::Normal {
            return vec![];
        }
        let areas = self.areas();
        let at = Position::new(ev.column, ev.row);
        let Some((pane, rect)) = areas.panes.iter().copied().find(|(_, r)| r.contains(at)) else { return vec![] };
        match ev.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                let mut effects = if pane != self.focus { self.on_action(focus_action(pane)) } else { vec![] };
                // Rows start under the border and, in Jobs, the column header.
                if pane == PaneId::Jobs {
                    let first = rect.y + 2;
                    if ev.row >= first && ev.row < rect.y + rect.height.saturating_sub(1) {
                        let target = self.jobs.view.top() + (ev.row - first) as usize;
                        let delta = target as isize - self.jobs.view.selected() as isize;
                        effects.extend(fetch(self.jobs.view.move_by(delta)));
                    }
                }
                effects
            }
            MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => {
                let mut effects = if pane != self.focus { self.on_action(focus_action(pane)) } else { vec![] };
                let action = if ev.kind == MouseEventKind::ScrollUp { Action::Up } else { Action::Down };
                effects.extend(self.repeat(action));
                effects
            }
            _ => vec![],
        }
    }

    fn repeat(&mut self, action: Action) -> Vec<Effect> {
        (0..WHEEL_ROWS).flat_map(|_| self.on_key_action(action)).collect()
    }
}

fn focus_action(pane: PaneId) -> Action {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::app::Msg;
    use crate::tui::keymap::KeyMap;
    use crossterm::event::KeyModifiers;

    fn click(app: &mut App, kind: MouseEventKind, column: u16, row: u16) -> Vec<Effect> {
        app.update(Msg::Mouse(MouseEvent { kind, column, row, modifiers: KeyModifiers::NONE }))
    }

    #[test]
    fn clicks_focus_and_select_and_nothing_happens_when_off() {
        let mut app = App::new("ctx", "test", KeyMap::default(), chrono::Utc::now());
        app.update(Msg::Resized { width: 160, height: 48 });
        let left = MouseEventKind::Down(MouseButton::Left);
        click(&mut app, left, 150, 5);
        assert_eq!(app.focus, PaneId::Jobs, "off by default: nothing moves");
        app.mouse = true;
        click(&mut app, left, 150, 5);
        assert_eq!(app.focus, PaneId::Health, "the side column's first pane");
        click(&mut app, MouseEventKind::ScrollDown, 10, 20);
        assert_eq!(app.focus, PaneId::Jobs, "the wheel focuses the pane under it");
    }
}
