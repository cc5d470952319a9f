//! The simulated AI pipeline's numbers, derived from the simulated jobs so they agree with the
//! Queue and Jobs panes: analyses are the finished jobs, tickets the approved ones.

use chrono::Duration;

use super::DemoPlatform;
use crate::domain::JobStatus;
use crate::domain::pipeline::{GatewayNumbers, LoadedModel, Part, PipelineSnapshot};

impl DemoPlatform {
    pub(super) fn pipeline_now(&self) -> PipelineSnapshot {
        let st = self.lock();
        let now = st.now;
        let finished = |s: &JobStatus| !matches!(s, JobStatus::Queued | JobStatus::Running | JobStatus::Cancelled);
        let analyses = st.jobs.values().filter(|j| finished(&j.status)).count() as f64;
        let recent =
            st.jobs.values().filter(|j| finished(&j.status) && j.created > now - Duration::minutes(5)).count() as f64;
        let tickets =
            st.tickets.len() as f64 + st.jobs.values().filter(|j| j.status == JobStatus::Approved).count() as f64;
        let queued: usize = st.queues.values().map(|q| q.len()).sum();
        let running = st.jobs.values().filter(|j| j.status == JobStatus::Running).count() as f64;
        let numbers = GatewayNumbers {
            requests_total: Some(analyses * 3.0 + 17.0),
            analyses_completed_total: Some(analyses),
            tickets_created_total: Some(tickets),
            rag_searches_total: Some(analyses * 2.0),
            embeddings_stored_total: Some(analyses + 1_204.0),
            queue_length: Some(queued as f64),
            active_jobs: Some(running),
            analyses_per_min: Some(recent / 5.0),
            rate_window_s: Some(300),
            duration_p50_s: Some(31.5),
            duration_p95_s: Some(54.0),
            duration_window_s: Some(300),
        };
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
