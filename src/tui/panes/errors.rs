//! The error history (`:errors`): the last source errors, newest first, with when each began,
//! when it was last seen and how often — so a source that flapped and recovered still shows.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};

use super::RenderCtx;
use crate::tui::cells::put_table;
use crate::tui::errors_log::{ErrorLog, KEEP};

pub fn render(f: &mut Frame, area: Rect, ctx: &RenderCtx<'_>, log: &ErrorLog) {
    let t = ctx.theme;
    f.render_widget(Clear, area);
    let title = Line::from(vec![
        Span::styled(" Source errors ", t.title),
        Span::styled("times in UTC · ", t.muted),
        Span::styled(format!("{} kept (the last {KEEP}, in memory) ", log.len()), t.muted),
    ]);
    let block =
        Block::default().borders(Borders::ALL).border_type(BorderType::Thick).border_style(t.border(true)).title(title);
    let body = block.inner(area);
    f.render_widget(block, area);
    if log.is_empty() {
        f.render_widget(Paragraph::new(Line::styled("no source has failed since mcptop started", t.ok)), body);
        return;
    }
    let buf = f.buffer_mut();
    let cols: [(&str, u16); 5] = [("LAST", 8), ("FIRST", 8), ("TIMES", 5), ("SOURCE", 26), ("MESSAGE", u16::MAX)];
    let selected = t.selected.remove_modifier(Modifier::BOLD);
    put_table(buf, body, &cols, t.muted, selected, log.cursor, log.newest_first(), |e, put| {
        let (last, first) = (e.last.format("%H:%M:%S").to_string(), e.first.format("%H:%M:%S").to_string());
        let count = format!("×{}", e.count);
        let cells = [
            (last.as_str(), t.text),
            (first.as_str(), t.muted),
            (count.as_str(), t.muted),
            (e.source.as_str(), t.warn),
            (e.message.as_str(), t.error),
        ];
        put(&cells);
    });
}
