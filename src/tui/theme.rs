//! Colour themes by role, loaded from TOML. Built-in themes are compiled in; a user theme in
//! `$XDG_CONFIG_HOME/mcptop/themes/NAME.toml` overrides only the roles it names.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

use crate::domain::{JobStatus, Severity};

/// Themes shipped with mcptop: name and TOML text.
pub const BUILT_IN: [(&str, &str); 4] = [
    ("default", include_str!("../../themes/default.toml")),
    ("light", include_str!("../../themes/light.toml")),
    ("high-contrast", include_str!("../../themes/high-contrast.toml")),
    ("mono", include_str!("../../themes/mono.toml")),
];

macro_rules! roles {
    ($($name:ident),* $(,)?) => {
        /// Every style a pane may use. Panes never name a colour, only a role.
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct Theme {
            pub name: String,
            $(pub $name: Style,)*
        }

        impl Theme {
            fn set(&mut self, role: &str, style: Style) -> Result<(), String> {
                match role {
                    $(stringify!($name) => self.$name = style,)*
                    other => return Err(format!("unknown role {other:?}")),
                }
                Ok(())
            }
        }
    };
}

roles!(
    text,
    muted,
    title,
    border,
    border_focused,
    selected,
    header,
    context,
    badge,
    alarm,
    key,
    ok,
    warn,
    error,
    info,
    spark,
    severity_critical,
    severity_high,
    severity_medium,
    severity_low,
    severity_unknown,
    status_queued,
    status_running,
    status_awaiting_approval,
    status_approved,
    status_rejected,
    status_done,
    status_failed,
    status_cancelled,
    status_unknown,
);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    roles: BTreeMap<String, RoleSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleSpec {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    modifiers: Vec<String>,
}

/// A theme that could not be loaded; the message names the file and role.
#[derive(Debug, thiserror::Error)]
#[error("theme {name}: {message}")]
pub struct ThemeError {
    pub name: String,
    pub message: String,
}

impl Theme {
    /// Load a theme by name: the default theme, overlaid with the named built-in or user theme.
    pub fn load(name: &str) -> Result<Theme, ThemeError> {
        let err = |message: String| ThemeError { name: name.to_string(), message };
        let mut theme = Theme::default();
        theme.apply(BUILT_IN[0].1).map_err(err)?;
        let text = match BUILT_IN.iter().find(|(n, _)| *n == name) {
            Some((_, text)) => text.to_string(),
            None => {
                let path = user_dir().map(|d| d.join(format!("{name}.toml")));
                match path.as_ref().map(std::fs::read_to_string) {
                    Some(Ok(text)) => text,
                    _ => {
                        let names: Vec<&str> = BUILT_IN.iter().map(|(n, _)| *n).collect();
                        return Err(err(format!("no such theme; built in: {}", names.join(", "))));
                    }
                }
            }
        };
        theme.apply(&text).map_err(err)?;
        theme.name = name.to_string();
        Ok(theme)
    }

    /// The built-in theme `name`; the default theme if there is none by that name.
    pub fn built_in(name: &str) -> Theme {
        Theme::load(name).or_else(|_| Theme::load("default")).unwrap_or_default()
    }

    fn apply(&mut self, text: &str) -> Result<(), String> {
        let file: ThemeFile = toml::from_str(text).map_err(|e| e.to_string())?;
        for (role, spec) in file.roles {
            let style = spec.to_style().map_err(|m| format!("role {role}: {m}"))?;
            self.set(&role, style)?;
        }
        Ok(())
    }

    pub fn severity(&self, s: Severity) -> Style {
        match s {
            Severity::Critical => self.severity_critical,
            Severity::High => self.severity_high,
            Severity::Medium => self.severity_medium,
            Severity::Low => self.severity_low,
            Severity::Unknown => self.severity_unknown,
        }
    }

    pub fn status(&self, s: &JobStatus) -> Style {
        match s {
            JobStatus::Queued => self.status_queued,
            JobStatus::Running => self.status_running,
            JobStatus::AwaitingApproval => self.status_awaiting_approval,
            JobStatus::Approved => self.status_approved,
            JobStatus::Rejected => self.status_rejected,
            JobStatus::Done => self.status_done,
            JobStatus::Failed => self.status_failed,
            JobStatus::Cancelled => self.status_cancelled,
            JobStatus::Unknown(_) => self.status_unknown,
        }
    }

    pub fn border(&self, focused: bool) -> Style {
        if focused { self.border_focused } else { self.border }
    }
}

impl RoleSpec {
    fn to_style(&self) -> Result<Style, String> {
        let color = |s: &Option<String>| -> Result<Option<Color>, String> {
            s.as_deref().map(|c| c.parse::<Color>().map_err(|_| format!("{c:?} is not a colour"))).transpose()
        };
        let mut style = Style::default();
        if let Some(fg) = color(&self.fg)? {
            style = style.fg(fg);
        }
        if let Some(bg) = color(&self.bg)? {
            style = style.bg(bg);
        }
        for m in &self.modifiers {
            style = style.add_modifier(match m.as_str() {
                "bold" => Modifier::BOLD,
                "dim" => Modifier::DIM,
                "italic" => Modifier::ITALIC,
                "underlined" => Modifier::UNDERLINED,
                "reversed" => Modifier::REVERSED,
                other => return Err(format!("{other:?} is not a modifier")),
            });
        }
        Ok(style)
    }
}

/// The themes there are: the built-in ones, then the user's (`<name>.toml` in [`user_dir`]).
pub fn names() -> Vec<String> {
    let mut names: Vec<String> = BUILT_IN.iter().map(|(n, _)| n.to_string()).collect();
    let mut own: Vec<String> = user_dir()
        .and_then(|d| std::fs::read_dir(d).ok())
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.strip_suffix(".toml").map(String::from))
        .filter(|n| !names.contains(n))
        .collect();
    own.sort();
    names.extend(own);
    names
}

/// Where user themes live.
pub fn user_dir() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("mcptop").join("themes"))
}

/// The theme to use: `NO_COLOR` (set and not empty) means mono unless a theme was asked for
/// explicitly on the command line.
pub fn choose(configured: &str, explicit_flag: bool) -> &str {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    if no_color && !explicit_flag { "mono" } else { configured }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_theme_loads_and_sets_every_role() {
        for (name, text) in BUILT_IN {
            let theme = Theme::load(name).map_err(|e| e.to_string());
            assert!(theme.is_ok(), "{theme:?}");
            let file: Result<ThemeFile, _> = toml::from_str(text);
            assert_eq!(file.map(|f| f.roles.len()).ok(), Some(30), "{name} names every role");
        }
    }

    #[test]
    fn mono_has_no_colours() {
        let mono = Theme::built_in("mono");
        for style in [mono.error, mono.ok, mono.severity_critical, mono.selected, mono.header, mono.alarm] {
            assert!(matches!(style.fg, None | Some(Color::Reset)));
            assert!(matches!(style.bg, None | Some(Color::Reset)));
        }
    }

    #[test]
    fn bad_themes_name_the_problem() {
        let mut t = Theme::default();
        assert!(t.apply("[roles]\nnope = { fg = \"red\" }").err().is_some_and(|e| e.contains("nope")));
        assert!(t.apply("[roles]\nok = { fg = \"chartreuse-ish\" }").err().is_some_and(|e| e.contains("ok")));
        assert!(Theme::load("no-such-theme").is_err());
    }
}
