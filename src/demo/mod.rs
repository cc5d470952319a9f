//! The simulated platform behind `--demo`: the same source interfaces as the real clients
//! (`sources.rs`), actions included, in process, deterministic for a given seed and sequence of clock steps.

mod act;
pub mod backups;
mod data;
pub mod kb;
mod logs;
mod monitors;
mod ops;
mod pipeline;
mod rng;
mod sources;
pub mod worlds;

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Duration, Utc};
use tokio::sync::broadcast;

use crate::domain::JobEvent;
use crate::domain::job::RawFields;
use crate::domain::{Job, JobStatus, JobsPage, JobsQuery, QueueSnapshot, QueueStats};

pub use rng::Rng;

/// The demo's queues.
pub const QUEUES: [&str; 2] = ["analysis", "enrichment"];

#[derive(Debug, Clone)]
struct SimJob {
    fields: RawFields,
    created: DateTime<Utc>,
    status: JobStatus,
    /// When a running job finishes.
    due: Option<DateTime<Utc>>,
}

struct SimState {
    rng: Rng,
    now: DateTime<Utc>,
    next: u64,
    jobs: BTreeMap<String, SimJob>,
    /// Newest first: (created, id).
    order: Vec<(DateTime<Utc>, String)>,
    queues: BTreeMap<String, VecDeque<String>>,
    workers: usize,
    ops: ops::OpsSim,
    ops_rng: Rng,
    silences: Vec<sources::DemoSilence>,
    /// Dedup hash → (job id, until).
    dedup: std::collections::HashMap<String, (String, DateTime<Utc>)>,
    /// Decision locks: job id → (holder, until), by the wall clock.
    locks: std::collections::HashMap<String, (String, DateTime<Utc>)>,
    tickets: Vec<crate::domain::action::Ticket>,
    notifications: Vec<crate::domain::action::Notification>,
    /// The gateway's counters as the simulated platform would export them: analyses completed,
    /// tickets created (approvals of its history and in this run), and the analysis duration
    /// histogram; read through the same window as a real gateway's.
    counters: pipeline::Counters,
}

/// The simulated platform. Cheap to share.
#[derive(Clone)]
pub struct DemoPlatform {
    state: Arc<Mutex<SimState>>,
    events: broadcast::Sender<JobEvent>,
    container_events: broadcast::Sender<String>,
}

impl DemoPlatform {
    /// A platform with two hours of history ending at `now`.
    pub fn new(seed: u64, now: DateTime<Utc>) -> Self {
        Self::with_history(seed, now, 240)
    }

    /// A platform with `history` finished jobs spread over the past, the newest 2 minutes old.
    pub fn with_history(seed: u64, now: DateTime<Utc>, history: usize) -> Self {
        // The operations side has a generator of its own, so adding to it never changes the jobs.
        let mut ops_rng = Rng::new(seed ^ 0x6f70_7300);
        let ops = ops::OpsSim::new(&mut ops_rng, now);
        let mut st = SimState {
            ops,
            ops_rng,
            rng: Rng::new(seed),
            now,
            next: 0,
            jobs: BTreeMap::new(),
            order: Vec::new(),
            queues: QUEUES.iter().map(|q| (q.to_string(), VecDeque::new())).collect(),
            workers: 2,
            silences: Vec::new(),
            dedup: Default::default(),
            locks: Default::default(),
            tickets: Vec::new(),
            notifications: Vec::new(),
            counters: pipeline::Counters::default(),
        };
        let span = 7200.max(history as i64 * 2);
        for i in 0..history {
            let created = now - Duration::seconds(120 + (span - 120) * (history - i) as i64 / history as i64);
            let id = st.create(created);
            let roll = st.rng.below(100);
            let status = match roll {
                0..=54 => JobStatus::Done,
                55..=69 => JobStatus::Failed,
                70..=84 => JobStatus::AwaitingApproval,
                85..=92 => JobStatus::Approved,
                93..=96 => JobStatus::Rejected,
                _ => JobStatus::Cancelled,
            };
            let took = Duration::seconds(20 + st.rng.below(40) as i64);
            st.finish(&id, status, created + took);
        }
        // What the simulated gateway had completed four minutes ago, so its rate is known at once.
        let then = now - Duration::seconds(crate::domain::pipeline::WINDOW_S - 60);
        let analysed = |j: &SimJob| {
            matches!(
                j.status,
                JobStatus::Done | JobStatus::AwaitingApproval | JobStatus::Approved | JobStatus::Rejected
            ) && j
                .fields
                .get("finished_at")
                .and_then(|v| std::str::from_utf8(v).ok())
                .and_then(|v| DateTime::parse_from_rfc3339(v).ok())
                .is_some_and(|f| f <= then)
        };
        let before = st.jobs.values().filter(|j| analysed(j)).count() as u64;
        st.counters.seed(then, before);
        // A backlog so the queue pane has something to show at once.
        for k in 0..6 {
            let id = st.create(now - Duration::seconds(100 - k * 10));
            st.enqueue(&id);
        }
        let (events, _) = broadcast::channel(1024);
        let (container_events, _) = broadcast::channel(256);
        DemoPlatform { state: Arc::new(Mutex::new(st)), events, container_events }
    }

