//! A secret (password, token, API key, a session token mcptop obtained): read from a reference
//! at start, sent where it must go, and never printed. Its `Debug` and `Display` show `***`; every
//! secret made registers itself, and [`scrub`] removes every registered one from any text — in
//! any encoding a server may quote it back in (JSON's `\/` and `\uXXXX`, percent-encoding, HTML
//! entities, Rust's `\u{…}`, base64 inside a Basic header) and as the part of it left where a
//! text was cut. Each way out (the frame drawn, the CLI's output, the log, the audit, the
//! clipboard) scrubs what it writes.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, RwLock};

use base64::Engine;

/// Registered secrets shorter than this are not scrubbed everywhere: "redis" or "admin" would
/// mangle ordinary text. (Each request still scrubs its own credential from its error body.)
pub const MIN_REGISTERED_CHARS: usize = 8;

/// The shortest part of a secret scrubbed where a text was cut before `…`.
const MIN_PART_CHARS: usize = 6;

/// The shortest part of a secret scrubbed at a text's end or next to a space or a border, where
/// a cut leaves no `…`: longer, since a short word there ("zammad") is more likely just a word.
const MIN_BARE_PART_CHARS: usize = 10;

/// Most secrets remembered: configured ones and the session tokens obtained since start (a
/// CrowdSec JWT an hour); the oldest go first.
const MAX_REGISTERED: usize = 512;

/// A value that must never reach a screen, a log or an error message.
#[derive(Clone)]
pub struct Secret {
    value: String,
    pattern: Arc<Pattern>,
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl Eq for Secret {}

impl Secret {
    /// A secret, registered so that no output ever shows it.
    pub fn new(value: impl Into<String>) -> Secret {
        let value = value.into();
        let pattern = Arc::new(Pattern::new(&value));
        if value.chars().count() >= MIN_REGISTERED_CHARS {
            register(pattern.clone());
        }
        Secret { value, pattern }
    }

    /// The value itself, for the one place that sends it (a header, a connection option).
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// Whether it is long enough to be kept out of every output (see [`MIN_REGISTERED_CHARS`]).
    pub fn scrubbed_everywhere(&self) -> bool {
        self.value.chars().count() >= MIN_REGISTERED_CHARS
    }

