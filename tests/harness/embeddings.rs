//! A stand-in for the embeddings APIs, which cannot run here (APIS.md §6): LiteLLM's
//! OpenAI-compatible `POST /v1/embeddings` or Ollama's `POST /api/embed`, with their exact
//! success and error shapes (LiteLLM's string `code`, Ollama's `{"error"}`). Vectors come from
//! the demo's toy embedding (task prefixes ignored, as a model treats them), so a test can
//! compute its ground truth. Every request is recorded.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Litellm,
    Ollama,
}

/// How the stand-in answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Behaviour {
    /// Vectors of this many dimensions.
    Answer(usize),
    /// This HTTP status with the API's own error body.
    Fail(u16),
    /// Accept the request and never answer.
    Hang,
}

#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    pub authorization: Option<String>,
    pub body: Value,
}

pub struct EmbedStandIn {
    pub url: String,
    pub api: Api,
    behaviour: Arc<Mutex<Behaviour>>,
    seen: Arc<Mutex<Vec<Request>>>,
}

impl EmbedStandIn {
    /// Start answering with 768-dimensional vectors. A LiteLLM stand-in given a key refuses
    /// requests without it, as the proxy does.
    pub fn start(api: Api, key: Option<&str>) -> EmbedStandIn {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let behaviour = Arc::new(Mutex::new(Behaviour::Answer(768)));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (b, s, key) = (behaviour.clone(), seen.clone(), key.map(String::from));
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (b, s, key) = (b.clone(), s.clone(), key.clone());
                std::thread::spawn(move || serve(conn, api, &b, &s, key.as_deref()));
            }
        });
        EmbedStandIn { url, api, behaviour, seen }
    }

    pub fn set(&self, b: Behaviour) {
        *self.behaviour.lock().unwrap() = b;
    }

    pub fn requests(&self) -> Vec<Request> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve(conn: TcpStream, api: Api, behaviour: &Mutex<Behaviour>, seen: &Mutex<Vec<Request>>, key: Option<&str>) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(conn.try_clone().expect("clone"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let path = request_line.split(' ').nth(1).unwrap_or_default().to_string();
    let (mut length, mut authorization) = (0usize, None);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "authorization" => authorization = Some(value.trim().to_string()),
                _ => {}
            }
        }
    }
    let mut body = vec![0u8; length];
    let _ = reader.read_exact(&mut body);
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    seen.lock().unwrap().push(Request { path: path.clone(), authorization: authorization.clone(), body: body.clone() });
    let behaviour = behaviour.lock().unwrap().clone();
    let (status, reply) = match (behaviour, api) {
        (Behaviour::Hang, _) => {
            std::thread::sleep(Duration::from_secs(30));
            return;
        }
        (_, Api::Litellm) if key.is_some_and(|k| authorization.as_deref() != Some(&format!("Bearer {k}"))) => {
            let received = authorization.as_deref().unwrap_or("").trim_start_matches("Bearer ");
            let tail: String = received.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
            (
                401,
                litellm_error(
                    &format!(
                        "Authentication Error, Invalid proxy server token passed. Received API Key = sk-...{tail}, Key Hash (Token) =..."
                    ),
                    "token_not_found_in_db",
                    "key",
                    401,
                ),
            )
        }
        (Behaviour::Fail(code), Api::Litellm) => (
            code,
            litellm_error(&format!("litellm.InternalServerError: stand-in failure {code}"), "None", "None", code),
        ),
        (Behaviour::Fail(code), Api::Ollama) => (code, json!({"error": format!("stand-in failure {code}")})),
        (Behaviour::Answer(dims), Api::Litellm) if path == "/v1/embeddings" || path == "/embeddings" => {
            let inputs: Vec<String> = match &body["input"] {
                Value::String(s) => vec![s.clone()],
                Value::Array(a) => a.iter().filter_map(|v| v.as_str().map(String::from)).collect(),
                _ => vec![],
            };
            let data: Vec<Value> = inputs
                .iter()
                .enumerate()
                .rev() // out of order on purpose: clients must sort by index
                .map(|(i, t)| json!({"object": "embedding", "index": i, "embedding": mcptop::demo::kb::toy_embedding(t, dims)}))
                .collect();
            (
                200,
                json!({"object": "list", "model": body["model"], "data": data, "usage": {"prompt_tokens": 12, "total_tokens": 12}}),
            )
        }
        (Behaviour::Answer(dims), Api::Ollama) if path == "/api/embed" => {
            if body["model"].as_str().is_none_or(|m| m != "nomic-embed-text") {
                (
                    404,
                    json!({"error": format!("model \"{}\" not found, try pulling it first", body["model"].as_str().unwrap_or(""))}),
                )
            } else {
                let inputs: Vec<String> = match &body["input"] {
                    Value::String(s) => vec![s.clone()],
                    Value::Array(a) => a.iter().filter_map(|v| v.as_str().map(String::from)).collect(),
                    _ => vec![],
                };
                let embeddings: Vec<Vec<f32>> =
                    inputs.iter().map(|t| mcptop::demo::kb::toy_embedding(t, dims)).collect();
                (
                    200,
                    json!({"model": body["model"], "embeddings": embeddings, "total_duration": 14_000_000, "load_duration": 1_000_000, "prompt_eval_count": 8}),
                )
            }
        }
        (Behaviour::Answer(_), Api::Litellm) if path == "/v1/models" || path == "/models" => {
            let data: Vec<Value> = LITELLM_MODELS
                .iter()
                .map(|id| json!({"id": id, "object": "model", "created": 1_677_610_602, "owned_by": "openai"}))
                .collect();
            (200, json!({"object": "list", "data": data}))
        }
        (Behaviour::Answer(_), Api::Ollama) if path == "/api/ps" => (200, ollama_ps()),
        (_, Api::Litellm) => (404, json!({"detail": "Not Found"})),
        (_, Api::Ollama) => (404, Value::String("404 page not found".into())),
    };
    let body = match reply {
        Value::String(s) => s,
        v => v.to_string(),
    };
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        404 => "Not Found",
        _ => "Error",
    };
    let mut conn = conn;
    let _ = conn.write_all(
        format!("HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).as_bytes(),
    );
}

