//! The one-line summary of the panes a narrow terminal does not show: each pane's number (the
//! key that focuses it), a count that says whether to look, and ✗ when its source is failing.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::RenderCtx;
use crate::domain::{AlertState, Severity};
use crate::tui::app::{App, PaneId};
use crate::tui::loadable::{Loadable, age};

/// One pane's word: what it counts, how it should look, whether its source is failing.
fn entry(app: &App, ctx: &RenderCtx<'_>, pane: PaneId) -> (String, Style, bool) {
    let t = ctx.theme;
    fn failed<T>(l: &Loadable<T>) -> bool {
        l.error.is_some()
    }
    match pane {
        PaneId::Queue => match &app.jobs.queues.data {
            Some(q) => {
                let waiting: u64 = q.queues.iter().map(|s| s.length).sum();
                let stalled = q
                    .queues
                    .iter()
                    .filter_map(|s| s.oldest_age_s)
                    .any(|a| a > app.jobs.stall_after.num_seconds() as f64);
                let style = if stalled { t.error } else { t.text };
                (format!("{waiting} waiting{}", if stalled { " STALLED" } else { "" }), style, failed(&app.jobs.queues))
            }
            None => ("-".into(), t.muted, failed(&app.jobs.queues)),
        },
        PaneId::Jobs => match &app.jobs.page.data {
            Some(p) => (format!("{}", p.total), t.text, failed(&app.jobs.page)),
            None => ("-".into(), t.muted, failed(&app.jobs.page)),
        },
        PaneId::Health => {
            let s = app.ops.summary();
            let bad = s.containers_unhealthy + s.services_down + s.targets_down;
            let any =
                app.ops.containers.data.is_some() || app.ops.services.data.is_some() || app.ops.targets.data.is_some();
            let failing = failed(&app.ops.containers) || failed(&app.ops.services) || failed(&app.ops.targets);
            match (any, bad) {
                (false, _) => ("-".into(), t.muted, failing),
                (true, 0) => ("ok".into(), t.ok, failing),
                (true, n) => (format!("{n} down"), t.warn, failing),
            }
        }
        PaneId::Alerts => match &app.ops.alerts.data {
            Some(a) => {
                let firing: Vec<_> = a.alerts.iter().filter(|x| x.state == AlertState::Active).collect();
                let critical = firing.iter().filter(|x| x.severity() == Severity::Critical).count();
                let style = if critical > 0 { t.severity_critical } else { t.text };
                let text =
                    if critical > 0 { format!("{} ({critical} crit)", firing.len()) } else { firing.len().to_string() };
                (text, style, failed(&app.ops.alerts) || !a.failures.is_empty())
            }
            None => ("-".into(), t.muted, failed(&app.ops.alerts)),
        },
        PaneId::Rag => {
            let n = app.rag.hits().len();
            (if n > 0 { format!("{n} hits") } else { "-".into() }, t.text, failed(&app.rag.stats))
        }
        PaneId::Approvals => match app.approvals.total() {
            Some(n) if n > 0 => (format!("⚑{n}"), t.status_awaiting_approval, failed(&app.approvals.page)),
            Some(_) => ("0".into(), t.text, failed(&app.approvals.page)),
            None => ("-".into(), t.muted, failed(&app.approvals.page)),
        },
        PaneId::Backups => {
            let newest = app.backups.archives.data.as_ref().and_then(|a| a.first());
            let stale = |secs: i64| app.backups.max_age_h.is_some_and(|h| secs > h as i64 * 3600);
            match newest {
                _ if app.backups.running.is_some() => ("running".into(), t.info, false),
                Some(a) => {
                    let secs = (ctx.now - a.created_at).num_seconds().max(0);
                    (age(secs), if stale(secs) { t.warn } else { t.text }, failed(&app.backups.archives))
                }
                None => ("-".into(), t.muted, failed(&app.backups.archives)),
            }
        }
    }
}

pub fn render(f: &mut Frame, area: Rect, ctx: &RenderCtx<'_>, app: &App) {
    let t = ctx.theme;
    let mut spans = Vec::new();
    for pane in PaneId::ALL.into_iter().filter(|p| *p != app.focus) {
        let (text, style, failing) = entry(app, ctx, pane);
        spans.push(Span::styled(format!(" {} ", pane.number()), t.key));
        spans.push(Span::styled(format!("{} ", short(pane)), t.muted));
        spans.push(Span::styled(text, style));
        if failing {
            spans.push(Span::styled("✗", t.error));
        }
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A pane's name, short enough for 80 columns.
fn short(pane: PaneId) -> &'static str {
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
