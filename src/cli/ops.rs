//! `mcptop health` and `mcptop alerts`: the Health and Alerts panes without a TTY.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Output;
use crate::clients::SourceError;
use crate::config::Settings;
use crate::domain::alert::group;
use crate::domain::{Alert, ComponentStatus, Health};
use crate::sources::OpsSource;

#[derive(Serialize)]
struct SourceReport {
    name: String,
    ok: bool,
    error: Option<String>,
}

fn report<T>(name: &str, r: &Result<T, SourceError>) -> SourceReport {
    SourceReport { name: name.into(), ok: r.is_ok(), error: r.as_ref().err().map(|e| e.to_string()) }
}

#[derive(Serialize)]
struct ContainerReport {
    name: String,
    image: String,
    state: String,
    health: Health,
    restarts: Option<i64>,
    started_at: Option<DateTime<Utc>>,
}

#[derive(Serialize)]
struct ServiceReport {
    name: String,
    ok: bool,
    latency_ms: Option<u64>,
    detail: String,
    components: Vec<ComponentStatus>,
}

#[derive(Serialize)]
struct TargetReport {
    job: String,
    instance: String,
    health: String,
    last_error: String,
}

#[derive(Serialize)]
struct HealthReport {
    fetched_at: DateTime<Utc>,
    sources: Vec<SourceReport>,
    containers: Vec<ContainerReport>,
    services: Vec<ServiceReport>,
    targets: Vec<TargetReport>,
}

pub async fn health(ops: &dyn OpsSource, output: Output) -> anyhow::Result<ExitCode> {
    let c = ops.configured();
    let (containers, services, targets) = tokio::join!(ops.containers(), ops.services(), ops.targets());
    let mut sources = Vec::new();
    if c.containers {
        sources.push(report("docker", &containers));
    }
    if c.services {
        sources.push(report("probes", &services));
    }
    if c.targets {
        sources.push(report("prometheus", &targets));
    }
    let r = HealthReport {
        fetched_at: Utc::now(),
        containers: containers
            .unwrap_or_default()
            .into_iter()
            .map(|c| ContainerReport {
                name: c.name,
                image: c.image,
                state: c.state,
                health: c.health,
                restarts: c.restarts,
                started_at: c.started_at,
            })
            .collect(),
        services: services
            .unwrap_or_default()
            .into_iter()
            .map(|s| ServiceReport {
                name: s.name,
                ok: s.ok,
                latency_ms: s.latency_ms,
                detail: s.detail,
                components: s.components,
            })
            .collect(),
        targets: targets
            .unwrap_or_default()
            .into_iter()
            .map(|t| TargetReport { job: t.job, instance: t.instance, health: t.health, last_error: t.last_error })
            .collect(),
        sources,
    };
    let ok = !r.sources.is_empty() && r.sources.iter().all(|s| s.ok);
    match output {
        Output::Json => println!("{}", super::output::json(&r)?),
        Output::Table => print!("{}", super::output::table(&health_table(&r))),
    }
    if r.sources.is_empty() {
        eprintln!("mcptop: no docker, services or prometheus_url configured for this context");
        return Ok(ExitCode::from(2));
    }
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn health_table(r: &HealthReport) -> String {
    let mut s = String::new();
    for src in r.sources.iter().filter(|s| !s.ok) {
        let _ = writeln!(s, "{} FAILED: {}", src.name, src.error.as_deref().unwrap_or(""));
    }
    if !r.containers.is_empty() {
        let _ = writeln!(s, "{:<24} {:<10} {:<10} {:>8}  IMAGE", "CONTAINER", "STATE", "HEALTH", "RESTARTS");
        for c in &r.containers {
            let restarts = c.restarts.map(|n| n.to_string()).unwrap_or_else(|| "?".into());
            let _ =
                writeln!(s, "{:<24} {:<10} {:<10} {:>8}  {}", c.name, c.state, c.health.as_str(), restarts, c.image);
        }
    }
    if !r.services.is_empty() {
        let _ = writeln!(s, "\n{:<16} {:<4} {:>8}  DETAIL", "SERVICE", "OK", "LATENCY");
        for svc in &r.services {
            let ms = svc.latency_ms.map(|m| format!("{m}ms")).unwrap_or_default();
            let comps: Vec<String> = svc.components.iter().map(|c| format!("{}={}", c.name, c.status)).collect();
            let _ = writeln!(
                s,
                "{:<16} {:<4} {:>8}  {} {}",
                svc.name,
                if svc.ok { "yes" } else { "NO" },
                ms,
                svc.detail,
                comps.join(" ")
            );
        }
    }
    if !r.targets.is_empty() {
        let _ = writeln!(s, "\n{:<16} {:<28} {:<8} LAST ERROR", "JOB", "INSTANCE", "HEALTH");
        for t in &r.targets {
            let _ = writeln!(s, "{:<16} {:<28} {:<8} {}", t.job, t.instance, t.health, t.last_error);
        }
    }
    s
}

#[derive(Serialize)]
struct GroupReport<'a> {
    key: BTreeMap<&'a str, &'a str>,
    alerts: &'a [Alert],
}