    fn lock(&self) -> MutexGuard<'_, SimState> {
        // A panic while holding the lock cannot leave the simulation half-updated in a way that
        // matters for a demo, so a poisoned lock is simply taken over.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Advance the simulation to `now`, one simulated second at a time.
    pub fn advance(&self, now: DateTime<Utc>) {
        let mut changed = Vec::new();
        let mut containers = Vec::new();
        {
            let mut st = self.lock();
            while st.now + Duration::seconds(1) <= now {
                st.now += Duration::seconds(1);
                st.tick(&mut changed);
                let SimState { ops, ops_rng, now, .. } = &mut *st;
                containers.extend(ops.tick(ops_rng, *now));
            }
        }
        for (job_id, status, at) in changed {
            let _ = self.events.send(JobEvent { job_id: Some(job_id), status: Some(status), at: Some(at) });
        }
        for id in containers {
            let _ = self.container_events.send(id);
        }
    }

    /// Run the simulation against the wall clock until the returned task is aborted.
    pub fn spawn_clock(&self) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
            loop {
                tick.tick().await;
                me.advance(Utc::now());
            }
        })
    }
}

impl SimState {
    fn create(&mut self, created: DateTime<Utc>) -> String {
        self.next += 1;
        let id = format!("{:08x}", self.rng.next_u64() as u32);
        let host = *self.rng.pick(data::HOSTS);
        let (alert, source, desc, ..) = *self.rng.pick(data::ALERTS);
        let severity = *self.rng.pick(data::SEVERITIES);
        let queue = if self.rng.chance(0.8) { QUEUES[0] } else { QUEUES[1] };
        let ts = created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mut fields = RawFields::new();
        for (k, v) in [
            ("id", id.as_str()),
            ("queue", queue),
            ("status", "queued"),
            ("alert_type", alert),
            ("source", source),
            ("hostname", host),
            ("severity", severity),
            ("description", &format!("{desc} on {host}")),
            ("requested_by", source),
            ("created_at", &ts),
            ("updated_at", &ts),
            ("timestamp", &ts),
            ("attempts", "0"),
        ] {
            fields.insert(k.into(), v.as_bytes().to_vec());
        }
        self.jobs.insert(id.clone(), SimJob { fields, created, status: JobStatus::Queued, due: None });
        self.order.insert(0, (created, id.clone()));
        id
    }

    fn enqueue(&mut self, id: &str) {
        let queue =
            self.jobs.get(id).and_then(|j| j.fields.get("queue")).map(|q| String::from_utf8_lossy(q).into_owned());
        if let Some(q) = queue.and_then(|q| self.queues.get_mut(&q)) {
            q.push_front(id.to_string());
        }
    }

    fn set(&mut self, id: &str, status: JobStatus, at: DateTime<Utc>) {
        let ts = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        if let Some(job) = self.jobs.get_mut(id) {
            job.status = status.clone();
            job.fields.insert("status".into(), status.as_str().as_bytes().to_vec());
            job.fields.insert("updated_at".into(), ts.clone().into_bytes());
            if status == JobStatus::Running {
                job.fields.insert("started_at".into(), ts.into_bytes());
                job.fields.insert("attempts".into(), b"1".to_vec());
            } else if status != JobStatus::Queued {
                job.fields.insert("finished_at".into(), ts.into_bytes());
            }
        }
    }

