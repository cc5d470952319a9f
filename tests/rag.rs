//! The knowledge base on a real PostgreSQL 18 + pgvector, searched through the client and through
//! `mcptop rag search`, against a direct SQL ground truth; EXPLAIN showing the HNSW index; the
//! errors that name what is wrong; and the embeddings stand-in (LiteLLM, Ollama) with its errors,
//! the fallback and timeouts.
#![allow(clippy::disallowed_macros)] // a test or bench reports on its own terminal

mod harness;

use std::process::Command;
use std::time::Duration;

use harness::embeddings::{Api, Behaviour, EmbedStandIn};
use harness::postgres::Postgres;
use harness::{free_port, mcptop_bin};
use mcptop::clients::RagError;
use mcptop::config::{self, Overrides};
use mcptop::demo::kb::toy_embedding;
use mcptop::sources::RagClient;
use sqlx::Row;

const KEY: &str = "sk-test-4f9a";

const HOSTS: &[&str] = &["db-01", "db-02", "web-01", "web-02", "mail-01", "k8s-node-1", "fw-edge-1", "backup-01"];
const PROBLEMS: &[&str] = &[
    "disk full on /var after logrotate change",
    "CPU pinned by backup cron",
    "HTTP 503 upstream pool exhausted",
    "SSH brute force banned via CrowdSec",
    "memory leak in worker process",
    "TLS certificate renewal failed",
    "replication lag behind primary",
    "scrape target down firewall change",
];
const FIXES: &[&str] =
    &["restarted the service", "rotated logs", "extended the volume", "moved the cron", "closed the port"];

/// The contract's schema (CONTRACT.md §3) and `n` incidents built from hosts × problems × fixes.
fn seed(pg: &Postgres, database: &str, n: usize) {
    pg.psql(
        database,
        "CREATE EXTENSION IF NOT EXISTS vector;
         CREATE TABLE IF NOT EXISTS mcp_knowledge (
           id bigserial PRIMARY KEY, embedding vector(768) NOT NULL, text text NOT NULL,
           metadata jsonb NOT NULL DEFAULT '{}', created_at timestamptz NOT NULL DEFAULT now());
         CREATE INDEX IF NOT EXISTS mcp_knowledge_hnsw ON mcp_knowledge USING hnsw (embedding vector_cosine_ops);",
    );
    let mut values = Vec::new();
    for i in 0..n {
        let text = format!(
            "INC-{}: {} on {}; {}",
            1000 + i,
            PROBLEMS[i % PROBLEMS.len()],
            HOSTS[(i / PROBLEMS.len()) % HOSTS.len()],
            FIXES[(i / 7) % FIXES.len()]
        );
        let v = toy_embedding(&format!("search_document: {text}"), 768);
        let lit: Vec<String> = v.iter().map(|x| x.to_string()).collect();
        values.push(format!(
            "('[{}]', '{}', '{{\"source\":\"zammad\",\"ticket\":{}}}')",
            lit.join(","),
            text.replace('\'', "''"),
            1000 + i
        ));
    }
    for chunk in values.chunks(200) {
        pg.psql(database, &format!("INSERT INTO mcp_knowledge (embedding, text, metadata) VALUES {}", chunk.join(",")));
    }
    pg.psql(database, "ANALYZE mcp_knowledge");
}

/// A config file for the context `kb`, with `extra` lines in its knowledge_base table.
fn config_text(db_url: &str, litellm: Option<&str>, ollama: Option<&str>, extra: &str) -> String {
    let mut emb = vec!["timeout_ms = 1500".to_string()];
    if let Some(u) = litellm {
        emb.push(format!("litellm_url = \"{u}\"\nlitellm_key = \"env:MCPTOP_TEST_LITELLM_KEY\""));
    }
    if let Some(u) = ollama {
        emb.push(format!("ollama_url = \"{u}\""));
    }
    format!(
        "[contexts.kb]\ntimeout_ms = 2000\n[contexts.kb.knowledge_base]\ndatabase_url = \"{db_url}\"\n{extra}\n[contexts.kb.knowledge_base.embeddings]\n{}\n",
        emb.join("\n")
    )
}

fn client(text: &str) -> RagClient {
    client_with_key(text, KEY)
}

