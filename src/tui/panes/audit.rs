//! The audit log view (`L`): who did what, when, to what, and how it ended; newest first.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};

use super::{RenderCtx, centered, error_line, freshness};
use crate::audit::{Outcome, Record};
use crate::domain::text::{clean_line, clean_text};
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
    let cols: [(&str, u16); 7] = [
        ("AT (UTC)", 19),
        ("ACTOR", 22),
        ("CONTEXT", 12),
        ("ACTION", 11),
        ("OUTCOME", 7),
        ("TARGET", 22),
        ("DETAIL", u16::MAX),
    ];
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
            (r.context.as_str(), t.muted),
            (r.action.as_str(), t.text),
            (r.outcome.as_str(), outcome_style),
            (r.target.as_str(), t.text),
            (r.detail.as_str(), t.text),
        ];
        put(&cells);
    });
    if let (Some(scroll), Some(r)) = (v.detail, v.selected()) {
        record(f, area, ctx, r, scroll);
    }
}

/// Longest part of a record's detail or request shown in full (the store keeps it whole).
const MAX_SHOWN_CHARS: usize = 64 * 1024;

/// One record in full, over the list: every field, the detail wrapped, the request as JSON.
fn record(f: &mut Frame, area: Rect, ctx: &RenderCtx<'_>, r: &Record, scroll: u16) {
    let t = ctx.theme;
    let field = |name: &str, value: String| {
        Line::from(vec![Span::styled(format!("{name:<9}"), t.muted), Span::styled(clean_line(&value), t.text)])
    };
    let mut lines = vec![
        field("at", format!("{} UTC", r.at.format("%Y-%m-%d %H:%M:%S"))),
        field("actor", r.actor.clone()),
        field("context", r.context.clone()),
        field("action", r.action.clone()),
        field("target", r.target.clone()),
        field("outcome", r.outcome.as_str().to_string()),
        Line::default(),
        Line::styled("detail", t.muted),
    ];
    lines.extend(clean_text(&r.detail, MAX_SHOWN_CHARS).lines().map(|l| Line::styled(l.to_string(), t.text)));
    if !r.params.is_null() {
        lines.push(Line::default());
        lines.push(Line::styled("request (secrets removed)", t.muted));
        let json = serde_json::to_string_pretty(&r.params).unwrap_or_default();
        lines.extend(clean_text(&json, MAX_SHOWN_CHARS).lines().map(|l| Line::styled(l.to_string(), t.text)));
    }
    let popup = centered(area, area.width.saturating_sub(4).min(110), area.height.saturating_sub(2));
    let scroll = scroll.min(lines.len().saturating_sub(1) as u16);
    let title = Line::from(vec![
        Span::styled(format!(" Audit record {} ", r.id), t.title),
        Span::styled("(↑↓ scroll · esc back) ", t.muted),
    ]);
    let block =
        Block::default().borders(Borders::ALL).border_type(BorderType::Thick).border_style(t.border(true)).title(title);
    f.render_widget(Clear, popup);
    f.render_widget(Paragraph::new(lines).block(block).wrap(Wrap { trim: false }).scroll((scroll, 0)), popup);
}
