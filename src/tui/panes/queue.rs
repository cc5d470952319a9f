//! The Queue pane: per queue its length, oldest waiting job, rates, a sparkline and a stalled
//! badge; below, a bar of all jobs by status.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{RenderCtx, error_line, pane_block};
use crate::domain::queue::{OutRate, out_rate, stalled};
use crate::domain::text::count;
use crate::domain::{JobStatus, QueueHistory, QueueSnapshot, QueueStats};
use crate::tui::app::PaneId;
use crate::tui::jobs_state::JobsState;
use crate::tui::loadable::age;

const SPARKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

pub fn render(f: &mut Frame, area: Rect, ctx: &RenderCtx<'_>, jobs: &JobsState, focused: bool) {
    let t = ctx.theme;
    let extra = jobs
        .queues
        .data
        .as_ref()
        .map(|s| s.total_jobs.map(|n| count(n, "job", "jobs")).unwrap_or_else(|| "? jobs".into()))
        .unwrap_or_default();
    let block = pane_block(ctx, PaneId::Queue, focused, Some(&jobs.queues), &extra);
    let inner_w = area.width.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = error_line(ctx, &jobs.queues).into_iter().collect();
    match &jobs.queues.data {
        None if jobs.queues.error.is_none() => lines.push(Line::styled("loading…", t.muted)),
        None => {}
        Some(snap) => {
            for p in &snap.problems {
                lines.push(Line::styled(format!("✗ {}", crate::domain::text::clean_line(p)), t.error));
            }
            for q in &snap.queues {
                let hist = jobs.history.get(&q.name);
                lines.push(queue_line(ctx, q, hist, snap.server_time, jobs.stall_after, inner_w));
            }
            if snap.queues.is_empty() {
                lines.push(Line::styled("no queues configured", t.muted));
            }
            lines.push(status_bar(ctx, snap, inner_w));
            lines.push(legend(ctx, snap, inner_w));
        }
    }
    f.render_widget(Paragraph::new(lines).block(block), area);
}

fn queue_line<'a>(
    ctx: &RenderCtx<'_>,
    q: &QueueStats,
    hist: Option<&QueueHistory>,
    server_now: DateTime<Utc>,
    stall_after: chrono::Duration,
    width: usize,
) -> Line<'a> {
    let t = ctx.theme;
    let stalled = stalled(q, hist, server_now, stall_after);
    let oldest = q.oldest_age_s.map(|s| age(s as i64)).unwrap_or_else(|| "-".into());
    // Not counted by Redis: jobs in minus the growth of the queue, so marked as an estimate.
    let out = match out_rate(q, hist, server_now) {
        OutRate::About(n) => format!(" out ≈{n}/m"),
        OutRate::WarmingUp(s) => format!(" out ?/m ({s}s)"),
    };
    let (length, length_style) = match q.length {
        Some(0) => ("0".to_string(), t.muted),
        Some(n) => (thousands(n), t.text),
        None => ("?".to_string(), t.warn),
    };
    let mut spans = vec![
        Span::styled(format!("{:<12.12}", crate::domain::text::clean_line(&q.name)), t.title),
        Span::styled(format!("{length:>7}"), length_style),
        Span::styled(" waiting", t.muted),
        Span::styled(format!("  oldest {oldest:>5}"), t.text),
        Span::styled(format!("  in {}/m", q.enqueued_last_min), t.text),
        Span::styled(out, t.text),
    ];
    if let Some(n) = q.processing.filter(|n| *n > 0) {
        spans.push(Span::styled(format!("  {n} taken"), t.muted));
    }
    let badge = match stalled {
        Some(true) => Some((" STALLED ", t.error.patch(t.badge))),
        // Jobs have waited past `stall_after_s` but the queue has not been watched that long.
        None if q.length.is_some_and(|n| n > 0) => Some((" stalled? ", t.muted)),
        _ => None,
    };
    let used: usize = spans.iter().map(|s| s.width()).sum::<usize>() + badge.map(|(b, _)| b.len() + 1).unwrap_or(0);
    let spark_w = width.saturating_sub(used + 2).min(60);
    if spark_w >= 6 {
        spans.push(Span::raw("  "));
        spans.push(Span::styled(sparkline(hist, spark_w), t.spark));
    }
    if let Some((text, style)) = badge {
        spans.push(Span::styled(text, style));
    }
    Line::from(spans)
}

