//! Everything the CLI prints goes through here, safe for a terminal and free of secrets: JSON
//! with every control, invisible or reordering character escaped (`\u001b`, `\u202e`: the raw
//! value survives a JSON parser, no raw control byte reaches the terminal); tables whose cells
//! are escaped one by one before they are laid out, so a value holding a line feed cannot forge
//! a row; free text whose outside values are escaped with [`esc`]. Every secret is scrubbed from
//! what is written, in any encoding (`domain::secret`).
#![allow(clippy::disallowed_macros)] // the one place that prints

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter};
use unicode_width::UnicodeWidthStr;

use crate::domain::secret::{scrub, scrub_json};
use crate::domain::text::{escape_line, is_unsafe};

/// Pretty JSON of `value`, safe to print: secrets scrubbed from every string, raw values kept.
pub fn json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<String> {
    let value = scrub_json(serde_json::to_value(value)?);
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, SafeFormatter(PrettyFormatter::new()));
    value.serialize(&mut ser)?;
    Ok(String::from_utf8(out)?)
}

/// [`json`] on one line (a status line of a stream).
pub fn json_line<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<String> {
    let value = scrub_json(serde_json::to_value(value)?);
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, SafeFormatter(CompactFormatter));
    value.serialize(&mut ser)?;
    Ok(String::from_utf8(out)?)
}

/// An outside value (or the user's own input) for a line of text: every control character,
/// line feeds included, shown as an escape; secrets scrubbed.
pub fn esc(s: &str) -> String {
    escape_line(&scrub(s))
}

/// Text laid out by mcptop (its outside values already through [`esc`]): each line escaped
/// again, as a net, and secrets scrubbed. Only mcptop's own line feeds survive.
pub fn text(t: &str) -> String {
    scrub(t).split('\n').map(escape_line).collect::<Vec<_>>().join("\n")
}

/// Print `t` (see [`text`]) on standard output, then a line feed.
pub fn outln(t: &str) {
    let mut o = io::stdout().lock();
    let _ = writeln!(o, "{}", text(t));
}

/// Print `t` (see [`text`]) on standard output as it is (a table ends its own lines).
pub fn out(t: &str) {
    let mut o = io::stdout().lock();
    let _ = write!(o, "{}", text(t));
    let _ = o.flush();
}

/// Print `t` (see [`text`]) on standard error, then a line feed. A closed or hung-up terminal
/// is not an error here: nothing is left to tell.
pub fn errln(t: &str) {
    let _ = writeln!(io::stderr().lock(), "{}", text(t));
}

/// Print `t` on standard error without a line feed (a prompt).
pub fn err(t: &str) {
    let mut e = io::stderr().lock();
    let _ = write!(e, "{}", text(t));
    let _ = e.flush();
}

/// How a column's cells line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A table: each cell escaped and scrubbed on its own, then padded by its width on screen. The
/// last column is not padded.
pub struct Table {
    columns: Vec<(String, Align)>,
    rows: Vec<Vec<String>>,
    /// A line of the table's own before a row (a group's heading), by row index.
    notes: Vec<(usize, String)>,
}

impl Table {
    pub fn new(columns: &[(&str, Align)]) -> Table {
        Table {
            columns: columns.iter().map(|(h, a)| (h.to_string(), *a)).collect(),
            rows: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// A row of outside values (escaped here).
    pub fn row<S: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = S>) -> &mut Self {
        self.rows.push(cells.into_iter().map(|c| esc(c.as_ref())).collect());
        self
    }

    /// A full-width line before the next row (escaped here).
    pub fn note(&mut self, line: &str) -> &mut Self {
        self.notes.push((self.rows.len(), esc(line)));
        self
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn render(&self) -> String {
        let n = self.columns.len();
        let mut widths: Vec<usize> = self.columns.iter().map(|(h, _)| h.width()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate().take(n) {
                widths[i] = widths[i].max(c.width());
            }
        }
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (i, c) in cells.iter().enumerate().take(n) {
                let last = i + 1 == n;
                let pad = widths[i].saturating_sub(c.width());
                match (self.columns[i].1, last) {
                    (_, true) if self.columns[i].1 == Align::Left => s.push_str(c),
                    (Align::Right, _) => {
                        s.push_str(&" ".repeat(pad));
                        s.push_str(c);
                    }
                    (Align::Left, _) => {
                        s.push_str(c);
                        s.push_str(&" ".repeat(pad));
                    }
                }
                if !last {
                    s.push_str("  ");
                }
            }
            s.trim_end().to_string()
        };
        let mut out = String::new();
        let headers: Vec<String> = self.columns.iter().map(|(h, _)| h.clone()).collect();
        out.push_str(&line(&headers));
        out.push('\n');
        for (i, r) in self.rows.iter().enumerate() {
            for (_, note) in self.notes.iter().filter(|(at, _)| *at == i) {
                out.push_str(note);
                out.push('\n');
            }
            out.push_str(&line(r));
            out.push('\n');
        }
        for (_, note) in self.notes.iter().filter(|(at, _)| *at == self.rows.len()) {
            out.push_str(note);
            out.push('\n');
        }
        out
    }
}

/// serde_json's pretty formatter, escaping what serde_json itself leaves raw (DEL, C1 controls,
/// bidirectional overrides, invisible formatting characters) as `\uXXXX`.
struct SafeFormatter<F>(F);

impl<F: Formatter> Formatter for SafeFormatter<F> {
    fn write_string_fragment<W: ?Sized + io::Write>(&mut self, w: &mut W, fragment: &str) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if is_unsafe(c) {
                w.write_all(&fragment.as_bytes()[start..i])?;
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(w, "\\u{unit:04x}")?;
                }
                start = i + c.len_utf8();
            }
        }
        w.write_all(&fragment.as_bytes()[start..])
    }
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keeps_the_raw_value_and_no_raw_control_byte() {
        let raw = "db\x1b[2J\x07\u{7f}\u{9b}31m\u{202e}gnp.exe 数据库\n";
        let text = json(&serde_json::json!({ "host": raw })).unwrap_or_default();
        assert!(!text.chars().any(|c| c != '\n' && is_unsafe(c)), "{text:?}");
        assert!(text.contains(r"\u001b") && text.contains(r"\u202e") && text.contains(r"\u009b"), "{text}");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(back["host"], raw, "a JSON parser gets the raw value back");
    }

    #[test]
    fn text_escapes_each_line() {
        assert_eq!(text("a\x1b[2J\nb\u{202e}"), "a^[[2J\nb\\u{202e}");
    }

    #[test]
    fn a_line_feed_in_a_cell_cannot_forge_a_row() {
        let mut t = Table::new(&[("NAME", Align::Left), ("N", Align::Right), ("NOTE", Align::Left)]);
        t.row(["web\nFAKE ROW", "7", "ok\r\x1b[2J"]).row(["数据库", "12", "fine"]);
        let out = t.render();
        assert_eq!(out.lines().count(), 3, "{out}");
        assert!(!out.chars().any(|c| c != '\n' && is_unsafe(c)), "{out:?}");
        let widths: Vec<usize> = out.lines().map(|l| l.find("  ").unwrap_or(0)).collect();
        assert!(out.contains("web^JFAKE ROW") && out.contains("ok^M^[[2J"), "{out}");
        assert!(widths.iter().all(|w| *w > 0));
    }
}
