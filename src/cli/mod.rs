//! Command-line entry: flags, the headless subcommands (table or JSON), and starting the TUI.
//! The TUI and the subcommands use the same sources and the same snapshot types.

mod act;
mod audit_cmd;
mod backup;
mod fleet;
mod logs;
mod ops;
pub mod output;
mod pipeline;
mod rag;
pub mod session;
mod silence;
mod status;

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::Utc;
use clap::{Parser, Subcommand, ValueEnum};

use crate::actions::Actions;
use crate::config::{self, Overrides, Settings};
use crate::demo::DemoPlatform;
use crate::demo::worlds::{CONTEXTS as DEMO_CONTEXTS, DemoWorlds};
use crate::sources::Sources;
use crate::tui::keymap::KeyMap;
use crate::tui::snapshot::{FrameSpec, SnapshotFormat};
use crate::tui::theme::{self, Theme};

/// A terminal dashboard for the MCP AI-operations platform: queue, jobs, health, alerts.
#[derive(Debug, Parser)]
#[command(name = "mcptop", version, about)]
pub struct Cli {
    /// Config file (default: $XDG_CONFIG_HOME/mcptop/config.toml).
    #[arg(long, env = "MCPTOP_CONFIG", hide_env_values = true, global = true)]
    pub config: Option<PathBuf>,
    /// Context (platform stack) from the config file.
    #[arg(long, env = "MCPTOP_CONTEXT", hide_env_values = true, global = true)]
    pub context: Option<String>,
    /// Redis URL, e.g. redis://127.0.0.1:6379/0 (overrides the context's).
    #[arg(long, env = "MCPTOP_REDIS_URL", hide_env_values = true, global = true)]
    pub redis_url: Option<String>,
    /// The dashboard's colour theme: default, light, high-contrast, mono, or a file in the
    /// themes directory.
    #[arg(long)]
    pub theme: Option<String>,
    /// Log level for the log file: error, warn, info, debug, trace.
    #[arg(long, global = true)]
    pub log_level: Option<String>,
    /// Refuse every action that changes the platform (approve, reject, retry, cancel, analyze,
    /// silences, acknowledgements, restore, prune). A backup only reads it and still runs,
    /// without pruning old archives.
    #[arg(long, global = true)]
    pub read_only: bool,
    /// Run on a built-in simulated platform instead of real services.
    #[arg(long, global = true)]
    pub demo: bool,
    /// Seed of the simulated platform.
    #[arg(long, default_value_t = 42, global = true)]
    pub seed: u64,
    /// Keep the simulated platform still (only clocks and ages change); for measurements.
    #[arg(long, hide = true, global = true)]
    pub demo_still: bool,
    /// Print one frame of the dashboard once data has arrived, then exit.
    #[arg(long, value_enum, num_args = 0..=1, default_missing_value = "text")]
    pub snapshot: Option<SnapshotFormat>,
    /// Size of the snapshot frame.
    #[arg(long, default_value = "160x48")]
    pub size: String,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// One row per configured context: queue, approvals, alerts, containers, last backup, and
    /// which sources answered; exit 1 if one did not.
    Fleet {
        /// table, or json for scripts.
        #[arg(long, short, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// The AI pipeline: analyses, their rate and duration, tickets, RAG searches (gateway
    /// /metrics), LiteLLM's models and Ollama's loaded ones; exit 1 if a part did not answer.
    Pipeline {
        /// table, or json for scripts.
        #[arg(long, short, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// A container's log, control characters escaped; exit 1 if the engine refused.
    Logs {
        /// Container name or id.
        container: String,
        /// Only lines since: 10m, 2h, 1d, or an RFC 3339 time.
        #[arg(long)]
        since: Option<String>,
        /// Only the last N lines.
        #[arg(long)]
        tail: Option<u64>,
        /// Only lines matching this regular expression (as `grep -E`).
        #[arg(long)]
        grep: Option<String>,
        /// Keep printing new lines.
        #[arg(long, short)]
        follow: bool,
        /// Prefix each line with the engine's timestamp.
        #[arg(long, short)]
        timestamps: bool,
    },
    /// Print the queue and job snapshot without a TTY; exit 1 if a source did not answer.
    Status {
        /// table, or json for scripts.
        #[arg(long, short, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// Containers, services and Prometheus targets; exit 1 if a source did not answer.
    Health {
        /// table, or json for scripts.
        #[arg(long, short, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// Alerts from every configured Alertmanager, Zabbix server and CrowdSec, grouped; exit 1
    /// if a source did not answer or an alert could not be read.
    Alerts {
        /// table, or json for scripts.
        #[arg(long, short, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// Search the knowledge base (pgvector) the AI uses, or describe it.
    Rag {
        #[command(subcommand)]
        command: rag::RagCommand,
        /// table, or json for scripts.
        #[arg(long, short, value_enum, default_value_t = Output::Table, global = true)]
        output: Output,
    },
    /// Start an analysis (through the gateway when configured, else straight onto the queue);
    /// `--output json` prints {job_id, deduplicated}.
    Analyze {
        #[command(flatten)]
        args: act::AnalyzeArgs,
        /// table, or json for scripts.
        #[arg(long, short, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// Approve a job's ticket draft: opens the Zammad ticket, notifies ntfy, records who decided.
    Approve {
        /// The job's id.
        #[arg(value_parser = clap::builder::NonEmptyStringValueParser::new())]
        job: String,
        /// Why, or anything to record with the decision (one line).
        #[arg(long)]
        note: Option<String>,
        /// Replace the draft's title (the `[job J]` mark is kept).
        #[arg(long)]
        title: Option<String>,
        /// Replace the draft's body.
        #[arg(long)]
        body: Option<String>,
        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,
        /// table, or json for scripts.
        #[arg(long, short, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// Reject a job's ticket draft; the note says why.
    Reject {
        /// The job's id.
        #[arg(value_parser = clap::builder::NonEmptyStringValueParser::new())]
        job: String,
        /// Why it is rejected (required, one line).
        #[arg(long)]
        note: String,
        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,
        /// table, or json for scripts.
        #[arg(long, short, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// Put failed jobs back on their queues (attempts kept).
    Retry {
        /// The jobs' ids.
        #[arg(required = true, value_parser = clap::builder::NonEmptyStringValueParser::new())]
        jobs: Vec<String>,
        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,
        /// table, or json for scripts.
        #[arg(long, short, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// Cancel queued jobs (taken off their queues).
    Cancel {
        /// The jobs' ids.
        #[arg(required = true, value_parser = clap::builder::NonEmptyStringValueParser::new())]
        jobs: Vec<String>,
        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,
        /// table, or json for scripts.
        #[arg(long, short, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// The audit log: who did what, when, and how it ended; newest first.
    Audit {
        /// How far back: 24h, 30m, 7d, or an RFC 3339 time.
        #[arg(long, default_value = "24h")]
        since: String,
        /// Part of the actor (user@host).
        #[arg(long)]
        actor: Option<String>,
        /// Only this action.
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(crate::actions::ACTION_NAMES))]
        action: Option<String>,
        /// Only this outcome.
        #[arg(long, value_parser = ["started", "ok", "failed"])]
        outcome: Option<String>,
        /// Most records shown, newest first.
        #[arg(long, default_value_t = 200)]
        limit: usize,
        /// table, or json for scripts.
        #[arg(long, short, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// Backups of the context: run, list, verify, prune, restore (CONTRACT.md §6).
    Backup {
        #[command(subcommand)]
        command: backup::BackupCommand,
        /// table, or json for scripts.
        #[arg(long, short, value_enum, default_value_t = Output::Table, global = true)]
        output: Output,
    },
    /// The configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Create or expire Alertmanager silences; acknowledge an alert (a short silence) or a
    /// Zabbix problem (event.acknowledge).
    Silence {
        #[command(subcommand)]
        command: silence::SilenceCommand,
        /// table, or json for scripts.
        #[arg(long, short, value_enum, default_value_t = Output::Table, global = true)]
        output: Output,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the resolved configuration of the context; secrets show as references, never values.
    Show {
        /// table, or json for scripts.
        #[arg(long, short, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Table,
    Json,
}

/// Parse settings and run what was asked for.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let demo_context = if cli.demo { Some(demo_context(&cli)?) } else { None };
    let ov = Overrides {
        config: cli.config.clone(),
        // The demo's contexts are its own: the config file's play no part in choosing one.
        context: if cli.demo { None } else { cli.context.clone() },
        redis_url: cli.redis_url.clone(),
        theme: cli.theme.clone(),
        log_level: cli.log_level.clone(),
        read_only: cli.read_only,
    };
    let mut settings = config::load(&ov)?;
    if let Some(name) = &demo_context {
        settings.context_name = name.clone();
        settings.context_names = DEMO_CONTEXTS.iter().map(|c| c.to_string()).collect();
        settings.context.queues = crate::demo::QUEUES.iter().map(|s| s.to_string()).collect();
    }
    // Check keys and theme before anything connects, so a broken config fails fast and named
    // (the theme only where one is drawn: a broken theme file does not stop `mcptop status`).
    KeyMap::new(&settings.keys).map_err(anyhow::Error::msg)?;
    if cli.command.is_none() {
        Theme::load(theme::choose(&settings.theme, cli.theme.is_some()))?;
    }
    let _log = crate::logging::init(&settings.log_level);
    tracing::info!(context = %settings.context_name, demo = cli.demo, "starting");
    let sources = if cli.demo {
        DemoPlatform::fresh_sources(DemoWorlds::seed_of(cli.seed, &settings.context_name), Utc::now())
    } else {
        Sources::from_context(&settings)?
    };
    let audit = if cli.demo {
        crate::audit::AuditLog::sqlite_memory()
    } else {
        crate::audit::AuditLog::from_settings(&settings)?
    };
    let audit = std::sync::Arc::new(audit);
    let mut actions = Actions::new(&settings, &sources, audit.clone());
    // The demo backs up a simulated volume into a temporary folder, removed at the end (the
    // dashboard's contexts have their own); only the backup commands need it.
    let _demo_backups = if cli.demo && matches!(cli.command, Some(Command::Backup { .. })) {
        crate::demo::backups::plan(&settings.context_name).map(|(plan, dir)| {
            actions.backup = Some(std::sync::Arc::new(plan));
            dir
        })
    } else {
        None
    };
    match &cli.command {
        Some(Command::Status { output }) => match &sources.jobs {
            Some(jobs) => status::status(jobs.as_ref(), &settings, *output).await,
            None => Ok(no_source(&settings)),
        },
        Some(Command::Health { output }) => ops::health(sources.ops.as_ref(), *output).await,
        Some(Command::Logs { container, since, tail, grep, follow, timestamps }) => {
            let args = logs::LogsArgs {
                container,
                since: since.as_deref(),
                tail: *tail,
                grep: grep.as_deref(),
                follow: *follow,
                timestamps: *timestamps,
            };
            logs::run(sources.ops.as_ref(), args).await
        }
        Some(Command::Fleet { output }) => {
            let demo = cli.demo.then(|| DemoWorlds::new(cli.seed, false));
            // Reading each context's config and secret files blocks: off the event loop.
            let targets = tokio::task::block_in_place(|| session::fleet_targets(&cli, &settings, demo.as_ref()));
            fleet::run(&targets, *output).await
        }
        Some(Command::Pipeline { output }) => pipeline::run(sources.ops.as_ref(), *output).await,
        Some(Command::Alerts { output }) => ops::alerts(sources.ops.as_ref(), &settings, *output).await,
        Some(Command::Rag { command, output }) => {
            rag::run(command, sources.knowledge.as_deref(), &settings.context_name, *output).await
        }
        Some(Command::Silence { command, output }) => silence::run(command, &actions, *output).await,
        Some(Command::Analyze { args, output }) => act::analyze(args, &actions, *output).await,
        Some(Command::Approve { job, note, title, body, yes, output }) => {
            act::approve(&actions, job, note.clone(), title.clone(), body.clone(), *yes, *output).await
        }
        Some(Command::Reject { job, note, yes, output }) => {
            act::reject(&actions, job, note.clone(), *yes, *output).await
        }
        Some(Command::Retry { jobs, yes, output }) => act::retry_or_cancel(&actions, jobs, false, *yes, *output).await,
        Some(Command::Cancel { jobs, yes, output }) => act::retry_or_cancel(&actions, jobs, true, *yes, *output).await,
        Some(Command::Audit { since, actor, action, outcome, limit, output }) => {
            let since = crate::audit::parse_since(since, Utc::now()).map_err(|e| anyhow::anyhow!("--since: {e}"))?;
            let q = crate::audit::Query {
                since: Some(since),
                actor: actor.clone(),
                action: action.clone(),
                outcome: outcome.clone(),
                context: None,
                limit: *limit,
            };
            audit_cmd::show(&actions.audit, &q, *output).await
        }
        Some(Command::Backup { command, output }) => backup::run(command, &actions, *output).await,
        Some(Command::Config { command: ConfigCommand::Show { output } }) => audit_cmd::config_show(&settings, *output),
        None if sources.any() => dashboard(&cli, &settings, audit).await,
        None => Ok(no_source(&settings)),
    }
}

/// The demo context `--context` names (the first when none): only the demo's own exist in the
/// demo. `MCPTOP_CONTEXT` names the user's own contexts, so the demo ignores it.
fn demo_context(cli: &Cli) -> anyhow::Result<String> {
    let from_env = std::env::var("MCPTOP_CONTEXT").ok();
    match cli.context.as_deref() {
        None => Ok(DEMO_CONTEXTS[0].to_string()),
        Some(name) if DemoWorlds::knows(name) => Ok(name.to_string()),
        Some(name) if from_env.as_deref() == Some(name) => Ok(DEMO_CONTEXTS[0].to_string()),
        Some(name) => anyhow::bail!(
            "--context: the demo has no context {}; its contexts are {}",
            crate::domain::text::escape_line(&format!("{name:?}")),
            DEMO_CONTEXTS.join(", ")
        ),
    }
}

fn no_source(settings: &Settings) -> ExitCode {
    output::errln(&format!(
        "mcptop: nothing configured for context {}.\n  Try `mcptop --demo`, `mcptop --redis-url redis://127.0.0.1:6379/0`,\n  or a config file (see config/mcptop.example.toml) at {}",
        output::esc(&format!("{:?}", settings.context_name)),
        output::esc(&config::default_path().map(|p| p.display().to_string()).unwrap_or_default())
    ));
    ExitCode::from(2)
}

async fn dashboard(
    cli: &Cli,
    settings: &Settings,
    audit: std::sync::Arc<crate::audit::AuditLog>,
) -> anyhow::Result<ExitCode> {
    // The demo's contexts live as long as the process, their clocks running (not for a still
    // demo or a snapshot); made at once, off the event loop (their backups are real archives).
    let demo = if cli.demo {
        let worlds = DemoWorlds::new(cli.seed, !cli.demo_still && cli.snapshot.is_none());
        let w = worlds.clone();
        tokio::task::spawn_blocking(move || DEMO_CONTEXTS.iter().for_each(|c| drop(w.get(c)))).await?;
        Some(worlds)
    } else {
        None
    };
    let fleet = cli.snapshot.is_none().then(|| {
        let targets = tokio::task::block_in_place(|| session::fleet_targets(cli, settings, demo.as_ref()));
        std::sync::Arc::new(targets)
    });
    let opener = session::Opener { cli, base: settings.clone(), audit, fleet, demo };
    let mut first = opener.open(settings.context_name.clone()).await?;
    if let Some(format) = cli.snapshot {
        let size = cli
            .size
            .split_once('x')
            .and_then(|(w, h)| Some((w.parse::<u16>().ok()?, h.parse::<u16>().ok()?)))
            .filter(|(w, h)| (20..=1000).contains(w) && (5..=500).contains(h))
            .ok_or_else(|| anyhow::anyhow!("--size: expected WIDTHxHEIGHT between 20x5 and 1000x500, e.g. 160x48"))?;
        let spec = FrameSpec { size, format, wait: settings.context.timeout() * 2 };
        let crate::tui::Session { sources, actions, app, theme, opts, .. } = first;
        // The frame is drawn text (escaped and scrubbed as every frame is); an SVG holds markup.
        output::outln(&crate::tui::snapshot::snapshot(&sources, actions, app, &theme, opts, spec).await);
        return Ok(ExitCode::SUCCESS);
    }
    if !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        anyhow::bail!("stdout is not a terminal: use `mcptop status` or `--snapshot` for headless output");
    }
    first.app.command_history = crate::tui::commands::load_history();
    let open: crate::tui::Opener<'_> = Box::new(|name| Box::pin(opener.open(name)));
    let exit = crate::tui::run(first, open).await;
    tracing::info!(?exit, "stopped");
    let exit = exit?;
    Ok(match exit {
        crate::tui::Exit::Quit => ExitCode::SUCCESS,
        // The shell convention for "ended by signal N".
        crate::tui::Exit::Signal(n) => ExitCode::from(128 + n as u8),
        crate::tui::Exit::TerminalGone => ExitCode::from(129),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every flag and argument of every command says what it is for, and the audit's action list
    /// is every action the log records.
    #[test]
    fn every_argument_has_help() {
        use clap::CommandFactory;
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for a in cmd.get_arguments() {
                let id = a.get_id().as_str();
                if id != "help" && id != "version" && a.get_help().is_none() && !a.is_hide_set() {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                if sub.get_about().is_none() && sub.get_name() != "help" {
                    missing.push(format!("{path} {} (no about)", sub.get_name()));
                }
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "mcptop", &mut missing);
        assert!(missing.is_empty(), "no help text: {missing:?}");
    }

    #[test]
    fn the_audit_filter_knows_every_action() {
        use crate::actions::ActionRequest;
        let job = crate::actions::JobRef { id: "j".into(), host: None, severity: crate::domain::Severity::Low };
        let all = [
            ActionRequest::SilenceAdd {
                matchers: vec![],
                duration_s: 1,
                comment: String::new(),
                alertmanagers: vec![],
            },
            ActionRequest::Ack { matchers: vec![], alertmanagers: vec![], target: String::new() },
            ActionRequest::AckProblem { server: String::new(), eventid: String::new(), target: String::new() },
            ActionRequest::SilenceExpire { id: String::new(), alertmanagers: vec![] },
            ActionRequest::Analyze { request: Default::default() },
            ActionRequest::Approve { job: job.clone(), note: None, title: None, body: None, edited: false },
            ActionRequest::Reject { job: job.clone(), note: String::new() },
            ActionRequest::Retry { job: job.clone() },
            ActionRequest::Cancel { job },
            ActionRequest::Backup { context: String::new(), items: String::new(), only: vec![] },
            ActionRequest::Restore {
                archive: String::new(),
                context: String::new(),
                only: vec![],
                confirmed: String::new(),
            },
            ActionRequest::Prune { dir: String::new() },
        ];
        let names: Vec<&str> = all.iter().map(ActionRequest::name).collect();
        assert_eq!(names, crate::actions::ACTION_NAMES);
    }
}
