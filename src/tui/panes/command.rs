//! The command line's candidates: above the footer while `:` is open, each with what it takes
//! and does, the one Tab put in highlighted.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::RenderCtx;
use crate::tui::app::App;
use crate::tui::commands;

/// Candidates shown at most; the rest are counted.
const SHOWN: usize = 8;

pub fn render(f: &mut Frame, body: Rect, ctx: &RenderCtx<'_>, app: &App) {
    let t = ctx.theme;
    if app.completions.is_empty() || body.height < 3 {
        return;
    }
    let shown = app.completions.len().min(SHOWN).min(body.height.saturating_sub(2) as usize);
    let mut lines: Vec<Line> = Vec::new();
    let start = app.completion_at.map_or(0, |i| i.saturating_sub(shown.saturating_sub(1)));
    for (i, c) in app.completions.iter().enumerate().skip(start).take(shown) {
        let command = commands::parse(c).ok().map(|(cmd, _)| cmd);
        let args = command.map(|c| c.args).filter(|_| !c.contains(' ')).unwrap_or("");
        let help = command.map(|c| c.help).filter(|_| !c.contains(' ')).unwrap_or("");
        let style = if app.completion_at == Some(i) { t.selected } else { t.key };
        lines.push(Line::from(vec![
            Span::styled(format!(":{c}"), style),
            Span::styled(format!(" {args}"), t.muted),
            Span::styled(format!("  {help}"), t.text),
        ]));
    }
    let more = app.completions.len().saturating_sub(shown);
    let title = if more > 0 { format!(" Tab: {more} more ") } else { " Tab completes ".to_string() };
    let width = lines.iter().map(|l| l.width()).max().unwrap_or(0).saturating_add(2).min(body.width as usize) as u16;
    let height = lines.len() as u16 + 2;
    let area = Rect { x: body.x, y: body.y + body.height - height, width, height };
    f.render_widget(Clear, area);
    let block =
        Block::default().borders(Borders::ALL).border_style(t.border_focused).title(Span::styled(title, t.muted));
    f.render_widget(Paragraph::new(lines).block(block), area);
}
