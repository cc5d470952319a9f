//! State of the RAG pane: what it is about (the selected job, the selected alert, or a query the
//! operator typed), the hits for that, the knowledge base's description, and recent queries.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use super::loadable::Loadable;
use super::ops_state::Cursor;
use crate::domain::rag::{KbStats, RagHit, RagSearch};
use crate::domain::{Alert, JobDetail};
use crate::runtime::{Feed, RagRequest, SourceMsg};

/// Recent queries kept for ↑/↓ in the query box.
const HISTORY_MAX: usize = 50;
/// A live search for an alert is reused this long when the alert is selected again.
const ALERT_CACHE_SECS: i64 = 120;
/// Most alert searches kept (a storm of thousands of alerts must not grow memory without end).
const ALERT_CACHE_MAX: usize = 256;

/// What the pane follows: the last place the operator looked, or what they typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Follow {
    #[default]
    Jobs,
    Alerts,
    Query,
}

/// What the pane is showing hits for.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    /// The hits a worker stored on this job.
    Job(String),
    /// A live search built from an alert's labels and summary.
    Alert { fingerprint: String, name: String, query: String },
    /// A query typed in the search box.
    Query(String),
}

#[derive(Debug, Default)]
pub struct RagState {
    /// Whether a knowledge base (or the demo's) can be searched.
    pub searchable: bool,
    pub follow: Follow,
    pub subject: Option<Subject>,
    pub stats: Loadable<KbStats>,
    /// The search for the current alert or query subject.
    pub search: Loadable<RagSearch>,
    /// The request whose answer is awaited (answers to others are dropped).
    pub pending: Option<RagRequest>,
    next_id: u64,
    /// The hits stored on the followed job: `None` while loading, then the field's content.
    pub job_hits: Loadable<Option<Result<Vec<RagHit>, String>>>,
    pub cursor: Cursor,
    /// Newest last.
    pub history: Vec<String>,
    pub top_k: usize,
    pub threshold: f64,
    alert_cache: HashMap<String, RagSearch>,
    /// The status of the followed job as the jobs list last said, to explain "no hits yet".
    pub followed_status: Option<crate::domain::JobStatus>,
}

impl RagState {
    pub fn new(searchable: bool, top_k: usize, threshold: f64) -> Self {
        RagState { searchable, top_k, threshold, ..Default::default() }
    }

    /// The hits the pane lists for the current subject.
    pub fn hits(&self) -> &[RagHit] {
        match &self.subject {
            Some(Subject::Job(_)) => match &self.job_hits.data {
                Some(Some(Ok(h))) => h,
                _ => &[],
            },
            Some(_) => self.search.data.as_ref().map(|s| s.hits.as_slice()).unwrap_or(&[]),
            None => &[],
        }
    }

    pub fn selected_hit(&self) -> Option<&RagHit> {
        self.hits().get(self.cursor.selected)
    }

    pub fn move_cursor(&mut self, delta: isize, rows: usize) {
        let len = self.hits().len();
        self.cursor.move_by(delta, len, rows);
    }

    /// Whether the pane already shows `subject` (an alert is the same alert while its
    /// fingerprint is, whatever its summary now says).
    pub fn is_current(&self, subject: &Subject) -> bool {
        match (&self.subject, subject) {
            (Some(Subject::Alert { fingerprint: a, .. }), Subject::Alert { fingerprint: b, .. }) => a == b,
            (Some(current), s) => current == s,
            (None, _) => false,
        }
    }

    /// Point the pane at a subject. Returns a search to run, if the subject needs one.
    pub fn set_subject(&mut self, subject: Subject, now: DateTime<Utc>) -> Option<RagRequest> {
        if self.is_current(&subject) {
            return None;
        }
        self.cursor = Cursor::default();
        let query = match &subject {
            Subject::Job(_) => {
                self.job_hits = Loadable::default();
                self.subject = Some(subject);
                return None;
            }
            Subject::Alert { fingerprint, query, .. } => {
                if let Some(cached) =
                    self.alert_cache.get(fingerprint).filter(|s| now - s.at < Duration::seconds(ALERT_CACHE_SECS))
                {
                    self.search = Loadable::default();
                    self.search.loaded(cached.clone(), cached.at);
                    self.pending = None;
                    self.subject = Some(subject);
                    return None;
                }
                query.clone()
            }
            Subject::Query(q) => q.clone(),
        };
        self.subject = Some(subject);
        self.search = Loadable::default();
        if !self.searchable {
            return None;
        }
        self.next_id += 1;
        let request = RagRequest { id: self.next_id, query, top_k: self.top_k, threshold: self.threshold };
        self.pending = Some(request.clone());
        Some(request)
    }

    /// Keep an alert's search for reuse; past the limit the oldest goes.
    fn cache_alert_search(&mut self, fingerprint: String, search: RagSearch) {
        if self.alert_cache.len() >= ALERT_CACHE_MAX && !self.alert_cache.contains_key(&fingerprint) {
            let oldest = self.alert_cache.iter().min_by_key(|(_, s)| s.at).map(|(k, _)| k.clone());
            oldest.map(|k| self.alert_cache.remove(&k));
        }
        self.alert_cache.insert(fingerprint, search);
    }

    /// How many alert searches are kept.
    pub fn cached_alert_searches(&self) -> usize {
        self.alert_cache.len()
    }

    /// Search for a typed query, remembering it for ↑/↓.
    pub fn submit(&mut self, query: &str, now: DateTime<Utc>) -> Option<RagRequest> {
        let query = query.trim().to_string();
        if query.is_empty() {
            return None;
        }
        self.history.retain(|q| *q != query);
        self.history.push(query.clone());
        if self.history.len() > HISTORY_MAX {
            self.history.remove(0);
        }
        self.follow = Follow::Query;
        // Typing the same query again searches again.
        self.subject = None;
        self.set_subject(Subject::Query(query), now)
    }

