//! What every HTTP client shares: timeouts, bodies read up to a size limit, error bodies turned
//! into short messages, and no URL (which may carry credentials) in any error.

use std::time::Duration;

use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use super::error::SourceError;
use crate::domain::Secret;
use crate::domain::text::clean_line;

/// Largest response body read from any HTTP service.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// A client with connect and overall timeouts. Redirects are not followed: a health endpoint
/// that redirects is misconfigured, and following it could leak a token to another host. A
/// client that cannot be built is an error: never a fallback without those settings.
pub fn client(timeout: Duration) -> Result<reqwest::Client, SourceError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("mcptop/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| SourceError::Connect(format!("cannot set up an HTTP client: {}", clean_line(&e.to_string()))))
}

/// A transport error, without the URL.
pub fn transport_error(e: reqwest::Error, timeout: Duration) -> SourceError {
    if e.is_timeout() {
        return SourceError::Timeout(timeout);
    }
    let e = e.without_url();
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        msg = format!("{msg}: {s}");
        source = s.source();
    }
    if e.is_connect() { SourceError::Connect(clean_line(&msg)) } else { SourceError::Server(clean_line(&msg)) }
}

/// Read a body, giving up past `max` bytes.
pub async fn read_limited(resp: reqwest::Response, max: usize, timeout: Duration) -> Result<Vec<u8>, SourceError> {
    if resp.content_length().is_some_and(|n| n as usize > max) {
        return Err(SourceError::TooLarge(max));
    }
    // Sized once when the length is known: no doubling that leaves twice the body allocated.
    let mut body = Vec::with_capacity(resp.content_length().map(|n| n as usize).unwrap_or(0).min(max));
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| transport_error(e, timeout))?;
        if body.len() + chunk.len() > max {
            return Err(SourceError::TooLarge(max));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A short message from an error body: a JSON string (Alertmanager), `{"error"}` (Prometheus,
/// Ollama), `{"message"}` (Docker, go-swagger), `{"detail"}` (FastAPI), else the text itself.
///
/// Every registered secret is scrubbed from the whole body, raw or escaped, before anything is
/// decoded or cut, and again from the decoded message: no encoding and no cut lets one through.
pub fn error_message(body: &[u8]) -> String {
    let whole = String::from_utf8_lossy(body);
    let whole = crate::domain::secret::scrub(&whole);
    let cut = whole.char_indices().nth(2048).map(|(i, _)| i).unwrap_or(whole.len());
    let text = whole[..cut].to_string();
    let msg = match serde_json::from_str::<serde_json::Value>(&whole) {
        Ok(serde_json::Value::String(s)) => s,
        // LiteLLM and OpenAI nest it: `{"error": {"message", "type", "code": "401"}}`.
        Ok(v) if v.pointer("/error/message").is_some_and(|m| m.is_string()) => {
            v.pointer("/error/message").and_then(|m| m.as_str()).unwrap_or_default().to_string()
        }
        Ok(v) => ["error", "message", "detail"]
            .iter()
            .find_map(|k| v.get(k).map(|m| m.as_str().map(String::from).unwrap_or_else(|| m.to_string())))
            .unwrap_or(text),
        Err(_) => text,
    };
    let msg = clean_line(crate::domain::secret::scrub(msg.trim()).trim());
    if msg.is_empty() { "(no body)".into() } else { msg }
}

/// Send a request and decode a JSON answer; a non-2xx status becomes `SourceError::Http`.
pub async fn json<T: DeserializeOwned>(req: reqwest::RequestBuilder, timeout: Duration) -> Result<T, SourceError> {
    json_with_secret(req, timeout, None).await
}

/// [`json`] for a request that carries `secret`: an error body quoting it back is scrubbed.
pub async fn json_with_secret<T: DeserializeOwned>(
    req: reqwest::RequestBuilder,
    timeout: Duration,
    secret: Option<&Secret>,
) -> Result<T, SourceError> {
    let body = send_with_secret(req, timeout, secret).await?;
    // serde's message may quote the value it could not take: scrubbed before it is cut.
    serde_json::from_slice(&body)
        .map_err(|e| SourceError::Decode(clean_line(&crate::domain::secret::scrub(&e.to_string()))))
}

/// Send a request and return the body of a 2xx answer.
pub async fn send(req: reqwest::RequestBuilder, timeout: Duration) -> Result<Vec<u8>, SourceError> {
    send_with_secret(req, timeout, None).await
}

/// [`send`] for a request that carries `secret`. The error body is scrubbed of it before it is
/// shortened into a message, so no part of a long token (a JWT) survives the cut.
pub async fn send_with_secret(
    req: reqwest::RequestBuilder,
    timeout: Duration,
    secret: Option<&Secret>,
) -> Result<Vec<u8>, SourceError> {
    let resp = req.send().await.map_err(|e| transport_error(e, timeout))?;
    let status = resp.status();
    let body = read_limited(resp, MAX_BODY_BYTES, timeout).await?;
    if status.is_success() {
        return Ok(body);
    }
    let body = match secret {
        Some(s) => s.scrub(&String::from_utf8_lossy(&body)).into_bytes(),
        None => body,
    };
    Err(SourceError::Http { status: status.as_u16(), message: error_message(&body) })
}

/// A list read item by item: one item that cannot be read (a number out of range, a field of
/// the wrong type, no id) is skipped and counted, and never costs the rest of the list.
#[derive(Debug, Clone, PartialEq)]
pub struct Items<T> {
    pub items: Vec<T>,
    /// Items that could not be read, and why the first one could not.
    pub skipped: usize,
    pub why: Option<String>,
    /// Items beyond the most one source may keep (`items` holds the first ones).
    pub beyond_cap: usize,
}

impl<T> Items<T> {
    fn new() -> Self {
        Items { items: Vec::new(), skipped: 0, why: None, beyond_cap: 0 }
    }

    fn skip(&mut self, why: String) {
        self.skipped += 1;
        self.why.get_or_insert(why);
    }
}

/// A JSON array's items, each turned into `T` by `read` (`Err` says why it is skipped), at most
/// `cap` of them. The array itself is only split, not parsed: a body whose top is not an array
/// is an error; `null` is an empty list (CrowdSec's "nothing matches").
pub fn items<T>(
    body: &[u8],
    what: &str,
    cap: usize,
    read: impl Fn(&serde_json::Value) -> Result<T, String>,
) -> Result<Items<T>, SourceError> {
    if body.trim_ascii() == b"null" {
        return Ok(Items::new());
    }
    let raw: Vec<&serde_json::value::RawValue> = serde_json::from_slice(body)
        .map_err(|e| SourceError::Decode(clean_line(&format!("{what}: not a list: {e}"))))?;
    Ok(items_of(raw, cap, read))
}

/// [`items`] over items already split out of an answer.
pub fn items_of<T>(
    raw: Vec<&serde_json::value::RawValue>,
    cap: usize,
    read: impl Fn(&serde_json::Value) -> Result<T, String>,
) -> Items<T> {
    let mut out = Items::new();
    for item in raw {
        if out.items.len() >= cap {
            out.beyond_cap += 1;
            continue;
        }
        match serde_json::from_str::<serde_json::Value>(item.get()) {
            Ok(v) => match read(&v) {
                Ok(t) => out.items.push(t),
                Err(why) => out.skip(why),
            },
            Err(e) => out.skip(clean_line(&e.to_string())),
        }
    }
    out
}

/// Join a base URL and a path, whatever slashes either has.
pub fn join(base: &str, path: &str) -> String {
    format!("{}/{}", base.trim_end_matches('/'), path.trim_start_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_of_every_shape() {
        assert_eq!(error_message(br#""end time can't be in the past""#), "end time can't be in the past");
        assert_eq!(
            error_message(br#"{"code":602,"message":"matchers in body is required"}"#),
            "matchers in body is required"
        );
        assert_eq!(error_message(br#"{"status":"error","errorType":"bad_data","error":"parse error"}"#), "parse error");
        assert_eq!(
            error_message(br#"{"detail":[{"loc":["body"],"msg":"field required"}]}"#),
            r#"[{"loc":["body"],"msg":"field required"}]"#
        );
        assert_eq!(
            error_message(br#"{"error":{"message":"Authentication Error, Invalid proxy server token passed","type":"auth_error","param":"None","code":"401"}}"#),
            "Authentication Error, Invalid proxy server token passed"
        );
        assert_eq!(
            error_message(br#"{"error":"model \"nomic\" not found, try pulling it first"}"#),
            r#"model "nomic" not found, try pulling it first"#
        );
        assert_eq!(error_message(b""), "(no body)");
        assert_eq!(error_message(b"\x1b[2Jgateway down"), "^[[2Jgateway down");
    }

    #[test]
    fn one_unreadable_item_is_skipped_and_counted() {
        let body = br#"[{"id":1},{"id":1e400},{"id":"x"},{"id":3}]"#;
        let read = |v: &serde_json::Value| v["id"].as_i64().ok_or_else(|| "no id".to_string());
        let got = items(body, "alerts", 10, read).expect("a list");
        assert_eq!(got.items, [1, 3]);
        assert_eq!(got.skipped, 2);
        assert!(got.why.is_some_and(|w| w.contains("number out of range")), "the first reason is kept");
        let capped = items(body, "alerts", 1, read).expect("a list");
        assert_eq!((capped.items.len(), capped.beyond_cap), (1, 3));
        assert!(items(b"{}", "alerts", 10, read).is_err(), "not a list at all");
        assert!(items(b"null", "alerts", 10, read).is_ok_and(|i| i.items.is_empty()));
    }

    #[test]
    fn joins_urls() {
        assert_eq!(join("http://a:1/", "/api/v2/alerts"), "http://a:1/api/v2/alerts");
        assert_eq!(join("http://a:1/am", "api/v2/alerts"), "http://a:1/am/api/v2/alerts");
    }
}
