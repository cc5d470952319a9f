//! The last source errors (`:errors`), kept in memory so a flapping source can be seen after it
//! recovered. A source failing again with the same message updates its entry (a count and the
//! last time) instead of pushing out everything else.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};

/// Entries kept.
pub const KEEP: usize = 100;

#[derive(Debug, Clone, PartialEq)]
pub struct ErrorEntry {
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
    pub source: String,
    /// Raw, as the source said it; escaped when drawn.
    pub message: String,
    pub count: u32,
}

#[derive(Debug, Clone, Default)]
pub struct ErrorLog {
    /// Oldest first.
    entries: VecDeque<ErrorEntry>,
    pub cursor: usize,
}

impl ErrorLog {
    pub fn push(&mut self, at: DateTime<Utc>, source: &str, message: &str) {
        let newest_of_source = self.entries.iter().rposition(|e| e.source == source);
        if let Some(i) = newest_of_source.filter(|i| self.entries[*i].message == message) {
            if let Some(mut e) = self.entries.remove(i) {
                e.last = at;
                e.count = e.count.saturating_add(1);
                self.entries.push_back(e);
            }
            return;
        }
        self.entries.push_back(ErrorEntry {
            first: at,
            last: at,
            source: source.to_string(),
            message: message.to_string(),
            count: 1,
        });
        while self.entries.len() > KEEP {
            self.entries.pop_front();
        }
    }

    /// Newest first.
    pub fn newest_first(&self) -> impl Iterator<Item = &ErrorEntry> {
        self.entries.iter().rev()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn move_cursor(&mut self, delta: isize) {
        let last = self.entries.len().saturating_sub(1);
        self.cursor = self.cursor.saturating_add_signed(delta).min(last);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_fold_into_one_entry_and_the_oldest_go() {
        let t = |s: i64| DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap_or_default();
        let mut log = ErrorLog::default();
        log.push(t(0), "redis", "connection refused");
        log.push(t(1), "alertmanager", "timed out");
        log.push(t(5), "redis", "connection refused");
        let all: Vec<_> = log.newest_first().map(|e| (e.source.as_str(), e.count, e.first, e.last)).collect();
        assert_eq!(all, [("redis", 2, t(0), t(5)), ("alertmanager", 1, t(1), t(1))]);
        log.push(t(6), "redis", "NOAUTH");
        assert_eq!(log.len(), 3, "a new message is a new entry");
        for i in 0..200 {
            log.push(t(10 + i), &format!("s{i}"), "x");
        }
        assert_eq!(log.len(), KEEP);
        assert_eq!(log.newest_first().next().map(|e| e.source.as_str()), Some("s199"));
    }
}
