//! Zammad's REST API (APIS.md §4), only what an approval needs: find a ticket by the `[job J]`
//! mark in its title, and open one with an internal note.

use std::time::Duration;

use serde_json::{Value, json};

use super::error::SourceError;
use super::http;
use crate::domain::Secret;
use crate::domain::action::{NewTicket, Ticket};

pub struct ZammadClient {
    http: reqwest::Client,
    base: String,
    token: Option<Secret>,
    /// `customer_id: "guess:<email>"` on new tickets.
    customer: Option<String>,
    timeout: Duration,
}

impl ZammadClient {
    pub fn new(
        base: &str,
        token: Option<Secret>,
        customer: Option<String>,
        timeout: Duration,
    ) -> Result<Self, SourceError> {
        Ok(ZammadClient { http: http::client(timeout)?, base: base.to_string(), token, customer, timeout })
    }

    fn auth(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let req = req.header("Content-Type", "application/json");
        match &self.token {
            Some(t) => req.header("Authorization", format!("Token token={}", t.expose())),
            None => req,
        }
    }

    /// The ticket whose title carries `marker`. Zammad's search is fuzzy (Elasticsearch, or a
    /// database LIKE without it), so it is asked for the job id and each answer's title is
    /// checked for the exact mark.
    pub async fn find(&self, job_id: &str, marker: &str) -> Result<Option<Ticket>, SourceError> {
        let req = self.http.get(http::join(&self.base, "/api/v1/tickets/search")).query(&[
            ("query", job_id),
            ("expand", "true"),
            ("per_page", "50"),
        ]);
        let body: Value = http::json_with_secret(self.auth(req), self.timeout, self.token.as_ref()).await?;
        // Current Zammad answers an array; older versions `{"tickets": [...], "assets": {...}}`.
        let tickets = match &body {
            Value::Array(a) => a.clone(),
            other => other
                .pointer("/assets/Ticket")
                .and_then(|t| t.as_object())
                .map(|m| m.values().cloned().collect())
                .unwrap_or_default(),
        };
        Ok(tickets
            .iter()
            .filter(|t| t.get("title").and_then(|s| s.as_str()).is_some_and(|s| s.contains(marker)))
            .filter_map(|t| self.ticket(t))
            .min_by_key(|t| t.id.parse::<u64>().unwrap_or(u64::MAX)))
    }

    /// Open a ticket: state open, the draft's title and group, the priority by name, and the
    /// internal note as its first article.
    pub async fn create(&self, t: &NewTicket) -> Result<Ticket, SourceError> {
        let mut body = json!({
            "title": t.title,
            "group": t.group,
            "state": "open",
            "priority": t.priority,
            "article": {
                "subject": t.title,
                "body": t.note,
                "type": "note",
                "internal": true,
                "content_type": "text/plain",
            },
        });
        if let Some(c) = &self.customer {
            body["customer_id"] = json!(format!("guess:{c}"));
        }
        let req = self.http.post(http::join(&self.base, "/api/v1/tickets")).json(&body);
        let answer: Value = http::json_with_secret(self.auth(req), self.timeout, self.token.as_ref()).await?;
        self.ticket(&answer).ok_or_else(|| SourceError::Decode("ticket without an id".into()))
    }

    /// A ticket object; ids may come as numbers or strings, the number is a string.
    fn ticket(&self, v: &Value) -> Option<Ticket> {
        let text = |k: &str| match v.get(k)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        let id = text("id")?;
        Some(Ticket {
            url: http::join(&self.base, &format!("/#ticket/zoom/{id}")),
            number: text("number").unwrap_or_default(),
            title: text("title").unwrap_or_default(),
            id,
        })
    }
}
