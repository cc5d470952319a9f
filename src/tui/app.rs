//! The dashboard's state and its one `update` function: a message in, state changed and effects
//! out. No I/O happens here; effects are carried out by the event loop.

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, Duration, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::TextArea;

use super::jobs_view::JobsView;
use super::keymap::{Action, KeyMap};
use super::layout;
use super::loadable::Loadable;
use super::ops_state::{OpsDetail, OpsState};
use super::popup::{Popup, PopupOutcome, SilenceForm};
use super::rag_state::{Follow, RagState, Subject, alert_query};
use crate::actions::silence::matchers_for;
use crate::actions::{ActionError, ActionRequest};
use crate::domain::{JobDetail, JobsPage, JobsQuery, QueueSnapshot};
use crate::runtime::{Feed, RagRequest, SourceMsg};

/// The panes, in focus order. Number keys focus them by position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaneId {
    Queue,
    Jobs,
    Health,
    Alerts,
    Rag,
    Approvals,
    Backups,
}

impl PaneId {
    pub const ALL: [PaneId; 7] =
        [PaneId::Queue, PaneId::Jobs, PaneId::Health, PaneId::Alerts, PaneId::Rag, PaneId::Approvals, PaneId::Backups];

    pub fn title(self) -> &'static str {
        match self {
            PaneId::Queue => "Queue",
            PaneId::Jobs => "Jobs",
            PaneId::Health => "Health",
            PaneId::Alerts => "Alerts",
            PaneId::Rag => "RAG hits",
            PaneId::Approvals => "Approvals",
            PaneId::Backups => "Backups",
        }
    }

    pub fn number(self) -> usize {
        PaneId::ALL.iter().position(|p| *p == self).unwrap_or(0) + 1
    }
}

/// What the keyboard is talking to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Filter,
    /// Typing a knowledge-base query.
    RagQuery,
    Help,
    Detail,
}

/// Everything that can happen to the app.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    Resized {
        width: u16,
        height: u16,
    },
    Tick(DateTime<Utc>),
    Source(SourceMsg),
    /// An action finished (or was refused).
    ActionDone {
        request: ActionRequest,
        result: Result<String, ActionError>,
    },
}

/// What the event loop must do after an update.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    FetchJobs(JobsQuery),
    FollowDetail(Option<String>),
    /// Run a confirmed action through the action layer.
    RunAction(ActionRequest),
    /// Fetch alerts now (after a silence changed them).
    RefreshAlerts,
    /// Search the knowledge base.
    RagSearch(RagRequest),
    Quit,
}

/// A short message at the bottom: what an action did.
#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    pub text: String,
    pub ok: bool,
    pub at: DateTime<Utc>,
}

/// One queue's recent past, for the sparkline, the rates and the stalled badge.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueHistory {
    /// (server time, length), one sample every few seconds, the last ten minutes.
    pub samples: VecDeque<(DateTime<Utc>, u64)>,
    oldest_id: Option<String>,
    /// The last time a job was seen leaving the queue (or the queue was empty).
    pub last_progress: Option<DateTime<Utc>>,
}

/// Sample spacing and span of the queue history.
const SAMPLE_EVERY: i64 = 5;
const HISTORY_SPAN: i64 = 600;

impl QueueHistory {
    fn record(&mut self, at: DateTime<Utc>, length: u64, oldest_id: Option<&String>) {
        if self.samples.back().is_none_or(|(t, _)| (at - *t).num_seconds() >= SAMPLE_EVERY) {
            self.samples.push_back((at, length));
        } else if let Some(last) = self.samples.back_mut() {
            last.1 = last.1.max(length);
        }
        while self.samples.front().is_some_and(|(t, _)| (at - *t).num_seconds() > HISTORY_SPAN) {
            self.samples.pop_front();
        }
        if length == 0 || self.last_progress.is_none() || self.oldest_id.as_ref() != oldest_id {
            self.last_progress = Some(at);
        }
        self.oldest_id = oldest_id.cloned();
    }

