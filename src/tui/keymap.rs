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
}

impl Action {
    /// Every action, with its default keys and the help text, in help-screen order.
    pub const DEFAULTS: [(Action, &'static [&'static str], &'static str); 26] = [
        (Action::Down, &["j", "down"], "move down"),
        (Action::Up, &["k", "up"], "move up"),
        (Action::PageDown, &["pgdown", "ctrl-d"], "page down"),
        (Action::PageUp, &["pgup", "ctrl-u"], "page up"),
        (Action::Top, &["g", "home"], "first row"),
        (Action::Bottom, &["G", "end"], "last row"),
        (Action::NextPane, &["tab"], "next pane"),
        (Action::PrevPane, &["backtab"], "previous pane"),
        (Action::FocusQueue, &["1"], "focus Queue"),
        (Action::FocusJobs, &["2"], "focus Jobs"),
        (Action::FocusHealth, &["3"], "focus Health"),
        (Action::FocusAlerts, &["4"], "focus Alerts"),
        (Action::FocusRag, &["5"], "focus RAG hits"),
        (Action::FocusApprovals, &["6"], "focus Approvals"),
        (Action::FocusBackups, &["7"], "focus Backups"),
        (Action::Zoom, &["z", "+"], "zoom the focused pane"),
        (Action::Filter, &["/"], "filter jobs or alerts; in RAG hits, search the knowledge base"),
        (Action::ToggleFailures, &["f"], "failures only"),
        (Action::Open, &["enter"], "open details"),
        (Action::Back, &["esc"], "back / clear filter"),
        (Action::Silence, &["s"], "silence the selected alert (form)"),
        (Action::Ack, &["a"], "ack the selected alert (short silence)"),
        (Action::Expire, &["x"], "expire the silence on the selected alert"),
        (Action::SearchKb, &["K"], "search the knowledge base (↑/↓ recall recent queries)"),
        (Action::Help, &["?"], "help"),
        (Action::Quit, &["q"], "quit (Ctrl-C always quits)"),
    ];

    pub fn description(self) -> &'static str {
        Self::DEFAULTS.iter().find(|(a, ..)| *a == self).map(|(.., d)| *d).unwrap_or("")
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

/// Keys → actions, plus the key names per action for the help screen and footer.
#[derive(Debug, Clone)]
pub struct KeyMap {
    bindings: HashMap<Key, Action>,
    names: BTreeMap<Action, Vec<String>>,
}

impl Default for KeyMap {
    fn default() -> Self {
        KeyMap::new(&BTreeMap::new()).unwrap_or_else(|_| KeyMap { bindings: HashMap::new(), names: BTreeMap::new() })
    }
}

impl KeyMap {
    /// The defaults, with each action named in `overrides` rebound to the keys given there.
    /// Errors name the config key (`keys.<action>`).
    pub fn new(overrides: &BTreeMap<String, Vec<String>>) -> Result<KeyMap, String> {
        let mut names: BTreeMap<Action, Vec<String>> =
            Action::DEFAULTS.iter().map(|(a, keys, _)| (*a, keys.iter().map(|k| k.to_string()).collect())).collect();
        for (name, keys) in overrides {
            let action: Action = serde_json::from_value(serde_json::Value::String(name.clone()))
                .map_err(|_| format!("keys.{name}: no such action"))?;
            names.insert(action, keys.clone());
        }
        let mut bindings = HashMap::new();
        for (action, keys) in &names {
            for k in keys {
                let key = Key::parse(k).map_err(|e| format!("keys.{}: {e}", action_name(*action)))?;
                if let Some(other) = bindings.insert(key, *action)
                    && other != *action
                {
                    return Err(format!(
                        "keys.{}: {k:?} is also bound to {}",
                        action_name(*action),
                        action_name(other)
                    ));
                }
            }
        }
        Ok(KeyMap { bindings, names })
    }

    pub fn action(&self, ev: &KeyEvent) -> Option<Action> {
        self.bindings.get(&Key::from_event(ev)).copied()
    }

    /// The keys bound to an action, as written (`j/down`).
    pub fn keys(&self, action: Action) -> String {
        self.names.get(&action).map(|k| k.join("/")).unwrap_or_default()
    }

    /// The first key bound to an action, for compact hints.
    pub fn first_key(&self, action: Action) -> &str {
        self.names.get(&action).and_then(|k| k.first()).map(|s| s.as_str()).unwrap_or("")
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
        o.insert("zoom".to_string(), vec!["e".to_string()]);
        let km = KeyMap::new(&o).unwrap_or_default();
        assert_eq!(km.action(&ev(KeyCode::Char('e'), KeyModifiers::NONE)), Some(Action::Zoom));
        assert_eq!(km.action(&ev(KeyCode::Char('z'), KeyModifiers::NONE)), None);
        o.insert("zooom".to_string(), vec!["x".to_string()]);
        assert_eq!(KeyMap::new(&o).err().as_deref(), Some("keys.zooom: no such action"));
        let mut clash = BTreeMap::new();
        clash.insert("help".to_string(), vec!["j".to_string()]);
        assert!(KeyMap::new(&clash).err().is_some_and(|e| e.contains("also bound")));
    }
}
