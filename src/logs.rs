//! Container logs as lines: frames from the engine (stdout and stderr, split anywhere) become
//! lines, each cut to [`MAX_LINE_BYTES`] with the cut counted, invalid UTF-8 replaced, and the
//! engine's timestamp kept apart so it can be shown or hidden. Lines stay raw; they are escaped
//! when drawn or printed. [`LogBuffer`] keeps the newest lines within a line and a byte bound,
//! and the lines a filter (a regular expression, as `grep -E` reads it) matches.

use std::collections::VecDeque;

/// Longest line kept; the rest of a longer one is dropped and counted.
pub const MAX_LINE_BYTES: usize = 8 * 1024;
/// Most bytes of text a buffer holds, whatever its line bound.
pub const MAX_BUFFER_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// The engine's timestamp (RFC 3339), when asked for.
    pub ts: Option<String>,
    /// The line without its newline, invalid UTF-8 replaced; raw otherwise.
    pub text: String,
    pub stderr: bool,
    /// Bytes dropped from a line longer than [`MAX_LINE_BYTES`].
    pub cut: usize,
}

/// Frames in, lines out.
#[derive(Debug, Default)]
pub struct LineAssembler {
    pending: Vec<u8>,
    pending_cut: usize,
    pending_stderr: bool,
    /// The engine prefixes each line with a timestamp and a space (`timestamps=true`).
    pub timestamps: bool,
}

impl LineAssembler {
    pub fn new(timestamps: bool) -> Self {
        LineAssembler { timestamps, ..Default::default() }
    }

    /// Add a frame; complete lines are appended to `out`.
    pub fn push(&mut self, chunk: &[u8], stderr: bool, out: &mut Vec<LogLine>) {
        if self.pending.is_empty() && self.pending_cut == 0 {
            self.pending_stderr = stderr;
        }
        let mut rest = chunk;
        while let Some(pos) = rest.iter().position(|b| *b == b'\n') {
            self.take(&rest[..pos]);
            out.push(self.line());
            rest = &rest[pos + 1..];
            self.pending_stderr = stderr;
        }
        self.take(rest);
    }

    /// The last line, when the stream ended without a newline.
    pub fn finish(&mut self, out: &mut Vec<LogLine>) {
        if !self.pending.is_empty() || self.pending_cut > 0 {
            out.push(self.line());
        }
    }

    fn take(&mut self, bytes: &[u8]) {
        let room = MAX_LINE_BYTES.saturating_sub(self.pending.len());
        let kept = bytes.len().min(room);
        self.pending.extend_from_slice(&bytes[..kept]);
        self.pending_cut += bytes.len() - kept;
    }

    fn line(&mut self) -> LogLine {
        let mut bytes = std::mem::take(&mut self.pending);
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
        let cut = std::mem::take(&mut self.pending_cut);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let (ts, text) = match text.split_once(' ') {
            Some((ts, rest)) if self.timestamps && looks_like_timestamp(ts) => (Some(ts.to_string()), rest.to_string()),
            _ => (None, text),
        };
        LogLine { ts, text, stderr: self.pending_stderr, cut }
    }
}

fn looks_like_timestamp(s: &str) -> bool {
    s.len() >= 20 && s.as_bytes()[4] == b'-' && s.contains('T')
}

/// The newest lines of a log, bounded, with the lines a filter matches.
#[derive(Debug)]
pub struct LogBuffer {
    lines: VecDeque<LogLine>,
    bytes: usize,
    max_lines: usize,
    /// Lines dropped from the front to stay within the bounds.
    pub dropped: u64,
    /// Index of `lines[0]` in the whole stream, so match positions survive drops.
    first: u64,
    filter: Option<regex::Regex>,
    /// Stream positions of the matching lines, oldest first.
    matches: VecDeque<u64>,
}

