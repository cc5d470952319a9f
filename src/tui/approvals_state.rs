//! The Approvals pane's state: jobs awaiting approval, oldest first, the selected one's detail
//! (draft, analysis, hits), and which ones are new since the last fetch (for the bell).

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::loadable::Loadable;
use crate::domain::{Job, JobDetail, JobsPage};
use crate::runtime::{Feed, SourceMsg};

#[derive(Default)]
pub struct ApprovalsState {
    pub page: Loadable<JobsPage>,
    pub cursor: usize,
    /// The selected job's detail, as last fetched (by the detail feed).
    pub detail: Option<(String, Box<JobDetail>, DateTime<Utc>)>,
    /// Ids seen awaiting approval, to tell a newcomer.
    known: HashSet<String>,
    /// Jobs that newly entered `awaiting_approval` since this was last taken (the bell).
    pub arrived: usize,
}

impl ApprovalsState {
    pub fn on_source(&mut self, msg: SourceMsg) {
        match msg {
            SourceMsg::ApprovalsLoaded(page) => {
                let ids: HashSet<String> = page.jobs.iter().map(|j| j.id.clone()).collect();
                // New to the window is not enough: with more jobs waiting than the window holds,
                // deciding one brings an old one in. A newcomer entered the state since the last
                // fetch (a little slack for clocks).
                if let Some(last) = self.page.data.as_ref().map(|p| p.fetched_at - chrono::Duration::seconds(5)) {
                    self.arrived += page
                        .jobs
                        .iter()
                        .filter(|j| !self.known.contains(&j.id) && j.updated_at.is_none_or(|u| u >= last))
                        .count();
                }
                self.known = ids;
                self.cursor = self.cursor.min(page.jobs.len().saturating_sub(1));
                let at = page.fetched_at;
                self.page.loaded(page, at);
            }
            SourceMsg::Failed { feed: Feed::Approvals, error, at, retry_at } => {
                self.page.failed(error.to_string(), at, retry_at)
            }
            other => self.on_detail(&other),
        }
    }

    /// A job's detail arrived: kept when it is the selected job's.
    pub fn on_detail(&mut self, msg: &SourceMsg) {
        if let SourceMsg::DetailLoaded { id, detail: Some(d), at } = msg
            && self.selected_id() == Some(id)
        {
            self.detail = Some((id.clone(), d.clone(), *at));
        }
    }

    pub fn jobs(&self) -> &[Job] {
        self.page.data.as_ref().map(|p| p.jobs.as_slice()).unwrap_or_default()
    }

    /// How many jobs await approval (all of them, not only those fetched).
    pub fn total(&self) -> Option<u64> {
        self.page.data.as_ref().map(|p| p.total)
    }

    pub fn selected(&self) -> Option<&Job> {
        self.jobs().get(self.cursor)
    }

    pub fn selected_id(&self) -> Option<&str> {
        self.selected().map(|j| j.id.as_str())
    }

    /// The selected job's detail, when it is the one fetched.
    pub fn selected_detail(&self) -> Option<&JobDetail> {
        let (id, d, _) = self.detail.as_ref()?;
        (Some(id.as_str()) == self.selected_id()).then_some(d.as_ref())
    }

    pub fn move_cursor(&mut self, delta: isize) {
        let n = self.jobs().len();
        if n == 0 {
            return;
        }
        self.cursor = (self.cursor as isize).saturating_add(delta).clamp(0, n as isize - 1) as usize;
    }
}
