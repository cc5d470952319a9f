//! The full-screen dashboard: the event loop waits on keys, a tick and the runtime's messages,
//! feeds them to `App::update`, carries out the effects and draws when something changed.

pub mod app;
pub mod approvals_state;
pub mod audit_view;
pub mod backups_state;
pub mod cells;
pub mod clipboard;
pub mod commands;
pub mod effects;
pub mod errors_log;
mod facts;
mod feeds;
pub mod forms;
pub mod input;
pub mod jobs_state;
pub mod jobs_view;
pub mod keymap;
mod keys;
mod keys_act;
mod keys_cmd;
pub mod layout;
pub mod loadable;
pub mod logs_view;
mod mouse;
pub mod ops_state;
mod outcomes;
pub mod panes;
pub mod popup;
pub mod rag_state;
pub mod render;
pub mod snapshot;
pub mod svg;
pub mod terminal;
pub mod theme;

use std::time::Duration;

use chrono::Utc;
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use crate::actions::Actions;
use crate::runtime::{self, RuntimeOptions};
use crate::sources::Sources;
use app::{App, Msg};
use effects::Executor;
use panes::RenderCtx;
use theme::Theme;

/// Most runtime messages folded into one frame before drawing.
const MAX_BATCH: usize = 256;
/// Shortest gap between two frames drawn for the sources' data: a storm of pushes is folded
/// into at most 10 frames a second. A key is answered at once.
const MIN_FRAME_GAP: std::time::Duration = std::time::Duration::from_millis(100);

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

/// One context's dashboard: what it reads and acts through, its state, and what must live as
/// long as it does (the demo's clock, its temporary backup folder). Dropping it stops it all.
pub struct Session {
    pub sources: Sources,
    pub actions: Actions,
    pub app: App,
    pub theme: Theme,
    pub opts: RuntimeOptions,
    pub guards: Vec<Box<dyn std::any::Any + Send>>,
    /// Every configured context, for the fleet view (the same for every session).
    pub fleet: Option<std::sync::Arc<Vec<crate::fleet::FleetTarget>>>,
}

/// Opens another context's session by name (`:ctx NAME`).
pub type Opener<'a> =
    Box<dyn Fn(String) -> std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<Session>> + 'a>> + 'a>;

/// How one session's loop ended.
enum Step {
    Exit(Exit),
    Switch(String),
}

/// Run the dashboard until the user quits, the terminal goes away, or a signal arrives. The
/// terminal is restored on every way out, panics included (`ratatui::init` installs that hook).
/// `:ctx NAME` stops the session's runtime, opens the other context with `open`, and goes on in
/// the same terminal; if it cannot be opened, the old one starts again and says why.
pub async fn run(mut session: Session, open: Opener<'_>) -> anyhow::Result<Exit> {
    let mut signals = terminal::signals();
    let mut stops = terminal::stops();
    // Raw mode, the alternate screen, the mouse when asked for; given back on every way out
    // (the guard), panics included (the hook), never failing on a terminal that is gone.
    terminal::restore_on_panic();
    let guard = terminal::Guard;
    let mut term = terminal::enter(session.app.mouse)
        .map_err(|e| anyhow::anyhow!("cannot set up the terminal: {e} (use `mcptop status` without one)"))?;
    let result = async {
        loop {
            let step = drive(&mut term, &mut session, &mut signals, &mut stops).await?;
            let name = match step {
                Step::Exit(exit) => return Ok(exit),
                Step::Switch(name) => name,
            };
            let started = std::time::Instant::now();
            // Opening reads the config and connects to nothing, but is bounded all the same; a
            // signal meanwhile still ends the dashboard at once.
            let opened = tokio::select! {
                o = tokio::time::timeout(std::time::Duration::from_secs(15), open(name.clone())) => {
                    o.unwrap_or_else(|_| Err(anyhow::anyhow!("it did not open within 15 s")))
                }
                Some(n) = signals.next() => return Ok(Exit::Signal(n)),
            };
            match opened {
                Ok(mut next) => {
                    carry_over(&mut session.app, &mut next.app);
                    next.app.switched_at = Some(started);
                    // The old session's runtime stopped when `drive` returned; its sources,
                    // connections and guards go now.
                    session = next;
                    tracing::info!(
                        context = %name,
                        alive_tasks = tokio::runtime::Handle::current().metrics().num_alive_tasks(),
                        "switched context"
                    );
                }
                Err(e) => {
                    tracing::warn!(context = %name, "cannot switch context: {e}");
                    let text = format!("✗ cannot switch to {name}: {e}");
                    session.app.toast = Some(app::Toast { text, ok: false, at: session.app.now });
                }
            }
        }
    }
    .await;
    // What the session holds (a demo's folders, connections) goes first, then the terminal is
    // given back: on a terminal that is gone, giving it back may fail, but nothing is left behind.
    drop(session);
    // Not dropped: ratatui's Terminal shows the cursor in its destructor and prints to stderr
    // when it cannot, which panics on a terminal that is gone. The guard gives the cursor back.
    std::mem::forget(term);
    drop(guard);
    result
}