impl LogBuffer {
    pub fn new(max_lines: usize) -> Self {
        LogBuffer {
            lines: VecDeque::new(),
            bytes: 0,
            max_lines: max_lines.max(1),
            dropped: 0,
            first: 0,
            filter: None,
            matches: VecDeque::new(),
        }
    }

    pub fn push(&mut self, line: LogLine) {
        let position = self.first + self.lines.len() as u64;
        if self.filter.as_ref().is_some_and(|f| f.is_match(&line.text)) {
            self.matches.push_back(position);
        }
        self.bytes += line.text.len();
        self.lines.push_back(line);
        while self.lines.len() > self.max_lines || (self.bytes > MAX_BUFFER_BYTES && self.lines.len() > 1) {
            if let Some(old) = self.lines.pop_front() {
                self.bytes -= old.text.len();
                self.dropped += 1;
                if self.matches.front() == Some(&self.first) {
                    self.matches.pop_front();
                }
                self.first += 1;
            }
        }
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Set (or, with an empty pattern, clear) the filter. An invalid pattern is an error and
    /// leaves the old filter.
    pub fn set_filter(&mut self, pattern: &str) -> Result<(), String> {
        if pattern.is_empty() {
            self.filter = None;
            self.matches.clear();
            return Ok(());
        }
        let re = regex::RegexBuilder::new(pattern)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| format!("not a regular expression: {}", e.to_string().lines().last().unwrap_or("")))?;
        self.matches = self
            .lines
            .iter()
            .enumerate()
            .filter(|(_, l)| re.is_match(&l.text))
            .map(|(i, _)| self.first + i as u64)
            .collect();
        self.filter = Some(re);
        Ok(())
    }

    pub fn filter(&self) -> Option<&regex::Regex> {
        self.filter.as_ref()
    }

    /// The lines shown: every line, or only the matching ones while a filter is set.
    pub fn shown_len(&self) -> usize {
        if self.filter.is_some() { self.matches.len() } else { self.lines.len() }
    }

    /// The `i`-th line shown.
    pub fn shown(&self, i: usize) -> Option<&LogLine> {
        if self.filter.is_some() {
            let position = *self.matches.get(i)?;
            self.lines.get((position - self.first) as usize)
        } else {
            self.lines.get(i)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_become_lines_cut_and_timestamped() {
        let mut a = LineAssembler::new(true);
        let mut out = Vec::new();
        a.push(b"2026-11-22T08:00:00.123456789Z hel", false, &mut out);
        a.push(b"lo\r\n2026-11-22T08:00:01Z \xff bad\n", false, &mut out);
        let long = vec![b'x'; MAX_LINE_BYTES + 100];
        a.push(&long, true, &mut out);
        a.push(b"\nno-ts-here tail", true, &mut out);
        a.finish(&mut out);
        assert_eq!(out[0].ts.as_deref(), Some("2026-11-22T08:00:00.123456789Z"));
        assert_eq!(out[0].text, "hello");
        assert_eq!(out[1].text, "\u{fffd} bad");
        assert_eq!((out[2].text.len(), out[2].cut, out[2].stderr), (MAX_LINE_BYTES, 100, true));
        assert_eq!((out[3].ts.as_deref(), out[3].text.as_str()), (None, "no-ts-here tail"));
    }

    #[test]
    fn the_buffer_is_bounded_and_the_filter_follows_drops() {
        let line = |s: &str| LogLine { ts: None, text: s.to_string(), stderr: false, cut: 0 };
        let mut b = LogBuffer::new(5);
        b.set_filter("7$").expect("regex");
        for i in 0..20 {
            b.push(line(&format!("line {i}")));
        }
        assert_eq!((b.len(), b.dropped), (5, 15));
        assert_eq!(b.shown_len(), 1, "only line 17 is still held");
        assert_eq!(b.shown(0).map(|l| l.text.as_str()), Some("line 17"));
        b.set_filter("").expect("clear");
        assert_eq!(b.shown(0).map(|l| l.text.as_str()), Some("line 15"));
        assert!(b.set_filter("(").is_err());
    }
}
