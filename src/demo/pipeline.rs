//! The simulated AI pipeline: counters the simulated gateway would export (analyses completed,
//! tickets created, the analysis duration histogram), kept as jobs finish and tickets are
//! opened, and read through the same [`Window`] as a real gateway's, so the rate is analyses
//! completed per minute, derived the one way.

use chrono::Duration;

use super::DemoPlatform;
use crate::domain::JobStatus;
use crate::domain::pipeline::{Buckets, GatewayNumbers, LoadedModel, Part, PipelineSnapshot, Window};

/// Upper bounds of the simulated duration histogram, in seconds (the last is `+Inf`).
const BOUNDS: [f64; 9] = [5.0, 10.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, f64::INFINITY];

/// The simulated gateway's counters.
#[derive(Debug, Clone, Default)]
pub(super) struct Counters {
    /// Analyses completed: jobs that finished with an analysis (not failed, not cancelled).
    pub analyses: u64,
    /// Tickets created (Zammad).
    pub tickets: u64,
    /// Cumulative counts per bound of [`BOUNDS`].
    buckets: [u64; 9],
    /// The window the pipeline's reads go through.
    window: Window,
}

impl Counters {
    /// A job finished with `status` after `took_s` seconds.
    pub fn finished(&mut self, status: &JobStatus, took_s: f64) {
        if matches!(status, JobStatus::Failed | JobStatus::Cancelled) {
            return;
        }
        self.analyses += 1;
        // An approved job of the history had its ticket opened then.
        if *status == JobStatus::Approved {
            self.tickets += 1;
        }
        for (bound, n) in BOUNDS.iter().zip(self.buckets.iter_mut()) {
            if took_s <= *bound {
                *n += 1;
            }
        }
    }

    /// The read a gateway watched for minutes would have had then: `analyses` completed
    /// by `at`. The first rate is then known at once, as for a dashboard started long ago.
    pub fn seed(&mut self, at: chrono::DateTime<chrono::Utc>, analyses: u64) {
        let mut then = GatewayNumbers { analyses_completed_total: Some(analyses as f64), ..GatewayNumbers::default() };
        self.window.apply(at, &mut then, None);
    }

    fn histogram(&self) -> Buckets {
        BOUNDS.iter().zip(self.buckets).map(|(b, n)| (*b, n as f64)).collect()
    }
}

impl DemoPlatform {
    pub(super) fn pipeline_now(&self) -> PipelineSnapshot {
        let mut st = self.lock();
        let now = st.now;
        let queued: usize = st.queues.values().map(|q| q.len()).sum();
        let running = st.jobs.values().filter(|j| j.status == JobStatus::Running).count() as f64;
        let c = &st.counters;
        let analyses = c.analyses as f64;
        let buckets = c.histogram();
        let mut numbers = GatewayNumbers {
            requests_total: Some(analyses * 3.0 + 17.0),
            analyses_completed_total: Some(analyses),
            tickets_created_total: Some(c.tickets as f64),
            rag_searches_total: Some(analyses * 2.0),
            embeddings_stored_total: Some(analyses + 1_204.0),
            queue_length: Some(queued as f64),
            active_jobs: Some(running),
            duration_p50_s: crate::domain::pipeline::quantile(0.5, &buckets),
            duration_p95_s: crate::domain::pipeline::quantile(0.95, &buckets),
            ..GatewayNumbers::default()
        };
        st.counters.window.apply(now, &mut numbers, Some(buckets));
        let gib = 1024 * 1024 * 1024;
        let loaded = vec![
            LoadedModel {
                name: "llama3.1:8b".into(),
                size: Some(6 * gib),
                size_vram: Some(5 * gib),
                expires_at: Some(now + Duration::minutes(4)),
            },
            LoadedModel {
                name: "nomic-embed-text:latest".into(),
                size: Some(gib / 2),
                size_vram: Some(gib / 2),
                expires_at: Some(now + Duration::minutes(3)),
            },
        ];
        let models = vec!["llama3.1-8b".to_string(), "nomic-embed".to_string(), "qwen2.5-14b".to_string()];
        PipelineSnapshot {
            gateway: Part::ok(numbers, now),
            litellm_models: Part::ok(models, now),
            ollama_loaded: Part::ok(loaded, now),
            fetched_at: now,
        }
    }
}
