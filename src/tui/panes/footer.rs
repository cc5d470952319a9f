//! The bottom line: key hints for the current mode, and the filter being typed.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::RenderCtx;
use crate::tui::app::{App, Mode};
use crate::tui::keymap::Action;
use unicode_width::UnicodeWidthStr;

pub fn render(f: &mut Frame, area: Rect, ctx: &RenderCtx<'_>, app: &App) {
    let t = ctx.theme;
    let input = match app.mode {
        Mode::Filter => Some((" filter: ", &app.inputs.filter)),
        Mode::RagQuery => Some((" search KB: ", &app.inputs.query)),
        Mode::Command => Some((" :", &app.inputs.command)),
        Mode::LogFilter => Some((" filter log (regex): ", &app.inputs.filter)),
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
    // What narrows the list comes first, so it shows however narrow the terminal.
    let mut spans = Vec::new();
    if !app.jobs.view.filter().is_empty() {
        spans.push(Span::styled(
            format!(" filter: {} ", crate::domain::text::clean_line(app.jobs.view.filter())),
            t.warn,
        ));
    }
    if app.jobs.view.failures_only() {
        spans.push(Span::styled(" failures only ", t.warn));
    }
    if let Some(why) = app.refusal.filter(|_| hints.iter().any(|(a, _)| ACTING.contains(a))) {
        spans.push(Span::styled(format!(" actions refused: {why} "), t.warn));
    }
    for (action, label) in hints {
        // Refused actions stay in view, greyed; the reason is said once, above.
        let refused = app.refusal.is_some() && ACTING.contains(action);
        let key_style = if refused { t.muted } else { t.key };
        let key = match app.keymap.first_key_in(crate::tui::keymap::KeyMode::Logs, *action) {
            k if app.mode == Mode::Logs && !k.is_empty() => k,
            _ => app.keymap.first_key(*action),
        };
        // A hint shows whole or not at all: `n analy` would say nothing.
        let (key, label) = (format!(" {key} "), format!("{label} "));
        let used: usize = spans.iter().map(Span::width).sum();
        if used + key.width() + label.width() > area.width as usize {
            break;
        }
        spans.push(Span::styled(key, key_style));
        spans.push(Span::styled(label, t.muted));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// Actions that change something: greyed out when refused.
const ACTING: [Action; 9] = [
    Action::Silence,
    Action::Ack,
    Action::Expire,
    Action::Analyze,
    Action::Approve,
    Action::Reject,
    Action::EditDraft,
    Action::Retry,
    Action::CancelJob,
];

/// The key hints for what has focus.
fn hints(app: &App) -> &'static [(Action, &'static str)] {
    let alerts_focused = app.focus == crate::tui::app::PaneId::Alerts && app.ops.configured.alerts;
    let rag_focused = app.focus == crate::tui::app::PaneId::Rag;
    let approvals_focused = app.focus == crate::tui::app::PaneId::Approvals && app.jobs.configured;
    let jobs_focused = app.focus == crate::tui::app::PaneId::Jobs && app.jobs.configured;
    let backups_focused = app.focus == crate::tui::app::PaneId::Backups && app.backups.configured;
    match app.mode {
        Mode::Audit if app.audit.detail.is_some() => &[(Action::Back, "back to the list"), (Action::Down, "scroll")],
        Mode::Audit => &[
            (Action::Open, "the record in full"),
            (Action::Back, "back"),
            (Action::Filter, "filter"),
            (Action::Down, "move"),
            (Action::Quit, "quit"),
        ],
        Mode::Logs => &[
            (Action::Back, "back"),
            (Action::Filter, "filter"),
            (Action::NextMatch, "next match"),
            (Action::ToggleTimestamps, "timestamps"),
            (Action::ToggleWrap, "wrap"),
            (Action::Bottom, "follow"),
            (Action::Yank, "copy name"),
        ],
        Mode::Fleet => {
            &[(Action::Open, "switch to it"), (Action::Back, "back"), (Action::Down, "move"), (Action::Quit, "quit")]
        }
        Mode::Errors => {
            &[(Action::Back, "back"), (Action::Down, "move"), (Action::Command, "command"), (Action::Quit, "quit")]
        }
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
        _ if approvals_focused => &[
            (Action::Quit, "quit"),
            (Action::Help, "help"),
            (Action::Approve, "approve"),
            (Action::EditDraft, "edit+approve"),
            (Action::Reject, "reject"),
            (Action::Analyze, "re-analyse"),
            (Action::Zoom, "zoom"),
            (Action::Audit, "audit"),
        ],
        // Read-only mode allows a backup (it only reads the platform): said where it is pressed.
        _ if backups_focused && app.refusal.is_some() => &[
            (Action::Quit, "quit"),
            (Action::Help, "help"),
            (Action::RunBackup, "back up (read-only allows it: it only reads)"),
            (Action::VerifyBackup, "verify"),
            (Action::Audit, "audit"),
        ],
        _ if backups_focused => &[
            (Action::Quit, "quit"),
            (Action::Help, "help"),
            (Action::RunBackup, "back up now"),
            (Action::VerifyBackup, "verify"),
            (Action::Zoom, "zoom"),
            (Action::Audit, "audit"),
        ],
        _ if jobs_focused => &[
            (Action::Quit, "quit"),
            (Action::Help, "help"),
            (Action::Filter, "filter"),
            (Action::Open, "details"),
            (Action::Mark, "mark"),
            (Action::Retry, "retry"),
            (Action::CancelJob, "cancel"),
            (Action::Analyze, "analyse"),
            (Action::Audit, "audit"),
        ],
        _ if alerts_focused => &[
            (Action::Quit, "quit"),
            (Action::Help, "help"),
            (Action::Filter, "filter"),
            (Action::Open, "details"),
            (Action::Silence, "silence"),
            (Action::Ack, "ack"),
            (Action::Expire, "expire"),
            (Action::Analyze, "analyse"),
        ],
        _ => &[
            (Action::Quit, "quit"),
            (Action::Help, "help"),
            (Action::Command, "command"),
            (Action::Filter, "filter"),
            (Action::ToggleFailures, "failures"),
            (Action::Open, "details"),
            (Action::Zoom, "zoom"),
            (Action::NextPane, "pane"),
        ],
    }
}
