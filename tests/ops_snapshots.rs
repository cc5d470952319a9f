//! Snapshots, with a fixed clock and the seeded demo platform, of the Health and Alerts panes
//! (loading, ready, failed with stale data, empty) at 80×24 and 160×48, their detail views, the
//! silence form and the confirmation.
#![allow(clippy::disallowed_macros)] // a test or bench reports on its own terminal

use chrono::{DateTime, Duration, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use mcptop::clients::SourceError;
use mcptop::demo::DemoPlatform;
use mcptop::domain::AlertsSnapshot;
use mcptop::runtime::{Feed, SourceMsg};
use mcptop::sources::{OpsConfigured, OpsSource};
use mcptop::tui::app::{App, Msg, PaneId};
use mcptop::tui::keymap::KeyMap;
use mcptop::tui::ops_state::OpsState;
use mcptop::tui::theme::Theme;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 3, 0, 0).single().expect("valid time")
}

const ALL: OpsConfigured =
    OpsConfigured { containers: true, services: true, targets: true, alerts: true, pipeline: false };

fn app(w: u16, h: u16) -> App {
    let mut app = App::new("production", "", KeyMap::default(), t0());
    app.jobs.configured = false;
    app.ops = OpsState::new(ALL, vec!["alertname".into()]);
    app.update(Msg::Resized { width: w, height: h });
    app
}

/// The demo answers at once; its futures only need polling.
fn now<T>(f: mcptop::sources::BoxFuture<'_, Result<T, SourceError>>) -> T {
    futures_util::FutureExt::now_or_never(f).expect("the demo answers at once").expect("demo data")
}

fn load(app: &mut App) {
    let demo = DemoPlatform::new(7, t0() - Duration::seconds(30));
    demo.advance(t0());
    for msg in [
        SourceMsg::ContainersLoaded(now(demo.containers()), t0()),
        SourceMsg::ServicesLoaded(now(demo.services()), t0()),
        SourceMsg::TargetsLoaded(now(demo.targets()), t0()),
        SourceMsg::AlertsLoaded(now(demo.alerts())),
        SourceMsg::PushState { feed: Feed::ContainerEvents, connected: true, error: None, at: t0() },
    ] {
        app.update(Msg::Source(msg));
    }
}

fn screen(app: &App, w: u16, h: u16) -> String {
    mcptop::tui::svg::to_text(&mcptop::tui::render_to_buffer(app, &Theme::built_in("default"), w, h))
}

fn key(app: &mut App, code: KeyCode) {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

#[test]
fn health_and_alerts_in_every_state() {
    for (w, h) in [(80, 24), (160, 48)] {
        let mut a = app(w, h);
        insta::assert_snapshot!(format!("ops_loading_{w}x{h}"), screen(&a, w, h));
        load(&mut a);
        insta::assert_snapshot!(format!("ops_ready_{w}x{h}"), screen(&a, w, h));
        for feed in [Feed::Containers, Feed::Targets, Feed::Alerts] {
            let error = SourceError::Connect("Connection refused (os error 111)".into());
            let at = t0() + Duration::seconds(20);
            a.update(Msg::Source(SourceMsg::Failed { feed, error, at, retry_at: at + Duration::seconds(1) }));
        }
        a.update(Msg::Tick(t0() + Duration::seconds(40)));
        insta::assert_snapshot!(format!("ops_failed_stale_{w}x{h}"), screen(&a, w, h));
        let mut empty = app(w, h);
        empty.update(Msg::Source(SourceMsg::ContainersLoaded(vec![], t0())));
        empty.update(Msg::Source(SourceMsg::ServicesLoaded(vec![], t0())));
        empty.update(Msg::Source(SourceMsg::TargetsLoaded(vec![], t0())));
        empty.update(Msg::Source(SourceMsg::AlertsLoaded(AlertsSnapshot {
            alerts: vec![],
            sources: vec![],
            fetched_at: t0(),
        })));
        insta::assert_snapshot!(format!("ops_empty_{w}x{h}"), screen(&empty, w, h));
    }
}

#[test]
fn zoomed_panes_details_form_and_confirmation() {
    let (w, h) = (120, 36);
    let mut a = app(w, h);
    load(&mut a);
    a.focus = PaneId::Alerts;
    key(&mut a, KeyCode::Char('z'));
    insta::assert_snapshot!("alerts_zoomed_120x36", screen(&a, w, h));
    key(&mut a, KeyCode::Char('j'));
    key(&mut a, KeyCode::Enter);
    insta::assert_snapshot!("alert_detail_120x36", screen(&a, w, h));
    key(&mut a, KeyCode::Esc);
    key(&mut a, KeyCode::Char('s'));
    for c in "disk resize".chars() {
        key(&mut a, KeyCode::Char(c));
    }
    insta::assert_snapshot!("silence_form_120x36", screen(&a, w, h));
    key(&mut a, KeyCode::Enter);
    insta::assert_snapshot!("silence_confirm_120x36", screen(&a, w, h));
    // Cancelling the confirmation goes back to the form, as typed; then the form; then unzoom.
    key(&mut a, KeyCode::Esc);
    assert!(matches!(a.popup, Some(mcptop::tui::popup::Popup::Silence(_))), "back to the form");
    key(&mut a, KeyCode::Esc);
    key(&mut a, KeyCode::Esc);
    a.focus = PaneId::Health;
    key(&mut a, KeyCode::Char('z'));
    // unhealthy containers come first: the first row is the one to look at
    insta::assert_snapshot!("health_zoomed_120x36", screen(&a, w, h));
    // `d` describes the container (Enter opens its log).
    key(&mut a, KeyCode::Char('d'));
    insta::assert_snapshot!("container_detail_120x36", screen(&a, w, h));
}

/// The AI pipeline's line under the header: ready, then with the gateway failing (its last
/// numbers kept, aged, and the line STALE) while LiteLLM and Ollama still answer.
#[test]
fn the_ai_pipeline_line_ready_and_with_a_failing_part() {
    use mcptop::domain::pipeline::Part;
    let (w, h) = (160, 12);
    let mut a = App::new("production", "", KeyMap::default(), t0());
    a.jobs.configured = false;
    a.ops =
        OpsState::new(OpsConfigured { alerts: true, pipeline: true, ..Default::default() }, vec!["alertname".into()]);
    a.update(Msg::Resized { width: w, height: h });
    insta::assert_snapshot!("pipeline_loading", screen(&a, w, h));
    let demo = DemoPlatform::new(7, t0() - Duration::seconds(30));
    demo.advance(t0());
    let snap = now(demo.pipeline());
    a.update(Msg::Source(SourceMsg::PipelineLoaded(snap.clone())));
    insta::assert_snapshot!("pipeline_ready", screen(&a, w, h));
    let later = t0() + Duration::seconds(40);
    let mut failing = snap.clone();
    failing.gateway = Part::failed(Some(&snap.gateway), "HTTP 503: Service Unavailable".into());
    failing.fetched_at = later;
    failing.litellm_models.fetched_at = Some(later);
    failing.ollama_loaded.fetched_at = Some(later);
    a.update(Msg::Tick(later));
    a.update(Msg::Source(SourceMsg::PipelineLoaded(failing)));
    insta::assert_snapshot!("pipeline_gateway_failing", screen(&a, w, h));
}
