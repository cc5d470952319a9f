//! The operations sources besides the job queue — containers, services, Prometheus targets and
//! alerts — as either the real clients or the demo platform, behind one set of methods.

use std::pin::Pin;
use std::sync::Arc;

use futures_util::{Stream, StreamExt};

use crate::clients::alertmanager::AlertsClient;
use crate::clients::docker::DockerClient;
use crate::clients::probe::ProbeClient;
use crate::clients::prometheus::PrometheusClient;
use crate::demo::DemoPlatform;
use crate::domain::{AlertsSnapshot, Container, ServiceStatus, Target};
use crate::source::SourceError;

/// The real clients, each present only when configured.
#[derive(Clone, Default)]
pub struct RealOps {
    pub docker: Option<Arc<DockerClient>>,
    pub probes: Option<Arc<ProbeClient>>,
    pub prometheus: Option<Arc<PrometheusClient>>,
    pub alerts: Option<Arc<AlertsClient>>,
}

#[derive(Clone)]
pub enum OpsSource {
    Real(RealOps),
    Demo(DemoPlatform),
}

/// Which of the four feeds exist.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpsConfigured {
    pub containers: bool,
    pub services: bool,
    pub targets: bool,
    pub alerts: bool,
}

pub type IdStream = Pin<Box<dyn Stream<Item = String> + Send>>;

impl OpsSource {
    pub fn configured(&self) -> OpsConfigured {
        match self {
            OpsSource::Demo(_) => OpsConfigured { containers: true, services: true, targets: true, alerts: true },
            OpsSource::Real(r) => OpsConfigured {
                containers: r.docker.is_some(),
                services: r.probes.is_some(),
                targets: r.prometheus.is_some(),
                alerts: r.alerts.is_some(),
            },
        }
    }

    pub async fn containers(&self) -> Result<Vec<Container>, SourceError> {
        match self {
            OpsSource::Demo(d) => Ok(d.containers()),
            OpsSource::Real(RealOps { docker: Some(d), .. }) => d.containers().await,
            OpsSource::Real(_) => Ok(vec![]),
        }
    }

    /// Ids of containers that changed, pushed; the stream ends when the connection does.
    pub async fn container_events(&self) -> Result<IdStream, SourceError> {
        match self {
            OpsSource::Demo(d) => Ok(Box::pin(d.container_events())),
            OpsSource::Real(RealOps { docker: Some(d), .. }) => {
                let d2 = d.clone();
                let ids = d.events().await?;
                // An event means what inspect said may be stale.
                Ok(Box::pin(ids.then(move |id| {
                    let d = d2.clone();
                    async move {
                        d.invalidate(&id).await;
                        id
                    }
                })))
            }
            OpsSource::Real(_) => Err(SourceError::Connect("no Docker configured".into())),
        }
    }

    pub async fn services(&self) -> Result<Vec<ServiceStatus>, SourceError> {
        match self {
            OpsSource::Demo(d) => Ok(d.services()),
            OpsSource::Real(RealOps { probes: Some(p), .. }) => Ok(p.statuses().await),
            OpsSource::Real(_) => Ok(vec![]),
        }
    }

    pub async fn targets(&self) -> Result<Vec<Target>, SourceError> {
        match self {
            OpsSource::Demo(d) => Ok(d.targets()),
            OpsSource::Real(RealOps { prometheus: Some(p), .. }) => p.targets().await,
            OpsSource::Real(_) => Ok(vec![]),
        }
    }

    pub async fn alerts(&self) -> Result<AlertsSnapshot, SourceError> {
        match self {
            OpsSource::Demo(d) => Ok(d.alerts()),
            OpsSource::Real(RealOps { alerts: Some(a), .. }) => a.snapshot().await,
            OpsSource::Real(_) => Err(SourceError::Connect("no Alertmanager configured".into())),
        }
    }
}
