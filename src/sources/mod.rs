//! The interfaces the runtime and the CLI read through — jobs, operations, knowledge — and the
//! one place that decides whether they are the real clients of a context or the demo platform.

pub mod act;
pub mod jobs;
pub mod knowledge;
pub mod ops;

use std::sync::Arc;

use crate::clients::RedisClient;
use crate::clients::alertmanager::{Alertmanager, AlertsClient};
use crate::clients::crowdsec::CrowdSecClient;
use crate::clients::docker::DockerClient;
use crate::clients::gateway::GatewayClient;
use crate::clients::ntfy::NtfyClient;
use crate::clients::pipeline::{PipelineClient, PipelineEndpoints};
use crate::clients::probe::{Probe, ProbeClient};
use crate::clients::prometheus::PrometheusClient;
use crate::clients::redis::RedisSettings;
use crate::clients::zabbix::ZabbixClient;
use crate::clients::zammad::ZammadClient;
use crate::config::Settings;

pub use act::{Analyzer, JobControl, Notifier, Ticketing};
pub use jobs::{EventStream, JobSource};
pub use knowledge::{KnowledgeSource, RagClient, SearchDefaults};
pub use ops::{IdStream, LogFrame, LogsRequest, OpsConfigured, OpsSource, RealOps};

/// A boxed future, so the source traits can be used as `Arc<dyn …>`.
pub type BoxFuture<'a, T> = futures_util::future::BoxFuture<'a, T>;

/// Everything one context reads from and acts on.
#[derive(Clone)]
pub struct Sources {
    /// The job queue, when one is configured.
    pub jobs: Option<Arc<dyn JobSource>>,
    pub ops: Arc<dyn OpsSource>,
    /// The knowledge base, when one is configured.
    pub knowledge: Option<Arc<dyn KnowledgeSource>>,
    /// Where actions write: the queue, the gateway, Zammad, ntfy (each when configured).
    pub control: Option<Arc<dyn JobControl>>,
    pub gateway: Option<Arc<dyn Analyzer>>,
    pub tickets: Option<Arc<dyn Ticketing>>,
    pub notify: Option<Arc<dyn Notifier>>,
}

impl Sources {
    /// The real clients of everything the context configures. Connects to nothing yet, but must
    /// be called inside a Tokio runtime (the database pool needs one).
    pub fn from_context(settings: &Settings) -> anyhow::Result<Sources> {
        let name = &settings.context_name;
        let redis = match redis_client(settings) {
            Ok(c) => c.map(Arc::new),
            Err(e) => anyhow::bail!("contexts.{name}.redis_url: {e}"),
        };
        let c = &settings.context;
        let timeout = c.timeout();
        let gateway = match &c.gateway_url {
            Some(u) => {
                Some(Arc::new(GatewayClient::new(u, settings.gateway_token.clone(), timeout)?) as Arc<dyn Analyzer>)
            }
            None => None,
        };
        let tickets = match &c.zammad {
            Some(z) => {
                Some(Arc::new(ZammadClient::new(&z.url, settings.zammad_token.clone(), z.customer.clone(), timeout)?)
                    as Arc<dyn Ticketing>)
            }
            None => None,
        };
        let notify =
            match &c.ntfy {
                Some(n) => Some(Arc::new(NtfyClient::new(&n.url, &n.topic, settings.ntfy_token.clone(), timeout)?)
                    as Arc<dyn Notifier>),
                None => None,
            };
        let knowledge = RagClient::from_settings(settings)
            .map_err(|e| anyhow::anyhow!("contexts.{name}.knowledge_base: {e}"))?
            .map(|c| Arc::new(c) as Arc<dyn KnowledgeSource>);
        Ok(Sources {
            jobs: redis.clone().map(|r| r as Arc<dyn JobSource>),
            control: redis.map(|r| r as Arc<dyn JobControl>),
            gateway,
            tickets,
            notify,
            ops: Arc::new(real_ops(settings)?),
            knowledge,
        })
    }

    /// Nothing configured; start from this to build a partial set (`Sources { jobs, ..Sources::none() }`).
    pub fn none() -> Sources {
        Sources {
            jobs: None,
            control: None,
            gateway: None,
            tickets: None,
            notify: None,
            ops: Arc::new(RealOps::default()),
            knowledge: None,
        }
    }

