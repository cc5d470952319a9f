//! Untrusted text from any service, made safe for a terminal: control characters and escape
//! sequences become visible escapes, sizes are bounded, and bytes that are not UTF-8 are replaced.

use std::borrow::Cow;

/// Longest string kept for a single-line field (host, alert type, …), in characters.
pub const MAX_LINE_CHARS: usize = 256;

/// Bytes from outside → a printable single line: every control character is escaped (newlines
/// too), and the result is cut to `MAX_LINE_CHARS` characters with a trailing `…`.
pub fn clean_line_bytes(bytes: &[u8]) -> String {
    clean_line(&String::from_utf8_lossy(bytes))
}

/// A string from outside → a printable single line (see [`clean_line_bytes`]).
pub fn clean_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(MAX_LINE_CHARS));
    for (n, c) in s.chars().enumerate() {
        if n >= MAX_LINE_CHARS {
            out.push('…');
            break;
        }
        push_escaped(&mut out, c, false);
    }
    out
}

/// A string from outside → a printable single line of any length (table output).
pub fn escape_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    s.chars().for_each(|c| push_escaped(&mut out, c, false));
    out
}

/// Multi-line text from outside (descriptions, analysis, logs): newlines are kept, tabs become
/// spaces, every other control character is escaped; at most `max_chars` characters are kept.
pub fn clean_text(s: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max_chars));
    for (n, c) in s.chars().enumerate() {
        if n >= max_chars {
            out.push_str("\n… (truncated)");
            break;
        }
        push_escaped(&mut out, c, true);
    }
    out
}

/// Whether a character could move the cursor, change colours, reorder text or hide itself on a
/// terminal: C0/C1 controls, DEL, bidirectional overrides, and invisible formatting characters.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{E0000}'..='\u{E007F}'
        )
}

fn push_escaped(out: &mut String, c: char, keep_newlines: bool) {
    match c {
        '\n' if keep_newlines => out.push('\n'),
        '\t' if keep_newlines => out.push_str("    "),
        c if !is_unsafe(c) => out.push(c),
        // Caret notation for C0 and DEL, as `cat -v` shows them: ESC reads `^[`.
        c if (c as u32) < 0x20 => {
            out.push('^');
            out.push(char::from_u32(c as u32 + 0x40).unwrap_or('?'));
        }
        '\u{7f}' => out.push_str("^?"),
        c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
    }
}

/// Keep at most `max_chars` characters of a raw value, unchanged otherwise: a bound on memory,
/// not a cleaning (that happens when the value is drawn).
pub fn cut(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((at, _)) => s[..at].to_string(),
        None => s.to_string(),
    }
}

/// Whether a string has nothing a terminal could act on (see [`clean_line`]).
pub fn is_clean_line(s: &str) -> bool {
    !s.chars().any(is_unsafe)
}

/// Cut a string that is already clean to `max` characters, adding `…` when it was longer.
pub fn ellipsize(s: &str, max: usize) -> Cow<'_, str> {
    if s.chars().count() <= max {
        return Cow::Borrowed(s);
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_ansi_and_osc_sequences() {
        let hostile = "db\x1b[31mred\x1b]0;pwned\x07\u{9b}2J";
        let clean = clean_line(hostile);
        assert_eq!(clean, "db^[[31mred^[]0;pwned^G\\u{9b}2J");
        assert!(!clean.chars().any(|c| c.is_control()));
    }

    #[test]
    fn single_lines_escape_newlines_but_text_keeps_them() {
        assert_eq!(clean_line("a\nb\r"), "a^Jb^M");
        assert_eq!(clean_text("a\nb\r\tc", 100), "a\nb^M    c");
    }

    #[test]
    fn bidi_overrides_and_invisible_characters_are_shown() {
        assert_eq!(clean_line("evil\u{202E}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(clean_line("a\u{200B}b"), "a\\u{200b}b");
    }

    #[test]
    fn non_utf8_bytes_are_replaced_and_length_is_bounded() {
        assert_eq!(clean_line_bytes(b"ok\xff\xfe"), "ok\u{fffd}\u{fffd}");
        let long = "x".repeat(10_000);
        assert_eq!(clean_line(&long).chars().count(), MAX_LINE_CHARS + 1);
        assert!(clean_text(&long, 50).ends_with("(truncated)"));
    }

    #[test]
    fn wide_characters_pass_through() {
        assert_eq!(clean_line("数据库-01"), "数据库-01");
        assert_eq!(ellipsize("abcdef", 4), "abc…");
        assert_eq!(ellipsize("abc", 4), "abc");
    }
}
