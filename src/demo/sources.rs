//! The demo platform behind the same interfaces as the real clients: jobs, operations (silences
//! included, so every alert action works in `--demo`) and the knowledge base.

use futures_util::{FutureExt, StreamExt, stream};
use tokio::sync::broadcast;

use super::{DemoPlatform, kb};
use crate::clients::alertmanager::{Matcher, NewSilence};
use crate::clients::{RagError, SourceError};
use crate::domain::alert::AlertSource;
use crate::domain::pipeline::PipelineSnapshot;
use crate::domain::{
    AlertState, AlertsSnapshot, Container, JobDetail, JobsPage, JobsQuery, KbStats, Origin, QueueSnapshot,
};
use crate::domain::{RagSearch, ServiceStatus, Target};
use crate::sources::{BoxFuture, EventStream, IdStream, JobSource, KnowledgeSource, OpsConfigured, OpsSource};
use crate::sources::{SearchDefaults, Sources};
use std::sync::Arc;

/// The demo's two Alertmanagers (an HA pair).
const ALERTMANAGERS: [&str; 2] = ["am-a", "am-b"];

/// A silence created in the demo.
#[derive(Debug, Clone)]
pub(super) struct DemoSilence {
    pub id: String,
    pub matchers: Vec<Matcher>,
    pub ends_at: chrono::DateTime<chrono::Utc>,
}

impl DemoSilence {
    /// Whether the silence covers labels. Regular expressions are not evaluated in the demo: a
    /// regex matcher matches its value literally, or anything for `.*` and `.+`.
    fn covers(&self, labels: &std::collections::BTreeMap<String, String>) -> bool {
        self.matchers.iter().all(|m| {
            let value = labels.get(&m.name).map(String::as_str).unwrap_or("");
            let hit = value == m.value || (m.is_regex && matches!(m.value.as_str(), ".*" | ".+"));
            hit == m.is_equal
        })
    }
}

/// A broadcast channel as a stream that skips what it missed and ends when the sender goes.
fn subscribe<T: Clone + Send + 'static>(rx: broadcast::Receiver<T>) -> impl futures_util::Stream<Item = T> + Send {
    stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(item) => return Some((item, rx)),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
}

impl JobSource for DemoPlatform {
    fn name(&self) -> &str {
        "demo"
    }
    fn queues(&self) -> BoxFuture<'_, Result<QueueSnapshot, SourceError>> {
        let snap = self.lock().snapshot();
        async move { Ok(snap) }.boxed()
    }
    fn jobs(&self, query: JobsQuery) -> BoxFuture<'_, Result<JobsPage, SourceError>> {
        let page = self.lock().page(query);
        async move { Ok(page) }.boxed()
    }
    fn job_detail(&self, id: String) -> BoxFuture<'_, Result<Option<JobDetail>, SourceError>> {
        let detail = {
            let st = self.lock();
            st.jobs.get(&id).map(|j| JobDetail::from_fields(&id, &j.fields, st.now))
        };
        async move { Ok(detail) }.boxed()
    }
    fn events(&self) -> BoxFuture<'_, Result<EventStream, SourceError>> {
        let events: EventStream = subscribe(self.events.subscribe()).boxed();
        async move { Ok(events) }.boxed()
    }
}

