//! Draw one frame from the state: header, panes (or the detail view), footer, overlays.

use ratatui::Frame;

use super::app::{App, Mode, PaneId};
use super::layout;
use super::panes::{self, RenderCtx};

pub fn draw(f: &mut Frame, app: &App, ctx: &RenderCtx<'_>) {
    // Every count shown twice or more in this frame comes from here.
    let facts = app.facts(ctx.ages_at);
    let zoomed = app.zoomed.then_some(app.focus);
    let areas = layout::compute(f.area(), zoomed, app.focus, app.jobs.queue_slots, app.ops.configured.pipeline);
    panes::header::render(f, areas.header, ctx, app, &facts);
    panes::footer::render(f, areas.footer, ctx, app);
    if let Some(line) = areas.ai {
        panes::pipeline::render(f, line, ctx, &app.ops.pipeline, &facts);
    }
    let in_detail = matches!(app.mode, Mode::Detail | Mode::Help);
    if let (Some((detail, scroll)), true) = (&app.ops.detail, in_detail) {
        panes::ops_detail::render(f, areas.body, ctx, &app.ops, detail, *scroll);
    } else if let (Some(view), true) = (&app.jobs.detail, in_detail) {
        panes::detail::render(f, areas.body, ctx, view);
    } else {
        for (pane, area) in &areas.panes {
            let focused = *pane == app.focus;
            match pane {
                PaneId::Queue if app.jobs.configured => panes::queue::render(f, *area, ctx, &app.jobs, focused),
                PaneId::Jobs if app.jobs.configured => panes::jobs::render(f, *area, ctx, &app.jobs, focused),
                PaneId::Health if health_configured(app) => {
                    panes::health::render(f, *area, ctx, &app.ops, &facts, focused)
                }
                PaneId::Alerts if app.ops.configured.alerts => panes::alerts::render(f, *area, ctx, &app.ops, focused),
                PaneId::Rag if app.rag.searchable || app.jobs.configured => {
                    panes::rag::render(f, *area, ctx, &app.rag, focused)
                }
                PaneId::Backups if app.backups.configured => {
                    panes::backups::render(f, *area, ctx, &app.backups, &facts, focused)
                }
                PaneId::Approvals if app.jobs.configured => {
                    panes::approvals::render(f, *area, ctx, &app.approvals, &facts, focused, app.refusal)
                }
                other => panes::placeholder::render(f, *area, ctx, *other, focused),
            }
        }
    }
    let detail_shown = in_detail && (app.ops.detail.is_some() || app.jobs.detail.is_some());
    if let (Some(strip), false) = (areas.strip, detail_shown) {
        panes::summary::render(f, strip, ctx, app, &facts);
    }
    let audit_open = app.mode == Mode::Audit || (app.mode == Mode::Filter && app.inputs.filter_target.is_none());
    if audit_open {
        panes::audit::render(f, areas.body, ctx, &app.audit, &app.audit_location);
    }
    if let (Some(v), Mode::Logs | Mode::LogFilter) = (&app.logs, app.mode) {
        panes::logs::render(f, areas.body, ctx, v);
    }
    if app.mode == Mode::Fleet {
        panes::fleet::render(f, areas.body, ctx, app, &facts);
    }
    if app.mode == Mode::Errors {
        panes::errors::render(f, areas.body, ctx, &app.errors);
    }
    if app.mode == Mode::Command {
        panes::command::render(f, areas.body, ctx, app);
    }
    if app.mode == Mode::Help {
        panes::help::render(f, areas.body, ctx, &app.keymap, app.help_scroll);
    }
    if let Some(popup) = &app.popup {
        popup.render(f, areas.body, ctx, &app.context, app.production);
    }
    panes::scrub(f.buffer_mut());
}

fn health_configured(app: &App) -> bool {
    let c = app.ops.configured;
    c.containers || c.services || c.targets
}
