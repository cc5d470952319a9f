//! The fleet view (`:fleet`): one row per configured context, checked every few seconds while
//! open; a context whose source fails says which and why on its own row. Enter switches to it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};

use super::{RenderCtx, freshness};
use crate::domain::Severity;
use crate::domain::facts::ContextFacts;
use crate::fleet::FleetRow;
use crate::tui::app::App;
use crate::tui::cells::{put, put_row};
use crate::tui::loadable::age;

/// The rows as checked, except the current context's, which is this frame's own facts (the
/// numbers the header and panes show beside it, not a separate read).
pub fn render(f: &mut Frame, area: Rect, ctx: &RenderCtx<'_>, app: &App, facts: &ContextFacts) {
    let t = ctx.theme;
    f.render_widget(Clear, area);
    let every = crate::tui::effects::FLEET_INTERVAL.as_secs();
    let title = Line::from(vec![
        Span::styled(" Fleet ", t.title),
        Span::styled(format!("every context, checked every {every} s "), t.muted),
        freshness(ctx, &app.fleet),
        Span::raw(" "),
    ]);
    let block =
        Block::default().borders(Borders::ALL).border_type(BorderType::Thick).border_style(t.border(true)).title(title);
    let body = block.inner(area);
    f.render_widget(block, area);
    let Some(checked) = &app.fleet.data else {
        f.render_widget(Paragraph::new(Line::styled("checking every context…", t.muted)), body);
        return;
    };
    let rows: Vec<FleetRow> =
        checked.iter().map(|r| if r.context == app.context { app.fleet_row(r, facts) } else { r.clone() }).collect();
    if rows.is_empty() {
        f.render_widget(Paragraph::new(Line::styled("no contexts configured", t.muted)), body);
        return;
    }
    let buf = f.buffer_mut();
    let cols: [(&str, u16); 9] = [
        ("CONTEXT", 16),
        ("QUEUED", 6),
        ("OLDEST", 6),
        ("APPR", 5),
        ("FIRING c/h/m/l", 15),
        ("UNHLTHY", 7),
        ("BACKUP", 6),
        ("", 1),
        ("SOURCES", u16::MAX),
    ];
    let right = body.x + body.width;
    let widths = cols.map(|(_, w)| w);
    put_row(buf, body.x, body.y, right, &cols.map(|(h, _)| (h, t.muted)), &widths);
    let n = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_else(|| "-".into());
    // Where the SOURCES column starts: when it is too narrow for a reason, the reason gets a
    // line of its own under the row.
    let sources_x = body.x + cols.iter().take(8).map(|(_, w)| w + 1).sum::<u16>();
    let narrow = right.saturating_sub(sources_x) < 40;
    let mut y = body.y + 1;
    // Scrolled so the cursor's row shows (a failing row may take two lines).
    let room = body.height.saturating_sub(1) as usize / if narrow { 2 } else { 1 };
    let skip = app.fleet_cursor.saturating_sub(room.saturating_sub(1));
    for (i, r) in rows.iter().enumerate().skip(skip) {
        if y >= body.y + body.height {
            break;
        }
        if i == app.fleet_cursor {
            buf.set_style(Rect { y, height: 1, ..body }, t.selected.remove_modifier(Modifier::BOLD));
        }
        let current = r.context == app.context;
        let name = format!("{}{}", if current { "▶ " } else { "  " }, r.context);
        let name_style = if r.production { t.alarm } else { t.context };
        let fx = &r.facts;
        let oldest = fx.oldest_s.map(|s| age(s as i64)).unwrap_or_else(|| "-".into());
        let oldest_style = if fx.stalled == Some(true) { t.error } else { t.text };
        let firing = r.firing_short();
        let critical = fx.firing.as_ref().map(|f| f.of(Severity::Critical)).unwrap_or(0);
        let firing_style = if critical > 0 { t.severity_critical } else { t.text };
        let unhealthy_n = fx.health.map(|h| h.containers_unhealthy as u64);
        let unhealthy = n(unhealthy_n);
        let unhealthy_style = if unhealthy_n.unwrap_or(0) > 0 { t.warn } else { t.text };
        let backup = fx.last_backup_age_s.map(age).unwrap_or_else(|| "-".into());
        let backup_style = if fx.backup_overdue { t.warn } else { t.text };
        let (sources, sources_style) = match r.failure() {
            Some(f) => (format!("✗ {}: {}", f.name, f.error.as_deref().unwrap_or("")), t.error),
            None if r.sources.is_empty() => ("nothing configured".to_string(), t.muted),
            None => (format!("✓ {}", r.sources.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(" ")), t.ok),
        };
        let cells = [
            (name.as_str(), name_style),
            (&n(fx.queued) as &str, t.text),
            (oldest.as_str(), oldest_style),
            (&n(fx.awaiting_approval) as &str, t.status_awaiting_approval),
            (firing.as_str(), firing_style),
            (unhealthy.as_str(), unhealthy_style),
            (backup.as_str(), backup_style),
            ("", t.text),
            (sources.as_str(), sources_style),
        ];
        put_row(buf, body.x, y, right, &cells, &widths);
        y += 1;
        if let Some(f) = r.failure().filter(|_| narrow && y < body.y + body.height) {
            let why = format!("    {} failed: {}", f.name, f.error.as_deref().unwrap_or(""));
            put(buf, body.x, y, &why, body.width, t.error);
            y += 1;
        }
    }
}