    /// Length about a minute before `at`, if the history reaches that far.
    pub fn length_a_minute_before(&self, at: DateTime<Utc>) -> Option<u64> {
        self.samples
            .iter()
            .map(|(t, l)| ((at - *t).num_seconds(), *l))
            .filter(|(age, _)| (50..=75).contains(age))
            .min_by_key(|(age, _)| (age - 60).abs())
            .map(|(_, l)| l)
    }
}

/// The detail view of one job.
#[derive(Debug, Clone, Default)]
pub struct DetailView {
    pub id: String,
    pub data: Loadable<Option<JobDetail>>,
    pub scroll: u16,
}

/// Whether pushed updates are flowing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventsStatus {
    pub connected: bool,
    pub error: Option<String>,
}

/// The whole dashboard.
pub struct App {
    pub context: String,
    pub source_name: String,
    pub demo: bool,
    pub read_only: bool,
    pub keymap: KeyMap,
    pub now: DateTime<Utc>,
    pub size: (u16, u16),
    pub focus: PaneId,
    pub zoomed: bool,
    pub mode: Mode,
    pub queues: Loadable<QueueSnapshot>,
    pub history: BTreeMap<String, QueueHistory>,
    /// How many queues are configured (the Queue pane's height depends on it).
    pub queue_slots: usize,
    pub stall_after: Duration,
    pub jobs: Loadable<JobsPage>,
    pub view: JobsView,
    pub detail: Option<DetailView>,
    pub events: EventsStatus,
    pub filter_input: TextArea<'static>,
    /// Which pane the filter being typed applies to (Jobs or Alerts).
    pub filter_target: PaneId,
    pub ops: OpsState,
    pub rag: RagState,
    /// The knowledge-base query being typed, and where ↑/↓ are in the recent queries.
    pub rag_input: TextArea<'static>,
    rag_history_pos: Option<usize>,
    /// Whether a job queue (Redis or the demo) is configured; if not, Queue and Jobs say so.
    pub jobs_configured: bool,
    pub popup: Option<Popup>,
    pub toast: Option<Toast>,
    pub quit: bool,
}

impl App {
    pub fn new(context: &str, source_name: &str, keymap: KeyMap, now: DateTime<Utc>) -> App {
        App {
            context: context.to_string(),
            source_name: source_name.to_string(),
            demo: false,
            read_only: false,
            keymap,
            now,
            size: (80, 24),
            focus: PaneId::Jobs,
            zoomed: false,
            mode: Mode::Normal,
            queues: Loadable::default(),
            history: BTreeMap::new(),
            queue_slots: 1,
            stall_after: Duration::seconds(120),
            jobs: Loadable::default(),
            view: JobsView::default(),
            detail: None,
            events: EventsStatus::default(),
            filter_input: TextArea::default(),
            filter_target: PaneId::Jobs,
            ops: OpsState::default(),
            rag: RagState::default(),
            rag_input: TextArea::default(),
            rag_history_pos: None,
            jobs_configured: true,
            popup: None,
            toast: None,
            quit: false,
        }
    }

    /// The first window to ask for, before any key is pressed.
    pub fn initial_query(&mut self) -> JobsQuery {
        self.view.set_rows(layout::jobs_rows(self.size, self.zoomed && self.focus == PaneId::Jobs, self.queue_slots));
        self.view.desired_query()
    }

