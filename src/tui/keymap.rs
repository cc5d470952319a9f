//! Actions as data, bound to keys. The defaults can be replaced per action in the config
//! (`[keys] zoom = ["z", "+"]`); the help screen is built from this map.

use std::collections::{BTreeMap, HashMap};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::{Deserialize, Serialize};

/// What a key can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Quit,
    /// Quit from anywhere, whatever is open (Ctrl-C).
    ForceQuit,
    Help,
    Down,
    Up,
    PageDown,
    PageUp,
    Top,
    Bottom,
    NextPane,
    PrevPane,
    FocusQueue,
    FocusJobs,
    FocusHealth,
    FocusAlerts,
    FocusRag,
    FocusApprovals,
    FocusBackups,
    Zoom,
    Filter,
    ToggleFailures,
    Open,
    Back,
    Silence,
    Ack,
    Expire,
    SearchKb,
    /// Open the analysis form, prefilled from the selected alert or job.
    Analyze,
    Approve,
    Reject,
    /// Edit the selected draft's title and body before approving.
    EditDraft,
    Retry,
    CancelJob,
    /// Mark or unmark the selected job for a bulk action.
    Mark,
    /// Mark every job matching the current filter.
    MarkAll,
    /// The audit log view.
    Audit,
    /// Take a backup now (Backups pane).
    RunBackup,
    /// Verify the selected archive (Backups pane).
    VerifyBackup,
    /// The command line (`:`).
    Command,
    /// Details of the selected container (`d`, as k9s's describe); Enter opens its log.
    Describe,
    /// In a log: show or hide the engine's timestamps.
    ToggleTimestamps,
    /// In a log: wrap long lines.
    ToggleWrap,
    /// In a log: the next line matching the filter.
    NextMatch,
    /// In a log: the previous line matching the filter.
    PrevMatch,
    /// Copy the selection's handle (job id, fingerprint, ticket URL, container, archive).
    Yank,
    /// On the command line: complete the word, or cycle through the candidates.
    Complete,
    /// In a text input or form: accept what was typed.
    Submit,
    /// In a text input, form or confirmation: close without doing anything.
    Cancel,
    /// In a text input: the previous (older) entry of its history.
    RecallOlder,
    /// In a text input: the next (newer) entry of its history.
    RecallNewer,
    /// In a form: the next field.
    NextField,
    /// In a form: the previous field.
    PrevField,
    /// In a confirmation: do it.
    Confirm,
}

/// Which keys are live: each mode has its own bindings; `Global` ones work in every mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyMode {
    Global,
    /// The dashboard and the detail views.
    Normal,
    /// Typing a filter or a knowledge-base query; other keys edit the text.
    Input,
    /// A form (the silence form); other keys edit the focused field.
    Form,
    /// A confirmation: only `confirm` does it, any other key cancels.
    Confirm,
    /// A container's log; the dashboard's keys work there too.
    Logs,
}

impl KeyMode {
    pub fn title(self) -> &'static str {
        match self {
            KeyMode::Global => "everywhere",
            KeyMode::Normal => "dashboard and details",
            KeyMode::Input => "typing a filter, query or command",
            KeyMode::Form => "in a form",
            KeyMode::Confirm => "in a confirmation (any other key cancels)",
            KeyMode::Logs => "in a container's log (and the movement keys, / and esc)",
        }
    }
}

/// One default binding: the mode, the action, its keys, and the help text.
pub type Binding = (KeyMode, Action, &'static [&'static str], &'static str);

