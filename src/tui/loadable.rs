//! The state of one pane's data: loading, ready (with its time), or failed keeping the last data.

use chrono::{DateTime, Utc};

/// Why the last fetch failed, and when the next one is.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadError {
    pub message: String,
    /// When the current run of failures began.
    pub since: DateTime<Utc>,
    pub retry_at: DateTime<Utc>,
}

/// Data from one source. `data` survives failures, so a pane keeps showing the last good data.
#[derive(Debug, Clone, PartialEq)]
pub struct Loadable<T> {
    pub data: Option<T>,
    pub updated_at: Option<DateTime<Utc>>,
    pub error: Option<LoadError>,
}

impl<T> Default for Loadable<T> {
    fn default() -> Self {
        Loadable { data: None, updated_at: None, error: None }
    }
}

impl<T> Loadable<T> {
    pub fn loaded(&mut self, data: T, at: DateTime<Utc>) {
        self.data = Some(data);
        self.updated_at = Some(at);
        self.error = None;
    }

    pub fn failed(&mut self, message: String, at: DateTime<Utc>, retry_at: DateTime<Utc>) {
        let since = self.error.as_ref().map(|e| e.since).unwrap_or(at);
        self.error = Some(LoadError { message, since, retry_at });
    }

    pub fn is_loading(&self) -> bool {
        self.data.is_none() && self.error.is_none()
    }
}

/// Ages are drawn by the one function the CLI uses too.
pub use crate::domain::text::age;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_keep_data_and_the_first_failure_time() {
        let t = |s| DateTime::from_timestamp(s, 0).unwrap_or_default();
        let mut l = Loadable::default();
        assert!(l.is_loading());
        l.loaded(5, t(10));
        l.failed("down".into(), t(20), t(21));
        l.failed("down".into(), t(21), t(22));
        assert_eq!(l.data, Some(5));
        assert_eq!(l.error.as_ref().map(|e| e.since), Some(t(20)));
        l.loaded(6, t(23));
        assert_eq!(l.error, None);
    }
}
