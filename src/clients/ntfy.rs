//! ntfy's publish API (APIS.md §5): `POST {url}/{topic}` with the title, priority, tags and
//! click URL as headers and the message as the body.

use std::time::Duration;

use base64::Engine;

use super::error::SourceError;
use super::http;
use crate::domain::Secret;
use crate::domain::action::Notification;

pub struct NtfyClient {
    http: reqwest::Client,
    base: String,
    topic: String,
    token: Option<Secret>,
    timeout: Duration,
}

impl NtfyClient {
    pub fn new(base: &str, topic: &str, token: Option<Secret>, timeout: Duration) -> Result<Self, SourceError> {
        Ok(NtfyClient { http: http::client(timeout)?, base: base.into(), topic: topic.into(), token, timeout })
    }

    pub async fn publish(&self, n: &Notification) -> Result<(), SourceError> {
        let mut req = self
            .http
            .post(http::join(&self.base, &self.topic))
            .header("Title", header_value(&n.title))
            .header("Priority", n.priority.to_string())
            .header("Tags", header_value(&n.tags.join(",")))
            .header("Content-Type", "text/plain; charset=utf-8")
            .body(n.body.clone());
        if let Some(click) = &n.click {
            req = req.header("Click", header_value(click));
        }
        if let Some(t) = &self.token {
            req = req.bearer_auth(t.expose());
        }
        http::send_with_secret(req, self.timeout, self.token.as_ref()).await.map(|_| ())
    }
}

/// A header value as is when it is printable ASCII, else RFC 2047-encoded (`=?UTF-8?B?…?=`),
/// which ntfy decodes: a title may be in any script, or hold a newline.
pub fn header_value(s: &str) -> String {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) && !s.starts_with("=?") {
        s.to_string()
    } else {
        format!("=?UTF-8?B?{}?=", base64::engine::general_purpose::STANDARD.encode(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_ascii_and_controls_are_encoded() {
        assert_eq!(header_value("db-01 disk full"), "db-01 disk full");
        assert_eq!(header_value("数据库"), "=?UTF-8?B?5pWw5o2u5bqT?=");
        assert!(header_value("a\nb").starts_with("=?UTF-8?B?"));
    }
}
