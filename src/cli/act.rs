//! `mcptop analyze|approve|reject|retry|cancel`: the same actions as the dashboard's keys, through
//! the same action layer (read-only refused there, every action audited). Each asks on a
//! terminal and takes `--yes` for scripts. Exit codes: 0 done, 1 failed, 2 bad input or not
//! confirmed, 3 refused (read-only, wrong status, already decided).

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use super::Output;
use super::output::{err, errln, esc, outln};
use crate::actions::{ActionError, ActionRequest, Actions, Done, JobRef};
use crate::domain::JobDetail;
use crate::domain::action::AnalysisRequest;

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// What fired, e.g. DiskFull.
    #[arg(long)]
    pub alert_type: String,
    /// The host it fired on.
    #[arg(long = "host")]
    pub hostname: String,
    /// critical, high, medium, low (or Kritisch, Hoch, Mittel, Gering).
    #[arg(long)]
    pub severity: String,
    /// What happened (several lines allowed).
    #[arg(long)]
    pub description: String,
    /// Who asks: zabbix, alertmanager, crowdsec, manual.
    #[arg(long, default_value = "manual")]
    pub source: String,
    /// When it happened (RFC 3339; default now).
    #[arg(long)]
    pub timestamp: Option<String>,
    /// Metrics for the analysis (text or JSON; optional).
    #[arg(long)]
    pub metrics: Option<String>,
    /// Log lines for the analysis (optional).
    #[arg(long)]
    pub logs: Option<String>,
    /// Do not ask for confirmation (for scripts).
    #[arg(long, short)]
    pub yes: bool,
}

#[derive(Serialize)]
struct Outcome<'a> {
    ok: bool,
    action: &'a ActionRequest,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    warning: Option<String>,
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    data: serde_json::Value,
}

/// `mcptop analyze`: prints the job id, or the job an identical request already queued.
pub async fn analyze(args: &AnalyzeArgs, actions: &Actions, output: Output) -> anyhow::Result<ExitCode> {
    let request = AnalysisRequest {
        alert_type: args.alert_type.clone(),
        source: args.source.clone(),
        hostname: args.hostname.clone(),
        severity: args.severity.clone(),
        timestamp: args
            .timestamp
            .clone()
            .unwrap_or_else(|| chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        description: args.description.clone(),
        metrics: args.metrics.clone(),
        logs: args.logs.clone(),
        crowdsec_alerts: None,
    };
    // Bad input is said before anything is asked (exit 2), as the other commands do.
    if let Err(e) = request.validate() {
        errln(&format!("mcptop: {}", esc(&e)));
        return Ok(ExitCode::from(2));
    }
    let request = ActionRequest::Analyze { request };
    if !actions.read_only && !args.yes && !confirm(&esc(&request.describe()))? {
        errln("mcptop: not confirmed; nothing done");
        return Ok(ExitCode::from(2));
    }
    let result = actions.run(request.clone()).await;
    if output == Output::Json
        && let Ok(d) = &result
    {
        outln(&super::output::json(&d.data)?);
        return Ok(ExitCode::SUCCESS);
    }
    report(&[(request, result)], output)
}

/// A job as a confirmation names it, or why it cannot be acted on.
pub async fn job(actions: &Actions, id: &str) -> Result<(JobRef, JobDetail), ActionError> {
    let jobs =
        actions.jobs.as_ref().ok_or_else(|| ActionError::Failed("no job queue (redis_url) is configured".into()))?;
    match jobs.job_detail(id.to_string()).await {
        Ok(Some(d)) => Ok((JobRef::of(&d.job), d)),
        Ok(None) => Err(ActionError::Refused(format!("no job {id}"))),
        Err(e) => Err(ActionError::Failed(format!("job queue: {e}"))),
    }
}

/// Confirm (unless `yes`), run each request on its own, print every outcome; the exit code is
/// the worst one.
pub async fn perform(
    actions: &Actions,
    requests: Vec<ActionRequest>,
    yes: bool,
    output: Output,
) -> anyhow::Result<ExitCode> {
    if requests.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    // Each description escaped on its own: the prompt's line feeds are only mcptop's.
    let what = if requests.len() == 1 {
        esc(&requests[0].describe())
    } else {
        format!(
            "{} {} jobs:\n  {}",
            requests[0].name(),
            requests.len(),
            requests.iter().map(|r| esc(&r.describe())).collect::<Vec<_>>().join("\n  ")
        )
    };
    if !actions.read_only && !yes && !confirm(&what)? {
        errln("mcptop: not confirmed; nothing done");
        return Ok(ExitCode::from(2));
    }
    let mut results = Vec::new();
    for r in requests {
        let result = actions.run(r.clone()).await;
        results.push((r, result));
    }
    report(&results, output)
}

/// Print outcomes; answer the worst exit code: 1 failed, then 2 bad input, then 3 refused.
pub fn report(results: &[(ActionRequest, Result<Done, ActionError>)], output: Output) -> anyhow::Result<ExitCode> {
    let outcomes: Vec<Outcome> = results
        .iter()
        .map(|(r, res)| match res {
            Ok(d) => Outcome {
                ok: true,
                action: r,
                message: d.message.clone(),
                warning: d.warning.clone(),
                data: d.data.clone(),
            },
            Err(e) => {
                Outcome { ok: false, action: r, message: e.to_string(), warning: None, data: serde_json::Value::Null }
            }
        })
        .collect();
    match output {
        Output::Json if outcomes.len() == 1 => outln(&super::output::json(&outcomes[0])?),
        Output::Json => outln(&super::output::json(&outcomes)?),
        Output::Table => {
            for o in &outcomes {
                let line = esc(&o.message);
                if o.ok {
                    outln(&format!("✓ {line}"));
                } else {
                    errln(&format!("✗ {line}"));
                }
                if let Some(w) = &o.warning {
                    errln(&format!("! warning: {}", esc(w)));
                }
            }
        }
    }
    let codes: Vec<u8> = results.iter().filter_map(|(_, r)| r.as_ref().err().map(ActionError::exit_code)).collect();
    let code = [1, 2, 3].into_iter().find(|c| codes.contains(c)).unwrap_or(0);
    Ok(ExitCode::from(code))
}

/// Ask on the terminal; without one, it is not confirmed (scripts pass `--yes`). `what` is text
/// laid out by mcptop, its outside values already escaped ([`esc`]).
pub fn confirm(what: &str) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        errln(&format!("mcptop: {what}: confirm with --yes when not on a terminal"));
        return Ok(false);
    }
    err(&format!("{what}? [y/N] "));
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes"))
}

