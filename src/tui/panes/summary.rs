//! The one-line summary of the panes a narrow terminal does not show: each pane's number (the
//! key that focuses it), a count that says whether to look, and ✗ when its source is failing.
//! The counts are the frame's [`ContextFacts`], the same the header, the panes and the fleet show.
//! The line is fitted to the width by shortening, never by cutting: every pane's number stays.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::RenderCtx;
use crate::domain::Severity;
use crate::domain::facts::ContextFacts;
use crate::tui::app::{App, PaneId};
use crate::tui::loadable::{Loadable, age};

/// One pane's entry: its long and short words, how they look, whether its source is failing.
struct Entry {
    pane: PaneId,
    long: String,
    short: String,
    style: Style,
    failing: bool,
}

fn entry(app: &App, ctx: &RenderCtx<'_>, facts: &ContextFacts, pane: PaneId) -> Entry {
    let t = ctx.theme;
    fn failed<T>(l: &Loadable<T>) -> bool {
        l.error.is_some()
    }
    let none = |failing| (String::from("-"), String::from("-"), t.muted, failing);
    let (long, short, style, failing) = match pane {
        PaneId::Queue => {
            let failing =
                failed(&app.jobs.queues) || app.jobs.queues.data.as_ref().is_some_and(|q| !q.problems.is_empty());
            match facts.queued {
                Some(n) if facts.stalled == Some(true) => {
                    (format!("{n} waiting STALLED"), format!("{n} STALLED"), t.error, failing)
                }
                Some(n) => (format!("{n} waiting"), n.to_string(), t.text, failing),
                None if app.jobs.queues.data.is_some() => ("? waiting".into(), "?".into(), t.warn, failing),
                None => none(failing),
            }
        }
        PaneId::Jobs => match &app.jobs.page.data {
            Some(p) => (p.total.to_string(), p.total.to_string(), t.text, failed(&app.jobs.page)),
            None => none(failed(&app.jobs.page)),
        },
        PaneId::Health => {
            let failing = failed(&app.ops.containers) || failed(&app.ops.services) || failed(&app.ops.targets);
            match facts.health {
                None => none(failing),
                Some(h) if h.problems() == 0 => ("ok".into(), "ok".into(), t.ok, failing),
                Some(h) => (format!("{} down", h.problems()), format!("{}✗", h.problems()), t.warn, failing),
            }
        }
        PaneId::Alerts => {
            let failing = failed(&app.ops.alerts)
                || app.ops.alerts.data.as_ref().is_some_and(|a| a.sources.iter().any(|s| s.error.is_some()));
            match &facts.firing {
                Some(f) => {
                    let critical = f.of(Severity::Critical);
                    if critical > 0 {
                        (
                            format!("{} ({critical} crit)", f.total),
                            format!("{}/{critical}!", f.total),
                            t.severity_critical,
                            failing,
                        )
                    } else {
                        (f.total.to_string(), f.total.to_string(), t.text, failing)
                    }
                }
                None => none(failing),
            }
        }
        PaneId::Rag => {
            let n = app.rag.hits().len() as u64;
            let failing = failed(&app.rag.stats);
            if n > 0 {
                (crate::domain::text::count(n, "hit", "hits"), n.to_string(), t.text, failing)
            } else {
                none(failing)
            }
        }
        PaneId::Approvals => {
            let failing = failed(&app.approvals.page);
            match facts.awaiting_approval {
                Some(n) if n > 0 => (format!("⚑{n}"), format!("⚑{n}"), t.status_awaiting_approval, failing),
                Some(_) => ("0".into(), "0".into(), t.text, failing),
                None => none(failing),
            }
        }
        PaneId::Backups => {
            let failing = failed(&app.backups.archives);
            match facts.last_backup_age_s {
                _ if app.backups.running.is_some() => ("running".into(), "run".into(), t.info, false),
                Some(secs) => {
                    let style = if facts.backup_overdue { t.warn } else { t.text };
                    (age(secs), age(secs), style, failing)
                }
                None => none(failing),
            }
        }
    };
    Entry { pane, long, short, style, failing }
}

/// A pane's name, short enough for 80 columns.
fn short_name(pane: PaneId) -> &'static str {
    match pane {
        PaneId::Queue => "Queue",
        PaneId::Jobs => "Jobs",
        PaneId::Health => "Health",
        PaneId::Alerts => "Alerts",
        PaneId::Rag => "RAG",
        PaneId::Approvals => "Appr",
        PaneId::Backups => "Backup",
    }
}

/// The entries at one level of shortening: 0 long words with names, 1 short words with names,
/// 2 short words without names (`1:6`, the number being the key).
fn line<'a>(entries: &[Entry], ctx: &RenderCtx<'_>, level: u8) -> Line<'a> {
    let t = ctx.theme;
    let mut spans = Vec::new();
    for e in entries {
        if level < 2 {
            spans.push(Span::styled(format!(" {} ", e.pane.number()), t.key));
            spans.push(Span::styled(format!("{} ", short_name(e.pane)), t.muted));
        } else {
            spans.push(Span::styled(format!(" {}:", e.pane.number()), t.key));
        }
        spans.push(Span::styled(if level == 0 { e.long.clone() } else { e.short.clone() }, e.style));
        if e.failing {
            spans.push(Span::styled("✗", t.error));
        }
    }
    Line::from(spans)
}

pub fn render(f: &mut Frame, area: Rect, ctx: &RenderCtx<'_>, app: &App, facts: &ContextFacts) {
    let entries: Vec<Entry> =
        PaneId::ALL.into_iter().filter(|p| *p != app.focus).map(|p| entry(app, ctx, facts, p)).collect();
    let width = area.width as usize;
    let fitted = (0..3).map(|level| line(&entries, ctx, level)).find(|l| l.width() <= width);
    let chosen = fitted.unwrap_or_else(|| line(&entries, ctx, 2));
    f.render_widget(Paragraph::new(chosen), area);
}
