//! The simulated platform's containers, services, Prometheus targets and alerts, changing over
//! time: a container turns unhealthy and recovers, a target goes down, alerts fire and resolve.

use chrono::{DateTime, Duration, Utc};

use super::rng::Rng;
use crate::domain::health::HealthCheckRun;
use crate::domain::{Alert, AlertState, ComponentStatus, Container, Health, ServiceStatus, Target};

const CONTAINERS: &[(&str, &str, bool)] = &[
    ("mcp-gateway", "mcp/gateway:1.8.2", true),
    ("mcp-worker-1", "mcp/worker:1.8.2", true),
    ("mcp-worker-2", "mcp/worker:1.8.2", true),
    ("redis", "redis:7.0", true),
    ("postgres", "pgvector/pgvector:pg18", true),
    ("litellm", "ghcr.io/berriai/litellm:main", true),
    ("ollama", "ollama/ollama:0.5", false),
    ("zammad", "zammad/zammad:6.4", true),
    ("ntfy", "binwiederhier/ntfy:v2.11", false),
    ("prometheus", "prom/prometheus:v2.53", false),
    ("alertmanager", "prom/alertmanager:v0.27", false),
    ("backup-cron", "mcp/backup:1.2", false),
];

const RULES: &[(&str, &str, &str)] = &[
    ("DiskFull", "critical", "/var is {n}% full"),
    ("HighCPU", "warning", "CPU above 90% for 10m"),
    ("TargetDown", "critical", "scrape target is down"),
    ("QueueBacklog", "warning", "analysis queue above 50 jobs"),
    ("CertExpiring", "info", "certificate expires in 6 days"),
    ("SSHBruteForce", "critical", "CrowdSec banned 3 addresses"),
];

const INSTANCES: &[&str] = &["db-01:9100", "db-02:9100", "web-01:9100", "web-02:9100", "fw-edge-1:9100"];

pub struct OpsSim {
    pub containers: Vec<Container>,
    pub targets: Vec<Target>,
    pub alerts: Vec<Alert>,
    gateway_degraded: bool,
}

impl OpsSim {
    pub fn new(rng: &mut Rng, now: DateTime<Utc>) -> OpsSim {
        let containers = CONTAINERS
            .iter()
            .enumerate()
            .map(|(i, (name, image, check))| Container {
                id: format!("{:012x}", rng.next_u64() & 0xffff_ffff_ffff),
                name: name.to_string(),
                image: image.to_string(),
                state: if *name == "backup-cron" { "exited".into() } else { "running".into() },
                health: if *check { Health::Healthy } else { Health::None },
                restarts: Some(if i == 1 { 3 } else { 0 }),
                started_at: (*name != "backup-cron").then(|| now - Duration::minutes(30 + rng.below(3000) as i64)),
                failing_streak: check.then_some(0),
                checks: vec![],
            })
            .collect();
        let mut targets: Vec<Target> = INSTANCES
            .iter()
            .map(|i| Target {
                job: "node".into(),
                instance: i.to_string(),
                health: "up".into(),
                last_error: String::new(),
                last_scrape: Some(now),
            })
            .collect();
        targets.push(Target {
            job: "redis".into(),
            instance: "redis-exporter:9121".into(),
            health: "up".into(),
            last_error: String::new(),
            last_scrape: Some(now),
        });
        targets.push(Target {
            job: "mcp-gateway".into(),
            instance: "gateway:8000".into(),
            health: "up".into(),
            last_error: String::new(),
            last_scrape: Some(now),
        });
        let mut sim = OpsSim { containers, targets, alerts: vec![], gateway_degraded: false };
        for _ in 0..8 {
            let at = now - Duration::minutes(rng.below(240) as i64);
            sim.fire(rng, at);
        }
        sim.alerts.extend(super::monitors::alerts(now));
        sim
    }

