//! Stand-ins for the HTTP services that cannot run here: Zammad (APIS.md §4), ntfy (APIS.md §5)
//! and the AI gateway (CONTRACT.md §2), as used by the approval flow (CONTRACT.md §4). Each one
//! answers with the service's own success and error shapes, and keeps what it was sent so a test
//! can check it after the call returns:
//!
//! - every stand-in records every request it read (`requests()`): method, path, raw query,
//!   lower-cased headers, body; recorded *before* any reply, even when `Down` closes without one;
//! - [`Zammad`] (`Authorization: Token token=…`) searches by title (`GET /api/v1/tickets/search`,
//!   an array, names only with `expand=true`), creates (`POST /api/v1/tickets`, 201) and reads
//!   (`GET /api/v1/tickets/{id}`) tickets, and keeps each with the article it came with
//!   (`tickets()`); `preload` plants a ticket as if an earlier run had crashed after creating it;
//! - [`Ntfy`] (`Authorization: Bearer …`) takes `POST`/`PUT /<topic>` with the header aliases,
//!   RFC 2047 `=?UTF-8?B?…?=` values and priority names, and keeps the messages (`messages()`).
//!   Publishing JSON to `/` is not modelled (404): the contract publishes by topic;
//! - [`Gateway`] (`Authorization: Bearer …`) takes `POST /api/v1/analyze` with FastAPI's 422s,
//!   deduplicates on `alert_type|source|hostname|description` (trimmed, lower-cased) within a
//!   window (600 s), answers `GET /health`, and keeps every analyze body (`analyses()`).
//!
//! [`Behaviour`] switches a stand-in at runtime: `Down` closes the connection without a reply,
//! `Status(s)` answers everything with `s` and the service's error body, `DelayMs(ms)` sleeps and
//! then answers normally (so a ticket is still created after a client has timed out, as a slow
//! server would). Servers live until the test process ends.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

/// How a stand-in answers; switch it with `set`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Behaviour {
    #[default]
    Normal,
    /// Read the request, then close the connection without a reply.
    Down,
    /// Answer every request with this status and the service's own error body.
    Status(u16),
    /// Sleep this long, then answer normally.
    DelayMs(u64),
}

/// One request as the stand-in read it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// The path only, without the query.
    pub path: String,
    /// The raw query string (still percent-encoded), empty when there was none.
    pub query: String,
    /// Header names lower-cased, in the order sent.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Recorded {
    /// The first header of that name (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON, `Null` when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// A query parameter, percent-decoded (`+` is a space).
    pub fn param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k) == name).then(|| percent_decode(v))
        })
    }
}

/// Status, extra headers, JSON body.
type Reply = (u16, Vec<(&'static str, String)>, Value);
/// A service's answer to a request; `Some(status)` when `Behaviour::Status` asks for a failure.
type Handler = dyn Fn(&Recorded, Option<u16>) -> Reply + Send + Sync;

/// The HTTP/1.1 core shared by the stand-ins: one thread per connection, one request per
/// connection (`Connection: close`).
pub struct Server {
    addr: SocketAddr,
    behaviour: Arc<Mutex<Behaviour>>,
    seen: Arc<Mutex<Vec<Recorded>>>,
}

impl Server {
    fn start<F>(handler: F) -> Server
    where
        F: Fn(&Recorded, Option<u16>) -> Reply + Send + Sync + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let behaviour = Arc::new(Mutex::new(Behaviour::Normal));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let (b, s) = (behaviour.clone(), seen.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (b, s, h) = (b.clone(), s.clone(), handler.clone());
                std::thread::spawn(move || serve(conn, &b, &s, h.as_ref()));
            }
        });
        Server { addr, behaviour, seen }
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every request read so far, oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        self.seen.lock().expect("recorded requests").clone()
    }

    pub fn set(&self, behaviour: Behaviour) {
        *self.behaviour.lock().expect("behaviour") = behaviour;
    }
}