/// The client of a config `text`, resolved in this process with `key` as the LiteLLM key. The
/// config's `env:MCPTOP_TEST_LITELLM_KEY` becomes a `file:` reference to a file holding `key`:
/// setting the variable would take `std::env::set_var`, unsound while the tests run in parallel
/// threads reading the environment. (Runs of the binary get the variable through `Command::env`.)
fn client_with_key(text: &str, key: &str) -> RagClient {
    let dir = tempfile::tempdir().expect("dir");
    let key_file = dir.path().join("litellm.key");
    std::fs::write(&key_file, key).expect("key file");
    let text = text.replace("env:MCPTOP_TEST_LITELLM_KEY", &format!("file:{}", key_file.display()));
    let file = config::parse(&text, std::path::Path::new("test.toml")).expect("config");
    // The key is read here, once: the file is not needed afterwards.
    let settings = config::resolve(file, &Overrides::default()).expect("settings");
    RagClient::from_settings(&settings).expect("client").expect("configured")
}

/// Every row's similarity to the query, exactly (no index: ORDER BY the expression), best first.
async fn ground_truth(rag: &RagClient, query: &str) -> Vec<(i64, f64)> {
    let v = pgvector::Vector::from(toy_embedding(query, 768));
    sqlx::query("SELECT id, (1 - (embedding <=> $1))::float8 AS s FROM mcp_knowledge ORDER BY s DESC, id")
        .bind(v)
        .fetch_all(rag.kb.pool())
        .await
        .expect("ground truth")
        .iter()
        .map(|r| (r.get::<i64, _>("id"), r.get::<f64, _>("s")))
        .collect()
}

/// The first `k` of the truth at or above `threshold`, compared with what a search returned:
/// the same scores in the same order, and the same ids (ties may come in either order).
fn assert_matches_truth(truth: &[(i64, f64)], k: usize, threshold: f64, got: &[(i64, f64)]) {
    let want: Vec<(i64, f64)> = truth.iter().take(k).filter(|(_, s)| *s >= threshold).copied().collect();
    assert_eq!(got.len(), want.len(), "hits: got {got:?}, want {want:?}");
    for (g, w) in got.iter().zip(&want) {
        assert!((g.1 - w.1).abs() < 1e-5, "scores differ: got {got:?}, want {want:?}");
    }
    // Rows with equal similarity may come in any order: each id must have its true score.
    for (id, score) in got {
        let truth_score = truth.iter().find(|t| t.0 == *id).map(|t| t.1);
        assert!(truth_score.is_some_and(|t| (t - score).abs() < 1e-5), "id {id} scored {score}, truth {truth_score:?}");
    }
    let mut ids: Vec<i64> = got.iter().map(|g| g.0).collect();
    ids.dedup();
    assert_eq!(ids.len(), got.len(), "no id twice: {got:?}");
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

#[test]
fn search_ranks_like_sql_through_the_index_via_client_and_cli() {
    let pg = Postgres::start();
    seed(&pg, "postgres", 2000);
    let litellm = EmbedStandIn::start(Api::Litellm, Some(KEY));
    let text = config_text(&pg.url(), Some(&litellm.url), None, "top_k = 10\nthreshold = 0.3\nef_search = 100");
    let rt = runtime();
    // The pool needs a Tokio context, even though it connects lazily.
    let rag = rt.block_on(async { client(&text) });
    rt.block_on(async {
        let query = "disk full on db-01";
        let search = rag.search(query, 10, 0.3).await.expect("search");
        let truth = ground_truth(&rag, query).await;
        let got: Vec<(i64, f64)> =
            search.hits.iter().map(|h| (h.id.as_i64().unwrap_or(-1), h.score.unwrap_or(f64::NAN))).collect();
        assert!(!got.is_empty(), "the seeded data has hits above 0.3");
        assert_matches_truth(&truth, 10, 0.3, &got);
        assert_eq!(search.candidates, 10);
        assert_eq!(search.hits[0].metadata["source"], "zammad");
        // A threshold nothing reaches: no hits, but the candidates are counted.
        let none = rag.search(query, 10, 0.99).await.expect("search");
        assert!(none.hits.is_empty() && none.candidates == 10);

        // The query was embedded with the nomic prefix, as floats, with the key.
        let seen = litellm.requests();
        let first = &seen[0];
        assert_eq!(first.path, "/v1/embeddings");
        assert_eq!(first.body["input"], serde_json::json!(["search_query: disk full on db-01"]));
        assert_eq!(first.body["encoding_format"], "float");
        assert_eq!(first.body["model"], "nomic-embed-text");
        assert_eq!(first.authorization.as_deref(), Some(&*format!("Bearer {KEY}")));

        // The planner serves exactly the client's statement with the HNSW index.
        let plan = harness::postgres::explain(rag.kb.pool(), rag.kb.search_sql(), toy_embedding(query, 768), 10).await;
        assert!(plan.contains("Index Scan using mcp_knowledge_hnsw"), "{plan}");

        let stats = rag.kb.stats().await.expect("stats");
        assert_eq!((stats.rows, stats.rows_estimated, stats.dimensions), (Some(2000), false, Some(768)));
        assert_eq!(stats.index.as_deref(), Some("mcp_knowledge_hnsw (hnsw)"));

        // top_k above pgvector's ef_search (40) still returns top_k rows (the client raises
        // ef_search for that query). HNSW is approximate, and these rows tie in large groups, so
        // here each hit's score is checked, not which of the tied rows came back.
        let many = rag.search(query, 60, -1.0).await.expect("search");
        assert_eq!(many.hits.len(), 60);
        let scores: Vec<f64> = many.hits.iter().map(|h| h.score.unwrap_or(f64::NAN)).collect();
        assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
        for h in &many.hits {
            let t = truth.iter().find(|t| Some(t.0) == h.id.as_i64()).map(|t| t.1);
            assert!(t.is_some_and(|t| (t - h.score.unwrap_or(0.0)).abs() < 1e-5), "{h:?} vs {t:?}");
        }
    });

    // The same search through the CLI, as JSON.
    let dir = tempfile::tempdir().expect("dir");
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, &text).expect("config");
    let out = Command::new(mcptop_bin())
        .args(["rag", "search", "disk full on db-01", "--top-k", "10", "--threshold", "0.3", "--output", "json"])
        .arg("--config")
        .arg(&cfg)
        .env("MCPTOP_TEST_LITELLM_KEY", KEY)
        .output()
        .expect("mcptop");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["query"], "disk full on db-01");
    let hits = json["hits"].as_array().expect("hits");
    for h in hits {
        let keys: Vec<&String> = h.as_object().expect("object").keys().collect();
        assert_eq!(keys, ["id", "metadata", "score", "text"]);
    }
    let got: Vec<(i64, f64)> =
        hits.iter().map(|h| (h["id"].as_i64().unwrap_or(-1), h["score"].as_f64().unwrap_or(f64::NAN))).collect();
    let truth = rt.block_on(ground_truth(&rag, "disk full on db-01"));
    assert_matches_truth(&truth, 10, 0.3, &got);

    // And as a table, and the stats.
    let out = Command::new(mcptop_bin())
        .args(["rag", "stats", "--config"])
        .arg(&cfg)
        .env("MCPTOP_TEST_LITELLM_KEY", KEY)
        .output()
        .expect("mcptop");
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && table.contains("rows        2000") && table.contains("mcp_knowledge_hnsw (hnsw)"),
        "{table}"
    );
}

