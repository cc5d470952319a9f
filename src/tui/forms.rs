//! The action forms, on ratatui-textarea: a new analysis (prefilled from the selected alert or
//! job), approving a draft (title and body editable, an optional note) and rejecting one (a
//! required note). Submitting checks the input and asks for a confirmation naming the target;
//! nothing is sent from here.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui_textarea::{CursorMove, TextArea};

use super::keymap::{Action, KeyMode};
use super::panes::{RenderCtx, centered};
use super::popup::PopupOutcome;
use crate::actions::{ActionRequest, JobRef};
use crate::domain::action::AnalysisRequest;
use crate::domain::text::clean_line;

/// One field: its label, its text, whether Enter adds a line in it.
pub struct Field {
    pub label: &'static str,
    pub text: TextArea<'static>,
    pub multiline: bool,
}

impl Field {
    fn new(label: &'static str, value: &str, multiline: bool) -> Field {
        // Text from alerts may end its lines with CR LF.
        let value = value.replace("\r\n", "\n").replace('\r', "\n");
        let mut text = TextArea::new(value.split('\n').map(String::from).collect());
        text.move_cursor(CursorMove::Bottom);
        text.move_cursor(CursorMove::End);
        Field { label, text, multiline }
    }

    pub fn value(&self) -> String {
        let joined = if self.multiline { self.text.lines().join("\n") } else { self.text.lines().join(" ") };
        if self.multiline { joined.trim_end().to_string() } else { joined.trim().to_string() }
    }
}

/// What the form does once submitted.
#[derive(Debug, Clone, PartialEq)]
pub enum FormKind {
    Analyze,
    Approve { job: JobRef, draft_title: String, draft_body: String },
    Reject { job: JobRef },
}

pub struct Form {
    pub title: String,
    pub kind: FormKind,
    pub fields: Vec<Field>,
    pub focus: usize,
    pub error: Option<String>,
}

impl Form {
    /// A new analysis, prefilled (fields left empty when there is nothing to fill them with).
    pub fn analyze(prefill: &AnalysisRequest, from: &str) -> Form {
        let p = prefill;
        let fields = vec![
            Field::new("alert type", &p.alert_type, false),
            Field::new("source", if p.source.is_empty() { "manual" } else { &p.source }, false),
            Field::new("hostname", &p.hostname, false),
            Field::new("severity (critical, high, medium, low)", &p.severity, false),
            Field::new("description", &p.description, true),
            Field::new("metrics (optional)", p.metrics.as_deref().unwrap_or(""), true),
            Field::new("logs (optional)", p.logs.as_deref().unwrap_or(""), true),
            Field::new("crowdsec alerts (optional, JSON)", p.crowdsec_alerts.as_deref().unwrap_or(""), true),
        ];
        let focus = fields.iter().position(|f| f.value().is_empty()).unwrap_or(4);
        let title = if from.is_empty() { "New analysis".to_string() } else { format!("New analysis from {from}") };
        Form { title, kind: FormKind::Analyze, fields, focus, error: None }
    }

    /// Approve a draft: its title and body as they stand, editable; an optional note.
    pub fn approve(job: JobRef, title: &str, body: &str, edit: bool) -> Form {
        let fields = vec![
            Field::new("ticket title (keeps the [job …] mark)", title, false),
            Field::new("ticket body", body, true),
            Field::new("note (optional)", "", false),
        ];
        let focus = if edit { 0 } else { 2 };
        let kind = FormKind::Approve { job: job.clone(), draft_title: title.into(), draft_body: body.into() };
        Form { title: format!("Approve {}", job.describe()), kind, fields, focus, error: None }
    }

    pub fn reject(job: JobRef) -> Form {
        let fields = vec![Field::new("why (required)", "", false)];
        Form {
            title: format!("Reject {}", job.describe()),
            kind: FormKind::Reject { job },
            fields,
            focus: 0,
            error: None,
        }
    }

    fn value(&self, i: usize) -> String {
        self.fields.get(i).map(Field::value).unwrap_or_default()
    }

