//! Progress of a backup, verify or restore: bytes done, the current item, a rate and an ETA that
//! do not jump — both measured over the last 10 s, not since the last chunk — and whether the
//! total is an estimate.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde::Serialize;

/// Where progress goes: the TUI's pane, the CLI's bar or JSON lines.
pub type ProgressSink = std::sync::Arc<dyn Fn(&Progress) + Send + Sync>;

/// What the TUI and the CLI show.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Progress {
    /// `backup`, `verify`, `restore`.
    pub phase: &'static str,
    pub item: String,
    pub done: u64,
    /// The expected total; an estimate while `estimated`.
    pub total: Option<u64>,
    pub estimated: bool,
    pub bytes_per_s: f64,
    pub eta_s: Option<f64>,
    pub elapsed_s: f64,
}

/// Measures bytes over a sliding window.
pub struct Meter {
    phase: &'static str,
    started: Instant,
    samples: VecDeque<(Instant, u64)>,
    pub done: u64,
    pub total: Option<u64>,
    pub estimated: bool,
    pub item: String,
    last_report: Option<Instant>,
}

const WINDOW: Duration = Duration::from_secs(10);

impl Meter {
    pub fn new(phase: &'static str, total: Option<u64>, estimated: bool) -> Meter {
        Meter {
            phase,
            started: Instant::now(),
            samples: VecDeque::new(),
            done: 0,
            total,
            estimated,
            item: String::new(),
            last_report: None,
        }
    }

    /// Count `n` more bytes; report at most every 200 ms.
    pub fn add(&mut self, n: u64, report: &dyn Fn(&Progress)) {
        self.done += n;
        let now = Instant::now();
        if self.last_report.is_none_or(|t| now - t >= Duration::from_millis(200)) {
            self.last_report = Some(now);
            report(&self.progress());
        }
    }

    pub fn progress(&mut self) -> Progress {
        let now = Instant::now();
        self.samples.push_back((now, self.done));
        while self.samples.front().is_some_and(|(t, _)| now - *t > WINDOW) && self.samples.len() > 2 {
            self.samples.pop_front();
        }
        let rate = match (self.samples.front(), self.samples.back()) {
            (Some((t0, b0)), Some((t1, b1))) if *t1 > *t0 => (b1 - b0) as f64 / (*t1 - *t0).as_secs_f64(),
            _ => 0.0,
        };
        // A total exceeded by what is done was an underestimate: say nothing rather than lie.
        let eta_s = self.total.filter(|t| *t >= self.done && rate > 0.0).map(|t| (t - self.done) as f64 / rate);
        Progress {
            phase: self.phase,
            item: self.item.clone(),
            done: self.done,
            total: self.total,
            estimated: self.estimated,
            bytes_per_s: rate,
            eta_s,
            elapsed_s: self.started.elapsed().as_secs_f64(),
        }
    }
}
