//! The facts shown in more than one place — the header, the panes, the one-line strip, the fleet
//! and the CLI's JSON — each derived by exactly one function here (or on the snapshot it belongs
//! to: `QueueSnapshot::waiting`, `queue::stalled`), so no two views can disagree. The README's
//! "What the numbers mean" defines each in words.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::alert::{Alert, AlertState, AlertsSnapshot};
use super::health::{Container, Health, HealthSummary, ServiceStatus, Target};
use super::job::{JobStatus, Severity};
use super::queue::{QueueHistory, QueueSnapshot};

/// How a container is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ContainerClass {
    /// Its health check fails, or the engine is restarting it or gave up on it (`dead`).
    Unhealthy,
    /// Running, its health check not yet decided.
    Starting,
    /// Not running: exited, created, paused or being removed. Counted on its own, not as
    /// unhealthy: a one-shot job (a backup cron) exits by design.
    Stopped,
    /// Running, healthy or without a health check.
    Ok,
}

pub fn container_class(c: &Container) -> ContainerClass {
    match (c.health, c.state.as_str()) {
        (Health::Unhealthy, _) | (_, "restarting" | "dead") => ContainerClass::Unhealthy,
        (_, "running") if c.health == Health::Starting => ContainerClass::Starting,
        (_, "running") => ContainerClass::Ok,
        _ => ContainerClass::Stopped,
    }
}

/// A Prometheus target counts as down only when Prometheus says `down`; `unknown` (never
/// scraped yet) is its own count.
pub fn target_down(t: &Target) -> bool {
    t.health == "down"
}

/// The Health pane's summary line, the strip's word and the fleet's column.
pub fn health(containers: &[Container], services: &[ServiceStatus], targets: &[Target]) -> HealthSummary {
    let mut s = HealthSummary::default();
    for c in containers {
        match container_class(c) {
            ContainerClass::Unhealthy => s.containers_unhealthy += 1,
            ContainerClass::Starting => s.containers_starting += 1,
            ContainerClass::Stopped => s.containers_stopped += 1,
            ContainerClass::Ok => s.containers_healthy += 1,
        }
    }
    for svc in services {
        if svc.ok { s.services_up += 1 } else { s.services_down += 1 }
    }
    for t in targets {
        match t.health.as_str() {
            "up" => s.targets_up += 1,
            _ if target_down(t) => s.targets_down += 1,
            _ => s.targets_unknown += 1,
        }
    }
    s
}

/// Whether an alert is firing: active (or not yet processed), not silenced, inhibited or
/// resolved. An acknowledged Zabbix problem or a banned CrowdSec source still fires.
pub fn firing(a: &Alert) -> bool {
    matches!(a.state, AlertState::Active | AlertState::Unprocessed)
}

/// Firing alerts by the platform's severity levels.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Firing {
    pub total: u64,
    pub by_severity: BTreeMap<Severity, u64>,
}

impl Firing {
    pub fn of(&self, s: Severity) -> u64 {
        self.by_severity.get(&s).copied().unwrap_or(0)
    }

    /// `c3 h1 m0 l0` (critical, high, medium, low), `?N` for unknown when any.
    pub fn short(&self) -> String {
        let n = |s| self.of(s);
        let mut out =
            format!("c{} h{} m{} l{}", n(Severity::Critical), n(Severity::High), n(Severity::Medium), n(Severity::Low));
        if n(Severity::Unknown) > 0 {
            out.push_str(&format!(" ?{}", n(Severity::Unknown)));
        }
        out
    }
}

pub fn firing_alerts<'a>(alerts: impl IntoIterator<Item = &'a Alert>) -> Firing {
    let mut f = Firing::default();
    for a in alerts.into_iter().filter(|a| firing(a)) {
        f.total += 1;
        *f.by_severity.entry(a.severity()).or_insert(0) += 1;
    }
    f
}

impl AlertsSnapshot {
    /// Every source's firing alerts (not only those a filter shows).
    pub fn firing(&self) -> Firing {
        firing_alerts(&self.alerts)
    }
}

/// Jobs awaiting approval: the queue snapshot's count of `{p}jobs:awaiting_approval`, read with
/// every queue refresh; the approvals list's total when the snapshot has none.
pub fn approvals_waiting(queues: Option<&QueueSnapshot>, approvals_total: Option<u64>) -> Option<u64> {
    queues.and_then(|q| q.count(&JobStatus::AwaitingApproval)).or(approvals_total)
}

/// Jobs being analysed: the queue snapshot's `running` count; the gateway's `mcp_active_jobs`
/// gauge only when there is no queue to read.
pub fn running(queues: Option<&QueueSnapshot>, gateway_active: Option<f64>) -> Option<u64> {
    queues.and_then(|q| q.count(&JobStatus::Running)).or(gateway_active.map(|g| g.max(0.0) as u64))
}

