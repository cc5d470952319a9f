//! Update-function tests: a message in, the state and the effects out.
use super::*;
use crate::clients::SourceError;
use crate::domain::QueueHistory;
use crate::domain::job::RawFields;
use crate::domain::{Job, JobDetail, JobsPage, QueueSnapshot, QueueStats};
use crate::runtime::Feed;
use chrono::{Duration, TimeZone};
use crossterm::event::{KeyCode, KeyModifiers};

fn t(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + s, 0).single().unwrap_or_default()
}

fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn app_with_jobs(n: usize) -> App {
    let mut app = App::new("ctx", "test", KeyMap::default(), t(0));
    app.update(Msg::Resized { width: 80, height: 24 });
    let query = app.initial_query();
    let jobs = (0..n.min(query.limit)).map(|i| Job::from_fields(&format!("j{i}"), None, &RawFields::new())).collect();
    let page = JobsPage { query, total: n as u64, scanned: None, jobs, fetched_at: t(0) };
    app.update(Msg::Source(SourceMsg::JobsLoaded(page)));
    app
}

/// A queue whose oldest job `a` was queued at t(0) (a later one was queued a second ago).
fn snapshot(at: DateTime<Utc>, length: u64, oldest: Option<&str>) -> QueueSnapshot {
    let age = if oldest == Some("a") { (at - t(0)).num_seconds() as f64 } else { 1.0 };
    QueueSnapshot {
        queues: vec![QueueStats {
            name: "analysis".into(),
            length: Some(length),
            processing: Some(0),
            oldest_id: oldest.map(String::from),
            oldest_age_s: Some(age),
            enqueued_last_min: 0,
        }],
        by_status: vec![],
        total_jobs: Some(0),
        problems: vec![],
        server_time: at,
        fetched_at: at,
    }
}

#[test]
fn enter_follows_the_selected_job_and_esc_stops() {
    let mut app = app_with_jobs(100);
    key(&mut app, KeyCode::Char('j'));
    assert_eq!(key(&mut app, KeyCode::Enter), vec![Effect::FollowDetail(Some("j1".into()))]);
    assert_eq!(app.mode, Mode::Detail);
    // The detail view closes; the RAG pane still follows the selected job for its stored hits.
    assert_eq!(key(&mut app, KeyCode::Esc), vec![Effect::FollowDetail(Some("j1".into()))]);
    assert_eq!(app.mode, Mode::Normal);
    assert!(app.jobs.detail.is_none());
}

#[test]
fn typing_a_filter_fetches_a_filtered_window_and_esc_clears_it() {
    let mut app = app_with_jobs(100);
    key(&mut app, KeyCode::Char('/'));
    assert_eq!(app.mode, Mode::Filter);
    let effects = key(&mut app, KeyCode::Char('d'));
    assert!(matches!(effects.as_slice(), [Effect::FetchJobs(q)] if q.filter == "d" && q.offset == 0));
    // keys typed into the filter are text, not actions
    let effects = key(&mut app, KeyCode::Char('q'));
    assert!(!app.quit && matches!(effects.as_slice(), [Effect::FetchJobs(q)] if q.filter == "dq"));
    let effects = key(&mut app, KeyCode::Esc);
    assert!(matches!(effects.as_slice(), [Effect::FetchJobs(q)] if q.filter.is_empty()));
    assert_eq!(app.mode, Mode::Normal);
}

#[test]
fn failures_toggle_zoom_and_resize_ask_for_the_right_window() {
    let mut app = app_with_jobs(100);
    let effects = key(&mut app, KeyCode::Char('f'));
    assert!(matches!(effects.as_slice(), [Effect::FetchJobs(q)] if q.failures_only));
    let before = app.jobs.view.rows();
    // zoomed, 19 rows fit inside the window already fetched (rows + 40): nothing more to read
    let effects = key(&mut app, KeyCode::Char('z'));
    assert!(app.zoomed && app.jobs.view.rows() == 19 && before < 19);
    assert_eq!(effects, vec![]);
    key(&mut app, KeyCode::Esc);
    assert!(!app.zoomed);
    // a taller terminal needs a bigger window
    let effects = app.update(Msg::Resized { width: 200, height: 80 });
    assert!(
        matches!(effects.as_slice(), [Effect::FetchJobs(q)] if q.limit == app.jobs.view.rows() + 40 && q.failures_only)
    );
}