#[test]
fn mismatched_dimensions_missing_table_and_missing_extension_are_named() {
    let pg = Postgres::start();
    seed(&pg, "postgres", 50);
    pg.psql("postgres", "CREATE DATABASE noext");
    let litellm = EmbedStandIn::start(Api::Litellm, Some(KEY));
    let rt = runtime();
    rt.block_on(async {
        litellm.set(Behaviour::Answer(384));
        let rag = client(&config_text(&pg.url(), Some(&litellm.url), None, ""));
        let e = rag.search("disk full", 5, 0.7).await.expect_err("384 vs 768");
        assert!(matches!(e, RagError::DimensionMismatch { got: 384, want: 768, .. }), "{e}");
        let msg = e.to_string();
        assert!(msg.contains("384") && msg.contains("mcp_knowledge.embedding is vector(768)"), "{msg}");
        litellm.set(Behaviour::Answer(768));

        let rag = client(&config_text(&pg.url(), Some(&litellm.url), None, "table = \"kb_missing\""));
        let msg = rag.search("disk full", 5, 0.7).await.expect_err("no table").to_string();
        assert!(msg.contains("table kb_missing does not exist") && msg.contains("knowledge_base.table"), "{msg}");

        let rag = client(&config_text(&pg.url(), Some(&litellm.url), None, "columns = { text = \"body\" }"));
        let msg = rag.search("disk full", 5, 0.7).await.expect_err("no column").to_string();
        assert!(msg.contains("column body does not exist in table mcp_knowledge"), "{msg}");

        let rag = client(&config_text(&pg.url_for("noext"), Some(&litellm.url), None, ""));
        let msg = rag.search("disk full", 5, 0.7).await.expect_err("no extension").to_string();
        assert!(msg.contains("pgvector extension is not installed in database \"noext\""), "{msg}");

        // Nothing listening: a connection error, not a hang.
        let url = format!("postgres://postgres@127.0.0.1:{}/postgres", free_port());
        let rag = client(&config_text(&url, Some(&litellm.url), None, ""));
        let msg = tokio::time::timeout(harness::HANG_GUARD, rag.kb.stats())
            .await
            .expect("stats with nothing listening never returned")
            .expect_err("nothing there")
            .to_string();
        assert!(msg.contains("cannot connect to PostgreSQL"), "{msg}");
    });
}

