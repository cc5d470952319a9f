//! The command line (`:`): every pane and every action by name, with Tab completion, a history
//! kept across runs, and "did you mean" for a typo. The table here is the one the help screen
//! lists beside the keys.

use super::app::PaneId;
use super::keymap::Action;

/// What a command does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Run {
    /// The same as the action's key.
    Key(Action),
    /// Focus a pane; an argument filters it (Jobs, Alerts, Audit) or searches (RAG hits).
    Pane(PaneId),
    /// The audit log, optionally filtered.
    Audit,
    /// `backup run` or `backup verify`.
    Backup,
    /// The last source errors.
    Errors,
    /// Switch colour theme.
    Theme,
    /// Switch context (platform stack).
    Ctx,
    /// One row per configured context.
    Fleet,
}

/// A command: its name, what it takes, what it does.
#[derive(Debug, Clone, Copy)]
pub struct Command {
    pub name: &'static str,
    pub args: &'static str,
    pub help: &'static str,
    pub run: Run,
}

const fn cmd(name: &'static str, args: &'static str, help: &'static str, run: Run) -> Command {
    Command { name, args, help, run }
}

/// Every command, in help order.
pub const COMMANDS: &[Command] = &[
    cmd("queue", "", "focus Queue", Run::Pane(PaneId::Queue)),
    cmd("jobs", "[failed | FILTER]", "focus Jobs; `failed`: failures only; else filter", Run::Pane(PaneId::Jobs)),
    cmd("health", "", "focus Health", Run::Pane(PaneId::Health)),
    cmd("alerts", "[FILTER]", "focus Alerts, filtered", Run::Pane(PaneId::Alerts)),
    cmd("rag", "[QUERY]", "focus RAG hits; with a query, search the knowledge base", Run::Pane(PaneId::Rag)),
    cmd("approvals", "", "focus Approvals", Run::Pane(PaneId::Approvals)),
    cmd("backups", "", "focus Backups", Run::Pane(PaneId::Backups)),
    cmd("audit", "[FILTER]", "the audit log; filter by actor: action: outcome: context:", Run::Audit),
    cmd("errors", "", "the last 100 source errors, kept after the source recovers", Run::Errors),
    cmd("fleet", "", "every configured context, one row each", Run::Fleet),
    cmd("ctx", "NAME", "switch to another context without restarting", Run::Ctx),
    cmd("theme", "NAME", "switch colour theme", Run::Theme),
    cmd("backup", "run | verify", "take a backup now, or verify the selected archive", Run::Backup),
    cmd("analyze", "", "new analysis (prefilled from the selection)", Run::Key(Action::Analyze)),
    cmd("approve", "", "approve the selected draft", Run::Key(Action::Approve)),
    cmd("edit", "", "edit the selected draft, then approve", Run::Key(Action::EditDraft)),
    cmd("reject", "", "reject the selected draft, with a note", Run::Key(Action::Reject)),
    cmd("retry", "", "retry the marked or selected failed jobs", Run::Key(Action::Retry)),
    cmd("cancel", "", "cancel the marked or selected queued jobs", Run::Key(Action::CancelJob)),
    cmd("mark", "", "mark or unmark the selected job", Run::Key(Action::Mark)),
    cmd("mark-all", "", "mark every job matching the filter", Run::Key(Action::MarkAll)),
    cmd("silence", "", "silence the selected alert (form)", Run::Key(Action::Silence)),
    cmd("ack", "", "ack the selected alert", Run::Key(Action::Ack)),
    cmd("expire", "", "expire the silence on the selected alert", Run::Key(Action::Expire)),
    cmd("zoom", "", "zoom the focused pane", Run::Key(Action::Zoom)),
    cmd("yank", "", "copy the selection's id, fingerprint or URL (OSC 52)", Run::Key(Action::Yank)),
    cmd("help", "", "keys and commands", Run::Key(Action::Help)),
    cmd("quit", "", "quit (also :q)", Run::Key(Action::Quit)),
];

/// Short forms that are not prefixes of their command.
const ALIASES: &[(&str, &str)] = &[("q", "quit"), ("context", "ctx"), ("analyse", "analyze")];

/// The command a line names, and its argument (the rest, trimmed). A unique prefix is enough.
pub fn parse(line: &str) -> Result<(Command, String), String> {
    let line = line.trim().trim_start_matches(':');
    let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    if word.is_empty() {
        return Err("type a command; Tab lists them".into());
    }
    let word = ALIASES.iter().find(|(a, _)| *a == word).map(|(_, c)| *c).unwrap_or(word);
    if let Some(c) = COMMANDS.iter().find(|c| c.name == word) {
        return Ok((*c, rest.trim().to_string()));
    }
    let starting: Vec<&Command> = COMMANDS.iter().filter(|c| c.name.starts_with(word)).collect();
    match starting.as_slice() {
        [one] => Ok((**one, rest.trim().to_string())),
        [] => Err(format!("unknown command :{word}{}", did_you_mean(word))),
        many => Err(format!(
            ":{word} could be {}",
            many.iter().map(|c| format!(":{}", c.name)).collect::<Vec<_>>().join(", ")
        )),
    }
}

