//! The dashboard's sessions: one per context, the first at start and each one `:ctx` switches
//! to. A session owns its sources, actions and app, and what must live as long as they do.

use std::sync::Arc;

use chrono::Utc;

use super::Cli;
use crate::actions::Actions;
use crate::audit::AuditLog;
use crate::config::{self, Overrides, Settings};
use crate::demo::worlds::DemoWorlds;
use crate::runtime::RuntimeOptions;
use crate::sources::Sources;
use crate::tui::Session;
use crate::tui::app::App;
use crate::tui::commands::Choices;
use crate::tui::jobs_state::JobsState;
use crate::tui::keymap::KeyMap;
use crate::tui::ops_state::OpsState;
use crate::tui::rag_state::RagState;
use crate::tui::theme::{self, Theme};

/// Opens sessions: the same flags, config and audit log for every context.
pub struct Opener<'a> {
    pub cli: &'a Cli,
    /// The settings the program started with (the demo's contexts are variations of them).
    pub base: Settings,
    pub audit: Arc<AuditLog>,
    /// Every context, for the fleet view.
    pub fleet: Option<Arc<Vec<crate::fleet::FleetTarget>>>,
    /// `--demo`: the demo's contexts, each kept as it runs for the whole process.
    pub demo: Option<Arc<DemoWorlds>>,
}

/// The settings of context `name`: from the config file, without the start's `--redis-url`
/// (it named the first context's Redis).
fn context_settings(cli: &Cli, base: &Settings, name: &str) -> anyhow::Result<Settings> {
    settings_job(cli, base, name)()
}

/// [`context_settings`] as a job that owns what it needs, for a blocking thread: reading the
/// config file and secret files must not hold up the event loop.
fn settings_job(cli: &Cli, base: &Settings, name: &str) -> impl FnOnce() -> anyhow::Result<Settings> + Send + 'static {
    let (demo, base, name) = (cli.demo, base.clone(), name.to_string());
    let ov = Overrides {
        config: cli.config.clone(),
        context: Some(name.clone()),
        redis_url: None,
        theme: cli.theme.clone(),
        log_level: cli.log_level.clone(),
        read_only: cli.read_only,
    };
    move || {
        if demo || name == base.context_name {
            let mut s = base;
            s.context_name = name;
            return Ok(s);
        }
        let mut s = config::load(&ov)?;
        // The rest of the process (log level, keys) stays as it started.
        s.log_level = base.log_level.clone();
        Ok(s)
    }
}

impl Opener<'_> {
    pub async fn open(&self, name: String) -> anyhow::Result<Session> {
        let settings = tokio::task::spawn_blocking(settings_job(self.cli, &self.base, &name)).await??;
        let (sources, backup) = match &self.demo {
            Some(worlds) => {
                let (worlds, name) = (worlds.clone(), name.clone());
                let world = tokio::task::spawn_blocking(move || worlds.get(&name)).await?;
                (world.platform.sources(), world.backup)
            }
            None => (Sources::from_context(&settings)?, None),
        };
        let mut actions = Actions::new(&settings, &sources, self.audit.clone());
        let mut guards: Vec<Box<dyn std::any::Any + Send>> = Vec::new();
        if let Some((plan, dir)) = backup {
            actions.backup = Some(plan);
            guards.push(Box::new(dir));
        }
        let (app, theme) = app_for(self.cli, &settings, &sources, &actions)?;
        Ok(Session {
            sources,
            actions,
            app,
            theme,
            opts: runtime_options(&settings),
            guards,
            fleet: self.fleet.clone(),
        })
    }
}

/// Every configured context as the fleet checks it: its own clients (one connection per
/// source), or why it cannot be set up.
/// In the demo, each context's row reads the same platform and backup folder the dashboard
/// shows for it (`demo`), so the fleet and the dashboard can never disagree.
pub fn fleet_targets(cli: &Cli, base: &Settings, demo: Option<&Arc<DemoWorlds>>) -> Vec<crate::fleet::FleetTarget> {
    base.context_names
        .iter()
        .map(|name| {
            let settings = context_settings(cli, base, name).map_err(|e| e.to_string());
            let world = demo.map(|w| w.get(name));
            let made = Arc::new(settings.clone());
            let platform = world.as_ref().map(|w| w.platform.clone());
            let sources: Arc<dyn Fn() -> Result<Sources, String> + Send + Sync> =
                Arc::new(move || match (made.as_ref(), &platform) {
                    (Ok(_), Some(p)) => Ok(p.sources()),
                    (Ok(s), None) => Sources::from_context(s).map_err(|e| e.to_string()),
                    (Err(e), _) => Err(e.clone()),
                });
            let s = settings.as_ref().ok();
            let (backup_dir, max_age_h) = match world.as_ref().and_then(|w| w.backup.as_ref()) {
                Some((plan, _)) => (Some(plan.dir.clone()), plan.max_age_h),
                None if demo.is_some() => (None, None),
                None => (
                    s.and_then(|s| s.context.backup.as_ref().map(|b| b.dir.clone())),
                    s.and_then(|s| s.context.backup.as_ref().and_then(|b| b.max_age_h)),
                ),
            };
            crate::fleet::FleetTarget {
                name: name.clone(),
                production: s.is_some_and(|s| s.context.production),
                stall_after: s.map(|s| s.context.stall_after()).unwrap_or(std::time::Duration::from_secs(120)),
                timeout: s.map(|s| s.context.timeout()).unwrap_or(std::time::Duration::from_secs(2)),
                backup_dir,
                max_age_h,
                sources,
            }
        })
        .collect()
}

pub fn runtime_options(settings: &Settings) -> RuntimeOptions {
    RuntimeOptions {
        interval: settings.context.poll_interval(),
        timeout: settings.context.timeout(),
        ..Default::default()
    }
}

/// The app's state before any data, for the context's settings, sources and actions.
fn app_for(cli: &Cli, settings: &Settings, sources: &Sources, actions: &Actions) -> anyhow::Result<(App, Theme)> {
    let keymap = KeyMap::new(&settings.keys).map_err(anyhow::Error::msg)?;
    let theme = Theme::load(theme::choose(&settings.theme, cli.theme.is_some()))?;
    let mut app = App::new(&settings.context_name, &sources.name(), keymap, Utc::now());
    app.demo = cli.demo;
    app.read_only = settings.read_only;
    app.production = settings.context.production;
    app.age_step = settings.age_refresh_s;
    app.bell = settings.bell;
    app.yank = settings.yank;
    app.mouse = settings.mouse;
    app.log_lines = settings.log_lines;
    app.jobs = JobsState::new(
        sources.jobs.is_some(),
        settings.context.queues.len(),
        chrono::Duration::from_std(settings.context.stall_after()).unwrap_or(chrono::Duration::seconds(120)),
    );
    app.ops = OpsState::new(sources.ops.configured(), settings.context.alert_group_by.clone());
    if let Some(k) = &sources.knowledge {
        let d = k.defaults();
        app.rag = RagState::new(true, d.top_k, d.threshold);
    }
    app.refusal = actions.refusal();
    if let Some(plan) = &actions.backup {
        app.backups.configured = true;
        app.backups.max_age_h = plan.max_age_h;
        app.backups.items = plan.describe();
    }
    app.audit_location = actions.audit.location.clone();
    app.choices = Choices { contexts: settings.context_names.clone(), themes: theme::names() };
    Ok((app, theme))
}