    /// The request the form describes, or what is wrong with it (naming the field).
    pub fn request(&self) -> Result<ActionRequest, String> {
        match &self.kind {
            FormKind::Analyze => {
                let optional = |i: usize| Some(self.value(i)).filter(|v| !v.is_empty());
                let request = AnalysisRequest {
                    alert_type: self.value(0),
                    source: self.value(1),
                    hostname: self.value(2),
                    severity: self.value(3),
                    timestamp: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    description: self.value(4),
                    metrics: optional(5),
                    logs: optional(6),
                    crowdsec_alerts: optional(7),
                };
                request.validate()?;
                Ok(ActionRequest::Analyze { request })
            }
            FormKind::Approve { job, draft_title, draft_body } => {
                let (title, body, note) = (self.value(0), self.value(1), self.value(2));
                if title.is_empty() {
                    return Err("ticket title is required".into());
                }
                let marker = crate::domain::action::job_marker(&job.id);
                let title = if title.contains(&marker) { title } else { format!("{marker} {title}") };
                let edited = &title != draft_title || body.trim_end() != draft_body.trim_end();
                Ok(ActionRequest::Approve {
                    job: job.clone(),
                    note: Some(note).filter(|n| !n.is_empty()),
                    title: Some(title),
                    body: Some(body),
                    edited,
                })
            }
            FormKind::Reject { job } => {
                let note = self.value(0);
                if note.is_empty() {
                    return Err("a rejection needs a note: say why".into());
                }
                Ok(ActionRequest::Reject { job: job.clone(), note })
            }
        }
    }

    pub fn on_key(&mut self, key: KeyEvent, action: Option<Action>) -> PopupOutcome {
        let n = self.fields.len();
        let multiline = self.fields.get(self.focus).is_some_and(|f| f.multiline);
        match action {
            Some(Action::Cancel) => PopupOutcome::Close,
            Some(Action::NextField) => {
                self.focus = (self.focus + 1) % n;
                PopupOutcome::Stay
            }
            Some(Action::PrevField) => {
                self.focus = (self.focus + n - 1) % n;
                PopupOutcome::Stay
            }
            // Enter adds a line in a multi-line field; Ctrl-S submits from anywhere.
            Some(Action::Submit) if !(key.code == KeyCode::Enter && multiline) => match self.request() {
                Ok(r) => PopupOutcome::Confirm(vec![r]),
                Err(e) => {
                    self.error = Some(e);
                    PopupOutcome::Stay
                }
            },
            _ => {
                self.error = None;
                if let Some(f) = self.fields.get_mut(self.focus) {
                    f.text.input(key);
                }
                PopupOutcome::Stay
            }
        }
    }

    pub fn render(&self, f: &mut Frame, area: Rect, ctx: &RenderCtx<'_>) {
        let t = ctx.theme;
        let heights: Vec<u16> = self
            .fields
            .iter()
            .enumerate()
            .map(|(i, fl)| match (fl.multiline, i == self.focus) {
                (false, _) => 3,
                (true, true) => 8,
                (true, false) => 4,
            })
            .collect();
        let width = 90.min(area.width);
        let hint_rows = hint_rows(self.error.as_deref(), width.saturating_sub(2));
        let want = heights.iter().sum::<u16>() + 2 + hint_rows;
        let popup = centered(area, width, want.min(area.height));
        f.render_widget(Clear, popup);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(t.border_focused)
            .title(Span::styled(format!(" {} ", clean_line(&self.title)), t.title));
        let inner = block.inner(popup);
        f.render_widget(block, popup);
        let mut constraints: Vec<Constraint> = heights.iter().map(|h| Constraint::Max(*h)).collect();
        constraints.push(Constraint::Length(hint_rows));
        let rows = Layout::vertical(constraints).split(inner);
        for (i, field) in self.fields.iter().enumerate() {
            let style: Style = if self.focus == i { t.border_focused } else { t.border };
            let mut text = field.text.clone();
            text.set_block(Block::default().borders(Borders::ALL).border_style(style).title(field.label));
            text.set_cursor_line_style(Style::default());
            f.render_widget(&text, rows[i]);
        }
        let keys = |a: Action| ctx.keys.map(|k| k.keys_in(KeyMode::Form, a)).unwrap_or_default();
        let hint = match &self.error {
            Some(e) => Line::styled(format!("✗ {}", clean_line(e)), t.error),
            None => Line::styled(
                format!(
                    "{} next field · {} continue (enter adds a line in text) · {} cancel",
                    keys(Action::NextField),
                    keys(Action::Submit),
                    keys(Action::Cancel)
                ),
                t.muted,
            ),
        };
        if let Some(r) = rows.last() {
            f.render_widget(Paragraph::new(hint).wrap(Wrap { trim: false }), *r);
        }
    }
}

