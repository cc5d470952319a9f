//! `mcptop silence add|ack|expire`: the same actions as the Alerts pane's keys, through the same
//! action layer (read-only refused there, every action recorded).

use std::process::ExitCode;

use clap::Subcommand;

use super::Output;
use crate::actions::silence::{parse_duration, parse_matcher};
use crate::actions::{ActionRequest, Actions};

#[derive(Debug, Subcommand)]
pub enum SilenceCommand {
    /// Create a silence: `--matcher alertname=DiskFull --matcher 'instance=~db-0.*' --duration 2h --comment "…"`.
    Add {
        /// A label matcher: name=value, name!=value, name=~regex, name!~regex (repeatable).
        #[arg(long = "matcher", short = 'm', required = true)]
        matchers: Vec<String>,
        /// How long: 30m, 2h, 1d.
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
    /// Acknowledge one alert by fingerprint: an Alertmanager alert with a short silence of its
    /// labels ("ack by user@host"), a Zabbix problem with event.acknowledge and a message naming
    /// you.
    Ack {
        /// The alert's fingerprint (a Zabbix problem's is zabbix:SERVER:EVENTID).
        fingerprint: String,
        /// Only on this Alertmanager (repeatable; default: all configured).
        #[arg(long = "alertmanager")]
        alertmanagers: Vec<String>,
        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,
    },
    /// Expire a silence by id.
    Expire {
        /// The silence's id.
        id: String,
        /// Only on this Alertmanager (repeatable; default: all configured).
        #[arg(long = "alertmanager")]
        alertmanagers: Vec<String>,
        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,
    },
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
            let request = match crate::actions::silence::ack_request(alert).map_err(|e| anyhow::anyhow!(e))? {
                ActionRequest::Ack { matchers, target, .. } if !alertmanagers.is_empty() => {
                    ActionRequest::Ack { matchers, alertmanagers: alertmanagers.clone(), target }
                }
                other => other,
            };
            (request, *yes)
        }
        SilenceCommand::Expire { id, alertmanagers, yes } => {
            (ActionRequest::SilenceExpire { id: id.clone(), alertmanagers: alertmanagers.clone() }, *yes)
        }
    };
    super::act::perform(actions, vec![request], yes, output).await
}
