//! `mcptop health` and `mcptop alerts`: the Health and Alerts panes without a TTY.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Output;
use super::output::{Align, Table, errln, esc, out, outln};
use crate::clients::SourceError;
use crate::config::Settings;
use crate::domain::alert::group;
use crate::domain::{Alert, ComponentStatus, Health, HealthSummary};
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
    /// The counts the dashboard's Health line shows.
    summary: HealthSummary,
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
    let summary = crate::domain::facts::health(
        containers.as_deref().unwrap_or_default(),
        services.as_deref().unwrap_or_default(),
        targets.as_deref().unwrap_or_default(),
    );
    let r = HealthReport {
        summary,
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
        Output::Json => outln(&super::output::json(&r)?),
        Output::Table => out(&health_table(&r)),
    }
    if r.sources.is_empty() {
        errln("mcptop: no docker, services or prometheus_url configured for this context");
        return Ok(ExitCode::from(2));
    }
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn health_table(r: &HealthReport) -> String {
    let mut s = String::new();
    for src in r.sources.iter().filter(|s| !s.ok) {
        let _ = writeln!(s, "{} FAILED: {}", esc(&src.name), esc(src.error.as_deref().unwrap_or("")));
    }
    let h = &r.summary;
    let _ = writeln!(
        s,
        "containers {} ok {} unhealthy {} starting {} stopped · services {} up {} down · targets {} up {} down {} unknown\n",
        h.containers_healthy,
        h.containers_unhealthy,
        h.containers_starting,
        h.containers_stopped,
        h.services_up,
        h.services_down,
        h.targets_up,
        h.targets_down,
        h.targets_unknown
    );
    if !r.containers.is_empty() {
        let mut t = Table::new(&[
            ("CONTAINER", Align::Left),
            ("STATE", Align::Left),
            ("HEALTH", Align::Left),
            ("RESTARTS", Align::Right),
            ("IMAGE", Align::Left),
        ]);
        for c in &r.containers {
            let restarts = c.restarts.map(|n| n.to_string()).unwrap_or_else(|| "?".into());
            t.row([c.name.as_str(), &c.state, c.health.as_str(), &restarts, &c.image]);
        }
        s.push_str(&t.render());
    }
    if !r.services.is_empty() {
        let mut t = Table::new(&[
            ("SERVICE", Align::Left),
            ("OK", Align::Left),
            ("LATENCY", Align::Right),
            ("DETAIL", Align::Left),
        ]);
        for svc in &r.services {
            let ms = svc.latency_ms.map(|m| format!("{m}ms")).unwrap_or_default();
            let comps: Vec<String> = svc.components.iter().map(|c| format!("{}={}", c.name, c.status)).collect();
            let detail = format!("{} {}", svc.detail, comps.join(" "));
            t.row([svc.name.as_str(), if svc.ok { "yes" } else { "NO" }, &ms, &detail]);
        }
        s.push('\n');
        s.push_str(&t.render());
    }
    if !r.targets.is_empty() {
        let mut t = Table::new(&[
            ("JOB", Align::Left),
            ("INSTANCE", Align::Left),
            ("HEALTH", Align::Left),
            ("LAST ERROR", Align::Left),
        ]);
        for tg in &r.targets {
            t.row([&tg.job, &tg.instance, &tg.health, &tg.last_error]);
        }
        s.push('\n');
        s.push_str(&t.render());
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
        errln(&format!(
            "mcptop: no alert source (Alertmanager, Zabbix, CrowdSec) configured for context {}",
            esc(&format!("{:?}", settings.context_name))
        ));
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
        Output::Json => outln(&super::output::json(&r)?),
        Output::Table => {
            let mut s = String::new();
            for src in r.sources.iter().filter(|s| !s.notes.is_empty()) {
                let what = if src.ok { "PARTIAL" } else { "FAILED" };
                let _ = writeln!(s, "{} {what}: {}", esc(&src.source.name), esc(&src.notes.join(" · ")));
            }
            let f = &r.firing;
            let _ = writeln!(s, "{} firing ({})\n", f.total, f.short());
            let mut t = Table::new(&[
                ("  SEVERITY", Align::Left),
                ("STATE", Align::Left),
                ("INSTANCE", Align::Left),
                ("SUMMARY", Align::Left),
                ("SOURCES", Align::Left),
            ]);
            for g in &r.groups {
                let key: Vec<String> = g.key.iter().map(|(k, v)| format!("{k}={v}")).collect();
                t.note(&format!("{} ({})", key.join(" "), g.alerts.len()));
                for a in g.alerts {
                    let state = format!("{:?}", a.state).to_lowercase();
                    let instance = a.labels.get("instance").or(a.labels.get("host")).map(String::as_str).unwrap_or("");
                    let severity = format!("  {}", a.severity().as_str());
                    t.row([severity.as_str(), &state, instance, a.summary(), &format!("[{}]", a.sources.join(","))]);
                }
            }
            s.push_str(&t.render());
            out(&s);
        }
    }
    // Partial (a source failed, an alert could not be read): 1, as `status` does.
    Ok(if partial { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
