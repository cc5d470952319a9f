//! The fleet: one row per configured context — queue depth and the oldest job's age, stalled,
//! approvals waiting, alerts firing by severity, unhealthy containers, the last backup's age,
//! and which sources answered. Each context is checked on its own (its own clients, one
//! connection per source, the context's timeouts), so one that fails only fails its row. The
//! TUI (`:fleet`) and `mcptop fleet` share it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::{AlertState, JobStatus};
use crate::sources::Sources;

/// What a fleet check needs of one context.
#[derive(Clone)]
pub struct FleetTarget {
    pub name: String,
    pub production: bool,
    pub stall_after: Duration,
    pub timeout: Duration,
    pub backup_dir: Option<PathBuf>,
    /// Makes the context's clients for one check (so no connection outlives it), or says why
    /// the context cannot be set up (its config).
    pub sources: std::sync::Arc<dyn Fn() -> Result<Sources, String> + Send + Sync>,
}

/// One source of a context, and whether it answered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceCheck {
    pub name: &'static str,
    pub ok: bool,
    /// Raw, as the source said it; escaped when drawn.
    pub error: Option<String>,
}

/// One context's row. `None`: not configured there, or its source did not answer (`sources`
/// says which).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FleetRow {
    pub context: String,
    pub production: bool,
    pub queued: Option<u64>,
    pub oldest_s: Option<f64>,
    pub stalled: Option<bool>,
    pub awaiting_approval: Option<u64>,
    /// Active (not silenced or inhibited) alerts by severity.
    pub firing: Option<BTreeMap<String, u64>>,
    pub unhealthy_containers: Option<u64>,
    pub last_backup_age_s: Option<i64>,
    pub sources: Vec<SourceCheck>,
    pub checked_at: DateTime<Utc>,
}

impl FleetRow {
    /// A row with nothing known yet, checked `at`.
    pub fn unknown(context: &str, production: bool, at: DateTime<Utc>) -> FleetRow {
        FleetRow {
            context: context.into(),
            production,
            queued: None,
            oldest_s: None,
            stalled: None,
            awaiting_approval: None,
            firing: None,
            unhealthy_containers: None,
            last_backup_age_s: None,
            sources: Vec::new(),
            checked_at: at,
        }
    }

    /// Firing alerts as `c3 h1 m0 l0`: critical, high, medium, low (`?N` unknown, when any).
    pub fn firing_short(&self) -> String {
        let Some(f) = &self.firing else { return "-".into() };
        let n = |k: &str| f.get(k).copied().unwrap_or(0);
        let mut s = format!("c{} h{} m{} l{}", n("critical"), n("high"), n("medium"), n("low"));
        if n("unknown") > 0 {
            s.push_str(&format!(" ?{}", n("unknown")));
        }
        s
    }

    /// The first source that failed, for a one-line "why".
    pub fn failure(&self) -> Option<&SourceCheck> {
        self.sources.iter().find(|s| !s.ok)
    }
}

fn check_of<T, E: std::fmt::Display>(name: &'static str, r: &Result<T, E>) -> SourceCheck {
    match r {
        Ok(_) => SourceCheck { name, ok: true, error: None },
        Err(e) => SourceCheck { name, ok: false, error: Some(e.to_string()) },
    }
}

/// Check one context: its sources at once, each bounded by twice the context's timeout.
pub async fn check(t: &FleetTarget) -> FleetRow {
    let now = Utc::now();
    let mut row = FleetRow::unknown(&t.name, t.production, now);
    let sources = match (t.sources)() {
        Ok(s) => s,
        Err(e) => {
            row.sources.push(SourceCheck { name: "config", ok: false, error: Some(e) });
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
        Some(r.map_err(|_| bounded("alertmanager")()).and_then(|r| r.map_err(|e| e.to_string())))
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
    if let Some(q) = queues {
        row.sources.push(check_of("redis", &q));
        if let Ok(q) = q {
            row.queued = Some(q.queues.iter().map(|s| s.length).sum());
            row.oldest_s = q.queues.iter().filter_map(|s| s.oldest_age_s).reduce(f64::max);
            row.stalled = Some(row.oldest_s.is_some_and(|s| s > t.stall_after.as_secs_f64()));
            row.awaiting_approval = Some(q.count(&JobStatus::AwaitingApproval));
        }
    }
    if let Some(a) = alerts {
        row.sources.push(check_of("alertmanager", &a));
        if let Ok(a) = a {
            let mut firing = BTreeMap::new();
            for alert in a.alerts.iter().filter(|a| a.state == AlertState::Active) {
                *firing.entry(alert.severity().as_str().to_string()).or_insert(0) += 1;
            }
            // Some Alertmanagers answered, others did not: the row says so.
            if let Some((name, e)) = a.failures.first() {
                row.sources.push(SourceCheck { name: "alertmanager", ok: false, error: Some(format!("{name}: {e}")) });
            }
            row.firing = Some(firing);
        }
    }
    if let Some(c) = containers {
        row.sources.push(check_of("docker", &c));
        if let Ok(c) = c {
            row.unhealthy_containers =
                Some(c.iter().filter(|c| c.health == crate::domain::Health::Unhealthy || c.state != "running").count()
                    as u64);
        }
    }
    if let Some(b) = backups {
        row.sources.push(check_of("backups", &b));
        if let Ok(list) = b {
            row.last_backup_age_s = list.first().map(|a| (now - a.created_at).num_seconds().max(0));
        }
    }
    row
}

/// Check every context at once; rows in the targets' order.
pub async fn check_all(targets: &[FleetTarget]) -> Vec<FleetRow> {
    futures_util::future::join_all(targets.iter().map(check)).await
}