#[test]
fn a_failure_keeps_the_data_and_a_success_clears_the_error() {
    let mut app = app_with_jobs(5);
    let error = SourceError::Timeout(std::time::Duration::from_secs(2));
    app.update(Msg::Source(SourceMsg::Failed { feed: Feed::Jobs, error, at: t(5), retry_at: t(6) }));
    assert!(app.jobs.page.data.is_some());
    assert_eq!(app.jobs.page.error.as_ref().map(|e| e.message.as_str()), Some("timed out after 2000 ms"));
    let page = app.jobs.page.data.clone().map(|p| JobsPage { fetched_at: t(7), ..p });
    if let Some(p) = page {
        app.update(Msg::Source(SourceMsg::JobsLoaded(p)));
    }
    assert!(app.jobs.page.error.is_none());
    assert_eq!(app.jobs.page.updated_at, Some(t(7)));
}

#[test]
fn ctrl_c_quits_from_any_mode() {
    for setup in [KeyCode::Char('?'), KeyCode::Char('/'), KeyCode::Enter] {
        let mut app = app_with_jobs(3);
        key(&mut app, setup);
        let effects = app.update(Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)));
        assert_eq!(effects, vec![Effect::Quit]);
        assert!(app.quit);
    }
}

#[test]
fn a_queue_is_stalled_only_when_nothing_leaves_it() {
    let mut h = QueueHistory::default();
    h.record(t(0), Some(3), Some(&"a".to_string()));
    h.record(t(100), Some(4), Some(&"a".to_string()));
    assert_eq!((h.first_seen, h.last_progress), (Some(t(0)), None), "same oldest job: nothing was taken");
    h.record(t(130), Some(4), Some(&"b".to_string()));
    assert_eq!(h.last_progress, Some(t(130)), "the oldest job changed: one was taken");
    h.record(t(200), Some(0), None);
    assert_eq!(h.last_progress, Some(t(200)), "an empty queue is never stalled");
    // the minute-ago length for the out rate
    let mut h = QueueHistory::default();
    for s in (0..=120).step_by(5) {
        h.record(t(s), Some(s as u64), None);
    }
    assert_eq!(h.length_a_minute_before(t(120)), Some(60));
    assert_eq!(h.length_a_minute_before(t(30)), None, "not enough history yet");
}

#[test]
fn stalled_badge_reaches_the_queue_pane() {
    let mut app = App::new("ctx", "test", KeyMap::default(), t(0));
    app.jobs.stall_after = Duration::seconds(60);
    app.update(Msg::Source(SourceMsg::QueuesLoaded(snapshot(t(0), 2, Some("a")))));
    app.update(Msg::Source(SourceMsg::QueuesLoaded(snapshot(t(59), 2, Some("a")))));
    let theme = crate::tui::theme::Theme::built_in("default");
    let text = |app: &App| crate::tui::svg::to_text(&crate::tui::render_to_buffer(app, &theme, 120, 30));
    assert!(!text(&app).contains("STALLED"));
    app.update(Msg::Source(SourceMsg::QueuesLoaded(snapshot(t(61), 2, Some("a")))));
    assert!(text(&app).contains("STALLED"), "{}", text(&app));
    app.update(Msg::Source(SourceMsg::QueuesLoaded(snapshot(t(62), 2, Some("b")))));
    assert!(!text(&app).contains("STALLED"));
}

mod alert_actions {
    use super::*;
    use crate::domain::{Alert, AlertState, AlertsSnapshot};
    use crate::sources::OpsConfigured;

