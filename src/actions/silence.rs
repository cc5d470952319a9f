//! Silences: create (from a form or a one-key ack) and expire, on the configured Alertmanagers.

use chrono::{Duration, Utc};
use futures_util::future::join_all;

use super::{ActionError, ActionRequest, Actions};
use crate::clients::alertmanager::{Matcher, NewSilence};
use crate::domain::{Alert, Origin};

/// `alertname="DiskFull"`, `instance=~"db-0[12].*"`, `env!="prod"`.
pub fn matcher_text(m: &Matcher) -> String {
    let op = match (m.is_equal, m.is_regex) {
        (true, false) => "=",
        (false, false) => "!=",
        (true, true) => "=~",
        (false, true) => "!~",
    };
    // A label name is plain ASCII; one that is not is shown escaped (it cannot be typed back).
    let name: String = if m.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        m.name.clone()
    } else {
        m.name.escape_debug().collect()
    };
    format!("{name}{op}{:?}", m.value)
}

/// Longest regular expression in a matcher.
const MAX_PATTERN_CHARS: usize = 1024;

/// Whether a matcher can be sent to Alertmanager as it is: its label name, and for a regular
/// expression, that it compiles the way Alertmanager compiles it (Go's RE2 syntax, anchored).
/// The constructs the Rust engine accepts and RE2 does not are refused by name.
pub fn check_matcher(m: &Matcher) -> Result<(), String> {
    if m.name.is_empty() || !m.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!("{:?} is not a label name", m.name));
    }
    if !m.is_regex {
        return Ok(());
    }
    if m.value.chars().count() > MAX_PATTERN_CHARS {
        return Err(format!("the regular expression of {} is longer than {MAX_PATTERN_CHARS} characters", m.name));
    }
    let ast = regex_syntax::ast::parse::Parser::new()
        .parse(&m.value)
        .map_err(|e| format!("{} is not a regular expression: {}", matcher_text(m), e.kind()))?;
    re2_only(&ast).map_err(|why| format!("{}: {why} (Alertmanager reads RE2 syntax)", matcher_text(m)))?;
    // Alertmanager anchors it: `^(?:…)$`.
    regex::RegexBuilder::new(&format!("^(?:{})$", m.value))
        .size_limit(1 << 20)
        .build()
        .map(|_| ())
        .map_err(|e| format!("{} is not a regular expression: {e}", matcher_text(m)))
}

/// The parts of the Rust syntax RE2 (Go's regexp) does not have.
fn re2_only(ast: &regex_syntax::ast::Ast) -> Result<(), String> {
    use regex_syntax::ast::{
        AssertionKind, Ast, ClassSet, ClassSetItem, Flag, GroupKind, RepetitionKind, RepetitionRange,
    };
    let flags_ok = |flags: &regex_syntax::ast::Flags| {
        flags.items.iter().all(|i| match i.kind {
            regex_syntax::ast::FlagsItemKind::Flag(f) => {
                matches!(f, Flag::CaseInsensitive | Flag::MultiLine | Flag::DotMatchesNewLine | Flag::SwapGreed)
            }
            _ => true,
        })
    };
    fn class_ok(set: &ClassSet) -> Result<(), String> {
        match set {
            ClassSet::BinaryOp(_) => Err("class set operations (&&, --, ~~)".into()),
            ClassSet::Item(ClassSetItem::Bracketed(_)) => Err("a class inside a class".into()),
            ClassSet::Item(ClassSetItem::Union(u)) => {
                u.items.iter().try_for_each(|i| class_ok(&ClassSet::Item(i.clone())))
            }
            ClassSet::Item(_) => Ok(()),
        }
    }
    match ast {
        Ast::Flags(f) if !flags_ok(&f.flags) => Err("a flag other than i, m, s or U".into()),
        Ast::Assertion(a)
            if !matches!(
                a.kind,
                AssertionKind::StartLine
                    | AssertionKind::EndLine
                    | AssertionKind::StartText
                    | AssertionKind::EndText
                    | AssertionKind::WordBoundary
                    | AssertionKind::NotWordBoundary
            ) =>
        {
            Err("a word-boundary form other than \\b and \\B".into())
        }
        Ast::ClassBracketed(c) => class_ok(&c.kind),
        Ast::Repetition(r) => {
            let big = match &r.op.kind {
                RepetitionKind::Range(
                    RepetitionRange::Exactly(n) | RepetitionRange::AtLeast(n) | RepetitionRange::Bounded(_, n),
                ) => *n > 1000,
                _ => false,
            };
            if big {
                return Err("a repeat count over 1000".into());
            }
            re2_only(&r.ast)
        }
        Ast::Group(g) => {
            if let GroupKind::NonCapturing(f) = &g.kind
                && !flags_ok(f)
            {
                return Err("a flag other than i, m, s or U".into());
            }
            re2_only(&g.ast)
        }
        Ast::Alternation(a) => a.asts.iter().try_for_each(re2_only),
        Ast::Concat(c) => c.asts.iter().try_for_each(re2_only),
        _ => Ok(()),
    }
}

