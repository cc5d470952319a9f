//! The Jobs pane: newest first, with status, severity, host, alert type and age; only the
//! visible rows are built, whatever the size of the list.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::queue::thousands;
use super::{RenderCtx, error_line, pane_block};
use crate::domain::text::clean_line;
use crate::domain::{Job, Severity};
use crate::tui::app::{App, PaneId};
use crate::tui::loadable::age;

pub fn render(f: &mut Frame, area: Rect, ctx: &RenderCtx<'_>, app: &App, focused: bool) {
    let t = ctx.theme;
    let view = &app.view;
    let block = pane_block(ctx, PaneId::Jobs, focused, Some(&app.jobs), &summary(app));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let mut body = inner;
    if let Some(line) = error_line(ctx, &app.jobs) {
        f.render_widget(Paragraph::new(line), Rect { height: 1.min(body.height), ..body });
        body.y += 1.min(body.height);
        body.height = body.height.saturating_sub(1);
    }
    let Some(page) = &app.jobs.data else {
        if app.jobs.error.is_none() {
            f.render_widget(Paragraph::new(Line::styled("loading…", t.muted)), body);
        }
        return;
    };
    if !view.accepts(&page.query) {
        // The rows on hand answer an earlier filter; showing them would lie.
        f.render_widget(Paragraph::new(Line::styled("searching…", t.muted)), body);
        return;
    }
    if view.total() == Some(0) {
        let msg = match (view.filter(), view.failures_only()) {
            ("", false) => "no jobs".to_string(),
            ("", true) => "no failed jobs".to_string(),
            (f, _) => format!("no jobs match “{}”", clean_line(f)),
        };
        f.render_widget(Paragraph::new(Line::styled(msg, t.muted)), body);
        return;
    }
    let wide = body.width >= 100;
    let header = Row::new(
        ["AGE", "STATUS", "SEV", "HOST", "TYPE", "ID", "DESCRIPTION"].map(|h| Cell::from(Span::styled(h, t.muted))),
    );
    let rows_visible = body.height.saturating_sub(1) as usize;
    let last = view.total().map(|t| t.min(view.top() + rows_visible)).unwrap_or(view.top() + rows_visible);
    let rows = (view.top()..last).map(|i| {
        let selected = i == view.selected();
        let row = match view.job_at(page, i) {
            Some(job) => job_row(ctx, job, wide),
            None => Row::new([Cell::from(Span::styled("…", t.muted))]),
        };
        if selected && focused {
            row.style(t.selected)
        } else if selected {
            row.style(t.selected.remove_modifier(ratatui::style::Modifier::BOLD))
        } else {
            row
        }
    });
    let widths = if wide {
        [
            Constraint::Length(4),
            Constraint::Length(17),
            Constraint::Length(8),
            Constraint::Length(18),
            Constraint::Length(16),
            Constraint::Length(10),
            Constraint::Min(10),
        ]
    } else {
        [
            Constraint::Length(4),
            Constraint::Length(8),
            Constraint::Length(4),
            Constraint::Length(14),
            Constraint::Length(14),
            Constraint::Length(8),
            Constraint::Min(0),
        ]
    };
    f.render_widget(Table::new(rows, widths).header(header).column_spacing(1), body);
}

/// `1,234 jobs`, `12 failed`, `3 matches in newest 10,000`, with the row: `· 7/1,234`.
fn summary(app: &App) -> String {
    let v = &app.view;
    if app.jobs.data.as_ref().is_none_or(|p| !v.accepts(&p.query)) {
        return if v.failures_only() { "failed".into() } else { String::new() };
    }
    let noun = if v.failures_only() { "failed" } else { "jobs" };
    let count = match (v.total(), app.jobs.data.as_ref().and_then(|p| p.scanned)) {
        (Some(t), _) if v.filter().is_empty() => format!("{} {noun}", thousands(t as u64)),
        (Some(t), scanned) => format!(
            "{} matches{}",
            thousands(t as u64),
            scanned.map(|s| format!(" in newest {}", thousands(s))).unwrap_or_default()
        ),
        (None, _) => format!("{}+ matches", thousands(v.selected() as u64 + 1)),
    };
    match v.total() {
        Some(t) if t > 0 => format!("{count} · {}/{}", thousands(v.selected() as u64 + 1), thousands(t as u64)),
        _ => count,
    }
}

fn job_row<'a>(ctx: &RenderCtx<'_>, job: &'a Job, wide: bool) -> Row<'a> {
    let t = ctx.theme;
    let age = job.created_at.map(|c| age((ctx.now - c).num_seconds())).unwrap_or_else(|| "?".into());
    let status = if wide { job.status.as_str() } else { job.status.short() };
    let sev = match (job.severity, wide) {
        (s, true) => s.as_str(),
        (Severity::Critical, false) => "crit",
        (Severity::Medium, false) => "med",
        (Severity::Unknown, false) => "?",
        (s, false) => s.as_str(),
    };
    let unknown = |s: &'a Option<String>| -> Cell<'a> {
        match s {
            Some(v) => Cell::from(v.as_str()),
            None => Cell::from(Span::styled("?", t.muted)),
        }
    };
    Row::new([
        Cell::from(Span::styled(age, t.muted)),
        Cell::from(Span::styled(status, t.status(&job.status))),
        Cell::from(Span::styled(sev, t.severity(job.severity))),
        unknown(&job.hostname),
        unknown(&job.alert_type),
        Cell::from(Span::styled(job.id.as_str(), t.muted)),
        match (&job.error, &job.summary) {
            (Some(e), _) if job.status == crate::domain::JobStatus::Failed => {
                Cell::from(Span::styled(e.as_str(), t.error))
            }
            (_, s) => unknown(s),
        },
    ])
    .style(Style::default().patch(t.text))
}
