//! Copying to the user's clipboard through the terminal (OSC 52), so it works over SSH and in
//! tmux: the text travels base64-encoded, so nothing in it can be taken for a control sequence.
//! In tmux the sequence is sent both as is (for `set-clipboard on`) and wrapped for tmux's
//! passthrough (`allow-passthrough on`).

use base64::Engine;

/// Longest text sent: terminals drop longer OSC 52 payloads (xterm's limit is about 100 kB).
pub const MAX_BYTES: usize = 64 * 1024;

/// The bytes that put `text` on the clipboard; `None` when it is too long to send.
pub fn osc52(text: &str, in_tmux: bool) -> Option<String> {
    if text.len() > MAX_BYTES {
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
    fn the_exact_sequence_with_nothing_of_the_text_interpreted() {
        assert_eq!(osc52("job-1", false).as_deref(), Some("\x1b]52;c;am9iLTE=\x07"));
        // Escape sequences, BEL and invalid-looking text travel as base64 only.
        let hostile = "id\x1b]0;owned\x07\x1b[2J\u{9b}31m";
        let out = osc52(hostile, false).unwrap_or_default();
        let payload = out.strip_prefix("\x1b]52;c;").and_then(|s| s.strip_suffix('\x07')).unwrap_or_default();
        assert!(payload.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b)), "{out:?}");
        let decoded = base64::engine::general_purpose::STANDARD.decode(payload).unwrap_or_default();
        assert_eq!(decoded, hostile.as_bytes());
        assert_eq!(out.matches('\x1b').count(), 1, "one ESC: the sequence's own");
        let tmux = osc52("job-1", true).unwrap_or_default();
        assert!(tmux.ends_with("\x1bPtmux;\x1b\x1b]52;c;am9iLTE=\x07\x1b\\"), "{tmux:?}");
        assert_eq!(osc52(&"x".repeat(MAX_BYTES + 1), false), None);
    }
}
