//! The jobs list's cursor and window: which rows are visible, which window of the index to fetch
//! (the visible rows plus a margin, never more), and keeping the cursor on the same job while
//! data refreshes.

use crate::domain::{Job, JobsPage, JobsQuery};

/// Rows fetched beyond each edge of the visible window.
pub const MARGIN: usize = 20;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobsView {
    selected: usize,
    top: usize,
    rows: usize,
    selected_id: Option<String>,
    /// The window last asked for.
    query: JobsQuery,
    /// Offset and ids of the last page that arrived.
    window_offset: usize,
    window_ids: Vec<String>,
    /// Rows in the list, when known (with a text filter it is known only at the end).
    total: Option<usize>,
    failures_only: bool,
    filter: String,
}

impl JobsView {
    pub fn selected(&self) -> usize {
        self.selected
    }
    pub fn top(&self) -> usize {
        self.top
    }
    pub fn rows(&self) -> usize {
        self.rows.max(1)
    }
    pub fn total(&self) -> Option<usize> {
        self.total
    }
    pub fn filter(&self) -> &str {
        &self.filter
    }
    pub fn failures_only(&self) -> bool {
        self.failures_only
    }
    pub fn selected_id(&self) -> Option<String> {
        self.selected_id.clone()
    }

    /// The job at a position of the whole list, if the last page holds it.
    pub fn job_at<'a>(&self, page: &'a JobsPage, index: usize) -> Option<&'a Job> {
        index.checked_sub(page.query.offset).and_then(|i| page.jobs.get(i))
    }

    pub fn set_rows(&mut self, rows: usize) {
        self.rows = rows.max(1);
        self.keep_visible();
    }

    /// The window for the current position: the visible rows and `MARGIN` on each side.
    pub fn desired_query(&self) -> JobsQuery {
        JobsQuery {
            failures_only: self.failures_only,
            filter: self.filter.clone(),
            offset: self.top.saturating_sub(MARGIN),
            limit: self.rows() + 2 * MARGIN,
            ..Default::default()
        }
    }

    /// A new window to fetch when the visible rows come near the edge of the current one.
    pub fn refetch_if_needed(&mut self) -> Option<JobsQuery> {
        let q = &self.query;
        let lo = self.top.saturating_sub(MARGIN / 2);
        let mut hi = self.top + self.rows() + MARGIN / 2;
        if let Some(total) = self.total {
            hi = hi.min(total);
        }
        let stale = q.limit == 0 || q.failures_only != self.failures_only || q.filter != self.filter;
        if stale || lo < q.offset || hi > q.offset + q.limit {
            let desired = self.desired_query();
            if desired != self.query {
                self.query = desired.clone();
                return Some(desired);
            }
        }
        None
    }

    /// Whether a page answers the list as it is now (not a filter since changed).
    pub fn accepts(&self, q: &JobsQuery) -> bool {
        q.failures_only == self.failures_only && q.filter == self.filter
    }

    /// A page arrived: learn the size, and follow the selected job to where it is now.
    pub fn page_arrived(&mut self, page: &JobsPage) {
        let offset = page.query.offset;
        self.total = if page.query.filter.trim().is_empty() {
            Some(page.total as usize)
        } else if page.jobs.len() < page.query.limit {
            Some(offset + page.jobs.len())
        } else {
            None
        };
        let found = self.selected_id.as_ref().and_then(|id| page.jobs.iter().position(|j| &j.id == id));
        if let Some(i) = found {
            let moved_to = offset + i;
            // At the top of the list new arrivals stay in view; scrolled down, the view moves
            // with the selected job so nothing shifts under the cursor.
            if self.top > 0 {
                self.top = (self.top + moved_to).saturating_sub(self.selected);
            }
            self.selected = moved_to;
        }
        self.window_offset = offset;
        self.window_ids = page.jobs.iter().map(|j| j.id.clone()).collect();
        self.clamp();
        self.keep_visible();
        self.sync_selected_id();
    }

    /// Move the cursor by `delta` rows; returns a window to fetch if one is needed.
    pub fn move_by(&mut self, delta: isize) -> Option<JobsQuery> {
        self.selected = self.selected.saturating_add_signed(delta);
        self.clamp();
        self.keep_visible();
        self.sync_selected_id();
        self.refetch_if_needed()
    }

    pub fn toggle_failures(&mut self) -> Option<JobsQuery> {
        self.failures_only = !self.failures_only;
        self.reset();
        self.refetch_if_needed()
    }

    pub fn set_filter(&mut self, filter: String) -> Option<JobsQuery> {
        if filter == self.filter {
            return None;
        }
        self.filter = filter;
        self.reset();
        self.refetch_if_needed()
    }

    /// No text filter and not failures only: the whole list again, in one refetch.
    pub fn clear_filters(&mut self) -> Option<JobsQuery> {
        if self.filter.is_empty() && !self.failures_only {
            return None;
        }
        self.filter.clear();
        self.failures_only = false;
        self.reset();
        self.refetch_if_needed()
    }

    fn reset(&mut self) {
        self.selected = 0;
        self.top = 0;
        self.selected_id = None;
        self.window_ids.clear();
        self.total = None;
    }

    fn last_index(&self) -> usize {
        match self.total {
            Some(t) => t.saturating_sub(1),
            None => (self.window_offset + self.window_ids.len()).saturating_sub(1),
        }
    }

    fn clamp(&mut self) {
        self.selected = self.selected.min(self.last_index());
    }

    fn keep_visible(&mut self) {
        let rows = self.rows();
        if self.selected < self.top {
            self.top = self.selected;
        } else if self.selected >= self.top + rows {
            self.top = self.selected + 1 - rows;
        }
        let max_top = (self.last_index() + 1).saturating_sub(rows);
        self.top = self.top.min(max_top);
    }

    fn sync_selected_id(&mut self) {
        if let Some(id) = self.selected.checked_sub(self.window_offset).and_then(|i| self.window_ids.get(i)) {
            self.selected_id = Some(id.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::job::RawFields;
    use chrono::Utc;

    fn page(query: JobsQuery, ids: std::ops::Range<usize>, total: u64) -> JobsPage {
        let jobs = ids.map(|i| Job::from_fields(&format!("j{i}"), None, &RawFields::new())).collect();
        JobsPage { query, total, scanned: None, jobs, fetched_at: Utc::now() }
    }

    #[test]
    fn fetches_only_the_visible_window_plus_margin() {
        let mut v = JobsView::default();
        v.set_rows(10);
        let q = v.refetch_if_needed();
        assert_eq!(q.as_ref().map(|q| (q.offset, q.limit)), Some((0, 10 + 2 * MARGIN)));
        v.page_arrived(&page(q.unwrap_or_default(), 0..50, 1_000_000));
        // moving inside the window fetches nothing
        assert_eq!(v.move_by(5), None);
        // paging far down asks for a new window around the new position, of the same size
        let q = v.move_by(500).unwrap_or_default();
        assert_eq!(v.selected(), 505);
        assert_eq!((q.offset, q.limit), (v.top() - MARGIN, 10 + 2 * MARGIN));
    }

    #[test]
    fn selection_stays_on_the_same_job_when_rows_arrive_above() {
        let mut v = JobsView::default();
        v.set_rows(10);
        let q = v.refetch_if_needed().unwrap_or_default();
        v.page_arrived(&page(q.clone(), 0..50, 100));
        v.move_by(3);
        assert_eq!(v.selected_id().as_deref(), Some("j3"));
        // two new jobs at the top: j3 is now the fifth row
        let mut p = page(q, 0..50, 102);
        p.jobs.insert(0, Job::from_fields("new1", None, &RawFields::new()));
        p.jobs.insert(0, Job::from_fields("new2", None, &RawFields::new()));
        v.page_arrived(&p);
        assert_eq!(v.selected(), 5);
        assert_eq!(v.selected_id().as_deref(), Some("j3"));
    }

    #[test]
    fn filter_and_failures_reset_the_cursor_and_old_answers_are_ignored() {
        let mut v = JobsView::default();
        v.set_rows(10);
        let q = v.refetch_if_needed().unwrap_or_default();
        v.page_arrived(&page(q.clone(), 0..50, 100));
        v.move_by(7);
        let fq = v.set_filter("db".into()).unwrap_or_default();
        assert_eq!(v.selected(), 0);
        assert_eq!(fq.filter, "db");
        assert!(!v.accepts(&q));
        assert!(v.accepts(&fq));
        let f = v.toggle_failures().unwrap_or_default();
        assert!(f.failures_only);
    }

    #[test]
    fn cursor_never_passes_the_end() {
        let mut v = JobsView::default();
        v.set_rows(10);
        let q = v.refetch_if_needed().unwrap_or_default();
        v.page_arrived(&page(q, 0..3, 3));
        v.move_by(100);
        assert_eq!(v.selected(), 2);
        v.move_by(-100);
        assert_eq!(v.selected(), 0);
    }
}
