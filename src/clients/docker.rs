//! The Docker Engine API through bollard (APIS.md §3): containers with their health, restart
//! count and uptime, and the events stream that pushes changes. Works against Docker ≥ 20.10 and
//! Podman's compatible API 1.41: the API version is negotiated, and when the list does not carry
//! health (Podman, Docker below API 1.52) it comes from inspect.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::models::{ContainerInspectResponse, ContainerSummary};
use bollard::query_parameters::{EventsOptions, InspectContainerOptions, ListContainersOptions};
use futures_util::{StreamExt, stream};
use tokio::sync::Mutex;

use super::error::SourceError;
use super::liveness;
use crate::domain::health::HealthCheckRun;
use crate::domain::job::parse_time;
use crate::domain::text::{clean_line, cut};
use crate::domain::{Container, Health};

/// Inspect results are reused this long unless the container's list entry or an event says it
/// changed; with 300 containers a refresh then costs one list call, not 300 inspects.
const INSPECT_TTL: Duration = Duration::from_secs(30);
/// Inspects in flight at once.
const INSPECT_CONCURRENCY: usize = 8;

#[derive(Clone)]
struct Inspected {
    key: String,
    at: Instant,
    restarts: Option<i64>,
    started_at: Option<chrono::DateTime<chrono::Utc>>,
    health: Option<Health>,
    failing_streak: Option<i64>,
    checks: Vec<HealthCheckRun>,
}

/// The longest one refresh may take: the list, then the inspects it needs (in parallel).
pub fn fetch_budget(timeout: Duration) -> Duration {
    timeout * 2
}

pub struct DockerClient {
    endpoint: String,
    timeout: Duration,
    docker: Mutex<Option<Docker>>,
    /// What inspect said, by full id: shared by the refreshes' tasks and filled as each inspect
    /// returns, so a refresh cut short by its budget still leaves what it learned.
    cache: std::sync::Arc<std::sync::Mutex<HashMap<String, Inspected>>>,
}

fn err(e: bollard::errors::Error) -> SourceError {
    use bollard::errors::Error as E;
    match e {
        E::DockerResponseServerError { status_code, message } => {
            SourceError::Http { status: status_code, message: clean_line(&message) }
        }
        E::SocketNotFoundError(path) => SourceError::Connect(format!("no Docker socket at {}", clean_line(&path))),
        // bollard does not say which limit fired; a made-up number would lie.
        E::RequestTimeoutError => SourceError::Connect("the Docker API did not answer in time".into()),
        E::JsonDataError { message, .. } => SourceError::Decode(clean_line(&message)),
        other => SourceError::Connect(clean_line(&other.to_string())),
    }
}

impl DockerClient {
    /// `endpoint`: `unix:///var/run/docker.sock`, a socket path, or `tcp://host:2375`.
    pub fn new(endpoint: &str, timeout: Duration) -> Self {
        DockerClient { endpoint: endpoint.into(), timeout, docker: Mutex::new(None), cache: Default::default() }
    }

    async fn docker(&self) -> Result<Docker, SourceError> {
        let mut guard = self.docker.lock().await;
        if let Some(d) = guard.as_ref() {
            return Ok(d.clone());
        }
        let secs = self.timeout.as_secs().max(1);
        let d = if let Some(addr) =
            self.endpoint.strip_prefix("tcp://").or_else(|| self.endpoint.strip_prefix("http://"))
        {
            Docker::connect_with_http(&format!("http://{addr}"), secs, bollard::API_DEFAULT_VERSION)
        } else {
            Docker::connect_with_unix(&self.endpoint, secs, bollard::API_DEFAULT_VERSION)
        }
        .map_err(err)?;
        let d = tokio::time::timeout(self.timeout, d.negotiate_version())
            .await
            .map_err(|_| SourceError::Timeout(self.timeout))?
            .map_err(err)?;
        *guard = Some(d.clone());
        Ok(d)
    }

    async fn forget_connection(&self) {
        *self.docker.lock().await = None;
    }

    /// Every container, running or not, sorted by name.
    pub async fn containers(&self) -> Result<Vec<Container>, SourceError> {
        let budget = fetch_budget(self.timeout);
        let result = tokio::time::timeout(budget, self.fetch()).await.unwrap_or(Err(SourceError::Timeout(budget)));
        if matches!(result, Err(SourceError::Connect(_) | SourceError::Timeout(_))) {
            self.forget_connection().await;
        }
        result
    }