fn serve(mut conn: TcpStream, behaviour: &Mutex<Behaviour>, seen: &Mutex<Vec<Recorded>>, handler: &Handler) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let Some(request) = read_request(&conn) else { return };
    seen.lock().expect("recorded requests").push(request.clone());
    let current = *behaviour.lock().expect("behaviour"); // copied: never sleep holding the lock
    let fail = match current {
        Behaviour::Down => return, // dropping the stream closes it; the whole request was read
        Behaviour::Status(status) => Some(status),
        Behaviour::DelayMs(ms) => {
            std::thread::sleep(Duration::from_millis(ms));
            None
        }
        Behaviour::Normal => None,
    };
    let (status, headers, body) = handler(&request, fail);
    // A `Content-Type` of the handler's own (Prometheus text) comes with a raw string body.
    let (body, content_type) = match (&body, headers.iter().find(|(n, _)| *n == "Content-Type")) {
        (Value::String(text), Some((_, ct))) => (text.clone(), ct.clone()),
        _ => (body.to_string(), "application/json".to_string()),
    };
    let headers: Vec<_> = headers.into_iter().filter(|(n, _)| *n != "Content-Type").collect();
    let extra: String = headers.iter().map(|(name, value)| [*name, ": ", value.as_str(), "\r\n"].concat()).collect();
    let head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n{extra}\r\n",
        reason(status),
        body.len()
    );
    let _ = conn.write_all(format!("{head}{body}").as_bytes());
    let _ = conn.shutdown(Shutdown::Write);
}

