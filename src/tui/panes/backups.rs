//! The Backups pane: the archives, newest first, with time, size, items and whether verified;
//! the newest one's age (a warning past `max_age_h`); a running backup's or verify's gauge.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Gauge, Paragraph};

use super::{RenderCtx, error_line, pane_block};
use crate::domain::facts::ContextFacts;
use crate::domain::text::count;
use crate::tui::app::PaneId;
use crate::tui::backups_state::BackupsState;
use crate::tui::cells::put;
use crate::tui::loadable::age;

pub fn render(f: &mut Frame, area: Rect, ctx: &RenderCtx<'_>, s: &BackupsState, facts: &ContextFacts, focused: bool) {
    let t = ctx.theme;
    let extra = s.archives.data.as_ref().map(|a| count(a.len() as u64, "archive", "archives")).unwrap_or_default();
    let block = pane_block(ctx, PaneId::Backups, focused, Some(&s.archives), &extra);
    let mut body = block.inner(area);
    f.render_widget(block, area);
    let take_line = |body: &mut Rect| {
        let line = Rect { height: 1.min(body.height), ..*body };
        body.y += line.height;
        body.height -= line.height;
        line
    };
    if let Some(line) = error_line(ctx, &s.archives) {
        let r = take_line(&mut body);
        f.render_widget(Paragraph::new(line), r);
    }
    if let Some(p) = &s.running {
        let ratio = p.total.filter(|t| *t > 0).map(|t| (p.done as f64 / t as f64).clamp(0.0, 1.0)).unwrap_or(0.0);
        let eta = p.eta_s.map(|e| format!(" · ETA {}", age(e.round() as i64))).unwrap_or_default();
        let est = if p.estimated && p.total.is_some() { " (est.)" } else { "" };
        let label = format!(
            "{} {} · {} of {}{est} · {}/s{eta}",
            p.phase,
            crate::domain::text::clean_line(&p.item),
            bytes(p.done),
            p.total.map(bytes).unwrap_or_else(|| "?".into()),
            bytes(p.bytes_per_s as u64)
        );
        let r = take_line(&mut body);
        f.render_widget(Gauge::default().ratio(ratio).label(label).gauge_style(t.ok), r);
    }
    let Some(archives) = &s.archives.data else {
        if s.archives.error.is_none() {
            f.render_widget(Paragraph::new(Line::styled("loading…", t.muted)), body);
        }
        return;
    };
    match (archives.first(), facts.last_backup_age_s) {
        (None, _) | (_, None) => {
            f.render_widget(Paragraph::new(Line::styled("no backups yet: b takes one", t.warn)), body);
            return;
        }
        (Some(_), Some(secs)) if facts.backup_overdue => {
            let r = take_line(&mut body);
            let text = format!("⚠ newest backup is {} old (max_age_h = {})", age(secs), s.max_age_h.unwrap_or(0));
            f.render_widget(Paragraph::new(Span::styled(text, t.warn)), r);
        }
        (Some(_), Some(secs)) => {
            let r = take_line(&mut body);
            let text = format!("newest {} ago", age(secs));
            f.render_widget(Paragraph::new(Span::styled(text, t.muted)), r);
        }
    }
    let rows = body.height as usize;
    let top = s.cursor.saturating_sub(rows.saturating_sub(1));
    let buf = f.buffer_mut();
    for (i, a) in archives.iter().enumerate().skip(top).take(rows) {
        let y = body.y + (i - top) as u16;
        if i == s.cursor && focused {
            buf.set_style(Rect { y, height: 1, ..body }, t.selected);
        } else if i == s.cursor {
            buf.set_style(Rect { y, height: 1, ..body }, t.selected.remove_modifier(Modifier::BOLD));
        }
        let (verified, vstyle) = match a.verified.as_deref() {
            Some(v) if v.starts_with("ok") => ("✓ verified", t.ok),
            Some(_) => ("✗ FAILED", t.error),
            None => ("unverified", t.muted),
        };
        let when = a.created_at.format("%m-%d %H:%M").to_string();
        let size = bytes(a.bytes);
        let items = a.items.join(" ");
        let mut x = body.x;
        let right = body.x + body.width;
        for (text, w, style) in [
            (when.as_str(), 11, t.text),
            (size.as_str(), 9, t.text),
            (verified, 10, vstyle),
            (items.as_str(), u16::MAX, t.muted),
        ] {
            let w = w.min(right.saturating_sub(x));
            put(buf, x, y, text, w, style);
            x = (x + w + 1).min(right);
        }
    }
}

/// `12.3 MB`.
pub fn bytes(n: u64) -> String {
    let n = n as f64;
    match n {
        n if n >= 1e9 => format!("{:.1} GB", n / 1e9),
        n if n >= 1e6 => format!("{:.1} MB", n / 1e6),
        n if n >= 1e3 => format!("{:.1} kB", n / 1e3),
        n => format!("{n:.0} B"),
    }
}
