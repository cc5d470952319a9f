//! The help overlay, built from the live key map so it never disagrees with the keys: one
//! section per key mode. The popup is as wide as its longest line; two columns when one does
//! not fit the screen's height and two fit its width (split between sections), else one,
//! word-wrapped to the screen and scrolled. Nothing is cut.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use unicode_width::UnicodeWidthStr;

use super::{RenderCtx, centered};
use crate::tui::keymap::{Action, KeyMap};

/// The key column: the keys right-aligned in 14 cells, then two spaces.
const KEY_COL: usize = 16;

/// One row of help before it is fitted to a width.
enum Row {
    /// A section's title.
    Heading(String),
    /// Keys (or a command) and what they do; `muted` text follows the description.
    Item {
        keys: String,
        text: String,
        muted: String,
    },
    Blank,
}

impl Row {
    fn width(&self) -> usize {
        match self {
            Row::Heading(s) => s.width(),
            Row::Item { text, muted, .. } => KEY_COL + text.width() + muted.width(),
            Row::Blank => 0,
        }
    }
}

fn rows(keymap: &KeyMap) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut mode = None;
    for (m, action, _, desc) in Action::DEFAULTS.iter() {
        if mode != Some(*m) {
            mode = Some(*m);
            rows.push(Row::Heading(format!("── {} ", m.title())));
        }
        rows.push(Row::Item { keys: keymap.keys_in(*m, *action), text: desc.to_string(), muted: String::new() });
    }
    rows.push(Row::Heading("── commands (: then the name; Tab completes, ↑/↓ recall) ".into()));
    for c in crate::tui::commands::COMMANDS {
        let usage = if c.args.is_empty() { String::new() } else { format!("  :{} {}", c.name, c.args) };
        rows.push(Row::Item { keys: format!(":{}", c.name), text: c.help.to_string(), muted: usage });
    }
    rows.push(Row::Blank);
    rows.push(Row::Heading("Keys can be rebound in the config's [keys] table. Any key closes this.".into()));
    rows
}

/// Words of `text` in lines of at most `width` cells (a longer word gets a line of its own).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let last = lines.last_mut().map(|l| l.width()).unwrap_or(0);
        if last > 0 && last + 1 + word.width() > width {
            lines.push(String::new());
        }
        if let Some(l) = lines.last_mut() {
            if !l.is_empty() {
                l.push(' ');
            }
            l.push_str(word);
        }
    }
    lines
}

/// A row as lines at most `width` cells wide; continuation lines are indented past the keys.
fn fit<'a>(row: &Row, width: usize, t: &crate::tui::theme::Theme) -> Vec<Line<'a>> {
    let keys = |k: &str| Span::styled(format!("{k:>14}  "), t.key);
    match row {
        Row::Blank => vec![Line::raw("")],
        Row::Heading(s) if s.width() <= width => vec![Line::styled(s.clone(), t.title)],
        Row::Heading(s) => wrap(s, width).into_iter().map(|l| Line::styled(l, t.title)).collect(),
        Row::Item { keys: k, text, muted } if row.width() <= width => {
            vec![Line::from(vec![keys(k), Span::styled(text.clone(), t.text), Span::styled(muted.clone(), t.muted)])]
        }
        Row::Item { keys: k, text, muted } => {
            let room = width.saturating_sub(KEY_COL).max(12);
            let mut parts: Vec<(String, Style)> = wrap(text, room).into_iter().map(|l| (l, t.text)).collect();
            parts.extend(wrap(muted.trim(), room).into_iter().filter(|l| !l.is_empty()).map(|l| (l, t.muted)));
            parts
                .into_iter()
                .enumerate()
                .map(|(i, (l, style))| {
                    let lead = if i == 0 { keys(k) } else { Span::raw(" ".repeat(KEY_COL)) };
                    Line::from(vec![lead, Span::styled(l, style)])
                })
                .collect()
        }
    }
}

/// Two columns of `width` cells, split at the section start that keeps the taller one shortest;
/// `None` when even that is taller than `height`.
fn two_columns<'a>(
    rows: &[Row],
    width: usize,
    height: usize,
    t: &crate::tui::theme::Theme,
) -> Option<[Vec<Line<'a>>; 2]> {
    let lines = |part: &[Row]| -> Vec<Line<'a>> { part.iter().flat_map(|r| fit(r, width, t)).collect() };
    (1..rows.len())
        .filter(|i| matches!(rows[*i], Row::Heading(_)))
        .map(|i| [lines(&rows[..i]), lines(&rows[i..])])
        .filter(|[l, r]| l.len() <= height && r.len() <= height)
        .min_by_key(|[l, r]| l.len().max(r.len()))
}

/// `scroll`: lines scrolled down, when the help is taller than the screen (j/k, PgDn/PgUp).
pub fn render(f: &mut Frame, area: Rect, ctx: &RenderCtx<'_>, keymap: &KeyMap, scroll: usize) {
    let t = ctx.theme;
    let rows = rows(keymap);
    let height = area.height.saturating_sub(2).max(1) as usize;
    let room = area.width.saturating_sub(2) as usize;
    let widest = rows.iter().map(Row::width).max().unwrap_or(0) + 1;
    // One column when everything fits; else two side by side (each wrapped to half the width)
    // when they fit; else one, wrapped and scrolled.
    let single: Vec<Line> = rows.iter().flat_map(|r| fit(r, widest.min(room), t)).collect();
    let half = widest.min(room / 2);
    let two = if single.len() > height && half >= 48 { two_columns(&rows, half, height, t) } else { None };
    let (columns, col_width): (Vec<Vec<Line>>, usize) = match two {
        Some(pair) => (pair.into(), half),
        None => {
            let mut lines = single;
            if lines.len() > height {
                // The last row says where this is and how to move.
                let (total, shown) = (lines.len(), height.saturating_sub(1).max(1));
                let top = scroll.min(total.saturating_sub(shown));
                lines = lines.split_off(top);
                lines.truncate(shown);
                let end = top + lines.len();
                let place = format!("── lines {}–{end} of {total}; j/k, PgDn/PgUp scroll ", top + 1);
                lines.push(Line::styled(place, t.key));
            }
            (vec![lines], widest.min(room))
        }
    };
    let col_width = col_width as u16;
    let tallest = columns.iter().map(Vec::len).max().unwrap_or(0) as u16;
    let popup = centered(area, col_width * columns.len() as u16 + 2, tallest + 2);
    f.render_widget(Clear, popup);
    let block =
        Block::default().borders(Borders::ALL).border_style(t.border_focused).title(Span::styled(" Help ", t.title));
    let inner = block.inner(popup);
    f.render_widget(block, popup);
    for (i, lines) in columns.into_iter().enumerate() {
        let x = inner.x + i as u16 * col_width;
        let column = Rect { x, width: col_width.min(inner.right().saturating_sub(x)), ..inner };
        f.render_widget(Paragraph::new(lines), column);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_every_word() {
        let text = "command line: every pane and action by name (Tab completes)";
        let lines = wrap(text, 20);
        assert!(lines.iter().all(|l| l.width() <= 20), "{lines:?}");
        assert_eq!(lines.join(" "), text);
        assert_eq!(wrap("averyveryverylongword x", 5), vec!["averyveryverylongword", "x"]);
    }
}
