//! `mcptop logs CONTAINER`: a container's log as the log view shows it — lines cut at 8 KB,
//! invalid UTF-8 replaced, control characters escaped — optionally only the lines a regular
//! expression matches (`--grep`, as `grep -E` reads it), and optionally followed.

use std::io::Write;
use std::process::ExitCode;

use super::output::{errln, esc};
use crate::logs::{LineAssembler, LogLine};
use crate::sources::{LogsRequest, OpsSource};

pub struct LogsArgs<'a> {
    pub container: &'a str,
    pub since: Option<&'a str>,
    pub tail: Option<u64>,
    pub grep: Option<&'a str>,
    pub follow: bool,
    pub timestamps: bool,
}

pub async fn run(ops: &dyn OpsSource, args: LogsArgs<'_>) -> anyhow::Result<ExitCode> {
    if !ops.configured().containers {
        anyhow::bail!("no container engine is configured for this context (docker = …)");
    }
    let since = match args.since {
        Some(s) => Some(crate::audit::parse_since(s, chrono::Utc::now()).map_err(|e| anyhow::anyhow!("--since: {e}"))?),
        None => None,
    };
    let grep = match args.grep {
        Some(p) => Some(regex::Regex::new(p).map_err(|e| anyhow::anyhow!("--grep: {e}"))?),
        None => None,
    };
    let request = LogsRequest {
        follow: args.follow,
        tail: args.tail,
        since: since.map(|t| t.timestamp()),
        timestamps: args.timestamps,
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel(256);
    let pump = ops.logs(args.container, request, tx);
    let timestamps = args.timestamps;
    // Owns the receiver: when printing stops (a closed pipe), the engine's stream stops too.
    let print = async move {
        let mut assembler = LineAssembler::new(timestamps);
        let mut stdout = std::io::stdout().lock();
        let mut lines: Vec<LogLine> = Vec::new();
        loop {
            let frame = rx.recv().await;
            match &frame {
                Some((stderr, bytes)) => assembler.push(bytes, *stderr, &mut lines),
                None => assembler.finish(&mut lines),
            }
            for l in lines.drain(..) {
                if grep.as_ref().is_some_and(|re| !re.is_match(&l.text)) {
                    continue;
                }
                let ts = l.ts.as_deref().map(|t| format!("{} ", esc(t))).unwrap_or_default();
                let cut = if l.cut > 0 {
                    format!(" … ({} cut)", crate::domain::text::count(l.cut as u64, "byte", "bytes"))
                } else {
                    String::new()
                };
                // A closed pipe (`| head`) ends the command quietly.
                if writeln!(stdout, "{ts}{}{cut}", esc(&l.text)).is_err() {
                    return;
                }
            }
            if frame.is_none() {
                let _ = stdout.flush();
                return;
            }
        }
    };
    let (result, ()) = tokio::join!(pump, print);
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            errln(&format!("mcptop: logs of {}: {}", esc(args.container), esc(&e.to_string())));
            Ok(ExitCode::from(1))
        }
    }
}
