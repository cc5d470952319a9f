//! The AI pipeline's own numbers: the gateway's `/metrics` (CONTRACT.md §2), the models LiteLLM
//! offers and the ones Ollama has loaded (APIS.md §6). Each part is fetched and fails on its own,
//! and keeps its last good value with the time it was read.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// One part of the pipeline: its last good value, when that was read, and the last error.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Part<T> {
    /// Whether the context configures this part at all.
    pub configured: bool,
    pub data: Option<T>,
    /// When `data` was read.
    pub fetched_at: Option<DateTime<Utc>>,
    /// The last try's error; `data` is then older than this try.
    pub error: Option<String>,
}

impl<T> Part<T> {
    pub fn off() -> Self {
        Part { configured: false, data: None, fetched_at: None, error: None }
    }

    pub fn ok(data: T, at: DateTime<Utc>) -> Self {
        Part { configured: true, data: Some(data), fetched_at: Some(at), error: None }
    }

    /// This try failed: keep what the last good one had.
    pub fn failed(previous: Option<&Part<T>>, error: String) -> Self
    where
        T: Clone,
    {
        Part {
            configured: true,
            data: previous.and_then(|p| p.data.clone()),
            fetched_at: previous.and_then(|p| p.fetched_at),
            error: Some(error),
        }
    }
}

/// What the gateway's counters, gauges and duration histogram say. A metric the gateway does not
/// export is `None` (shown as unknown), never 0.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GatewayNumbers {
    pub requests_total: Option<f64>,
    pub analyses_completed_total: Option<f64>,
    pub tickets_created_total: Option<f64>,
    pub rag_searches_total: Option<f64>,
    pub embeddings_stored_total: Option<f64>,
    pub queue_length: Option<f64>,
    pub active_jobs: Option<f64>,
    /// Analyses completed per minute over `rate_window_s` (needs two reads).
    pub analyses_per_min: Option<f64>,
    pub rate_window_s: Option<u64>,
    /// Analysis duration quantiles from the histogram's buckets, in seconds.
    pub duration_p50_s: Option<f64>,
    pub duration_p95_s: Option<f64>,
    /// The span the quantiles cover: the last reads' window when analyses finished in it, else
    /// `None` for everything since the gateway started.
    pub duration_window_s: Option<u64>,
}

/// A model Ollama holds in memory (`GET /api/ps`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadedModel {
    pub name: String,
    /// Bytes in memory, and of those in GPU memory.
    pub size: Option<u64>,
    pub size_vram: Option<u64>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Everything the pipeline strip and `mcptop pipeline` show.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PipelineSnapshot {
    pub gateway: Part<GatewayNumbers>,
    /// Model names LiteLLM offers (`GET /v1/models`).
    pub litellm_models: Part<Vec<String>>,
    pub ollama_loaded: Part<Vec<LoadedModel>>,
    pub fetched_at: DateTime<Utc>,
}

impl PipelineSnapshot {
    /// Whether every configured part answered this time.
    pub fn all_ok(&self) -> bool {
        [self.gateway.error.is_none(), self.litellm_models.error.is_none(), self.ollama_loaded.error.is_none()]
            .iter()
            .all(|ok| *ok)
    }
}

impl GatewayNumbers {
    /// The analysis rate as every view says it: `7.0/min (5m)`, or why it is not known yet.
    pub fn rate_text(&self) -> String {
        match (self.analyses_per_min, self.rate_window_s) {
            (Some(r), Some(w)) => format!("{r:.1}/min ({})", super::text::age(w as i64)),
            (Some(r), None) => format!("{r:.1}/min"),
            _ => "?/min (needs two reads)".into(),
        }
    }
}

/// Reads older than this are dropped; rates and recent quantiles cover at most this span.
pub const WINDOW_S: i64 = 300;

/// One read of the counters the rate and the recent quantiles are computed from.
#[derive(Debug, Clone)]
struct Read {
    at: DateTime<Utc>,
    analyses: Option<f64>,
    buckets: Option<Buckets>,
}

/// The last reads of a gateway's counters (five minutes of them): what turns counters into the
/// analysis rate and the recent duration quantiles. The real gateway's client and the demo
/// keep one each, so both rates are the one derivation: analyses *completed* in the window.
#[derive(Debug, Clone, Default)]
pub struct Window {
    reads: std::collections::VecDeque<Read>,
}