    /// Give a job its outcome: an analysis, knowledge-base hits, a draft or a ticket, an error.
    fn finish(&mut self, id: &str, status: JobStatus, at: DateTime<Utc>) {
        let (alert, host) = match self.jobs.get(id) {
            Some(j) => (text(&j.fields, "alert_type"), text(&j.fields, "hostname")),
            None => return,
        };
        self.set(id, status.clone(), at);
        let took = self.jobs.get(id).map(|j| (at - j.created).num_milliseconds() as f64 / 1000.0).unwrap_or(0.0);
        self.counters.finished(&status, took);
        let (_, _, desc, cause, action) =
            data::ALERTS.iter().find(|a| a.0 == alert).copied().unwrap_or(data::ALERTS[0]);
        let confidence = 0.55 + self.rng.below(40) as f64 / 100.0;
        // What the worker would have found: the nearest entries to the alert, as stored on jobs.
        let hits: Vec<serde_json::Value> = kb::nearest(&format!("{alert} {desc} {host}"), 3)
            .into_iter()
            .filter(|h| h.score.is_some_and(|s| s >= 0.7))
            .map(|h| serde_json::json!({"id": h.id, "score": h.score, "text": h.text, "metadata": h.metadata}))
            .collect();
        let mut put = |k: &str, v: String| {
            if let Some(j) = self.jobs.get_mut(id) {
                j.fields.insert(k.into(), v.into_bytes());
            }
        };
        if status == JobStatus::Failed {
            put("error", "LiteLLM: upstream Ollama timed out after 120 s".into());
            return;
        }
        if status == JobStatus::Cancelled {
            return;
        }
        put(
            "analysis",
            serde_json::json!({"summary": format!("{desc} on {host}"), "root_cause": cause,
            "impact": format!("{host} may stop serving requests"), "immediate_action": action,
            "priority": 2, "confidence": confidence, "model": "ollama/llama3.1:8b"})
            .to_string(),
        );
        put("rag_hits", serde_json::Value::Array(hits).to_string());
        let title = format!("[job {id}] {alert} on {host}");
        match status {
            JobStatus::AwaitingApproval => put(
                "ticket_draft",
                serde_json::json!({"title": title, "group": "Operations", "priority": "2 normal",
                    "body": format!("{desc}.\n\nRoot cause: {cause}.\nAction: {action}.")})
                .to_string(),
            ),
            JobStatus::Approved | JobStatus::Rejected => {
                put("decided_by", "mcptop:alice@ops-laptop".into());
                put("decided_at", at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
                if status == JobStatus::Approved {
                    put("ticket_id", format!("{}", 4000 + self.next));
                    put("ticket_number", format!("{}", 86000 + self.next));
                } else {
                    put("decision_note", "duplicate of an open ticket".into());
                }
            }
            _ => {}
        }
    }

    /// One simulated second: arrivals follow a slow wave, two workers take and finish jobs.
    fn tick(&mut self, changed: &mut Vec<(String, JobStatus, DateTime<Utc>)>) {
        let now = self.now;
        let phase = (now.timestamp() % 600) as f64 / 600.0 * std::f64::consts::TAU;
        if self.rng.chance(0.18 + 0.14 * phase.sin()) {
            let id = self.create(now);
            self.enqueue(&id);
            changed.push((id, JobStatus::Queued, now));
        }
        let due: Vec<String> = self
            .jobs
            .iter()
            .filter(|(_, j)| j.status == JobStatus::Running && j.due.is_some_and(|d| d <= now))
            .map(|(id, _)| id.clone())
            .collect();
        for id in due {
            let status = match self.rng.below(100) {
                0..=39 => JobStatus::AwaitingApproval,
                40..=84 => JobStatus::Done,
                _ => JobStatus::Failed,
            };
            self.finish(&id, status.clone(), now);
            changed.push((id, status, now));
        }
        let running = self.jobs.values().filter(|j| j.status == JobStatus::Running).count();
        for _ in running..self.workers {
            // Workers take from the tail (oldest), the first queue first.
            let taken = self.queues.values_mut().find_map(|q| q.pop_back());
            let Some(id) = taken else { break };
            if self.rng.chance(0.5) {
                let due = now + Duration::seconds(4 + self.rng.below(10) as i64);
                self.set(&id, JobStatus::Running, now);
                if let Some(j) = self.jobs.get_mut(&id) {
                    j.due = Some(due);
                }
                changed.push((id, JobStatus::Running, now));
            } else if let Some(q) = self.queues.values_mut().next() {
                q.push_back(id); // the worker was busy this second; put it back
            }
        }
    }

    fn snapshot(&self) -> QueueSnapshot {
        let now = self.now;
        let queues = self
            .queues
            .iter()
            .map(|(name, q)| {
                // Waiting since it was queued (`updated_at` of a queued job), as Redis says it.
                let queued_at = |j: &SimJob| {
                    j.fields
                        .get("updated_at")
                        .and_then(|v| std::str::from_utf8(v).ok())
                        .and_then(|v| DateTime::parse_from_rfc3339(v).ok())
                        .map(|t| t.with_timezone(&Utc))
                        .unwrap_or(j.created)
                };
                let oldest = q.back().and_then(|id| self.jobs.get(id).map(|j| (id.clone(), queued_at(j))));
                QueueStats {
                    name: name.clone(),
                    length: Some(q.len() as u64),
                    processing: Some(0),
                    oldest_age_s: oldest.as_ref().map(|(_, c)| (now - *c).num_milliseconds() as f64 / 1000.0),
                    oldest_id: oldest.map(|(id, _)| id),
                    enqueued_last_min: self
                        .order
                        .iter()
                        .take_while(|(c, _)| now - *c <= Duration::seconds(60))
                        .filter(|(_, id)| {
                            self.jobs
                                .get(id)
                                .is_some_and(|j| j.fields.get("queue").map(|v| v.as_slice()) == Some(name.as_bytes()))
                        })
                        .count() as u64,
                }
            })
            .collect();
        let by_status = JobStatus::ALL
            .iter()
            .map(|s| (s.clone(), self.jobs.values().filter(|j| &j.status == s).count() as u64))
            .collect();
        QueueSnapshot {
            queues,
            by_status,
            total_jobs: Some(self.jobs.len() as u64),
            problems: Vec::new(),
            server_time: now,
            fetched_at: now,
        }
    }

    fn page(&self, query: JobsQuery) -> JobsPage {
        let needle = query.filter.trim().to_ascii_lowercase();
        let wanted = query.status.clone().or(query.failures_only.then_some(JobStatus::Failed));
        let keep = |job: &SimJob| wanted.as_ref().is_none_or(|s| &job.status == s);
        let mut order: Vec<&(DateTime<Utc>, String)> = self.order.iter().collect();
        if wanted.is_some() {
            // A status set is ordered by `updated_at`, as in Redis.
            let updated = |id: &String| self.jobs.get(id).and_then(|j| j.fields.get("updated_at").cloned());
            order.sort_by_key(|b| std::cmp::Reverse(updated(&b.1)));
        }
        if query.oldest_first && needle.is_empty() {
            order.reverse();
        }
        let rows = order.into_iter().filter_map(|(c, id)| {
            let job = self.jobs.get(id)?;
            keep(job).then(|| Job::from_fields(id, Some(c.timestamp_millis() as f64), &job.fields))
        });
        let total = self.jobs.values().filter(|j| keep(j)).count();
        let (jobs, scanned) = if needle.is_empty() {
            (rows.skip(query.offset).take(query.limit).collect(), None)
        } else {
            (rows.filter(|j| j.matches(&needle)).skip(query.offset).take(query.limit).collect(), Some(total as u64))
        };
        JobsPage { query, total: total as u64, scanned, jobs, fetched_at: self.now }
    }
}

fn text(fields: &RawFields, name: &str) -> String {
    fields.get(name).map(|v| String::from_utf8_lossy(v).into_owned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::JobSource;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 3, 0, 0).single().unwrap_or_default()
    }