    /// Whether anything at all is configured.
    pub fn any(&self) -> bool {
        self.jobs.is_some() || self.knowledge.is_some() || self.ops.configured() != OpsConfigured::default()
    }

    /// "redis", "demo", or "" without a job queue.
    pub fn name(&self) -> String {
        self.jobs.as_ref().map(|j| j.name().to_string()).unwrap_or_default()
    }
}

/// The Alertmanagers, Zabbix servers and CrowdSec of the context, as one alerts client.
fn alerts_client(settings: &Settings, managers: Vec<Alertmanager>) -> anyhow::Result<Option<Arc<AlertsClient>>> {
    let c = &settings.context;
    let timeout = c.timeout();
    let zabbix = c
        .zabbix
        .iter()
        .zip(&settings.zabbix_tokens)
        .map(|(z, token)| ZabbixClient::new(&z.name, &z.url, token.clone(), timeout).map(Arc::new))
        .collect::<Result<Vec<_>, _>>()?;
    let crowdsec = match &c.crowdsec {
        Some(cs) => {
            let machine = cs.machine_id.clone().zip(settings.crowdsec_password.clone());
            Some(Arc::new(CrowdSecClient::new(&cs.url, machine, settings.crowdsec_bouncer_key.clone(), timeout)?))
        }
        None => None,
    };
    if managers.is_empty() && zabbix.is_empty() && crowdsec.is_none() {
        return Ok(None);
    }
    Ok(Some(Arc::new(AlertsClient::new(managers).with_monitors(zabbix, crowdsec, timeout))))
}

fn redis_client(settings: &Settings) -> Result<Option<RedisClient>, crate::clients::SourceError> {
    let c = &settings.context;
    let url = match (&c.redis_url, c.redis_master.as_ref().filter(|_| !c.redis_sentinels.is_empty())) {
        (Some(url), _) => url.clone(),
        // Behind Sentinel the URL only carries credentials and the database; its host is unused.
        (None, Some(_)) => "redis://127.0.0.1/".into(),
        (None, None) => return Ok(None),
    };
    let client = RedisClient::new(RedisSettings {
        url,
        password: settings.redis_password.clone(),
        prefix: c.key_prefix.clone(),
        queues: c.queues.clone(),
        timeout: c.timeout(),
    })?;
    Ok(Some(match (&c.redis_master, c.redis_sentinels.is_empty()) {
        (Some(master), false) => client.with_sentinel(c.redis_sentinels.clone(), master.clone()),
        _ if c.redis_cluster => client.with_cluster()?,
        _ => client,
    }))
}

/// The real clients of the operations feeds the context configures.
fn real_ops(settings: &Settings) -> anyhow::Result<RealOps> {
    let c = &settings.context;
    let timeout = c.timeout();
    let probes: Vec<Probe> = c
        .services
        .iter()
        .zip(settings.service_tokens.iter())
        .map(|(s, token)| Probe { name: s.name.clone(), url: s.url.clone(), kind: s.kind, token: token.clone() })
        .collect();
    let managers =
        c.alertmanagers.iter().map(|a| Alertmanager::new(&a.name, &a.url, timeout)).collect::<Result<Vec<_>, _>>()?;
    let probes = if probes.is_empty() { None } else { Some(Arc::new(ProbeClient::new(probes, timeout)?)) };
    let prometheus = match c.prometheus_url.as_deref() {
        Some(u) => Some(Arc::new(PrometheusClient::new(u, timeout)?)),
        None => None,
    };
    let embeddings = c.knowledge_base.as_ref().map(|k| &k.embeddings);
    let endpoints = PipelineEndpoints {
        gateway_url: c.gateway_url.clone(),
        gateway_token: settings.gateway_token.clone(),
        litellm_url: embeddings.and_then(|e| e.litellm_url.clone()),
        litellm_key: settings.litellm_key.clone(),
        ollama_url: embeddings.and_then(|e| e.ollama_url.clone()),
    };
    let pipeline = if endpoints.any() { Some(Arc::new(PipelineClient::new(endpoints, timeout)?)) } else { None };
    Ok(RealOps {
        docker: c.docker.as_deref().map(|d| Arc::new(DockerClient::new(d, timeout))),
        probes,
        prometheus,
        alerts: alerts_client(settings, managers)?,
        pipeline,
    })
}
