//! The AI pipeline strip and `mcptop pipeline`: the gateway's `/metrics`, LiteLLM's models and
//! Ollama's loaded ones, from stand-ins (none of the three can run here) that answer with the
//! services' own shapes. What mcptop shows is compared with what the stand-ins were told to
//! say, and each part fails alone.
#![allow(clippy::disallowed_macros)] // a test or bench reports on its own terminal

mod harness;

use std::process::Command;
use std::time::Duration;

use harness::embeddings::{Api, Behaviour as EmbedBehaviour, EmbedStandIn, LITELLM_MODELS};
use harness::standins::{Behaviour, Gateway};
use harness::{HANG_GUARD, Tmux, eventually, mcptop_bin};
use serde_json::Value;

const TOKEN: &str = "gw-test-token-5b1e";
const KEY: &str = "sk-litellm-pipeline-test";

/// The exposition as Python's prometheus_client writes it (`_created` series included), for a
/// gateway that finished `done` analyses: `fast` of them within 1 s, the rest within 30 s.
fn exposition(done: u64, fast: u64) -> String {
    format!(
        "# HELP mcp_requests_total Total API requests\n# TYPE mcp_requests_total counter\n\
         mcp_requests_total{{endpoint=\"/api/v1/analyze\",method=\"POST\",status=\"202\"}} 120.0\n\
         mcp_requests_total{{endpoint=\"/health\",method=\"GET\",status=\"200\"}} 30.0\n\
         # HELP mcp_requests_created Total API requests\n# TYPE mcp_requests_created gauge\n\
         mcp_requests_created{{endpoint=\"/health\",method=\"GET\",status=\"200\"}} 1.7637e+09\n\
         # HELP mcp_analyses_completed_total Analyses completed\n# TYPE mcp_analyses_completed_total counter\n\
         mcp_analyses_completed_total {done}.0\n\
         # TYPE mcp_tickets_created_total counter\nmcp_tickets_created_total 17.0\n\
         # TYPE mcp_rag_searches_total counter\nmcp_rag_searches_total 245.0\n\
         # TYPE mcp_embeddings_stored_total counter\nmcp_embeddings_stored_total 1302.0\n\
         # HELP mcp_analysis_duration_seconds Analysis duration\n# TYPE mcp_analysis_duration_seconds histogram\n\
         mcp_analysis_duration_seconds_bucket{{le=\"1.0\"}} {fast}.0\n\
         mcp_analysis_duration_seconds_bucket{{le=\"30.0\"}} {done}.0\n\
         mcp_analysis_duration_seconds_bucket{{le=\"+Inf\"}} {done}.0\n\
         mcp_analysis_duration_seconds_count {done}.0\nmcp_analysis_duration_seconds_sum 1234.5\n\
         # TYPE mcp_queue_length gauge\nmcp_queue_length 4.0\n# TYPE mcp_active_jobs gauge\nmcp_active_jobs 2.0\n"
    )
}

struct Platform {
    gateway: Gateway,
    litellm: EmbedStandIn,
    ollama: EmbedStandIn,
    _dir: tempfile::TempDir,
    config: std::path::PathBuf,
}

fn platform() -> Platform {
    let gateway = Gateway::start(TOKEN);
    gateway.set_metrics(&exposition(100, 50));
    let litellm = EmbedStandIn::start(Api::Litellm, Some(KEY));
    let ollama = EmbedStandIn::start(Api::Ollama, None);
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[contexts.p]\ntimeout_ms = 1000\ngateway_url = \"{}\"\ngateway_token = \"env:MCPTOP_T_GW\"\n\
             [contexts.p.knowledge_base]\ndatabase_url = \"postgres://nobody@127.0.0.1:{}/kb\"\n\
             [contexts.p.knowledge_base.embeddings]\nlitellm_url = \"{}\"\nlitellm_key = \"env:MCPTOP_T_KEY\"\n\
             ollama_url = \"{}\"\n",
            gateway.url(),
            harness::free_port(),
            litellm.url,
            ollama.url
        ),
    )
    .expect("config");
    Platform { gateway, litellm, ollama, _dir: dir, config }
}

fn pipeline_json(p: &Platform) -> (Value, i32) {
    let out = Command::new(mcptop_bin())
        .arg("--config")
        .arg(&p.config)
        .args(["pipeline", "--output", "json"])
        .env("MCPTOP_T_GW", TOKEN)
        .env("MCPTOP_T_KEY", KEY)
        .output()
        .expect("mcptop pipeline");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let v =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}\n{}", String::from_utf8_lossy(&out.stderr)));
    (v, out.status.code().unwrap_or(-1))
}

