//! Copying to the user's clipboard through the terminal (OSC 52), so it works over SSH and in
//! tmux: the text travels base64-encoded, so nothing in it can be taken for a control sequence.
//! In tmux the sequence is sent both as is (for `set-clipboard on`) and wrapped for tmux's
//! passthrough (`allow-passthrough on`).

use base64::Engine;

/// Longest text sent: terminals drop longer OSC 52 payloads (xterm's limit is about 100 kB).
pub const MAX_BYTES: usize = 64 * 1024;

/// Why a value is not put on the clipboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    Empty,
    TooLong,
    /// A control character (a line feed, ESC) or an invisible or reordering one inside it:
    /// pasted into a shell, what follows a line feed would run.
    Control,
    /// It holds a secret.
    Secret,
}

impl Refused {
    pub fn says(&self) -> &'static str {
        match self {
            Refused::Empty => "it is empty",
            Refused::TooLong => "it is too long for the terminal's clipboard",
            Refused::Control => "it holds control characters (a line feed or an escape) that a paste would act on",
            Refused::Secret => "it holds a secret",
        }
    }
}

/// What may go on the clipboard: `raw` without its surrounding whitespace (`true` when some
/// was taken off), or why it may not. A value with anything unsafe *inside* it is refused, not
/// cleaned: a changed id or URL would be a different handle.
pub fn prepare(raw: &str) -> Result<(String, bool), Refused> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(Refused::Empty);
    }
    if text.len() > MAX_BYTES {
        return Err(Refused::TooLong);
    }
    if text.chars().any(crate::domain::text::is_unsafe) {
        return Err(Refused::Control);
    }
    if crate::domain::secret::scrub(text) != text {
        return Err(Refused::Secret);
    }
    Ok((text.to_string(), text.len() != raw.len()))
}

/// The bytes that put `text` on the clipboard; `None` when it is too long to send or holds
/// anything [`prepare`] refuses.
pub fn osc52(text: &str, in_tmux: bool) -> Option<String> {
    if prepare(text).ok()?.0 != text {
        return None;
    }
    let payload = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    let plain = format!("\x1b]52;c;{payload}\x07");
    if !in_tmux {
        return Some(plain);
    }
    // tmux passthrough: DCS tmux; <the sequence, each ESC doubled> ST.
    let wrapped = format!("\x1bPtmux;\x1b\x1b]52;c;{payload}\x07\x1b\\");
    Some(format!("{plain}{wrapped}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_a_paste_would_act_on_reaches_the_clipboard() {
        assert_eq!(prepare("https://z/t/1\r\n"), Ok(("https://z/t/1".into(), true)));
        assert_eq!(prepare("job-7"), Ok(("job-7".into(), false)));
        assert_eq!(prepare("https://z/t/1\nrm -rf ~"), Err(Refused::Control));
        assert_eq!(prepare("id\x1b[201~x"), Err(Refused::Control));
        assert_eq!(prepare("evil\u{202e}txt"), Err(Refused::Control));
        assert_eq!(prepare("  "), Err(Refused::Empty));
        assert_eq!(osc52("a\nb", false), None);
        let _s = crate::domain::Secret::new("clip-secret-4242");
        assert_eq!(prepare("https://x/?t=clip-secret-4242"), Err(Refused::Secret));
    }

    #[test]
    fn the_exact_sequence_with_nothing_of_the_text_interpreted() {
        assert_eq!(osc52("job-1", false).as_deref(), Some("\x1b]52;c;am9iLTE=\x07"));
        // What goes travels as base64 only; escape sequences do not go at all.
        let text = "https://zammad/#ticket/zoom/5001?q=a+b&c=é";
        let out = osc52(text, false).unwrap_or_default();
        let payload = out.strip_prefix("\x1b]52;c;").and_then(|s| s.strip_suffix('\x07')).unwrap_or_default();
        assert!(payload.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b)), "{out:?}");
        let decoded = base64::engine::general_purpose::STANDARD.decode(payload).unwrap_or_default();
        assert_eq!(decoded, text.as_bytes());
        assert_eq!(out.matches('\x1b').count(), 1, "one ESC: the sequence's own");
        assert_eq!(osc52("id\x1b]0;owned\x07\x1b[2J\u{9b}31m", false), None);
        let tmux = osc52("job-1", true).unwrap_or_default();
        assert!(tmux.ends_with("\x1bPtmux;\x1b\x1b]52;c;am9iLTE=\x07\x1b\\"), "{tmux:?}");
        assert_eq!(osc52(&"x".repeat(MAX_BYTES + 1), false), None);
    }
}
