//! The job detail view: every field, the analysis, the knowledge-base hits the worker used, the
//! ticket draft or ticket, and a timeline of the timestamps.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::{RenderCtx, error_line, freshness, kv, section};
use crate::domain::job::{json_scalar, parse_time};
use crate::domain::text::clean_line;
use crate::domain::{JobDetail, Severity};
use crate::tui::jobs_state::DetailView;
use crate::tui::loadable::age;

/// Fields shown in their own sections rather than under "Other fields".
const SHOWN: &[&str] = &[
    "id",
    "status",
    "severity",
    "hostname",
    "alert_type",
    "source",
    "description",
    "queue",
    "requested_by",
    "analysis",
    "rag_hits",
    "ticket_draft",
    "ticket_id",
    "ticket_number",
    "ticket_url",
    "created_at",
    "updated_at",
    "started_at",
    "finished_at",
    "decided_at",
    "decided_by",
    "decision_note",
    "error",
    "attempts",
];

pub fn render(f: &mut Frame, area: Rect, ctx: &RenderCtx<'_>, view: &DetailView) {
    let t = ctx.theme;
    let title = Line::from(vec![
        Span::styled(" Job ", t.title),
        Span::styled(clean_line(&view.id), t.title),
        Span::raw(" "),
        freshness(ctx, &view.data),
        Span::raw(" "),
    ]);
    let block = Block::default().borders(Borders::ALL).border_style(t.border_focused).title(title);
    let mut lines: Vec<Line> = error_line(ctx, &view.data).into_iter().collect();
    match &view.data.data {
        None if view.data.error.is_none() => lines.push(Line::styled("loading…", t.muted)),
        None => {}
        Some(None) => lines.push(Line::styled("this job no longer exists", t.warn)),
        Some(Some(d)) => lines.extend(body(ctx, d)),
    }
    f.render_widget(Paragraph::new(lines).block(block).wrap(Wrap { trim: false }).scroll((view.scroll, 0)), area);
}

fn body<'a>(ctx: &RenderCtx<'_>, d: &JobDetail) -> Vec<Line<'a>> {
    let t = ctx.theme;
    let j = &d.job;
    let mut l = vec![Line::from(vec![
        Span::styled(j.status.as_str().to_string(), t.status(&j.status)),
        Span::raw("  "),
        Span::styled(j.severity.as_str().to_string(), t.severity(j.severity)),
        Span::raw("  "),
        Span::styled(j.hostname.as_deref().map(clean_line).unwrap_or_else(|| "unknown host".into()), t.text),
    ])];
    if j.severity == Severity::Unknown
        && let Some(raw) = d.field("severity")
    {
        l.push(Line::styled(format!("severity given as {raw:?}"), t.muted));
    }
    l.push(section(ctx, "Request"));
    for k in ["alert_type", "source", "queue", "requested_by", "attempts", "description", "error"] {
        if d.field(k).is_some() || matches!(k, "alert_type" | "description") {
            l.extend(kv(ctx, k, d.field(k)));
        }
    }
    l.extend(analysis(ctx, d));
    l.extend(hits(ctx, d));
    l.extend(ticket(ctx, d));
    l.extend(timeline(ctx, d));
    l
}

pub(crate) fn analysis<'a>(ctx: &RenderCtx<'_>, d: &JobDetail) -> Vec<Line<'a>> {
    let t = ctx.theme;
    let mut l = Vec::new();
    l.push(section(ctx, "Analysis"));
    match (&d.analysis, d.field("analysis")) {
        (Some(a), _) => {
            let conf = a.confidence.map(|c| format!("{:.0}%", c * 100.0));
            l.extend(kv(ctx, "model", a.model.as_deref()));
            l.extend(kv(ctx, "confidence", conf.as_deref()));
            l.extend(kv(ctx, "priority", a.priority.as_ref().map(json_scalar).as_deref()));
            l.extend(kv(ctx, "summary", a.summary.as_deref()));
            l.extend(kv(ctx, "root cause", a.root_cause.as_deref()));
            l.extend(kv(ctx, "impact", a.impact.as_deref()));
            l.extend(kv(ctx, "immediate action", a.immediate_action.as_deref()));
        }
        (None, Some(raw)) => l.extend(kv(ctx, "unparsed", Some(raw))),
        (None, None) => l.push(Line::styled("none yet", t.muted)),
    }
    l
}