/// What stays when the context changes: the operator's history, errors and layout.
fn carry_over(old: &mut App, new: &mut App) {
    new.command_history = std::mem::take(&mut old.command_history);
    new.errors = std::mem::take(&mut old.errors);
    new.focus = old.focus;
    new.zoomed = old.zoomed;
    new.toast = Some(app::Toast { text: format!("switched to context {}", new.context), ok: true, at: new.now });
}

/// One session's event loop, until it quits or asks for another context.
async fn drive(
    terminal: &mut ratatui::DefaultTerminal,
    session: &mut Session,
    signals: &mut futures_util::stream::BoxStream<'static, i32>,
    stops: &mut futures_util::stream::BoxStream<'static, ()>,
) -> anyhow::Result<Step> {
    let fleet = session.fleet.clone();
    let Session { sources, actions, app, theme, opts, .. } = session;
    let size = terminal.size()?;
    app.update(Msg::Resized { width: size.width, height: size.height });
    let (tx, mut rx) = mpsc::channel(1024);
    let (done, mut done_rx) = mpsc::channel(16);
    let mut exec = Executor::new(runtime::start(sources, *opts, app.initial_query(), tx), actions.clone(), done);
    exec.fleet = fleet;
    let mut input = EventStream::new();
    let mut dirty = true;
    let mut urgent = true;
    let mut drawn = tokio::time::Instant::now();
    loop {
        if dirty && (urgent || drawn.elapsed() >= MIN_FRAME_GAP) {
            let ctx = RenderCtx::new(theme, app.now, app.age_step).with_keys(&app.keymap);
            // A terminal that cannot be written to any more has gone away (a dropped session).
            if terminal.draw(|f| render::draw(f, app, &ctx)).is_err() {
                return Ok(Step::Exit(Exit::TerminalGone));
            }
            (dirty, urgent, drawn) = (false, false, tokio::time::Instant::now());
        }
        let frame_due = async move {
            if dirty { tokio::time::sleep_until(drawn + MIN_FRAME_GAP).await } else { std::future::pending().await }
        };
        let msg = tokio::select! {
            () = frame_due => continue,
            ev = input.next() => match ev {
                Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release => Msg::Key(k),
                Some(Ok(Event::Resize(width, height))) => Msg::Resized { width, height },
                Some(Ok(Event::Mouse(m))) if app.mouse => Msg::Mouse(m),
                Some(Ok(_)) => continue,
                // stdin closed or unreadable: the terminal is gone.
                Some(Err(_)) | None => return Ok(Step::Exit(Exit::TerminalGone)),
            },
            Some(m) = rx.recv() => Msg::Source(m),
            Some(m) = done_rx.recv() => m,
            _ = tokio::time::sleep(until_next_second()) => Msg::Tick(Utc::now()),
            Some(n) = signals.next() => return Ok(Step::Exit(Exit::Signal(n))),
            Some(()) = stops.next() => {
                terminal::stop_and_continue(terminal);
                (dirty, urgent) = (true, true);
                continue;
            }
        };
        urgent |= !matches!(msg, Msg::Source(_) | Msg::Tick(_));
        exec.apply(app, msg);
        // Fold everything already waiting into the same frame.
        for _ in 0..MAX_BATCH {
            let Ok(m) = rx.try_recv() else { break };
            exec.apply(app, Msg::Source(m));
        }
        if let Some(name) = app.theme_request.take() {
            match Theme::load(&name) {
                Ok(t) => *theme = t,
                Err(e) => app.toast = Some(app::Toast { text: format!("✗ {e}"), ok: false, at: app.now }),
            }
        }
        if let Some(text) = app.clipboard.take() {
            use std::io::Write;
            let in_tmux = std::env::var_os("TMUX").is_some();
            if let Some(seq) = clipboard::osc52(&text, in_tmux) {
                let _ = std::io::stdout().write_all(seq.as_bytes()).and_then(|_| std::io::stdout().flush());
            }
        }
        if std::mem::take(&mut app.ring) {
            // One BEL: a job newly awaits approval (`bell = true`).
            use std::io::Write;
            let _ = std::io::stdout().write_all(b"\x07").and_then(|_| std::io::stdout().flush());
        }
        dirty = true;
        if app.quit {
            return Ok(Step::Exit(Exit::Quit));
        }
        if let Some(name) = app.switch_to.take() {
            // Say so on screen before the old runtime stops and the new context opens.
            app.toast = Some(app::Toast { text: format!("switching to context {name}…"), ok: true, at: app.now });
            let ctx = RenderCtx::new(theme, app.now, app.age_step).with_keys(&app.keymap);
            terminal.draw(|f| render::draw(f, app, &ctx))?;
            return Ok(Step::Switch(name));
        }
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
    let ctx = RenderCtx::new(theme, app.now, app.age_step).with_keys(&app.keymap);
    let _ = terminal.draw(|f| render::draw(f, app, &ctx));
    terminal.backend().buffer().clone()
}