    /// `text` with this secret replaced by `***`, in any encoding. Values shorter than four
    /// characters are left alone: they would match ordinary text and say little anyway.
    pub fn scrub(&self, text: &str) -> String {
        if self.value.chars().count() < 4 {
            return text.to_string();
        }
        let ranges = self.pattern.find(text, Edges::Text);
        mask(text, ranges).into_owned()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// `text` with every one of `secrets` scrubbed (and every registered one).
pub fn scrub_all<'a>(text: &str, secrets: impl IntoIterator<Item = &'a Secret>) -> String {
    let once = secrets.into_iter().fold(text.to_string(), |t, s| s.scrub(&t));
    scrub(&once).into_owned()
}

static REGISTRY: RwLock<Vec<Arc<Pattern>>> = RwLock::new(Vec::new());

fn register(p: Arc<Pattern>) {
    let mut all = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    if all.iter().any(|q| q.chars == p.chars) {
        return;
    }
    if all.len() >= MAX_REGISTERED {
        all.remove(0);
    }
    all.push(p);
    // Longest first: a secret holding another is masked whole.
    all.sort_by_key(|q| std::cmp::Reverse(q.chars.len()));
}

fn registered() -> Vec<Arc<Pattern>> {
    REGISTRY.read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Whether any secret is registered (nothing to scrub otherwise: the demo, most tests).
pub fn any_registered() -> bool {
    !REGISTRY.read().unwrap_or_else(|e| e.into_inner()).is_empty()
}

/// `text` with every registered secret, in any encoding and any part left at a cut, replaced by
/// `***`.
pub fn scrub(text: &str) -> Cow<'_, str> {
    if !any_registered() {
        return Cow::Borrowed(text);
    }
    let ranges: Vec<(usize, usize)> = registered().iter().flat_map(|p| p.find(text, Edges::Text)).collect();
    mask(text, ranges)
}

/// Where in `line` (a row of the drawn frame) a registered secret shows, as byte ranges: whole,
/// or the part of it a column, a wrap or an ellipsis left (next to a border, a space or `…`).
pub fn find_in_row(line: &str) -> Vec<(usize, usize)> {
    if !any_registered() {
        return Vec::new();
    }
    registered().iter().flat_map(|p| p.find(line, Edges::Row)).collect()
}

/// Every string in a JSON value scrubbed (keys too).
pub fn scrub_json(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    if !any_registered() {
        return v;
    }
    match v {
        Value::String(s) => Value::String(scrub(&s).into_owned()),
        Value::Array(a) => Value::Array(a.into_iter().map(scrub_json).collect()),
        Value::Object(o) => {
            Value::Object(o.into_iter().map(|(k, x)| (scrub(&k).into_owned(), scrub_json(x))).collect())
        }
        other => other,
    }
}

/// `text` with the byte ranges replaced by `***` (overlapping ones merged).
fn mask(text: &str, mut ranges: Vec<(usize, usize)>) -> Cow<'_, str> {
    if ranges.is_empty() {
        return Cow::Borrowed(text);
    }
    ranges.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in ranges {
        if end <= at {
            continue;
        }
        out.push_str(&text[at..start.max(at)]);
        if start >= at {
            out.push_str("***");
        }
        at = end;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// Where a cut part of a secret may stand: at the text's end or before `…` only, or also next
/// to a space or a border (a row of a frame, where columns and wraps cut text).
#[derive(Clone, Copy, PartialEq)]
enum Edges {
    Text,
    Row,
}

fn is_edge(c: Option<char>, edges: Edges) -> bool {
    match c {
        None | Some('…') => true,
        Some(c) => edges == Edges::Row && (c.is_whitespace() || ('\u{2500}'..='\u{259f}').contains(&c)),
    }
}

/// One secret, ready to be found.
struct Pattern {
    chars: Vec<char>,
    /// Its base64 at the three alignments, both alphabets, without the edge characters that
    /// depend on the bytes around it: one of them is in any base64 holding the secret.
    base64: Vec<String>,
    /// Where each run of [`MIN_PART_CHARS`] characters stands in it, to find a cut secret's
    /// tail at the start of a piece of text.
    windows: std::collections::HashMap<String, Vec<usize>>,
}

impl Pattern {
    fn new(value: &str) -> Pattern {
        let chars: Vec<char> = value.chars().collect();
        let mut base64 = Vec::new();
        for offset in 0..3usize {
            let mut bytes = vec![0u8; offset];
            bytes.extend_from_slice(value.as_bytes());
            let from = (offset * 8).div_ceil(6);
            let to = bytes.len() * 8 / 6;
            for engine in
                [&base64::engine::general_purpose::STANDARD_NO_PAD, &base64::engine::general_purpose::URL_SAFE_NO_PAD]
            {
                let enc = engine.encode(&bytes);
                if to > from + 8 && to <= enc.len() {
                    base64.push(enc[from..to].to_string());
                }
            }
        }
        base64.sort();
        base64.dedup();
        let mut windows: std::collections::HashMap<String, Vec<usize>> = Default::default();
        if chars.len() > MIN_PART_CHARS {
            for k in 1..=chars.len() - MIN_PART_CHARS {
                windows.entry(chars[k..k + MIN_PART_CHARS].iter().collect()).or_default().push(k);
            }
        }
        Pattern { chars, base64, windows }
    }

    /// Byte ranges of `text` that show this secret.
    fn find(&self, text: &str, edges: Edges) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        if self.chars.is_empty() {
            return out;
        }
        let first = self.chars[0];
        let mut i = 0;
        let bytes = text.as_bytes();
        while i < text.len() {
            let b = bytes[i];
            let could_start = text[i..].starts_with(first) || matches!(b, b'\\' | b'%' | b'&' | b'+');
            if could_start && let Some(end) = self.match_at(text, i, 0, edges) {
                out.push((i, end));
                i = end;
                continue;
            }
            // The tail of a cut secret at the start of a piece: after an edge, its rest.
            if (i == 0 || (edges == Edges::Row && is_edge(text[..i].chars().next_back(), edges)))
                && let Some(end) = self.tail_at(text, i)
            {
                out.push((i, end));
                i = end;
                continue;
            }
            i += text[i..].chars().next().map(char::len_utf8).unwrap_or(1);
        }
        for core in &self.base64 {
            out.extend(text.match_indices(core.as_str()).map(|(at, m)| (at, at + m.len())));
        }
        out
    }

    /// The secret from its `k`-th character, starting at byte `i` of `text`: where it ends.
    /// A part of at least [`MIN_PART_CHARS`] that stops at an edge counts (the text was cut).
    fn match_at(&self, text: &str, i: usize, k: usize, edges: Edges) -> Option<usize> {
        // Each character may show raw or encoded (`&` raw, or `&#38;`): the ways are tried in
        // turn, backtracking, within a bound on the steps.
        const STEPS: usize = 4096;
        let start = k;
        let (mut k, mut pos) = (k, i);
        let mut forks: Vec<(usize, usize)> = Vec::new();
        let mut part = None;
        for _ in 0..STEPS {
            if k == self.chars.len() {
                return Some(pos);
            }
            let [first, second] = ways(text, pos, self.chars[k]);
            if let Some(next) = first {
                if second.is_some() {
                    forks.push((k, pos));
                }
                (k, pos) = (k + 1, next);
                continue;
            }
            let next = text[pos..].chars().next();
            // A cut inside an escape (`&#11…`, `\u00…`, `%4…`): the part ends at the cut.
            let (next, end) = match cut_escape(&text[pos..]) {
                Some(after) => (text[pos + after..].chars().next(), pos + after),
                None => (next, pos),
            };
            let least = if next == Some('…') { MIN_PART_CHARS } else { MIN_BARE_PART_CHARS };
            if k - start >= least.min(self.chars.len()) && is_edge(next, edges) {
                part = part.max(Some(end));
            }
            let Some((fk, fpos)) = forks.pop() else { break };
            let [_, second] = ways(text, fpos, self.chars[fk]);
            (k, pos) = (fk + 1, second.unwrap_or(fpos));
        }
        part
    }

    /// A piece starting with the secret's tail (its first characters cut off before): where the
    /// tail ends.
    fn tail_at(&self, text: &str, i: usize) -> Option<usize> {
        let window: String = text[i..].chars().take(MIN_PART_CHARS).collect();
        let starts = self.windows.get(&window)?;
        starts.iter().find_map(|&k| {
            let end = self.match_at(text, i, k, Edges::Row)?;
            // Only the whole rest of the secret: a tail that stops early is not one.
            let shown = text[i..end].chars().count();
            (shown >= self.chars.len() - k || is_edge(text[end..].chars().next(), Edges::Row)).then_some(end)
        })
    }
}

/// The ways `text` at byte `pos` may show the character `c`, where each ends: encoded first,
/// then raw.
fn ways(text: &str, pos: usize, c: char) -> [Option<usize>; 2] {
    let raw = text.get(pos..).filter(|r| r.starts_with(c)).map(|_| pos + c.len_utf8());
    let encoded = one(text, pos, c).filter(|e| Some(*e) != raw);
    match encoded {
        Some(e) => [Some(e), raw],
        None => [raw, None],
    }
}

/// The length of an escape `text` starts with that a cut left unfinished (`&#11`, `\u00`, `%4`),
/// when the cut's `…` or the text's end follows it.
fn cut_escape(text: &str) -> Option<usize> {
    let head = text.as_bytes().first()?;
    if !matches!(head, b'&' | b'\\' | b'%') {
        return None;
    }
    let len = text
        .char_indices()
        .skip(1)
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '#' | '{' | '\\')))
        .map(|(i, _)| i)
        .unwrap_or(text.len());
    (len <= 12 && matches!(text[len..].chars().next(), None | Some('…'))).then_some(len)
}

