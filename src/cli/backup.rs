//! `mcptop backup run|list|verify|prune|restore`: progress as a bar on a terminal, or with
//! `--output json` one status line per second and a summary (restic style), so scripts can
//! follow a backup; every action through the action layer (audited; restore and prune refused in
//! read-only mode).

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Subcommand;

use super::Output;
use super::output::{Align, Table, err, errln, esc, out, outln};
use crate::actions::{ActionRequest, Actions};
use crate::backup::{self, Kind, Progress, ProgressSink};
use crate::domain::facts;
use crate::domain::text::count;

#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Take a backup now: databases, Redis keys, files (CONTRACT.md §6).
    Run {
        /// Only these: postgres, redis, files (comma-separated).
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,
    },
    /// The archives in the backup directory, newest first.
    List,
    /// Re-read an archive: every member's sha256, each dump with pg_restore --list, the Redis records.
    Verify {
        /// The archive's path.
        archive: String,
    },
    /// Delete what retention no longer keeps; --dry-run lists each archive with the rule that keeps it.
    Prune {
        /// List each archive with the rule that keeps it, or that it goes; delete nothing.
        #[arg(long)]
        dry_run: bool,
        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,
    },
    /// Restore an archive: databases, then Redis, then files, then verify.
    Restore {
        /// The archive's path.
        archive: String,
        /// Only these: postgres, redis, files (comma-separated).
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// The context's name, typed out (scripts); asked for on a terminal otherwise.
        #[arg(long)]
        confirm: Option<String>,
    },
}

fn kinds(only: &[String]) -> anyhow::Result<Vec<Kind>> {
    only.iter().map(|s| Kind::parse(s).map_err(|e| anyhow::anyhow!("--only: {e}"))).collect()
}

/// A progress sink: a bar on a terminal (stderr), JSON status lines at most once a second.
fn progress_sink(output: Output) -> (ProgressSink, Option<indicatif::ProgressBar>) {
    if output == Output::Json {
        let last = Mutex::new(None::<Instant>);
        let sink = move |p: &Progress| {
            let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
            if last.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                *last = Some(Instant::now());
                let line = serde_json::json!({"message_type": "status", "phase": p.phase, "item": p.item,
                    "bytes_done": p.done, "total_bytes": p.total, "total_is_estimate": p.estimated,
                    "bytes_per_second": p.bytes_per_s.round(), "seconds_remaining": p.eta_s.map(f64::round),
                    "seconds_elapsed": p.elapsed_s.round()});
                outln(&super::output::json_line(&line).unwrap_or_default());
            }
        };
        return (Arc::new(sink), None);
    }
    if !std::io::stderr().is_terminal() {
        return (Arc::new(|_: &Progress| {}), None);
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {msg} {bytes}/{total_bytes} {binary_bytes_per_sec} [{wide_bar}] ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let b = bar.clone();
    let sink = move |p: &Progress| {
        b.set_length(p.total.unwrap_or(p.done).max(p.done));
        b.set_position(p.done);
        let est = if p.estimated { " (estimated total)" } else { "" };
        b.set_message(format!("{} {}{est}", p.phase, esc(&p.item)));
    };
    (Arc::new(sink), Some(bar))
}

