//! State of the Health and Alerts panes: the four feeds, the alert grouping, cursors that stay
//! on the same alert or container while data refreshes, and which item the detail view shows.

use crate::domain::alert::{self, GroupIndex};
use crate::domain::{Alert, AlertsSnapshot, Container, ServiceStatus, Target};
use crate::runtime::{Feed, SourceMsg};
use crate::sources::OpsConfigured;

use super::loadable::Loadable;

/// A cursor over a list, remembering the key of the selected item.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cursor {
    pub selected: usize,
    pub top: usize,
    pub key: Option<String>,
}

impl Cursor {
    /// Move within `len` items and keep the selection inside `rows` visible rows.
    pub fn move_by(&mut self, delta: isize, len: usize, rows: usize) {
        self.selected = self.selected.saturating_add_signed(delta).min(len.saturating_sub(1));
        self.keep_visible(rows);
    }

    pub fn keep_visible(&mut self, rows: usize) {
        let rows = rows.max(1);
        if self.selected < self.top {
            self.top = self.selected;
        } else if self.selected >= self.top + rows {
            self.top = self.selected + 1 - rows;
        }
    }

    /// The first row to draw in `rows` rows of `len` items: the selection visible, and no empty
    /// rows at the bottom while items are hidden above (after a zoom made the pane taller).
    pub fn top_for(&self, rows: usize, len: usize) -> usize {
        let rows = rows.max(1);
        let mut top = self.top.min(self.selected);
        if self.selected >= top + rows {
            top = self.selected + 1 - rows;
        }
        top.min(len.saturating_sub(rows))
    }

    /// After new data: find the remembered item again, else stay at the same position.
    pub fn follow(&mut self, keys: &[&str]) {
        if let Some(i) = self.key.as_deref().and_then(|k| keys.iter().position(|x| *x == k)) {
            self.selected = i;
        }
        self.selected = self.selected.min(keys.len().saturating_sub(1));
        self.key = keys.get(self.selected).map(|k| k.to_string());
    }
}

/// What the operations detail view shows.
#[derive(Debug, Clone, PartialEq)]
pub enum OpsDetail {
    Alert(String),
    Container(String),
    /// A knowledge-base hit, as it was when opened.
    Hit(Box<crate::domain::RagHit>),
}

#[derive(Debug, Default)]
pub struct OpsState {
    pub configured: OpsConfigured,
    pub containers: Loadable<Vec<Container>>,
    pub services: Loadable<Vec<ServiceStatus>>,
    pub targets: Loadable<Vec<Target>>,
    pub alerts: Loadable<AlertsSnapshot>,
    /// The AI pipeline's numbers (the line under the header).
    pub pipeline: Loadable<crate::domain::pipeline::PipelineSnapshot>,
    pub docker_events: bool,
    pub group_by: Vec<String>,
    pub alert_filter: String,
    /// Alerts after filter and grouping, as positions in the snapshot's alerts, rebuilt when
    /// alerts or the filter change.
    pub groups: Vec<GroupIndex>,
    pub alert_cursor: Cursor,
    pub container_cursor: Cursor,
    pub detail: Option<(OpsDetail, u16)>,
}

impl OpsState {
    pub fn new(configured: OpsConfigured, group_by: Vec<String>) -> Self {
        OpsState { configured, group_by, ..Default::default() }
    }

    /// Apply a runtime message about one of the four feeds; false if it is about another feed.
    pub fn on_source(&mut self, msg: SourceMsg) -> bool {
        match msg {
            SourceMsg::ContainersLoaded(c, at) => {
                // What needs attention first: unhealthy, starting, stopped, then the rest (the
                // classes the counts use).
                let mut sorted = c;
                sorted.sort_by_key(|c| (crate::domain::facts::container_class(c), c.name.clone()));
                let ids: Vec<&str> = sorted.iter().map(|c| c.id.as_str()).collect();
                self.container_cursor.follow(&ids);
                self.containers.loaded(sorted, at);
            }
            SourceMsg::ServicesLoaded(s, at) => self.services.loaded(s, at),
            SourceMsg::TargetsLoaded(t, at) => self.targets.loaded(t, at),
            SourceMsg::PipelineLoaded(p) => {
                let at = p.fetched_at;
                self.pipeline.loaded(p, at)
            }
            SourceMsg::AlertsLoaded(a) => {
                if a.all_failed() {
                    // Nothing answered: what shows is each source's last alerts, and the pane
                    // is stale from its last real answer (each source says its own error).
                    let at = a.fetched_at;
                    let n = a.sources.len();
                    self.alerts.data = Some(a.clone());
                    let why = if n == 1 {
                        "the alert source did not answer".to_string()
                    } else {
                        format!("none of the {n} alert sources answered")
                    };
                    self.alerts.failed(why, at, at + chrono::Duration::seconds(1));
                } else {
                    self.alerts.loaded(a.clone(), a.fetched_at);
                }
                self.regroup();
            }
            SourceMsg::PushState { connected, .. } => self.docker_events = connected,
            SourceMsg::Failed { feed, error, at, retry_at } => {
                let m = error.to_string();
                match feed {
                    Feed::Containers => self.containers.failed(m, at, retry_at),
                    Feed::Services => self.services.failed(m, at, retry_at),
                    Feed::Targets => self.targets.failed(m, at, retry_at),
                    Feed::Alerts => self.alerts.failed(m, at, retry_at),
                    Feed::Pipeline => self.pipeline.failed(m, at, retry_at),
                    _ => return false,
                }
            }
            _ => return false,
        }
        true
    }

