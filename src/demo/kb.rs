//! The demo's knowledge base: past incidents, runbooks and postmortems, searched with a toy
//! embedding (hashed words) that makes texts sharing words similar. The same embedding stands
//! in for a real model in the tests' embeddings stand-in, so their ground truth is computable.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::clients::RagError;
use crate::domain::rag::{Embedder, KbStats, RagHit, RagSearch};

/// Dimensions of the toy embedding (nomic-embed-text's).
pub const DIMENSIONS: usize = 768;

/// (text, source, reference)
pub const ENTRIES: &[(&str, &str, &str)] = &[
    (
        "INC-2291: /var full on db-02 after a logrotate change; fixed by restoring the compress option and rotating /var/log",
        "zammad",
        "#2291",
    ),
    (
        "RUNBOOK disk full: find big files with du -xh /var | sort -h, rotate and compress logs, extend the volume if above 90%",
        "wiki",
        "runbooks/DiskFull",
    ),
    (
        "INC-1873: CPU pinned at 100% by a backup cron overlapping with vacuum on db-01; moved the cron to 03:30",
        "postmortem",
        "PM-1873",
    ),
    (
        "RUNBOOK high CPU: find the process with top, check cron jobs, throttle or stop the runaway job",
        "wiki",
        "runbooks/HighCPU",
    ),
    (
        "RUNBOOK service down 503: restart the upstream pool without dropping sessions, then raise its connection limit",
        "wiki",
        "runbooks/ServiceDown",
    ),
    (
        "INC-2410: SSH brute force from a botnet against fw-edge-1, banned via CrowdSec; SSH port closed to the internet",
        "zammad",
        "#2410",
    ),
    (
        "INC-2002: worker memory leak in the PDF renderer; memory pressure on web-02 until the worker was restarted",
        "postmortem",
        "PM-2002",
    ),
    (
        "RUNBOOK certificate expiring: renew by hand with certbot --manual, then fix the DNS challenge credentials",
        "wiki",
        "runbooks/CertExpiring",
    ),
    (
        "INC-2377: replication lag of 15 minutes on db-02 caused by a long analytical query on the replica; reports moved",
        "zammad",
        "#2377",
    ),
    ("INC-2455: scrape target down after a firewall change on k8s-node-2 blocked port 9100", "zammad", "#2455"),
    (
        "INC-2468: analysis queue backlog above 50 jobs while Ollama was loading a model; workers waited on LiteLLM timeouts",
        "postmortem",
        "PM-2468",
    ),
    (
        "RUNBOOK queue backlog: check the LLM workers, LiteLLM and Ollama health; scale workers or pause low-priority sources",
        "wiki",
        "runbooks/QueueBacklog",
    ),
    (
        "INC-2104: mail-01 disk full from a mail loop; deleted the loop's messages and added a rate limit",
        "zammad",
        "#2104",
    ),
    (
        "INC-2190: TLS certificate on web-01 expired over a weekend; renewal failed on the DNS challenge",
        "postmortem",
        "PM-2190",
    ),
    (
        "INC-2333: high memory on backup-01 during a full backup; swap thrashing slowed the database dumps",
        "zammad",
        "#2333",
    ),
    (
        "RUNBOOK replication lag: cancel long queries on the replica, check network between primary and replica",
        "wiki",
        "runbooks/ReplicationLag",
    ),
];

/// Words too common to say anything about similarity.
const STOP: &[&str] = &[
    "a", "an", "the", "on", "of", "to", "in", "by", "and", "or", "is", "at", "for", "with", "after", "from", "then",
    "its", "was", "were", "be", "as", "it", "if", "than",
];

/// The task prefixes nomic models expect, which say nothing about the text.
pub const PREFIXES: &[&str] = &["search_query: ", "search_document: "];

