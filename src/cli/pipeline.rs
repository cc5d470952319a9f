//! `mcptop pipeline`: the AI pipeline's numbers as the strip under the header shows them; exit 1
//! when a configured part (gateway, LiteLLM, Ollama) did not answer.

use std::fmt::Write;
use std::process::ExitCode;

use super::Output;
use super::output::{esc, out, outln};
use crate::domain::pipeline::{Part, PipelineSnapshot};
use crate::sources::OpsSource;
use crate::tui::panes::pipeline::{bytes, count, seconds};

pub async fn run(ops: &dyn OpsSource, output: Output) -> anyhow::Result<ExitCode> {
    if !ops.configured().pipeline {
        anyhow::bail!(
            "no AI pipeline configured: set gateway_url, or knowledge_base.embeddings.litellm_url / ollama_url"
        );
    }
    let snap = ops.pipeline().await?;
    match output {
        Output::Json => outln(&super::output::json(&snap)?),
        Output::Table => out(&table(&snap)),
    }
    Ok(if snap.all_ok() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn status<T>(p: &Part<T>) -> String {
    match &p.error {
        None if p.configured => "ok".into(),
        None => "not configured".into(),
        Some(e) => format!("FAILED: {}", esc(e)),
    }
}

pub fn table(s: &PipelineSnapshot) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "gateway /metrics: {}", status(&s.gateway));
    if let Some(n) = &s.gateway.data {
        let rows = [
            ("analyses completed", count(n.analyses_completed_total)),
            ("analyses rate", n.rate_text()),
            ("duration p50", seconds(n.duration_p50_s)),
            ("duration p95", seconds(n.duration_p95_s)),
            ("active jobs (gateway)", count(n.active_jobs)),
            ("queue length (gateway)", count(n.queue_length)),
            ("tickets created", count(n.tickets_created_total)),
            ("RAG searches", count(n.rag_searches_total)),
            ("embeddings stored", count(n.embeddings_stored_total)),
            ("requests", count(n.requests_total)),
        ];
        for (k, v) in rows {
            let _ = writeln!(out, "  {k:<24} {v}");
        }
    }
    let _ = writeln!(out, "LiteLLM /v1/models: {}", status(&s.litellm_models));
    for m in s.litellm_models.data.iter().flatten() {
        let _ = writeln!(out, "  {}", esc(m));
    }
    let _ = writeln!(out, "Ollama /api/ps: {}", status(&s.ollama_loaded));
    for m in s.ollama_loaded.data.iter().flatten() {
        let _ = writeln!(out, "  {:<32} {:>7} in memory, {:>7} GPU", esc(&m.name), bytes(m.size), bytes(m.size_vram));
    }
    out
}