/// Request line, headers and the whole body (`Content-Length`: reqwest sends it), so that closing
/// the connection never resets it with unread data.
fn read_request(conn: &TcpStream) -> Option<Recorded> {
    let mut reader = BufReader::new(conn);
    let mut line = || -> Option<String> {
        let mut buf = Vec::new();
        reader.read_until(b'\n', &mut buf).ok()?;
        Some(String::from_utf8_lossy(&buf).trim_end_matches(['\r', '\n']).to_string())
    };
    let request_line = line()?;
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next()?.to_string(), parts.next()?.to_string());
    let mut headers = Vec::new();
    loop {
        let header = line()?;
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    let length = headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse::<usize>().ok());
    let mut body = vec![0; length.unwrap_or(0)];
    reader.read_exact(&mut body).ok()?;
    let (path, query) = target.split_once('?').unwrap_or((target.as_str(), ""));
    Some(Recorded {
        method,
        path: path.to_string(),
        query: query.to_string(),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

// ---------------------------------------------------------------------------------- Zammad

/// Default ids (APIS.md §4): id = position + 1.
const STATES: [&str; 4] = ["new", "open", "pending reminder", "closed"];
const PRIORITIES: [&str; 3] = ["1 low", "2 normal", "3 high"];

#[derive(Default)]
struct Tickets {
    /// Stored tickets: the expanded ticket object plus `"articles"`.
    list: Vec<Value>,
    /// Group names; a group's id is its position + 1.
    groups: Vec<String>,
}

impl Tickets {
    fn insert(
        &mut self,
        title: &str,
        group: &str,
        state: usize,
        priority: usize,
        customer_id: i64,
        article: Option<Value>,
    ) -> Value {
        let id = self.list.len() + 1;
        let group_id = match self.groups.iter().position(|g| g == group) {
            Some(i) => i + 1,
            None => {
                self.groups.push(group.to_string());
                self.groups.len()
            }
        };
        let now = rfc3339(since_epoch());
        let articles: Vec<Value> = article.into_iter().collect();
        let ticket = json!({
            "id": id, "number": (86000 + id).to_string(), "title": title,
            "group_id": group_id, "state_id": state, "priority_id": priority, "owner_id": 1,
            "customer_id": customer_id, "organization_id": null, "article_count": articles.len(),
            "created_at": now, "updated_at": now,
            "group": group, "state": STATES[state - 1], "priority": PRIORITIES[priority - 1],
            "articles": articles,
        });
        self.list.push(ticket.clone());
        ticket
    }
}

/// Zammad's REST API for tickets (APIS.md §4).
pub struct Zammad {
    server: Server,
    store: Arc<Mutex<Tickets>>,
}

impl std::ops::Deref for Zammad {
    type Target = Server;
    fn deref(&self) -> &Server {
        &self.server
    }
}

impl Zammad {
    /// Requires `Authorization: Token token=<token>`.
    pub fn start(token: &str) -> Zammad {
        let store = Arc::new(Mutex::new(Tickets::default()));
        let (s, token) = (store.clone(), token.to_string());
        let server = Server::start(move |req, fail| zammad_reply(req, fail, &token, &s));
        Zammad { server, store }
    }

    /// Every stored ticket (names expanded) with an `"articles"` array of the articles as received.
    pub fn tickets(&self) -> Vec<Value> {
        self.store.lock().expect("zammad tickets").list.clone()
    }

    /// Store a ticket (group "Users", open, "2 normal", one internal note) without a request, as
    /// if a run had created it and then crashed. Returns it as `tickets()` would.
    pub fn preload(&self, title: &str) -> Value {
        let note = json!({"subject": "preloaded", "body": "created before a crash", "type": "note", "internal": true});
        self.store.lock().expect("zammad tickets").insert(title, "Users", 2, 2, 1, Some(note))
    }
}

fn zammad_reply(req: &Recorded, fail: Option<u16>, token: &str, store: &Mutex<Tickets>) -> Reply {
    if let Some(status) = fail {
        return zammad_status(status);
    }
    let auth = req.header("authorization").unwrap_or_default();
    if auth != format!("Token token={token}") && auth != format!("Token token=\"{token}\"") {
        return (401, vec![("X-Failure", "auth".to_string())], json!({"error": "authentication failed"}));
    }
    let expand = req.param("expand").is_some_and(|v| v == "true");
    let mut store = store.lock().expect("zammad tickets");
    match (req.method.as_str(), req.path.trim_end_matches('/')) {
        ("GET", "/api/v1/tickets/search") => {
            let phrase = search_phrase(&req.param("query").unwrap_or_default());
            let number = |name: &str, default: usize| req.param(name).and_then(|v| v.parse().ok()).unwrap_or(default);
            let per_page = number("per_page", number("limit", 50)).clamp(1, 200);
            let page = number("page", 1).max(1);
            let hits = store
                .list
                .iter()
                .filter(|t| t["title"].as_str().is_some_and(|title| title.to_lowercase().contains(&phrase)))
                .skip((page - 1) * per_page)
                .take(per_page)
                .map(|t| public(t, expand))
                .collect();
            (200, vec![], Value::Array(hits))
        }
        ("POST", "/api/v1/tickets") => create_ticket(&mut store, &req.json()),
        ("GET", path) if path.starts_with("/api/v1/tickets/") => {
            let id = path.strip_prefix("/api/v1/tickets/").unwrap_or_default();
            let wanted: Option<u64> = id.parse().ok();
            match store.list.iter().find(|t| wanted.is_some() && t["id"].as_u64() == wanted) {
                Some(ticket) => (200, vec![], public(ticket, expand)),
                None => (404, vec![], json!({"error": format!("Couldn't find Ticket with 'id'={id}")})),
            }
        }
        (method, path) => {
            let error = format!("No route matches [{method}] \"{path}\"");
            (404, vec![], json!({"error": error, "error_human": error}))
        }
    }
}

fn create_ticket(store: &mut Tickets, body: &Value) -> Reply {
    let invalid = |error: String| (422, vec![], json!({"error": error, "error_human": error}));
    let text = |field: &str| body[field].as_str().map(str::trim).filter(|s| !s.is_empty()).map(String::from);
    let Some(title) = text("title") else { return invalid("Title can't be blank".into()) };
    let Some(group) = text("group") else { return invalid("Group can't be blank".into()) };
    let state = match lookup(body, "state", &STATES, 1) {
        Ok(id) => id,
        Err(e) => return invalid(e),
    };
    let priority = match lookup(body, "priority", &PRIORITIES, 2) {
        Ok(id) => id,
        Err(e) => return invalid(e),
    };
    let article = body.get("article").filter(|a| a.is_object()).cloned();
    let ticket = store.insert(&title, &group, state, priority, body["customer_id"].as_i64().unwrap_or(1), article);
    (201, vec![], public(&ticket, true))
}

/// A name (`"state":"open"`) or an id (`"state_id":2`) from a look-up table; absent → `default`.
fn lookup(body: &Value, field: &str, table: &[&str], default: usize) -> Result<usize, String> {
    let by_id = body[format!("{field}_id")].as_u64().and_then(|id| usize::try_from(id).ok());
    match (&body[field], by_id) {
        (Value::String(name), _) => table
            .iter()
            .position(|n| *n == name.as_str())
            .map(|i| i + 1)
            .ok_or_else(|| format!("No lookup value found for '{field}': {name:?}")),
        (Value::Null, Some(id)) if (1..=table.len()).contains(&id) => Ok(id),
        (Value::Null, None) => Ok(default),
        (other, id) => Err(format!("No lookup value found for '{field}': {other} (id {id:?})")),
    }
}

/// The ticket as the API returns it: no articles; names only with `expand=true`.
fn public(ticket: &Value, expand: bool) -> Value {
    let mut ticket = ticket.clone();
    if let Some(map) = ticket.as_object_mut() {
        map.remove("articles");
        if !expand {
            for name in ["group", "state", "priority"] {
                map.remove(name);
            }
        }
    }
    ticket
}

/// `title:"[job abc]"`, `"[job abc]"` or `[job abc]` (backslash escapes dropped) → `[job abc]`,
/// lower-cased: the search matches case-insensitively, as Zammad's does.
fn search_phrase(query: &str) -> String {
    let q = query.trim();
    let q = q.strip_prefix("title:").unwrap_or(q).trim();
    let q = q.strip_prefix('"').and_then(|q| q.strip_suffix('"')).unwrap_or(q);
    q.replace('\\', "").to_lowercase()
}

fn zammad_status(status: u16) -> Reply {
    match status {
        401 | 403 => {
            let error = if status == 401 { "authentication failed" } else { "Not authorized" };
            (status, vec![("X-Failure", "auth".to_string())], json!({"error": error, "error_human": error}))
        }
        500 => (500, vec![], json!({"error": "Error ID abc123: Please contact your administrator."})),
        s => (s, vec![], json!({"error": reason(s), "error_human": reason(s)})),
    }
}

// ---------------------------------------------------------------------------------- ntfy

const NTFY_AUTH_LINK: &str = "https://ntfy.sh/docs/publish/#authentication";

/// A message ntfy accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NtfyMessage {
    pub topic: String,
    pub title: Option<String>,
    pub priority: Option<u8>,
    pub tags: Vec<String>,
    pub click: Option<String>,
    pub message: String,
}

/// ntfy's publish API (APIS.md §5).
pub struct Ntfy {
    server: Server,
    messages: Arc<Mutex<Vec<NtfyMessage>>>,
}

impl std::ops::Deref for Ntfy {
    type Target = Server;
    fn deref(&self) -> &Server {
        &self.server
    }
}

impl Ntfy {
    /// Requires `Authorization: Bearer <token>`.
    pub fn start(token: &str) -> Ntfy {
        let messages = Arc::new(Mutex::new(Vec::new()));
        let (m, auth) = (messages.clone(), format!("Bearer {token}"));
        let server = Server::start(move |req, fail| ntfy_reply(req, fail, &auth, &m));
        Ntfy { server, messages }
    }

    /// Every accepted message, oldest first.
    pub fn messages(&self) -> Vec<NtfyMessage> {
        self.messages.lock().expect("ntfy messages").clone()
    }
}

fn ntfy_reply(req: &Recorded, fail: Option<u16>, auth: &str, messages: &Mutex<Vec<NtfyMessage>>) -> Reply {
    if let Some(status) = fail {
        return ntfy_status(status);
    }
    if req.header("authorization") != Some(auth) {
        return ntfy_status(401);
    }
    let topic = req.path.trim_start_matches('/');
    let valid = !topic.is_empty()
        && topic.len() <= 64
        && topic.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid || !matches!(req.method.as_str(), "POST" | "PUT") {
        return ntfy_status(404);
    }
    // A header under any alias, else the same name as a query parameter; RFC 2047 decoded.
    let param = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| req.header(n).map(String::from).or_else(|| req.param(n)))
            .map(|v| decode_rfc2047(v.trim()))
            .filter(|v| !v.is_empty())
    };
    let priority = param(&["x-priority", "priority", "prio", "p"]).map(|p| ntfy_priority(&p).ok_or(())).transpose();
    let Ok(priority) = priority else {
        return ntfy_error(400, 40007, "invalid priority", "https://ntfy.sh/docs/publish/#message-priority");
    };
    let message = NtfyMessage {
        topic: topic.to_string(),
        title: param(&["x-title", "title", "t"]),
        priority,
        tags: param(&["x-tags", "tags", "tag", "ta"])
            .map(|t| t.split(',').map(str::trim).filter(|t| !t.is_empty()).map(String::from).collect())
            .unwrap_or_default(),
        click: param(&["x-click", "click"]),
        message: if req.body.is_empty() { "triggered".to_string() } else { req.body.clone() },
    };
    messages.lock().expect("ntfy messages").push(message.clone());
    let time = since_epoch().as_secs();
    let mut reply = json!({"id": message_id(), "time": time, "expires": time + 43200, "event": "message",
                           "topic": message.topic, "message": message.message});
    if let Some(title) = message.title {
        reply["title"] = json!(title);
    }
    if let Some(priority) = message.priority {
        reply["priority"] = json!(priority);
    }
    if !message.tags.is_empty() {
        reply["tags"] = json!(message.tags);
    }
    if let Some(click) = message.click {
        reply["click"] = json!(click);
    }
    (200, vec![], reply)
}

