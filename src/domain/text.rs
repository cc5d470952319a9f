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

/// A multi-line value shown on one line (a list's cell): each line break (`\n`, `\r\n`,
/// U+2028, U+2029) reads ` ↵ `, a tab a space, and everything else unsafe is escaped as in
/// [`clean_line`] (a lone `\r` stays `^M`: it is how text overwrites itself). Cut to
/// `MAX_LINE_CHARS` characters with `…`.
pub fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(MAX_LINE_CHARS));
    let mut chars = s.chars().peekable();
    let mut n = 0;
    while let Some(c) = chars.next() {
        if n >= MAX_LINE_CHARS {
            out.push('…');
            break;
        }
        match c {
            '\r' if chars.peek() == Some(&'\n') => {
                chars.next();
                out.push_str(" ↵ ");
            }
            '\n' | '\u{2028}' | '\u{2029}' => out.push_str(" ↵ "),
            '\t' => out.push(' '),
            c => push_escaped(&mut out, c, false),
        }
        n += 1;
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

/// A short age that never drops a whole unit: `4s`, `12m`, `1h59m`, `14h`, `1d23h`, `12d`. Under
/// ten hours (or days) the next unit down is shown too, so an archive made 1 h 59 min ago does
/// not read `1h`. At most five characters.
pub fn age(secs: i64) -> String {
    let s = secs.max(0);
    let with = |big: i64, unit: &str, small: i64, small_unit: &str| {
        if small == 0 { format!("{big}{unit}") } else { format!("{big}{unit}{small}{small_unit}") }
    };
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=35_999 => with(s / 3600, "h", s % 3600 / 60, "m"),
        36_000..=86_399 => format!("{}h", s / 3600),
        86_400..=863_999 => with(s / 86_400, "d", s % 86_400 / 3600, "h"),
        _ => format!("{}d", s / 86_400),
    }
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A count and its noun, singular for exactly one: `1 job`, `2 jobs`, `12,345 jobs`.
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
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
    fn one_line_shows_line_breaks_and_still_escapes_the_rest() {
        assert_eq!(one_line("disk full\nsee runbook"), "disk full ↵ see runbook");
        assert_eq!(one_line("a\r\nb\u{2028}c\td"), "a ↵ b ↵ c d");
        assert_eq!(one_line("x\ry\x1b[2J"), "x^My^[[2J");
        assert!(!one_line("\u{202e}\x07\x7f").chars().any(is_unsafe));
        assert_eq!(one_line(&"a".repeat(MAX_LINE_CHARS + 5)).chars().count(), MAX_LINE_CHARS + 1);
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
    fn ages_keep_the_next_unit_below_ten() {
        assert_eq!(age(-3), "0s");
        assert_eq!(age(59), "59s");
        assert_eq!(age(61), "1m");
        assert_eq!(age(7197), "1h59m", "an archive made two hours ago is not `1h` old");
        assert_eq!(age(7200), "2h");
        assert_eq!(age(40_000), "11h");
        assert_eq!(age(171_000), "1d23h");
        assert_eq!(age(2_000_000), "23d");
        assert!((0..3_000_000).step_by(997).all(|s| age(s).chars().count() <= 5));
    }

    #[test]
    fn counts_are_singular_for_one() {
        assert_eq!(count(1, "job", "jobs"), "1 job");
        assert_eq!(count(0, "job", "jobs"), "0 jobs");
        assert_eq!(count(12_345, "match", "matches"), "12,345 matches");
    }

    #[test]
    fn wide_characters_pass_through() {
        assert_eq!(clean_line("数据库-01"), "数据库-01");
        assert_eq!(ellipsize("abcdef", 4), "abc…");
        assert_eq!(ellipsize("abc", 4), "abc");
    }
}
