//! The operations feeds besides the job queue — containers, services, Prometheus targets,
//! alerts and silences — as the real clients or the demo platform provide them.

use std::pin::Pin;
use std::sync::Arc;

use futures_util::{FutureExt, Stream, StreamExt};

use super::BoxFuture;
use crate::clients::SourceError;
use crate::clients::alertmanager::{Alertmanager, AlertsClient, NewSilence};
use crate::clients::docker::DockerClient;
use crate::clients::pipeline::PipelineClient;
use crate::clients::probe::ProbeClient;
use crate::clients::prometheus::PrometheusClient;
use crate::domain::pipeline::PipelineSnapshot;
use crate::domain::{AlertsSnapshot, Container, ServiceStatus, Target};

/// Ids of containers that changed, pushed; the stream ends when the connection does.
pub type IdStream = Pin<Box<dyn Stream<Item = String> + Send>>;

/// What to read of a container's log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogsRequest {
    /// Keep the stream open for new lines.
    pub follow: bool,
    /// Only the last N lines; all when `None`.
    pub tail: Option<u64>,
    /// Only lines since this Unix time.
    pub since: Option<i64>,
    /// Ask the engine to prefix each line with its timestamp.
    pub timestamps: bool,
}

/// A frame of a container's log: whether it came from stderr, and its bytes (any length,
/// split anywhere; [`crate::logs::LineAssembler`] makes lines of them).
pub type LogFrame = (bool, Vec<u8>);

/// Which of the four feeds exist.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpsConfigured {
    pub containers: bool,
    pub services: bool,
    pub targets: bool,
    pub alerts: bool,
    /// The AI pipeline's numbers (gateway `/metrics`, LiteLLM, Ollama).
    pub pipeline: bool,
}

/// Health and alerts, and the silences that act on alerts.
pub trait OpsSource: Send + Sync {
    fn configured(&self) -> OpsConfigured;
    fn containers(&self) -> BoxFuture<'_, Result<Vec<Container>, SourceError>>;
    fn container_events(&self) -> BoxFuture<'_, Result<IdStream, SourceError>>;
    fn services(&self) -> BoxFuture<'_, Result<Vec<ServiceStatus>, SourceError>>;
    fn targets(&self) -> BoxFuture<'_, Result<Vec<Target>, SourceError>>;
    fn alerts(&self) -> BoxFuture<'_, Result<AlertsSnapshot, SourceError>>;
    /// The AI pipeline's numbers; each part fails alone inside the snapshot.
    fn pipeline(&self) -> BoxFuture<'_, Result<PipelineSnapshot, SourceError>>;
    /// Names of the Alertmanagers that silences can be sent to.
    fn alertmanagers(&self) -> Vec<String>;
    /// Names of every alert source: the Alertmanagers, Zabbix servers and CrowdSec.
    fn alert_sources(&self) -> Vec<String> {
        self.alertmanagers()
    }
    /// Send a container's log frames into `out` until the log ends (or, following, until `out`
    /// is closed). An unknown container or an engine that does not answer is an error.
    fn logs<'a>(
        &'a self,
        container: &'a str,
        request: LogsRequest,
        out: tokio::sync::mpsc::Sender<LogFrame>,
    ) -> BoxFuture<'a, Result<(), SourceError>>;
    /// Create a silence on one Alertmanager; its id.
    fn create_silence<'a>(&'a self, am: &'a str, silence: &'a NewSilence)
    -> BoxFuture<'a, Result<String, SourceError>>;
    /// Expire a silence on one Alertmanager.
    fn expire_silence<'a>(&'a self, am: &'a str, id: &'a str) -> BoxFuture<'a, Result<(), SourceError>>;
    /// Acknowledge a Zabbix problem's event with `message`; `true` when it was acknowledged
    /// already (then nothing is sent).
    fn acknowledge_problem<'a>(
        &'a self,
        server: &'a str,
        eventid: &'a str,
        message: &'a str,
    ) -> BoxFuture<'a, Result<bool, SourceError>>;
}

/// The real clients, each present only when configured.
#[derive(Clone, Default)]
pub struct RealOps {
    pub docker: Option<Arc<DockerClient>>,
    pub probes: Option<Arc<ProbeClient>>,
    pub prometheus: Option<Arc<PrometheusClient>>,
    pub alerts: Option<Arc<AlertsClient>>,
    pub pipeline: Option<Arc<PipelineClient>>,
}