/// ` — did you mean :jobs?` for the closest command names, or nothing when none is close.
fn did_you_mean(word: &str) -> String {
    let mut close: Vec<(usize, &str)> = COMMANDS
        .iter()
        .map(|c| (strsim::damerau_levenshtein(word, c.name), c.name))
        .filter(|(d, name)| *d <= 2.max(name.len() / 3))
        .collect();
    close.sort();
    match close.as_slice() {
        [] => " (Tab lists the commands)".into(),
        [(_, one)] => format!(" — did you mean :{one}?"),
        [(_, a), (_, b), ..] => format!(" — did you mean :{a} or :{b}?"),
    }
}

/// What the arguments of a command can be, for completion.
#[derive(Debug, Clone, Default)]
pub struct Choices {
    pub contexts: Vec<String>,
    pub themes: Vec<String>,
}

/// The candidates for the word being typed at the end of `line`, each a whole line.
pub fn complete(line: &str, choices: &Choices) -> Vec<String> {
    let (word, rest) = match line.split_once(' ') {
        Some((w, r)) => (w, Some(r)),
        None => (line, None),
    };
    let Some(rest) = rest else {
        return COMMANDS.iter().filter(|c| c.name.starts_with(word)).map(|c| c.name.to_string()).collect();
    };
    let Ok((command, _)) = parse(word) else { return vec![] };
    let options: Vec<String> = match command.run {
        Run::Ctx | Run::Fleet => choices.contexts.clone(),
        Run::Theme => choices.themes.clone(),
        Run::Backup => vec!["run".into(), "verify".into()],
        // `failed` is the one argument with a meaning of its own; anything else is a filter.
        Run::Pane(PaneId::Jobs) => vec!["failed".into()],
        _ => vec![],
    };
    options.into_iter().filter(|o| o.starts_with(rest.trim_start())).map(|o| format!("{} {o}", command.name)).collect()
}

/// The longest start all candidates share (what Tab fills in before it cycles).
pub fn common_prefix(candidates: &[String]) -> String {
    let Some(first) = candidates.first() else { return String::new() };
    let mut end = first.len();
    for c in &candidates[1..] {
        end = end.min(first.bytes().zip(c.bytes()).take_while(|(a, b)| a == b).count());
    }
    while !first.is_char_boundary(end) {
        end -= 1;
    }
    first[..end].to_string()
}

/// The command-line history: newest last, without repeats, at most this many, kept in the
/// state directory between runs.
pub const HISTORY_MAX: usize = 200;

pub fn history_path() -> Option<std::path::PathBuf> {
    crate::logging::log_dir().map(|d| d.join("command_history"))
}

/// The saved history (a missing or unreadable file is an empty history).
pub fn load_history() -> Vec<String> {
    let Some(path) = history_path() else { return vec![] };
    let text = std::fs::read(&path).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    let lines: Vec<String> = text.lines().filter(|l| !l.trim().is_empty()).map(String::from).collect();
    lines[lines.len().saturating_sub(HISTORY_MAX)..].to_vec()
}

/// Add a line to a history: an older copy moves to the end.
pub fn remember(history: &mut Vec<String>, line: &str) {
    let line = line.trim().to_string();
    if line.is_empty() {
        return;
    }
    history.retain(|l| *l != line);
    history.push(line);
    let extra = history.len().saturating_sub(HISTORY_MAX);
    history.drain(..extra);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_prefixes_aliases_and_typos() {
        assert_eq!(parse(":jobs failed").map(|(c, a)| (c.name, a)), Ok(("jobs", "failed".to_string())));
        assert_eq!(parse("q").map(|(c, _)| c.name), Ok("quit"));
        assert!(parse("appr").is_err_and(|e| e.contains(":approvals") && e.contains(":approve")), "ambiguous");
        assert_eq!(parse("ctx staging").map(|(c, a)| (c.run, a)), Ok((Run::Ctx, "staging".to_string())));
        assert!(parse("jbos").is_err_and(|e| e.contains("did you mean :jobs")), "{:?}", parse("jbos"));
        assert!(parse("xyzzy").is_err_and(|e| e.contains("unknown command :xyzzy")));
    }

    #[test]
    fn completion_of_names_and_arguments() {
        let choices = Choices { contexts: vec!["prod".into(), "staging".into()], themes: vec!["light".into()] };
        assert_eq!(complete("al", &choices), ["alerts"]);
        assert_eq!(complete("ctx s", &choices), ["ctx staging"]);
        assert_eq!(complete("ctx ", &choices), ["ctx prod", "ctx staging"]);
        assert_eq!(complete("backup v", &choices), ["backup verify"]);
        assert_eq!(complete("jobs fa", &choices), ["jobs failed"]);
        assert_eq!(common_prefix(&complete("a", &choices)), "a");
        assert_eq!(common_prefix(&["approve".into(), "approvals".into()]), "approv");
    }

    #[test]
    fn history_moves_repeats_to_the_end_and_is_bounded() {
        let mut h = vec!["jobs".to_string(), "alerts".to_string()];
        remember(&mut h, " jobs ");
        assert_eq!(h, ["alerts", "jobs"]);
        for i in 0..300 {
            remember(&mut h, &format!("jobs {i}"));
        }
        assert_eq!(h.len(), HISTORY_MAX);
        assert_eq!(h.last().map(String::as_str), Some("jobs 299"));
    }
}