/// Whether a set of matchers would silence everything: Alertmanager wants at least one that
/// does not match the empty string.
pub fn check_matchers(matchers: &[Matcher]) -> Result<(), String> {
    if matchers.is_empty() {
        return Err("a silence needs at least one matcher".into());
    }
    matchers.iter().try_for_each(check_matcher)?;
    let matches_empty = |m: &Matcher| {
        let hit = if m.is_regex {
            regex::Regex::new(&format!("^(?:{})$", m.value)).map(|r| r.is_match("")).unwrap_or(false)
        } else {
            m.value.is_empty()
        };
        hit == m.is_equal
    };
    if matchers.iter().all(matches_empty) {
        return Err("at least one matcher must not match an empty label (this would silence every alert)".into());
    }
    Ok(())
}

/// Parse `name=value`, `name!=value`, `name=~regex` or `name!~regex` (value quoted or not).
pub fn parse_matcher(s: &str) -> Result<Matcher, String> {
    let s = s.trim();
    let (name, op, value) = ["=~", "!~", "!=", "="]
        .iter()
        .find_map(|op| s.split_once(op).map(|(n, v)| (n.trim(), *op, v.trim())))
        .ok_or_else(|| format!("{s:?} is not a matcher (name=value, name!=value, name=~regex, name!~regex)"))?;
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!("{name:?} is not a label name"));
    }
    let value = match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(quoted) => unescape(quoted)?,
        None => value.to_string(),
    };
    Ok(Matcher { name: name.into(), value, is_regex: op.contains('~'), is_equal: !op.starts_with('!') })
}

/// Undo the escapes of a quoted value as [`matcher_text`] writes it (Rust's `{:?}`: `\"`, `\\`,
/// `\n`, `\t`, `\r`, `\0`, `\'`, `\u{…}`), so a value holding control characters, shown escaped
/// in the form, comes back exactly as the alert has it.
fn unescape(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let escaped = match chars.next() {
            Some('n') => '\n',
            Some('t') => '\t',
            Some('r') => '\r',
            Some('0') => '\0',
            Some(c @ ('\\' | '"' | '\'')) => c,
            Some('u') => {
                let rest: String = chars.by_ref().take_while(|c| *c != '}').collect();
                let hex = rest.strip_prefix('{').ok_or_else(|| format!("bad escape \\u{rest} in {s:?}"))?;
                u32::from_str_radix(hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| format!("bad escape \\u{{{hex}}} in {s:?}"))?
            }
            other => return Err(format!("unknown escape \\{} in a quoted value", other.unwrap_or(' '))),
        };
        out.push(escaped);
    }
    Ok(out)
}

/// Matchers that select exactly one alert: every one of its labels, by equality.
pub fn matchers_for(alert: &Alert) -> Vec<Matcher> {
    alert
        .labels
        .iter()
        .map(|(k, v)| Matcher { name: k.clone(), value: v.clone(), is_regex: false, is_equal: true })
        .collect()
}

/// `90m`, `2h`, `1d`, `45s`, or plain seconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num.parse().map_err(|_| format!("{s:?} is not a duration like 90m, 2h or 1d"))?;
    let unit_s: i64 = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{s:?} is not a duration like 90m, 2h or 1d")),
    };
    match n.checked_mul(unit_s) {
        Some(secs) if (1..=366 * 86_400).contains(&secs) => Ok(secs),
        _ => Err("a silence lasts between 1 s and a year".into()),
    }
}

