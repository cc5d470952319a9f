//! One file per pane. Panes render from `&App` and a `RenderCtx`; they never change state and
//! never read the clock.

pub mod alerts;
pub mod detail;
pub mod footer;
pub mod header;
pub mod health;
pub mod help;
pub mod jobs;
pub mod ops_detail;
pub mod placeholder;
pub mod queue;
pub mod rag;

use chrono::{DateTime, Utc};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders};

use super::app::PaneId;
use super::loadable::{Loadable, age};
use super::theme::Theme;

/// Everything a frame needs besides the state.
pub struct RenderCtx<'a> {
    pub theme: &'a Theme,
    pub now: DateTime<Utc>,
}

/// A pane's frame: its number and title, how fresh its data is, focus shown by the border.
pub fn pane_block<'a, T>(
    ctx: &RenderCtx<'_>,
    pane: PaneId,
    focused: bool,
    data: Option<&Loadable<T>>,
    extra: &str,
) -> Block<'a> {
    let t = ctx.theme;
    let mut title =
        vec![Span::styled(format!(" {} ", pane.number()), t.key), Span::styled(pane.title().to_string(), t.title)];
    if !extra.is_empty() {
        title.push(Span::styled(format!(" {extra}"), t.text));
    }
    if let Some(l) = data {
        title.push(Span::raw(" "));
        title.push(freshness(ctx, l));
    }
    title.push(Span::raw(" "));
    Block::default()
        .borders(Borders::ALL)
        .border_type(if focused { BorderType::Thick } else { BorderType::Plain })
        .border_style(t.border(focused))
        .title(Line::from(title))
}

/// `· 3s ago`, `· loading…` or `· stale 40s` for a pane title.
pub fn freshness<'a, T>(ctx: &RenderCtx<'_>, l: &Loadable<T>) -> Span<'a> {
    let t = ctx.theme;
    let since = |at: DateTime<Utc>| age((ctx.now - at).num_seconds());
    match (&l.error, l.updated_at) {
        (None, None) => Span::styled("· loading…", t.muted),
        (None, Some(at)) => Span::styled(format!("· {} ago", since(at)), t.muted),
        (Some(_), Some(at)) => Span::styled(format!("· STALE {}", since(at)), t.error),
        (Some(_), None) => Span::styled("· FAILING", t.error),
    }
}

/// The line a failing pane shows above its last good data: the error and the next retry.
pub fn error_line<'a, T>(ctx: &RenderCtx<'_>, l: &Loadable<T>) -> Option<Line<'a>> {
    let e = l.error.as_ref()?;
    let t = ctx.theme;
    let retry = (e.retry_at - ctx.now).num_milliseconds().max(0) as f64 / 1000.0;
    let mut spans = vec![Span::styled("✗ ", t.error), Span::styled(e.message.clone(), t.error)];
    spans.push(Span::styled(format!(" · failing {}", age((ctx.now - e.since).num_seconds())), t.muted));
    spans.push(Span::styled(format!(" · retry in {retry:.0}s"), t.muted));
    if l.data.is_some() {
        spans.push(Span::styled(" · showing last good data", t.warn));
    }
    Some(Line::from(spans))
}

/// A section heading in a detail view.
pub fn section<'a>(ctx: &RenderCtx<'_>, name: &str) -> Line<'a> {
    Line::from(vec![Span::raw(""), Span::styled(format!("── {name} "), ctx.theme.title)])
}

/// `label: value` lines in a detail view, the label right-aligned, continuation lines indented;
/// a missing value reads "unknown".
pub fn kv<'a>(ctx: &RenderCtx<'_>, k: &str, v: Option<&str>) -> Vec<Line<'a>> {
    let t = ctx.theme;
    let v = v.unwrap_or("unknown");
    let mut out = Vec::new();
    for (i, part) in v.split('\n').enumerate() {
        let label = if i == 0 { format!("{k:>16}: ") } else { " ".repeat(18) };
        out.push(Line::from(vec![Span::styled(label, t.muted), Span::styled(part.to_string(), t.text)]));
    }
    out
}

/// A rectangle of `w`×`h` centred in `area`, clipped to it.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(area.x + (area.width - w) / 2, area.y + (area.height - h) / 2, w, h)
}