    fn app_with_alert(silenced: bool) -> App {
        let mut app = App::new("ctx", "", KeyMap::default(), Utc::now());
        app.ops = OpsState::new(OpsConfigured { alerts: true, ..Default::default() }, vec!["alertname".into()]);
        app.focus = PaneId::Alerts;
        let labels =
            [("alertname", "DiskFull"), ("instance", "db-01:9100")].map(|(k, v)| (k.to_string(), v.to_string()));
        let state = if silenced { AlertState::Suppressed } else { AlertState::Active };
        let by = if silenced { vec!["s-1".to_string()] } else { vec![] };
        let alert = Alert::new("fp1", labels, [], state, by, vec![], None, None, "am-a");
        app.update(Msg::Source(SourceMsg::AlertsLoaded(AlertsSnapshot {
            alerts: vec![alert],
            sources: vec![],
            fetched_at: app.now,
        })));
        app
    }

    fn key(app: &mut App, c: char) -> Vec<Effect> {
        app.update(Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)))
    }

    #[test]
    fn the_selected_alert_stays_on_screen_far_down_a_long_grouped_list() {
        let mut app = App::new("ctx", "", KeyMap::default(), Utc::now());
        app.ops = OpsState::new(OpsConfigured { alerts: true, ..Default::default() }, vec!["alertname".into()]);
        app.jobs.configured = false;
        app.focus = PaneId::Alerts;
        app.zoomed = true;
        app.update(Msg::Resized { width: 100, height: 20 });
        let alerts = (0..90)
            .map(|i| {
                let labels = [("alertname", format!("Rule{}", i % 3)), ("instance", format!("host-{i:03}"))];
                Alert::new(
                    &format!("fp{i:03}"),
                    labels.map(|(k, v)| (k.to_string(), v)),
                    [],
                    AlertState::Active,
                    vec![],
                    vec![],
                    None,
                    None,
                    "am",
                )
            })
            .collect();
        app.update(Msg::Source(SourceMsg::AlertsLoaded(AlertsSnapshot {
            alerts,
            sources: vec![],
            fetched_at: app.now,
        })));
        for _ in 0..75 {
            key(&mut app, 'j');
        }
        let selected = app.ops.selected_alert().map(|a| a.labels["instance"].clone()).unwrap_or_default();
        let screen = crate::tui::svg::to_text(&crate::tui::render_to_buffer(
            &app,
            &crate::tui::theme::Theme::built_in("default"),
            100,
            20,
        ));
        assert!(screen.contains(&selected), "{selected} on screen:\n{screen}");
    }

    /// The demo's Zabbix problems and CrowdSec alerts (made by the real parsers).
    fn app_with_monitor_alerts() -> App {
        let mut app = App::new("ctx", "", KeyMap::default(), Utc::now());
        app.ops = OpsState::new(OpsConfigured { alerts: true, ..Default::default() }, vec!["alertname".into()]);
        app.focus = PaneId::Alerts;
        let alerts = crate::demo::DemoPlatform::new(1, app.now).monitor_alerts();
        app.update(Msg::Source(SourceMsg::AlertsLoaded(AlertsSnapshot {
            alerts,
            sources: vec![],
            fetched_at: app.now,
        })));
        app
    }

    fn select(app: &mut App, system: &str, acked: bool) {
        for _ in 0..10 {
            let here = app.ops.selected_alert().map(|a| match &a.origin {
                crate::domain::Origin::Zabbix { acknowledged, .. } => system == "zabbix" && *acknowledged == acked,
                o => o.system() == system,
            });
            if here == Some(true) {
                return;
            }
            key(app, 'j');
        }
        panic!("no {system} alert to select");
    }

    #[test]
    fn a_zabbix_problem_is_acknowledged_and_a_crowdsec_alert_is_not_silenced() {
        let mut app = app_with_monitor_alerts();
        select(&mut app, "zabbix", false);
        key(&mut app, 'a');
        let Some(Popup::Confirm { summary, .. }) = &app.popup else { panic!("a confirmation") };
        assert_eq!(
            summary,
            "Acknowledge Zabbix problem PostgreSQL: replication lag is too high (over 600s) on db-01 (event 88213) on zabbix"
        );
        let effects = key(&mut app, 'y');
        assert!(
            matches!(effects.as_slice(), [Effect::RunAction(ActionRequest::AckProblem { eventid, .. })] if eventid == "88213")
        );
        key(&mut app, 's');
        assert!(app.popup.is_none(), "no silence form for a Zabbix problem");
        assert!(app.toast.as_ref().is_some_and(|t| t.text.contains("silences are Alertmanager's")));

        select(&mut app, "crowdsec", false);
        app.toast = None;
        key(&mut app, 'a');
        assert!(app.popup.is_none());
        assert!(app.toast.as_ref().is_some_and(|t| t.text.contains("nothing to acknowledge")), "{:?}", app.toast);
    }

    #[test]
    fn ack_asks_naming_the_target_and_runs_only_on_y() {
        let mut app = app_with_alert(false);
        assert_eq!(key(&mut app, 'a'), vec![]);
        let Some(Popup::Confirm { requests, summary, .. }) = &app.popup else { panic!("a confirmation") };
        assert_eq!(summary, "Ack DiskFull on db-01:9100 on am-a");
        assert_eq!(requests.len(), 1);
        let effects = key(&mut app, 'y');
        assert!(matches!(effects.as_slice(), [Effect::RunAction(ActionRequest::Ack { .. })]));
        assert!(app.popup.is_none());
        // anything else cancels
        key(&mut app, 'a');
        assert_eq!(key(&mut app, 'q'), vec![]);
        assert!(app.popup.is_none() && !app.quit, "q in a confirmation cancels, it does not quit");
    }

    #[test]
    fn expire_needs_a_silence_and_results_become_a_toast() {
        let mut app = app_with_alert(false);
        key(&mut app, 'x');
        assert!(app.popup.is_none());
        assert!(app.toast.as_ref().is_some_and(|t| t.text.contains("not silenced")));
        let mut app = app_with_alert(true);
        key(&mut app, 'x');
        let Some(Popup::Confirm { mut requests, summary, .. }) = app.popup.take() else { panic!("a confirmation") };
        assert_eq!(summary, "Expire silence s-1 on am-a");
        let req = requests.remove(0);
        let effects = app.update(Msg::ActionDone { request: req, result: Err(ActionError::ReadOnly("retry")) });
        assert_eq!(effects, vec![Effect::RefreshAlerts, Effect::RefreshJobs]);
        assert!(app.toast.as_ref().is_some_and(|t| !t.ok && t.text.contains("read-only")));
    }
}