    async fn fetch(&self) -> Result<Vec<Container>, SourceError> {
        let docker = self.docker().await?;
        let list = docker
            .list_containers(Some(ListContainersOptions { all: true, ..Default::default() }))
            .await
            .map_err(err)?;
        let listed_ids: std::collections::HashSet<String> = list.iter().filter_map(|c| c.id.clone()).collect();
        self.cached().retain(|id, _| listed_ids.contains(id));
        // Owned values only in the futures: they run inside a boxed (`Send + 'static`-bound)
        // future, where borrows across `buffer_unordered` do not type-check.
        let jobs = list.into_iter().map(|c| {
            let docker = docker.clone();
            let cache = self.cache.clone();
            async move {
                let (id, state, listed_health) = listed(&c);
                let key = format!("{state}|{listed_health:?}");
                let fresh = lock(&cache).get(&id).filter(|i| i.key == key && i.at.elapsed() < INSPECT_TTL).cloned();
                let inspected = match fresh {
                    Some(i) => Some(i),
                    None => {
                        let i = inspect(&docker, &id, key).await;
                        if let Some(i) = &i {
                            lock(&cache).insert(id.clone(), i.clone());
                        }
                        i
                    }
                };
                let name = c.names.as_ref().and_then(|n| n.first()).map(|n| n.trim_start_matches('/').to_string());
                Container {
                    id: id.chars().take(12).collect::<String>(),
                    name: name.unwrap_or_else(|| id.chars().take(12).collect()),
                    image: c.image.clone().unwrap_or_else(|| "?".into()),
                    state: state.clone(),
                    health: listed_health.or(inspected.as_ref().and_then(|i| i.health)).unwrap_or(Health::None),
                    restarts: inspected.as_ref().and_then(|i| i.restarts),
                    started_at: inspected.as_ref().and_then(|i| i.started_at).filter(|_| state == "running"),
                    failing_streak: inspected.as_ref().and_then(|i| i.failing_streak),
                    checks: inspected.as_ref().map(|i| i.checks.clone()).unwrap_or_default(),
                }
            }
        });
        let mut containers: Vec<Container> = stream::iter(jobs).buffer_unordered(INSPECT_CONCURRENCY).collect().await;
        containers.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(containers)
    }

