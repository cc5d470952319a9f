//! The help overlay, built from the live key map so it never disagrees with the keys.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::{RenderCtx, centered};
use crate::tui::keymap::{Action, KeyMap};

pub fn render(f: &mut Frame, area: Rect, ctx: &RenderCtx<'_>, keymap: &KeyMap) {
    let t = ctx.theme;
    let mut lines: Vec<Line> = Action::DEFAULTS
        .iter()
        .map(|(action, _, desc)| {
            Line::from(vec![
                Span::styled(format!("{:>14}  ", keymap.keys(*action)), t.key),
                Span::styled(*desc, t.text),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::styled("Keys can be rebound in the config's [keys] table. Any key closes this.", t.muted));
    let popup = centered(area, 76, lines.len() as u16 + 2);
    f.render_widget(Clear, popup);
    let block =
        Block::default().borders(Borders::ALL).border_style(t.border_focused).title(Span::styled(" Help ", t.title));
    f.render_widget(Paragraph::new(lines).block(block), popup);
}
