//! One file per pane. Each renders from its own state and a `RenderCtx`; none changes state or
//! reads the clock.

pub mod alerts;
pub mod approvals;
pub mod audit;
pub mod backups;
pub mod command;
pub mod detail;
pub mod errors;
pub mod fleet;
pub mod footer;
pub mod header;
pub mod health;
pub mod help;
pub mod jobs;
pub mod logs;
pub mod ops_detail;
pub mod pipeline;
pub mod placeholder;
pub mod queue;
pub mod rag;
pub mod summary;

use chrono::{DateTime, Utc};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders};

use super::app::PaneId;
use super::keymap::KeyMap;
use super::loadable::{Loadable, age};
use super::theme::Theme;
use crate::domain::job::MAX_TEXT_CHARS;
use crate::domain::text::{clean_line, clean_text};

/// Everything a frame needs besides the state.
pub struct RenderCtx<'a> {
    pub theme: &'a Theme,
    /// The clock in the header, and countdowns.
    pub now: DateTime<Utc>,
    /// What ages ("4s ago", a job's age) are measured from: `now` rounded down to the age step,
    /// so that a screen full of second-resolution ages is redrawn once per step, not once per
    /// second (bandwidth on a slow SSH link). Data changes still show at once.
    pub ages_at: DateTime<Utc>,
    /// The key map, for hints that name a key.
    pub keys: Option<&'a KeyMap>,
}

impl<'a> RenderCtx<'a> {
    /// A context whose ages move in steps of `age_step` seconds (1 = every second).
    pub fn new(theme: &'a Theme, now: DateTime<Utc>, age_step: u32) -> Self {
        let step = i64::from(age_step.max(1));
        let floored = now.timestamp() - now.timestamp().rem_euclid(step);
        let ages_at = DateTime::from_timestamp(floored, 0).unwrap_or(now);
        RenderCtx { theme, now, ages_at, keys: None }
    }

    /// The same context, naming keys from `keys`.
    pub fn with_keys(self, keys: &'a KeyMap) -> Self {
        RenderCtx { keys: Some(keys), ..self }
    }

    /// Seconds from `t` to the ages reference, never negative.
    pub fn age_of(&self, t: DateTime<Utc>) -> i64 {
        (self.ages_at - t).num_seconds().max(0)
    }
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
    let mut title = vec![Span::styled(format!(" {} ", pane.number()), t.key)];
    // A failing source shows before the name, so it is seen in the smallest box.
    if data.is_some_and(|l| l.error.is_some()) {
        title.push(Span::styled("✗ ", t.error));
    }
    title.push(Span::styled(pane.title().to_string(), t.title));
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
    let since = |at: DateTime<Utc>| age(ctx.age_of(at));
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
    let mut spans = vec![Span::styled("✗ ", t.error), Span::styled(clean_line(&e.message), t.error)];
    spans.push(Span::styled(format!(" · failing {}", age(ctx.age_of(e.since))), t.muted));
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
/// a missing value reads "unknown". Both come from outside and are cleaned here.
pub fn kv<'a>(ctx: &RenderCtx<'_>, k: &str, v: Option<&str>) -> Vec<Line<'a>> {
    let t = ctx.theme;
    let k = clean_line(k);
    let v = v.map(|v| clean_text(v, MAX_TEXT_CHARS)).unwrap_or_else(|| "unknown".into());
    let mut out = Vec::new();
    for (i, part) in v.split('\n').enumerate() {
        let label = if i == 0 { format!("{k:>16}: ") } else { " ".repeat(18) };
        out.push(Line::from(vec![Span::styled(label, t.muted), Span::styled(part.to_string(), t.text)]));
    }
    out
}

/// The last line of defence: any cell of a drawn frame still holding a control character or
/// an invisible or reordering one (a pane that forgot to clean) shows `?` instead. Panes clean
/// what they draw, so this changes nothing on a correct frame. Then every secret is masked, row
/// by row, wherever it shows: whole, or the part a column, a wrap or an ellipsis left.
pub fn scrub(buf: &mut ratatui::buffer::Buffer) {
    for cell in buf.content.iter_mut() {
        let unsafe_symbol = match cell.symbol().as_bytes() {
            // Nearly every cell: one printable ASCII byte.
            [b] => *b < 0x20 || *b == 0x7f,
            _ => !crate::domain::text::is_clean_line(cell.symbol()),
        };
        if unsafe_symbol {
            cell.set_symbol("?");
        }
    }
    if !crate::domain::secret::any_registered() {
        return;
    }
    let width = buf.area.width as usize;
    for row in buf.content.chunks_mut(width.max(1)) {
        // The row as text, and the cell each byte of it came from.
        let mut text = String::new();
        let mut cell_of = Vec::new();
        for (i, cell) in row.iter().enumerate() {
            text.push_str(cell.symbol());
            cell_of.resize(text.len(), i);
        }
        for (start, end) in crate::domain::secret::find_in_row(&text) {
            let (first, last) = (cell_of.get(start).copied(), cell_of.get(end.saturating_sub(1)).copied());
            if let (Some(first), Some(last)) = (first, last) {
                row[first..=last].iter_mut().for_each(|c| {
                    c.set_symbol("*");
                });
            }
        }
    }
}

/// A rectangle of `w`×`h` centred in `area`, clipped to it.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(area.x + (area.width - w) / 2, area.y + (area.height - h) / 2, w, h)
}
