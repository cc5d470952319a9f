//! The fleet: one row per configured context — queue depth and the oldest job's age, stalled,
//! approvals waiting, alerts firing by severity, unhealthy containers, the last backup's age,
//! and which sources answered. Each context is checked on its own (its own clients, one
//! connection per source, the context's timeouts), so one that fails only fails its row. The
//! numbers are the same [`ContextFacts`] the dashboard derives. The TUI (`:fleet`) and
//! `mcptop fleet` share it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::QueueHistory;
use crate::domain::facts::{ContextFacts, Inputs};
use crate::sources::Sources;

/// What a fleet check needs of one context.
#[derive(Clone)]
pub struct FleetTarget {
    pub name: String,
    pub production: bool,
    pub stall_after: Duration,
    pub timeout: Duration,
    pub backup_dir: Option<PathBuf>,
    pub max_age_h: Option<u64>,
    /// Makes the context's clients for one check (so no connection outlives it), or says why
    /// the context cannot be set up (its config).
    pub sources: std::sync::Arc<dyn Fn() -> Result<Sources, String> + Send + Sync>,
}

/// One source of a context, and whether it answered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceCheck {
    pub name: String,
    pub ok: bool,
    /// Raw, as the source said it; escaped when drawn.
    pub error: Option<String>,
}

/// One context's row: its facts (`None` where not configured there, or its source did not
/// answer — `sources` says which).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FleetRow {
    pub context: String,
    pub production: bool,
    #[serde(flatten)]
    pub facts: ContextFacts,
    pub sources: Vec<SourceCheck>,
    pub checked_at: DateTime<Utc>,
}

impl FleetRow {
    /// A row with nothing known yet, checked `at`.
    pub fn unknown(context: &str, production: bool, at: DateTime<Utc>) -> FleetRow {
        FleetRow {
            context: context.into(),
            production,
            facts: ContextFacts::default(),
            sources: Vec::new(),
            checked_at: at,
        }
    }

    /// Firing alerts as `c3 h1 m0 l0`: critical, high, medium, low (`?N` unknown, when any).
    pub fn firing_short(&self) -> String {
        self.facts.firing.as_ref().map(|f| f.short()).unwrap_or_else(|| "-".into())
    }

    /// The first source that failed, for a one-line "why".
    pub fn failure(&self) -> Option<&SourceCheck> {
        self.sources.iter().find(|s| !s.ok)
    }
}

fn check_of<T, E: std::fmt::Display>(name: &str, r: &Result<T, E>) -> SourceCheck {
    match r {
        Ok(_) => SourceCheck { name: name.into(), ok: true, error: None },
        Err(e) => SourceCheck { name: name.into(), ok: false, error: Some(e.to_string()) },
    }
}

/// Each queue's history across checks, by context: what tells a stalled queue from a slow one.
pub type Histories = BTreeMap<String, BTreeMap<String, QueueHistory>>;