/// Whether `text` at byte `pos` shows the character `c` encoded; where it ends.
fn one(text: &str, pos: usize, c: char) -> Option<usize> {
    let rest = text.get(pos..)?;
    let slashes = rest.bytes().take_while(|x| *x == b'\\').count();
    if c == '\\' && slashes > 0 {
        // `\` raw, `\\` (JSON), `\\\\` (JSON in JSON); an odd run of three or more leaves its
        // last to the escape after it; `\u005C` and the like.
        let take = match slashes {
            1 => return escaped(rest, pos, 1, c).or(Some(pos + 1)),
            n if n % 2 == 0 => n,
            n => n - 1,
        };
        return Some(pos + take);
    }
    let b = rest.as_bytes();
    match *b.first()? {
        b'\\' => {
            // However many backslashes a nested quoting added.
            let slashes = b.iter().take_while(|x| **x == b'\\').count();
            escaped(rest, pos, slashes, c)
        }
        b'%' => {
            let mut buf = [0u8; 4];
            let mut at = pos;
            for byte in c.encode_utf8(&mut buf).bytes() {
                let enc = text.get(at..at + 3)?;
                let v = u8::from_str_radix(enc.strip_prefix('%')?, 16).ok()?;
                if v != byte {
                    return None;
                }
                at += 3;
            }
            Some(at)
        }
        b'+' if c == ' ' => Some(pos + 1),
        b'&' => {
            let end = rest.find(';').filter(|e| *e <= 10)?;
            let name = &rest[1..end];
            let decoded = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                n if n.starts_with("#x") || n.starts_with("#X") => {
                    u32::from_str_radix(&n[2..], 16).ok().and_then(char::from_u32)
                }
                n if n.starts_with('#') => n[1..].parse::<u32>().ok().and_then(char::from_u32),
                _ => None,
            };
            (decoded == Some(c)).then_some(pos + end + 1)
        }
        _ => None,
    }
}

