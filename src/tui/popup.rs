//! Popups over the dashboard: the confirmation every action passes through (naming its
//! target), and the silence form (matchers prefilled from the alert's labels, a duration, a
//! required comment), built on ratatui-textarea.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui_textarea::TextArea;

use super::forms::Form;
use super::keymap::{Action, KeyMap, KeyMode};
use super::panes::{RenderCtx, centered};
use crate::actions::ActionRequest;
use crate::actions::silence::{matcher_text, parse_duration, parse_matcher};
use crate::clients::alertmanager::Matcher;

/// What a key did to a popup.
#[derive(Debug, Clone, PartialEq)]
pub enum PopupOutcome {
    Stay,
    Close,
    /// Replace this popup with a confirmation of the requests.
    Confirm(Vec<ActionRequest>),
    /// Confirmed: run them, each on its own.
    Run(Vec<ActionRequest>),
}

pub struct SilenceForm {
    pub fields: [TextArea<'static>; 3],
    pub focus: usize,
    pub error: Option<String>,
    pub alertmanagers: Vec<String>,
    pub target: String,
}

pub enum Popup {
    /// What will run, and the line that names it (the count and the filter, for many jobs);
    /// `back` is the form it came from, shown again when it is cancelled.
    Confirm {
        requests: Vec<ActionRequest>,
        summary: String,
        back: Option<Box<Popup>>,
    },
    Silence(Box<SilenceForm>),
    Form(Box<Form>),
}

impl Popup {
    /// Say something on a form (a confirmation has nowhere to say it).
    pub fn set_error(&mut self, text: String) {
        match self {
            Popup::Silence(f) => f.error = Some(text),
            Popup::Form(f) => f.error = Some(text),
            Popup::Confirm { .. } => {}
        }
    }

    /// A confirmation of one request, naming its target.
    pub fn confirm(request: ActionRequest) -> Popup {
        Popup::Confirm { summary: request.describe(), requests: vec![request], back: None }
    }
}

const LABELS: [&str; 3] = ["matchers (one per line)", "duration", "comment (required)"];

impl SilenceForm {
    pub fn new(matchers: &[Matcher], alertmanagers: Vec<String>, target: String) -> Self {
        let lines: Vec<String> = matchers.iter().map(matcher_text).collect();
        let mut fields = [TextArea::new(lines), TextArea::new(vec!["2h".into()]), TextArea::default()];
        for f in &mut fields {
            f.move_cursor(ratatui_textarea::CursorMove::Bottom);
            f.move_cursor(ratatui_textarea::CursorMove::End);
        }
        SilenceForm { fields, focus: 2, error: None, alertmanagers, target }
    }

    fn submit(&mut self) -> PopupOutcome {
        let matchers: Result<Vec<Matcher>, String> =
            self.fields[0].lines().iter().filter(|l| !l.trim().is_empty()).map(|l| parse_matcher(l)).collect();
        let result = matchers.and_then(|m| {
            if m.is_empty() {
                return Err("at least one matcher".into());
            }
            let duration_s = parse_duration(self.fields[1].lines().join("").trim())?;
            let comment = self.fields[2].lines().join(" ").trim().to_string();
            if comment.is_empty() {
                return Err("a comment is required: say why".into());
            }
            let request = ActionRequest::SilenceAdd {
                matchers: m,
                duration_s,
                comment,
                alertmanagers: self.alertmanagers.clone(),
            };
            // The action layer's own rule, said here before the confirmation.
            request.validate()?;
            Ok(request)
        });
        match result {
            Ok(req) => PopupOutcome::Confirm(vec![req]),
            Err(e) => {
                self.error = Some(e);
                PopupOutcome::Stay
            }
        }
    }

    fn on_key(&mut self, key: KeyEvent, action: Option<Action>) -> PopupOutcome {
        match action {
            Some(Action::Cancel) => PopupOutcome::Close,
            Some(Action::NextField) => {
                self.focus = (self.focus + 1) % 3;
                PopupOutcome::Stay
            }
            Some(Action::PrevField) => {
                self.focus = (self.focus + 2) % 3;
                PopupOutcome::Stay
            }
            // Enter adds a line in the matchers field; everywhere else it submits.
            Some(Action::Submit) if !(key.code == KeyCode::Enter && self.focus == 0) => self.submit(),
            _ => {
                self.error = None;
                self.fields[self.focus].input(key);
                PopupOutcome::Stay
            }
        }
    }
}

impl Popup {
    /// The key bindings that apply while this popup is open.
    pub fn key_mode(&self) -> KeyMode {
        match self {
            Popup::Confirm { .. } => KeyMode::Confirm,
            Popup::Silence(_) | Popup::Form(_) => KeyMode::Form,
        }
    }

    pub fn on_key(&mut self, key: KeyEvent, keymap: &KeyMap) -> PopupOutcome {
        let action = keymap.action_in(self.key_mode(), &key);
        match self {
            Popup::Confirm { requests, .. } => match action {
                Some(Action::Confirm) => PopupOutcome::Run(requests.clone()),
                // Anything else cancels: a stray key never confirms.
                _ => PopupOutcome::Close,
            },
            Popup::Silence(form) => form.on_key(key, action),
            Popup::Form(form) => form.on_key(key, action),
        }
    }