pub async fn run(cmd: &BackupCommand, actions: &Actions, output: Output) -> anyhow::Result<ExitCode> {
    let Some(plan) = actions.backup.clone() else {
        errln(&format!(
            "mcptop: no [contexts.{}.backup] configured (see config/mcptop.example.toml)",
            esc(&actions.context)
        ));
        return Ok(ExitCode::from(2));
    };
    match cmd {
        BackupCommand::List => {
            let archives = backup::list(&plan.dir).map_err(anyhow::Error::msg)?;
            match output {
                Output::Json => outln(&super::output::json(&archives)?),
                Output::Table => {
                    let mut t = Table::new(&[
                        ("ARCHIVE", Align::Left),
                        ("BYTES", Align::Right),
                        ("VERIFIED", Align::Left),
                        ("ITEMS", Align::Left),
                    ]);
                    for a in &archives {
                        let v =
                            a.verified.as_deref().map(|v| v.split_whitespace().next().unwrap_or("")).unwrap_or("never");
                        t.row([a.name.as_str(), &a.bytes.to_string(), v, &a.items.join(", ")]);
                    }
                    out(&t.render());
                    let age = facts::backup_age_s(archives.first().map(|a| a.created_at), chrono::Utc::now());
                    if facts::backup_overdue(age, plan.max_age_h) {
                        let max = plan.max_age_h.unwrap_or(0);
                        let age = crate::domain::text::age(age.unwrap_or(0));
                        errln(&format!("warning: the newest archive is {age} old (max_age_h = {max})"));
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        BackupCommand::Verify { archive } => {
            let (sink, bar) = progress_sink(output);
            let path = std::path::PathBuf::from(archive);
            let pg_restore = plan.pg_restore.clone();
            let result = tokio::task::spawn_blocking(move || backup::verify(&path, &pg_restore, sink.as_ref())).await?;
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            let report = match result {
                Ok(r) => r,
                Err(e) => {
                    errln(&format!("mcptop: {}", esc(&e)));
                    return Ok(ExitCode::from(1));
                }
            };
            match output {
                Output::Json => outln(&super::output::json(&serde_json::json!({"message_type": "summary",
                    "archive": report.archive, "members": report.members, "bytes": report.bytes,
                    "problems": report.problems}))?),
                Output::Table if report.problems.is_empty() => outln(&format!(
                    "✓ {}: {}, {} bytes, every checksum matches",
                    esc(archive),
                    count(report.members as u64, "member", "members"),
                    report.bytes
                )),
                Output::Table => {
                    for p in &report.problems {
                        errln(&format!("✗ {}", esc(p)));
                    }
                }
            }
            Ok(if report.problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        BackupCommand::Prune { dry_run: true, .. } => {
            let decisions = backup::prune::prune(&plan.dir, plan.retention, true).map_err(anyhow::Error::msg)?;
            match output {
                Output::Json => outln(&super::output::json(&decisions)?),
                Output::Table => {
                    let mut t = Table::new(&[("", Align::Left), ("ARCHIVE", Align::Left), ("WHY", Align::Left)]);
                    for d in &decisions {
                        t.row([if d.keep { "keep" } else { "GO" }, &d.name, &d.reason]);
                    }
                    out(&t.render());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        BackupCommand::Prune { yes, .. } => {
            let request = ActionRequest::Prune { dir: plan.dir.display().to_string() };
            super::act::perform(actions, vec![request], *yes, output).await
        }
        BackupCommand::Run { only, yes } => {
            let mut p = (*plan).clone();
            p.only = kinds(only)?;
            let request =
                ActionRequest::Backup { context: actions.context.clone(), items: p.describe(), only: p.only.clone() };
            with_progress(actions, request, *yes, output).await
        }
        BackupCommand::Restore { archive, only, confirm } => {
            let confirmed = match confirm {
                Some(c) => c.clone(),
                None if actions.read_only => String::new(),
                None if std::io::stdin().is_terminal() => {
                    err(&format!(
                        "Restoring {} replaces the data of context {}. Type the context's name: ",
                        esc(archive),
                        esc(&format!("{:?}", actions.context))
                    ));
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    line.trim().to_string()
                }
                None => {
                    errln("mcptop: restore needs --confirm CONTEXT when not on a terminal");
                    return Ok(ExitCode::from(2));
                }
            };
            let request = ActionRequest::Restore {
                archive: archive.clone(),
                context: actions.context.clone(),
                only: kinds(only)?,
                confirmed,
            };
            // The typed context name is the confirmation.
            with_progress(actions, request, true, output).await
        }
    }
}

async fn with_progress(
    actions: &Actions,
    request: ActionRequest,
    yes: bool,
    output: Output,
) -> anyhow::Result<ExitCode> {
    let (sink, bar) = progress_sink(output);
    let actions = Actions { progress: Some(sink), ..actions.clone() };
    let code = super::act::perform(&actions, vec![request], yes, output).await;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    code
}