#[test]
fn the_json_says_what_each_service_answered() {
    let p = platform();
    let (v, code) = pipeline_json(&p);
    assert_eq!(code, 0, "{v}");
    let g = &v["gateway"]["data"];
    assert_eq!(g["analyses_completed_total"], 100.0);
    assert_eq!(g["requests_total"], 150.0, "summed over the label sets");
    assert_eq!(g["tickets_created_total"], 17.0);
    assert_eq!(g["rag_searches_total"], 245.0);
    assert_eq!(g["embeddings_stored_total"], 1302.0);
    assert_eq!(g["queue_length"], 4.0);
    assert_eq!(g["active_jobs"], 2.0);
    // Half the analyses took up to 1 s, the rest up to 30 s: the median is the 1 s bound,
    // p95 interpolates in (1, 30]: 1 + 29 × 45/50.
    assert_eq!(g["duration_p50_s"], 1.0);
    assert!((g["duration_p95_s"].as_f64().unwrap_or(0.0) - 27.1).abs() < 1e-9, "{g}");
    assert_eq!(g["duration_window_s"], Value::Null, "one read: since the gateway started");
    assert_eq!(g["analyses_per_min"], Value::Null, "a rate needs two reads");

    let models: Vec<&str> =
        v["litellm_models"]["data"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    assert_eq!(models, LITELLM_MODELS);
    let ps = harness::embeddings::ollama_ps();
    let loaded = v["ollama_loaded"]["data"].as_array().cloned().unwrap_or_default();
    assert_eq!(loaded.len(), 2);
    for (ours, theirs) in loaded.iter().zip(ps["models"].as_array().into_iter().flatten()) {
        assert_eq!(ours["name"], theirs["name"]);
        assert_eq!(ours["size"], theirs["size"]);
        assert_eq!(ours["size_vram"], theirs["size_vram"]);
    }
    assert_eq!(loaded[0]["expires_at"], "2026-11-22T23:47:07.933550Z", "the offset applied");

    let metrics = p.gateway.requests().into_iter().find(|r| r.path == "/metrics").expect("asked /metrics");
    assert_eq!(metrics.header("authorization"), Some(format!("Bearer {TOKEN}").as_str()));
    let models = p.litellm.requests().into_iter().find(|r| r.path == "/v1/models").expect("asked /v1/models");
    assert_eq!(models.authorization.as_deref(), Some(format!("Bearer {KEY}").as_str()));
    assert!(p.ollama.requests().iter().any(|r| r.path == "/api/ps"));
}

#[test]
fn each_part_fails_alone() {
    let p = platform();
    p.gateway.set(Behaviour::Status(503));
    let (v, code) = pipeline_json(&p);
    assert_eq!(code, 1, "a part failed");
    assert!(v["gateway"]["error"].as_str().is_some_and(|e| e.contains("503")), "{v}");
    assert!(v["litellm_models"]["error"].is_null() && v["ollama_loaded"]["error"].is_null(), "{v}");
    assert_eq!(v["litellm_models"]["data"].as_array().map(Vec::len), Some(3));

    p.gateway.set(Behaviour::Normal);
    p.ollama.set(EmbedBehaviour::Fail(500));
    let (v, code) = pipeline_json(&p);
    assert_eq!(code, 1);
    assert_eq!(v["gateway"]["data"]["analyses_completed_total"], 100.0);
    assert!(v["ollama_loaded"]["error"].as_str().is_some_and(|e| e.contains("stand-in failure 500")), "{v}");
    let text = v.to_string();
    assert!(!text.contains(TOKEN) && !text.contains(KEY), "no secret in the output");
}

#[test]
fn the_strip_shows_numbers_their_rate_and_a_failing_part_with_its_last_data() {
    let p = platform();
    let t = Tmux::start(
        &format!("--config {}", p.config.display()),
        200,
        40,
        &format!("MCPTOP_T_GW={TOKEN} MCPTOP_T_KEY={KEY}"),
    );
    t.wait_for("100 analyses", Duration::from_secs(15));
    assert!(t.screen().contains("LiteLLM 3 models"), "{}", t.screen());
    assert!(t.screen().contains("llama3.1:8b 6.1G (80% GPU)"), "{}", t.screen());
    // More analyses finish, all fast: the next reads give a rate and recent quantiles.
    p.gateway.set_metrics(&exposition(160, 110));
    t.wait_for("160 analyses", HANG_GUARD);
    let rated = eventually(HANG_GUARD, || t.screen().contains("/min ("));
    assert!(rated, "a rate over the window:\n{}", t.screen());

    p.gateway.set(Behaviour::Down);
    let ai_line = || t.screen().lines().find(|l| l.starts_with("AI ")).unwrap_or_default().to_string();
    assert!(eventually(HANG_GUARD, || ai_line().contains("✗")), "the gateway's failure: {}", ai_line());
    let line = ai_line();
    assert!(line.contains("✗ 160 analyses") && line.contains(" old · "), "last good numbers, aged: {line}");
    assert!(line.starts_with("AI STALE"), "the line says it is stale: {line}");
}