/// Check one context: its sources at once, each bounded by twice the context's timeout.
/// `history` is the context's queue history from earlier checks (none for a single check).
pub async fn check(t: &FleetTarget, history: Option<&mut BTreeMap<String, QueueHistory>>) -> FleetRow {
    let now = Utc::now();
    let mut row = FleetRow::unknown(&t.name, t.production, now);
    let sources = match (t.sources)() {
        Ok(s) => s,
        Err(e) => {
            row.sources.push(SourceCheck { name: "config".into(), ok: false, error: Some(e) });
            return row;
        }
    };
    let sources = &sources;
    let budget = t.timeout * 2;
    let bounded = |what: &'static str| move || format!("{what}: no answer within {} ms", budget.as_millis());
    let queues = async {
        let jobs = sources.jobs.as_ref()?;
        Some(
            tokio::time::timeout(budget, jobs.queues())
                .await
                .map_err(|_| bounded("redis")())
                .and_then(|r| r.map_err(|e| e.to_string())),
        )
    };
    let configured = sources.ops.configured();
    let alerts = async {
        if !configured.alerts {
            return None;
        }
        let r = tokio::time::timeout(budget, sources.ops.alerts()).await;
        Some(r.map_err(|_| bounded("alerts")()).and_then(|r| r.map_err(|e| e.to_string())))
    };
    let containers = async {
        if !configured.containers {
            return None;
        }
        let r = tokio::time::timeout(budget, sources.ops.containers()).await;
        Some(r.map_err(|_| bounded("docker")()).and_then(|r| r.map_err(|e| e.to_string())))
    };
    let backups = async {
        let dir = t.backup_dir.clone()?;
        // A hung file system (NFS) must not hold up the row either.
        let listed = tokio::time::timeout(budget, tokio::task::spawn_blocking(move || crate::backup::list(&dir))).await;
        Some(match listed {
            Ok(r) => r.unwrap_or_else(|e| Err(e.to_string())),
            Err(_) => Err(bounded("backups")()),
        })
    };
    let (queues, alerts, containers, backups) = tokio::join!(queues, alerts, containers, backups);
    let stall_after = chrono::Duration::from_std(t.stall_after).unwrap_or(chrono::Duration::seconds(120));
    let mut inputs = Inputs::none(now, stall_after);
    inputs.max_age_h = t.max_age_h;
    let queue_snap = queues.as_ref().and_then(|q| q.as_ref().ok());
    if let Some(q) = &queues {
        row.sources.push(match q {
            // A key of the wrong type is the source failing, as the dashboard says it.
            Ok(snap) if !snap.problems.is_empty() => {
                SourceCheck { name: "redis".into(), ok: false, error: Some(snap.problems.join("; ")) }
            }
            other => check_of("redis", other),
        });
    }
    let history = match (history, queue_snap) {
        (Some(h), Some(snap)) => {
            for q in &snap.queues {
                h.entry(q.name.clone()).or_default().record(snap.server_time, q.length, q.oldest_id.as_ref());
            }
            Some(&*h)
        }
        (h, _) => h.map(|h| &*h),
    };
    inputs.queues = queue_snap;
    inputs.history = history;
    if let Some(a) = &alerts {
        match a {
            // One check per alert source, each with its own error.
            Ok(snap) => row.sources.extend(snap.sources.iter().map(|s| SourceCheck {
                name: s.name.clone(),
                ok: s.error.is_none(),
                error: s.error.as_ref().map(|_| s.notes(now).join(" · ")),
            })),
            Err(e) => row.sources.push(SourceCheck { name: "alerts".into(), ok: false, error: Some(e.clone()) }),
        }
        inputs.alerts = a.as_ref().ok();
    }
    if let Some(c) = &containers {
        row.sources.push(check_of("docker", c));
        inputs.containers = c.as_ref().ok().map(Vec::as_slice);
    }
    if let Some(b) = &backups {
        row.sources.push(check_of("backups", b));
        inputs.newest_backup = b.as_ref().ok().map(|list| list.first().map(|a| a.created_at));
    }
    row.facts = ContextFacts::derive(inputs);
    row
}

/// Check every context at once; rows in the targets' order. `histories` keeps each context's
/// queue history from one check to the next (the fleet view's poller holds it).
pub async fn check_all(targets: &[FleetTarget], histories: Option<&mut Histories>) -> Vec<FleetRow> {
    match histories {
        Some(all) => {
            let mut mine: Vec<(&FleetTarget, BTreeMap<String, QueueHistory>)> =
                targets.iter().map(|t| (t, all.remove(&t.name).unwrap_or_default())).collect();
            let rows = futures_util::future::join_all(mine.iter_mut().map(|(t, h)| check(t, Some(h)))).await;
            all.extend(mine.into_iter().map(|(t, h)| (t.name.clone(), h)));
            rows
        }
        None => futures_util::future::join_all(targets.iter().map(|t| check(t, None))).await,
    }
}