/// An escape after `slashes` backslashes at byte `pos` (`rest` is the text from there): whether
/// it shows `c`, and where it ends.
fn escaped(rest: &str, pos: usize, slashes: usize, c: char) -> Option<usize> {
    let esc = &rest[slashes..];
    let at = pos + slashes;
    let simple = match esc.chars().next()? {
        '/' => Some('/'),
        '"' => Some('"'),
        '\'' => Some('\''),
        'n' => Some('\n'),
        't' => Some('\t'),
        'r' => Some('\r'),
        'b' => Some('\u{8}'),
        'f' => Some('\u{c}'),
        _ => None,
    };
    if simple == Some(c) {
        return Some(at + 1);
    }
    if let Some(hex) = esc.strip_prefix('u') {
        // `\u{2f}` (Rust) or `\u002F` (JSON), a surrogate pair above the BMP.
        if let Some(inner) = hex.strip_prefix('{') {
            let close = inner.find('}')?;
            let v = u32::from_str_radix(&inner[..close], 16).ok()?;
            return (char::from_u32(v) == Some(c)).then_some(at + 3 + close);
        }
        let unit = u16::from_str_radix(hex.get(..4)?, 16).ok()?;
        if char::from_u32(unit as u32) == Some(c) {
            return Some(at + 5);
        }
        let low = hex.get(4..)?.strip_prefix("\\u")?;
        let low = u16::from_str_radix(low.get(..4)?, 16).ok()?;
        let pair = char::decode_utf16([unit, low]).next()?.ok()?;
        return (pair == c).then_some(at + 11);
    }
    if let Some(hex) = esc.strip_prefix('x') {
        let v = u8::from_str_radix(hex.get(..2)?, 16).ok()?;
        return (c.is_ascii() && v as u32 == c as u32).then_some(at + 3);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_printed_and_scrubbed_from_messages() {
        let s = Secret::new("hunter2-xyz");
        assert_eq!(format!("{s} {s:?} {:?}", Some(&s)), "*** Secret(***) Some(Secret(***))");
        assert_eq!(s.scrub("401: bad token Bearer hunter2-xyz"), "401: bad token Bearer ***");
        assert_eq!(s.expose(), "hunter2-xyz");
    }

    #[test]
    fn every_encoding_a_server_may_quote_it_back_in() {
        let value = "tok/en+=&<é>'\"\\x-planted-9f3c";
        let _s = Secret::new(value);
        let json = serde_json::to_string(value).unwrap_or_default();
        let php = json.replace('/', "\\/");
        let ascii: String = value
            .encode_utf16()
            .map(|u| {
                if u < 0x80 && u8::try_from(u).is_ok_and(|b| b.is_ascii_alphanumeric()) {
                    char::from(u as u8).to_string()
                } else {
                    format!("\\u{u:04X}")
                }
            })
            .collect();
        let all_escaped: String = value.encode_utf16().map(|u| format!("\\u{u:04x}")).collect();
        let percent: String = value.bytes().map(|b| format!("%{b:02x}")).collect();
        let html: String = value.chars().map(|c| format!("&#{};", c as u32)).collect();
        let rust = format!("{value:?}");
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("admin:{value}"));
        let double = serde_json::to_string(&json).unwrap_or_default();
        for quoted in [value.to_string(), json, php, ascii, all_escaped, percent, html, rust, basic, double] {
            let text = format!("error: token {quoted} was refused");
            let scrubbed = scrub(&text);
            assert!(scrubbed.contains("***"), "{quoted} not found in {text}");
            assert!(!scrubbed.contains("planted-9f3c") && !scrubbed.contains("planted"), "{scrubbed}");
        }
    }

    #[test]
    fn a_part_left_at_a_cut_is_scrubbed_too() {
        let _s = Secret::new("eyJhbGciOiJIUzI1NiJ9.payload-part.signature-sig");
        assert_eq!(scrub("Bearer eyJhbGciOiJIUz…"), "Bearer ***…");
        assert_eq!(scrub("Bearer eyJhbGciOiJIUz"), "Bearer ***");
        assert_eq!(scrub("Bearer eyJhb and more"), "Bearer eyJhb and more", "five characters say nothing");
        // Cut inside an escape.
        assert_eq!(scrub("Ollama &#101;&#121;&#74;&#104;&#98;&#71;&#99;&#105;&#11…"), "Ollama ***…");
        // A row of a frame: a column cut it, or a wrap split it across rows.
        let row = "│ token eyJhbGciOiJIUz│ next";
        let ranges = find_in_row(row);
        assert_eq!(mask(row, ranges), "│ token ***│ next");
        let next_row = "│payload-part.signature-sig and on";
        assert_eq!(mask(next_row, find_in_row(next_row)), "│*** and on");
    }

    #[test]
    fn short_values_are_not_scrubbed_everywhere() {
        let s = Secret::new("redis");
        assert!(!s.scrubbed_everywhere());
        assert_eq!(scrub("redis ok"), "redis ok");
        assert_eq!(s.scrub("AUTH redis failed"), "AUTH *** failed", "its own request still hides it");
    }

    #[test]
    fn json_is_scrubbed_string_by_string() {
        let _s = Secret::new("json-secret-777777");
        let v = serde_json::json!({"detail": "bad json-secret-777777", "n": 1, "json-secret-777777": [true]});
        let out = scrub_json(v).to_string();
        assert!(!out.contains("777777"), "{out}");
    }
}