mod rag_pane {
    use super::*;
    use crate::domain::rag::{Embedder, KbStats, RagHit, RagSearch};
    use crate::domain::{Alert, AlertState, AlertsSnapshot};
    use crate::sources::OpsConfigured;

    fn screen(app: &App) -> String {
        let theme = crate::tui::theme::Theme::built_in("default");
        crate::tui::svg::to_text(&crate::tui::render_to_buffer(app, &theme, 160, 48))
    }

    fn searchable_app() -> (App, Vec<Effect>) {
        let mut app = App::new("ctx", "test", KeyMap::default(), t(0));
        app.rag = RagState::new(true, 5, 0.7);
        app.ops = OpsState::new(OpsConfigured { alerts: true, ..Default::default() }, vec!["alertname".into()]);
        app.update(Msg::Resized { width: 160, height: 48 });
        let query = app.initial_query();
        let jobs = (0..10).map(|i| Job::from_fields(&format!("j{i}"), None, &RawFields::new())).collect();
        let page = JobsPage { query, total: 10, scanned: None, jobs, fetched_at: t(0) };
        let effects = app.update(Msg::Source(SourceMsg::JobsLoaded(page)));
        let labels =
            [("alertname", "DiskFull"), ("instance", "db-01:9100")].map(|(k, v)| (k.to_string(), v.to_string()));
        let summary = [("summary".to_string(), "/var is 97% full".to_string())];
        let alert = Alert::new("fp1", labels, summary, AlertState::Active, vec![], vec![], None, None, "am-a");
        app.update(Msg::Source(SourceMsg::AlertsLoaded(AlertsSnapshot {
            alerts: vec![alert],
            sources: vec![],
            fetched_at: t(0),
        })));
        (app, effects)
    }

