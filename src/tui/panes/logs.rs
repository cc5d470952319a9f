//! A container's log: the newest lines (or, paused, where the user scrolled), each escaped,
//! stderr in the warning colour, the filter's matches highlighted, a cut line marked.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};

use super::RenderCtx;
use crate::domain::text::{clean_line, count, escape_line};
use crate::logs::LogLine;
use crate::tui::logs_view::LogView;

pub fn render(f: &mut Frame, area: Rect, ctx: &RenderCtx<'_>, v: &LogView) {
    let t = ctx.theme;
    f.render_widget(Clear, area);
    let state = match (&v.ended, v.follow) {
        (Some(why), _) => Span::styled(format!(" {} ", clean_line(why)), t.warn),
        (None, true) => Span::styled(" following ", t.ok),
        (None, false) => Span::styled(" PAUSED (G follows) ", t.warn),
    };
    let held = v.buffer.len();
    let mut counts = count(held as u64, "line", "lines");
    if v.buffer.dropped > 0 {
        counts.push_str(&format!(", {} older dropped", v.buffer.dropped));
    }
    let mut title = vec![
        Span::styled(format!(" Logs {} ", clean_line(&v.name)), t.title),
        state,
        Span::styled(format!(" {counts} "), t.muted),
    ];
    if !v.filter.is_empty() {
        let matched = format!(" filter /{}/ {} matching ", clean_line(&v.filter), v.buffer.shown_len());
        title.push(Span::styled(matched, t.warn));
    }
    if let Some(e) = &v.filter_error {
        title.push(Span::styled(format!(" {} ", clean_line(e)), t.error));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Thick)
        .border_style(t.border(true))
        .title(Line::from(title));
    let body = block.inner(area);
    f.render_widget(block, area);
    let rows = body.height as usize;
    if v.buffer.shown_len() == 0 {
        let what = if v.filter.is_empty() { "no lines yet" } else { "no line matches the filter" };
        f.render_widget(Paragraph::new(Line::styled(what, t.muted)), body);
        return;
    }
    let width = body.width.max(1) as usize;
    let line_of = |i: usize, l: &LogLine| -> Line<'static> {
        let mut spans = Vec::new();
        if v.timestamps {
            let ts = l.ts.as_deref().map(clean_line).unwrap_or_else(|| "-".repeat(20));
            spans.push(Span::styled(format!("{ts} "), t.muted));
        }
        // A cut line says so first, where it shows however long the line is.
        if l.cut > 0 {
            spans.push(Span::styled(format!("[{} cut] ", count(l.cut as u64, "byte", "bytes")), t.muted));
        }
        let text = escape_line(&l.text);
        let style = if l.stderr { t.warn } else { t.text };
        spans.extend(highlighted(&text, v.buffer.filter(), style, t.selected.add_modifier(Modifier::BOLD)));
        let mut line = Line::from(spans);
        if v.selected == Some(i) {
            line = line.style(t.selected);
        }
        line
    };
    // The window: from the top while paused; from the end, as many as fit, while following.
    let first = if v.follow && v.wrap {
        let n = v.buffer.shown_len();
        let mut used = 0;
        let mut first = n;
        while first > 0 {
            let h =
                v.buffer.shown(first - 1).map(|l| line_of(first - 1, l).width().div_ceil(width).max(1)).unwrap_or(1);
            if used + h > rows {
                break;
            }
            used += h;
            first -= 1;
        }
        // A last line taller than the window still shows, from its start.
        first.min(n.saturating_sub(1))
    } else {
        v.first_row(rows)
    };
    let lines: Vec<Line> =
        (first..v.buffer.shown_len()).take(rows).filter_map(|i| v.buffer.shown(i).map(|l| line_of(i, l))).collect();
    let mut p = Paragraph::new(lines);
    if v.wrap {
        p = p.wrap(Wrap { trim: false });
    }
    f.render_widget(p, body);
}

/// `text` in `style`, with the filter's matches in `mark`.
fn highlighted(text: &str, filter: Option<&regex::Regex>, style: Style, mark: Style) -> Vec<Span<'static>> {
    let Some(re) = filter else { return vec![Span::styled(text.to_string(), style)] };
    let mut spans = Vec::new();
    let mut at = 0;
    for m in re.find_iter(text).filter(|m| !m.is_empty()) {
        spans.push(Span::styled(text[at..m.start()].to_string(), style));
        spans.push(Span::styled(m.as_str().to_string(), mark));
        at = m.end();
    }
    spans.push(Span::styled(text[at..].to_string(), style));
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_are_marked() {
        let re = regex::Regex::new("b+").ok();
        let spans = highlighted("abbcb", re.as_ref(), Style::default(), Style::default().bold());
        let texts: Vec<&str> = spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(texts, ["a", "bb", "c", "b", ""]);
    }
}
