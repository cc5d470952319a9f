//! The AI pipeline's line under the header: analyses and their rate, duration p50/p95, active
//! jobs, tickets and RAG searches from the gateway's `/metrics`; the models LiteLLM offers and
//! the ones Ollama has loaded. A part that failed shows ✗ and its error, with its last numbers
//! and their age.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;

use super::RenderCtx;
use crate::domain::facts::ContextFacts;
use crate::domain::pipeline::{GatewayNumbers, LoadedModel, Part, PipelineSnapshot};
use crate::domain::text::clean_line;
use crate::tui::cells::put;
use crate::tui::loadable::{Loadable, age};

/// A count: `1,234`, or `?` when the gateway does not export it.
pub fn count(v: Option<f64>) -> String {
    let Some(v) = v.filter(|v| v.is_finite()) else { return "?".into() };
    let n = v.round().max(0.0) as u64;
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Seconds as `850ms`, `12.5s` or `3m05s`; `?` when unknown.
pub fn seconds(v: Option<f64>) -> String {
    match v.filter(|v| v.is_finite() && *v >= 0.0) {
        None => "?".into(),
        Some(s) if s < 1.0 => format!("{:.0}ms", s * 1000.0),
        Some(s) if s < 60.0 => format!("{s:.1}s"),
        Some(s) => format!("{}m{:02}s", (s / 60.0) as u64, (s % 60.0) as u64),
    }
}

/// Bytes as `6.0G` or `512M`.
pub fn bytes(v: Option<u64>) -> String {
    match v {
        None => "?".into(),
        Some(b) if b >= 1 << 30 => format!("{:.1}G", b as f64 / (1u64 << 30) as f64),
        Some(b) => format!("{}M", b >> 20),
    }
}

/// `n` and its noun, singular for one: `1 analysis`, `12 analyses`, `? tickets`.
fn counted(v: Option<f64>, one: &str, many: &str) -> String {
    let n = count(v);
    format!("{n} {}", if n == "1" { one } else { many })
}

/// The gateway's part. `running` is the frame's count of jobs being analysed (the Queue pane's
/// `running`), not a second reading of the same fact.
fn gateway_text(n: &GatewayNumbers, running: Option<u64>) -> String {
    let span = match n.duration_window_s {
        Some(s) => format!(" ({})", age(s as i64)),
        None if n.duration_p50_s.is_some() => " (since start)".into(),
        None => String::new(),
    };
    format!(
        "{} · {} · p50 {} p95 {}{span} · {} · {} · {}",
        counted(n.analyses_completed_total, "analysis", "analyses"),
        n.rate_text(),
        seconds(n.duration_p50_s),
        seconds(n.duration_p95_s),
        running.map(|r| format!("{r} running")).unwrap_or_else(|| "? running".into()),
        counted(n.tickets_created_total, "ticket", "tickets"),
        counted(n.rag_searches_total, "RAG search", "RAG searches"),
    )
}

fn loaded_text(models: &[LoadedModel]) -> String {
    if models.is_empty() {
        return "none loaded".into();
    }
    let each: Vec<String> = models
        .iter()
        .map(|m| {
            let gpu = match (m.size, m.size_vram) {
                (Some(s), Some(v)) if s > 0 && v < s => format!(" ({}% GPU)", u128::from(v) * 100 / u128::from(s)),
                _ => String::new(),
            };
            format!("{} {}{gpu}", clean_line(&m.name), bytes(m.size))
        })
        .collect();
    each.join(", ")
}

/// One part's words and style: its text, or ✗ with the error (and its last text, aged).
fn part<T>(ctx: &RenderCtx<'_>, label: &str, p: &Part<T>, text: impl Fn(&T) -> String) -> Option<(String, Style)> {
    let t = ctx.theme;
    if !p.configured {
        return None;
    }
    let body = p.data.as_ref().map(&text);
    Some(match (&p.error, body) {
        (None, Some(b)) => (format!("{label}{b}"), t.text),
        (None, None) => (format!("{label}…"), t.muted),
        // The last numbers and their age first: the error is what the right edge may cut.
        (Some(e), Some(b)) => {
            let old = p.fetched_at.map(|at| format!(" · {} old", age(ctx.age_of(at)))).unwrap_or_default();
            (format!("{label}✗ {b}{old} · {}", clean_line(e)), t.error)
        }
        (Some(e), None) => (format!("{label}✗ {}", clean_line(e)), t.error),
    })
}

pub fn render(
    f: &mut Frame,
    area: Rect,
    ctx: &RenderCtx<'_>,
    pipeline: &Loadable<PipelineSnapshot>,
    facts: &ContextFacts,
) {
    let t = ctx.theme;
    let buf = f.buffer_mut();
    let mut x = area.x;
    let right = area.right();
    let mut write = |text: &str, style: Style, x: &mut u16| {
        *x += put(buf, *x, area.y, text, right.saturating_sub(*x), style);
    };
    write("AI ", t.title, &mut x);
    let Some(snap) = &pipeline.data else {
        match &pipeline.error {
            Some(e) => write(&format!("✗ {}", clean_line(&e.message)), t.error, &mut x),
            None => write("loading…", t.muted, &mut x),
        }
        return;
    };
    // The age comes first: the line is cut at the right edge on a narrow terminal.
    // The oldest part's data sets the age: a part that keeps failing makes the line stale.
    let oldest = [snap.gateway.fetched_at, snap.litellm_models.fetched_at, snap.ollama_loaded.fetched_at]
        .into_iter()
        .flatten()
        .chain(pipeline.updated_at)
        .min()
        .unwrap_or(snap.fetched_at);
    let (fresh, style) = match (&pipeline.error, snap.all_ok()) {
        (None, true) => (format!("{} ago", age(ctx.age_of(oldest))), t.muted),
        _ => (format!("STALE {}", age(ctx.age_of(oldest))), t.error),
    };
    write(&fresh, style, &mut x);
    let parts = [
        part(ctx, "", &snap.gateway, |n: &GatewayNumbers| gateway_text(n, facts.running)),
        part(ctx, "LiteLLM ", &snap.litellm_models, |m: &Vec<String>| {
            crate::domain::text::count(m.len() as u64, "model", "models")
        }),
        part(ctx, "Ollama ", &snap.ollama_loaded, |m: &Vec<LoadedModel>| loaded_text(m)),
    ];
    for (text, style) in parts.into_iter().flatten() {
        write(" │ ", t.muted, &mut x);
        write(&text, style, &mut x);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_at_a_glance() {
        assert_eq!(count(Some(1234567.0)), "1,234,567");
        assert_eq!(count(Some(12.0)), "12");
        assert_eq!(count(None), "?");
        assert_eq!(count(Some(f64::NAN)), "?");
        assert_eq!(seconds(Some(0.25)), "250ms");
        assert_eq!(seconds(Some(31.5)), "31.5s");
        assert_eq!(seconds(Some(185.0)), "3m05s");
        assert_eq!(bytes(Some(6 << 30)), "6.0G");
        assert_eq!(bytes(Some(512 << 20)), "512M");
    }
}
