//! A rendered frame as plain text or as an SVG picture (for `--snapshot` and the README's
//! screenshot, which is generated from the demo rather than drawn by hand).

use std::fmt::Write;

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

/// The frame's characters, one line per row, trailing spaces removed.
pub fn to_text(buf: &Buffer) -> String {
    let w = buf.area.width as usize;
    let mut out = String::new();
    let mut hidden = 0;
    for (i, cell) in buf.content.iter().enumerate() {
        // A wide character covers the next cell too; that cell is not part of the text.
        if hidden > 0 {
            hidden -= 1;
        } else {
            out.push_str(cell.symbol());
            hidden = unicode_width::UnicodeWidthStr::width(cell.symbol()).saturating_sub(1);
        }
        if (i + 1) % w.max(1) == 0 {
            hidden = 0;
            let trimmed = out.trim_end_matches(' ').len();
            out.truncate(trimmed);
            out.push('\n');
        }
    }
    out
}

const CW: f32 = 8.4;
const CH: f32 = 17.0;
const FG: &str = "#c5c8c6";
const BG: &str = "#0f1117";
/// A margin around the picture, so glyphs in the first column are not clipped by renderers.
const PAD: f32 = 6.0;

/// The xterm default palette for named colours.
fn hex(c: Color, default: &str) -> String {
    match c {
        Color::Reset => default.into(),
        Color::Black => "#000000".into(),
        Color::Red => "#cd3131".into(),
        Color::Green => "#0dbc79".into(),
        Color::Yellow => "#e5e510".into(),
        Color::Blue => "#2472c8".into(),
        Color::Magenta => "#bc3fbc".into(),
        Color::Cyan => "#11a8cd".into(),
        Color::Gray => "#c5c8c6".into(),
        Color::DarkGray => "#666666".into(),
        Color::LightRed => "#f14c4c".into(),
        Color::LightGreen => "#23d18b".into(),
        Color::LightYellow => "#f5f543".into(),
        Color::LightBlue => "#3b8eea".into(),
        Color::LightMagenta => "#d670d6".into(),
        Color::LightCyan => "#29b8db".into(),
        Color::White => "#e5e5e5".into(),
        Color::Rgb(r, g, b) => format!("#{r:02x}{g:02x}{b:02x}"),
        Color::Indexed(_) => default.into(),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The frame as an SVG: a background rectangle per styled run and the text on top.
pub fn to_svg(buf: &Buffer) -> String {
    let (w, h) = (buf.area.width as usize, buf.area.height as usize);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{:.0}" height="{:.0}" font-family="DejaVu Sans Mono,Menlo,Consolas,monospace" font-size="14"><rect width="100%" height="100%" fill="{BG}"/><g transform="translate({PAD} {PAD})">"#,
        w as f32 * CW + 2.0 * PAD,
        h as f32 * CH + 2.0 * PAD
    );
    for y in 0..h {
        let mut x = 0;
        while x < w {
            let cell = &buf.content[y * w + x];
            let mut fg = hex(cell.fg, FG);
            let mut bg = hex(cell.bg, BG);
            if cell.modifier.contains(Modifier::REVERSED) {
                std::mem::swap(&mut fg, &mut bg);
            }
            let bold = cell.modifier.contains(Modifier::BOLD);
            let start = x;
            let mut text = String::new();
            while x < w {
                let c = &buf.content[y * w + x];
                if c.fg != cell.fg || c.bg != cell.bg || c.modifier != cell.modifier {
                    break;
                }
                text.push_str(c.symbol());
                x += 1;
            }
            let (px, py) = (start as f32 * CW, y as f32 * CH);
            if bg != BG {
                let _ = write!(
                    s,
                    r#"<rect x="{px:.1}" y="{py:.1}" width="{:.1}" height="{CH}" fill="{bg}"/>"#,
                    (x - start) as f32 * CW
                );
            }
            if !text.trim().is_empty() {
                let weight = if bold { r#" font-weight="bold""# } else { "" };
                let _ = write!(
                    s,
                    r#"<text x="{px:.1}" y="{:.1}" fill="{fg}"{weight} xml:space="preserve" textLength="{:.1}" lengthAdjust="spacingAndGlyphs">{}</text>"#,
                    py + CH - 4.0,
                    (x - start) as f32 * CW,
                    escape(&text)
                );
            }
        }
    }
    s.push_str("</g></svg>");
    s
}