/// ntfy's `ParsePriority`.
fn ntfy_priority(value: &str) -> Option<u8> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "min" => Some(1),
        "2" | "low" => Some(2),
        "3" | "default" => Some(3),
        "4" | "high" => Some(4),
        "5" | "max" | "urgent" => Some(5),
        _ => None,
    }
}

/// ntfy's error body for a status: code = status × 100 + 1 (40101, 40301, 42901, 50001…).
fn ntfy_status(status: u16) -> Reply {
    let (error, link) = match status {
        401 => ("unauthorized".to_string(), NTFY_AUTH_LINK),
        403 => ("forbidden".to_string(), NTFY_AUTH_LINK),
        404 => ("page not found".to_string(), ""),
        429 => ("limit reached: too many requests".to_string(), "https://ntfy.sh/docs/publish/#limitations"),
        s => (reason(s).to_lowercase(), ""),
    };
    ntfy_error(status, u32::from(status) * 100 + 1, &error, link)
}

fn ntfy_error(http: u16, code: u32, error: &str, link: &str) -> Reply {
    let mut body = json!({"code": code, "http": http, "error": error});
    if !link.is_empty() {
        body["link"] = json!(link);
    }
    (http, vec![], body)
}

// ---------------------------------------------------------------------------------- gateway

const REQUIRED: [&str; 6] = ["alert_type", "source", "hostname", "severity", "timestamp", "description"];