    /// Apply one message. Returns what the event loop must do.
    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        let mut effects = self.apply(msg);
        effects.extend(self.sync_rag());
        effects
    }

    fn apply(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Tick(now) => {
                self.now = now;
                vec![]
            }
            Msg::Resized { width, height } => {
                self.size = (width, height);
                self.relayout()
            }
            Msg::Key(key) => self.on_key(key),
            Msg::Source(m) => self.on_source(m),
            Msg::ActionDone { request, result } => {
                let (text, ok) = match result {
                    Ok(m) => (format!("✓ {m}"), true),
                    Err(e) => (format!("✗ {}: {e}", request.describe()), false),
                };
                self.toast = Some(Toast { text: crate::domain::text::clean_line(&text), ok, at: self.now });
                vec![Effect::RefreshAlerts]
            }
        }
    }

    fn relayout(&mut self) -> Vec<Effect> {
        let zoomed_jobs = self.zoomed && self.focus == PaneId::Jobs;
        self.view.set_rows(layout::jobs_rows(self.size, zoomed_jobs, self.queue_slots));
        self.view.refetch_if_needed().into_iter().map(Effect::FetchJobs).collect()
    }

    fn on_source(&mut self, msg: SourceMsg) -> Vec<Effect> {
        if self.ops.on_source(&msg) || self.rag.on_source(&msg) {
            return vec![];
        }
        match msg {
            SourceMsg::QueuesLoaded(snap) => {
                for q in &snap.queues {
                    self.history.entry(q.name.clone()).or_default().record(
                        snap.server_time,
                        q.length,
                        q.oldest_id.as_ref(),
                    );
                }
                let at = snap.fetched_at;
                self.queues.loaded(snap, at);
                vec![]
            }
            SourceMsg::JobsLoaded(page) => {
                if !self.view.accepts(&page.query) {
                    return vec![]; // an answer to a filter the user has since changed
                }
                let at = page.fetched_at;
                self.view.page_arrived(&page);
                self.jobs.loaded(page, at);
                self.view.refetch_if_needed().into_iter().map(Effect::FetchJobs).collect()
            }
            SourceMsg::DetailLoaded { id, detail, at } => {
                self.rag.on_detail(&id, detail.as_deref(), at);
                if let Some(d) = self.detail.as_mut().filter(|d| d.id == id) {
                    d.data.loaded(detail.map(|b| *b), at);
                }
                vec![]
            }
            SourceMsg::Failed { feed, error, at, retry_at } => {
                let message = error.to_string();
                match feed {
                    Feed::Queues => self.queues.failed(message, at, retry_at),
                    Feed::Jobs => self.jobs.failed(message, at, retry_at),
                    Feed::Detail => {
                        self.rag.on_detail_failed(message.clone(), at, retry_at);
                        if let Some(d) = self.detail.as_mut() {
                            d.data.failed(message, at, retry_at);
                        }
                    }
                    _ => {}
                }
                vec![]
            }
            SourceMsg::EventsState { connected, error, .. } => {
                self.events = EventsStatus { connected, error };
                vec![]
            }
            _ => vec![],
        }
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            self.quit = true;
            return vec![Effect::Quit];
        }
        if let Some(popup) = self.popup.as_mut() {
            return match popup.on_key(key) {
                PopupOutcome::Stay => vec![],
                PopupOutcome::Close => {
                    self.popup = None;
                    vec![]
                }
                PopupOutcome::Confirm(req) => {
                    self.popup = Some(Popup::Confirm(req));
                    vec![]
                }
                PopupOutcome::Run(req) => {
                    self.popup = None;
                    vec![Effect::RunAction(req)]
                }
            };
        }
        match self.mode {
            Mode::Help => {
                self.mode =
                    if self.detail.is_some() || self.ops.detail.is_some() { Mode::Detail } else { Mode::Normal };
                vec![]
            }
            Mode::Filter => self.on_filter_key(key),
            Mode::RagQuery => self.on_rag_query_key(key),
            Mode::Detail | Mode::Normal => match self.keymap.action(&key) {
                Some(action) => self.on_action(action),
                None => vec![],
            },
        }
    }

    fn on_filter_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        match key.code {
            KeyCode::Enter => {
                self.mode = Mode::Normal;
                vec![]
            }
            KeyCode::Esc => {
                self.mode = Mode::Normal;
                self.filter_input = TextArea::default();
                self.apply_filter(String::new())
            }
            _ => {
                self.filter_input.input(key);
                let text = self.filter_input.lines().first().cloned().unwrap_or_default();
                self.apply_filter(text)
            }
        }
    }

    fn on_rag_query_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let history = &self.rag.history;
        let recall = match key.code {
            KeyCode::Enter => {
                let text = self.rag_input.lines().first().cloned().unwrap_or_default();
                self.mode = Mode::Normal;
                self.rag_input = TextArea::default();
                self.focus = PaneId::Rag;
                return self.rag.submit(&text, self.now).into_iter().map(Effect::RagSearch).collect();
            }
            KeyCode::Esc => {
                self.mode = Mode::Normal;
                self.rag_input = TextArea::default();
                return vec![];
            }
            KeyCode::Up if !history.is_empty() => {
                Some(self.rag_history_pos.map_or(history.len() - 1, |p| p.saturating_sub(1)))
            }
            KeyCode::Down => match self.rag_history_pos {
                Some(p) if p + 1 < history.len() => Some(p + 1),
                _ => None,
            },
            _ => {
                self.rag_input.input(key);
                return vec![];
            }
        };
        self.rag_history_pos = recall;
        let text = recall.and_then(|i| history.get(i)).cloned().unwrap_or_default();
        self.rag_input = TextArea::new(vec![text]);
        self.rag_input.move_cursor(ratatui_textarea::CursorMove::End);
        vec![]
    }

    /// Open the knowledge-base query box.
    fn open_rag_query(&mut self) -> Vec<Effect> {
        self.rag_input = TextArea::default();
        self.rag_history_pos = None;
        self.mode = Mode::RagQuery;
        vec![]
    }

    /// Point the RAG pane at what the operator is looking at: the selected job or alert.
    fn sync_rag(&mut self) -> Vec<Effect> {
        let subject = match self.rag.follow {
            Follow::Jobs => self.view.selected_id().map(Subject::Job),
            Follow::Alerts => self.ops.selected_alert().map(|a| Subject::Alert {
                fingerprint: a.fingerprint.clone(),
                name: a.name().to_string(),
                query: alert_query(a),
            }),
            Follow::Query => None,
        };
        let Some(subject) = subject else { return vec![] };
        if self.rag.is_current(&subject) {
            return vec![];
        }
        let was = self.rag.followed_job().map(String::from);
        let mut effects: Vec<Effect> =
            self.rag.set_subject(subject, self.now).into_iter().map(Effect::RagSearch).collect();
        let now_following = self.rag.followed_job().map(String::from);
        if self.detail.is_none() && now_following != was {
            effects.push(Effect::FollowDetail(now_following));
        }
        effects
    }

    fn apply_filter(&mut self, text: String) -> Vec<Effect> {
        if self.filter_target == PaneId::Alerts {
            self.ops.set_alert_filter(text);
            return vec![];
        }
        self.view.set_filter(text).into_iter().map(Effect::FetchJobs).collect()
    }

    /// Visible list rows of a pane at the current size.
    fn pane_rows(&self, pane: PaneId) -> usize {
        let area = ratatui::layout::Rect::new(0, 0, self.size.0, self.size.1);
        let zoomed = self.zoomed.then_some(self.focus);
        let areas = layout::compute(area, zoomed, self.queue_slots);
        areas.pane(pane).map(|r| r.height.saturating_sub(3) as usize).unwrap_or(1).max(1)
    }

    /// Movement in the Alerts or Health pane.
    fn move_ops(&mut self, action: Action) -> bool {
        let pane = self.focus;
        let rows = self.pane_rows(pane);
        let Some(delta) = movement(action, rows) else { return false };
        match pane {
            PaneId::Alerts => self.ops.move_alerts(delta, rows),
            PaneId::Health => self.ops.move_containers(delta, rows),
            _ => return false,
        }
        true
    }

    fn on_action(&mut self, action: Action) -> Vec<Effect> {
        if self.mode == Mode::Detail {
            return self.on_detail_action(action);
        }
        if matches!(self.focus, PaneId::Alerts | PaneId::Health) && self.move_ops(action) {
            return vec![];
        }
        if self.focus == PaneId::Rag && self.move_rag(action) {
            return vec![];
        }
        let in_jobs = self.focus == PaneId::Jobs;
        let fetch = |q: Option<JobsQuery>| q.into_iter().map(Effect::FetchJobs).collect::<Vec<_>>();
        match action {
            Action::Quit => {
                self.quit = true;
                vec![Effect::Quit]
            }
            Action::Help => {
                self.mode = Mode::Help;
                vec![]
            }
            Action::Down if in_jobs => fetch(self.view.move_by(1)),
            Action::Up if in_jobs => fetch(self.view.move_by(-1)),
            Action::PageDown if in_jobs => fetch(self.view.move_by(self.view.rows() as isize)),
            Action::PageUp if in_jobs => fetch(self.view.move_by(-(self.view.rows() as isize))),
            Action::Top if in_jobs => fetch(self.view.move_by(isize::MIN / 2)),
            Action::Bottom if in_jobs => fetch(self.view.move_by(isize::MAX / 2)),
            Action::NextPane | Action::PrevPane => {
                let i = self.focus.number() - 1;
                let n = PaneId::ALL.len();
                let next = if action == Action::NextPane { (i + 1) % n } else { (i + n - 1) % n };
                self.focus(PaneId::ALL[next])
            }
            Action::FocusQueue => self.focus(PaneId::Queue),
            Action::FocusJobs => self.focus(PaneId::Jobs),
            Action::FocusHealth => self.focus(PaneId::Health),
            Action::FocusAlerts => self.focus(PaneId::Alerts),
            Action::FocusRag => self.focus(PaneId::Rag),
            Action::FocusApprovals => self.focus(PaneId::Approvals),
            Action::FocusBackups => self.focus(PaneId::Backups),
            Action::Zoom => {
                self.zoomed = !self.zoomed;
                self.relayout()
            }
            Action::Filter if self.focus == PaneId::Rag => self.open_rag_query(),
            Action::SearchKb => {
                self.focus = PaneId::Rag;
                self.open_rag_query()
            }
            Action::Filter => {
                if self.focus != PaneId::Alerts {
                    self.focus = PaneId::Jobs;
                }
                self.filter_target = self.focus;
                let current = if self.focus == PaneId::Alerts { &self.ops.alert_filter } else { self.view.filter() };
                self.filter_input = TextArea::new(vec![current.to_string()]);
                self.filter_input.move_cursor(ratatui_textarea::CursorMove::End);
                self.mode = Mode::Filter;
                self.relayout()
            }
            Action::ToggleFailures => {
                self.focus = PaneId::Jobs;
                fetch(self.view.toggle_failures())
            }
            Action::Silence | Action::Ack | Action::Expire if self.focus == PaneId::Alerts => {
                self.alert_action(action);
                vec![]
            }
            Action::Open if self.focus == PaneId::Alerts => {
                self.open_ops(self.ops.selected_alert().map(|a| OpsDetail::Alert(a.fingerprint.clone())))
            }
            Action::Open if self.focus == PaneId::Rag => {
                self.open_ops(self.rag.selected_hit().map(|h| OpsDetail::Hit(Box::new(h.clone()))))
            }
            Action::Open if self.focus == PaneId::Health => {
                self.open_ops(self.ops.selected_container().map(|c| OpsDetail::Container(c.id.clone())))
            }
            Action::Open if in_jobs => match self.view.selected_id() {
                Some(id) => {
                    self.detail = Some(DetailView { id: id.clone(), ..Default::default() });
                    self.mode = Mode::Detail;
                    vec![Effect::FollowDetail(Some(id))]
                }
                None => vec![],
            },
            Action::Back if self.zoomed => {
                self.zoomed = false;
                self.relayout()
            }
            Action::Back if self.focus == PaneId::Alerts && !self.ops.alert_filter.is_empty() => {
                self.filter_input = TextArea::default();
                self.ops.set_alert_filter(String::new());
                vec![]
            }
            Action::Back if !self.view.filter().is_empty() => {
                self.filter_input = TextArea::default();
                fetch(self.view.set_filter(String::new()))
            }
            _ => vec![],
        }
    }

    /// Open the form or the confirmation for an action on the selected alert. Nothing runs
    /// without a confirmation that names the target.
    fn alert_action(&mut self, action: Action) {
        let Some(alert) = self.ops.selected_alert() else { return };
        let target = format!("{} on {}", alert.name(), alert.labels.get("instance").map(String::as_str).unwrap_or("?"));
        let ams = alert.sources.clone();
        self.popup = match action {
            Action::Silence => Some(Popup::Silence(Box::new(SilenceForm::new(&matchers_for(alert), ams, target)))),
            Action::Ack => {
                Some(Popup::Confirm(ActionRequest::Ack { matchers: matchers_for(alert), alertmanagers: ams, target }))
            }
            _ => match alert.silenced_by.first() {
                Some(id) => Some(Popup::Confirm(ActionRequest::SilenceExpire { id: id.clone(), alertmanagers: ams })),
                None => {
                    self.toast = Some(Toast { text: format!("{target} is not silenced"), ok: false, at: self.now });
                    None
                }
            },
        };
    }

    fn open_ops(&mut self, detail: Option<OpsDetail>) -> Vec<Effect> {
        if let Some(d) = detail {
            self.ops.detail = Some((d, 0));
            self.mode = Mode::Detail;
        }
        vec![]
    }

    fn on_detail_action(&mut self, action: Action) -> Vec<Effect> {
        if let Some((_, scroll)) = self.ops.detail.as_mut() {
            match action {
                Action::Back | Action::Open => {
                    self.ops.detail = None;
                    self.mode = Mode::Normal;
                }
                Action::Quit => {
                    self.quit = true;
                    return vec![Effect::Quit];
                }
                Action::Help => self.mode = Mode::Help,
                Action::Down => *scroll = scroll.saturating_add(1),
                Action::Up => *scroll = scroll.saturating_sub(1),
                Action::Top => *scroll = 0,
                _ => {}
            }
            return vec![];
        }
        let Some(detail) = self.detail.as_mut() else {
            self.mode = Mode::Normal;
            return vec![];
        };
        match action {
            Action::Back | Action::Open => {
                self.detail = None;
                self.mode = Mode::Normal;
                // The RAG pane may still want the selected job's stored hits.
                vec![Effect::FollowDetail(self.rag.followed_job().map(String::from))]
            }
            Action::Quit => {
                self.quit = true;
                vec![Effect::Quit]
            }
            Action::Help => {
                self.mode = Mode::Help;
                vec![]
            }
            Action::Down => {
                detail.scroll = detail.scroll.saturating_add(1);
                vec![]
            }
            Action::Up => {
                detail.scroll = detail.scroll.saturating_sub(1);
                vec![]
            }
            Action::PageDown => {
                detail.scroll = detail.scroll.saturating_add(self.size.1 / 2);
                vec![]
            }
            Action::PageUp => {
                detail.scroll = detail.scroll.saturating_sub(self.size.1 / 2);
                vec![]
            }
            Action::Top => {
                detail.scroll = 0;
                vec![]
            }
            _ => vec![],
        }
    }

    /// Movement among the RAG pane's hits.
    fn move_rag(&mut self, action: Action) -> bool {
        // Less the pane's description and subject lines.
        let rows = self.pane_rows(PaneId::Rag).saturating_sub(2).max(1);
        let Some(delta) = movement(action, rows) else { return false };
        self.rag.move_cursor(delta, rows);
        true
    }

    fn focus(&mut self, pane: PaneId) -> Vec<Effect> {
        self.focus = pane;
        match pane {
            PaneId::Jobs => self.rag.follow = Follow::Jobs,
            PaneId::Alerts => self.rag.follow = Follow::Alerts,
            _ => {}
        }
        if self.zoomed { self.relayout() } else { vec![] }
    }
}

/// How far a movement key moves a cursor in a list showing `rows` rows.
fn movement(action: Action, rows: usize) -> Option<isize> {
    Some(match action {
        Action::Down => 1,
        Action::Up => -1,
        Action::PageDown => rows as isize,
        Action::PageUp => -(rows as isize),
        Action::Top => isize::MIN / 2,
        Action::Bottom => isize::MAX / 2,
        _ => return None,
    })
}

#[cfg(test)]
#[path = "app_tests.rs"]
mod tests;
