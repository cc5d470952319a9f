//! `--snapshot`: start the same runtime and executor as the dashboard, wait (bounded) until every
//! configured feed has answered, and print one frame as text or SVG.

use std::time::Duration;

use chrono::Utc;
use tokio::sync::mpsc;

use super::app::{App, Msg};
use super::effects::Executor;
use super::theme::Theme;
use crate::actions::Actions;
use crate::runtime::{self, RuntimeOptions};
use crate::sources::Sources;

/// What the frame is printed as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SnapshotFormat {
    Text,
    Svg,
}

/// Whether every configured feed has answered, with data or with an error.
fn settled(a: &App) -> bool {
    let c = a.ops.configured;
    (!a.jobs.configured || (!a.jobs.queues.is_loading() && !a.jobs.page.is_loading() && !a.approvals.page.is_loading()))
        && (!c.pipeline || !a.ops.pipeline.is_loading())
        && (!a.backups.configured || !a.backups.archives.is_loading())
        && (!c.containers || !a.ops.containers.is_loading())
        && (!c.services || !a.ops.services.is_loading())
        && (!c.targets || !a.ops.targets.is_loading())
        && (!c.alerts || !a.ops.alerts.is_loading())
        && (!a.rag.searchable || !a.rag.stats.is_loading())
        && (a.rag.followed_job().is_none() || !a.rag.job_hits.is_loading())
        && a.rag.pending.is_none()
}

/// The frame asked for: its size, its format, and the longest wait for data.
#[derive(Debug, Clone, Copy)]
pub struct FrameSpec {
    pub size: (u16, u16),
    pub format: SnapshotFormat,
    pub wait: Duration,
}

/// Render one frame of `app` once the feeds have settled (or the wait has passed).
pub async fn snapshot(
    sources: &Sources,
    actions: Actions,
    mut app: App,
    theme: &Theme,
    opts: RuntimeOptions,
    spec: FrameSpec,
) -> String {
    let FrameSpec { size: (w, h), format, wait } = spec;
    app.update(Msg::Resized { width: w, height: h });
    let (tx, mut rx) = mpsc::channel(64);
    let (done, _) = mpsc::channel(1);
    let exec = Executor::new(runtime::start(sources, opts, app.initial_query(), tx), actions, done);
    let deadline = tokio::time::Instant::now() + wait;
    while !settled(&app) {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(m)) => exec.apply(&mut app, Msg::Source(m)),
            _ => break,
        }
    }
    if let Some(plan) = exec.actions.backup.clone().filter(|_| app.backups.configured) {
        let archives = tokio::task::spawn_blocking(move || crate::backup::list(&plan.dir))
            .await
            .unwrap_or_else(|e| Err(e.to_string()));
        app.update(Msg::BackupsLoaded(archives, Utc::now()));
    }
    app.update(Msg::Tick(Utc::now()));
    let buf = super::render_to_buffer(&app, theme, w, h);
    match format {
        SnapshotFormat::Text => super::svg::to_text(&buf),
        SnapshotFormat::Svg => super::svg::to_svg(&buf),
    }
}
