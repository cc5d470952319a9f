//! The Health pane: one summary line, then containers (unhealthy, starting and stopped ones
//! first), the probed services with the gateway's components, and the Prometheus targets.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{RenderCtx, error_line, pane_block};
use crate::domain::Health;
use crate::tui::app::{App, PaneId};
use crate::tui::cells::put;
use crate::tui::loadable::{Loadable, age};

pub fn render(f: &mut Frame, area: Rect, ctx: &RenderCtx<'_>, app: &App, focused: bool) {
    let t = ctx.theme;
    let ops = &app.ops;
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
    let mut lines: Vec<Line> = Vec::new();
    let s = ops.summary();
    // Words when there is room, ✓/✗ when the pane is narrow, so all three counts always show.
    let narrow = inner.width < 72;
    let count = |n: usize, word: &str, mark: &str, style: Style| {
        let text = if narrow { format!("{n}{mark} ") } else { format!("{n} {word} ") };
        Span::styled(text, if n > 0 { style } else { t.muted })
    };
    let mut summary = Vec::new();
    if c.containers {
        summary.extend([
            Span::styled("containers ", t.muted),
            count(s.containers_healthy, "ok", "✓", t.ok),
            count(s.containers_unhealthy, "unhealthy", "✗", t.error),
        ]);
    }
    if c.services {
        summary.extend([
            Span::styled(" services ", t.muted),
            count(s.services_up, "up", "✓", t.ok),
            count(s.services_down, "down", "✗", t.error),
        ]);
    }
    if c.targets {
        summary.extend([
            Span::styled(" targets ", t.muted),
            count(s.targets_up, "up", "✓", t.ok),
            count(s.targets_down, "down", "✗", t.error),
        ]);
    }
    lines.push(Line::from(summary));
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
    let head = lines.len() as u16;
    f.render_widget(Paragraph::new(lines), Rect { height: head.min(inner.height), ..inner });
    let mut y = inner.y + head;
    let bottom = inner.y + inner.height;
    let buf = f.buffer_mut();
    if let Some(containers) = &ops.containers.data {
        let cur = &ops.container_cursor;
        let room = bottom.saturating_sub(y) as usize;
        for (i, cont) in containers.iter().enumerate().skip(cur.top).take(room) {
            if i == cur.selected && focused {
                buf.set_style(Rect { y, height: 1, ..inner }, t.selected);
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
            write_cols(buf, inner, y, &cols);
            y += 1;
        }
    }
    for svc in ops.services.data.iter().flatten() {
        if y >= bottom {
            break;
        }
        let mut x = inner.x;
        let right = inner.x + inner.width;
        let mark = if svc.ok { ("✓ ", t.ok) } else { ("✗ ", t.error) };
        x += put(buf, x, y, mark.0, right - x, mark.1);
        x +=
            put(buf, x, y, &format!("{} ", svc.name), right.saturating_sub(x), t.title.remove_modifier(Modifier::BOLD));
        let ms = svc.latency_ms.map(|m| format!("{m}ms ")).unwrap_or_default();
        x += put(
            buf,
            x,
            y,
            &format!("{} {ms}", svc.detail),
            right.saturating_sub(x),
            if svc.ok { t.muted } else { t.error },
        );
        for comp in &svc.components {
            let style = if comp.ok() { t.ok } else { t.error };
            let mark = if comp.ok() { "✓" } else { "✗" };
            x += put(buf, x, y, &format!("{mark}{} ", comp.name), right.saturating_sub(x), style);
        }
        y += 1;
    }
    if let Some(targets) = &ops.targets.data {
        for tg in targets.iter().filter(|t| t.health != "up") {
            if y >= bottom {
                break;
            }
            let line = format!("{} {} {} {}", tg.health, tg.job, tg.instance, tg.last_error);
            put(buf, inner.x, y, &line, inner.width, if tg.health == "down" { t.error } else { t.warn });
            y += 1;
        }
        let up = targets.iter().filter(|t| t.health == "up").count();
        if y < bottom && up > 0 {
            put(buf, inner.x, y, &format!("{up} targets up"), inner.width, t.muted);
        }
    }
}

/// Columns one space apart; the last takes the rest.
fn write_cols(buf: &mut ratatui::buffer::Buffer, area: Rect, y: u16, cols: &[(&str, u16, Style)]) {
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