    pub fn set_alert_filter(&mut self, filter: String) {
        self.alert_filter = filter;
        self.alert_cursor = Cursor::default();
        self.regroup();
    }

    fn regroup(&mut self) {
        let all = self.alerts.data.as_ref().map(|s| s.alerts.as_slice()).unwrap_or_default();
        let keep = (0..all.len()).filter(|i| all[*i].matches(&self.alert_filter));
        self.groups = alert::group_indices(all, keep, &self.group_by);
        let mut cursor = std::mem::take(&mut self.alert_cursor);
        let fps: Vec<&str> = self.alert_list().map(|a| a.fingerprint.as_str()).collect();
        cursor.follow(&fps);
        self.alert_cursor = cursor;
    }

    /// Every alert of the snapshot (filtered or not).
    pub fn all_alerts(&self) -> &[Alert] {
        self.alerts.data.as_ref().map(|s| s.alerts.as_slice()).unwrap_or_default()
    }

    /// Alerts in display order.
    pub fn alert_list(&self) -> impl Iterator<Item = &Alert> {
        let all = self.all_alerts();
        self.groups.iter().flat_map(move |g| g.alerts.iter().filter_map(move |i| all.get(*i)))
    }

    pub fn alert_count(&self) -> usize {
        self.groups.iter().map(|g| g.alerts.len()).sum()
    }

    pub fn selected_alert(&self) -> Option<&Alert> {
        self.alert_list().nth(self.alert_cursor.selected)
    }

    pub fn selected_container(&self) -> Option<&Container> {
        self.containers.data.as_ref().and_then(|c| c.get(self.container_cursor.selected))
    }

    pub fn move_alerts(&mut self, delta: isize, rows: usize) {
        let len = self.alert_count();
        self.alert_cursor.move_by(delta, len, rows);
        self.alert_cursor.key = self.selected_alert().map(|a| a.fingerprint.clone());
    }

    pub fn move_containers(&mut self, delta: isize, rows: usize) {
        let len = self.containers.data.as_ref().map(Vec::len).unwrap_or(0);
        self.container_cursor.move_by(delta, len, rows);
        self.container_cursor.key = self.selected_container().map(|c| c.id.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_follows_its_item_and_clamps() {
        let mut c = Cursor::default();
        c.follow(&["a", "b", "c"]);
        c.move_by(2, 3, 10);
        c.key = Some("c".into());
        c.follow(&["x", "a", "b", "c"]);
        assert_eq!(c.selected, 3);
        c.follow(&["x"]);
        assert_eq!((c.selected, c.key.as_deref()), (0, Some("x")));
        c.follow(&[]);
        assert_eq!(c.key, None);
    }

    #[test]
    fn a_taller_pane_shows_the_items_above_instead_of_empty_rows() {
        let mut c = Cursor::default();
        // 12 items in a 4-row pane, scrolled to the last.
        c.move_by(11, 12, 4);
        assert_eq!((c.top, c.top_for(4, 12)), (8, 8));
        // Zoomed to 30 rows: all 12 show, from the first.
        assert_eq!(c.top_for(30, 12), 0);
        // Back to 4 rows with the selection at the top of a stale scroll: it stays in view.
        c.selected = 2;
        assert_eq!(c.top_for(4, 12), 2);
        c.selected = 11;
        c.top = 0;
        assert_eq!(c.top_for(4, 12), 8);
    }
}