impl RealOps {
    /// The configured Alertmanager named `name`.
    fn manager(&self, name: &str) -> Result<&Alertmanager, SourceError> {
        let m = self.alerts.iter().flat_map(|a| a.managers.iter()).find(|m| m.name == name);
        m.ok_or_else(|| not_configured(&format!("Alertmanager named {name}")))
    }
}

fn not_configured(what: &str) -> SourceError {
    SourceError::Connect(format!("no {what} configured"))
}

impl OpsSource for RealOps {
    fn configured(&self) -> OpsConfigured {
        OpsConfigured {
            containers: self.docker.is_some(),
            services: self.probes.is_some(),
            targets: self.prometheus.is_some(),
            alerts: self.alerts.is_some(),
            pipeline: self.pipeline.is_some(),
        }
    }

    fn pipeline(&self) -> BoxFuture<'_, Result<PipelineSnapshot, SourceError>> {
        async move {
            match &self.pipeline {
                Some(p) => Ok(p.snapshot().await),
                None => Err(not_configured("AI pipeline")),
            }
        }
        .boxed()
    }

    fn containers(&self) -> BoxFuture<'_, Result<Vec<Container>, SourceError>> {
        async move {
            match &self.docker {
                Some(d) => d.containers().await,
                None => Ok(vec![]),
            }
        }
        .boxed()
    }

    fn container_events(&self) -> BoxFuture<'_, Result<IdStream, SourceError>> {
        async move {
            match &self.docker {
                Some(d) => d.events().await.map(|s| s.boxed()),
                None => Err(not_configured("Docker")),
            }
        }
        .boxed()
    }

    fn services(&self) -> BoxFuture<'_, Result<Vec<ServiceStatus>, SourceError>> {
        async move {
            match &self.probes {
                Some(p) => Ok(p.statuses().await),
                None => Ok(vec![]),
            }
        }
        .boxed()
    }

    fn targets(&self) -> BoxFuture<'_, Result<Vec<Target>, SourceError>> {
        async move {
            match &self.prometheus {
                Some(p) => p.targets().await,
                None => Ok(vec![]),
            }
        }
        .boxed()
    }

    fn alerts(&self) -> BoxFuture<'_, Result<AlertsSnapshot, SourceError>> {
        async move {
            match &self.alerts {
                Some(a) => Ok(a.snapshot().await),
                None => Err(not_configured("Alertmanager")),
            }
        }
        .boxed()
    }

    fn alertmanagers(&self) -> Vec<String> {
        self.alerts.iter().flat_map(|a| a.managers.iter().map(|m| m.name.clone())).collect()
    }
    fn alert_sources(&self) -> Vec<String> {
        self.alerts.as_ref().map(|a| a.source_names()).unwrap_or_default()
    }

    fn logs<'a>(
        &'a self,
        container: &'a str,
        request: LogsRequest,
        out: tokio::sync::mpsc::Sender<LogFrame>,
    ) -> BoxFuture<'a, Result<(), SourceError>> {
        async move {
            match &self.docker {
                Some(d) => d.logs(container, request, out).await,
                None => Err(not_configured("Docker")),
            }
        }
        .boxed()
    }

    fn create_silence<'a>(
        &'a self,
        am: &'a str,
        silence: &'a NewSilence,
    ) -> BoxFuture<'a, Result<String, SourceError>> {
        async move { self.manager(am)?.create_silence(silence).await }.boxed()
    }

    fn acknowledge_problem<'a>(
        &'a self,
        server: &'a str,
        eventid: &'a str,
        message: &'a str,
    ) -> BoxFuture<'a, Result<bool, SourceError>> {
        async move {
            let zabbix = self.alerts.iter().flat_map(|a| a.zabbix.iter()).find(|z| z.name == server);
            let zabbix = zabbix.ok_or_else(|| not_configured(&format!("Zabbix server named {server}")))?;
            Ok(zabbix.acknowledge(eventid, message).await? == crate::clients::zabbix::Acked::Already)
        }
        .boxed()
    }

    fn expire_silence<'a>(&'a self, am: &'a str, id: &'a str) -> BoxFuture<'a, Result<(), SourceError>> {
        async move { self.manager(am)?.expire_silence(id).await }.boxed()
    }
}