/// The job's reference for a confirmation; one that cannot be read is still acted on by id, so
/// the action layer refuses it (and records that) in one place.
async fn job_ref(actions: &Actions, id: &str) -> (JobRef, Option<JobDetail>) {
    match job(actions, id).await {
        Ok((r, d)) => (r, Some(d)),
        Err(_) => (JobRef { id: id.to_string(), host: None, severity: crate::domain::Severity::Unknown }, None),
    }
}

/// `mcptop approve JOB`: the confirmation shows the ticket title that will be sent.
pub async fn approve(
    actions: &Actions,
    id: &str,
    note: Option<String>,
    title: Option<String>,
    body: Option<String>,
    yes: bool,
    output: Output,
) -> anyhow::Result<ExitCode> {
    let (job, detail) = job_ref(actions, id).await;
    let edited = title.is_some() || body.is_some();
    let draft = detail.as_ref().and_then(|d| d.ticket_draft.clone()).unwrap_or_default();
    let title = detail.as_ref().map(|d| crate::actions::decide::ticket_title(d, title.as_deref()));
    let body = body.or(draft.body);
    let request = ActionRequest::Approve { job, note, title, body, edited };
    perform(actions, vec![request], yes, output).await
}

/// `mcptop reject JOB --note …`.
pub async fn reject(actions: &Actions, id: &str, note: String, yes: bool, output: Output) -> anyhow::Result<ExitCode> {
    let (job, _) = job_ref(actions, id).await;
    perform(actions, vec![ActionRequest::Reject { job, note }], yes, output).await
}

/// `mcptop retry JOB…` and `mcptop cancel JOB…`: each job decided and recorded on its own.
pub async fn retry_or_cancel(
    actions: &Actions,
    ids: &[String],
    cancel: bool,
    yes: bool,
    output: Output,
) -> anyhow::Result<ExitCode> {
    let mut requests = Vec::new();
    for id in ids {
        let (job, _) = job_ref(actions, id).await;
        requests.push(if cancel { ActionRequest::Cancel { job } } else { ActionRequest::Retry { job } });
    }
    perform(actions, requests, yes, output).await
}
