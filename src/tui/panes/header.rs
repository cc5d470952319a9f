//! The top line: program, context, DEMO and READ-ONLY badges, push status, and the clock.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::RenderCtx;
use crate::domain::facts::ContextFacts;
use crate::domain::text::clean_line;
use crate::tui::app::App;

pub fn render(f: &mut Frame, area: Rect, ctx: &RenderCtx<'_>, app: &App, facts: &ContextFacts) {
    let t = ctx.theme;
    let mut left = vec![
        Span::styled(" mcptop ", t.title.patch(t.header)),
        Span::styled(format!(" {} ", clean_line(&app.context)), t.context),
        Span::styled(" ", t.header),
    ];
    if app.production {
        left.push(Span::styled(" PRODUCTION ", t.alarm));
        left.push(Span::styled(" ", t.header));
    }
    if app.demo {
        left.push(Span::styled(" DEMO ", t.badge));
        left.push(Span::styled(" ", t.header));
    }
    if app.read_only {
        left.push(Span::styled(" READ-ONLY ", t.badge));
        left.push(Span::styled(" ", t.header));
    }
    if let Some(n) = facts.awaiting_approval.filter(|n| *n > 0) {
        left.push(Span::styled(format!(" ⚑ {n} awaiting approval "), t.badge));
        left.push(Span::styled(" ", t.header));
    }
    let (mark, label, style) =
        if app.jobs.events.connected { ("●", "live", t.ok) } else { ("○", "polling", t.warn) };
    left.push(Span::styled(format!("{mark} {label}"), style.patch(t.header).fg(style.fg.unwrap_or_default())));
    let clock = ctx.now.format("%Y-%m-%d %H:%M:%S UTC ").to_string();
    let used: usize = left.iter().map(|s| s.width()).sum();
    let pad = (area.width as usize).saturating_sub(used + clock.len());
    left.push(Span::styled(" ".repeat(pad), t.header));
    left.push(Span::styled(clock, t.header));
    f.render_widget(Paragraph::new(Line::from(left)).style(t.header), area);
}
