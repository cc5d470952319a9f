//! `mcptop status`: the queue and job snapshot without a TTY, as a table or JSON.

use std::process::ExitCode;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Output;
use super::output::{Align, Table, esc, out, outln};
use crate::config::Settings;
use crate::domain::QueueSnapshot;
use crate::domain::facts::{ContextFacts, Inputs};
use crate::sources::JobSource;

#[derive(Serialize)]
struct StatusReport {
    context: String,
    fetched_at: DateTime<Utc>,
    sources: Vec<SourceStatus>,
    /// The dashboard's facts from this one read (`stalled` is `null` when one read cannot tell).
    summary: ContextFacts,
    queues: Vec<QueueReport>,
    jobs: JobsReport,
}

#[derive(Serialize)]
struct SourceStatus {
    name: String,
    ok: bool,
    error: Option<String>,
    latency_ms: u64,
}

#[derive(Serialize)]
struct QueueReport {
    name: String,
    length: Option<u64>,
    processing: Option<u64>,
    oldest_age_s: Option<f64>,
    enqueued_last_min: u64,
}

#[derive(Serialize)]
struct JobsReport {
    total: Option<u64>,
    by_status: std::collections::BTreeMap<String, u64>,
}

pub async fn status(source: &dyn JobSource, settings: &Settings, output: Output) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let result = tokio::time::timeout(settings.context.timeout() * 2, source.queues()).await;
    let latency_ms = started.elapsed().as_millis() as u64;
    let (snap, error): (Option<QueueSnapshot>, Option<String>) = match result {
        // Keys of the wrong type: the snapshot is partial, and the source is said to fail, in
        // the words the dashboard uses.
        Ok(Ok(s)) if !s.problems.is_empty() => {
            let why = s.problems.join("; ");
            (Some(s), Some(why))
        }
        Ok(Ok(s)) => (Some(s), None),
        Ok(Err(e)) => (None, Some(e.to_string())),
        Err(_) => (None, Some("timed out".into())),
    };
    let now = Utc::now();
    let stall_after =
        chrono::Duration::from_std(settings.context.stall_after()).unwrap_or(chrono::Duration::seconds(120));
    let mut inputs = Inputs::none(now, stall_after);
    inputs.queues = snap.as_ref();
    let report = StatusReport {
        context: settings.context_name.clone(),
        fetched_at: now,
        summary: ContextFacts::derive(inputs),
        sources: vec![SourceStatus { name: source.name().into(), ok: error.is_none(), error, latency_ms }],
        queues: snap
            .iter()
            .flat_map(|s| &s.queues)
            .map(|q| QueueReport {
                name: q.name.clone(),
                length: q.length,
                processing: q.processing,
                oldest_age_s: q.oldest_age_s,
                enqueued_last_min: q.enqueued_last_min,
            })
            .collect(),
        jobs: JobsReport {
            total: snap.as_ref().and_then(|s| s.total_jobs),
            by_status: snap.iter().flat_map(|s| &s.by_status).map(|(k, v)| (k.as_str().to_string(), *v)).collect(),
        },
    };
    match output {
        Output::Json => outln(&super::output::json(&report)?),
        Output::Table => out(&status_table(&report)),
    }
    let ok = report.sources.iter().all(|s| s.ok);
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn status_table(r: &StatusReport) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "context  {}   fetched {}", esc(&r.context), r.fetched_at.format("%Y-%m-%d %H:%M:%S UTC"));
    let f = &r.summary;
    let n = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_else(|| "?".into());
    let stalled = match f.stalled {
        Some(true) => "STALLED",
        Some(false) => "no",
        None => "? (one read cannot tell)",
    };
    let _ = writeln!(
        s,
        "waiting  {}   stalled {stalled}   awaiting approval {}   running {}\n",
        n(f.queued),
        n(f.awaiting_approval),
        n(f.running)
    );
    let mut t =
        Table::new(&[("SOURCE", Align::Left), ("OK", Align::Left), ("LATENCY", Align::Right), ("ERROR", Align::Left)]);
    for src in &r.sources {
        let ok = if src.ok { "yes" } else { "NO" };
        t.row([src.name.as_str(), ok, &format!("{}ms", src.latency_ms), src.error.as_deref().unwrap_or("")]);
    }
    s.push_str(&t.render());
    if !r.queues.is_empty() {
        let mut t = Table::new(&[
            ("QUEUE", Align::Left),
            ("LENGTH", Align::Right),
            ("TAKEN", Align::Right),
            ("OLDEST", Align::Right),
            ("IN/MIN", Align::Right),
        ]);
        for q in &r.queues {
            let oldest = q.oldest_age_s.map(|a| crate::domain::text::age(a as i64)).unwrap_or_else(|| "-".into());
            t.row([q.name.clone(), n(q.length), n(q.processing), oldest, q.enqueued_last_min.to_string()]);
        }
        s.push('\n');
        s.push_str(&t.render());
    }
    if let Some(total) = r.jobs.total {
        let _ = writeln!(s, "\nJOBS {total}");
        for (k, v) in &r.jobs.by_status {
            let _ = writeln!(s, "  {k:<18} {v:>10}");
        }
    }
    s
}
