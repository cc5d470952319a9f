//! The audit log view: the newest records, filtered by actor, action, outcome or context
//! (`actor:alice action:approve outcome:failed context:prod`; a bare word matches the actor);
//! Enter shows one record in full.

use chrono::{DateTime, Utc};

use super::loadable::Loadable;
use crate::audit::{Query, Record};

/// Most records the view loads.
pub const AUDIT_ROWS: usize = 500;

#[derive(Default)]
pub struct AuditView {
    pub records: Loadable<Vec<Record>>,
    pub filter: String,
    pub cursor: usize,
    /// A periodic reload is on its way.
    pub loading: bool,
    /// The selected record is shown in full, scrolled this many lines.
    pub detail: Option<u16>,
}

impl AuditView {
    /// The query the filter describes.
    pub fn query(&self) -> Query {
        let mut q = Query { limit: AUDIT_ROWS, ..Default::default() };
        for word in self.filter.split_whitespace() {
            match word.split_once(':') {
                Some(("action", v)) => q.action = Some(v.to_string()),
                Some(("outcome", v)) => q.outcome = Some(v.to_string()),
                Some(("actor", v)) => q.actor = Some(v.to_string()),
                Some(("context", v)) => q.context = Some(v.to_string()),
                _ => q.actor = Some(word.to_string()),
            }
        }
        q
    }

    pub fn loaded(&mut self, result: Result<Vec<Record>, String>, at: DateTime<Utc>) {
        self.loading = false;
        match result {
            Ok(r) => {
                self.cursor = self.cursor.min(r.len().saturating_sub(1));
                self.records.loaded(r, at);
            }
            Err(e) => self.records.failed(e, at, at),
        }
    }

    /// Opened afresh (`L`): every record, the newest selected; a filter set earlier would hide
    /// records written since.
    pub fn open(&mut self) {
        self.filter.clear();
        self.cursor = 0;
        self.detail = None;
    }

    /// The selected record.
    pub fn selected(&self) -> Option<&Record> {
        self.records.data.as_ref()?.get(self.cursor)
    }

    pub fn move_cursor(&mut self, delta: isize) {
        let n = self.records.data.as_ref().map(Vec::len).unwrap_or(0);
        if n > 0 {
            self.cursor = (self.cursor as isize).saturating_add(delta).clamp(0, n as isize - 1) as usize;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_becomes_a_query() {
        let v = AuditView { filter: "action:approve outcome:failed context:prod alice".into(), ..Default::default() };
        let q = v.query();
        assert_eq!(q.context.as_deref(), Some("prod"));
        assert_eq!(q.action.as_deref(), Some("approve"));
        assert_eq!(q.outcome.as_deref(), Some("failed"));
        assert_eq!(q.actor.as_deref(), Some("alice"));
    }
}
