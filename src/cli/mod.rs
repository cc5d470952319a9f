//! Command-line entry: flags, the headless subcommands (table or JSON), and starting the TUI.
//! The TUI and the subcommands use the same sources and the same snapshot types.

mod ops;
mod rag;
mod silence;
mod status;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use chrono::Utc;
use clap::{Parser, Subcommand, ValueEnum};
use tokio::sync::mpsc;

use crate::clients::RedisClient;
use crate::clients::alertmanager::{Alertmanager, AlertsClient};
use crate::clients::docker::DockerClient;
use crate::clients::probe::{Probe, ProbeClient};
use crate::clients::prometheus::PrometheusClient;
use crate::clients::redis::RedisSettings;
use crate::config::{self, Overrides, Settings};
use crate::demo::DemoPlatform;
use crate::ops::{OpsConfigured, OpsSource, RealOps};
use crate::rag::{RagClient, RagSource};
use crate::runtime::{self, RuntimeOptions};
use crate::source::JobSource;
use crate::tui::app::App;
use crate::tui::keymap::KeyMap;
use crate::tui::ops_state::OpsState;
use crate::tui::rag_state::RagState;
use crate::tui::theme::{self, Theme};

/// A terminal dashboard for the MCP AI-operations platform: queue, jobs, health, alerts.
#[derive(Debug, Parser)]
#[command(name = "mcptop", version, about)]
pub struct Cli {
    /// Config file (default: $XDG_CONFIG_HOME/mcptop/config.toml).
    #[arg(long, env = "MCPTOP_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Context (platform stack) from the config file.
    #[arg(long, env = "MCPTOP_CONTEXT", global = true)]
    pub context: Option<String>,
    /// Redis URL, e.g. redis://127.0.0.1:6379/0 (overrides the context's).
    #[arg(long, env = "MCPTOP_REDIS_URL", global = true)]
    pub redis_url: Option<String>,
    /// Colour theme: default, light, high-contrast, mono, or a file in the themes directory.
    #[arg(long, global = true)]
    pub theme: Option<String>,
    /// Log level for the log file: error, warn, info, debug, trace.
    #[arg(long, global = true)]
    pub log_level: Option<String>,
    /// Refuse every action that changes something.
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
    /// Print the queue and job snapshot without a TTY; exit 1 if a source did not answer.
    Status {
        #[arg(long, short, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// Containers, services and Prometheus targets; exit 1 if a source did not answer.
    Health {
        #[arg(long, short, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// Alerts from every configured Alertmanager, grouped; exit 1 if one did not answer.
    Alerts {
        #[arg(long, short, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// Search the knowledge base (pgvector) the AI uses, or describe it.
    Rag {
        #[command(subcommand)]
        command: rag::RagCommand,
        #[arg(long, short, value_enum, default_value_t = Output::Table, global = true)]
        output: Output,
    },
    /// Create, acknowledge with or expire Alertmanager silences.
    Silence {
        #[command(subcommand)]
        command: silence::SilenceCommand,
        #[arg(long, short, value_enum, default_value_t = Output::Table, global = true)]
        output: Output,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Table,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SnapshotFormat {
    Text,
    Svg,
}

/// The resolved source of queue and job data.
enum Jobs {
    Redis(Arc<RedisClient>),
    Demo(Arc<DemoPlatform>),
    None,
}

/// Parse settings and run what was asked for.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let ov = Overrides {
        config: cli.config.clone(),
        context: cli.context.clone(),
        redis_url: cli.redis_url.clone(),
        theme: cli.theme.clone(),
        log_level: cli.log_level.clone(),
        read_only: cli.read_only,
    };
    let mut settings = config::load(&ov)?;
    if cli.demo {
        settings.context_name = "demo".into();
        settings.context.queues = crate::demo::QUEUES.iter().map(|s| s.to_string()).collect();
    }
    // Check keys and theme before anything connects, so a broken config fails fast and named.
    KeyMap::new(&settings.keys).map_err(anyhow::Error::msg)?;
    Theme::load(theme::choose(&settings.theme, cli.theme.is_some()))?;
    let _log = crate::logging::init(&settings.log_level);
    tracing::info!(context = %settings.context_name, demo = cli.demo, "starting");
    let demo = cli.demo.then(|| DemoPlatform::new(cli.seed, Utc::now()));
    let jobs = make_jobs(demo.as_ref(), &settings)?;
    let ops = match &demo {
        Some(d) => OpsSource::Demo(d.clone()),
        None => OpsSource::Real(real_ops(&settings)),
    };
    let rag = make_rag(demo.as_ref(), &settings)?;
    let clock = demo.as_ref().filter(|_| !cli.demo_still && cli.command.is_none()).map(|d| d.spawn_clock());
    let result = match (&cli.command, &jobs) {
        (Some(Command::Status { output }), Jobs::Redis(s)) => status::status(s.as_ref(), &settings, *output).await,
        (Some(Command::Status { output }), Jobs::Demo(s)) => status::status(s.as_ref(), &settings, *output).await,
        (Some(Command::Status { .. }), Jobs::None) => Ok(no_source(&settings)),
        (Some(Command::Health { output }), _) => ops::health(&ops, *output).await,
        (Some(Command::Alerts { output }), _) => ops::alerts(&ops, &settings, *output).await,
        (Some(Command::Rag { command, output }), _) => {
            rag::run(command, rag.as_ref(), &settings.context_name, *output).await
        }
        (Some(Command::Silence { command, output }), _) => {
            silence::run(command, &ops, &settings, settings.read_only, *output).await
        }
        (None, Jobs::Redis(s)) => dashboard(&cli, Some(s.clone()), ops, rag, &settings).await,
        (None, Jobs::Demo(s)) => dashboard(&cli, Some(s.clone()), ops, rag, &settings).await,
        (None, Jobs::None) if ops.configured() != OpsConfigured::default() || rag.is_some() => {
            dashboard(&cli, None::<Arc<DemoPlatform>>, ops, rag, &settings).await
        }
        (None, Jobs::None) => Ok(no_source(&settings)),
    };
    if let Some(c) = clock {
        c.abort();
    }
    result
}

fn no_source(settings: &Settings) -> ExitCode {
    eprintln!(
        "mcptop: nothing configured for context {:?}.\n  Try `mcptop --demo`, `mcptop --redis-url redis://127.0.0.1:6379/0`,\n  or a config file (see config/mcptop.example.toml) at {}",
        settings.context_name,
        config::default_path().map(|p| p.display().to_string()).unwrap_or_default()
    );
    ExitCode::from(2)
}

fn make_jobs(demo: Option<&DemoPlatform>, settings: &Settings) -> anyhow::Result<Jobs> {
    if let Some(d) = demo {
        return Ok(Jobs::Demo(Arc::new(d.clone())));
    }
    let Some(url) = settings.context.redis_url.clone() else { return Ok(Jobs::None) };
    let client = RedisClient::new(RedisSettings {
        url,
        password: settings.redis_password.clone(),
        prefix: settings.context.key_prefix.clone(),
        queues: settings.context.queues.clone(),
        timeout: settings.context.timeout(),
    })
    .map_err(|e| anyhow::anyhow!("contexts.{}.redis_url: {e}", settings.context_name))?;
    Ok(Jobs::Redis(Arc::new(client)))
}

/// The knowledge base's client (connecting lazily), the demo's, or none.
fn make_rag(demo: Option<&DemoPlatform>, settings: &Settings) -> anyhow::Result<Option<RagSource>> {
    if let Some(d) = demo {
        return Ok(Some(RagSource::Demo(d.clone())));
    }
    let client = RagClient::from_settings(settings)
        .map_err(|e| anyhow::anyhow!("contexts.{}.knowledge_base: {e}", settings.context_name))?;
    Ok(client.map(|c| RagSource::Real(Arc::new(c))))
}

/// The real clients of everything the context configures.
fn real_ops(settings: &Settings) -> RealOps {
    let c = &settings.context;
    let timeout = c.timeout();
    let probes: Vec<Probe> = c
        .services
        .iter()
        .zip(settings.service_tokens.iter())
        .map(|(s, token)| Probe { name: s.name.clone(), url: s.url.clone(), kind: s.kind, token: token.clone() })
        .collect();
    RealOps {
        docker: c.docker.as_deref().map(|d| Arc::new(DockerClient::new(d, timeout))),
        probes: (!probes.is_empty()).then(|| Arc::new(ProbeClient::new(probes, timeout))),
        prometheus: c.prometheus_url.as_deref().map(|u| Arc::new(PrometheusClient::new(u, timeout))),
        alerts: (!c.alertmanagers.is_empty()).then(|| {
            Arc::new(AlertsClient {
                managers: c.alertmanagers.iter().map(|a| Alertmanager::new(&a.name, &a.url, timeout)).collect(),
            })
        }),
    }
}

fn runtime_options(settings: &Settings) -> RuntimeOptions {
    RuntimeOptions {
        interval: settings.context.poll_interval(),
        timeout: settings.context.timeout(),
        ..Default::default()
    }
}

fn new_app(cli: &Cli, settings: &Settings, source_name: &str) -> anyhow::Result<(App, Theme)> {
    let keymap = KeyMap::new(&settings.keys).map_err(anyhow::Error::msg)?;
    let theme = Theme::load(theme::choose(&settings.theme, cli.theme.is_some()))?;
    let mut app = App::new(&settings.context_name, source_name, keymap, Utc::now());
    app.demo = cli.demo;
    app.read_only = settings.read_only;
    app.queue_slots = settings.context.queues.len();
    app.stall_after =
        chrono::Duration::from_std(settings.context.stall_after()).unwrap_or(chrono::Duration::seconds(120));
    Ok((app, theme))
}

async fn dashboard<S: JobSource>(
    cli: &Cli,
    source: Option<Arc<S>>,
    ops: OpsSource,
    rag: Option<RagSource>,
    settings: &Settings,
) -> anyhow::Result<ExitCode> {
    let name = source.as_ref().map(|s| s.name().to_string()).unwrap_or_default();
    let (mut app, theme) = new_app(cli, settings, &name)?;
    app.jobs_configured = source.is_some();
    app.ops = OpsState::new(ops.configured(), settings.context.alert_group_by.clone());
    if let Some(r) = &rag {
        let d = r.defaults();
        app.rag = RagState::new(true, d.top_k, d.threshold);
    }
    if let Some(format) = cli.snapshot {
        return snapshot(cli, source, ops, rag, app, &theme, settings, format).await;
    }
    if !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        anyhow::bail!("stdout is not a terminal: use `mcptop status` or `--snapshot` for headless output");
    }
    let actions = match &ops {
        OpsSource::Real(r) => Some(crate::actions::Actions {
            read_only: settings.read_only,
            actor: crate::actions::Actor::from_env(),
            alerts: r.alerts.clone(),
            ack_duration: chrono::Duration::seconds(settings.context.ack_duration_s as i64),
            audit: Arc::new(crate::actions::LogAudit),
        }),
        OpsSource::Demo(_) => None,
    };
    let exit = crate::tui::run(source, ops, rag, actions, app, theme, runtime_options(settings)).await?;
    tracing::info!(?exit, "stopped");
    Ok(match exit {
        crate::tui::Exit::Quit => ExitCode::SUCCESS,
        // The shell convention for "ended by signal N".
        crate::tui::Exit::Signal(n) => ExitCode::from(128 + n as u8),
        crate::tui::Exit::TerminalGone => ExitCode::from(129),
    })
}

/// Wait (bounded) until the queue and job feeds have answered, then print one frame.
#[allow(clippy::too_many_arguments)]
async fn snapshot<S: JobSource>(
    cli: &Cli,
    source: Option<Arc<S>>,
    ops: OpsSource,
    rag: Option<RagSource>,
    mut app: App,
    theme: &Theme,
    settings: &Settings,
    format: SnapshotFormat,
) -> anyhow::Result<ExitCode> {
    let (w, h) = cli
        .size
        .split_once('x')
        .and_then(|(w, h)| Some((w.parse::<u16>().ok()?, h.parse::<u16>().ok()?)))
        .ok_or_else(|| anyhow::anyhow!("--size: expected WIDTHxHEIGHT, e.g. 160x48"))?;
    app.update(crate::tui::app::Msg::Resized { width: w, height: h });
    let (tx, mut rx) = mpsc::channel(64);
    let handle = source.map(|s| runtime::spawn(s, runtime_options(settings), app.initial_query(), tx.clone()));
    let _ops = runtime::spawn_ops(ops, runtime_options(settings), tx.clone());
    let rag = rag.map(|r| runtime::spawn_rag(r, runtime_options(settings), tx));
    let deadline = tokio::time::Instant::now() + settings.context.timeout() * 2;
    // Every configured feed has answered, with data or with an error.
    let settled = |a: &App| {
        let c = a.ops.configured;
        (!a.jobs_configured || (!a.queues.is_loading() && !a.jobs.is_loading()))
            && (!c.containers || !a.ops.containers.is_loading())
            && (!c.services || !a.ops.services.is_loading())
            && (!c.targets || !a.ops.targets.is_loading())
            && (!c.alerts || !a.ops.alerts.is_loading())
            && (!a.rag.searchable || !a.rag.stats.is_loading())
            && (a.rag.followed_job().is_none() || !a.rag.job_hits.is_loading())
            && a.rag.pending.is_none()
    };
    while !settled(&app) {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(m)) => {
                for e in app.update(crate::tui::app::Msg::Source(m)) {
                    match e {
                        crate::tui::app::Effect::FetchJobs(q) => {
                            handle.iter().for_each(|h| h.set_jobs_query(q.clone()))
                        }
                        crate::tui::app::Effect::FollowDetail(id) => {
                            handle.iter().for_each(|h| h.set_detail(id.clone()))
                        }
                        crate::tui::app::Effect::RagSearch(r) => rag.iter().for_each(|h| h.search(r.clone())),
                        _ => {}
                    }
                }
            }
            _ => break,
        }
    }
    app.now = Utc::now();
    let buf = crate::tui::render_to_buffer(&app, theme, w, h);
    match format {
        SnapshotFormat::Text => println!("{}", crate::tui::svg::to_text(&buf)),
        SnapshotFormat::Svg => println!("{}", crate::tui::svg::to_svg(&buf)),
    }
    Ok(ExitCode::SUCCESS)
}