struct GatewayState {
    /// dedup key → (job id, first seen); a repeat does not extend the window (`SET NX` + TTL).
    seen: HashMap<String, (String, Instant)>,
    next: u32,
    window: Duration,
    analyses: Vec<Value>,
    /// What `GET /metrics` answers (Prometheus text); `set_metrics` changes it.
    metrics: String,
}

/// The AI gateway (CONTRACT.md §2): analyze and health.
pub struct Gateway {
    server: Server,
    state: Arc<Mutex<GatewayState>>,
}

impl std::ops::Deref for Gateway {
    type Target = Server;
    fn deref(&self) -> &Server {
        &self.server
    }
}

impl Gateway {
    /// Requires `Authorization: Bearer <token>` on every path.
    pub fn start(token: &str) -> Gateway {
        let state = Arc::new(Mutex::new(GatewayState {
            seen: HashMap::new(),
            next: 0,
            window: Duration::from_secs(600),
            analyses: Vec::new(),
            metrics: String::new(),
        }));
        let (s, auth) = (state.clone(), format!("Bearer {token}"));
        let server = Server::start(move |req, fail| gateway_reply(req, fail, &auth, &s));
        Gateway { server, state }
    }

    /// The dedup window (default 600 s).
    pub fn set_window(&self, secs: u64) {
        self.state.lock().expect("gateway state").window = Duration::from_secs(secs);
    }

