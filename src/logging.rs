//! Logs go to a file in the user's state directory, never to the terminal the TUI draws on.

use std::path::PathBuf;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// `$XDG_STATE_HOME/mcptop` (or the platform's equivalent).
pub fn log_dir() -> Option<PathBuf> {
    dirs::state_dir().or_else(dirs::data_local_dir).map(|d| d.join("mcptop"))
}

/// Log files kept: one a day, the newest few.
const KEEP_FILES: usize = 5;

/// Start logging at `level` to `mcptop.YYYY-MM-DD.log`, a new file each day, the oldest removed
/// past [`KEEP_FILES`]. Keep the guard alive until exit so lines are flushed. Logging that
/// cannot start is not fatal: the dashboard matters more than its log.
pub fn init(level: &str) -> Option<WorkerGuard> {
    let dir = log_dir()?;
    std::fs::create_dir_all(&dir).ok()?;
    let appender = tracing_appender::rolling::RollingFileAppender::builder()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("mcptop")
        .filename_suffix("log")
        .max_log_files(KEEP_FILES)
        .build(&dir)
        .ok()?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = EnvFilter::try_new(format!("mcptop={level},warn")).unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(move || Scrubbing(writer.clone()))
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init()
        .ok()?;
    Some(guard)
}

/// What reaches the log file: each event (tracing writes one whole line at a time) with every
/// secret scrubbed, in any encoding, and control characters shown escaped — a log line may
/// quote a server's error.
struct Scrubbing<W>(W);

impl<W: std::io::Write> std::io::Write for Scrubbing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let scrubbed = crate::domain::secret::scrub(&text);
        let lines: Vec<String> = scrubbed.split('\n').map(crate::domain::text::escape_line).collect();
        self.0.write_all(lines.join("\n").as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}