    fn answer(request: &RagRequest, text: &str) -> Msg {
        let hits =
            vec![RagHit::new(serde_json::json!(2291), Some(0.91), text, serde_json::json!({"source": "zammad"}))];
        let search = RagSearch {
            query: request.query.clone(),
            top_k: 5,
            threshold: 0.7,
            hits,
            candidates: 5,
            embedder: Embedder::Ollama,
            fallback_reason: Some("litellm: cannot connect".into()),
            embed_ms: 12,
            db_ms: 3,
            at: t(0),
        };
        Msg::Source(SourceMsg::RagSearched { request: request.clone(), result: Ok(search), at: t(0) })
    }

    #[test]
    fn the_pane_follows_the_selected_job_and_escapes_its_stored_hits() {
        let (mut app, effects) = searchable_app();
        assert!(effects.contains(&Effect::FollowDetail(Some("j0".into()))), "{effects:?}");
        let mut f = RawFields::new();
        f.insert(
            "rag_hits".into(),
            br#"[{"id":7,"score":0.88,"text":"resize /var\u001b[2J now","metadata":{"source":"wiki"}}]"#.to_vec(),
        );
        let detail = JobDetail::from_fields("j0", &f, t(0));
        app.update(Msg::Source(SourceMsg::DetailLoaded { id: "j0".into(), detail: Some(Box::new(detail)), at: t(0) }));
        let s = screen(&app);
        assert!(s.contains("job j0 · 1 hit the worker used"), "{s}");
        assert!(s.contains("0.88") && s.contains("resize /var^[[2J now") && !s.contains('\u{1b}'), "{s}");
        assert_eq!(key(&mut app, KeyCode::Char('j')), vec![Effect::FollowDetail(Some("j1".into()))]);
    }

    #[test]
    fn alerts_are_searched_live_and_k_searches_with_recall() {
        let (mut app, _) = searchable_app();
        let effects = key(&mut app, KeyCode::Char('4'));
        // A live search for the selected alert; the job's details are no longer needed.
        let [Effect::RagSearch(req), Effect::FollowDetail(None)] = effects.as_slice() else {
            panic!("a search: {effects:?}")
        };
        assert_eq!(req.query, "DiskFull /var is 97% full db-01:9100");
        let req = req.clone();
        app.update(answer(&req, "INC-2291: /var full on db-02"));
        let s = screen(&app);
        assert!(s.contains("alert DiskFull") && s.contains("1/5 ≥0.70 · ollama (fallback) 15 ms"), "{s}");
        assert!(
            s.contains("INC-2291: /var full on db-02") && s.contains("“DiskFull /var is 97% full db-01:9100”"),
            "{s}"
        );
        // Enter on the hit in the RAG pane shows it whole.
        key(&mut app, KeyCode::Char('5'));
        key(&mut app, KeyCode::Enter);
        assert!(screen(&app).contains("Knowledge-base entry 2291"));
        key(&mut app, KeyCode::Esc);

        key(&mut app, KeyCode::Char('K'));
        assert_eq!(app.mode, Mode::RagQuery);
        for c in "disk".chars() {
            key(&mut app, KeyCode::Char(c));
        }
        let effects = key(&mut app, KeyCode::Enter);
        assert!(
            matches!(effects.as_slice(), [Effect::RagSearch(r)] if r.query == "disk" && r.top_k == 5),
            "{effects:?}"
        );
        assert_eq!((app.mode, app.focus), (Mode::Normal, PaneId::Rag));
        key(&mut app, KeyCode::Char('/'));
        assert_eq!(app.mode, Mode::RagQuery, "/ in the RAG pane searches the knowledge base");
        key(&mut app, KeyCode::Up);
        assert_eq!(app.inputs.query.lines(), ["disk"]);
        key(&mut app, KeyCode::Esc);
        assert_eq!(app.mode, Mode::Normal);
    }