impl Action {
    /// Every binding, with its default keys and the help text, in help-screen order.
    pub const DEFAULTS: [Binding; 55] = [
        (KeyMode::Global, Action::ForceQuit, &["ctrl-c"], "quit at once"),
        (KeyMode::Normal, Action::Down, &["j", "down"], "move down"),
        (KeyMode::Normal, Action::Up, &["k", "up"], "move up"),
        (KeyMode::Normal, Action::PageDown, &["pgdown", "ctrl-d"], "page down"),
        (KeyMode::Normal, Action::PageUp, &["pgup", "ctrl-u"], "page up"),
        (KeyMode::Normal, Action::Top, &["g", "home"], "first row"),
        (KeyMode::Normal, Action::Bottom, &["G", "end"], "last row"),
        (KeyMode::Normal, Action::NextPane, &["tab"], "next pane"),
        (KeyMode::Normal, Action::PrevPane, &["backtab"], "previous pane"),
        (KeyMode::Normal, Action::FocusQueue, &["1"], "focus Queue"),
        (KeyMode::Normal, Action::FocusJobs, &["2"], "focus Jobs"),
        (KeyMode::Normal, Action::FocusHealth, &["3"], "focus Health"),
        (KeyMode::Normal, Action::FocusAlerts, &["4"], "focus Alerts"),
        (KeyMode::Normal, Action::FocusRag, &["5"], "focus RAG hits"),
        (KeyMode::Normal, Action::FocusApprovals, &["6"], "focus Approvals"),
        (KeyMode::Normal, Action::FocusBackups, &["7"], "focus Backups"),
        (KeyMode::Normal, Action::Zoom, &["z", "+"], "zoom the focused pane"),
        (KeyMode::Normal, Action::Filter, &["/"], "filter jobs or alerts; in RAG hits, search the knowledge base"),
        (KeyMode::Normal, Action::ToggleFailures, &["f"], "failures only"),
        (KeyMode::Normal, Action::Open, &["enter"], "open details; on a container, its log"),
        (KeyMode::Normal, Action::Describe, &["d"], "details of the selected container (Health)"),
        (KeyMode::Normal, Action::Back, &["esc"], "back / clear filter"),
        (KeyMode::Normal, Action::Silence, &["s"], "silence the selected alert (form)"),
        (KeyMode::Normal, Action::Ack, &["a"], "ack the alert (a short silence; Zabbix: acknowledge)"),
        (KeyMode::Normal, Action::Expire, &["x"], "expire the silence on the selected alert"),
        (KeyMode::Normal, Action::SearchKb, &["K"], "search the knowledge base"),
        (KeyMode::Normal, Action::Analyze, &["n"], "new analysis (prefilled from the selected alert or job)"),
        (KeyMode::Normal, Action::Approve, &["A"], "approve the selected draft (Approvals)"),
        (KeyMode::Normal, Action::Reject, &["R"], "reject the selected draft, with a note (Approvals)"),
        (KeyMode::Normal, Action::EditDraft, &["e"], "edit the draft's title and body, then approve (Approvals)"),
        (KeyMode::Normal, Action::Retry, &["r"], "retry the marked or selected failed jobs"),
        (KeyMode::Normal, Action::CancelJob, &["C"], "cancel the marked or selected queued jobs"),
        (KeyMode::Normal, Action::Mark, &["space"], "mark or unmark the selected job"),
        (KeyMode::Normal, Action::MarkAll, &["*"], "mark all that match the filter (no filter: clear marks)"),
        (KeyMode::Normal, Action::Audit, &["L"], "the audit log (who did what)"),
        (KeyMode::Normal, Action::RunBackup, &["b"], "take a backup now (Backups)"),
        (KeyMode::Normal, Action::VerifyBackup, &["v"], "verify the selected archive (Backups)"),
        (KeyMode::Normal, Action::Command, &[":"], "command line: every pane and action by name (Tab completes)"),
        (KeyMode::Normal, Action::Yank, &["y"], "copy the selection's id, fingerprint or URL (OSC 52)"),
        (KeyMode::Normal, Action::Help, &["?"], "help"),
        (KeyMode::Normal, Action::Quit, &["q"], "quit"),
        (KeyMode::Input, Action::Submit, &["enter"], "accept (a filter stays applied)"),
        (KeyMode::Input, Action::Cancel, &["esc"], "cancel (a filter is cleared)"),
        (KeyMode::Input, Action::RecallOlder, &["up"], "older recent query or command"),
        (KeyMode::Input, Action::RecallNewer, &["down"], "newer recent query or command"),
        (KeyMode::Input, Action::Complete, &["tab"], "complete the command (again: the next candidate)"),
        (KeyMode::Form, Action::NextField, &["tab"], "next field"),
        (KeyMode::Form, Action::PrevField, &["backtab"], "previous field"),
        (KeyMode::Form, Action::Submit, &["ctrl-s", "enter"], "submit (enter adds a line in a multi-line field)"),
        (KeyMode::Form, Action::Cancel, &["esc"], "cancel"),
        (KeyMode::Confirm, Action::Confirm, &["y", "Y"], "do it"),
        (KeyMode::Logs, Action::ToggleTimestamps, &["t"], "timestamps on or off"),
        (KeyMode::Logs, Action::ToggleWrap, &["w"], "wrap long lines"),
        (KeyMode::Logs, Action::NextMatch, &["n"], "next line matching the filter"),
        (KeyMode::Logs, Action::PrevMatch, &["N"], "previous line matching the filter"),
    ];

