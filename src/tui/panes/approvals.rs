//! The Approvals pane: jobs awaiting approval, oldest first, with age and severity; beside the
//! list (when there is room) the selected job's draft ticket and analysis, and the
//! knowledge-base hits the worker used.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::detail::{analysis, hits, ticket};
use super::{RenderCtx, error_line, pane_block};
use crate::domain::facts::ContextFacts;
use crate::tui::app::PaneId;
use crate::tui::approvals_state::ApprovalsState;
use crate::tui::cells::put;
use crate::tui::loadable::age;

pub fn render(
    f: &mut Frame,
    area: Rect,
    ctx: &RenderCtx<'_>,
    s: &ApprovalsState,
    facts: &ContextFacts,
    focused: bool,
    refusal: Option<&str>,
) {
    let t = ctx.theme;
    let extra = match facts.awaiting_approval {
        Some(n) => format!("{n} awaiting"),
        None => String::new(),
    };
    let block = pane_block(ctx, PaneId::Approvals, focused, Some(&s.page), &extra);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let mut body = inner;
    if let Some(line) = error_line(ctx, &s.page) {
        f.render_widget(Paragraph::new(line), Rect { height: 1.min(body.height), ..body });
        body.y += 1.min(body.height);
        body.height = body.height.saturating_sub(1);
    }
    if let Some(why) = refusal.filter(|_| focused && body.height > 3) {
        let hint = format!("approve/reject refused here: {why}");
        f.render_widget(Paragraph::new(Line::styled(hint, t.muted)), Rect { height: 1, ..body });
        body.y += 1;
        body.height -= 1;
    }
    if s.page.data.is_none() {
        if s.page.error.is_none() {
            f.render_widget(Paragraph::new(Line::styled("loading…", t.muted)), body);
        }
        return;
    }
    if s.jobs().is_empty() {
        f.render_widget(Paragraph::new(Line::styled("nothing awaits approval", t.muted)), body);
        return;
    }
    // Side by side when there is room; else the list above the detail; else the list alone.
    let (list, detail, side) = if body.width >= 110 && body.height >= 6 {
        let [l, d, h] =
            Layout::horizontal([Constraint::Percentage(34), Constraint::Percentage(38), Constraint::Percentage(28)])
                .areas(body);
        (l, Some(d), Some(h))
    } else if body.height >= 16 {
        let [l, d] = Layout::vertical([Constraint::Length(body.height / 3), Constraint::Min(4)]).areas(body);
        (l, Some(d), None)
    } else {
        (body, None, None)
    };
    list_rows(f, list, ctx, s, focused);
    let Some(detail) = detail else { return };
    let Some(d) = s.selected_detail() else {
        f.render_widget(Paragraph::new(Line::styled("loading the draft…", t.muted)), detail);
        return;
    };
    let mut left = ticket(ctx, d);
    left.extend(analysis(ctx, d));
    if side.is_none() {
        left.extend(hits(ctx, d));
    }
    let block = Block::default().borders(Borders::LEFT).border_style(t.border(false));
    f.render_widget(Paragraph::new(left).block(block).wrap(Wrap { trim: false }), detail);
    if let Some(side) = side {
        let block = Block::default().borders(Borders::LEFT).border_style(t.border(false));
        f.render_widget(Paragraph::new(hits(ctx, d)).block(block).wrap(Wrap { trim: false }), side);
    }
}

fn list_rows(f: &mut Frame, area: Rect, ctx: &RenderCtx<'_>, s: &ApprovalsState, focused: bool) {
    let t = ctx.theme;
    let rows = area.height as usize;
    if rows == 0 {
        return;
    }
    let top = s.cursor.saturating_sub(rows.saturating_sub(1));
    let buf = f.buffer_mut();
    for (n, job) in s.jobs().iter().enumerate().skip(top).take(rows) {
        let y = area.y + (n - top) as u16;
        if n == s.cursor {
            let style = if focused { t.selected } else { t.selected.remove_modifier(Modifier::BOLD) };
            buf.set_style(Rect { y, height: 1, ..area }, style);
        }
        let waited = job.updated_at.or(job.created_at).map(|c| age(ctx.age_of(c))).unwrap_or_else(|| "?".into());
        let mut x = area.x;
        let right = area.x + area.width;
        for (text, w, style) in [
            (waited.as_str(), 5, t.muted),
            (job.severity.as_str(), 8, t.severity(job.severity)),
            (job.hostname.as_deref().unwrap_or("?"), 14, t.text),
            (job.alert_type.as_deref().unwrap_or("?"), 16, t.text),
            (job.id.as_str(), u16::MAX, t.muted),
        ] {
            let w = w.min(right.saturating_sub(x));
            put(buf, x, y, text, w, style);
            x = (x + w + 1).min(right);
        }
    }
}