/// The model names the LiteLLM stand-in lists (`GET /v1/models`).
pub const LITELLM_MODELS: [&str; 3] = ["nomic-embed", "llama3.1-8b", "qwen2.5-14b"];

/// Ollama's `GET /api/ps`: two models in memory, one partly on the GPU (the docs' shape).
pub fn ollama_ps() -> Value {
    json!({"models": [
        {"name": "llama3.1:8b", "model": "llama3.1:8b", "size": 6_591_830_464u64,
         "digest": "a2af6cc3eb7fa8be8504abaf9b04e88f17a119ec3f04a3addf55f92841195f5a",
         "details": {"parent_model": "", "format": "gguf", "family": "llama", "families": ["llama"],
                     "parameter_size": "8.0B", "quantization_level": "Q4_K_M"},
         "expires_at": "2026-11-22T16:47:07.93355-07:00", "size_vram": 5_333_539_264u64, "context_length": 4096},
        {"name": "nomic-embed-text:latest", "model": "nomic-embed-text:latest", "size": 580_000_000u64,
         "digest": "0a109f422b47e3a30ba2b10eca18548e944e8a23073ee3f3e947efcf3c45e59f",
         "details": {"parent_model": "", "format": "gguf", "family": "nomic-bert", "families": ["nomic-bert"],
                     "parameter_size": "137M", "quantization_level": "F16"},
         "expires_at": "2026-11-22T16:45:00-07:00", "size_vram": 580_000_000u64, "context_length": 2048}
    ]})
}

/// LiteLLM's error body: `code` is a string (APIS.md §6).
fn litellm_error(message: &str, kind: &str, param: &str, code: u16) -> Value {
    json!({"error": {"message": message, "type": kind, "param": param, "code": code.to_string()}})
}