impl OpsSource for DemoPlatform {
    fn configured(&self) -> OpsConfigured {
        OpsConfigured { containers: true, services: true, targets: true, alerts: true, pipeline: true }
    }
    fn containers(&self) -> BoxFuture<'_, Result<Vec<Container>, SourceError>> {
        let c = self.lock().ops.containers.clone();
        async move { Ok(c) }.boxed()
    }
    fn container_events(&self) -> BoxFuture<'_, Result<IdStream, SourceError>> {
        let ids: IdStream = subscribe(self.container_events.subscribe()).boxed();
        async move { Ok(ids) }.boxed()
    }
    fn services(&self) -> BoxFuture<'_, Result<Vec<ServiceStatus>, SourceError>> {
        let s = self.lock().ops.services();
        async move { Ok(s) }.boxed()
    }
    fn targets(&self) -> BoxFuture<'_, Result<Vec<Target>, SourceError>> {
        let t = self.lock().ops.targets.clone();
        async move { Ok(t) }.boxed()
    }
    fn alerts(&self) -> BoxFuture<'_, Result<AlertsSnapshot, SourceError>> {
        let snap = self.alerts_now();
        async move { Ok(snap) }.boxed()
    }
    fn pipeline(&self) -> BoxFuture<'_, Result<PipelineSnapshot, SourceError>> {
        let snap = self.pipeline_now();
        async move { Ok(snap) }.boxed()
    }
    fn alertmanagers(&self) -> Vec<String> {
        ALERTMANAGERS.iter().map(|s| s.to_string()).collect()
    }
    fn logs<'a>(
        &'a self,
        container: &'a str,
        request: crate::sources::LogsRequest,
        out: tokio::sync::mpsc::Sender<crate::sources::LogFrame>,
    ) -> BoxFuture<'a, Result<(), SourceError>> {
        let known = self.lock().ops.containers.iter().any(|c| c.id == container || c.name == container);
        async move {
            if !known {
                return Err(SourceError::Http { status: 404, message: format!("No such container: {container}") });
            }
            super::logs::stream(container, request, out).await;
            Ok(())
        }
        .boxed()
    }
    fn create_silence<'a>(
        &'a self,
        am: &'a str,
        silence: &'a NewSilence,
    ) -> BoxFuture<'a, Result<String, SourceError>> {
        let result = if ALERTMANAGERS.contains(&am) {
            let mut st = self.lock();
            // One silence serves the HA pair, as gossip would make it.
            let existing = st.silences.iter().find(|s| s.matchers == silence.matchers && s.ends_at == silence.ends_at);
            let id = match existing {
                Some(s) => s.id.clone(),
                None => {
                    let id = format!("demo-silence-{}", st.silences.len() + 1);
                    let ends_at = silence.ends_at;
                    st.silences.push(DemoSilence { id: id.clone(), matchers: silence.matchers.clone(), ends_at });
                    id
                }
            };
            Ok(id)
        } else {
            Err(SourceError::Connect(format!("no Alertmanager named {am} in the demo")))
        };
        async move { result }.boxed()
    }
    fn acknowledge_problem<'a>(
        &'a self,
        server: &'a str,
        eventid: &'a str,
        message: &'a str,
    ) -> BoxFuture<'a, Result<bool, SourceError>> {
        let result = {
            let mut st = self.lock();
            let problem = st.ops.alerts.iter_mut().find_map(|a| match &mut a.origin {
                Origin::Zabbix { server: s, eventid: e, acknowledged, .. } if s == server && e == eventid => {
                    Some(acknowledged)
                }
                _ => None,
            });
            match problem {
                // As Zabbix answers for an event that does not exist.
                None => Err(SourceError::Server(format!(
                    "Zabbix event.acknowledge: Application error. No permissions to referred object or it does not exist! ({eventid})"
                ))),
                Some(true) => Ok(true),
                Some(acked) => {
                    *acked = true;
                    tracing::info!(%server, %eventid, %message, "demo: problem acknowledged");
                    Ok(false)
                }
            }
        };
        async move { result }.boxed()
    }
    fn expire_silence<'a>(&'a self, _am: &'a str, id: &'a str) -> BoxFuture<'a, Result<(), SourceError>> {
        let result = {
            let mut st = self.lock();
            let before = st.silences.len();
            st.silences.retain(|s| s.id != id);
            if st.silences.len() < before || st.ops.alerts.iter().any(|a| a.silenced_by.iter().any(|s| s == id)) {
                st.ops.alerts.iter_mut().filter(|a| a.silenced_by.iter().any(|s| s == id)).for_each(|a| {
                    a.silenced_by.retain(|s| s != id);
                    if a.silenced_by.is_empty() {
                        a.state = AlertState::Active;
                    }
                });
                Ok(())
            } else {
                Err(SourceError::Http { status: 404, message: format!("silence {id} not found") })
            }
        };
        async move { result }.boxed()
    }
}

