//! Detail views of one alert (labels, annotations, generator URL, silences, sources) and one
//! container (health-check history, failing streak, restarts, uptime).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::RenderCtx;
use crate::tui::loadable::age;
use crate::tui::ops_state::{OpsDetail, OpsState};

pub fn render(f: &mut Frame, area: Rect, ctx: &RenderCtx<'_>, ops: &OpsState, detail: &OpsDetail, scroll: u16) {
    let t = ctx.theme;
    let kv = |k: &str, v: &str| -> Vec<Line<'static>> {
        v.split('\n')
            .enumerate()
            .map(|(i, part)| {
                let label = if i == 0 { format!("{k:>16}: ") } else { " ".repeat(18) };
                Line::from(vec![Span::styled(label, t.muted), Span::styled(part.to_string(), t.text)])
            })
            .collect()
    };
    let section = |name: &str| Line::styled(format!("── {name} "), t.title);
    let mut lines: Vec<Line> = Vec::new();
    let title = match detail {
        OpsDetail::Alert(fp) => {
            match ops.alerts.data.as_ref().and_then(|s| s.alerts.iter().find(|a| &a.fingerprint == fp)) {
                None => lines.push(Line::styled("this alert is no longer firing", t.warn)),
                Some(a) => {
                    lines.extend(kv("state", &format!("{:?}", a.state).to_lowercase()));
                    lines.extend(kv("severity", a.severity().as_str()));
                    let since = a.starts_at.map(|s| format!("{s} ({} ago)", age((ctx.now - s).num_seconds())));
                    lines.extend(kv("since", since.as_deref().unwrap_or("unknown")));
                    lines.extend(kv("from", &a.sources.join(", ")));
                    if !a.silenced_by.is_empty() {
                        lines.extend(kv("silenced by", &a.silenced_by.join(", ")));
                    }
                    if !a.inhibited_by.is_empty() {
                        lines.extend(kv("inhibited by", &a.inhibited_by.join(", ")));
                    }
                    lines.extend(kv("generator", a.generator_url.as_deref().unwrap_or("unknown")));
                    lines.push(section("Labels"));
                    for (k, v) in &a.labels {
                        lines.extend(kv(k, v));
                    }
                    lines.push(section("Annotations"));
                    // The summary first and the (possibly long) description last.
                    let rank = |k: &str| match k {
                        "summary" => 0,
                        "description" => 2,
                        _ => 1,
                    };
                    let mut annotations: Vec<_> = a.annotations.iter().collect();
                    annotations.sort_by_key(|(k, _)| rank(k));
                    for (k, v) in annotations {
                        lines.extend(kv(k, v));
                    }
                }
            }
            format!(" Alert {fp} ")
        }
        OpsDetail::Container(id) => {
            match ops.containers.data.as_ref().and_then(|c| c.iter().find(|c| &c.id == id)) {
                None => lines.push(Line::styled("this container no longer exists", t.warn)),
                Some(c) => {
                    lines.extend(kv("name", &c.name));
                    lines.extend(kv("image", &c.image));
                    lines.extend(kv("state", &c.state));
                    lines.extend(kv("health", c.health.as_str()));
                    lines.extend(kv(
                        "failing streak",
                        &c.failing_streak.map(|n| n.to_string()).unwrap_or_else(|| "-".into()),
                    ));
                    lines
                        .extend(kv("restarts", &c.restarts.map(|n| n.to_string()).unwrap_or_else(|| "unknown".into())));
                    let up = c.started_at.map(|s| format!("{s} (up {})", age((ctx.now - s).num_seconds())));
                    lines.extend(kv("started", up.as_deref().unwrap_or("-")));
                    lines.push(section("Last health checks (oldest first)"));
                    if c.checks.is_empty() {
                        lines.push(Line::styled("none recorded", t.muted));
                    }
                    for run in &c.checks {
                        let at =
                            run.at.map(|a| format!("{} ago", age((ctx.now - a).num_seconds()))).unwrap_or_default();
                        let code = run.exit_code.map(|c| c.to_string()).unwrap_or_else(|| "?".into());
                        let style = if run.exit_code == Some(0) { t.ok } else { t.error };
                        lines.push(Line::from(vec![
                            Span::styled(format!("exit {code:>3} "), style),
                            Span::styled(at, t.muted),
                        ]));
                        for l in run.output.lines().take(20) {
                            lines.push(Line::styled(format!("    {l}"), t.text));
                        }
                    }
                }
            }
            format!(" Container {id} ")
        }
    };
    let block =
        Block::default().borders(Borders::ALL).border_style(t.border_focused).title(Span::styled(title, t.title));
    f.render_widget(Paragraph::new(lines).block(block).wrap(Wrap { trim: false }).scroll((scroll, 0)), area);
}
