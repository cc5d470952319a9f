//! Panes that later features fill: they say "not configured", never stay blank.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use super::{RenderCtx, pane_block};
use crate::tui::app::PaneId;

pub fn render(f: &mut Frame, area: Rect, ctx: &RenderCtx<'_>, pane: PaneId, focused: bool) {
    let block = pane_block::<()>(ctx, pane, focused, None, "");
    let text = Line::styled("not configured", ctx.theme.muted);
    f.render_widget(Paragraph::new(text).block(block), area);
}
