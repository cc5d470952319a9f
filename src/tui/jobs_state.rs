//! State of the Queue and Jobs panes and of the job detail view: the queue snapshot and its
//! recent past, the window of jobs with its cursor, the detail being followed, and whether
//! pushes are flowing. Its messages are those of the `Queues`, `Jobs`, `Detail` and `Events`
//! feeds.

use std::collections::BTreeMap;

use chrono::Duration;

use super::app::Effect;
use super::jobs_view::JobsView;
use super::keymap::Action;
use super::loadable::Loadable;
use crate::domain::{JobDetail, JobsPage, JobsQuery, QueueHistory, QueueSnapshot};
use crate::runtime::{Feed, SourceMsg};

/// The detail view of one job.
#[derive(Debug, Clone, Default)]
pub struct DetailView {
    pub id: String,
    pub data: Loadable<Option<JobDetail>>,
    pub scroll: u16,
}

/// Whether pushed updates are flowing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventsStatus {
    pub connected: bool,
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
pub struct JobsState {
    /// Whether a job queue (Redis or the demo) is configured; if not, Queue and Jobs say so.
    pub configured: bool,
    pub queues: Loadable<QueueSnapshot>,
    pub history: BTreeMap<String, QueueHistory>,
    /// How many queues are configured (the Queue pane's height depends on it).
    pub queue_slots: usize,
    pub stall_after: Duration,
    /// The window of jobs last fetched.
    pub page: Loadable<JobsPage>,
    pub view: JobsView,
    pub detail: Option<DetailView>,
    pub events: EventsStatus,
    /// Jobs marked for a bulk action (`space`), by id.
    pub marks: BTreeMap<String, crate::domain::Job>,
}

impl Default for JobsState {
    fn default() -> Self {
        JobsState::new(true, 1, Duration::seconds(120))
    }
}

impl JobsState {
    pub fn new(configured: bool, queue_slots: usize, stall_after: Duration) -> Self {
        JobsState {
            configured,
            queues: Loadable::default(),
            history: BTreeMap::new(),
            queue_slots: queue_slots.max(1),
            stall_after,
            page: Loadable::default(),
            view: JobsView::default(),
            detail: None,
            events: EventsStatus::default(),
            marks: BTreeMap::new(),
        }
    }

    /// The job under the cursor, when its row is loaded.
    pub fn selected_job(&self) -> Option<&crate::domain::Job> {
        self.page.data.as_ref().and_then(|p| self.view.job_at(p, self.view.selected()))
    }

    /// Apply a message of the jobs feeds; what to fetch next.
    pub fn on_source(&mut self, msg: SourceMsg) -> Option<JobsQuery> {
        match msg {
            SourceMsg::QueuesLoaded(snap) => {
                for q in &snap.queues {
                    let h = self.history.entry(q.name.clone()).or_default();
                    h.record(snap.server_time, q.length, q.oldest_id.as_ref());
                }
                let at = snap.fetched_at;
                self.queues.loaded(snap, at);
                None
            }
            SourceMsg::JobsLoaded(page) => {
                if !self.view.accepts(&page.query) {
                    return None; // an answer to a filter the user has since changed
                }
                let at = page.fetched_at;
                self.view.page_arrived(&page);
                self.page.loaded(page, at);
                self.view.refetch_if_needed()
            }
            SourceMsg::DetailLoaded { id, detail, at } => {
                if let Some(d) = self.detail.as_mut().filter(|d| d.id == id) {
                    d.data.loaded(detail.map(|b| *b), at);
                }
                None
            }
            SourceMsg::Failed { feed, error, at, retry_at } => {
                let message = error.to_string();
                match feed {
                    Feed::Queues => self.queues.failed(message, at, retry_at),
                    Feed::Jobs => self.page.failed(message, at, retry_at),
                    Feed::Detail => {
                        if let Some(d) = self.detail.as_mut() {
                            d.data.failed(message, at, retry_at);
                        }
                    }
                    _ => {}
                }
                None
            }
            SourceMsg::PushState { connected, error, .. } => {
                self.events = EventsStatus { connected, error };
                None
            }
            _ => None,
        }
    }

    /// A movement or list key in the Jobs pane; `None` when the key is not one of those.
    pub fn on_list_action(&mut self, action: Action) -> Option<Vec<Effect>> {
        let rows = self.view.rows() as isize;
        let query = match action {
            Action::Down => self.view.move_by(1),
            Action::Up => self.view.move_by(-1),
            Action::PageDown => self.view.move_by(rows),
            Action::PageUp => self.view.move_by(-rows),
            Action::Top => self.view.move_by(isize::MIN / 2),
            Action::Bottom => self.view.move_by(isize::MAX / 2),
            Action::Open => {
                let id = self.view.selected_id()?;
                self.detail = Some(DetailView { id: id.clone(), ..Default::default() });
                return Some(vec![Effect::FollowDetail(Some(id))]);
            }
            _ => return None,
        };
        Some(fetch(query))
    }

    /// A key in the job detail view; `Some(true)` when the view closes.
    pub fn on_detail_action(&mut self, action: Action, page: u16) -> Option<bool> {
        let detail = self.detail.as_mut()?;
        match action {
            Action::Back | Action::Open => {
                self.detail = None;
                return Some(true);
            }
            Action::Down => detail.scroll = detail.scroll.saturating_add(1),
            Action::Up => detail.scroll = detail.scroll.saturating_sub(1),
            Action::PageDown => detail.scroll = detail.scroll.saturating_add(page),
            Action::PageUp => detail.scroll = detail.scroll.saturating_sub(page),
            Action::Top => detail.scroll = 0,
            _ => {}
        }
        Some(false)
    }
}

/// The effect of a new window to fetch, if any.
pub fn fetch(query: Option<JobsQuery>) -> Vec<Effect> {
    query.into_iter().map(Effect::FetchJobs).collect()
}