    #[test]
    fn a_failing_knowledge_base_says_so_and_keeps_what_it_knew() {
        let (mut app, _) = searchable_app();
        let stats = KbStats {
            table: "mcp_knowledge".into(),
            rows: Some(123_456),
            rows_estimated: true,
            dimensions: Some(768),
            index: Some("mcp_knowledge_hnsw (hnsw)".into()),
            index_note: None,
            extension: Some("0.8.2".into()),
        };
        app.update(Msg::Source(SourceMsg::KbStatsLoaded(stats, t(0))));
        assert!(screen(&app).contains("KB mcp_knowledge · ~123k rows · 768-d · hnsw ✓"));
        let error = SourceError::Server("cannot connect to PostgreSQL: Connection refused".into());
        app.update(Msg::Source(SourceMsg::Failed { feed: Feed::Knowledge, error, at: t(1), retry_at: t(2) }));
        let s = screen(&app);
        assert!(s.contains("✗ KB: cannot connect to PostgreSQL: Connection refused"), "{s}");
        assert!(s.contains("last seen 0s ago: KB mcp_knowledge · ~123k rows"), "{s}");
    }
}

mod acting {
    use super::*;
    use crate::domain::JobStatus;

    fn raw(pairs: &[(&str, &str)]) -> RawFields {
        pairs.iter().map(|(k, v)| (k.to_string(), v.as_bytes().to_vec())).collect()
    }