    /// Draw it; a confirmation names the context (`context`), in the alarm role on production.
    pub fn render(&self, f: &mut Frame, area: Rect, ctx: &RenderCtx<'_>, context: &str, production: bool) {
        let t = ctx.theme;
        match self {
            Popup::Form(form) => form.render(f, area, ctx),
            Popup::Confirm { requests, summary, .. } => {
                let mut text: Vec<Line> =
                    summary.split('\n').map(|l| Line::styled(crate::domain::text::clean_line(l), t.text)).collect();
                if requests.len() > 1 {
                    text.push(Line::styled(
                        format!("each of the {} is decided and recorded on its own", requests.len()),
                        t.muted,
                    ));
                }
                text.extend([
                    Line::raw(""),
                    Line::from(vec![
                        Span::styled(format!(" {} ", key(ctx, KeyMode::Confirm, Action::Confirm, "y")), t.key),
                        Span::styled("confirm   ", t.muted),
                        Span::styled(" any other key ", t.key),
                        Span::styled("cancel", t.muted),
                    ]),
                ]);
                let height = (text.len() as u16 + 4).min(area.height);
                let popup = centered(area, 90.min(area.width), height);
                f.render_widget(Clear, popup);
                let (label, style) = if production {
                    (format!(" Confirm on PRODUCTION context {} ", crate::domain::text::clean_line(context)), t.alarm)
                } else {
                    (format!(" Confirm on context {} ", crate::domain::text::clean_line(context)), t.warn)
                };
                let block =
                    Block::default().borders(Borders::ALL).border_style(style).title(Span::styled(label, style));
                f.render_widget(Paragraph::new(text).block(block).wrap(Wrap { trim: false }), popup);
            }
            Popup::Silence(form) => {
                let width = 76.min(area.width);
                let hint_rows = super::forms::hint_rows(form.error.as_deref(), width.saturating_sub(2));
                let popup = centered(area, width, (17 + hint_rows).min(area.height));
                f.render_widget(Clear, popup);
                let block = Block::default().borders(Borders::ALL).border_style(t.border_focused).title(Span::styled(
                    format!(" Silence {} ", crate::domain::text::clean_line(&form.target)),
                    t.title,
                ));
                let inner = block.inner(popup);
                f.render_widget(block, popup);
                let [m, d, c, hint] = Layout::vertical([
                    Constraint::Min(4),
                    Constraint::Length(3),
                    Constraint::Length(3),
                    Constraint::Length(hint_rows),
                ])
                .areas(inner);
                for (i, rect) in [m, d, c].into_iter().enumerate() {
                    let style: Style = if form.focus == i { t.border_focused } else { t.border };
                    let mut field = form.fields[i].clone();
                    field.set_block(Block::default().borders(Borders::ALL).border_style(style).title(LABELS[i]));
                    field.set_cursor_line_style(Style::default());
                    f.render_widget(&field, rect);
                }
                let hint_line = match &form.error {
                    Some(e) => Line::styled(format!("✗ {}", crate::domain::text::clean_line(e)), t.error),
                    None => Line::styled(
                        format!(
                            "{} next field · {} continue · {} cancel",
                            key(ctx, KeyMode::Form, Action::NextField, "tab"),
                            ctx.keys.map(|k| k.keys_in(KeyMode::Form, Action::Submit)).unwrap_or_default(),
                            key(ctx, KeyMode::Form, Action::Cancel, "esc"),
                        ),
                        t.muted,
                    ),
                };
                f.render_widget(Paragraph::new(hint_line).wrap(Wrap { trim: false }), hint);
            }
        }
    }
}

/// The first key of an action in a mode, from the render context's key map.
fn key<'a>(ctx: &'a RenderCtx<'_>, mode: KeyMode, action: Action, default: &'a str) -> &'a str {
    ctx.keys.map(|k| k.first_key_in(mode, action)).filter(|k| !k.is_empty()).unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn the_form_needs_a_comment_then_asks_for_confirmation() {
        let m = vec![Matcher { name: "alertname".into(), value: "DiskFull".into(), is_regex: false, is_equal: true }];
        let mut p = Popup::Silence(Box::new(SilenceForm::new(&m, vec!["am-a".into()], "DiskFull on db-01".into())));
        let km = KeyMap::default();
        assert_eq!(p.on_key(key(KeyCode::Enter), &km), PopupOutcome::Stay);
        let Popup::Silence(form) = &p else { panic!("a form") };
        assert!(form.error.as_deref().is_some_and(|e| e.contains("comment")));
        for c in "resize".chars() {
            p.on_key(key(KeyCode::Char(c)), &km);
        }
        match p.on_key(key(KeyCode::Enter), &km) {
            PopupOutcome::Confirm(reqs) if matches!(reqs.as_slice(), [ActionRequest::SilenceAdd { .. }]) => {
                let [ActionRequest::SilenceAdd { matchers, duration_s, comment, alertmanagers }] = reqs.as_slice()
                else {
                    unreachable!()
                };
                let (matchers, duration_s, comment, alertmanagers) =
                    (matchers.clone(), *duration_s, comment.clone(), alertmanagers.clone());
                assert_eq!((matchers, duration_s, comment.as_str()), (m, 7200, "resize"));
                assert_eq!(alertmanagers, ["am-a"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn only_y_confirms() {
        let req = ActionRequest::SilenceExpire { id: "s1".into(), alertmanagers: vec![] };
        let mut p = Popup::confirm(req.clone());
        let km = KeyMap::default();
        assert_eq!(p.on_key(key(KeyCode::Enter), &km), PopupOutcome::Close);
        assert_eq!(p.on_key(key(KeyCode::Char('y')), &km), PopupOutcome::Run(vec![req]));
    }
}