/// A unit vector from the words of `text`: each word adds ±(1..2) at a place its hash picks.
pub fn toy_embedding(text: &str, dims: usize) -> Vec<f32> {
    let text = PREFIXES.iter().find_map(|p| text.strip_prefix(p)).unwrap_or(text);
    let mut v = vec![0f32; dims.max(1)];
    let lower = text.to_lowercase();
    // Host names like `db-01` stay whole words.
    let words = lower.split(|c: char| !(c.is_alphanumeric() || c == '-')).map(|w| w.trim_matches('-'));
    for word in words.filter(|w| !w.is_empty() && !STOP.contains(w)) {
        // FNV-1a: stable across runs and platforms.
        let h = word.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
        // A weight of 1–2 per word, so texts rarely tie exactly, spread over four places with
        // their own signs, so two words landing on one place by chance barely look alike.
        let weight = 1.0 + ((h >> 20) % 1000) as f32 / 1000.0;
        for k in 0..4u64 {
            let hk = (h ^ k.wrapping_mul(0x9e37_79b9_7f4a_7c15)).wrapping_mul(0xff51_afd7_ed55_8ccd);
            let sign = if (hk >> 33) & 1 == 0 { 1.0 } else { -1.0 };
            v[((hk >> 7) % dims.max(1) as u64) as usize] += sign * weight;
        }
    }
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm == 0.0 {
        v[0] = 1.0;
    } else {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (*x as f64) * (*y as f64)).sum()
}

/// Word-overlap cosines are low next to a real model's, where unrelated texts already score
/// about 0.5 to 0.65; the demo maps them into that range so the default threshold of 0.7 behaves.
fn demo_score(cos: f64) -> f64 {
    ((0.5 + 0.5 * cos.max(0.0).sqrt()) * 1000.0).round() / 1000.0
}

/// The `top_k` entries most similar to `query`, most similar first, with their demo scores.
pub fn nearest(query: &str, top_k: usize) -> Vec<RagHit> {
    let q = toy_embedding(query, DIMENSIONS);
    let mut scored: Vec<(f64, usize)> = ENTRIES
        .iter()
        .enumerate()
        .map(|(i, (text, ..))| (demo_score(cosine(&q, &toy_embedding(text, DIMENSIONS))), i))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored
        .into_iter()
        .take(top_k)
        .map(|(score, i)| {
            let (text, source, reference) = ENTRIES[i];
            RagHit::new(json!(101 + i), Some(score), text, json!({"source": source, "ref": reference}))
        })
        .collect()
}

pub fn stats() -> KbStats {
    KbStats {
        table: "mcp_knowledge".into(),
        rows: Some(ENTRIES.len() as u64),
        rows_estimated: false,
        dimensions: Some(DIMENSIONS as u32),
        index: Some("mcp_knowledge_hnsw (hnsw)".into()),
        index_note: None,
        extension: Some("0.8.2".into()),
    }
}

pub fn search(query: &str, top_k: usize, threshold: f64, now: DateTime<Utc>) -> Result<RagSearch, RagError> {
    let query = query.trim();
    if query.is_empty() {
        return Err(RagError::EmptyQuery);
    }
    let rows = nearest(query, top_k);
    let candidates = rows.len();
    Ok(RagSearch {
        query: query.to_string(),
        top_k,
        threshold,
        hits: rows.into_iter().filter(|h| h.score.is_some_and(|s| s >= threshold)).collect(),
        candidates,
        embedder: Embedder::Demo,
        fallback_reason: None,
        embed_ms: 0,
        db_ms: 0,
        at: now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_words_make_texts_similar_and_prefixes_do_not_count() {
        let q = toy_embedding("search_query: disk full on db-01", DIMENSIONS);
        let same = toy_embedding("disk full db-01", DIMENSIONS);
        assert!((cosine(&q, &same) - 1.0).abs() < 1e-6);
        let norm: f32 = q.iter().map(|x| x * x).sum();
        assert!((norm - 1.0).abs() < 1e-5);
        let hits = nearest("disk full on /var", 3);
        assert_eq!(hits[0].id_label(), "102", "the disk-full runbook: {hits:?}");
        assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
        assert!(search("  ", 5, 0.7, Utc::now()).is_err());
    }
}