    pub fn description(self) -> &'static str {
        Self::DEFAULTS.iter().find(|(_, a, ..)| *a == self).map(|(.., d)| *d).unwrap_or("")
    }
}

/// A key with its modifiers, normalised so `G` and `shift-g` are the same binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    code: KeyCode,
    ctrl: bool,
}

impl Key {
    pub fn from_event(ev: &KeyEvent) -> Key {
        Key { code: ev.code, ctrl: ev.modifiers.contains(KeyModifiers::CONTROL) }
    }

    /// Parse `q`, `G`, `ctrl-d`, `enter`, `esc`, `tab`, `backtab`, `up`, `pgdown`, `f5`, `space`…
    pub fn parse(s: &str) -> Result<Key, String> {
        let (ctrl, rest) = match s.strip_prefix("ctrl-") {
            Some(r) => (true, r),
            None => (false, s),
        };
        let code = match rest {
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backtab" | "shift-tab" => KeyCode::BackTab,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pgup" => KeyCode::PageUp,
            "pgdown" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "space" => KeyCode::Char(' '),
            "backspace" => KeyCode::Backspace,
            f if f.len() > 1 && f.starts_with('f') => {
                KeyCode::F(f[1..].parse().map_err(|_| format!("unknown key {s:?}"))?)
            }
            c if c.chars().count() == 1 => KeyCode::Char(c.chars().next().unwrap_or(' ')),
            _ => return Err(format!("unknown key {s:?}")),
        };
        Ok(Key { code, ctrl })
    }
}

/// Keys → actions per mode, plus the key names per action for the help screen and footer.
#[derive(Debug, Clone)]
pub struct KeyMap {
    bindings: HashMap<(KeyMode, Key), Action>,
    /// The keys of each binding as written, by mode: an action may have other keys in another
    /// mode (Enter submits a text input; Ctrl-S or Enter a form).
    names: BTreeMap<(KeyMode, Action), Vec<String>>,
}

impl Default for KeyMap {
    fn default() -> Self {
        KeyMap::new(&BTreeMap::new()).unwrap_or_else(|_| KeyMap { bindings: HashMap::new(), names: BTreeMap::new() })
    }
}

impl KeyMap {
    /// The defaults, with each action named in `overrides` rebound to the keys given there (in
    /// every mode it has). Errors name the config key (`keys.<action>`).
    pub fn new(overrides: &BTreeMap<String, Vec<String>>) -> Result<KeyMap, String> {
        let mut names: BTreeMap<(KeyMode, Action), Vec<String>> = Action::DEFAULTS
            .iter()
            .map(|(m, a, keys, _)| ((*m, *a), keys.iter().map(|k| k.to_string()).collect()))
            .collect();
        for (name, keys) in overrides {
            let action: Action = serde_json::from_value(serde_json::Value::String(name.clone()))
                .map_err(|_| format!("keys.{name}: no such action"))?;
            // An override rebinds the action in every mode it has.
            names.iter_mut().filter(|((_, a), _)| *a == action).for_each(|(_, k)| *k = keys.clone());
        }
        let mut bindings = HashMap::new();
        for (mode, action, ..) in Action::DEFAULTS.iter() {
            for k in names.get(&(*mode, *action)).into_iter().flatten() {
                let key = Key::parse(k).map_err(|e| format!("keys.{}: {e}", action_name(*action)))?;
                // A key bound in every mode must not also mean something in one of them.
                let clashes = |m: KeyMode| bindings.get(&(m, key)).filter(|other| *other != action);
                let other = match mode {
                    KeyMode::Global => bindings.iter().find(|((_, k), a)| *k == key && *a != action).map(|(_, a)| a),
                    m => clashes(*m).or_else(|| clashes(KeyMode::Global)),
                };
                if let Some(other) = other {
                    return Err(format!(
                        "keys.{}: {k:?} is also bound to {}",
                        action_name(*action),
                        action_name(*other)
                    ));
                }
                bindings.insert((*mode, key), *action);
            }
        }
        Ok(KeyMap { bindings, names })
    }

    /// What a key does on the dashboard.
    pub fn action(&self, ev: &KeyEvent) -> Option<Action> {
        self.action_in(KeyMode::Normal, ev)
    }