    fn ctrl(app: &mut App, c: char) -> Vec<Effect> {
        app.update(Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)))
    }

    fn typed(app: &mut App, text: &str) {
        for c in text.chars() {
            key(app, KeyCode::Char(c));
        }
    }

    fn screen(app: &App) -> String {
        let theme = crate::tui::theme::Theme::built_in("default");
        crate::tui::svg::to_text(&crate::tui::render_to_buffer(app, &theme, 160, 48))
    }

    /// An app with one job awaiting approval, its detail loaded, the Approvals pane focused.
    fn app_with_approval() -> App {
        let mut app = App::new("ctx", "test", KeyMap::default(), t(0));
        app.update(Msg::Resized { width: 160, height: 48 });
        let fields = raw(&[
            ("status", "awaiting_approval"),
            ("severity", "critical"),
            ("hostname", "db-01"),
            ("alert_type", "DiskFull"),
            ("ticket_draft", r#"{"title":"[job a1] DiskFull on db-01","group":"Ops","body":"rotate logs"}"#),
            ("analysis", r#"{"summary":"disk full","root_cause":"logrotate","confidence":0.8}"#),
            ("rag_hits", r#"[{"id":9,"score":0.93,"text":"resize /var"}]"#),
        ]);
        let job = Job::from_fields("a1", None, &fields);
        let query = JobsQuery {
            status: Some(JobStatus::AwaitingApproval),
            oldest_first: true,
            limit: 500,
            ..Default::default()
        };
        let page = JobsPage { query, total: 1, scanned: None, jobs: vec![job], fetched_at: t(0) };
        app.update(Msg::Source(SourceMsg::ApprovalsLoaded(page)));
        let effects = key(&mut app, KeyCode::Char('6'));
        assert!(
            effects.contains(&Effect::FollowDetail(Some("a1".into()))),
            "the pane follows its selection: {effects:?}"
        );
        let detail = JobDetail::from_fields("a1", &fields, t(0));
        app.update(Msg::Source(SourceMsg::DetailLoaded { id: "a1".into(), detail: Some(Box::new(detail)), at: t(0) }));
        app
    }

    #[test]
    fn approving_asks_with_job_host_severity_and_title_then_runs() {
        let mut app = app_with_approval();
        key(&mut app, KeyCode::Char('z'));
        let s = screen(&app);
        for part in ["1 awaiting", "draft awaiting approval", "[job a1] DiskFull on db-01", "root cause", "resize /var"]
        {
            assert!(s.contains(part), "{part:?} on screen:\n{s}");
        }
        assert!(s.contains("⚑ 1 awaiting approval"), "the header counts it");
        key(&mut app, KeyCode::Char('A'));
        assert!(matches!(app.popup, Some(Popup::Form(_))));
        typed(&mut app, "checked");
        assert!(ctrl(&mut app, 's').is_empty());
        let Some(Popup::Confirm { summary, .. }) = &app.popup else { panic!("a confirmation") };
        assert_eq!(
            summary,
            "Approve job a1 (db-01, critical): open ticket “[job a1] DiskFull on db-01” — note “checked”"
        );
        let effects = key(&mut app, KeyCode::Char('y'));
        let [Effect::RunAction(ActionRequest::Approve { title, body, note, edited, .. })] = effects.as_slice() else {
            panic!("{effects:?}")
        };
        assert_eq!(title.as_deref(), Some("[job a1] DiskFull on db-01"), "what was shown is what is sent");
        assert_eq!((body.as_deref(), note.as_deref(), *edited), (Some("rotate logs"), Some("checked"), false));
    }

    #[test]
    fn rejecting_needs_a_note_and_read_only_goes_to_the_action_layer() {
        let mut app = app_with_approval();
        key(&mut app, KeyCode::Char('R'));
        ctrl(&mut app, 's');
        let Some(Popup::Form(form)) = &app.popup else { panic!("still the form") };
        assert!(form.error.as_deref().is_some_and(|e| e.contains("note")));
        key(&mut app, KeyCode::Esc);
        assert!(screen(&app).contains("form closed: nothing sent"), "a closed form says so");
        app.toast = None;
        app.refusal = Some("read-only mode");
        let effects = key(&mut app, KeyCode::Char('A'));
        assert!(matches!(effects.as_slice(), [Effect::RunAction(ActionRequest::Approve { .. })]), "{effects:?}");
        assert!(screen(&app).contains("actions refused: read-only mode"));
    }

    #[test]
    fn marked_jobs_are_retried_each_on_its_own_and_others_are_left_alone() {
        let mut app = App::new("ctx", "test", KeyMap::default(), t(0));
        app.update(Msg::Resized { width: 160, height: 48 });
        let query = app.initial_query();
        let jobs = ["failed", "done", "failed"]
            .iter()
            .enumerate()
            .map(|(i, s)| Job::from_fields(&format!("j{i}"), None, &raw(&[("status", s), ("hostname", "web-01")])))
            .collect();
        app.update(Msg::Source(SourceMsg::JobsLoaded(JobsPage {
            query,
            total: 3,
            scanned: None,
            jobs,
            fetched_at: t(0),
        })));
        for _ in 0..3 {
            key(&mut app, KeyCode::Char(' '));
        }
        assert_eq!(app.jobs.marks.len(), 3);
        let s = screen(&app);
        assert!(s.lines().any(|l| l.contains("● ") && l.contains(" j0 ")), "marks show beside the whole id:\n{s}");
        key(&mut app, KeyCode::Char('r'));
        let Some(Popup::Confirm { requests, summary, .. }) = &app.popup else { panic!("a confirmation") };
        assert_eq!(requests.len(), 2);
        assert!(summary.starts_with("Retry 2 marked failed jobs:"), "{summary}");
        assert!(summary.contains("1 marked job is not failed"), "{summary}");
        let effects = key(&mut app, KeyCode::Char('y'));
        assert!(
            matches!(effects.as_slice(), [Effect::RunBulk(r)] if r.len() == 2),
            "one run, each job on its own: {effects:?}"
        );
        // A filter marks every match, fetched in a task of its own.
        key(&mut app, KeyCode::Char('f'));
        let effects = key(&mut app, KeyCode::Char('*'));
        assert!(matches!(effects.as_slice(), [Effect::FetchMatching(q)] if q.failures_only && q.limit >= 1000));
    }

    #[test]
    fn the_audit_view_loads_filters_and_closes() {
        let mut app = app_with_jobs(5);
        let effects = key(&mut app, KeyCode::Char('L'));
        assert!(matches!(effects.as_slice(), [Effect::LoadAudit(_)]));
        assert_eq!(app.mode, Mode::Audit);
        key(&mut app, KeyCode::Char('/'));
        let effects = key(&mut app, KeyCode::Char('x'));
        assert!(matches!(effects.as_slice(), [Effect::LoadAudit(q)] if q.actor.as_deref() == Some("x")), "{effects:?}");
        key(&mut app, KeyCode::Enter);
        assert_eq!(app.mode, Mode::Audit);
        // A record: Enter shows it in full, every field, the detail wrapped; Esc goes back.
        let record = crate::audit::Record {
            id: 7,
            at: t(0),
            actor: "alice@ops-1".into(),
            context: "prod".into(),
            action: "approve".into(),
            target: "job j1".into(),
            params: serde_json::json!({"job": "j1"}),
            outcome: crate::audit::Outcome::Failed,
            detail: format!("Zammad said no: {}the end", "a long reason ".repeat(20)),
        };
        app.update(Msg::AuditLoaded(app.audit.query(), Ok(vec![record]), t(0)));
        assert!(screen(&app).contains("CONTEXT") && screen(&app).contains("prod"), "a context column");
        key(&mut app, KeyCode::Enter);
        let s = screen(&app);
        assert!(s.contains("Audit record 7") && s.contains("the end") && s.contains("\"job\": \"j1\""), "{s}");
        key(&mut app, KeyCode::Esc);
        assert!(app.audit.detail.is_none() && app.mode == Mode::Audit);
        // Esc clears the filter first, then closes; `L` opens the log unfiltered.
        key(&mut app, KeyCode::Esc);
        assert!(app.audit.filter.is_empty() && app.mode == Mode::Audit);
        key(&mut app, KeyCode::Esc);
        assert_eq!(app.mode, Mode::Normal);
        app.audit.filter = "bob".into();
        key(&mut app, KeyCode::Char('L'));
        assert!(app.audit.filter.is_empty(), "L shows every record");
    }

    #[test]
    fn esc_clears_failures_only_and_keys_elsewhere_say_where_they_act() {
        let mut app = app_with_jobs(5);
        key(&mut app, KeyCode::Char('f'));
        assert!(app.jobs.view.failures_only());
        key(&mut app, KeyCode::Esc);
        assert!(!app.jobs.view.failures_only(), "Esc clears f as well as a filter");
        let effects = key(&mut app, KeyCode::Char('*'));
        assert!(effects.is_empty() && app.jobs.marks.is_empty(), "* with nothing narrowing clears the marks");
        key(&mut app, KeyCode::Char('1'));
        for (k, pane) in [('A', "Approvals"), ('s', "Alerts"), ('b', "Backups"), ('d', "Health"), ('r', "Jobs")] {
            let effects = key(&mut app, KeyCode::Char(k));
            assert!(effects.is_empty() && app.popup.is_none(), "{k}: {effects:?}");
            let toast = app.toast.as_ref().map(|t| t.text.clone()).unwrap_or_default();
            assert!(toast.contains(&format!("acts on the {pane} pane: press")), "{k}: {toast}");
        }
        // A command goes to its pane.
        key(&mut app, KeyCode::Char(':'));
        for c in "approve".chars() {
            key(&mut app, KeyCode::Char(c));
        }
        key(&mut app, KeyCode::Enter);
        assert_eq!(app.focus, PaneId::Approvals);
        assert!(app.toast.as_ref().is_none_or(|t| !t.text.contains("acts on")), "the old toast is gone");
    }
}