    /// The exposition `GET /metrics` answers from now on.
    pub fn set_metrics(&self, text: &str) {
        self.state.lock().expect("gateway state").metrics = text.to_string();
    }

    /// Every JSON body `POST /api/v1/analyze` received (rejected ones included), oldest first.
    pub fn analyses(&self) -> Vec<Value> {
        self.state.lock().expect("gateway state").analyses.clone()
    }
}

fn gateway_reply(req: &Recorded, fail: Option<u16>, auth: &str, state: &Mutex<GatewayState>) -> Reply {
    if let Some(status) = fail {
        return detail(status);
    }
    if req.header("authorization") != Some(auth) {
        return detail(401);
    }
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/health") => (200, vec![], json!({"status": "healthy", "components": {}})),
        ("GET", "/metrics") => {
            let text = state.lock().expect("gateway state").metrics.clone();
            (200, vec![("Content-Type", "text/plain; version=0.0.4; charset=utf-8".to_string())], Value::String(text))
        }
        ("POST", "/api/v1/analyze") => analyze(&req.body, state),
        (_, "/health" | "/api/v1/analyze" | "/metrics") => detail(405),
        _ => detail(404),
    }
}

fn analyze(raw: &str, state: &Mutex<GatewayState>) -> Reply {
    let unprocessable = |errors: Value| (422, vec![], json!({"detail": errors}));
    if raw.trim().is_empty() {
        return unprocessable(json!([{"type": "missing", "loc": ["body"], "msg": "Field required", "input": null}]));
    }
    let body: Value = match serde_json::from_str(raw) {
        Ok(body) => body,
        Err(e) => {
            return unprocessable(json!([{"type": "json_invalid", "loc": ["body", e.column()],
                                         "msg": "JSON decode error", "input": {}, "ctx": {"error": e.to_string()}}]));
        }
    };
    let mut state = state.lock().expect("gateway state");
    state.analyses.push(body.clone());
    if !body.is_object() {
        let msg = "Input should be a valid dictionary or object to extract fields from";
        return unprocessable(json!([{"type": "model_attributes_type", "loc": ["body"], "msg": msg, "input": body}]));
    }
    let errors: Vec<Value> = REQUIRED
        .into_iter()
        .filter_map(|field| match body.get(field) {
            Some(Value::String(_)) => None,
            None => Some(json!({"type": "missing", "loc": ["body", field], "msg": "Field required", "input": null})),
            Some(other) => Some(json!({"type": "string_type", "loc": ["body", field],
                                       "msg": "Input should be a valid string", "input": other})),
        })
        .collect();
    if !errors.is_empty() {
        return unprocessable(Value::Array(errors));
    }
    let key = ["alert_type", "source", "hostname", "description"]
        .into_iter()
        .map(|field| body[field].as_str().unwrap_or_default().trim().to_lowercase())
        .collect::<Vec<_>>()
        .join("|");
    let (now, window) = (Instant::now(), state.window);
    let hit = state.seen.get(&key).filter(|(_, at)| now.duration_since(*at) < window).map(|(id, _)| id.clone());
    let (job_id, deduplicated) = match hit {
        Some(id) => (id, true),
        None => {
            state.next += 1;
            let id = format!("gw-{:08x}", state.next);
            state.seen.insert(key, (id.clone(), now));
            (id, false)
        }
    };
    (202, vec![], json!({"job_id": job_id, "status": "queued", "deduplicated": deduplicated}))
}

