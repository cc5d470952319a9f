//! The help overlay, built from the live key map so it never disagrees with the keys: one
//! section per key mode, in two columns when one does not fit the screen.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::{RenderCtx, centered};
use crate::tui::keymap::{Action, KeyMap};

const COLUMN: u16 = 76;

/// `scroll`: lines scrolled down, when the help is taller than the screen (j/k, PgDn/PgUp).
pub fn render(f: &mut Frame, area: Rect, ctx: &RenderCtx<'_>, keymap: &KeyMap, scroll: usize) {
    let t = ctx.theme;
    let mut lines: Vec<Line> = Vec::new();
    let mut mode = None;
    for (m, action, _, desc) in Action::DEFAULTS.iter() {
        if mode != Some(*m) {
            mode = Some(*m);
            lines.push(Line::styled(format!("── {} ", m.title()), t.title));
        }
        lines.push(Line::from(vec![
            Span::styled(format!("{:>14}  ", keymap.keys_in(*m, *action)), t.key),
            Span::styled(*desc, t.text),
        ]));
    }
    lines.push(Line::styled("── commands (: then the name; Tab completes, ↑/↓ recall) ", t.title));
    for c in crate::tui::commands::COMMANDS {
        lines.push(Line::from(vec![
            Span::styled(format!("{:>14}  ", format!(":{}", c.name)), t.key),
            Span::styled(c.help, t.text),
            Span::styled(if c.args.is_empty() { String::new() } else { format!("  :{} {}", c.name, c.args) }, t.muted),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("Keys can be rebound in the config's [keys] table. Any key closes this.", t.muted));
    let rows = area.height.saturating_sub(2).max(1) as usize;
    // Two columns when they fit side by side; else one, scrolled.
    let columns = if lines.len() <= rows || area.width < COLUMN * 2 { 1 } else { 2 };
    if columns == 1 && lines.len() > rows {
        // The last row says where this is and how to move.
        let (total, shown) = (lines.len(), rows.saturating_sub(1).max(1));
        let top = scroll.min(total.saturating_sub(shown));
        lines = lines.split_off(top);
        lines.truncate(shown);
        let end = top + lines.len();
        lines.push(Line::styled(format!("── lines {}–{end} of {total}; j/k, PgDn/PgUp scroll ", top + 1), t.key));
    }
    let per_column = lines.len().div_ceil(columns);
    let popup = centered(area, COLUMN * columns as u16, per_column as u16 + 2);
    f.render_widget(Clear, popup);
    let block =
        Block::default().borders(Borders::ALL).border_style(t.border_focused).title(Span::styled(" Help ", t.title));
    let inner = block.inner(popup);
    f.render_widget(block, popup);
    let areas = Layout::horizontal(vec![Constraint::Ratio(1, columns as u32); columns]).split(inner);
    for (chunk, area) in lines.chunks(per_column).zip(areas.iter()) {
        f.render_widget(Paragraph::new(chunk.to_vec()), *area);
    }
}
