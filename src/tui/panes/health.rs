//! The Health pane: one summary line, then containers (unhealthy, starting and stopped ones
//! first), the probed services with the gateway's components, and the Prometheus targets.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{RenderCtx, error_line, pane_block};
use crate::domain::facts::ContextFacts;
use crate::domain::text::count;
use crate::domain::{Health, HealthSummary};
use crate::tui::app::PaneId;
use crate::tui::cells::put;
use crate::tui::loadable::{Loadable, age};
use crate::tui::ops_state::OpsState;

pub fn render(f: &mut Frame, area: Rect, ctx: &RenderCtx<'_>, ops: &OpsState, facts: &ContextFacts, focused: bool) {
    let c = ops.configured;
    // The title's freshness is that of the stalest configured feed, STALE if any is failing.
    let feeds = [
        (c.containers, ops.containers.updated_at, &ops.containers.error),
        (c.services, ops.services.updated_at, &ops.services.error),
        (c.targets, ops.targets.updated_at, &ops.targets.error),
    ];
    let configured = feeds.iter().filter(|(on, ..)| *on);
    let stalest = Loadable::<()> {
        data: Some(()),
        updated_at: configured.clone().map(|(_, at, _)| *at).min().flatten(),
        error: configured.clone().find_map(|(.., e)| (*e).clone()),
    };
    let push = if c.containers && ops.docker_events { "● events" } else { "" };
    let block = pane_block(ctx, PaneId::Health, focused, Some(&stalest), push);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let lines = head(ctx, ops, facts.health.unwrap_or_default(), inner.width);
    let head = lines.len() as u16;
    f.render_widget(Paragraph::new(lines), Rect { height: head.min(inner.height), ..inner });
    let rows = Rect { y: inner.y + head.min(inner.height), height: inner.height.saturating_sub(head), ..inner };
    let buf = f.buffer_mut();
    let mut y = container_rows(buf, rows, ctx, ops, focused);
    y = service_rows(buf, Rect { y, height: rows.bottom().saturating_sub(y), ..rows }, ctx, ops);
    target_rows(buf, Rect { y, height: rows.bottom().saturating_sub(y), ..rows }, ctx, ops);
}

/// The summary line, the longest of its forms that fits the width (words, then marks, then
/// short names: every count always shows), then a line for each failing feed.
fn head<'a>(ctx: &RenderCtx<'_>, ops: &OpsState, s: HealthSummary, width: u16) -> Vec<Line<'a>> {
    let (t, c) = (ctx.theme, ops.configured);
    // (count, word, mark, style, shown even when zero)
    type Count = (usize, &'static str, &'static str, Style, bool);
    let groups: [(bool, &str, &str, [Count; 4]); 3] = [
        (
            c.containers,
            "containers",
            "ctr",
            [
                (s.containers_healthy, "ok", "✓", t.ok, true),
                (s.containers_unhealthy, "unhealthy", "✗", t.error, true),
                (s.containers_starting, "starting", "…", t.warn, false),
                (s.containers_stopped, "stopped", "■", t.muted, false),
            ],
        ),
        (
            c.services,
            "services",
            "svc",
            [
                (s.services_up, "up", "✓", t.ok, true),
                (s.services_down, "down", "✗", t.error, true),
                (0, "", "", t.muted, false),
                (0, "", "", t.muted, false),
            ],
        ),
        (
            c.targets,
            "targets",
            "tgt",
            [
                (s.targets_up, "up", "✓", t.ok, true),
                (s.targets_down, "down", "✗", t.error, true),
                (s.targets_unknown, "unknown", "?", t.warn, false),
                (0, "", "", t.muted, false),
            ],
        ),
    ];
    let line = |form: u8| -> Line<'a> {
        let mut spans = Vec::new();
        for (_, name, short, counts) in groups.iter().filter(|g| g.0) {
            if !spans.is_empty() {
                spans.push(Span::raw(if form == 2 { " " } else { "  " }));
            }
            spans.push(Span::styled(if form == 2 { short.to_string() } else { name.to_string() }, t.muted));
            for (i, (n, word, mark, style, always)) in counts.iter().enumerate() {
                let show = *n > 0 || (*always && (form == 0 || i == 0));
                if !show || word.is_empty() {
                    continue;
                }
                let style = if *n > 0 { *style } else { t.muted };
                let text = match form {
                    0 => format!(" {n} {word}"),
                    1 => format!(" {n}{mark}"),
                    _ if i == 0 => format!(" {n}{mark}"),
                    _ => format!("{n}{mark}"),
                };
                spans.push(Span::styled(text, style));
            }
        }
        Line::from(spans)
    };
    let summary = (0..3).map(line).find(|l| l.width() <= width as usize).unwrap_or_else(|| line(2));
    let mut lines = vec![summary];
    for (name, l) in [
        ("docker", error_line(ctx, &ops.containers)),
        ("probes", error_line(ctx, &ops.services)),
        ("prometheus", error_line(ctx, &ops.targets)),
    ] {
        if let Some(mut line) = l {
            line.spans.insert(0, Span::styled(format!("{name}: "), t.error));
            lines.push(line);
        }
    }
    lines
}

