//! Approving, rejecting, retrying and cancelling against a real Redis, with stand-ins for
//! Zammad, ntfy and the gateway that follow APIS.md §4–§5 and CONTRACT.md §2 and record every
//! request: CONTRACT.md §4 step by step, the atomic status checks, the failure paths, and two
//! processes deciding the same job at once.
#![allow(clippy::disallowed_macros)] // a test or bench reports on its own terminal

mod harness;

use std::process::Command;
use std::sync::Arc;

use harness::standins::{Behaviour, Gateway, Ntfy, Zammad};
use harness::{Redis, mcptop_bin, seed_job};
use mcptop::actions::{ActionError, ActionRequest, Actions, JobRef};
use mcptop::audit::{AuditLog, Outcome, Query};
use mcptop::config::{ContextConfig, FileConfig, NtfyConfig, Overrides, Settings, ZammadConfig};
use mcptop::domain::action::AnalysisRequest;
use mcptop::domain::{Secret, Severity};
use mcptop::sources::Sources;
use redis::Commands;
use serde_json::json;

const ZAMMAD_TOKEN: &str = "zammad-tok-7f3a9c";
const NTFY_TOKEN: &str = "tk_ntfy7f3a9c";
const GATEWAY_TOKEN: &str = "gw-tok-7f3a9c";

struct Platform {
    redis: Redis,
    zammad: Zammad,
    ntfy: Ntfy,
}

impl Platform {
    fn start() -> Platform {
        Platform { redis: Redis::start(), zammad: Zammad::start(ZAMMAD_TOKEN), ntfy: Ntfy::start(NTFY_TOKEN) }
    }

    fn context(&self, gateway: Option<&Gateway>) -> ContextConfig {
        ContextConfig {
            redis_url: Some(self.redis.url()),
            zammad: Some(ZammadConfig {
                url: self.zammad.url(),
                token: None,
                customer: Some("ops@example.com".into()),
                group: "Users".into(),
            }),
            ntfy: Some(NtfyConfig { url: self.ntfy.url(), topic: "ops-alerts".into(), token: None }),
            gateway_url: gateway.map(|g| g.url()),
            timeout_ms: 3000,
            ..Default::default()
        }
    }

    fn settings(&self, gateway: Option<&Gateway>) -> Settings {
        let mut file = FileConfig::default();
        file.contexts.insert("test".into(), self.context(gateway));
        let mut s = mcptop::config::resolve(file, &Overrides::default()).expect("settings");
        s.zammad_token = Some(Secret::new(ZAMMAD_TOKEN));
        s.ntfy_token = Some(Secret::new(NTFY_TOKEN));
        s.gateway_token = Some(Secret::new(GATEWAY_TOKEN));
        s
    }

    fn actions(&self, gateway: Option<&Gateway>) -> Actions {
        let s = self.settings(gateway);
        let sources = Sources::from_context(&s).expect("sources");
        Actions::new(&s, &sources, Arc::new(AuditLog::sqlite_memory()))
    }

    fn field(&self, id: &str, name: &str) -> Option<String> {
        self.redis.conn().hget(format!("mcp:job:{id}"), name).expect("hget")
    }

    /// A job awaiting approval, as a worker leaves it.
    fn awaiting(&self, id: &str, severity: &str) {
        let analysis = json!({"summary": "/var is 97% full on db-01", "root_cause": "log rotation stopped",
            "impact": "db-01 may stop accepting writes", "immediate_action": "rotate and compress /var/log",
            "priority": 2, "confidence": 0.82, "model": "ollama/llama3.1:8b"})
        .to_string();
        let hits = json!([{"id": 41, "score": 0.91, "text": "resize /var on db hosts", "metadata": {"src": "wiki"}}])
            .to_string();
        let draft = json!({"title": format!("[job {id}] DiskFull on db-01"), "group": "2nd Level",
            "priority": "3 high", "body": "/var on db-01 is 97% full.\nRotate the logs."})
        .to_string();
        let now = chrono::Utc::now().timestamp_millis();
        seed_job(
            &mut self.redis.conn(),
            "mcp:",
            id,
            now,
            "awaiting_approval",
            &[
                ("queue", b"analysis"),
                ("hostname", b"db-01"),
                ("alert_type", b"DiskFull"),
                ("severity", severity.as_bytes()),
                ("analysis", analysis.as_bytes()),
                ("rag_hits", hits.as_bytes()),
                ("ticket_draft", draft.as_bytes()),
                ("attempts", b"1"),
            ],
        );
    }
}