#[derive(Serialize)]
struct AlertsReport<'a> {
    fetched_at: DateTime<Utc>,
    /// Firing alerts by level, as the dashboard counts them.
    firing: crate::domain::facts::Firing,
    sources: Vec<AlertSourceReport>,
    groups: Vec<GroupReport<'a>>,
}

#[derive(Serialize)]
struct AlertSourceReport {
    #[serde(flatten)]
    source: crate::domain::alert::AlertSource,
    ok: bool,
    /// What is partial about its part, in words (as the Alerts pane says it).
    notes: Vec<String>,
}

pub async fn alerts(ops: &dyn OpsSource, settings: &Settings, output: Output) -> anyhow::Result<ExitCode> {
    if !ops.configured().alerts {
        eprintln!(
            "mcptop: no alert source (Alertmanager, Zabbix, CrowdSec) configured for context {:?}",
            settings.context_name
        );
        return Ok(ExitCode::from(2));
    }
    let snap = ops.alerts().await?;
    let now = Utc::now();
    let sources = snap
        .sources
        .iter()
        .map(|s| AlertSourceReport { source: s.clone(), ok: s.error.is_none(), notes: s.notes(now) })
        .collect::<Vec<_>>();
    let partial = snap.partial().next().is_some();
    let firing = snap.firing();
    let groups = group(snap.alerts, &settings.context.alert_group_by);
    let r = AlertsReport {
        fetched_at: now,
        firing,
        groups: groups
            .iter()
            .map(|g| GroupReport {
                key: g.key.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect(),
                alerts: &g.alerts,
            })
            .collect(),
        sources,
    };
    match output {
        Output::Json => println!("{}", super::output::json(&r)?),
        Output::Table => {
            let mut s = String::new();
            for src in r.sources.iter().filter(|s| !s.notes.is_empty()) {
                let what = if src.ok { "PARTIAL" } else { "FAILED" };
                let _ = writeln!(s, "{} {what}: {}", src.source.name, src.notes.join(" · "));
            }
            for g in &r.groups {
                let key: Vec<String> = g.key.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let _ = writeln!(s, "{} ({})", key.join(" "), g.alerts.len());
                for a in g.alerts {
                    let _ = writeln!(
                        s,
                        "  {:<9} {:<11} {:<24} {}  [{}]",
                        a.severity().as_str(),
                        format!("{:?}", a.state).to_lowercase(),
                        a.labels.get("instance").or(a.labels.get("host")).map(String::as_str).unwrap_or(""),
                        a.summary(),
                        a.sources.join(",")
                    );
                }
            }
            print!("{}", super::output::table(&s));
        }
    }
    // Partial (a source failed, an alert could not be read): 1, as `status` does.
    Ok(if partial { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