/// FastAPI's `{"detail": "…"}`.
fn detail(status: u16) -> Reply {
    let (text, headers) = match status {
        401 => ("Not authenticated", vec![("WWW-Authenticate", "Bearer".to_string())]),
        403 => ("Not authorized", vec![]),
        s => (reason(s), vec![]),
    };
    (status, headers, json!({"detail": text}))
}

// ---------------------------------------------------------------------------------- helpers

fn reason(status: u16) -> &'static str {
    const REASONS: [(u16, &str); 16] = [
        (200, "OK"),
        (201, "Created"),
        (202, "Accepted"),
        (400, "Bad Request"),
        (401, "Unauthorized"),
        (403, "Forbidden"),
        (404, "Not Found"),
        (405, "Method Not Allowed"),
        (409, "Conflict"),
        (413, "Payload Too Large"),
        (422, "Unprocessable Entity"),
        (429, "Too Many Requests"),
        (500, "Internal Server Error"),
        (502, "Bad Gateway"),
        (503, "Service Unavailable"),
        (504, "Gateway Timeout"),
    ];
    REASONS.iter().find(|(s, _)| *s == status).map_or("Unknown Status", |(_, r)| *r)
}

fn since_epoch() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default()
}

/// `2026-01-01T10:00:00.000Z` (civil-from-days, H. Hinnant).
fn rfc3339(t: Duration) -> String {
    let at = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH + t;
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// URL query decoding: `%XX` bytes, `+` as a space.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'+', _) => out.push(b' '),
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 2;
            }
            (byte, _) => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// RFC 2047 encoded words `=?UTF-8?B?…?=` (any case), several separated by spaces; a value
/// that is not entirely encoded words is returned as it is.
fn decode_rfc2047(value: &str) -> String {
    let mut bytes = Vec::new();
    for word in value.split_whitespace() {
        let decoded = word.strip_prefix("=?").and_then(|w| w.strip_suffix("?=")).and_then(|w| {
            let mut parts = w.splitn(3, '?');
            let (charset, encoding, text) = (parts.next()?, parts.next()?, parts.next()?);
            let utf8_base64 = charset.eq_ignore_ascii_case("utf-8") && encoding.eq_ignore_ascii_case("b");
            utf8_base64.then_some(text).and_then(base64_decode)
        });
        match decoded {
            Some(decoded) => bytes.extend(decoded),
            None => return value.to_string(),
        }
    }
    String::from_utf8(bytes).unwrap_or_else(|_| value.to_string())
}

/// Standard or URL-safe base64, padding optional.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let (mut out, mut acc, mut bits) = (Vec::new(), 0u32, 0u32);
    for c in text.bytes().filter(|&c| c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = ((acc << 6) | u32::from(v)) & 0xffff;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// An ntfy-like message id: 10 characters of [0-9a-f], unique within the process.
fn message_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    let salt = since_epoch().subsec_nanos() & 0xffff;
    format!("{salt:04x}{:06x}", COUNTER.fetch_add(1, Ordering::Relaxed) & 0xff_ffff)
}
