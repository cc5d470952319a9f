//! The full-screen dashboard: the event loop waits on keys, a tick and the runtime's messages,
//! feeds them to `App::update`, carries out the effects and draws when something changed.

pub mod app;
pub mod cells;
pub mod jobs_view;
pub mod keymap;
pub mod layout;
pub mod loadable;
pub mod ops_state;
pub mod panes;
pub mod popup;
pub mod rag_state;
pub mod render;
pub mod svg;
pub mod theme;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures_util::StreamExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use crate::actions::{ActionError, ActionRequest, Actions};
use crate::runtime::{self, RuntimeHandle, RuntimeOptions};
use crate::source::JobSource;
use app::{App, Effect, Msg};
use panes::RenderCtx;
use theme::Theme;

/// Most runtime messages folded into one frame before drawing.
const MAX_BATCH: usize = 256;

/// Why the dashboard stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The user quit.
    Quit,
    /// A signal (SIGTERM, SIGHUP) ended it; the number is the signal's.
    Signal(i32),
    /// The terminal went away (stdin closed).
    TerminalGone,
}

/// Run the dashboard until the user quits, the terminal goes away, or a signal arrives. The
/// terminal is restored on every way out, panics included (`ratatui::init` installs that hook).
pub async fn run<S: JobSource>(
    source: Option<Arc<S>>,
    ops: crate::ops::OpsSource,
    rag: Option<crate::rag::RagSource>,
    actions: Option<Actions>,
    mut app: App,
    theme: Theme,
    opts: RuntimeOptions,
) -> anyhow::Result<Exit> {
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    // Raw mode, the alternate screen, and a panic hook that restores the terminal first.
    let mut terminal = ratatui::try_init()
        .map_err(|e| anyhow::anyhow!("cannot set up the terminal: {e} (use `mcptop status` without one)"))?;
    let result = async {
        let size = terminal.size()?;
        app.update(Msg::Resized { width: size.width, height: size.height });
        let (tx, mut rx) = mpsc::channel(1024);
        let (done_tx, mut done_rx) = mpsc::channel(16);
        let effects = Effects {
            jobs: source.map(|s| runtime::spawn(s, opts, app.initial_query(), tx.clone())),
            ops: runtime::spawn_ops(ops, opts, tx.clone()),
            rag: rag.map(|r| runtime::spawn_rag(r, opts, tx)),
            actions,
            done: done_tx,
        };
        let mut input = EventStream::new();
        let mut dirty = true;
        loop {
            if dirty {
                let ctx = RenderCtx { theme: &theme, now: app.now };
                terminal.draw(|f| render::draw(f, &app, &ctx))?;
                dirty = false;
            }
            let msg = tokio::select! {
                ev = input.next() => match ev {
                    Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release => Msg::Key(k),
                    Some(Ok(Event::Resize(width, height))) => Msg::Resized { width, height },
                    Some(Ok(_)) => continue,
                    // stdin closed or unreadable: the terminal is gone.
                    Some(Err(_)) | None => return Ok(Exit::TerminalGone),
                },
                Some(m) = rx.recv() => Msg::Source(m),
                Some(m) = done_rx.recv() => m,
                _ = tokio::time::sleep(until_next_second()) => Msg::Tick(Utc::now()),
                _ = sigterm.recv() => return Ok(Exit::Signal(15)),
                _ = sighup.recv() => return Ok(Exit::Signal(1)),
            };
            dirty |= effects.apply(&mut app, msg);
            // Fold everything already waiting into the same frame.
            for _ in 0..MAX_BATCH {
                let Ok(m) = rx.try_recv() else { break };
                dirty |= effects.apply(&mut app, Msg::Source(m));
            }
            if app.quit {
                return Ok(Exit::Quit);
            }
        }
    }
    .await;
    ratatui::restore();
    result
}

/// What carries out the app's effects: the runtime's handles and the action layer.
struct Effects {
    jobs: Option<RuntimeHandle>,
    ops: runtime::Tasks,
    rag: Option<runtime::RagHandle>,
    actions: Option<Actions>,
    done: mpsc::Sender<Msg>,
}

impl Effects {
    /// Update the app and carry out its effects, none of which waits. Returns whether a redraw
    /// is needed.
    fn apply(&self, app: &mut App, msg: Msg) -> bool {
        for effect in app.update(msg) {
            match effect {
                Effect::FetchJobs(q) => self.jobs.iter().for_each(|h| h.set_jobs_query(q.clone())),
                Effect::FollowDetail(id) => self.jobs.iter().for_each(|h| h.set_detail(id.clone())),
                Effect::RefreshAlerts => self.ops.refresh_alerts(),
                Effect::RagSearch(r) => self.rag.iter().for_each(|h| h.search(r.clone())),
                Effect::RunAction(request) => self.run_action(request),
                Effect::Quit => app.quit = true,
            }
        }
        true
    }

    /// Run an action in its own task; its outcome comes back as a message.
    fn run_action(&self, request: ActionRequest) {
        let done = self.done.clone();
        let actions = self.actions.clone();
        tokio::spawn(async move {
            let result = match actions {
                Some(a) => a.run(request.clone()).await,
                None => Err(ActionError::Invalid("nothing to act on here (the demo has no Alertmanager)".into())),
            };
            let _ = done.send(Msg::ActionDone { request, result }).await;
        });
    }
}

/// Sleep to just after the next whole second, so the clock changes once per second on time.
fn until_next_second() -> Duration {
    let ms = Utc::now().timestamp_subsec_millis() as u64;
    Duration::from_millis(1000 - ms.min(999) + 5)
}

/// Draw one frame into a buffer (for `--snapshot`, screenshots and tests).
pub fn render_to_buffer(app: &App, theme: &Theme, width: u16, height: u16) -> ratatui::buffer::Buffer {
    let backend = ratatui::backend::TestBackend::new(width, height);
    let mut terminal = match ratatui::Terminal::new(backend) {
        Ok(t) => t,
        Err(never) => match never {},
    };
    let ctx = RenderCtx { theme, now: app.now };
    let _ = terminal.draw(|f| render::draw(f, app, &ctx));
    terminal.backend().buffer().clone()
}
