//! The RAG pane: the knowledge base in one line (size, dimensions, index), what the hits are for
//! (the selected job's stored hits, a live search for the selected alert, or a typed query), and
//! the hits with similarity bars, most similar first.

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};

use super::queue::thousands;
use super::{RenderCtx, pane_block};
use crate::domain::JobStatus;
use crate::domain::rag::{KbStats, RagHit, RagSearch};
use crate::domain::text::{clean_line, count};
use crate::tui::app::PaneId;
use crate::tui::cells::put;
use crate::tui::loadable::{Loadable, age};
use crate::tui::rag_state::RagState;
use crate::tui::rag_state::Subject;

pub fn render(f: &mut Frame, area: Rect, ctx: &RenderCtx<'_>, rag: &RagState, focused: bool) {
    let t = ctx.theme;
    let hits = rag.hits();
    let extra = if hits.is_empty() { String::new() } else { hits.len().to_string() };
    let block = match rag.subject {
        // A knowledge base that cannot be read is marked in the title, seen in the smallest box.
        _ if rag.stats.error.is_some() => pane_block(ctx, PaneId::Rag, focused, Some(&rag.stats), &extra),
        Some(Subject::Job(_)) => pane_block(ctx, PaneId::Rag, focused, Some(&rag.job_hits), &extra),
        Some(_) if rag.searchable => pane_block(ctx, PaneId::Rag, focused, Some(&rag.search), &extra),
        _ => pane_block::<()>(ctx, PaneId::Rag, focused, None, &extra),
    };
    let inner = block.inner(area);
    f.render_widget(block, area);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    let buf = f.buffer_mut();
    let bottom = inner.y + inner.height;
    let mut y = inner.y;
    let mut line = |y: &mut u16, text: &str, style: Style| {
        if *y < bottom {
            put(buf, inner.x, *y, text, inner.width, style);
            *y += 1;
        }
    };
    // The knowledge base's own line only when there is room for hits too.
    if inner.height >= 3 {
        let lines = kb_lines(ctx, rag);
        // An error and the last good description only when a hit still fits below.
        let n = if inner.height >= 4 { lines.len() } else { 1 };
        for (text, style) in lines.iter().take(n) {
            line(&mut y, text, *style);
        }
    }
    let (text, style) = subject_line(ctx, rag);
    line(&mut y, &text, style);
    // What an alert's live search asked, when there is room for it and some hits.
    if let Some(Subject::Alert { query, .. }) = &rag.subject
        && inner.height >= 6
    {
        line(&mut y, &format!("“{}”", clean_line(query)), t.muted);
    }
    let rows = Rect { y, height: bottom.saturating_sub(y), ..inner };
    let first = rag.cursor.selected.saturating_sub((rows.height as usize).saturating_sub(1));
    for ((i, h), y) in hits.iter().enumerate().skip(first).zip(rows.y..rows.bottom()) {
        if i == rag.cursor.selected {
            let style = if focused { t.selected } else { t.selected.remove_modifier(Modifier::BOLD) };
            buf.set_style(Rect { y, height: 1, ..rows }, style);
        }
        hit_row(buf, rows, y, ctx, h);
    }
}

/// Score, bar, id, source and the text, on one line.
fn hit_row(buf: &mut Buffer, area: Rect, y: u16, ctx: &RenderCtx<'_>, h: &RagHit) {
    let t = ctx.theme;
    let right = area.right();
    let score = h.score.map(|s| format!("{s:.2}")).unwrap_or_else(|| " ?  ".into());
    let mut x = area.x;
    x += put(buf, x, y, &score, right - x, t.ok);
    x += put(buf, x, y, " ", right.saturating_sub(x), t.text);
    x += put(buf, x, y, &bar(h.score.unwrap_or(0.0), 8), right.saturating_sub(x), t.ok);
    x += put(buf, x, y, &format!(" {} ", h.id_label()), right.saturating_sub(x), t.muted);
    if let Some(src) = h.source() {
        x += put(buf, x, y, &format!("{src} "), right.saturating_sub(x).min(14), t.key);
    }
    put(buf, x, y, &h.snippet(), right.saturating_sub(x), t.text);
}

/// `KB 12,345 rows · 768-d · hnsw ✓`, or why it cannot be described (then what it was, and when).
fn kb_lines(ctx: &RenderCtx<'_>, rag: &RagState) -> Vec<(String, Style)> {
    let t = ctx.theme;
    if !rag.searchable {
        return vec![("no knowledge base configured: stored hits only".into(), t.muted)];
    }
    match (&rag.stats.data, &rag.stats.error) {
        (last, Some(e)) => {
            let retry = (e.retry_at - ctx.now).num_seconds().max(0);
            let mut lines = vec![(format!("✗ KB: {} · retry in {retry}s", e.message), t.error)];
            if let (Some(s), Some(at)) = (last, rag.stats.updated_at) {
                let ago = age(ctx.age_of(at));
                lines.push((format!("last seen {ago} ago: {}", describe(s)), t.warn));
            }
            lines
        }
        (Some(s), None) => {
            let style = if s.index.is_some() { t.muted } else { t.warn };
            vec![(describe(s), style)]
        }
        (None, None) => vec![("KB: reading the catalog…".into(), t.muted)],
    }
}

