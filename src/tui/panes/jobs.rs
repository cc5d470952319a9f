//! The Jobs pane: newest first, with status, severity, host, alert type and age; only the
//! visible rows are built, whatever the size of the list.

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use super::queue::thousands;
use super::{RenderCtx, error_line, pane_block};
use crate::domain::text::{clean_line, count};
use crate::domain::{Job, JobStatus, Severity};
use crate::tui::app::PaneId;
use crate::tui::cells::put;
use crate::tui::jobs_state::JobsState;
use crate::tui::loadable::age;

pub fn render(f: &mut Frame, area: Rect, ctx: &RenderCtx<'_>, jobs: &JobsState, focused: bool) {
    let t = ctx.theme;
    let view = &jobs.view;
    let mut extra = summary(jobs);
    if !jobs.marks.is_empty() {
        extra.push_str(&format!(" · {} marked", jobs.marks.len()));
    }
    let block = pane_block(ctx, PaneId::Jobs, focused, Some(&jobs.page), &extra);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let mut body = inner;
    if let Some(line) = error_line(ctx, &jobs.page) {
        f.render_widget(Paragraph::new(line), Rect { height: 1.min(body.height), ..body });
        body.y += 1.min(body.height);
        body.height = body.height.saturating_sub(1);
    }
    let Some(page) = &jobs.page.data else {
        if jobs.page.error.is_none() {
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
    let cols: &[u16; 6] = if wide { &WIDE_COLUMNS } else { &NARROW_COLUMNS };
    let buf = f.buffer_mut();
    let headers = ["AGE", "STATUS", "SEV", "HOST", "TYPE", "ID", "DESCRIPTION"];
    // A two-cell gutter on the left holds the marks, so a mark never hides a column and the
    // columns do not move when the first job is marked.
    let cells = Rect { x: body.x + GUTTER.min(body.width), width: body.width.saturating_sub(GUTTER), ..body };
    write_row(buf, cells, body.y, cols, headers.map(|h| (h, t.muted)));
    let rows_visible = body.height.saturating_sub(1) as usize;
    let last = view.total().map(|t| t.min(view.top() + rows_visible)).unwrap_or(view.top() + rows_visible);
    for (n, i) in (view.top()..last).enumerate() {
        let y = body.y + 1 + n as u16;
        if i == view.selected() {
            let style = if focused { t.selected } else { t.selected.remove_modifier(Modifier::BOLD) };
            buf.set_style(Rect { y, height: 1, ..body }, style);
        }
        match view.job_at(page, i) {
            Some(job) => {
                let age = job.created_at.map(|c| age(ctx.age_of(c))).unwrap_or_else(|| "?".into());
                let decided = job_decided(job);
                let mut row = job_cells(ctx, job, wide, &age);
                if jobs.marks.contains_key(&job.id) {
                    put(buf, body.x, y, "●", GUTTER, t.warn);
                    row[5].1 = t.warn;
                }
                if let Some(d) = &decided {
                    row[6] = (d.as_str(), t.text);
                }
                write_row(buf, cells, y, cols, row);
            }
            None => {
                put(buf, body.x, y, "…", body.width, t.muted);
            }
        }
    }
}

/// The marks' column, left of the row.
const GUTTER: u16 = 2;

/// Widths of the fixed columns (age, status, severity, host, type, id), wide and narrow; the
/// description takes the rest.
const WIDE_COLUMNS: [u16; 6] = [5, 17, 8, 18, 16, 10];
const NARROW_COLUMNS: [u16; 6] = [5, 8, 4, 14, 14, 8];

/// Write one row's seven cells, one space apart, each cut to its column.
fn write_row(buf: &mut Buffer, area: Rect, y: u16, cols: &[u16; 6], cells: [(&str, Style); 7]) {
    let mut x = area.x;
    let right = area.x + area.width;
    for (i, (text, style)) in cells.iter().enumerate() {
        let w = cols.get(i).copied().unwrap_or(right.saturating_sub(x)).min(right.saturating_sub(x));
        put(buf, x, y, text, w, *style);
        x = (x + w + 1).min(right);
    }
}

fn job_cells<'a>(ctx: &RenderCtx<'_>, job: &'a Job, wide: bool, age: &'a str) -> [(&'a str, Style); 7] {
    let t = ctx.theme;
    let status = if wide { job.status.as_str() } else { job.status.short() };
    let sev = match (job.severity, wide) {
        (s, true) => s.as_str(),
        (Severity::Critical, false) => "crit",
        (Severity::Medium, false) => "med",
        (Severity::Unknown, false) => "?",
        (s, false) => s.as_str(),
    };
    let or_unknown = |s: &'a Option<String>| match s {
        Some(v) => (v.as_str(), t.text),
        None => ("?", t.muted),
    };
    let description = match &job.error {
        Some(e) if job.status == JobStatus::Failed => (e.as_str(), t.error),
        _ => or_unknown(&job.summary),
    };
    [
        (age, t.muted),
        (status, t.status(&job.status)),
        (sev, t.severity(job.severity)),
        or_unknown(&job.hostname),
        or_unknown(&job.alert_type),
        (job.id.as_str(), t.muted),
        description,
    ]
}

/// For a decided job: who decided, then the description.
fn job_decided(job: &Job) -> Option<String> {
    let by = job.decided_by.as_deref()?;
    let by = by.strip_prefix("mcptop:").unwrap_or(by);
    let verb = match job.status {
        JobStatus::Approved => "approved",
        JobStatus::Rejected => "rejected",
        _ => return None,
    };
    Some(format!("{verb} by {by} · {}", job.summary.as_deref().unwrap_or("")))
}

/// `1,234 jobs`, `12 failed`, `3 matches in newest 10,000`, with the row: `· 7/1,234`.
fn summary(jobs: &JobsState) -> String {
    let v = &jobs.view;
    if jobs.page.data.as_ref().is_none_or(|p| !v.accepts(&p.query)) {
        return if v.failures_only() { "failed".into() } else { String::new() };
    }
    let (one, many) = if v.failures_only() { ("failed", "failed") } else { ("job", "jobs") };
    let count = match (v.total(), jobs.page.data.as_ref().and_then(|p| p.scanned)) {
        (Some(t), _) if v.filter().is_empty() => count(t as u64, one, many),
        (Some(t), scanned) => format!(
            "{}{}",
            count(t as u64, "match", "matches"),
            scanned.map(|s| format!(" in newest {}", thousands(s))).unwrap_or_default()
        ),
        // The index's size, until the window says where the list ends.
        (None, _) if v.filter().is_empty() => {
            jobs.page.data.as_ref().map(|p| count(p.total, one, many)).unwrap_or_default()
        }
        (None, _) => format!("{}+ matches", thousands(v.selected() as u64 + 1)),
    };
    match v.total() {
        Some(t) if t > 0 => format!("{count} · {}/{}", thousands(v.selected() as u64 + 1), thousands(t as u64)),
        _ => count,
    }
}