    /// The job the pane wants the details of (for its stored hits).
    pub fn followed_job(&self) -> Option<&str> {
        match &self.subject {
            Some(Subject::Job(id)) => Some(id),
            _ => None,
        }
    }

    /// A job's details arrived: keep its hits if the pane is about that job.
    pub fn on_detail(&mut self, id: &str, detail: Option<&JobDetail>, at: DateTime<Utc>) {
        if self.followed_job() == Some(id) {
            let hits = detail.and_then(|d| d.rag_hits.clone());
            self.job_hits.loaded(hits, at);
            let len = self.hits().len();
            self.cursor.selected = self.cursor.selected.min(len.saturating_sub(1));
        }
    }

    pub fn on_detail_failed(&mut self, message: String, at: DateTime<Utc>, retry_at: DateTime<Utc>) {
        if self.followed_job().is_some() {
            self.job_hits.failed(message, at, retry_at);
        }
    }

    /// Apply a runtime message about the knowledge base; false if it is about something else.
    pub fn on_source(&mut self, msg: &SourceMsg) -> bool {
        match msg {
            SourceMsg::KbStatsLoaded(s, at) => self.stats.loaded(s.clone(), *at),
            SourceMsg::Failed { feed: Feed::Knowledge, error, at, retry_at } => {
                self.stats.failed(error.to_string(), *at, *retry_at)
            }
            SourceMsg::RagSearched { request, result, at } => {
                if self.pending.as_ref().map(|p| p.id) != Some(request.id) {
                    return true; // an answer nobody waits for any more
                }
                self.pending = None;
                match result {
                    Ok(s) => {
                        if let Some(Subject::Alert { fingerprint, .. }) = &self.subject {
                            self.cache_alert_search(fingerprint.clone(), s.clone());
                        }
                        self.search.loaded(s.clone(), *at);
                        self.cursor = Cursor::default();
                    }
                    // A search is not retried by itself: the next selection or Enter asks again.
                    Err(e) => self.search.failed(e.clone(), *at, *at),
                }
            }
            _ => return false,
        }
        true
    }
}

/// The query a live search for an alert uses: its name, summary (or description) and where.
pub fn alert_query(alert: &Alert) -> String {
    let mut parts = vec![alert.name().to_string()];
    let summary = ["summary", "description"].iter().find_map(|k| alert.annotations.get(*k)).map(|s| s.as_str());
    if let Some(s) = summary {
        parts.push(s.lines().next().unwrap_or_default().to_string());
    }
    for label in ["instance", "host", "hostname", "service", "job"] {
        if let Some(v) = alert.labels.get(label)
            && !parts.iter().any(|p| p.contains(v.as_str()))
        {
            parts.push(v.clone());
        }
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::rag::Embedder;

    fn answer(request: &RagRequest, n: usize, at: DateTime<Utc>) -> SourceMsg {
        let hits = (0..n)
            .map(|i| RagHit::new(serde_json::json!(i), Some(0.9 - i as f64 * 0.01), "t", serde_json::Value::Null))
            .collect();
        let search = RagSearch {
            query: request.query.clone(),
            top_k: request.top_k,
            threshold: request.threshold,
            hits,
            candidates: n,
            embedder: Embedder::Demo,
            fallback_reason: None,
            embed_ms: 0,
            db_ms: 0,
            at,
        };
        SourceMsg::RagSearched { request: request.clone(), result: Ok(search), at }
    }

    #[test]
    fn only_the_latest_answer_counts_and_history_is_deduplicated() {
        let now = Utc::now();
        let mut s = RagState::new(true, 5, 0.7);
        let first = s.submit("disk full", now).unwrap_or_else(|| unreachable!());
        let second = s.submit("cpu high", now).unwrap_or_else(|| unreachable!());
        assert!(s.on_source(&answer(&first, 3, now)));
        assert!(s.search.data.is_none(), "an answer to an older query is dropped");
        s.on_source(&answer(&second, 2, now));
        assert_eq!(s.hits().len(), 2);
        s.submit("disk full", now);
        assert_eq!(s.history, vec!["cpu high".to_string(), "disk full".to_string()]);
        assert_eq!(s.submit("   ", now), None);
    }

    #[test]
    fn alert_searches_are_cached_for_a_while() {
        let now = Utc::now();
        let mut s = RagState::new(true, 5, 0.7);
        let subject = |fp: &str| Subject::Alert { fingerprint: fp.into(), name: "X".into(), query: "x".into() };
        let r = s.set_subject(subject("a"), now).unwrap_or_else(|| unreachable!());
        s.on_source(&answer(&r, 1, now));
        assert!(s.set_subject(subject("b"), now).is_some());
        assert_eq!(s.set_subject(subject("a"), now), None, "a cached answer is reused");
        assert_eq!(s.hits().len(), 1);
        s.subject = None;
        assert!(s.set_subject(subject("a"), now + Duration::seconds(600)).is_some(), "an old answer is not");
    }

    #[test]
    fn the_alert_cache_is_bounded() {
        let now = Utc::now();
        let mut s = RagState::new(true, 5, 0.7);
        for i in 0..ALERT_CACHE_MAX + 50 {
            let subject = Subject::Alert { fingerprint: format!("f{i}"), name: "X".into(), query: "x".into() };
            let r = s.set_subject(subject, now + Duration::seconds(i as i64)).unwrap_or_else(|| unreachable!());
            s.on_source(&answer(&r, 1, now + Duration::seconds(i as i64)));
        }
        assert_eq!(s.cached_alert_searches(), ALERT_CACHE_MAX);
    }
}