/// The last `width` samples as block characters, scaled to the largest.
fn sparkline(hist: Option<&QueueHistory>, width: usize) -> String {
    let samples: Vec<u64> = hist.map(|h| h.samples.iter().map(|(_, l)| *l).collect()).unwrap_or_default();
    let tail = &samples[samples.len().saturating_sub(width)..];
    let max = tail.iter().copied().max().unwrap_or(0).max(1);
    let mut s: String = " ".repeat(width - tail.len());
    s.extend(tail.iter().map(|v| SPARKS[((*v * 7) / max) as usize]));
    s
}

fn status_bar<'a>(ctx: &RenderCtx<'_>, snap: &QueueSnapshot, width: usize) -> Line<'a> {
    let total: u64 = snap.by_status.iter().map(|(_, n)| n).sum();
    if total == 0 || width == 0 {
        return Line::styled("no jobs", ctx.theme.muted);
    }
    // Largest-remainder apportioning so the segments fill the width exactly.
    let mut cells: Vec<(JobStatus, usize, u64)> = snap
        .by_status
        .iter()
        .map(|(s, n)| {
            let exact = *n as u128 * width as u128;
            (s.clone(), (exact / total as u128) as usize, (exact % total as u128) as u64)
        })
        .collect();
    let mut left = width - cells.iter().map(|c| c.1).sum::<usize>();
    let mut order: Vec<usize> = (0..cells.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(cells[i].2));
    for i in order {
        if left == 0 {
            break;
        }
        if cells[i].2 > 0 {
            cells[i].1 += 1;
            left -= 1;
        }
    }
    Line::from(
        cells
            .into_iter()
            .filter(|c| c.1 > 0)
            .map(|(s, w, _)| Span::styled("█".repeat(w), ctx.theme.status(&s)))
            .collect::<Vec<_>>(),
    )
}

/// `■ queued 0  ■ done 141 …`: whole entries only, numbers abbreviated past 9,999, statuses
/// with no jobs left out when not all fit, and `…` where the rest did not fit — a count is
/// never cut into a different number.
fn legend<'a>(ctx: &RenderCtx<'_>, snap: &QueueSnapshot, width: usize) -> Line<'a> {
    let entry = |s: &JobStatus, n: u64| (format!("■ {} ", s.short()), format!("{}  ", compact(n)));
    let full: usize =
        snap.by_status.iter().map(|(s, n)| entry(s, *n)).map(|(a, b)| a.chars().count() + b.chars().count()).sum();
    let shown: Vec<&(JobStatus, u64)> =
        snap.by_status.iter().filter(|(_, n)| full.saturating_sub(2) <= width || *n > 0).collect();
    let mut spans = Vec::new();
    let mut used = 0;
    for (i, (s, n)) in shown.iter().enumerate() {
        let (label, count) = entry(s, *n);
        let w = label.chars().count() + count.chars().count();
        let last = i + 1 == shown.len();
        // Room for this entry, and for the `…` that says more follow unless it is the last.
        let needs = if last { used + w - 2 } else { used + w + 1 };
        if needs > width {
            spans.push(Span::styled("…", ctx.theme.muted));
            break;
        }
        used += w;
        spans.push(Span::styled(label, ctx.theme.status(s)));
        spans.push(Span::styled(count, ctx.theme.text));
    }
    Line::from(spans)
}

/// A count that fits a narrow place: exact up to 9,999, then `12.3k`, `141k`, `1.2M`.
pub fn compact(n: u64) -> String {
    let short = |v: f64, unit: &str| {
        if v < 100.0 { format!("{:.1}{unit}", (v * 10.0).floor() / 10.0) } else { format!("{}{unit}", v.floor()) }
    };
    match n {
        0..=9_999 => thousands(n),
        10_000..=999_999 => short(n as f64 / 1e3, "k"),
        _ => short(n as f64 / 1e6, "M"),
    }
}

pub use crate::domain::text::thousands;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_counts_round_down_and_never_lie() {
        assert_eq!(compact(141), "141");
        assert_eq!(compact(9_999), "9,999");
        assert_eq!(compact(12_345), "12.3k");
        assert_eq!(compact(99_999), "99.9k");
        assert_eq!(compact(141_000), "141k");
        assert_eq!(compact(1_234_567), "1.2M");
        assert_eq!(compact(u64::MAX), "18446744073709M");
    }

    #[test]
    fn sparkline_fills_its_width() {
        assert_eq!(sparkline(None, 5), "     ");
        let mut h = QueueHistory::default();
        h.samples.extend([(Utc::now(), 0), (Utc::now(), 7)]);
        assert_eq!(sparkline(Some(&h), 4), "  ▁█");
    }
}