#[test]
fn hostile_hit_text_is_escaped_in_the_table() {
    let pg = Postgres::start();
    seed(&pg, "postgres", 20);
    let v: Vec<String> = toy_embedding("disk full hostile", 768).iter().map(|x| x.to_string()).collect();
    pg.psql(
        "postgres",
        &format!(
            "INSERT INTO mcp_knowledge (embedding, text, metadata) VALUES ('[{}]', E'disk full \\x1b[2J\\x1b]0;pwned\\x07 hostile', E'{{\"source\":\"evil\\\\u001b[31m\"}}')",
            v.join(",")
        ),
    );
    let ollama = EmbedStandIn::start(Api::Ollama, None);
    let dir = tempfile::tempdir().expect("dir");
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, config_text(&pg.url(), None, Some(&ollama.url), "")).expect("config");
    let out = Command::new(mcptop_bin())
        .args(["rag", "search", "disk full hostile", "--threshold", "0.5", "--config"])
        .arg(&cfg)
        .output()
        .expect("mcptop");
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!table.contains('\u{1b}') && !table.contains('\u{7}'), "{table:?}");
    assert!(table.contains("disk full ^[[2J^[]0;pwned^G hostile") && table.contains("evil^[[31m"), "{table}");
    assert!(table.contains("via ollama"), "{table}");
}

#[test]
fn embeddings_errors_fallback_and_timeouts() {
    let pg = Postgres::start();
    seed(&pg, "postgres", 20);
    let litellm = EmbedStandIn::start(Api::Litellm, Some(KEY));
    let ollama = EmbedStandIn::start(Api::Ollama, None);
    let closed = format!("http://127.0.0.1:{}", free_port());
    let rt = runtime();
    rt.block_on(async {
        // LiteLLM refuses the key: its message, no fallback, and never the key itself.
        let rag = client(&config_text(&pg.url(), Some(&litellm.url), Some(&ollama.url), ""));
        let wrong =
            client_with_key(&config_text(&pg.url(), Some(&litellm.url), Some(&ollama.url), ""), "sk-wrong-0000");
        let msg = wrong.search("disk full", 5, 0.0).await.expect_err("401").to_string();
        assert!(msg.contains("litellm: HTTP 401: Authentication Error, Invalid proxy server token passed"), "{msg}");
        assert!(!msg.contains("sk-wrong-0000"), "{msg}");
        assert!(ollama.requests().is_empty(), "a refusal is not a reason to fall back");

        // LiteLLM answers: no fallback.
        let s = rag.search("disk full", 5, 0.0).await.expect("search");
        assert_eq!((s.embedder.name(), s.fallback_reason.clone()), ("litellm", None));

        // LiteLLM 503 → Ollama, and the reason is kept.
        litellm.set(Behaviour::Fail(503));
        let s = rag.search("disk full", 5, 0.0).await.expect("fallback");
        assert_eq!(s.embedder.name(), "ollama");
        assert!(s.fallback_reason.as_deref().unwrap_or_default().contains("HTTP 503"), "{s:?}");
        let asked = ollama.requests();
        assert_eq!(asked.last().map(|r| r.path.as_str()), Some("/api/embed"));
        assert_eq!(asked.last().map(|r| r.body["input"].clone()), Some(serde_json::json!("search_query: disk full")));

        // LiteLLM hangs → Ollama, once the embeddings timeout (1.5 s) has cut the hang off.
        litellm.set(Behaviour::Hang);
        let s = tokio::time::timeout(harness::HANG_GUARD, rag.search("disk full", 5, 0.0))
            .await
            .expect("a hanging LiteLLM is cut off by the embeddings timeout: the search never returned")
            .expect("fallback after a timeout");
        assert_eq!(s.embedder.name(), "ollama");
        assert!(s.fallback_reason.as_deref().unwrap_or_default().contains("litellm: timed out after 1500 ms"), "{s:?}");

        // LiteLLM not there at all → Ollama.
        let rag2 = client(&config_text(&pg.url(), Some(&closed), Some(&ollama.url), ""));
        let s = rag2.search("disk full", 5, 0.0).await.expect("fallback");
        assert!(s.fallback_reason.as_deref().unwrap_or_default().contains("cannot connect"), "{s:?}");

        // Ollama's own error shape, with both failures named.
        ollama.set(Behaviour::Fail(500));
        let msg = rag2.search("disk full", 5, 0.0).await.expect_err("both down").to_string();
        assert!(
            msg.contains("litellm: cannot connect") && msg.contains("ollama: HTTP 500: stand-in failure 500"),
            "{msg}"
        );

        // An unknown model at Ollama: its 404 `{"error"}` message.
        ollama.set(Behaviour::Answer(768));
        let text = config_text(&pg.url(), None, Some(&ollama.url), "");
        let rag3 = client(&text.replace("ollama_url =", "ollama_model = \"nomic-missing\"\nollama_url ="));
        let msg = rag3.search("disk full", 5, 0.0).await.expect_err("404").to_string();
        assert!(msg.contains("ollama: HTTP 404: model \"nomic-missing\" not found, try pulling it first"), "{msg}");

        // Ollama hanging alone: the timeout, named.
        ollama.set(Behaviour::Hang);
        let rag4 = client(&config_text(&pg.url(), None, Some(&ollama.url), ""));
        let msg = tokio::time::timeout(harness::HANG_GUARD, rag4.search("disk full", 5, 0.0))
            .await
            .expect("a hanging Ollama is cut off by the embeddings timeout: the search never returned")
            .expect_err("hang")
            .to_string();
        assert!(msg.contains("ollama: timed out after 1500 ms"), "{msg}");
    });
}

