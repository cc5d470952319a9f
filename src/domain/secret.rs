//! A secret (password, token, API key): read from a reference at start, sent where it must go,
//! and never printed — its `Debug` and `Display` show `***`, and [`Secret::scrub`] removes it
//! from any message a server may have quoted it back in.

use std::fmt;

/// A value that must never reach a screen, a log or an error message.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself, for the one place that sends it (a header, a connection option).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the secret replaced by `***`. Values shorter than four
    /// characters are left alone: they would match ordinary text and say little anyway.
    pub fn scrub(&self, text: &str) -> String {
        if self.0.len() < 4 { text.to_string() } else { text.replace(&self.0, "***") }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// `text` with every one of `secrets` scrubbed.
pub fn scrub_all<'a>(text: &str, secrets: impl IntoIterator<Item = &'a Secret>) -> String {
    secrets.into_iter().fold(text.to_string(), |t, s| s.scrub(&t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_printed_and_scrubbed_from_messages() {
        let s = Secret::new("hunter2-xyz");
        assert_eq!(format!("{s} {s:?} {:?}", Some(&s)), "*** Secret(***) Some(Secret(***))");
        assert_eq!(s.scrub("401: bad token Bearer hunter2-xyz"), "401: bad token Bearer ***");
        assert_eq!(s.expose(), "hunter2-xyz");
    }
}
