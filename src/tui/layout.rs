//! Where each pane goes, as a pure function of the terminal size, so `update` can know how many
//! job rows are visible without rendering.

use ratatui::layout::{Constraint, Direction, Layout, Rect};

use super::app::PaneId;

/// Widths from which the dashboard is a grid: the main panes and a side column. Narrower, the
/// focused pane has the body, above a one-line summary of the others.
pub const WIDE: u16 = 120;
/// Rows of the Queue pane's body besides one per queue: the status bar and its legend.
const QUEUE_EXTRA_ROWS: u16 = 2;

/// Screen regions of one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Areas {
    pub header: Rect,
    pub body: Rect,
    pub footer: Rect,
    pub panes: Vec<(PaneId, Rect)>,
    /// The one-line summary of the panes not shown (narrow terminals).
    pub strip: Option<Rect>,
    /// The AI pipeline's line under the header, when the pipeline is configured.
    pub ai: Option<Rect>,
}

impl Areas {
    pub fn pane(&self, id: PaneId) -> Option<Rect> {
        self.panes.iter().find(|(p, _)| *p == id).map(|(_, r)| *r)
    }
}

/// Lay out the dashboard. `zoomed` gives one pane the whole body; `focus` is the pane a narrow
/// terminal shows; `queues` is how many queue lines the Queue pane needs; `ai` whether the AI
/// pipeline's line takes the row under the header (not when zoomed).
pub fn compute(area: Rect, zoomed: Option<PaneId>, focus: PaneId, queues: usize, ai: bool) -> Areas {
    let [header, body, footer] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(0), Constraint::Length(1)]).areas(area);
    let mut panes = Vec::new();
    if let Some(p) = zoomed {
        panes.push((p, body));
        return Areas { header, body, footer, panes, strip: None, ai: None };
    }
    let (ai, body) = if ai && body.height > 4 {
        let [line, rest] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(body);
        (Some(line), rest)
    } else {
        (None, body)
    };
    if area.width < WIDE {
        let [main, strip] = Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(body);
        panes.push((focus, main));
        return Areas { header, body, footer, panes, strip: Some(strip), ai };
    }
    let queue_h = 2 + queues.clamp(1, 6) as u16 + QUEUE_EXTRA_ROWS;
    let side = [PaneId::Health, PaneId::Alerts, PaneId::Rag, PaneId::Approvals, PaneId::Backups];
    let [main, right] = Layout::horizontal([Constraint::Percentage(62), Constraint::Percentage(38)]).areas(body);
    let [q, j] = Layout::vertical([Constraint::Length(queue_h), Constraint::Min(3)]).areas(main);
    panes.push((PaneId::Queue, q));
    panes.push((PaneId::Jobs, j));
    let rows = Layout::default().direction(Direction::Vertical).constraints([Constraint::Ratio(1, 5); 5]).split(right);
    panes.extend(side.iter().copied().zip(rows.iter().copied()));
    Areas { header, body, footer, panes, strip: None, ai }
}

/// Visible job rows for a terminal size: the Jobs pane less its border and column header (on a
/// narrow terminal, as it is when focused, so the window is ready when it shows).
pub fn jobs_rows(size: (u16, u16), zoomed: bool, queues: usize, ai: bool) -> usize {
    let area = Rect::new(0, 0, size.0, size.1);
    let areas = compute(area, zoomed.then_some(PaneId::Jobs), PaneId::Jobs, queues, ai);
    areas.pane(PaneId::Jobs).map(|r| r.height.saturating_sub(3) as usize).unwrap_or(1).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grid_when_wide_and_the_focused_pane_with_a_summary_when_narrow() {
        for (w, h) in [(120, 40), (160, 48), (250, 70)] {
            let a = compute(Rect::new(0, 0, w, h), None, PaneId::Jobs, 2, false);
            assert_eq!((a.panes.len(), a.strip), (7, None));
            assert!(a.panes.iter().all(|(_, r)| r.height >= 3 && r.width >= 10), "{w}x{h}: {a:?}");
        }
        let a = compute(Rect::new(0, 0, 80, 24), None, PaneId::Alerts, 2, false);
        assert_eq!(a.panes, vec![(PaneId::Alerts, Rect::new(0, 1, 80, 21))]);
        assert_eq!(a.strip, Some(Rect::new(0, 22, 80, 1)));
        assert_eq!(jobs_rows((80, 24), false, 2, false), 18);
        assert_eq!(jobs_rows((80, 24), true, 2, false), 19);
    }

    #[test]
    fn tiny_terminals_do_not_panic() {
        for (w, h) in [(0, 0), (1, 1), (10, 3), (20, 5)] {
            let a = compute(Rect::new(0, 0, w, h), None, PaneId::Queue, 3, false);
            assert_eq!(a.panes.len(), 1);
        }
    }
}