    #[tokio::test]
    async fn same_seed_same_platform() {
        let (a, b) = (DemoPlatform::new(7, t0()), DemoPlatform::new(7, t0()));
        a.advance(t0() + Duration::seconds(300));
        b.advance(t0() + Duration::seconds(300));
        let q = JobsQuery { limit: 50, ..Default::default() };
        assert_eq!(a.jobs(q.clone()).await.ok(), b.jobs(q.clone()).await.ok());
        assert_eq!(a.queues().await.ok(), b.queues().await.ok());
        let c = DemoPlatform::new(8, t0());
        c.advance(t0() + Duration::seconds(300));
        assert_ne!(a.jobs(q.clone()).await.ok(), c.jobs(q).await.ok());
    }

    #[tokio::test]
    async fn jobs_move_through_their_states() {
        let demo = DemoPlatform::new(1, t0());
        let before = demo.queues().await.ok().and_then(|s| s.total_jobs).unwrap_or(0);
        demo.advance(t0() + Duration::seconds(600));
        let snap = demo.queues().await.ok();
        assert!(snap.as_ref().and_then(|s| s.total_jobs).unwrap_or(0) > before);
        let failed = demo.jobs(JobsQuery { failures_only: true, limit: 10, ..Default::default() }).await.ok();
        assert!(failed.is_some_and(|p| !p.jobs.is_empty() && p.jobs.iter().all(|j| j.status == JobStatus::Failed)));
    }
}