/// One row per container from the cursor's top; returns the next free row.
fn container_rows(buf: &mut Buffer, area: Rect, ctx: &RenderCtx<'_>, ops: &OpsState, focused: bool) -> u16 {
    let t = ctx.theme;
    let mut y = area.y;
    let Some(containers) = &ops.containers.data else { return y };
    let cur = &ops.container_cursor;
    let top = cur.top_for(area.height as usize, containers.len());
    for (i, cont) in containers.iter().enumerate().skip(top).take(area.height as usize) {
        if i == cur.selected && focused {
            buf.set_style(Rect { y, height: 1, ..area }, t.selected);
        }
        let health_style = match cont.health {
            Health::Healthy => t.ok,
            Health::Unhealthy => t.error,
            Health::Starting => t.warn,
            Health::None => t.muted,
        };
        let state_style = if cont.state == "running" { t.text } else { t.warn };
        let up = uptime(cont.started_at, ctx.ages_at);
        let restarts = cont.restarts.map(|r| format!("↻{r}")).unwrap_or_else(|| "↻?".into());
        let cols: [(&str, u16, Style); 6] = [
            (&cont.name, 18, t.text),
            (&cont.state, 8, state_style),
            (cont.health.as_str(), 9, health_style),
            (&restarts, 5, if cont.restarts.unwrap_or(0) > 0 { t.warn } else { t.muted }),
            (&up, 5, t.muted),
            (&cont.image, u16::MAX, t.muted),
        ];
        write_cols(buf, area, y, &cols);
        y += 1;
    }
    y
}

/// One row per probed service with its components; returns the next free row.
fn service_rows(buf: &mut Buffer, area: Rect, ctx: &RenderCtx<'_>, ops: &OpsState) -> u16 {
    let t = ctx.theme;
    let mut y = area.y;
    let right = area.x + area.width;
    for svc in ops.services.data.iter().flatten().take(area.height as usize) {
        let mut x = area.x;
        let mark = if svc.ok { ("✓ ", t.ok) } else { ("✗ ", t.error) };
        x += put(buf, x, y, mark.0, right - x, mark.1);
        let name_style = t.title.remove_modifier(Modifier::BOLD);
        x += put(buf, x, y, &format!("{} ", svc.name), right.saturating_sub(x), name_style);
        let ms = svc.latency_ms.map(|m| format!("{m}ms ")).unwrap_or_default();
        let detail_style = if svc.ok { t.muted } else { t.error };
        x += put(buf, x, y, &format!("{} {ms}", svc.detail), right.saturating_sub(x), detail_style);
        for comp in &svc.components {
            let (mark, style) = if comp.ok() { ("✓", t.ok) } else { ("✗", t.error) };
            x += put(buf, x, y, &format!("{mark}{} ", comp.name), right.saturating_sub(x), style);
        }
        y += 1;
    }
    y
}

/// The targets that are not up, one per row, then how many are.
fn target_rows(buf: &mut Buffer, area: Rect, ctx: &RenderCtx<'_>, ops: &OpsState) {
    let t = ctx.theme;
    let Some(targets) = &ops.targets.data else { return };
    let mut y = area.y;
    for tg in targets.iter().filter(|t| t.health != "up").take(area.height as usize) {
        let line = format!("{} {} {} {}", tg.health, tg.job, tg.instance, tg.last_error);
        put(buf, area.x, y, &line, area.width, if tg.health == "down" { t.error } else { t.warn });
        y += 1;
    }
    let up = targets.iter().filter(|t| t.health == "up").count();
    if y < area.bottom() && up > 0 {
        put(buf, area.x, y, &format!("{} up", count(up as u64, "target", "targets")), area.width, t.muted);
    }
}

/// Columns one space apart; the last takes the rest.
fn write_cols(buf: &mut Buffer, area: Rect, y: u16, cols: &[(&str, u16, Style)]) {
    let right = area.x + area.width;
    let mut x = area.x;
    for (text, w, style) in cols {
        let w = (*w).min(right.saturating_sub(x));
        put(buf, x, y, text, w, *style);
        x = (x + w + 1).min(right);
    }
}

fn uptime(started: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    started.map(|s| age((now - s).num_seconds())).unwrap_or_else(|| "-".into())
}
