//! The Alerts pane: alerts grouped (by alertname unless configured), worst and oldest first,
//! silenced and inhibited ones marked, the Alertmanager(s) each came from, and any Alertmanager
//! that did not answer.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;

use super::{RenderCtx, error_line, pane_block};
use crate::domain::AlertState;
use crate::domain::text::clean_line;
use crate::tui::app::{App, PaneId};
use crate::tui::cells::put;
use crate::tui::loadable::age;

pub fn render(f: &mut Frame, area: Rect, ctx: &RenderCtx<'_>, app: &App, focused: bool) {
    let t = ctx.theme;
    let ops = &app.ops;
    let (firing, silenced) = ops.alert_list().fold((0, 0), |(f, s), a| match a.state {
        AlertState::Suppressed => (f, s + 1),
        _ => (f + 1, s),
    });
    let mut extra = format!("{firing} firing · {silenced} silenced");
    if !ops.alert_filter.is_empty() {
        extra.push_str(&format!(" · filter “{}”", clean_line(&ops.alert_filter)));
    }
    let block = pane_block(ctx, PaneId::Alerts, focused, Some(&ops.alerts), &extra);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let buf = f.buffer_mut();
    let mut y = inner.y;
    let bottom = inner.y + inner.height;
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
    for (name, err) in &snap.failures {
        if y < bottom {
            put(buf, inner.x, y, &format!("⚠ {name}: {err}"), inner.width, t.warn);
            y += 1;
        }
    }
    if ops.groups.is_empty() && y < bottom {
        let msg = if ops.alert_filter.is_empty() { "no alerts" } else { "no alerts match" };
        put(buf, inner.x, y, msg, inner.width, t.muted);
        return;
    }
    // Rows: a header per group, then its alerts. Scroll so the selected alert is visible.
    let mut rows: Vec<Option<(usize, &crate::domain::Alert)>> = Vec::new();
    let mut headers: Vec<String> = Vec::new();
    let mut index = 0;
    for g in &ops.groups {
        let key: Vec<String> =
            g.key.iter().map(|(_, v)| if v.is_empty() { "?".to_string() } else { v.clone() }).collect();
        headers.push(format!("▾ {} ({})", key.join(" · "), g.alerts.len()));
        rows.push(None);
        for a in &g.alerts {
            rows.push(Some((index, a)));
            index += 1;
        }
    }
    let room = bottom.saturating_sub(y) as usize;
    let sel_row = rows.iter().position(|r| r.is_some_and(|(i, _)| i == ops.alert_cursor.selected)).unwrap_or(0);
    let first = sel_row.saturating_sub(room.saturating_sub(1));
    let mut header_i = rows[..first].iter().filter(|r| r.is_none()).count();
    let right = inner.x + inner.width;
    for row in rows.iter().skip(first).take(room) {
        match row {
            None => {
                put(buf, inner.x, y, &headers[header_i], inner.width, t.title);
                header_i += 1;
            }
            Some((i, a)) => {
                if *i == ops.alert_cursor.selected {
                    let style = if focused { t.selected } else { t.selected.remove_modifier(Modifier::BOLD) };
                    buf.set_style(Rect { y, height: 1, ..inner }, style);
                }
                let sev = a.severity();
                let state = match a.state {
                    AlertState::Suppressed if !a.inhibited_by.is_empty() => "inhib",
                    AlertState::Suppressed => "silenced",
                    AlertState::Active => "firing",
                    AlertState::Unprocessed => "new",
                    AlertState::Unknown => "?",
                };
                let state_style = if a.state == AlertState::Suppressed { t.muted } else { t.error };
                let since = a.starts_at.map(|s| age(ctx.age_of(s))).unwrap_or_else(|| "?".into());
                let instance = a.labels.get("instance").map(String::as_str).unwrap_or("");
                let mut x = inner.x + 2;
                // The label as Alertmanager users write it ("warning"); the mapped level only
                // sorts and colours.
                let sev_label = a.labels.get("severity").map(String::as_str).unwrap_or("?");
                for (text, w, style) in [
                    (sev_label, 8u16, t.severity(sev)),
                    (since.as_str(), 4, t.muted),
                    (state, 8, state_style),
                    (instance, 18, t.text),
                ] {
                    let w = w.min(right.saturating_sub(x));
                    put(buf, x, y, text, w, style);
                    x = (x + w + 1).min(right);
                }
                let src = if a.sources.len() > 1 {
                    format!(" [{}]", a.sources.join(","))
                } else {
                    format!(" [{}]", a.sources.join(""))
                };
                let used = put(
                    buf,
                    x,
                    y,
                    a.summary(),
                    right.saturating_sub(x).saturating_sub(src.chars().count() as u16),
                    t.text,
                );
                put(buf, x + used, y, &src, right.saturating_sub(x + used), t.muted);
            }
        }
        y += 1;
    }
}
