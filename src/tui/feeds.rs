//! Runtime messages into the app: each goes to the state of its feed (a failure also to the
//! error history), and the RAG pane follows what the operator is looking at.

use super::app::{App, Effect, PaneId, Toast};
use super::jobs_state::fetch;
use super::rag_state::{Follow, Subject, alert_query};
use crate::runtime::{Feed, SourceMsg};

impl App {
    /// Route a runtime message to the state of its feed.
    pub(super) fn on_source(&mut self, msg: SourceMsg) -> Vec<Effect> {
        if let SourceMsg::Notice { feed, text, at } = &msg {
            self.errors.push(*at, &format!("{} · {}", self.context, feed.name()), text);
            self.toast = Some(Toast { text: text.clone(), ok: true, at: self.now });
            return vec![];
        }
        match &msg {
            SourceMsg::Failed { feed, error, at, .. } => {
                self.errors.push(*at, &format!("{} · {}", self.context, feed.name()), &error.to_string())
            }
            SourceMsg::PushState { feed, connected: false, error: Some(e), at } => {
                self.errors.push(*at, &format!("{} · {}", self.context, feed.name()), e)
            }
            SourceMsg::PushState { .. } => {}
            _ => {
                if let Some(started) = self.switched_at.take() {
                    let ms = started.elapsed().as_millis();
                    // The runtime's live tasks once the new context is running: a switch that
                    // leaked would leave this growing (tests/contexts.rs reads it from the log).
                    let alive_tasks =
                        tokio::runtime::Handle::try_current().map(|h| h.metrics().num_alive_tasks()).unwrap_or(0);
                    tracing::info!(context = %self.context, ms, alive_tasks, "first data after switching context");
                    let text = format!("switched to context {} (first data after {ms} ms)", self.context);
                    self.toast = Some(Toast { text, ok: true, at: self.now });
                }
            }
        }
        match msg.feed() {
            Feed::Detail => {
                // The RAG pane shows the followed job's stored hits from the same feed.
                self.approvals.on_detail(&msg);
                match &msg {
                    SourceMsg::DetailLoaded { id, detail, at } => self.rag.on_detail(id, detail.as_deref(), *at),
                    SourceMsg::Failed { error, at, retry_at, .. } => {
                        self.rag.on_detail_failed(error.to_string(), *at, *retry_at)
                    }
                    _ => {}
                }
                fetch(self.jobs.on_source(msg))
            }
            Feed::Approvals => {
                self.approvals.on_source(msg);
                if std::mem::take(&mut self.approvals.arrived) > 0 && self.bell {
                    self.ring = true;
                }
                vec![]
            }
            Feed::Queues | Feed::Jobs | Feed::Events => fetch(self.jobs.on_source(msg)),
            Feed::Containers
            | Feed::ContainerEvents
            | Feed::Services
            | Feed::Targets
            | Feed::Alerts
            | Feed::Pipeline => {
                self.ops.on_source(msg);
                vec![]
            }
            Feed::Knowledge | Feed::Search => {
                self.rag.on_source(&msg);
                vec![]
            }
        }
    }

    /// Point the RAG pane at what the operator is looking at: the selected job or alert.
    pub(super) fn sync_rag(&mut self) -> Vec<Effect> {
        let followed = self.rag.followed_job();
        let page = self.jobs.page.data.as_ref();
        self.rag.followed_status =
            followed.and_then(|id| page?.jobs.iter().find(|j| j.id == id)).map(|j| j.status.clone());
        let subject = match self.rag.follow {
            // The Approvals pane follows its own selection: its draft, analysis and hits.
            Follow::Jobs if self.focus == PaneId::Approvals => {
                self.approvals.selected_id().map(|s| Subject::Job(s.to_string()))
            }
            Follow::Jobs => self.jobs.view.selected_id().map(Subject::Job),
            Follow::Alerts => self.ops.selected_alert().map(|a| Subject::Alert {
                fingerprint: a.fingerprint.clone(),
                name: a.name().to_string(),
                query: alert_query(a),
            }),
            Follow::Query => None,
        };
        let Some(subject) = subject.filter(|s| !self.rag.is_current(s)) else { return vec![] };
        let was = self.rag.followed_job().map(String::from);
        let mut effects: Vec<Effect> =
            self.rag.set_subject(subject, self.now).into_iter().map(Effect::RagSearch).collect();
        let now_following = self.rag.followed_job().map(String::from);
        if self.jobs.detail.is_none() && now_following != was {
            effects.push(Effect::FollowDetail(now_following));
        }
        effects
    }
}
