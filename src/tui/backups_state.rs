//! The Backups pane's state: the archives (time, size, items, verified), the newest one's age
//! against `max_age_h`, and a running backup's or verify's progress.

use chrono::{DateTime, Utc};

use super::loadable::Loadable;
use crate::backup::{ArchiveInfo, Progress};

#[derive(Default)]
pub struct BackupsState {
    /// Whether backups are configured for the context.
    pub configured: bool,
    pub archives: Loadable<Vec<ArchiveInfo>>,
    pub cursor: usize,
    /// A backup, verify or restore under way.
    pub running: Option<Progress>,
    pub max_age_h: Option<u64>,
    /// What the items of a backup run would be, for the confirmation.
    pub items: String,
    /// A list request is on its way.
    pub loading: bool,
}

impl BackupsState {
    pub fn loaded(&mut self, result: Result<Vec<ArchiveInfo>, String>, at: DateTime<Utc>) {
        self.loading = false;
        match result {
            Ok(a) => {
                self.cursor = self.cursor.min(a.len().saturating_sub(1));
                self.archives.loaded(a, at);
            }
            Err(e) => self.archives.failed(e, at, at + chrono::Duration::seconds(10)),
        }
    }

    pub fn selected(&self) -> Option<&ArchiveInfo> {
        self.archives.data.as_ref()?.get(self.cursor)
    }

    pub fn move_cursor(&mut self, delta: isize) {
        let n = self.archives.data.as_ref().map(Vec::len).unwrap_or(0);
        if n > 0 {
            self.cursor = (self.cursor as isize).saturating_add(delta).clamp(0, n as isize - 1) as usize;
        }
    }
}