impl Window {
    /// Fold this read (`numbers` as read at `now`, with the duration histogram's buckets) into
    /// the window, and fill in the rate and the window's quantiles.
    pub fn apply(&mut self, now: DateTime<Utc>, numbers: &mut GatewayNumbers, buckets: Option<Buckets>) {
        while self.reads.front().is_some_and(|r| (now - r.at).num_seconds() > WINDOW_S) {
            self.reads.pop_front();
        }
        // A counter that went down means the gateway restarted: reads from before say nothing
        // about the rate since.
        let restarted = self.reads.back().is_some_and(|last| {
            let fell = |now: Option<f64>, then: Option<f64>| matches!((now, then), (Some(n), Some(t)) if n < t);
            fell(numbers.analyses_completed_total, last.analyses)
                || buckets.as_ref().zip(last.buckets.as_ref()).is_some_and(|(n, t)| bucket_delta(n, t).is_none())
        });
        if restarted {
            self.reads.clear();
        }
        if let Some(oldest) = self.reads.front() {
            let span = (now - oldest.at).num_seconds();
            if span >= 1 {
                if let (Some(n), Some(o)) = (numbers.analyses_completed_total, oldest.analyses)
                    && n >= o
                {
                    numbers.analyses_per_min = Some((n - o) * 60.0 / span as f64);
                    numbers.rate_window_s = Some(span as u64);
                }
                let recent = buckets.as_ref().zip(oldest.buckets.as_ref()).and_then(|(n, o)| bucket_delta(n, o));
                if let Some(delta) = recent.filter(|d| d.last().is_some_and(|(_, c)| *c > 0.0)) {
                    numbers.duration_p50_s = quantile(0.5, &delta);
                    numbers.duration_p95_s = quantile(0.95, &delta);
                    numbers.duration_window_s = Some(span as u64);
                }
            }
        }
        self.reads.push_back(Read { at: now, analyses: numbers.analyses_completed_total, buckets });
    }
}

/// Cumulative histogram buckets `(upper bound, count)`, sorted by bound, the last `+Inf`.
pub type Buckets = Vec<(f64, f64)>;

/// The `q` quantile of a cumulative histogram, as Prometheus's `histogram_quantile` estimates it:
/// linear within the bucket the rank falls in; the highest finite bound when it falls in `+Inf`.
/// `None` without observations.
pub fn quantile(q: f64, buckets: &[(f64, f64)]) -> Option<f64> {
    let total = buckets.last()?.1;
    if total.is_nan() || total <= 0.0 || !q.is_finite() {
        return None;
    }
    let rank = q.clamp(0.0, 1.0) * total;
    let mut lower = (0.0, 0.0);
    for &(bound, count) in buckets {
        if count >= rank {
            if bound.is_infinite() {
                return Some(lower.0);
            }
            let in_bucket = count - lower.1;
            let start = if lower.0 == 0.0 && bound <= 0.0 { bound } else { lower.0 };
            return Some(if in_bucket > 0.0 { start + (bound - start) * (rank - lower.1) / in_bucket } else { bound });
        }
        lower = (bound, count);
    }
    None
}

/// `now - then`, bucket by bucket (both cumulative over the same bounds); `None` when the bounds
/// differ or a count went down (the gateway restarted).
pub fn bucket_delta(now: &[(f64, f64)], then: &[(f64, f64)]) -> Option<Buckets> {
    if now.len() != then.len() {
        return None;
    }
    now.iter().zip(then).map(|(&(b, n), &(b0, t))| (b == b0 && n >= t).then_some((b, n - t))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_inside_the_bucket_like_prometheus() {
        let b = vec![(1.0, 10.0), (5.0, 60.0), (10.0, 90.0), (f64::INFINITY, 100.0)];
        // Rank 50 falls in (1, 5]: 40 of 50 in that bucket → 1 + 4 × 40/50.
        assert_eq!(quantile(0.5, &b), Some(4.2));
        // Rank 95 falls in +Inf: the highest finite bound.
        assert_eq!(quantile(0.95, &b), Some(10.0));
        assert_eq!(quantile(0.05, &b), Some(0.5));
        assert_eq!(quantile(0.5, &[(1.0, 0.0), (f64::INFINITY, 0.0)]), None, "no observations");
        assert_eq!(quantile(0.5, &[]), None);
    }

    #[test]
    fn deltas_refuse_a_reset_or_other_bounds() {
        let then = vec![(1.0, 5.0), (f64::INFINITY, 8.0)];
        let now = vec![(1.0, 7.0), (f64::INFINITY, 12.0)];
        assert_eq!(bucket_delta(&now, &then), Some(vec![(1.0, 2.0), (f64::INFINITY, 4.0)]));
        assert_eq!(bucket_delta(&then, &now), None, "counts went down: a restart");
        assert_eq!(bucket_delta(&now, &[(2.0, 5.0), (f64::INFINITY, 8.0)]), None);
    }
}