/// The newest archive's age in seconds at `now`.
pub fn backup_age_s(newest: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<i64> {
    newest.map(|at| (now - at).num_seconds().max(0))
}

/// Whether the newest archive is older than `max_age_h` (none at all is not "overdue": it is
/// "no archive", said so).
pub fn backup_overdue(age_s: Option<i64>, max_age_h: Option<u64>) -> bool {
    matches!((age_s, max_age_h), (Some(a), Some(h)) if a >= h as i64 * 3600)
}

/// What one context's facts are derived from: whatever of its sources has data.
#[derive(Clone, Copy)]
pub struct Inputs<'a> {
    pub queues: Option<&'a QueueSnapshot>,
    /// Each queue's history, by name (the TUI and the fleet view keep one; a single read has none).
    pub history: Option<&'a BTreeMap<String, QueueHistory>>,
    pub stall_after: chrono::Duration,
    /// The approvals list's total, when it was read.
    pub approvals_total: Option<u64>,
    /// The gateway's `mcp_active_jobs`, when it was read.
    pub gateway_active: Option<f64>,
    pub alerts: Option<&'a AlertsSnapshot>,
    pub containers: Option<&'a [Container]>,
    pub services: Option<&'a [ServiceStatus]>,
    pub targets: Option<&'a [Target]>,
    /// The newest archive's time, `Some(None)` when the directory holds none.
    pub newest_backup: Option<Option<DateTime<Utc>>>,
    pub max_age_h: Option<u64>,
    /// The clock ages are measured against.
    pub now: DateTime<Utc>,
}

impl<'a> Inputs<'a> {
    /// Nothing read yet.
    pub fn none(now: DateTime<Utc>, stall_after: chrono::Duration) -> Self {
        Inputs {
            queues: None,
            history: None,
            stall_after,
            approvals_total: None,
            gateway_active: None,
            alerts: None,
            containers: None,
            services: None,
            targets: None,
            newest_backup: None,
            max_age_h: None,
            now,
        }
    }
}

/// One context's facts, as every view shows them. `None`: not configured, or not read yet.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ContextFacts {
    /// Jobs waiting in the queues.
    pub queued: Option<u64>,
    /// The longest a waiting job has waited, in seconds.
    pub oldest_s: Option<f64>,
    /// A queue with jobs has not had one leave for `stall_after_s`; `null`: not known yet.
    pub stalled: Option<bool>,
    pub awaiting_approval: Option<u64>,
    pub running: Option<u64>,
    pub firing: Option<Firing>,
    pub health: Option<HealthSummary>,
    pub last_backup_age_s: Option<i64>,
    /// The newest archive is older than `max_age_h`.
    pub backup_overdue: bool,
}

impl ContextFacts {
    pub fn derive(i: Inputs<'_>) -> ContextFacts {
        let q = i.queues;
        let health = (i.containers.is_some() || i.services.is_some() || i.targets.is_some()).then(|| {
            health(i.containers.unwrap_or_default(), i.services.unwrap_or_default(), i.targets.unwrap_or_default())
        });
        let last_backup_age_s = i.newest_backup.and_then(|n| backup_age_s(n, i.now));
        ContextFacts {
            queued: q.and_then(QueueSnapshot::waiting),
            oldest_s: q.and_then(QueueSnapshot::oldest_age_s),
            stalled: q
                .and_then(|q| super::queue::any_stalled(q, |name| i.history.and_then(|h| h.get(name)), i.stall_after)),
            awaiting_approval: approvals_waiting(q, i.approvals_total),
            running: running(q, i.gateway_active),
            firing: i.alerts.map(AlertsSnapshot::firing),
            health,
            last_backup_age_s,
            backup_overdue: backup_overdue(last_backup_age_s, i.max_age_h),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(health: Health, state: &str) -> Container {
        Container {
            id: state.into(),
            name: state.into(),
            image: "i".into(),
            state: state.into(),
            health,
            restarts: None,
            started_at: None,
            failing_streak: None,
            checks: vec![],
        }
    }

    #[test]
    fn every_container_is_counted_once() {
        let cs = [
            container(Health::Healthy, "running"),
            container(Health::None, "running"),
            container(Health::Unhealthy, "running"),
            container(Health::Starting, "running"),
            container(Health::None, "exited"),
            container(Health::None, "restarting"),
            container(Health::Healthy, "paused"),
        ];
        let s = health(&cs, &[], &[]);
        assert_eq!(
            (s.containers_healthy, s.containers_unhealthy, s.containers_starting, s.containers_stopped),
            (2, 2, 1, 2)
        );
    }

    #[test]
    fn backups_are_overdue_from_the_hour_on() {
        assert!(!backup_overdue(Some(25 * 3600 + 3599), Some(26)));
        assert!(backup_overdue(Some(26 * 3600), Some(26)));
        assert!(!backup_overdue(None, Some(26)));
        assert!(!backup_overdue(Some(1_000_000), None));
    }
}
