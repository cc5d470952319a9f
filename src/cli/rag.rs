//! `mcptop rag search` and `mcptop rag stats`: the knowledge base without a TTY.

use std::fmt::Write;
use std::process::ExitCode;

use clap::Subcommand;

use super::Output;
use super::output::{Align, Table, errln, esc, out, outln};
use crate::domain::rag::{KbStats, RagSearch};
use crate::domain::text::count;
use crate::sources::KnowledgeSource;

#[derive(Debug, Subcommand)]
pub enum RagCommand {
    /// Embed QUERY and show the most similar knowledge-base entries; exit 1 if the search failed.
    Search {
        /// What to look for, in words (embedded as the knowledge base's entries are).
        query: String,
        /// How many nearest entries to fetch (default: the context's top_k, 5).
        #[arg(long)]
        top_k: Option<usize>,
        /// Lowest similarity shown, 1 − cosine distance (default: the context's threshold, 0.7).
        #[arg(long)]
        threshold: Option<f64>,
    },
    /// Size, dimensions and index of the knowledge base; exit 1 if it cannot be read.
    Stats,
}

pub async fn run(
    command: &RagCommand,
    rag: Option<&dyn KnowledgeSource>,
    context: &str,
    output: Output,
) -> anyhow::Result<ExitCode> {
    let Some(rag) = rag else {
        errln(&format!(
            "mcptop: no knowledge_base configured for context {} (see config/mcptop.example.toml), or try --demo",
            esc(&format!("{context:?}"))
        ));
        return Ok(ExitCode::from(2));
    };
    match command {
        RagCommand::Search { query, top_k, threshold } => {
            let d = rag.defaults();
            let top_k = top_k.unwrap_or(d.top_k);
            if !(1..=1000).contains(&top_k) {
                anyhow::bail!("--top-k must be between 1 and 1000");
            }
            let threshold = threshold.unwrap_or(d.threshold);
            if !(-1.0..=1.0).contains(&threshold) {
                anyhow::bail!("--threshold must be a cosine similarity between -1 and 1");
            }
            print_result(
                rag.search(query, top_k, threshold).await,
                output,
                search_table,
                "knowledge-base search failed",
            )
        }
        RagCommand::Stats => print_result(rag.stats().await, output, stats_table, "knowledge base"),
    }
}

/// Print an answer as a table or JSON (exit 0), or the error (exit 1).
fn print_result<T: serde::Serialize>(
    result: Result<T, crate::clients::RagError>,
    output: Output,
    table: fn(&T) -> String,
    failed: &str,
) -> anyhow::Result<ExitCode> {
    match result {
        Ok(v) => {
            match output {
                Output::Table => out(&table(&v)),
                Output::Json => outln(&super::output::json(&v)?),
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            errln(&format!("mcptop: {failed}: {}", esc(&e.to_string())));
            Ok(ExitCode::from(1))
        }
    }
}

fn search_table(s: &RagSearch) -> String {
    let mut out = String::new();
    let via = match &s.fallback_reason {
        Some(why) => format!("{} (fallback: {})", s.embedder.name(), esc(why)),
        None => s.embedder.name().to_string(),
    };
    let _ = writeln!(
        out,
        "query {} · top {} · threshold {:.2} · via {via} · embed {} ms · db {} ms",
        esc(&format!("{:?}", s.query)),
        s.top_k,
        s.threshold,
        s.embed_ms,
        s.db_ms
    );
    if s.hits.is_empty() {
        let below = count(s.candidates as u64, "candidate", "candidates");
        let _ = writeln!(out, "no hits at or above {:.2} ({below} below it)", s.threshold);
        return out;
    }
    let mut t =
        Table::new(&[("SCORE", Align::Left), ("ID", Align::Left), ("SOURCE", Align::Left), ("TEXT", Align::Left)]);
    for h in &s.hits {
        let score = h.score.map(|s| format!("{s:.3}")).unwrap_or_else(|| "?".into());
        let source = h.source().unwrap_or_else(|| "-".into());
        t.row([score.as_str(), &h.id_label(), &source, &crate::domain::text::ellipsize(&h.snippet(), 100)]);
    }
    out.push_str(&t.render());
    let n = count(s.candidates as u64, "candidate", "candidates");
    let _ = writeln!(out, "{} of {n} at or above {:.2}", s.hits.len(), s.threshold);
    out
}

fn stats_table(s: &KbStats) -> String {
    let rows = match (s.rows, s.rows_estimated) {
        (Some(n), true) => format!("~{n} (estimate from the catalog)"),
        (Some(n), false) => n.to_string(),
        (None, _) => "unknown".into(),
    };
    let mut out = String::new();
    let _ = writeln!(out, "table       {}", esc(&s.table));
    let _ = writeln!(out, "rows        {rows}");
    let _ = writeln!(out, "dimensions  {}", s.dimensions.map(|d| d.to_string()).unwrap_or_else(|| "unknown".into()));
    let _ = writeln!(out, "index       {}", esc(s.index.as_deref().unwrap_or("none")));
    if let Some(note) = &s.index_note {
        let _ = writeln!(out, "note        {}", esc(note));
    }
    let _ = writeln!(out, "pgvector    {}", esc(s.extension.as_deref().unwrap_or("?")));
    out
}