/// Rows for a form's last line: its error in full (up to three rows), or the keys in one.
pub fn hint_rows(error: Option<&str>, width: u16) -> u16 {
    let cells = |e: &str| unicode_width::UnicodeWidthStr::width(clean_line(e).as_str()) + 2;
    error.map(|e| (cells(e) as u16).div_ceil(width.max(1)).clamp(1, 3)).unwrap_or(1)
}

/// An analysis request prefilled from an alert: its name, the system it came from, instance or
/// host (without the port), severity (Alertmanager's `warning` is medium, `info` low) and
/// description or summary; a CrowdSec alert also fills `crowdsec_alerts` with itself and its
/// decisions.
pub fn from_alert(a: &crate::domain::Alert) -> AnalysisRequest {
    let host =
        a.labels.get("instance").or(a.labels.get("host")).or(a.labels.get("hostname")).cloned().unwrap_or_default();
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) && !h.is_empty() => h.to_string(),
        _ => host,
    };
    // The same mapping the Alerts pane shows (`Alert::severity`); unknown leaves it to the user.
    let severity = match a.severity() {
        crate::domain::Severity::Unknown => "",
        s => s.as_str(),
    };
    let ann = |k: &str| a.annotations.get(k).cloned();
    AnalysisRequest {
        alert_type: a.name().to_string(),
        source: a.origin.system().into(),
        hostname: host,
        severity: severity.into(),
        description: ann("description").or(ann("summary")).unwrap_or_default(),
        crowdsec_alerts: crate::clients::crowdsec::analysis_context(a),
        ..Default::default()
    }
}

/// An analysis request prefilled from a job's fields.
pub fn from_job(d: &crate::domain::JobDetail) -> AnalysisRequest {
    // The detail view does not load huge fields; their placeholder is not the value.
    let loaded = |v: &&str| !(v.starts_with('(') && v.ends_with(" bytes not loaded)"));
    let f = |k: &str| d.field(k).filter(loaded).unwrap_or("").to_string();
    AnalysisRequest {
        alert_type: f("alert_type"),
        source: f("source"),
        hostname: f("hostname"),
        severity: f("severity"),
        description: f("description"),
        metrics: d.field("metrics").filter(loaded).map(String::from),
        logs: d.field("logs").filter(loaded).map(String::from),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_alert_prefills_an_analysis_and_crowdsec_brings_its_decisions() {
        let now = chrono::Utc::now();
        let alerts = crate::demo::DemoPlatform::new(1, now).monitor_alerts();
        let zbx = alerts.iter().find(|a| a.origin.system() == "zabbix").map(from_alert).unwrap_or_default();
        assert_eq!((zbx.source.as_str(), zbx.hostname.as_str(), zbx.severity.as_str()), ("zabbix", "db-01", "high"));
        assert_eq!(zbx.crowdsec_alerts, None);
        let cs = alerts.iter().find(|a| a.origin.system() == "crowdsec").map(from_alert).unwrap_or_default();
        assert_eq!((cs.source.as_str(), cs.hostname.as_str()), ("crowdsec", "198.51.100.23"));
        let ctx: serde_json::Value =
            serde_json::from_str(cs.crowdsec_alerts.as_deref().unwrap_or("")).unwrap_or_default();
        assert_eq!(ctx[0]["decisions"][0]["value"], "198.51.100.23", "{ctx}");
        let form = Form::analyze(&cs, "alert");
        let Ok(ActionRequest::Analyze { request }) = form.request() else { unreachable!("a valid form") };
        assert_eq!(request.crowdsec_alerts, cs.crowdsec_alerts, "the form sends what it was filled with");
    }
}