fn describe(s: &KbStats) -> String {
    let rows = match (s.rows, s.rows_estimated) {
        (Some(n), true) => format!("~{} rows", short_count(n)),
        (Some(n), false) => count(n, "row", "rows"),
        (None, _) => "? rows".into(),
    };
    let dims = s.dimensions.map(|d| format!("{d}-d")).unwrap_or_else(|| "?-d".into());
    let index = match (&s.index, &s.index_note) {
        (Some(i), _) if i.ends_with("(hnsw)") => "hnsw ✓".to_string(),
        (Some(i), _) => i.clone(),
        (None, _) => "no index: seq scan ⚠".into(),
    };
    format!("KB {} · {rows} · {dims} · {index}", clean_line(&s.table))
}

/// What the hits are for, and how the search went.
fn subject_line(ctx: &RenderCtx<'_>, rag: &RagState) -> (String, Style) {
    let t = ctx.theme;
    let Some(subject) = &rag.subject else {
        let key = ctx.keys.map(|k| k.first_key(crate::tui::keymap::Action::SearchKb)).unwrap_or("K");
        return (format!("select a job or an alert, or press {key} to search"), t.muted);
    };
    match subject {
        Subject::Job(id) => {
            let short: String = id.chars().take(12).collect();
            let what = match &rag.job_hits.data {
                None if rag.job_hits.error.is_some() => "cannot read the job".into(),
                None => "loading…".into(),
                Some(None) => match &rag.followed_status {
                    Some(s @ (JobStatus::Queued | JobStatus::Running)) => format!("no hits yet ({})", s.as_str()),
                    _ => "no hits stored".into(),
                },
                Some(Some(Err(e))) => e.clone(),
                Some(Some(Ok(h))) if h.is_empty() => "the worker found no hits".into(),
                Some(Some(Ok(h))) => format!("{} the worker used", count(h.len() as u64, "hit", "hits")),
            };
            (format!("job {} · {what}", clean_line(&short)), t.title)
        }
        Subject::Alert { name, .. } => search_line(ctx, rag, format!("alert {}", clean_line(name)), &rag.search),
        Subject::Query(q) => search_line(ctx, rag, format!("search “{}”", clean_line(q)), &rag.search),
    }
}

fn search_line(ctx: &RenderCtx<'_>, rag: &RagState, head: String, search: &Loadable<RagSearch>) -> (String, Style) {
    let t = ctx.theme;
    if !rag.searchable {
        return (format!("{head} · no knowledge base configured"), t.muted);
    }
    if rag.pending.is_some() {
        return (format!("{head} · searching…"), t.muted);
    }
    if let Some(e) = &search.error {
        return (format!("{head} · ✗ {}", e.message), t.error);
    }
    match &search.data {
        None => (format!("{head} · waiting"), t.muted),
        Some(s) => {
            let via = match &s.fallback_reason {
                Some(_) => format!("{} (fallback)", s.embedder.name()),
                None => s.embedder.name().to_string(),
            };
            let summary = if s.hits.is_empty() {
                format!("nothing ≥{:.2} ({} below)", s.threshold, s.candidates)
            } else {
                format!("{}/{} ≥{:.2}", s.hits.len(), s.candidates, s.threshold)
            };
            // The title says how old the answer is; this line says how it was found.
            let style = if s.fallback_reason.is_some() { t.warn } else { t.title };
            (format!("{head} · {summary} · {via} {} ms", s.embed_ms + s.db_ms), style)
        }
    }
}

/// A similarity bar `width` cells wide, in eighths.
pub fn bar(score: f64, width: usize) -> String {
    const PARTS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
    let eighths = (score.clamp(0.0, 1.0) * (width * 8) as f64).round() as usize;
    let mut s = "█".repeat(eighths / 8);
    if !eighths.is_multiple_of(8) {
        s.push(PARTS[eighths % 8]);
    }
    let used = s.chars().count();
    s.extend(std::iter::repeat_n('·', width.saturating_sub(used)));
    s
}

fn short_count(n: u64) -> String {
    match n {
        0..=9_999 => thousands(n),
        10_000..=999_999 => format!("{:.0}k", n as f64 / 1000.0),
        _ => format!("{:.1}M", n as f64 / 1_000_000.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_and_counts() {
        assert_eq!(bar(1.0, 4), "████");
        assert_eq!(bar(0.5, 4), "██··");
        assert_eq!(bar(0.53, 4), "██▏·");
        assert_eq!(bar(-1.0, 3), "···");
        assert_eq!(short_count(100_000), "100k");
        assert_eq!(short_count(2_450_000), "2.5M");
    }
}
