//! The demo's container logs: a history of plausible lines, some of them hostile (an escape
//! sequence that would retitle the terminal, invalid UTF-8, a very long line), then a new line
//! every few hundred milliseconds while followed.

use std::time::Duration;

use chrono::Utc;

use crate::sources::{LogFrame, LogsRequest};

const HISTORY: u64 = 400;

fn line(container: &str, n: u64, at: chrono::DateTime<Utc>, timestamps: bool) -> LogFrame {
    let ts = if timestamps { format!("{} ", at.format("%Y-%m-%dT%H:%M:%S%.9fZ")) } else { String::new() };
    let mut bytes = ts.into_bytes();
    let stderr = n % 17 == 5;
    match n % 97 {
        13 => {
            bytes.extend_from_slice(b"\x1b]0;owned\x07\x1b[2J a log line that tries to retitle and clear the terminal")
        }
        29 => bytes.extend_from_slice(b"invalid UTF-8 from a careless writer: \xff\xfe\xfd"),
        41 => bytes.extend(std::iter::repeat_n(b'x', 20_000)),
        _ if stderr => bytes
            .extend_from_slice(format!("WARN {container}: slow upstream, retrying (attempt {})", n % 4 + 1).as_bytes()),
        _ => bytes.extend_from_slice(format!("INFO {container}: handled request {n} in {} ms", 3 + n % 40).as_bytes()),
    }
    bytes.push(b'\n');
    (stderr, bytes)
}

/// Send the history (or its tail), then, following, a line every 300 ms until `out` closes.
pub async fn stream(container: &str, request: LogsRequest, out: tokio::sync::mpsc::Sender<LogFrame>) {
    let now = Utc::now();
    let first = request.tail.map(|t| HISTORY.saturating_sub(t)).unwrap_or(0);
    for n in first..HISTORY {
        let at = now - chrono::Duration::seconds((HISTORY - n) as i64 * 3);
        if request.since.is_some_and(|s| at.timestamp() < s) {
            continue;
        }
        if out.send(line(container, n, at, request.timestamps)).await.is_err() {
            return;
        }
    }
    if !request.follow {
        return;
    }
    for n in HISTORY.. {
        tokio::time::sleep(Duration::from_millis(300)).await;
        if out.send(line(container, n, Utc::now(), request.timestamps)).await.is_err() {
            return;
        }
    }
}
