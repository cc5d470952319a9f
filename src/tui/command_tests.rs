//! The command line through the update function: typed keys in, state and effects out.
use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::clients::SourceError;
use crate::runtime::{Feed, SourceMsg};
use crate::tui::app::{App, Effect, Mode, Msg, PaneId};
use crate::tui::commands::Choices;
use crate::tui::keymap::KeyMap;

fn t(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + s, 0).single().unwrap_or_default()
}

fn app() -> App {
    let mut app = App::new("prod", "test", KeyMap::default(), t(0));
    app.choices =
        Choices { contexts: vec!["prod".into(), "staging".into()], themes: vec!["default".into(), "light".into()] };
    app.update(Msg::Resized { width: 120, height: 40 });
    app
}

fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn type_text(app: &mut App, text: &str) -> Vec<Effect> {
    text.chars().flat_map(|c| press(app, KeyCode::Char(c))).collect()
}

#[test]
fn a_command_runs_and_is_remembered_and_recalled() {
    let mut app = app();
    press(&mut app, KeyCode::Char(':'));
    assert_eq!(app.mode, Mode::Command);
    assert!(app.completions.len() > 20, "every command is a candidate before anything is typed");
    type_text(&mut app, "alerts disk");
    let effects = press(&mut app, KeyCode::Enter);
    assert_eq!(app.mode, Mode::Normal);
    assert_eq!((app.focus, app.ops.alert_filter.as_str()), (PaneId::Alerts, "disk"));
    assert_eq!(effects.first(), Some(&Effect::SaveCommandHistory(vec!["alerts disk".into()])));
    // ↑ brings it back, Esc leaves it unrun.
    press(&mut app, KeyCode::Char(':'));
    press(&mut app, KeyCode::Up);
    assert_eq!(app.inputs.command_line(), "alerts disk");
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.mode, Mode::Normal);
}

#[test]
fn tab_completes_names_then_arguments_then_cycles() {
    let mut app = app();
    press(&mut app, KeyCode::Char(':'));
    type_text(&mut app, "ct");
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.inputs.command_line(), "ctx ", "one candidate, and it takes a name");
    assert_eq!(app.completions, ["ctx prod", "ctx staging"]);
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.inputs.command_line(), "ctx prod");
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.inputs.command_line(), "ctx staging", "Tab again: the next candidate");
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char(':'));
    type_text(&mut app, "appro");
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.inputs.command_line(), "approv", "what approve and approvals share");
}

#[test]
fn a_typo_says_what_is_close_and_runs_nothing() {
    let mut app = app();
    press(&mut app, KeyCode::Char(':'));
    type_text(&mut app, "jbos");
    let effects = press(&mut app, KeyCode::Enter);
    assert!(effects.iter().all(|e| matches!(e, Effect::SaveCommandHistory(_))), "{effects:?}");
    let toast = app.toast.as_ref().map(|t| t.text.as_str()).unwrap_or_default();
    assert!(toast.contains("did you mean :jobs"), "{toast}");
}

#[test]
fn the_command_line_goes_back_where_it_was_opened_and_leaving_the_fleet_stops_it() {
    let mut app = app();
    app.run_command("fleet");
    assert_eq!(app.mode, Mode::Fleet);
    press(&mut app, KeyCode::Char(':'));
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.mode, Mode::Fleet, "Esc goes back to the fleet");
    press(&mut app, KeyCode::Char(':'));
    type_text(&mut app, "jobs");
    let effects = press(&mut app, KeyCode::Enter);
    assert_eq!(app.mode, Mode::Normal);
    assert!(effects.contains(&Effect::StopFleet), "{effects:?}");
}

#[test]
fn jobs_failed_shows_failures_and_theme_is_asked_of_the_loop() {
    let mut app = app();
    press(&mut app, KeyCode::Char(':'));
    type_text(&mut app, "jobs failed");
    let effects = press(&mut app, KeyCode::Enter);
    assert!(app.jobs.view.failures_only());
    assert!(effects.iter().any(|e| matches!(e, Effect::FetchJobs(_))), "{effects:?}");
    assert_eq!(app.run_command("theme light"), vec![]);
    assert_eq!(app.theme_request.as_deref(), Some("light"));
    // A switch waits for actions under way: their outcome would be lost.
    app.in_flight = 1;
    assert_eq!(app.run_command("ctx staging"), vec![]);
    assert_eq!(app.switch_to, None);
    app.in_flight = 0;
    app.run_command("ctx staging");
    assert_eq!(app.switch_to.as_deref(), Some("staging"));
    assert_eq!(app.run_command("q"), vec![Effect::Quit]);
}

#[test]
fn errors_are_kept_after_the_source_recovers() {
    let mut app = app();
    for i in 0..3 {
        app.update(Msg::Source(SourceMsg::Failed {
            feed: Feed::Alerts,
            error: SourceError::Connect("connection refused".into()),
            at: t(i),
            retry_at: t(i + 5),
        }));
    }
    // The source recovers: the history keeps what happened.
    let recovered = crate::domain::AlertsSnapshot { alerts: vec![], sources: vec![], fetched_at: t(9) };
    app.update(Msg::Source(SourceMsg::AlertsLoaded(recovered)));
    assert!(app.ops.alerts.error.is_none(), "the pane shows it recovered");
    app.run_command("errors");
    assert_eq!(app.mode, Mode::Errors);
    let e: Vec<_> = app.errors.newest_first().map(|e| (e.source.as_str(), e.count)).collect();
    assert_eq!(e, [("prod · alerts", 3)]);
    assert!(app.errors.newest_first().all(|e| e.message.contains("connection refused")));
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.mode, Mode::Normal);
}

#[test]
fn yank_refuses_a_handle_a_paste_would_act_on_and_says_so_escaped() {
    use crate::domain::job::RawFields;
    use crate::domain::{Job, JobsPage};
    let mut app = app();
    let query = app.initial_query();
    let id = "job-\u{1b}[2J-1";
    let page = JobsPage {
        query,
        total: 1,
        scanned: None,
        jobs: vec![Job::from_fields(id, None, &RawFields::new())],
        fetched_at: t(0),
    };
    app.update(Msg::Source(SourceMsg::JobsLoaded(page)));
    press(&mut app, KeyCode::Char('2'));
    press(&mut app, KeyCode::Char('y'));
    assert_eq!(app.clipboard, None, "an escape sequence never reaches the clipboard");
    let toast = app.toast.as_ref().map(|t| t.text.clone()).unwrap_or_default();
    assert!(toast.starts_with("✗ not copied: the job id") && !toast.contains('\u{1b}'), "{toast:?}");
    app.clipboard = None;
    app.yank = false;
    press(&mut app, KeyCode::Char('y'));
    assert_eq!(app.clipboard, None, "off in the config: nothing is sent");
}
