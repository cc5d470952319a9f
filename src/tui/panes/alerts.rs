//! The Alerts pane: alerts grouped (by alertname unless configured), worst and oldest first,
//! silenced and inhibited ones marked, the Alertmanager(s) each came from, and any Alertmanager
//! that did not answer.

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;

use super::{RenderCtx, error_line, pane_block};
use crate::domain::Alert;
use crate::domain::text::clean_line;
use crate::domain::{AlertState, Origin};
use crate::tui::app::PaneId;
use crate::tui::cells::put;
use crate::tui::loadable::age;
use crate::tui::ops_state::OpsState;

pub fn render(f: &mut Frame, area: Rect, ctx: &RenderCtx<'_>, ops: &OpsState, focused: bool) {
    let t = ctx.theme;
    // Counts over every source's alerts (the frame's facts), whatever the filter shows.
    let all = ops.alerts.data.as_ref().map(|s| s.alerts.as_slice()).unwrap_or_default();
    let firing = crate::domain::facts::firing_alerts(all).total;
    let (silenced, resolved) = all.iter().fold((0, 0), |(s, r), a| match a.state {
        AlertState::Suppressed => (s + 1, r),
        AlertState::Resolved => (s, r + 1),
        _ => (s, r),
    });
    let mut extra = format!("{firing} firing · {silenced} silenced");
    if resolved > 0 {
        extra.push_str(&format!(" · {resolved} resolved"));
    }
    if !ops.alert_filter.is_empty() {
        extra.push_str(&format!(" · {} shown, filter “{}”", ops.alert_count(), clean_line(&ops.alert_filter)));
    }
    let block = pane_block(ctx, PaneId::Alerts, focused, Some(&ops.alerts), &extra);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let buf = f.buffer_mut();
    let mut y = inner.y;
    let bottom = inner.bottom();
    if let Some(line) = error_line(ctx, &ops.alerts) {
        let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
        put(buf, inner.x, y, &text, inner.width, t.error);
        y += 1;
    }
    let Some(snap) = &ops.alerts.data else {
        if ops.alerts.error.is_none() && y < bottom {
            put(buf, inner.x, y, "loading…", inner.width, t.muted);
        }
        return;
    };
    // Each source whose part is not whole says why, on its own line: its own error only.
    let notes = snap.partial().map(|s| format!("⚠ {}: {}", s.name, s.notes(ctx.now).join(" · ")));
    for note in notes.take(bottom.saturating_sub(y) as usize) {
        put(buf, inner.x, y, &note, inner.width, t.warn);
        y += 1;
    }
    if ops.groups.is_empty() && y < bottom {
        let msg = if ops.alert_filter.is_empty() { "no alerts" } else { "no alerts match" };
        put(buf, inner.x, y, msg, inner.width, t.muted);
        return;
    }
    rows(buf, Rect { y, height: bottom.saturating_sub(y), ..inner }, ctx, ops, focused);
}

/// A header per group, then its alerts, scrolled so the selected alert is visible.
fn rows(buf: &mut Buffer, area: Rect, ctx: &RenderCtx<'_>, ops: &OpsState, focused: bool) {
    let t = ctx.theme;
    // Row of the selected alert, counting one header row per group before it.
    let selected = ops.alert_cursor.selected;
    let mut before = 0;
    let mut sel_row = 0;
    for (i, g) in ops.groups.iter().enumerate() {
        if selected < before + g.alerts.len() {
            sel_row = before + i + 1 + (selected - before);
            break;
        }
        before += g.alerts.len();
    }
    let room = area.height as usize;
    let first = sel_row.saturating_sub(room.saturating_sub(1));
    // Only the visible rows are built: with thousands of alerts, the others cost nothing.
    let mut row = 0;
    let mut y = area.y;
    let mut index = 0;
    for g in &ops.groups {
        if row >= first + room {
            break;
        }
        if row + 1 + g.alerts.len() <= first {
            row += 1 + g.alerts.len();
            index += g.alerts.len();
            continue;
        }
        if row >= first {
            let key: Vec<&str> = g.key.iter().map(|(_, v)| if v.is_empty() { "?" } else { v.as_str() }).collect();
            put(buf, area.x, y, &format!("▾ {} ({})", key.join(" · "), g.alerts.len()), area.width, t.title);
            y += 1;
        }
        row += 1;
        for a in g.alerts.iter().filter_map(|i| ops.all_alerts().get(*i)) {
            if row >= first && row < first + room {
                if index == selected {
                    let style = if focused { t.selected } else { t.selected.remove_modifier(Modifier::BOLD) };
                    buf.set_style(Rect { y, height: 1, ..area }, style);
                }
                alert_row(buf, area, y, ctx, a);
                y += 1;
            }
            row += 1;
            index += 1;
        }
    }
}

/// Severity as written, age, state (a Zabbix problem acknowledged, a CrowdSec source banned),
/// instance or host, summary and the sources it came from.
fn alert_row(buf: &mut Buffer, area: Rect, y: u16, ctx: &RenderCtx<'_>, a: &Alert) {
    let t = ctx.theme;
    let state = match (&a.origin, a.state) {
        (Origin::Zabbix { acknowledged: true, .. }, AlertState::Active) => "acked",
        (Origin::CrowdSec { decisions, .. }, AlertState::Active)
            if decisions.iter().any(|d| d.kind == "ban" && d.active()) =>
        {
            "banned"
        }
        (_, state) => match state {
            AlertState::Suppressed if !a.inhibited_by.is_empty() => "inhib",
            AlertState::Suppressed => "silenced",
            AlertState::Active => "firing",
            AlertState::Unprocessed => "new",
            AlertState::Resolved => "resolved",
            AlertState::Unknown => "?",
        },
    };
    let quiet = matches!(a.state, AlertState::Suppressed | AlertState::Resolved) || matches!(state, "acked" | "banned");
    let state_style = if quiet { t.muted } else { t.error };
    let since = a.starts_at.map(|s| age(ctx.age_of(s))).unwrap_or_else(|| "?".into());
    let instance = a.labels.get("instance").or(a.labels.get("host")).map(String::as_str).unwrap_or("");
    let right = area.right();
    let mut x = area.x + 2;
    // The platform's level (critical, high, medium, low, unknown), as the counts use it; the
    // label as the system wrote it ("warning") is in the alert's detail.
    let sev = a.severity();
    for (text, w, style) in [
        (sev.as_str(), 8u16, t.severity(sev)),
        (since.as_str(), 5, t.muted),
        (state, 8, state_style),
        (instance, 18, t.text),
    ] {
        let w = w.min(right.saturating_sub(x));
        put(buf, x, y, text, w, style);
        x = (x + w + 1).min(right);
    }
    let src = format!(" [{}]", a.sources.join(","));
    let room = right.saturating_sub(x).saturating_sub(src.chars().count() as u16);
    let used = put(buf, x, y, a.summary(), room, t.text);
    put(buf, x + used, y, &src, right.saturating_sub(x + used), t.muted);
}
