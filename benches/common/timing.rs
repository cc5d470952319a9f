//! Timing helpers shared by the benches that measure against real services.
#![allow(dead_code)]

use std::time::Instant;

/// Median and 95th percentile of samples in ms.
pub fn stats(mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(|a, b| a.total_cmp(b));
    (ms[ms.len() / 2], ms[(ms.len() * 95 / 100).min(ms.len() - 1)])
}

/// Median and 95th percentile, in ms, of `n` runs of `f` on `rt`.
pub fn time<F: std::future::Future>(rt: &tokio::runtime::Runtime, f: impl Fn() -> F, n: usize) -> (f64, f64) {
    let samples = (0..n)
        .map(|_| {
            let t = Instant::now();
            rt.block_on(f());
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    stats(samples)
}
