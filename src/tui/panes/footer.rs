//! The bottom line: key hints for the current mode, and the filter being typed.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::RenderCtx;
use crate::tui::app::{App, Mode};
use crate::tui::keymap::Action;

pub fn render(f: &mut Frame, area: Rect, ctx: &RenderCtx<'_>, app: &App) {
    let t = ctx.theme;
    let input = match app.mode {
        Mode::Filter => Some((" filter: ", &app.inputs.filter)),
        Mode::RagQuery => Some((" search KB: ", &app.inputs.query)),
        _ => None,
    };
    if let Some((label, text)) = input {
        let [label_area, input_area] = ratatui::layout::Layout::horizontal([
            ratatui::layout::Constraint::Length(label.chars().count() as u16),
            ratatui::layout::Constraint::Min(1),
        ])
        .areas(area);
        f.render_widget(Paragraph::new(Span::styled(label, t.key)), label_area);
        f.render_widget(text, input_area);
        return;
    }
    if let Some(toast) = app.toast.as_ref().filter(|t| (ctx.now - t.at).num_seconds() < 8) {
        let style = if toast.ok { t.ok } else { t.error };
        let text = format!(" {}", crate::domain::text::clean_line(&toast.text));
        f.render_widget(Paragraph::new(Span::styled(text, style)), area);
        return;
    }
    let hints = hints(app);
    let mut spans = Vec::new();
    for (action, label) in hints {
        spans.push(Span::styled(format!(" {} ", app.keymap.first_key(*action)), t.key));
        spans.push(Span::styled(format!("{label} "), t.muted));
    }
    if !app.jobs.view.filter().is_empty() {
        spans.push(Span::styled(
            format!(" filter: {} ", crate::domain::text::clean_line(app.jobs.view.filter())),
            t.warn,
        ));
    }
    if app.jobs.view.failures_only() {
        spans.push(Span::styled(" failures only ", t.warn));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The key hints for what has focus.
fn hints(app: &App) -> &'static [(Action, &'static str)] {
    let alerts_focused = app.focus == crate::tui::app::PaneId::Alerts && app.ops.configured.alerts;
    let rag_focused = app.focus == crate::tui::app::PaneId::Rag;
    match app.mode {
        Mode::Detail => {
            &[(Action::Back, "back"), (Action::Down, "scroll"), (Action::Help, "help"), (Action::Quit, "quit")]
        }
        _ if rag_focused => &[
            (Action::Quit, "quit"),
            (Action::Help, "help"),
            (Action::SearchKb, "search KB"),
            (Action::Open, "full text"),
            (Action::Zoom, "zoom"),
            (Action::NextPane, "pane"),
        ],
        _ if alerts_focused && !app.read_only => &[
            (Action::Quit, "quit"),
            (Action::Help, "help"),
            (Action::Filter, "filter"),
            (Action::Open, "details"),
            (Action::Silence, "silence"),
            (Action::Ack, "ack"),
            (Action::Expire, "expire"),
            (Action::NextPane, "pane"),
        ],
        _ => &[
            (Action::Quit, "quit"),
            (Action::Help, "help"),
            (Action::Filter, "filter"),
            (Action::ToggleFailures, "failures"),
            (Action::Open, "details"),
            (Action::Zoom, "zoom"),
            (Action::NextPane, "pane"),
        ],
    }
}
