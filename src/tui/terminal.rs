//! The terminal the dashboard draws on: its modes (raw, the alternate screen, the mouse when
//! asked for) set on the way in and given back on every way out — a quit, an error, a panic,
//! any signal that ends a process by default, a stop (`kill -TSTP`) and its continue — without
//! ever failing or panicking on the way out (the terminal may be gone: a dropped SSH session).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::StreamExt;
use futures_util::stream::{BoxStream, select_all};
use tokio::signal::unix::{SignalKind, signal};

/// The mouse is captured (released on every way out).
static MOUSE: AtomicBool = AtomicBool::new(false);

/// Put the terminal into the dashboard's modes.
pub fn enter(mouse: bool) -> std::io::Result<ratatui::DefaultTerminal> {
    crossterm::terminal::enable_raw_mode()?;
    let mut out = std::io::stdout();
    crossterm::execute!(out, crossterm::terminal::EnterAlternateScreen)?;
    if mouse {
        crossterm::execute!(out, crossterm::event::EnableMouseCapture)?;
    }
    MOUSE.store(mouse, Ordering::SeqCst);
    ratatui::Terminal::new(ratatui::backend::CrosstermBackend::new(std::io::stdout()))
}

/// Give the terminal back: mouse, alternate screen, raw mode, cursor. Never fails, never
/// panics: on a terminal that is gone there is nothing left to restore.
pub fn leave() {
    let mut out = std::io::stdout();
    if MOUSE.swap(false, Ordering::SeqCst) {
        let _ = crossterm::execute!(out, crossterm::event::DisableMouseCapture);
    }
    let _ = crossterm::execute!(out, crossterm::terminal::LeaveAlternateScreen, crossterm::cursor::Show);
    let _ = crossterm::terminal::disable_raw_mode();
    let _ = out.flush();
}

/// A panic gives the terminal back before its message is printed (the default hook writes to
/// stderr and ignores errors).
pub fn restore_on_panic() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        leave();
        previous(info);
    }));
}

/// Gives the terminal back when dropped: the way out of an error (`?`) too.
pub struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        leave();
    }
}

/// Every signal whose default action ends the process and that can be caught: each ends the
/// dashboard the way `q` does, with the terminal given back, and the exit code 128 + its number.
/// (SIGKILL cannot be caught; a demo's folder left by it is removed at the next start.)
pub fn terminating() -> Vec<i32> {
    let mut all = vec![
        libc::SIGHUP,
        libc::SIGINT,
        libc::SIGQUIT,
        libc::SIGTERM,
        libc::SIGUSR1,
        libc::SIGUSR2,
        libc::SIGALRM,
        libc::SIGVTALRM,
        libc::SIGPROF,
        libc::SIGXCPU,
        libc::SIGXFSZ,
        libc::SIGPWR,
        libc::SIGSTKFLT,
        libc::SIGIO,
    ];
    // The real-time signals glibc leaves to programs (tokio cannot take the last one).
    all.extend(libc::SIGRTMIN()..libc::SIGRTMAX());
    all
}

/// One stream of every terminating signal's number. A signal that cannot be registered is
/// logged and left out: the dashboard still starts.
pub fn signals() -> BoxStream<'static, i32> {
    let streams = terminating().into_iter().filter_map(|n| match signal(SignalKind::from_raw(n)) {
        Ok(s) => {
            Some(futures_util::stream::unfold(s, move |mut s| async move { s.recv().await.map(|_| (n, s)) }).boxed())
        }
        Err(e) => {
            tracing::warn!(signal = n, "cannot catch the signal: {e}");
            None
        }
    });
    select_all(streams).boxed()
}

/// A stop asked by `kill -TSTP` (Ctrl-Z reaches the dashboard as a key in raw mode).
pub fn stops() -> BoxStream<'static, ()> {
    match signal(SignalKind::from_raw(libc::SIGTSTP)) {
        Ok(s) => futures_util::stream::unfold(s, |mut s| async move { s.recv().await.map(|_| ((), s)) }).boxed(),
        Err(_) => futures_util::stream::pending().boxed(),
    }
}

/// Stop as asked: the terminal given back first, then stopped for real; on continue, the
/// dashboard's modes again and a whole new frame.
pub fn stop_and_continue(terminal: &mut ratatui::DefaultTerminal) {
    let mouse = MOUSE.load(Ordering::SeqCst);
    leave();
    // SAFETY: raising SIGSTOP on this process; it continues on SIGCONT.
    unsafe {
        libc::raise(libc::SIGSTOP);
    }
    if crossterm::terminal::enable_raw_mode().is_ok() {
        let mut out = std::io::stdout();
        let _ = crossterm::execute!(
            out,
            crossterm::terminal::EnterAlternateScreen,
            crossterm::terminal::Clear(crossterm::terminal::ClearType::All)
        );
        if mouse {
            let _ = crossterm::execute!(out, crossterm::event::EnableMouseCapture);
            MOUSE.store(true, Ordering::SeqCst);
        }
    }
    // Both buffers emptied, so the next frame is drawn whole. (`Terminal::clear` would ask the
    // terminal where its cursor is, and the answer goes to the key reader instead.)
    terminal.swap_buffers();
    terminal.swap_buffers();
}
