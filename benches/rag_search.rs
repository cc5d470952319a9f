//! Knowledge-base search on a real PostgreSQL 18 + pgvector holding 100,000 rows of 768
//! dimensions with the contract's HNSW index (target: p95 under 50 ms on loopback): the database
//! query alone, and the whole search without the embedder (the client's `search_vector`: the
//! table-shape check, the query, the threshold), each next to the same query forced to a
//! sequential scan.
//!
//! `cargo bench --bench rag_search` runs it in full (loading and indexing take a few minutes on
//! two cores); under `cargo test` a small smoke version.
#![allow(clippy::disallowed_macros)] // a test or bench reports on its own terminal

#[path = "../tests/harness/mod.rs"]
mod harness;

use std::time::Instant;

use mcptop::config::{self, Overrides};
use mcptop::sources::RagClient;
use sqlx::AssertSqlSafe;

fn stats(mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(|a, b| a.total_cmp(b));
    (ms[ms.len() / 2], ms[(ms.len() * 95 / 100).min(ms.len() - 1)])
}

/// A random unit-ish query vector (the table holds uniform random vectors too).
fn query_vector(seed: u64) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..768)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % 10_000) as f32 / 10_000.0 - 0.5
        })
        .collect()
}

fn client(url: &str) -> RagClient {
    let text = format!(
        "[contexts.b]\ntimeout_ms = 30000\n[contexts.b.knowledge_base]\ndatabase_url = \"{url}\"\n\
         [contexts.b.knowledge_base.embeddings]\nollama_url = \"http://127.0.0.1:9\"\n"
    );
    let file = config::parse(&text, std::path::Path::new("bench.toml")).expect("config");
    let settings = config::resolve(file, &Overrides::default()).expect("settings");
    RagClient::from_settings(&settings).expect("client").expect("configured")
}

fn plan(rt: &tokio::runtime::Runtime, rag: &RagClient) -> String {
    rt.block_on(harness::postgres::explain(rag.kb.pool(), rag.kb.search_sql(), query_vector(1), 5))
}

fn measure(rt: &tokio::runtime::Runtime, rag: &RagClient, n: usize, label: &str) {
    let sql = rag.kb.search_sql().to_string();
    let (mut db, mut whole) = (Vec::new(), Vec::new());
    // Warm the pool, the prepared statement and the table-shape cache first.
    rt.block_on(rag.search_vector("warm", &query_vector(0), 5, 0.0)).expect("search");
    // Two passes over different query vectors, so neither finds the other's pages cached.
    for i in 0..n {
        let v = pgvector::Vector::from(query_vector(i as u64 + 1));
        let t = Instant::now();
        rt.block_on(async {
            sqlx::query(AssertSqlSafe(sql.clone()))
                .bind(v)
                .bind(5i64)
                .bind(16384i32)
                .fetch_all(rag.kb.pool())
                .await
                .expect("query")
        });
        db.push(t.elapsed().as_secs_f64() * 1e3);
    }
    for i in 0..n {
        let v = query_vector(i as u64 + 1_000_001);
        let t = Instant::now();
        let s = rt.block_on(rag.search_vector("bench", &v, 5, 0.0)).expect("search");
        whole.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(s.candidates, 5);
    }
    let (p50, p95) = stats(db);
    println!("{label}: database query      p50 {p50:.2} ms, p95 {p95:.2} ms ({n} queries)");
    let (p50, p95) = stats(whole);
    println!("{label}: search w/o embedder p50 {p50:.2} ms, p95 {p95:.2} ms");
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    // Below a few thousand rows the planner rightly prefers a sequential scan.
    let (rows, hnsw_n, seq_n) = if full { (100_000, 200, 20) } else { (3000, 5, 3) };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let pg = harness::postgres::Postgres::start();
    let t = Instant::now();
    pg.psql(
        "postgres",
        &format!(
            "CREATE EXTENSION vector;
             CREATE TABLE mcp_knowledge (id bigserial PRIMARY KEY, embedding vector(768) NOT NULL, text text NOT NULL,
               metadata jsonb NOT NULL DEFAULT '{{}}', created_at timestamptz NOT NULL DEFAULT now());
             INSERT INTO mcp_knowledge (embedding, text, metadata)
               SELECT (SELECT array_agg(random()::real - 0.5) FROM generate_series(1, 768) WHERE g > 0)::vector,
                      'INC-' || g || ': incident text of a realistic length, ' || repeat('words ', 40),
                      jsonb_build_object('source', 'zammad', 'ticket', g)
               FROM generate_series(1, {rows}) g;"
        ),
    );
    let loaded = t.elapsed().as_secs_f64();
    let t = Instant::now();
    pg.psql("postgres", "CREATE INDEX mcp_knowledge_hnsw ON mcp_knowledge USING hnsw (embedding vector_cosine_ops); ANALYZE mcp_knowledge;");
    println!("{rows} rows x 768 dims loaded in {loaded:.0} s, HNSW index built in {:.0} s", t.elapsed().as_secs_f64());

    let hnsw = rt.block_on(async { client(&pg.url()) });
    let p = plan(&rt, &hnsw);
    assert!(p.contains("Index Scan using mcp_knowledge_hnsw"), "{p}");
    measure(&rt, &hnsw, hnsw_n, "HNSW    ");

    // The same statement with index scans off for every new session: a sequential scan.
    pg.psql("postgres", "ALTER DATABASE postgres SET enable_indexscan = off");
    let seq = rt.block_on(async { client(&pg.url()) });
    let p = plan(&rt, &seq);
    assert!(p.contains("Seq Scan on mcp_knowledge"), "{p}");
    measure(&rt, &seq, seq_n, "seq scan");
}