pub(crate) fn hits<'a>(ctx: &RenderCtx<'_>, d: &JobDetail) -> Vec<Line<'a>> {
    let t = ctx.theme;
    let mut l = Vec::new();
    l.push(section(ctx, "Knowledge-base hits used"));
    match &d.rag_hits {
        None => l.push(Line::styled("none recorded", t.muted)),
        Some(Err(e)) => l.push(Line::styled(e.clone(), t.warn)),
        Some(Ok(hits)) if hits.is_empty() => l.push(Line::styled("none", t.muted)),
        Some(Ok(hits)) => {
            for h in hits {
                let score = h.score.map(|s| format!("{s:.2}")).unwrap_or_else(|| " ?  ".into());
                let bar = h.score.map(|s| "█".repeat((s.clamp(0.0, 1.0) * 10.0).round() as usize)).unwrap_or_default();
                l.push(Line::from(vec![
                    Span::styled(format!("{score} {bar:<10} "), t.ok),
                    Span::styled(format!("#{} ", h.id_label()), t.muted),
                    Span::styled(h.snippet(), t.text),
                ]));
                let meta: Vec<String> = h.metadata_pairs().into_iter().map(|(k, v)| format!("{k}={v}")).collect();
                if !meta.is_empty() {
                    l.push(Line::styled(format!("{:16}{}", "", meta.join(" ")), t.muted));
                }
            }
        }
    }
    l
}

pub(crate) fn ticket<'a>(ctx: &RenderCtx<'_>, d: &JobDetail) -> Vec<Line<'a>> {
    let t = ctx.theme;
    let mut l = Vec::new();
    l.push(section(ctx, "Ticket"));
    if let Some(id) = d.field("ticket_id") {
        l.extend(kv(ctx, "ticket", Some(&format!("{id} (#{})", d.field("ticket_number").unwrap_or("?")))));
        l.extend(kv(ctx, "url", d.field("ticket_url")));
    } else if let Some(draft) = &d.ticket_draft {
        l.push(Line::styled("draft awaiting approval", t.status_awaiting_approval));
        l.extend(kv(ctx, "title", draft.title.as_deref()));
        l.extend(kv(ctx, "group", draft.group.as_deref()));
        l.extend(kv(ctx, "priority", draft.priority.as_ref().map(json_scalar).as_deref()));
        l.extend(kv(ctx, "body", draft.body.as_deref()));
    } else {
        l.push(Line::styled("none", t.muted));
    }
    for k in ["decided_by", "decision_note"] {
        if d.field(k).is_some() {
            l.extend(kv(ctx, k, d.field(k)));
        }
    }
    l
}

fn timeline<'a>(ctx: &RenderCtx<'_>, d: &JobDetail) -> Vec<Line<'a>> {
    let mut l = Vec::new();
    l.push(section(ctx, "Timeline"));
    for k in ["created_at", "started_at", "finished_at", "decided_at", "updated_at"] {
        if let Some(v) = d.field(k) {
            let rel = parse_time(v).map(|at| format!("  ({} ago)", age(ctx.age_of(at)))).unwrap_or_default();
            l.extend(kv(ctx, k, Some(&format!("{v}{rel}"))));
        }
    }
    let others: Vec<_> = d.fields.iter().filter(|(k, _)| !SHOWN.contains(&k.as_str())).collect();
    if !others.is_empty() {
        l.push(section(ctx, "Other fields"));
        for (k, v) in others {
            l.extend(kv(ctx, k, Some(v)));
        }
    }
    l
}
