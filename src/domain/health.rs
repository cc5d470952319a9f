//! Container, service and Prometheus-target health (APIS.md §2–§3, CONTRACT.md §2).

use chrono::{DateTime, Utc};
use serde::Serialize;

/// A container's health check state; `None` when it has no health check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    Unhealthy,
    Starting,
    Healthy,
    None,
}

impl Health {
    pub fn parse(s: &str) -> Self {
        match s.trim() {
            "healthy" => Self::Healthy,
            "unhealthy" => Self::Unhealthy,
            "starting" | "health: starting" => Self::Starting,
            _ => Self::None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::Unhealthy => "unhealthy",
            Self::Starting => "starting",
            Self::None => "none",
        }
    }

    /// The health in a Docker list `Status` such as `Up 3 hours (healthy)`; `None` when the
    /// string says nothing (Podman never does: ask inspect then).
    pub fn from_status(status: &str) -> Option<Health> {
        let inner = status.rsplit_once('(')?.1.strip_suffix(')')?;
        match inner {
            "healthy" | "unhealthy" | "health: starting" => Some(Health::parse(inner)),
            _ => None,
        }
    }
}

/// One health-check run, from inspect's `State.Health.Log`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthCheckRun {
    pub at: Option<DateTime<Utc>>,
    pub exit_code: Option<i64>,
    pub output: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Container {
    pub id: String,
    pub name: String,
    pub image: String,
    /// `running`, `exited`, … (the engine's `State`).
    pub state: String,
    pub health: Health,
    pub restarts: Option<i64>,
    pub started_at: Option<DateTime<Utc>>,
    pub failing_streak: Option<i64>,
    pub checks: Vec<HealthCheckRun>,
}

/// A probed HTTP service; the gateway reports components.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceStatus {
    pub name: String,
    pub ok: bool,
    pub latency_ms: Option<u64>,
    /// HTTP status, or the error when there was no answer.
    pub detail: String,
    pub components: Vec<ComponentStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComponentStatus {
    pub name: String,
    pub status: String,
    pub latency_ms: Option<f64>,
    pub error: Option<String>,
}

impl ComponentStatus {
    pub fn ok(&self) -> bool {
        self.status == "healthy" || self.status == "ok" || self.status == "up"
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Target {
    pub job: String,
    pub instance: String,
    /// `up`, `down` or `unknown`.
    pub health: String,
    pub last_error: String,
    pub last_scrape: Option<DateTime<Utc>>,
}

/// Counts for the summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct HealthSummary {
    pub containers_healthy: usize,
    pub containers_unhealthy: usize,
    pub containers_starting: usize,
    pub containers_stopped: usize,
    pub services_up: usize,
    pub services_down: usize,
    pub targets_up: usize,
    pub targets_down: usize,
    pub targets_unknown: usize,
}

impl HealthSummary {
    /// What needs a look: unhealthy containers, services down and targets down.
    pub fn problems(&self) -> usize {
        self.containers_unhealthy + self.services_down + self.targets_down
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_from_docker_status_strings() {
        assert_eq!(Health::from_status("Up 3 hours (healthy)"), Some(Health::Healthy));
        assert_eq!(Health::from_status("Up 5 seconds (health: starting)"), Some(Health::Starting));
        assert_eq!(Health::from_status("Up 2 days (unhealthy)"), Some(Health::Unhealthy));
        assert_eq!(Health::from_status("Up 1 hour (Paused)"), None);
        assert_eq!(Health::from_status("Exited (137) 2 minutes ago"), None);
        assert_eq!(Health::from_status("Up 3 hours"), None, "Podman: ask inspect");
    }
}