/// In the real binary and terminal: the RAG pane describes the knowledge base and answers a
/// typed search; then PostgreSQL stops and only that pane says so, while Jobs keep updating
/// from Redis and keys answer at once.
#[test]
fn postgres_stopping_degrades_only_the_rag_pane() {
    let mut pg = Postgres::start();
    seed(&pg, "postgres", 200);
    let redis = harness::Redis::start();
    let mut c = redis.conn();
    let now = chrono::Utc::now().timestamp_millis();
    harness::seed_job(&mut c, "mcp:", "job-1", now, "done", &[("hostname", b"db-01")]);
    let ollama = EmbedStandIn::start(Api::Ollama, None);
    let dir = tempfile::tempdir().expect("dir");
    let cfg = dir.path().join("config.toml");
    let text = config_text(&pg.url(), None, Some(&ollama.url), "threshold = 0.3")
        .replace("[contexts.kb]\n", &format!("[contexts.kb]\nredis_url = \"{}\"\n", redis.url()));
    std::fs::write(&cfg, text).expect("config");
    let t = harness::Tmux::start(&format!("--config {}", cfg.display()), 160, 48, "");
    t.wait_for("KB mcp_knowledge · 200 rows · 768-d · hnsw ✓", Duration::from_secs(10));
    t.wait_for("job job-1 · no hits stored", Duration::from_secs(5));
    t.keys(&["K"]);
    t.wait_for("search KB:", Duration::from_secs(2));
    t.type_text("disk full on db-01");
    t.keys(&["Enter"]);
    t.wait_for("search “disk full on db-01” · 5/5 ≥0.30 · ollama", Duration::from_secs(5));

    pg.stop();
    assert!(
        harness::eventually(Duration::from_secs(10), || t.screen().contains("✗ KB: cannot connect to PostgreSQL")),
        "the RAG pane says PostgreSQL is gone:\n{}",
        t.screen()
    );
    let s = t.screen();
    assert!(s.contains("last seen") && s.contains("200 rows"), "and keeps what it knew:\n{s}");
    harness::seed_job(&mut c, "mcp:", "job-2", now + 1000, "queued", &[("hostname", b"web-02")]);
    assert!(harness::eventually(Duration::from_secs(5), || t.screen().contains("job-2")), "{}", t.screen());
    // A search now fails in the pane, naming the database, and the dashboard stays responsive.
    t.keys(&["K"]);
    t.type_text("cpu");
    t.keys(&["Enter"]);
    t.wait_for("search “cpu” · ✗ cannot connect to PostgreSQL", Duration::from_secs(10));
    t.keys(&["?"]);
    t.wait_for("Help", harness::HANG_GUARD);
    t.keys(&["Escape", "q"]);
    t.exited(0);
}