fn job(id: &str, severity: Severity) -> JobRef {
    JobRef { id: id.into(), host: Some("db-01".into()), severity }
}

fn approve(id: &str, note: Option<&str>) -> ActionRequest {
    ActionRequest::Approve {
        job: job(id, Severity::Critical),
        note: note.map(String::from),
        title: None,
        body: None,
        edited: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approving_follows_the_contract_step_by_step() {
    let p = Platform::start();
    p.awaiting("j1", "Kritisch");
    let actions = p.actions(None);
    let done = actions.run(approve("j1", Some("disk is filling fast"))).await.expect("approved");
    assert!(done.warning.is_none(), "{done:?}");

    // Zammad: searched for the job first, then one ticket created as the contract says.
    let reqs = p.zammad.requests();
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    assert_eq!((reqs[0].method.as_str(), reqs[0].path.as_str()), ("GET", "/api/v1/tickets/search"));
    assert_eq!(reqs[0].param("query").as_deref(), Some("j1"));
    assert_eq!((reqs[1].method.as_str(), reqs[1].path.as_str()), ("POST", "/api/v1/tickets"));
    for r in &reqs {
        assert_eq!(r.header("authorization"), Some(format!("Token token={ZAMMAD_TOKEN}").as_str()));
    }
    let tickets = p.zammad.tickets();
    assert_eq!(tickets.len(), 1);
    let t = &tickets[0];
    assert_eq!(t["title"], "[job j1] DiskFull on db-01");
    assert_eq!(t["group"], "2nd Level");
    assert_eq!(t["state"], "open");
    assert_eq!(t["priority"], "3 high", "Kritisch → critical → 3 high");
    let article = &t["articles"][0];
    assert_eq!(article["type"], "note");
    assert_eq!(article["internal"], true);
    let note = article["body"].as_str().unwrap_or_default();
    for part in [
        "/var on db-01 is 97% full.\nRotate the logs.",
        "Summary: /var is 97% full on db-01",
        "Root cause: log rotation stopped",
        "Impact: db-01 may stop accepting writes",
        "Immediate action: rotate and compress /var/log",
        "Confidence: 82%",
        "#41 (0.91): resize /var on db hosts",
        "Job: j1",
        "Note: disk is filling fast",
    ] {
        assert!(note.contains(part), "the internal note holds {part:?}:\n{note}");
    }

    // The job: approved, with the ticket and the decision, moved between the status sets.
    let id = t["id"].to_string();
    let url = format!("{}/#ticket/zoom/{id}", p.zammad.url());
    assert_eq!(p.field("j1", "status").as_deref(), Some("approved"));
    assert_eq!(p.field("j1", "ticket_id"), Some(id.clone()));
    assert_eq!(p.field("j1", "ticket_number"), t["number"].as_str().map(String::from));
    assert_eq!(p.field("j1", "ticket_url"), Some(url.clone()));
    assert_eq!(p.field("j1", "decision_note").as_deref(), Some("disk is filling fast"));
    assert!(p.field("j1", "decided_by").is_some_and(|b| b.starts_with("mcptop:")));
    assert!(p.field("j1", "decided_at").is_some());
    let mut c = p.redis.conn();
    assert_eq!(c.zscore::<_, _, Option<f64>>("mcp:jobs:awaiting_approval", "j1").expect("zscore"), None);
    assert!(c.zscore::<_, _, Option<f64>>("mcp:jobs:approved", "j1").expect("zscore").is_some());
    assert!(!c.exists::<_, bool>("mcp:lock:job:j1").expect("exists"), "the lock is released");

    // ntfy: the ticket title, priority 5, tags, the click URL, the body.
    let msgs = p.ntfy.messages();
    assert_eq!(msgs.len(), 1);
    let m = &msgs[0];
    assert_eq!(m.topic, "ops-alerts");
    assert_eq!(m.title.as_deref(), Some("[job j1] DiskFull on db-01"));
    assert_eq!(m.priority, Some(5));
    assert!(m.tags.contains(&"mcptop".to_string()) && m.tags.contains(&"critical".to_string()), "{:?}", m.tags);
    assert_eq!(m.click.as_deref(), Some(url.as_str()));
    assert!(m.message.contains("Impact: db-01 may stop accepting writes"), "{}", m.message);
    assert!(m.message.contains("Immediate action: rotate and compress /var/log"));
    assert!(m.message.contains(&url));
    assert!(p.ntfy.requests().iter().all(|r| r.header("authorization") == Some(&format!("Bearer {NTFY_TOKEN}"))));

    // Audited before and after; deciding again is refused without a second ticket.
    let log = actions.audit.query(&Query { limit: 10, ..Default::default() }).await.expect("audit");
    let outcomes: Vec<Outcome> = log.iter().map(|r| r.outcome).collect();
    assert_eq!(outcomes, [Outcome::Ok, Outcome::Started]);
    assert_eq!(log[0].target, "job j1");
    assert!(!log.iter().any(|r| r.params.to_string().contains(ZAMMAD_TOKEN)));
    let again = actions.run(approve("j1", None)).await;
    assert!(matches!(&again, Err(ActionError::Refused(m)) if m.contains("already approved")), "{again:?}");
    let reject = actions.run(ActionRequest::Reject { job: job("j1", Severity::Critical), note: "no".into() }).await;
    assert!(matches!(&reject, Err(ActionError::Refused(_))), "{reject:?}");
    assert_eq!(p.zammad.tickets().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_a_crash_reuses_the_ticket() {
    let p = Platform::start();
    p.awaiting("j2", "medium");
    // The ticket was created, then the process died before updating the job.
    let earlier = p.zammad.preload("[job j2] DiskFull on db-01");
    let done = p.actions(None).run(approve("j2", None)).await.expect("approved");
    assert_eq!(p.zammad.tickets().len(), 1, "no second ticket");
    assert!(p.zammad.requests().iter().all(|r| r.method == "GET"), "no POST: {:?}", p.zammad.requests());
    assert_eq!(p.field("j2", "ticket_id"), Some(earlier["id"].to_string()));
    assert_eq!(p.field("j2", "status").as_deref(), Some("approved"));
    assert!(done.message.contains("earlier attempt"), "{}", done.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zammad_failing_leaves_the_job_awaiting_and_ntfy_failing_is_a_warning() {
    let p = Platform::start();
    p.awaiting("j3", "low");
    let actions = p.actions(None);
    for behaviour in [Behaviour::Status(422), Behaviour::Status(401), Behaviour::Down] {
        p.zammad.set(behaviour);
        let r = actions.run(approve("j3", None)).await;
        let Err(ActionError::Failed(msg)) = &r else { panic!("{behaviour:?}: {r:?}") };
        assert!(msg.contains("Zammad") && msg.contains("stays awaiting approval"), "{msg}");
        assert_eq!(p.field("j3", "status").as_deref(), Some("awaiting_approval"), "{behaviour:?}");
        assert_eq!(p.field("j3", "ticket_id"), None);
        let last = actions.audit.query(&Query { limit: 1, ..Default::default() }).await.expect("audit");
        assert_eq!(last[0].outcome, Outcome::Failed);
        assert!(last[0].detail.contains("Zammad"), "{}", last[0].detail);
        assert!(!msg.contains(ZAMMAD_TOKEN));
    }
    assert!(p.ntfy.messages().is_empty());

    p.zammad.set(Behaviour::Normal);
    p.ntfy.set(Behaviour::Status(429));
    let done = actions.run(approve("j3", None)).await.expect("approved despite ntfy");
    let warning = done.warning.clone().unwrap_or_default();
    assert!(warning.contains("ntfy") && warning.contains("429"), "{warning}");
    assert_eq!(p.field("j3", "status").as_deref(), Some("approved"));
    let last = actions.audit.query(&Query { limit: 1, ..Default::default() }).await.expect("audit");
    assert_eq!(last[0].outcome, Outcome::Ok);
    assert!(last[0].detail.contains("warning: ntfy"), "{}", last[0].detail);
    assert_eq!(p.zammad.tickets()[0]["priority"], "1 low");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_right_status_can_be_decided_retried_or_cancelled() {
    let p = Platform::start();
    let statuses = ["queued", "running", "awaiting_approval", "approved", "rejected", "done", "failed", "cancelled"];
    for s in statuses {
        seed_job(
            &mut p.redis.conn(),
            "mcp:",
            s,
            1,
            s,
            &[("queue", b"analysis"), ("ticket_draft", br#"{"title":"t"}"#)],
        );
    }
    harness::enqueue(&mut p.redis.conn(), "mcp:", "analysis", "queued");
    let actions = p.actions(None);
    for s in statuses {
        let j = job(s, Severity::Medium);
        let approve = actions
            .run(ActionRequest::Approve { job: j.clone(), note: None, title: None, body: None, edited: false })
            .await;
        let reject = actions.run(ActionRequest::Reject { job: j.clone(), note: "n".into() }).await;
        let retry = actions.run(ActionRequest::Retry { job: j.clone() }).await;
        let cancel = actions.run(ActionRequest::Cancel { job: j.clone() }).await;
        if s != "awaiting_approval" {
            assert!(matches!(approve, Err(ActionError::Refused(_))), "approve {s}: {approve:?}");
            assert!(matches!(reject, Err(ActionError::Refused(_))), "reject {s}: {reject:?}");
        } else {
            // Rejected (the approval ran first and was refused nowhere: it made the ticket).
            assert!(approve.is_ok(), "{approve:?}");
        }
        assert_eq!(retry.is_ok(), s == "failed", "retry {s}: {retry:?}");
        // A failed job was just retried (now queued), so it can be cancelled too.
        assert_eq!(cancel.is_ok(), s == "queued" || s == "failed", "cancel {s}: {cancel:?}");
    }
    assert_eq!(p.zammad.tickets().len(), 1);
    let missing = actions.run(ActionRequest::Retry { job: job("nope", Severity::Low) }).await;
    assert!(matches!(&missing, Err(ActionError::Refused(m)) if m.contains("no job")), "{missing:?}");

    // Ten operators retrying one failed job at once: one wins, one queue entry.
    seed_job(&mut p.redis.conn(), "mcp:", "f1", 1, "failed", &[("queue", b"analysis"), ("attempts", b"3")]);
    let _: () = p.redis.conn().del("mcp:queue:analysis").expect("del");
    let runs = (0..10).map(|_| actions.run(ActionRequest::Retry { job: job("f1", Severity::Low) }));
    let results = futures_util::future::join_all(runs).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    assert_eq!(p.redis.conn().llen::<_, usize>("mcp:queue:analysis").expect("llen"), 1);
    assert_eq!(p.field("f1", "attempts").as_deref(), Some("3"), "attempts kept");
    assert_eq!(p.field("f1", "status").as_deref(), Some("queued"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_takes_the_job_off_its_queue_and_reject_needs_a_note() {
    let p = Platform::start();
    let mut c = p.redis.conn();
    seed_job(&mut c, "mcp:", "q1", 1, "queued", &[("queue", b"analysis")]);
    seed_job(&mut c, "mcp:", "q2", 2, "queued", &[("queue", b"analysis")]);
    harness::enqueue(&mut c, "mcp:", "analysis", "q1");
    harness::enqueue(&mut c, "mcp:", "analysis", "q2");
    let _: () = c.lpush("mcp:queue:analysis", "q1").expect("a bare id entry");
    let actions = p.actions(None);
    actions.run(ActionRequest::Cancel { job: job("q1", Severity::Low) }).await.expect("cancelled");
    let left: Vec<String> = c.lrange("mcp:queue:analysis", 0, -1).expect("lrange");
    assert_eq!(left, [r#"{"job_id":"q2"}"#], "both entries of q1 gone, q2 kept");
    assert_eq!(p.field("q1", "status").as_deref(), Some("cancelled"));
    // A queued job no longer on its queue is a worker's now: cancelling it changes nothing.
    seed_job(&mut c, "mcp:", "q3", 3, "queued", &[("queue", b"analysis")]);
    let taken = actions.run(ActionRequest::Cancel { job: job("q3", Severity::Low) }).await;
    assert!(matches!(&taken, Err(ActionError::Refused(m)) if m.contains("worker")), "{taken:?}");
    assert_eq!(p.field("q3", "status").as_deref(), Some("queued"));

    // A decision whose lock is someone else's (it outlived its own) does not land.
    let client = mcptop::clients::RedisClient::new(mcptop::clients::redis::RedisSettings {
        url: p.redis.url(),
        password: None,
        prefix: "mcp:".into(),
        queues: vec!["analysis".into()],
        timeout: std::time::Duration::from_secs(2),
    })
    .expect("client");
    p.awaiting("l1", "low");
    let _: () = redis::cmd("SET").arg("mcp:lock:job:l1").arg("someone-else").query(&mut c).expect("lock");
    let t = mcptop::domain::action::Transition {
        id: "l1".into(),
        from: mcptop::domain::JobStatus::AwaitingApproval,
        to: mcptop::domain::JobStatus::Rejected,
        set: vec![],
        queue: mcptop::domain::action::QueueOp::Keep,
        guard: Some("ticket_id"),
        lock: Some("mine".into()),
    };
    assert_eq!(client.transition(&t).await, Ok(mcptop::domain::action::TransitionOutcome::LockLost));
    assert_eq!(p.field("l1", "status").as_deref(), Some("awaiting_approval"));

    p.awaiting("r1", "high");
    let empty = actions.run(ActionRequest::Reject { job: job("r1", Severity::High), note: " ".into() }).await;
    assert!(matches!(&empty, Err(ActionError::Invalid(m)) if m.contains("note")), "{empty:?}");
    actions
        .run(ActionRequest::Reject { job: job("r1", Severity::High), note: "duplicate of #86001".into() })
        .await
        .expect("rejected");
    assert_eq!(p.field("r1", "status").as_deref(), Some("rejected"));
    assert_eq!(p.field("r1", "decision_note").as_deref(), Some("duplicate of #86001"));
    assert!(p.zammad.tickets().is_empty() && p.ntfy.messages().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edited_and_hostile_drafts_reach_zammad_and_ntfy_exactly() {
    let p = Platform::start();
    p.awaiting("h1", "high");
    let title = "[job h1] 数据库-03 disk \u{1b}[2J full\u{202e}";
    let body = "edited body\nline two \u{7}";
    let r = ActionRequest::Approve {
        job: job("h1", Severity::High),
        note: None,
        title: Some(title.into()),
        body: Some(body.into()),
        edited: true,
    };
    let actions = p.actions(None);
    actions.run(r).await.expect("approved");
    let t = &p.zammad.tickets()[0];
    assert_eq!(t["title"], title, "the raw title, as the operator confirmed it");
    assert!(t["articles"][0]["body"].as_str().unwrap_or_default().starts_with(body));
    assert_eq!(p.ntfy.messages()[0].title.as_deref(), Some(title), "RFC 2047 keeps it exact");
    let log = actions.audit.query(&Query { action: Some("approve".into()), limit: 1, ..Default::default() }).await;
    let params = log.expect("audit")[0].params.clone();
    assert_eq!(params["title"], title, "the edit is in the audit record");
    assert_eq!(params["edited"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analyses_go_through_the_gateway_when_configured() {
    let p = Platform::start();
    let gw = Gateway::start(GATEWAY_TOKEN);
    let actions = p.actions(Some(&gw));
    let req = AnalysisRequest {
        alert_type: "DiskFull".into(),
        source: "manual".into(),
        hostname: "db-01".into(),
        severity: "high".into(),
        timestamp: "2026-11-22T03:00:00Z".into(),
        description: "/var is 97% full".into(),
        ..Default::default()
    };
    let first = actions.run(ActionRequest::Analyze { request: req.clone() }).await.expect("queued");
    assert_eq!(first.data["deduplicated"], false);
    let again = AnalysisRequest { hostname: "DB-01 ".into(), ..req.clone() };
    let second = actions.run(ActionRequest::Analyze { request: again }).await.expect("deduplicated");
    assert_eq!(second.data["deduplicated"], true);
    assert_eq!(second.data["job_id"], first.data["job_id"]);
    assert!(second.message.contains("already queued as job"), "{}", second.message);
    let bodies = gw.analyses();
    assert_eq!(bodies[0]["alert_type"], "DiskFull");
    assert_eq!(bodies[0]["timestamp"], "2026-11-22T03:00:00Z");
    assert!(bodies[0].get("metrics").is_none(), "optional fields are left out: {}", bodies[0]);
    assert!(gw.requests().iter().all(|r| r.header("authorization") == Some(&format!("Bearer {GATEWAY_TOKEN}"))));
    assert_eq!(p.redis.conn().keys::<_, Vec<String>>("mcp:*").expect("keys").len(), 0, "the gateway queues it");

    gw.set(Behaviour::Status(429));
    let limited = actions.run(ActionRequest::Analyze { request: req }).await;
    assert!(matches!(&limited, Err(ActionError::Failed(m)) if m.contains("429")), "{limited:?}");
}

#[test]
fn two_processes_approving_the_same_job_make_one_ticket() {
    let p = Platform::start();
    p.awaiting("race", "critical");
    // A slow Zammad widens the window in which both could act.
    p.zammad.set(Behaviour::DelayMs(300));
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("config.toml");
    let ctx = p.context(None);
    let zammad = ctx.zammad.as_ref().map(|z| z.url.clone()).unwrap_or_default();
    let ntfy = ctx.ntfy.as_ref().map(|n| n.url.clone()).unwrap_or_default();
    std::fs::write(
        &config,
        format!(
            "[contexts.t]\nredis_url = \"{}\"\ntimeout_ms = 5000\n\
             zammad = {{ url = \"{zammad}\", token = \"env:T_ZAMMAD\" }}\n\
             ntfy = {{ url = \"{ntfy}\", topic = \"ops\", token = \"env:T_NTFY\" }}\n",
            p.redis.url()
        ),
    )
    .expect("config");
    let spawn = || {
        Command::new(mcptop_bin())
            .args(["--config", config.to_str().unwrap_or_default(), "approve", "race", "--yes", "--output", "json"])
            .env("T_ZAMMAD", ZAMMAD_TOKEN)
            .env("T_NTFY", NTFY_TOKEN)
            .env("XDG_DATA_HOME", dir.path())
            .env("XDG_STATE_HOME", dir.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("mcptop")
    };
    let (a, b) = (spawn(), spawn());
    let outs = [a.wait_with_output().expect("a"), b.wait_with_output().expect("b")];
    let codes: Vec<i32> = outs.iter().map(|o| o.status.code().unwrap_or(-1)).collect();
    let text: Vec<String> = outs.iter().map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).collect();
    let mut sorted = codes.clone();
    sorted.sort();
    assert_eq!(sorted, [0, 3], "one approves, one is told it is done: {codes:?} {text:?}");
    assert!(text.iter().any(|t| t.contains("already approved")), "{text:?}");
    assert_eq!(p.zammad.tickets().len(), 1, "exactly one ticket");
    assert_eq!(p.ntfy.messages().len(), 1);
    assert_eq!(p.field("race", "status").as_deref(), Some("approved"));
}