impl DemoPlatform {
    /// A new simulated platform behind every interface, seeded, starting at `now` (the headless
    /// commands' one-off platform; the dashboard's live in `DemoWorlds`).
    pub fn fresh_sources(seed: u64, now: chrono::DateTime<chrono::Utc>) -> Sources {
        DemoPlatform::new(seed, now).sources()
    }

    /// This platform behind every interface (clones sharing its state).
    pub fn sources(&self) -> Sources {
        let demo = self.clone();
        Sources {
            jobs: Some(Arc::new(demo.clone())),
            control: Some(Arc::new(demo.clone())),
            gateway: None,
            tickets: Some(Arc::new(demo.clone())),
            notify: Some(Arc::new(demo.clone())),
            ops: Arc::new(demo.clone()),
            knowledge: Some(Arc::new(demo)),
        }
    }

    /// The alerts, with the demo's own silences applied.
    fn alerts_now(&self) -> AlertsSnapshot {
        let mut st = self.lock();
        let now = st.now;
        st.silences.retain(|s| s.ends_at > now);
        let mut alerts = st.ops.alerts.clone();
        for a in &mut alerts {
            for s in st.silences.iter().filter(|s| s.covers(&a.labels)) {
                a.state = AlertState::Suppressed;
                a.silenced_by.push(s.id.clone());
            }
        }
        // Each simulated source answered, with the alerts it reported.
        let mut sources: Vec<AlertSource> = Vec::new();
        for a in &alerts {
            for name in &a.sources {
                match sources.iter_mut().find(|s| &s.name == name) {
                    Some(s) => s.alerts += 1,
                    None => {
                        let mut s = AlertSource::answered(name, a.origin.system(), now);
                        s.alerts = 1;
                        sources.push(s);
                    }
                }
            }
        }
        AlertsSnapshot { alerts, sources, fetched_at: now }
    }
}

impl KnowledgeSource for DemoPlatform {
    fn defaults(&self) -> SearchDefaults {
        SearchDefaults { top_k: 5, threshold: 0.7, query_prefix: "search_query: ".into(), dimensions: kb::DIMENSIONS }
    }
    fn stats(&self) -> BoxFuture<'_, Result<KbStats, RagError>> {
        async move { Ok(kb::stats()) }.boxed()
    }
    fn search<'a>(
        &'a self,
        query: &'a str,
        top_k: usize,
        threshold: f64,
    ) -> BoxFuture<'a, Result<RagSearch, RagError>> {
        let now = self.lock().now;
        async move { kb::search(query, top_k, threshold, now) }.boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, Utc};
    use futures_util::FutureExt;

    fn now<T>(f: BoxFuture<'_, Result<T, SourceError>>) -> T {
        f.now_or_never().and_then(Result::ok).unwrap_or_else(|| unreachable!("the demo answers at once"))
    }

    #[test]
    fn a_silence_in_the_demo_suppresses_what_it_matches_until_expired() {
        let demo = DemoPlatform::new(3, Utc::now());
        demo.advance(Utc::now() + Duration::seconds(600));
        let alerts = now(demo.alerts()).alerts;
        let target = alerts.iter().find(|a| a.state == AlertState::Active).expect("a firing alert").clone();
        let matchers = crate::actions::silence::matchers_for(&target);
        let ends_at = Utc::now() + Duration::hours(1);
        let silence =
            NewSilence { matchers, starts_at: Utc::now(), ends_at, created_by: "t".into(), comment: "c".into() };
        let id = now(demo.create_silence("am-a", &silence));
        let same = now(demo.create_silence("am-b", &silence));
        assert_eq!(id, same, "one silence serves the HA pair");
        let after = now(demo.alerts()).alerts;
        let silenced: Vec<_> = after.iter().filter(|a| a.silenced_by.contains(&id)).collect();
        assert_eq!(silenced.len(), 1, "exactly the one alert");
        assert_eq!(silenced[0].fingerprint, target.fingerprint);
        assert_eq!(silenced[0].state, AlertState::Suppressed);
        now(demo.expire_silence("am-a", &id));
        let back = now(demo.alerts()).alerts;
        assert!(back.iter().all(|a| !a.silenced_by.contains(&id)));
        assert!(demo.expire_silence("am-a", &id).now_or_never().is_some_and(|r| r.is_err()), "404 the second time");
    }
}
