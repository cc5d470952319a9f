//! Detail views of one alert (labels, annotations, generator URL, silences, sources) and one
//! container (health-check history, failing streak, restarts, uptime).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::{RenderCtx, kv, section};
use crate::domain::text::clean_line;
use crate::domain::{Alert, Container, RagHit};
use crate::tui::loadable::age;
use crate::tui::ops_state::{OpsDetail, OpsState};

pub fn render(f: &mut Frame, area: Rect, ctx: &RenderCtx<'_>, ops: &OpsState, detail: &OpsDetail, scroll: u16) {
    let t = ctx.theme;
    let (title, lines) = match detail {
        OpsDetail::Alert(fp) => {
            let alert = ops.alerts.data.as_ref().and_then(|s| s.alerts.iter().find(|a| &a.fingerprint == fp));
            let lines = match alert {
                None => vec![Line::styled("this alert is no longer firing", t.warn)],
                Some(a) => alert_lines(ctx, a),
            };
            (format!(" Alert {} ", clean_line(fp)), lines)
        }
        OpsDetail::Hit(h) => (format!(" Knowledge-base entry {} ", h.id_label()), hit_lines(ctx, h)),
        OpsDetail::Container(id) => {
            let container = ops.containers.data.as_ref().and_then(|c| c.iter().find(|c| &c.id == id));
            let lines = match container {
                None => vec![Line::styled("this container no longer exists", t.warn)],
                Some(c) => container_lines(ctx, c),
            };
            (format!(" Container {} ", clean_line(id)), lines)
        }
    };
    let block =
        Block::default().borders(Borders::ALL).border_style(t.border_focused).title(Span::styled(title, t.title));
    f.render_widget(Paragraph::new(lines).block(block).wrap(Wrap { trim: false }).scroll((scroll, 0)), area);
}

fn alert_lines<'a>(ctx: &RenderCtx<'_>, a: &Alert) -> Vec<Line<'a>> {
    let mut lines = kv(ctx, "state", Some(&format!("{:?}", a.state).to_lowercase()));
    lines.extend(kv(ctx, "severity", Some(a.severity().as_str())));
    let since = a.starts_at.map(|s| format!("{s} ({} ago)", age(ctx.age_of(s))));
    lines.extend(kv(ctx, "since", Some(since.as_deref().unwrap_or("unknown"))));
    lines.extend(kv(ctx, "from", Some(&a.sources.join(", "))));
    if !a.silenced_by.is_empty() {
        lines.extend(kv(ctx, "silenced by", Some(&a.silenced_by.join(", "))));
    }
    if !a.inhibited_by.is_empty() {
        lines.extend(kv(ctx, "inhibited by", Some(&a.inhibited_by.join(", "))));
    }
    lines.extend(kv(ctx, "generator", Some(a.generator_url.as_deref().unwrap_or("unknown"))));
    lines.push(section(ctx, "Labels"));
    for (k, v) in &a.labels {
        lines.extend(kv(ctx, k, Some(v)));
    }
    lines.push(section(ctx, "Annotations"));
    // The summary first and the (possibly long) description last.
    let rank = |k: &str| match k {
        "summary" => 0,
        "description" => 2,
        _ => 1,
    };
    let mut annotations: Vec<_> = a.annotations.iter().collect();
    annotations.sort_by_key(|(k, _)| rank(k));
    for (k, v) in annotations {
        lines.extend(kv(ctx, k, Some(v)));
    }
    lines
}

fn hit_lines<'a>(ctx: &RenderCtx<'_>, h: &RagHit) -> Vec<Line<'a>> {
    let t = ctx.theme;
    let score = h.score.map(|s| format!("{s:.3}")).unwrap_or_else(|| "unknown".into());
    let mut lines = kv(ctx, "similarity", Some(&score));
    lines.extend(kv(ctx, "source", h.source().as_deref()));
    lines.push(section(ctx, "Metadata"));
    let meta = h.metadata_pairs();
    if meta.is_empty() {
        lines.push(Line::styled("none", t.muted));
    }
    for (k, v) in meta {
        lines.extend(kv(ctx, &k, Some(&v)));
    }
    lines.push(section(ctx, "Text"));
    lines.extend(h.full_text().split('\n').map(|l| Line::styled(l.to_string(), t.text)));
    lines
}

fn container_lines<'a>(ctx: &RenderCtx<'_>, c: &Container) -> Vec<Line<'a>> {
    let t = ctx.theme;
    let or = |n: Option<i64>, none: &str| n.map(|n| n.to_string()).unwrap_or_else(|| none.into());
    let mut lines = kv(ctx, "name", Some(&c.name));
    lines.extend(kv(ctx, "image", Some(&c.image)));
    lines.extend(kv(ctx, "state", Some(&c.state)));
    lines.extend(kv(ctx, "health", Some(c.health.as_str())));
    lines.extend(kv(ctx, "failing streak", Some(&or(c.failing_streak, "-"))));
    lines.extend(kv(ctx, "restarts", Some(&or(c.restarts, "unknown"))));
    let up = c.started_at.map(|s| format!("{s} (up {})", age(ctx.age_of(s))));
    lines.extend(kv(ctx, "started", Some(up.as_deref().unwrap_or("-"))));
    lines.push(section(ctx, "Last health checks (oldest first)"));
    if c.checks.is_empty() {
        lines.push(Line::styled("none recorded", t.muted));
    }
    for run in &c.checks {
        let at = run.at.map(|a| format!("{} ago", age(ctx.age_of(a)))).unwrap_or_default();
        let code = run.exit_code.map(|c| c.to_string()).unwrap_or_else(|| "?".into());
        let style = if run.exit_code == Some(0) { t.ok } else { t.error };
        lines.push(Line::from(vec![Span::styled(format!("exit {code:>3} "), style), Span::styled(at, t.muted)]));
        for l in run.output.lines().take(20) {
            lines.push(Line::styled(format!("    {}", clean_line(l)), t.text));
        }
    }
    lines
}