    fn fire(&mut self, rng: &mut Rng, at: DateTime<Utc>) {
        let (name, severity, text) = *rng.pick(RULES);
        let instance = *rng.pick(INSTANCES);
        let fingerprint = format!("{:016x}", rng.next_u64());
        if self
            .alerts
            .iter()
            .any(|a| a.name() == name && a.labels.get("instance").map(String::as_str) == Some(instance))
        {
            return;
        }
        let silenced = rng.chance(0.15);
        let labels = [("alertname", name), ("severity", severity), ("instance", instance), ("job", "node")]
            .map(|(k, v)| (k.to_string(), v.to_string()));
        let summary = text.replace("{n}", &(90 + rng.below(10)).to_string());
        let annotations = [
            ("summary".to_string(), format!("{summary} on {instance}")),
            ("description".to_string(), format!("{summary}.\nRunbook: https://wiki.example/runbooks/{name}")),
        ];
        let sources = if rng.chance(0.7) { vec!["am-a", "am-b"] } else { vec!["am-a"] };
        let mut alert = Alert::new(
            &fingerprint,
            labels,
            annotations,
            if silenced { AlertState::Suppressed } else { AlertState::Active },
            if silenced { vec!["4e7a0c52-9a3e-4b5e-9a51-0d1f6f2d3c11".into()] } else { vec![] },
            vec![],
            Some(at),
            Some(&format!("http://prometheus:9090/graph?g0.expr=ALERTS%7Balertname%3D%22{name}%22%7D")),
            sources[0],
        );
        alert.sources = sources.iter().map(|s| s.to_string()).collect();
        self.alerts.push(alert);
    }

    /// One simulated second. Returns the ids of containers that changed.
    pub fn tick(&mut self, rng: &mut Rng, now: DateTime<Utc>) -> Vec<String> {
        let mut changed = Vec::new();
        // every 90 s a worker's health check starts failing for 40 s
        let phase = now.timestamp().rem_euclid(90);
        let sick = phase < 40;
        if let Some(c) = self.containers.iter_mut().find(|c| c.name == "mcp-worker-2") {
            let health = if sick { Health::Unhealthy } else { Health::Healthy };
            if c.health != health {
                c.health = health;
                changed.push(c.id.clone());
            }
            c.failing_streak = Some(if sick { phase / 10 + 1 } else { 0 });
            c.checks = (0..3)
                .rev()
                .map(|k| HealthCheckRun {
                    at: Some(now - Duration::seconds(10 * k)),
                    exit_code: Some(if sick { 1 } else { 0 }),
                    output: if sick {
                        "curl: (7) Failed to connect to localhost port 8001".into()
                    } else {
                        "ok".into()
                    },
                })
                .collect();
        }
        if let Some(t) = self.targets.iter_mut().find(|t| t.instance == "fw-edge-1:9100") {
            let down = now.timestamp().rem_euclid(300) < 60;
            t.health = if down { "down" } else { "up" }.into();
            t.last_error = if down {
                "Get \"http://fw-edge-1:9100/metrics\": context deadline exceeded".into()
            } else {
                String::new()
            };
        }
        for t in &mut self.targets {
            t.last_scrape = Some(now);
        }
        self.gateway_degraded = sick;
        if rng.chance(0.01) {
            self.fire(rng, now);
        }
        if self.alerts.len() > 4 && rng.chance(0.008) {
            let i = rng.below(self.alerts.len() as u64) as usize;
            self.alerts.remove(i);
        }
        changed
    }

    pub fn services(&self) -> Vec<ServiceStatus> {
        let comp = |name: &str, ok: bool, ms: f64, error: Option<&str>| ComponentStatus {
            name: name.into(),
            status: if ok { "healthy" } else { "unhealthy" }.into(),
            latency_ms: Some(ms),
            error: error.map(String::from),
        };
        vec![
            ServiceStatus {
                name: "gateway".into(),
                ok: !self.gateway_degraded,
                latency_ms: Some(12),
                detail: if self.gateway_degraded { "degraded" } else { "healthy" }.into(),
                components: vec![
                    comp("redis", true, 0.8, None),
                    comp(
                        "ollama",
                        !self.gateway_degraded,
                        41.0,
                        self.gateway_degraded.then_some("worker-2 not answering"),
                    ),
                    comp("litellm", true, 6.5, None),
                    comp("pgvector", true, 2.1, None),
                    comp("zammad", true, 88.0, None),
                    comp("ntfy", true, 9.7, None),
                ],
            },
            ServiceStatus {
                name: "zammad".into(),
                ok: true,
                latency_ms: Some(95),
                detail: "ok".into(),
                components: vec![],
            },
            ServiceStatus {
                name: "ntfy".into(),
                ok: true,
                latency_ms: Some(8),
                detail: "ok".into(),
                components: vec![],
            },
        ]
    }
}
