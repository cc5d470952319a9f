//! Command-line entry: flags, the headless subcommands (table or JSON), and starting the TUI.
//! The TUI and `status` use the same sources and the same snapshot types.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::clients::RedisClient;
use crate::clients::redis::RedisSettings;
use crate::config::{self, Overrides, Settings};
use crate::demo::DemoPlatform;
use crate::domain::QueueSnapshot;
use crate::runtime::{self, RuntimeOptions};
use crate::source::JobSource;
use crate::tui::app::App;
use crate::tui::keymap::KeyMap;
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
enum Source {
    Redis(Arc<RedisClient>),
    Demo(Arc<DemoPlatform>),
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
    let source = match make_source(&cli, &settings)? {
        Some(s) => s,
        None => {
            eprintln!(
                "mcptop: no Redis configured for context {:?}.\n  Try `mcptop --demo`, `mcptop --redis-url redis://127.0.0.1:6379/0`,\n  or a config file (see config/mcptop.example.toml) at {}",
                settings.context_name,
                config::default_path().map(|p| p.display().to_string()).unwrap_or_default()
            );
            return Ok(ExitCode::from(2));
        }
    };
    match (&cli.command, &source) {
        (Some(Command::Status { output }), Source::Redis(s)) => status(s.as_ref(), &settings, *output).await,
        (Some(Command::Status { output }), Source::Demo(s)) => status(s.as_ref(), &settings, *output).await,
        (None, Source::Redis(s)) => dashboard(&cli, s.clone(), &settings).await,
        (None, Source::Demo(s)) => {
            let clock = (!cli.demo_still).then(|| s.spawn_clock());
            let result = dashboard(&cli, s.clone(), &settings).await;
            if let Some(c) = clock {
                c.abort();
            }
            result
        }
    }
}

fn make_source(cli: &Cli, settings: &Settings) -> anyhow::Result<Option<Source>> {
    if cli.demo {
        return Ok(Some(Source::Demo(Arc::new(DemoPlatform::new(cli.seed, Utc::now())))));
    }
    let Some(url) = settings.context.redis_url.clone() else { return Ok(None) };
    let client = RedisClient::new(RedisSettings {
        url,
        password: settings.redis_password.clone(),
        prefix: settings.context.key_prefix.clone(),
        queues: settings.context.queues.clone(),
        timeout: settings.context.timeout(),
    })
    .map_err(|e| anyhow::anyhow!("contexts.{}.redis_url: {e}", settings.context_name))?;
    Ok(Some(Source::Redis(Arc::new(client))))
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

async fn dashboard<S: JobSource>(cli: &Cli, source: Arc<S>, settings: &Settings) -> anyhow::Result<ExitCode> {
    let (app, theme) = new_app(cli, settings, source.name())?;
    if let Some(format) = cli.snapshot {
        return snapshot(cli, source, app, &theme, settings, format).await;
    }
    if !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        anyhow::bail!("stdout is not a terminal: use `mcptop status` or `--snapshot` for headless output");
    }
    let exit = crate::tui::run(source, app, theme, runtime_options(settings)).await?;
    tracing::info!(?exit, "stopped");
    Ok(match exit {
        crate::tui::Exit::Quit => ExitCode::SUCCESS,
        // The shell convention for "ended by signal N".
        crate::tui::Exit::Signal(n) => ExitCode::from(128 + n as u8),
        crate::tui::Exit::TerminalGone => ExitCode::from(129),
    })
}

/// Wait (bounded) until the queue and job feeds have answered, then print one frame.
async fn snapshot<S: JobSource>(
    cli: &Cli,
    source: Arc<S>,
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
    let handle = runtime::spawn(source, runtime_options(settings), app.initial_query(), tx);
    let deadline = tokio::time::Instant::now() + settings.context.timeout() * 2;
    // Both feeds have answered, with data or with an error.
    let settled = |a: &App| !a.queues.is_loading() && !a.jobs.is_loading();
    while !settled(&app) {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(m)) => {
                for e in app.update(crate::tui::app::Msg::Source(m)) {
                    if let crate::tui::app::Effect::FetchJobs(q) = e {
                        handle.set_jobs_query(q);
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

#[derive(Serialize)]
struct StatusReport {
    context: String,
    fetched_at: DateTime<Utc>,
    sources: Vec<SourceStatus>,
    queues: Vec<QueueReport>,
    jobs: JobsReport,
}

#[derive(Serialize)]
struct SourceStatus {
    name: String,
    ok: bool,
    error: Option<String>,
    latency_ms: u64,
}

#[derive(Serialize)]
struct QueueReport {
    name: String,
    length: u64,
    processing: u64,
    oldest_age_s: Option<f64>,
    enqueued_last_min: u64,
}

#[derive(Serialize)]
struct JobsReport {
    total: Option<u64>,
    by_status: std::collections::BTreeMap<String, u64>,
}

async fn status<S: JobSource>(source: &S, settings: &Settings, output: Output) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let result = tokio::time::timeout(settings.context.timeout() * 2, source.queues()).await;
    let latency_ms = started.elapsed().as_millis() as u64;
    let (snap, error): (Option<QueueSnapshot>, Option<String>) = match result {
        Ok(Ok(s)) => (Some(s), None),
        Ok(Err(e)) => (None, Some(e.to_string())),
        Err(_) => (None, Some("timed out".into())),
    };
    let report = StatusReport {
        context: settings.context_name.clone(),
        fetched_at: Utc::now(),
        sources: vec![SourceStatus { name: source.name().into(), ok: snap.is_some(), error, latency_ms }],
        queues: snap
            .iter()
            .flat_map(|s| &s.queues)
            .map(|q| QueueReport {
                name: q.name.clone(),
                length: q.length,
                processing: q.processing,
                oldest_age_s: q.oldest_age_s,
                enqueued_last_min: q.enqueued_last_min,
            })
            .collect(),
        jobs: JobsReport {
            total: snap.as_ref().map(|s| s.total_jobs),
            by_status: snap.iter().flat_map(|s| &s.by_status).map(|(k, v)| (k.as_str().to_string(), *v)).collect(),
        },
    };
    match output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Output::Table => print!("{}", status_table(&report)),
    }
    let ok = report.sources.iter().all(|s| s.ok);
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn status_table(r: &StatusReport) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "context  {}   fetched {}", r.context, r.fetched_at.format("%Y-%m-%d %H:%M:%S UTC"));
    let _ = writeln!(s, "\n{:<10} {:<4} {:>8}  ERROR", "SOURCE", "OK", "LATENCY");
    for src in &r.sources {
        let ok = if src.ok { "yes" } else { "NO" };
        let _ =
            writeln!(s, "{:<10} {:<4} {:>6}ms  {}", src.name, ok, src.latency_ms, src.error.as_deref().unwrap_or(""));
    }
    if !r.queues.is_empty() {
        let _ = writeln!(s, "\n{:<16} {:>10} {:>10} {:>10} {:>8}", "QUEUE", "LENGTH", "TAKEN", "OLDEST_S", "IN/MIN");
        for q in &r.queues {
            let oldest = q.oldest_age_s.map(|a| format!("{a:.0}")).unwrap_or_else(|| "-".into());
            let _ = writeln!(
                s,
                "{:<16} {:>10} {:>10} {:>10} {:>8}",
                q.name, q.length, q.processing, oldest, q.enqueued_last_min
            );
        }
    }
    if let Some(total) = r.jobs.total {
        let _ = writeln!(s, "\nJOBS {total}");
        for (k, v) in &r.jobs.by_status {
            let _ = writeln!(s, "  {k:<18} {v:>10}");
        }
    }
    s
}