    fn cached(&self) -> std::sync::MutexGuard<'_, HashMap<String, Inspected>> {
        lock(&self.cache)
    }

    /// Pump a container's log frames into `out` (see [`crate::sources::OpsSource::logs`]). The
    /// request itself is bounded by the timeout; a followed stream then runs until `out` closes.
    pub async fn logs(
        &self,
        container: &str,
        request: crate::sources::LogsRequest,
        out: tokio::sync::mpsc::Sender<crate::sources::LogFrame>,
    ) -> Result<(), SourceError> {
        use bollard::container::LogOutput;
        let docker = self.docker().await?;
        let options = bollard::query_parameters::LogsOptions {
            follow: request.follow,
            stdout: true,
            stderr: true,
            since: request.since.map(|s| s.clamp(0, i32::MAX as i64) as i32).unwrap_or(0),
            until: 0,
            timestamps: request.timestamps,
            tail: request.tail.map(|n| n.to_string()).unwrap_or_else(|| "all".into()),
        };
        let mut frames = docker.logs(container, Some(options));
        while let Some(frame) = frames.next().await {
            let (stderr, bytes) = match frame.map_err(err)? {
                LogOutput::StdErr { message } => (true, message),
                LogOutput::StdOut { message } | LogOutput::Console { message } | LogOutput::StdIn { message } => {
                    (false, message)
                }
            };
            if out.send((stderr, bytes.to_vec())).await.is_err() {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Forget what inspect said about one container (an event says it changed).
    pub fn invalidate(&self, id: &str) {
        self.cached().remove(id);
    }

    /// Container events (start, die, health_status, …) as the ids they concern. Each event
    /// first drops what inspect said about that container. The stream ends when the connection
    /// does, or when the daemon stops answering a ping (checked every
    /// [`liveness::CHECK_EVERY`]).
    pub async fn events(
        self: &std::sync::Arc<Self>,
    ) -> Result<impl futures_util::Stream<Item = String> + Send + use<>, SourceError> {
        let docker = self.docker().await?;
        let filters = HashMap::from([("type".to_string(), vec!["container".to_string()])]);
        let stream = docker.events(Some(EventsOptions { filters: Some(filters), ..Default::default() }));
        let me = self.clone();
        let ids = stream.take_while(|e| std::future::ready(e.is_ok())).filter_map(move |e| {
            let me = me.clone();
            async move {
                let id = e.ok().and_then(|m| m.actor.and_then(|a| a.id))?;
                me.invalidate(&id);
                Some(id)
            }
        });
        let timeout = self.timeout;
        let check = move || {
            let docker = docker.clone();
            async move { matches!(tokio::time::timeout(timeout, docker.ping()).await, Ok(Ok(_))) }
        };
        Ok(liveness::until_dead(ids, liveness::CHECK_EVERY, check))
    }
}

/// The inspect cache; entries are whole values, so a poisoned lock holds nothing half-written.
fn lock(cache: &std::sync::Mutex<HashMap<String, Inspected>>) -> std::sync::MutexGuard<'_, HashMap<String, Inspected>> {
    cache.lock().unwrap_or_else(|e| e.into_inner())
}

/// What a list entry says: id, state, and health when the list carries it — from `Health`
/// (API 1.52) or the `(healthy)` in `Status` (Docker); Podman says neither, so inspect must.
fn listed(c: &ContainerSummary) -> (String, String, Option<Health>) {
    let id = c.id.clone().unwrap_or_default();
    let state = c.state.map(|s| s.to_string()).unwrap_or_default();
    let from_field = c.health.as_ref().and_then(|h| h.status).map(|s| Health::parse(s.as_ref()));
    let health = from_field.or_else(|| c.status.as_deref().and_then(Health::from_status));
    (id, state, health)
}

async fn inspect(docker: &Docker, id: &str, key: String) -> Option<Inspected> {
    let i = docker.inspect_container(id, None::<InspectContainerOptions>).await.ok()?;
    Some(from_inspect(&i, key))
}

fn from_inspect(i: &ContainerInspectResponse, key: String) -> Inspected {
    let state = i.state.as_ref();
    let health = state.and_then(|s| s.health.as_ref());
    let checks = health
        .and_then(|h| h.log.as_ref())
        .map(|log| {
            log.iter()
                .map(|r| HealthCheckRun {
                    at: r.end.as_deref().or(r.start.as_deref()).and_then(parse_time),
                    exit_code: r.exit_code,
                    output: cut(r.output.as_deref().unwrap_or(""), 4096),
                })
                .collect()
        })
        .unwrap_or_default();
    Inspected {
        key,
        at: Instant::now(),
        restarts: i.restart_count,
        started_at: state.and_then(|s| s.started_at.as_deref()).and_then(parse_time).filter(|t| t.timestamp() > 0),
        health: health.and_then(|h| h.status).map(|s| Health::parse(s.as_ref())),
        failing_streak: health.and_then(|h| h.failing_streak),
        checks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `GET /containers/json` entry as Podman 4.3 (API 1.41) sends it: `Status` without
    /// "(healthy)", no `Health`, extra fields of its own.
    const PODMAN_LIST: &str = r#"{"Id":"8f1c2a","Names":["/web"],"Image":"docker.io/library/nginx:latest",
        "ImageID":"sha256:abc","Command":"nginx -g daemon off;","Created":1700000000,"Ports":[],
        "Labels":{},"State":"running","Status":"Up 5 minutes","NetworkSettings":{"Networks":{}},
        "Mounts":[],"SizeRw":0,"SizeRootFs":0,"HostConfig":{"NetworkMode":"bridge"},"Pod":"","IsInfra":false}"#;

    /// `GET /containers/{id}/json` from Podman with a failing health check.
    const PODMAN_INSPECT: &str = r#"{"Id":"8f1c2a","Name":"web","RestartCount":2,
        "State":{"Status":"running","Running":true,"Paused":false,"Restarting":false,"OOMKilled":false,
        "Dead":false,"Pid":4242,"ExitCode":0,"Error":"","StartedAt":"2026-11-21T02:00:00.123456789Z",
        "FinishedAt":"0001-01-01T00:00:00Z","Health":{"Status":"unhealthy","FailingStreak":3,
        "Log":[{"Start":"2026-11-21T02:59:58Z","End":"2026-11-21T02:59:59Z","ExitCode":1,
        "Output":"curl: (7) Failed to connect\u001b[31m"}]}},"Config":{"Image":"nginx"}}"#;

    #[test]
    fn podman_lists_carry_no_health_so_inspect_decides() {
        let c: ContainerSummary = serde_json::from_str(PODMAN_LIST).expect("Podman list entry parses");
        assert_eq!(listed(&c), ("8f1c2a".into(), "running".into(), None));
        let i: ContainerInspectResponse = serde_json::from_str(PODMAN_INSPECT).expect("Podman inspect parses");
        let got = from_inspect(&i, String::new());
        assert_eq!(got.health, Some(Health::Unhealthy));
        assert_eq!((got.restarts, got.failing_streak), (Some(2), Some(3)));
        assert_eq!(got.checks.len(), 1);
        assert_eq!(got.checks[0].output, "curl: (7) Failed to connect\x1b[31m", "raw; cleaned when drawn");
        assert!(got.started_at.is_some());
    }

    #[test]
    fn docker_lists_say_health_in_the_status() {
        let json = PODMAN_LIST.replace("Up 5 minutes", "Up 5 minutes (unhealthy)");
        let c: ContainerSummary = serde_json::from_str(&json).expect("parses");
        assert_eq!(listed(&c).2, Some(Health::Unhealthy));
        let exited =
            PODMAN_LIST.replace("\"running\"", "\"exited\"").replace("Up 5 minutes", "Exited (137) 2 minutes ago");
        let c: ContainerSummary = serde_json::from_str(&exited).expect("parses");
        assert_eq!(listed(&c), ("8f1c2a".into(), "exited".into(), None));
    }

    #[test]
    fn podman_error_bodies_become_clear_errors() {
        let e = err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            message: "no container with name or ID \"x\" found: no such container".into(),
        });
        assert_eq!(e.to_string(), "HTTP 404: no container with name or ID \"x\" found: no such container");
        let missing = DockerClient::new("/nonexistent/docker.sock", Duration::from_secs(1));
        let e = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map(|rt| rt.block_on(missing.containers()));
        let msg = e.ok().and_then(|r| r.err()).map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("no Docker socket at /nonexistent/docker.sock"), "{msg}");
    }
}
