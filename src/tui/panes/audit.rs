//! The audit log view (`L`): who did what, when, to what, and how it ended; newest first.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};

use super::{RenderCtx, error_line, freshness};
use crate::audit::Outcome;
use crate::domain::text::clean_line;
use crate::tui::audit_view::AuditView;
use crate::tui::cells::put_table;

pub fn render(f: &mut Frame, area: Rect, ctx: &RenderCtx<'_>, v: &AuditView, location: &str) {
    let t = ctx.theme;
    f.render_widget(Clear, area);
    let filter = if v.filter.is_empty() { String::new() } else { format!(" filter: {} ", clean_line(&v.filter)) };
    let title = Line::from(vec![
        Span::styled(" Audit log ", t.title),
        Span::styled(format!("{} ", clean_line(location)), t.muted),
        Span::styled(filter, t.warn),
        freshness(ctx, &v.records),
        Span::raw(" "),
    ]);
    let block =
        Block::default().borders(Borders::ALL).border_type(BorderType::Thick).border_style(t.border(true)).title(title);
    let mut body = block.inner(area);
    f.render_widget(block, area);
    if let Some(line) = error_line(ctx, &v.records) {
        f.render_widget(Paragraph::new(line), Rect { height: 1.min(body.height), ..body });
        body.y += 1.min(body.height);
        body.height = body.height.saturating_sub(1);
    }
    let Some(records) = &v.records.data else {
        f.render_widget(Paragraph::new(Line::styled("loading…", t.muted)), body);
        return;
    };
    if records.is_empty() {
        let hint = "nothing recorded yet (or nothing matches); / filters: actor:NAME action:approve outcome:failed";
        f.render_widget(Paragraph::new(Line::styled(hint, t.muted)), body);
        return;
    }
    let buf = f.buffer_mut();
    let cols: [(&str, u16); 6] =
        [("AT (UTC)", 19), ("ACTOR", 22), ("ACTION", 8), ("OUTCOME", 8), ("TARGET", 22), ("DETAIL", u16::MAX)];
    let selected = t.selected.remove_modifier(Modifier::BOLD);
    put_table(buf, body, &cols, t.muted, selected, v.cursor, records.iter(), |r, put| {
        let outcome_style = match r.outcome {
            Outcome::Ok => t.ok,
            Outcome::Failed => t.error,
            Outcome::Started => t.muted,
        };
        let at = r.at.format("%Y-%m-%d %H:%M:%S").to_string();
        let cells = [
            (at.as_str(), t.muted),
            (r.actor.as_str(), t.text),
            (r.action.as_str(), t.text),
            (r.outcome.as_str(), outcome_style),
            (r.target.as_str(), t.text),
            (r.detail.as_str(), t.text),
        ];
        put(&cells);
    });
}
