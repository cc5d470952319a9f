//! Writing text straight into the frame buffer, for the lists whose rows are the hot path of a
//! frame. ASCII text (nearly all of it) skips grapheme segmentation; anything else goes through
//! ratatui's own grapheme- and width-aware `set_stringn`, so wide characters stay correct.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;

use crate::domain::text::{is_clean_line, one_line};

/// One row of a table: each cell in its column's width (`u16::MAX`: the rest of the row), one
/// space between columns, nothing past `right`.
pub fn put_row(buf: &mut Buffer, x: u16, y: u16, right: u16, cells: &[(&str, Style)], widths: &[u16]) {
    let mut x = x;
    for ((text, style), w) in cells.iter().zip(widths) {
        let w = (*w).min(right.saturating_sub(x));
        put(buf, x, y, text, w, *style);
        x = (x + w + 1).min(right);
    }
}

/// A table in `body`: the header (`cols`: names and widths, as [`put_row`] takes them), then
/// one row per item, scrolled so the `cursor`'s row shows, that row in `selected`. `cells` gets
/// each visible item and a sink to hand its cells to.
#[allow(clippy::too_many_arguments)]
pub fn put_table<T>(
    buf: &mut Buffer,
    body: Rect,
    cols: &[(&str, u16)],
    header: Style,
    selected: Style,
    cursor: usize,
    items: impl Iterator<Item = T>,
    mut cells: impl FnMut(T, &mut dyn FnMut(&[(&str, Style)])),
) {
    let right = body.x + body.width;
    let widths: Vec<u16> = cols.iter().map(|(_, w)| *w).collect();
    let names: Vec<(&str, Style)> = cols.iter().map(|(h, _)| (*h, header)).collect();
    put_row(buf, body.x, body.y, right, &names, &widths);
    let rows = body.height.saturating_sub(1) as usize;
    let top = cursor.saturating_sub(rows.saturating_sub(1));
    for (n, item) in items.enumerate().skip(top).take(rows) {
        let y = body.y + 1 + (n - top) as u16;
        if n == cursor {
            buf.set_style(Rect { y, height: 1, ..body }, selected);
        }
        cells(item, &mut |row| put_row(buf, body.x, y, right, row, &widths));
    }
}

/// Write `text` at (`x`, `y`) in at most `max` columns; a cut string ends in `…`. Returns the
/// columns used. Text from outside is cleaned here (control characters and escape sequences
/// become visible escapes), so every list row is safe whatever it holds.
pub fn put(buf: &mut Buffer, x: u16, y: u16, text: &str, max: u16, style: Style) -> u16 {
    if max == 0 {
        return 0;
    }
    // One pass over the bytes: printable ASCII (nearly every string) needs nothing more.
    let (mut ascii, mut clean) = (true, true);
    for &b in text.as_bytes() {
        if b >= 0x80 {
            ascii = false;
            break;
        }
        if b < 0x20 || b == 0x7f {
            clean = false;
            break;
        }
    }
    if !ascii {
        clean = is_clean_line(text);
    }
    let cleaned;
    let text = if clean {
        text
    } else {
        cleaned = one_line(text);
        cleaned.as_str()
    };
    if ascii && clean {
        let bytes = text.as_bytes();
        let cut = bytes.len() > max as usize;
        let n = if cut { max as usize - 1 } else { bytes.len() };
        let mut cx = x;
        for &b in &bytes[..n] {
            if let Some(cell) = buf.cell_mut((cx, y)) {
                cell.set_char(b as char).set_style(style);
            }
            cx += 1;
        }
        if cut && let Some(cell) = buf.cell_mut((cx, y)) {
            cell.set_char('…').set_style(style);
        }
        return if cut { max } else { n as u16 };
    }
    let width = unicode_width::UnicodeWidthStr::width(text);
    if width <= max as usize {
        buf.set_stringn(x, y, text, max as usize, style).0 - x
    } else {
        let used = buf.set_stringn(x, y, text, max as usize - 1, style).0 - x;
        if let Some(cell) = buf.cell_mut((x + used, y)) {
            cell.set_char('…').set_style(style);
        }
        used + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;

    fn row(buf: &Buffer) -> String {
        let mut s = String::new();
        let mut skip = 0;
        for x in 0..buf.area.width {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let sym = buf[(x, 0)].symbol();
            skip = unicode_width::UnicodeWidthStr::width(sym).saturating_sub(1);
            s.push_str(sym);
        }
        s
    }

    #[test]
    fn ascii_and_wide_text_are_cut_to_their_columns() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 10, 1));
        assert_eq!(put(&mut buf, 0, 0, "abcdefgh", 5, Style::default()), 5);
        assert_eq!(row(&buf), "abcd…     ");
        let mut buf = Buffer::empty(Rect::new(0, 0, 10, 1));
        assert_eq!(put(&mut buf, 0, 0, "数据库服务器", 7, Style::default()), 7);
        assert_eq!(row(&buf), "数据库…   ");
        let mut buf = Buffer::empty(Rect::new(0, 0, 4, 1));
        assert_eq!(put(&mut buf, 2, 0, "abcdef", 9, Style::default()), 6, "off the edge is ignored, not a panic");
    }
}
