//! `mcptop silence add|ack|expire`: the same actions as the Alerts pane's keys, through the same
//! action layer (read-only refused there, every action recorded).

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use clap::Subcommand;
use serde::Serialize;

use super::Output;
use crate::actions::silence::{matchers_for, parse_duration, parse_matcher};
use crate::actions::{ActionError, ActionRequest, Actions};

#[derive(Debug, Subcommand)]
pub enum SilenceCommand {
    /// Create a silence: `--matcher alertname=DiskFull --matcher 'instance=~db-0.*' --duration 2h --comment "…"`.
    Add {
        #[arg(long = "matcher", short = 'm', required = true)]
        matchers: Vec<String>,
        #[arg(long, default_value = "1h")]
        duration: String,
        /// Why (required).
        #[arg(long)]
        comment: String,
        /// Only on this Alertmanager (repeatable; default: all configured).
        #[arg(long = "alertmanager")]
        alertmanagers: Vec<String>,
        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,
    },
    /// Acknowledge one alert by fingerprint: a short silence of its labels, "ack by user@host".
    Ack {
        fingerprint: String,
        #[arg(long = "alertmanager")]
        alertmanagers: Vec<String>,
        #[arg(long, short)]
        yes: bool,
    },
    /// Expire a silence by id.
    Expire {
        id: String,
        #[arg(long = "alertmanager")]
        alertmanagers: Vec<String>,
        #[arg(long, short)]
        yes: bool,
    },
}

#[derive(Serialize)]
struct Outcome<'a> {
    ok: bool,
    action: &'a ActionRequest,
    message: String,
}

pub async fn run(cmd: &SilenceCommand, actions: &Actions, output: Output) -> anyhow::Result<ExitCode> {
    let ops = &actions.ops;
    let (request, yes) = match cmd {
        SilenceCommand::Add { matchers, duration, comment, alertmanagers, yes } => {
            let matchers =
                matchers.iter().map(|m| parse_matcher(m)).collect::<Result<Vec<_>, _>>().map_err(anyhow::Error::msg)?;
            let duration_s = parse_duration(duration).map_err(anyhow::Error::msg)?;
            (
                ActionRequest::SilenceAdd {
                    matchers,
                    duration_s,
                    comment: comment.clone(),
                    alertmanagers: alertmanagers.clone(),
                },
                *yes,
            )
        }
        SilenceCommand::Ack { fingerprint, alertmanagers, yes } => {
            let snap = ops.alerts().await.map_err(|e| anyhow::anyhow!("cannot read alerts: {e}"))?;
            let alert = snap
                .alerts
                .iter()
                .find(|a| &a.fingerprint == fingerprint)
                .ok_or_else(|| anyhow::anyhow!("no alert with fingerprint {fingerprint}"))?;
            let target =
                format!("{} on {}", alert.name(), alert.labels.get("instance").map(String::as_str).unwrap_or("?"));
            let ams = if alertmanagers.is_empty() { alert.sources.clone() } else { alertmanagers.clone() };
            (ActionRequest::Ack { matchers: matchers_for(alert), alertmanagers: ams, target }, *yes)
        }
        SilenceCommand::Expire { id, alertmanagers, yes } => {
            (ActionRequest::SilenceExpire { id: id.clone(), alertmanagers: alertmanagers.clone() }, *yes)
        }
    };
    if !yes && !confirm(&request.describe())? {
        eprintln!("mcptop: not confirmed; nothing done");
        return Ok(ExitCode::from(2));
    }
    let result = actions.run(request.clone()).await;
    let (ok, message) = match &result {
        Ok(m) => (true, m.clone()),
        Err(e) => (false, e.to_string()),
    };
    match output {
        Output::Json => println!("{}", super::output::json(&Outcome { ok, action: &request, message })?),
        Output::Table if ok => println!("{}", super::output::table(&message)),
        Output::Table => eprintln!("mcptop: {}", super::output::table(&message)),
    }
    Ok(match result {
        Ok(_) => ExitCode::SUCCESS,
        Err(ActionError::ReadOnly(_) | ActionError::Invalid(_)) => ExitCode::from(2),
        Err(ActionError::Failed(_)) => ExitCode::from(1),
    })
}

/// Ask on the terminal; without one, refuse (scripts pass `--yes`).
fn confirm(what: &str) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("{}: confirm with --yes when not on a terminal", super::output::table(what));
    }
    eprint!("{}? [y/N] ", super::output::table(what));
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes"))
}