pub fn format_duration(secs: i64) -> String {
    match secs {
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// The Alertmanagers named (all when none is).
fn targets(actions: &Actions, names: &[String]) -> Result<Vec<String>, ActionError> {
    let all = actions.ops.alertmanagers();
    if all.is_empty() {
        return Err(ActionError::Invalid("no Alertmanager configured".into()));
    }
    let chosen: Vec<String> = all.into_iter().filter(|m| names.is_empty() || names.contains(m)).collect();
    if chosen.is_empty() {
        return Err(ActionError::Invalid(format!("no configured Alertmanager named {}", names.join(", "))));
    }
    Ok(chosen)
}

/// The ack of an alert from wherever it came: a short silence on its Alertmanagers, or a Zabbix
/// problem's acknowledgement. A CrowdSec alert has nothing to acknowledge.
pub fn ack_request(alert: &Alert) -> Result<ActionRequest, String> {
    let where_ = alert.labels.get("instance").or(alert.labels.get("host")).map(String::as_str).unwrap_or("?");
    let target = format!("{} on {where_}", alert.name());
    match &alert.origin {
        Origin::Alertmanager => {
            Ok(ActionRequest::Ack { matchers: matchers_for(alert), alertmanagers: alert.sources.clone(), target })
        }
        // Acknowledged already: the action says so and changes nothing (and is audited).
        Origin::Zabbix { server, eventid, .. } => {
            Ok(ActionRequest::AckProblem { server: server.clone(), eventid: eventid.clone(), target })
        }
        Origin::CrowdSec { .. } => Err(format!(
            "{target} is a CrowdSec alert: there is nothing to acknowledge (its decisions stand); analyse it instead"
        )),
    }
}

/// Acknowledge a Zabbix problem with a message naming the operator; one acknowledged already is
/// left as it is and said so (a repeated decision changes nothing).
pub(super) async fn ack_problem(
    actions: &Actions,
    server: &str,
    eventid: &str,
    target: &str,
) -> Result<super::Done, ActionError> {
    let message = format!("acknowledged by {} with mcptop", actions.actor.name());
    let already = actions
        .ops
        .acknowledge_problem(server, eventid, &message)
        .await
        .map_err(|e| ActionError::Failed(format!("{server}: {e}")))?;
    let mut done = super::Done::new(if already {
        format!("{target} (event {eventid}) was acknowledged already on {server}: nothing changed")
    } else {
        format!("acknowledged {target} (event {eventid}) on {server}")
    });
    done.data = serde_json::json!({"server": server, "eventid": eventid, "already": already});
    Ok(done)
}

pub(super) async fn run(actions: &Actions, request: &ActionRequest) -> Result<String, ActionError> {
    match request {
        ActionRequest::SilenceAdd { matchers, duration_s, comment, alertmanagers } => {
            if comment.trim().is_empty() {
                return Err(ActionError::Invalid("a silence needs a comment".into()));
            }
            create(actions, matchers, Duration::seconds(*duration_s), comment, alertmanagers).await
        }
        ActionRequest::Ack { matchers, alertmanagers, .. } => {
            let comment = format!("ack by {}", actions.actor.name());
            create(actions, matchers, actions.ack_duration, &comment, alertmanagers).await
        }
        ActionRequest::SilenceExpire { id, alertmanagers } => {
            let ams = targets(actions, alertmanagers)?;
            let results = join_all(ams.iter().map(|m| actions.ops.expire_silence(m, id))).await;
            let done: Vec<&str> =
                ams.iter().zip(&results).filter(|(_, r)| r.is_ok()).map(|(m, _)| m.as_str()).collect();
            if done.is_empty() {
                let errs: Vec<String> = ams
                    .iter()
                    .zip(&results)
                    .filter_map(|(m, r)| r.as_ref().err().map(|e| format!("{m}: {e}")))
                    .collect();
                return Err(ActionError::Failed(errs.join("; ")));
            }
            Ok(format!("silence {id} expired on {}", done.join(", ")))
        }
        other => Err(ActionError::Invalid(format!("{} is not an Alertmanager action", other.name()))),
    }
}

async fn create(
    actions: &Actions,
    matchers: &[Matcher],
    duration: Duration,
    comment: &str,
    alertmanagers: &[String],
) -> Result<String, ActionError> {
    if matchers.is_empty() {
        return Err(ActionError::Invalid("a silence needs at least one matcher".into()));
    }
    let ams = targets(actions, alertmanagers)?;
    let now = Utc::now();
    let silence = NewSilence {
        matchers: matchers.to_vec(),
        starts_at: now,
        ends_at: now + duration,
        created_by: actions.actor.name(),
        comment: comment.to_string(),
    };
    let results = join_all(ams.iter().map(|m| actions.ops.create_silence(m, &silence))).await;
    let mut ok = Vec::new();
    let mut failed = Vec::new();
    for (m, r) in ams.iter().zip(results) {
        match r {
            Ok(id) => ok.push(format!("{m} ({id})")),
            Err(e) => failed.push(format!("{m}: {e}")),
        }
    }
    match (ok.is_empty(), failed.is_empty()) {
        (true, _) => Err(ActionError::Failed(failed.join("; "))),
        (false, true) => Ok(format!("silenced until {} on {}", silence.ends_at.format("%H:%M UTC"), ok.join(", "))),
        (false, false) => Ok(format!("silenced on {}; FAILED on {}", ok.join(", "), failed.join("; "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matchers_alertmanager_would_refuse_are_refused_here() {
        let m = |s: &str| parse_matcher(s).unwrap_or_else(|e| panic!("{e}"));
        for bad in [r"alertname=~(((", r"a=~x{1001}", r"a=~[a&&b]", r"a=~[[a-z]--[aeiou]]", r"a=~(?x)a b", r"a=~\<w"] {
            assert!(check_matcher(&m(bad)).is_err(), "{bad} must be refused");
        }
        for good in [r"alertname=~Disk.*", r"instance=~db-0[12]:9100", r"a=~(?i)disk", r"job!~node|redis", "a=b"] {
            assert_eq!(check_matcher(&m(good)), Ok(()), "{good}");
        }
        assert!(check_matchers(&[m("alertname=~.*")]).is_err(), "silences everything");
        assert!(check_matchers(&[m("env!=prod")]).is_err(), "matches an empty label");
        assert!(check_matchers(&[m("env!=prod"), m("alertname=DiskFull")]).is_ok());
        let request = |comment: &str| ActionRequest::SilenceAdd {
            matchers: vec![m("alertname=DiskFull")],
            duration_s: 3600,
            comment: comment.into(),
            alertmanagers: vec![],
        };
        for hostile in ["ok\x1b[2J", "two\nlines", "evil\u{202e}txt"] {
            let why = request(hostile).validate().err().unwrap_or_default();
            assert!(why.contains("control character"), "{hostile:?}: {why}");
        }
        assert!(request("resizing /var").validate().is_ok());
    }

    #[test]
    fn matchers_parse_in_every_form() {
        let m = parse_matcher("alertname=DiskFull").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(matcher_text(&m), r#"alertname="DiskFull""#);
        let m = parse_matcher(r#"instance=~"db-0[12].*""#).unwrap_or_else(|e| panic!("{e}"));
        assert!(m.is_regex && m.is_equal && m.value == "db-0[12].*");
        let m = parse_matcher("env != prod").unwrap_or_else(|e| panic!("{e}"));
        assert!(!m.is_regex && !m.is_equal && m.name == "env" && m.value == "prod");
        assert!(parse_matcher("no operator").is_err());
        // What the form shows for a hostile value parses back to exactly that value.
        let hostile = Matcher {
            name: "instance".into(),
            value: format!("db\x1b[2J{}\"q\"\\{}", '\u{202e}', "x".repeat(400)),
            is_regex: false,
            is_equal: true,
        };
        let shown = matcher_text(&hostile);
        assert!(!shown.contains('\x1b') && !shown.contains('\u{202e}'), "{shown}");
        assert_eq!(parse_matcher(&shown), Ok(hostile));
        assert!(parse_matcher("bad name=x").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90m"), Ok(5400));
        assert_eq!(parse_duration("2h"), Ok(7200));
        assert_eq!(parse_duration("1d"), Ok(86_400));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("99999999999999999d").is_err(), "no overflow");
        assert!(parse_duration("9999999999999999999999").is_err(), "no overflow");
        assert_eq!(format_duration(7200), "2h");
        assert_eq!(format_duration(90), "90s");
    }
}