    /// What a key does in `mode`: a global binding first, then the mode's own.
    pub fn action_in(&self, mode: KeyMode, ev: &KeyEvent) -> Option<Action> {
        let key = Key::from_event(ev);
        self.bindings.get(&(KeyMode::Global, key)).or_else(|| self.bindings.get(&(mode, key))).copied()
    }

    /// The keys bound to an action in a mode, as written (`j/down`).
    pub fn keys_in(&self, mode: KeyMode, action: Action) -> String {
        self.names.get(&(mode, action)).map(|k| k.join("/")).unwrap_or_default()
    }

    /// The first key bound to an action on the dashboard, for compact hints.
    pub fn first_key(&self, action: Action) -> &str {
        self.first_key_in(KeyMode::Normal, action)
    }

    /// The first key bound to an action in a mode.
    pub fn first_key_in(&self, mode: KeyMode, action: Action) -> &str {
        self.names.get(&(mode, action)).and_then(|k| k.first()).map(|s| s.as_str()).unwrap_or("")
    }
}

fn action_name(a: Action) -> String {
    serde_json::to_value(a).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, m)
    }

    #[test]
    fn defaults_bind_vim_keys_arrows_and_numbers() {
        let km = KeyMap::default();
        assert_eq!(km.action(&ev(KeyCode::Char('j'), KeyModifiers::NONE)), Some(Action::Down));
        assert_eq!(km.action(&ev(KeyCode::Down, KeyModifiers::NONE)), Some(Action::Down));
        assert_eq!(km.action(&ev(KeyCode::Char('G'), KeyModifiers::SHIFT)), Some(Action::Bottom));
        assert_eq!(km.action(&ev(KeyCode::Char('2'), KeyModifiers::NONE)), Some(Action::FocusJobs));
        assert_eq!(km.action(&ev(KeyCode::Char('d'), KeyModifiers::CONTROL)), Some(Action::PageDown));
    }

    #[test]
    fn overrides_replace_and_errors_name_the_key() {
        let mut o = BTreeMap::new();
        o.insert("zoom".to_string(), vec!["Z".to_string()]);
        let km = KeyMap::new(&o).unwrap_or_default();
        assert_eq!(km.action(&ev(KeyCode::Char('Z'), KeyModifiers::NONE)), Some(Action::Zoom));
        assert_eq!(km.action(&ev(KeyCode::Char('z'), KeyModifiers::NONE)), None);
        o.insert("zooom".to_string(), vec!["x".to_string()]);
        assert_eq!(KeyMap::new(&o).err().as_deref(), Some("keys.zooom: no such action"));
        let mut clash = BTreeMap::new();
        clash.insert("help".to_string(), vec!["j".to_string()]);
        assert!(KeyMap::new(&clash).err().is_some_and(|e| e.contains("also bound")));
        let mut global = BTreeMap::new();
        global.insert("force_quit".to_string(), vec!["q".to_string()]);
        assert!(KeyMap::new(&global).err().is_some_and(|e| e.contains("also bound")), "global keys clash everywhere");
    }

    #[test]
    fn each_mode_has_its_own_keys_and_ctrl_c_works_in_all() {
        let km = KeyMap::default();
        let enter = ev(KeyCode::Enter, KeyModifiers::NONE);
        assert_eq!(km.action_in(KeyMode::Normal, &enter), Some(Action::Open));
        assert_eq!(km.action_in(KeyMode::Input, &enter), Some(Action::Submit));
        assert_eq!(km.action_in(KeyMode::Input, &ev(KeyCode::Char('q'), KeyModifiers::NONE)), None, "typed");
        assert_eq!(km.action_in(KeyMode::Confirm, &ev(KeyCode::Char('y'), KeyModifiers::NONE)), Some(Action::Confirm));
        let ctrl_s = ev(KeyCode::Char('s'), KeyModifiers::CONTROL);
        assert_eq!(km.action_in(KeyMode::Form, &ctrl_s), Some(Action::Submit));
        assert_eq!(km.action_in(KeyMode::Input, &ctrl_s), None, "each mode keeps its own keys");
        let ctrl_c = ev(KeyCode::Char('c'), KeyModifiers::CONTROL);
        for mode in [KeyMode::Normal, KeyMode::Input, KeyMode::Form, KeyMode::Confirm] {
            assert_eq!(km.action_in(mode, &ctrl_c), Some(Action::ForceQuit), "{mode:?}");
        }
    }
}
