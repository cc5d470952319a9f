//! `mcptop fleet`: one row per configured context, as the fleet view shows it; exit 1 when a
//! context's source did not answer.

use std::process::ExitCode;

use super::Output;
use super::output::{Align, Table, out, outln};
use crate::fleet::{FleetRow, FleetTarget, check_all};
use crate::tui::loadable::age;

pub async fn run(targets: &[FleetTarget], output: Output) -> anyhow::Result<ExitCode> {
    let rows = check_all(targets, None).await;
    match output {
        Output::Json => outln(&super::output::json(&rows)?),
        Output::Table => out(&table(&rows)),
    }
    Ok(if rows.iter().any(|r| r.failure().is_some()) { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

pub fn table(rows: &[FleetRow]) -> String {
    let mut t = Table::new(&[
        ("CONTEXT", Align::Left),
        ("QUEUED", Align::Right),
        ("OLDEST", Align::Right),
        ("STALLED", Align::Left),
        ("APPROVALS", Align::Right),
        ("FIRING", Align::Left),
        ("UNHEALTHY", Align::Right),
        ("BACKUP", Align::Right),
        ("SOURCES", Align::Left),
    ]);
    let opt = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_else(|| "-".into());
    for r in rows {
        let f = &r.facts;
        let name = if r.production { format!("{} (prod)", r.context) } else { r.context.clone() };
        let sources = match r.failure() {
            Some(f) => format!("{} FAILED: {}", f.name, f.error.as_deref().unwrap_or("")),
            None if r.sources.is_empty() => "nothing configured".into(),
            None => r.sources.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ") + " ok",
        };
        // Unknown from one read when jobs are old: watching tells (`:fleet` does).
        let stalled = match f.stalled {
            Some(true) => "STALLED",
            Some(false) => "no",
            None if f.queued.is_some_and(|n| n > 0) => "?",
            None => "-",
        };
        t.row([
            name,
            opt(f.queued),
            f.oldest_s.map(|s| age(s as i64)).unwrap_or_else(|| "-".into()),
            stalled.to_string(),
            opt(f.awaiting_approval),
            r.firing_short(),
            opt(f.health.map(|h| h.containers_unhealthy as u64)),
            f.last_backup_age_s.map(age).unwrap_or_else(|| "-".into()),
            sources,
        ]);
    }
    t.render()
}
