//! Containers against a real dockerd: one healthy, one unhealthy, one stopped, shown exactly so
//! by the pane and by `mcptop health`; a container turning unhealthy reaches the state through
//! Docker's events stream, with polling slowed to an hour.
#![allow(clippy::disallowed_macros)] // a test or bench reports on its own terminal

mod harness;

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use harness::{BUSYBOX_IMAGE, Dockerd, eventually, mcptop_bin};
use mcptop::clients::docker::DockerClient;
use mcptop::domain::Health;
use mcptop::runtime::{self, RuntimeOptions, SourceMsg};
use mcptop::sources::{OpsSource, RealOps, Sources};
use mcptop::tui::app::{App, Msg, PaneId};
use mcptop::tui::keymap::KeyMap;
use mcptop::tui::ops_state::OpsState;
use mcptop::tui::theme::Theme;

fn run_with_health(d: &Dockerd, name: &str, check: &str, command: &str) {
    d.cli(&[
        "run",
        "-d",
        "--name",
        name,
        "--network",
        "none",
        "--health-cmd",
        check,
        "--health-interval",
        "1s",
        "--health-retries",
        "1",
        BUSYBOX_IMAGE,
        "sh",
        "-c",
        command,
    ]);
}

#[tokio::test]
async fn healthy_unhealthy_and_stopped_containers_are_shown_exactly() {
    let d = Dockerd::start();
    run_with_health(&d, "web-ok", "test -f /tmp/ok", "touch /tmp/ok; exec sleep 3600");
    run_with_health(&d, "web-sick", "test -f /tmp/never", "exec sleep 3600");
    d.cli(&["run", "--name", "batch-done", "--network", "none", BUSYBOX_IMAGE, "true"]);
    assert!(
        eventually(Duration::from_secs(20), || d.health("web-ok") == "healthy" && d.health("web-sick") == "unhealthy")
    );

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, format!("[contexts.t]\ndocker = \"{}\"\n", d.endpoint())).unwrap();
    let out = Command::new(mcptop_bin())
        .args(["--config", config.to_str().unwrap(), "health", "--output", "json"])
        .env("XDG_STATE_HOME", std::env::temp_dir())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = |name: &str| v["containers"].as_array().unwrap().iter().find(|c| c["name"] == name).cloned().unwrap();
    assert_eq!(v["containers"].as_array().unwrap().len(), 3);
    assert_eq!((row("web-ok")["state"].clone(), row("web-ok")["health"].clone()), ("running".into(), "healthy".into()));
    assert_eq!(
        (row("web-sick")["state"].clone(), row("web-sick")["health"].clone()),
        ("running".into(), "unhealthy".into())
    );
    assert_eq!(
        (row("batch-done")["state"].clone(), row("batch-done")["health"].clone()),
        ("exited".into(), "none".into())
    );
    assert_eq!(row("web-ok")["restarts"], 0);

    // the pane shows the same
    let ops = RealOps {
        docker: Some(Arc::new(DockerClient::new(&d.endpoint(), Duration::from_secs(2)))),
        ..Default::default()
    };
    let containers = ops.containers().await.unwrap();
    let mut app = App::new("t", "", KeyMap::default(), Utc::now());
    app.jobs.configured = false;
    app.ops = OpsState::new(ops.configured(), vec!["alertname".into()]);
    app.focus = PaneId::Health;
    app.zoomed = true;
    app.update(Msg::Source(SourceMsg::ContainersLoaded(containers, Utc::now())));
    let text = mcptop::tui::svg::to_text(&mcptop::tui::render_to_buffer(&app, &Theme::built_in("default"), 120, 30));
    assert!(text.contains("containers 1 ok 1 unhealthy"), "{text}");
    for line in [
        "web-ok             running  healthy",
        "web-sick           running  unhealthy",
        "batch-done         exited   none",
    ] {
        assert!(text.contains(line), "{line:?} in\n{text}");
    }
}

// The ops tasks run while the test blocks on the docker CLI: they get worker threads of their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_container_turning_unhealthy_arrives_through_the_events_stream() {
    let d = Dockerd::start();
    run_with_health(&d, "flip", "test -f /tmp/ok", "touch /tmp/ok; exec sleep 3600");
    assert!(eventually(Duration::from_secs(20), || d.health("flip") == "healthy"));
    let docker = Arc::new(DockerClient::new(&d.endpoint(), Duration::from_secs(2)));
    let sources = Sources { ops: Arc::new(RealOps { docker: Some(docker), ..Default::default() }), ..Sources::none() };
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    // polling once an hour: within the test, only the events stream can bring the change
    let opts = RuntimeOptions { interval: Duration::from_secs(3600), ..Default::default() };
    let _runtime = runtime::start(&sources, opts, Default::default(), tx);
    let mut connected = false;
    let mut loaded = false;
    while !(connected && loaded) {
        match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.expect("first load") {
            Some(SourceMsg::PushState { connected: true, .. }) => connected = true,
            Some(SourceMsg::ContainersLoaded(c, _)) => loaded = c.iter().any(|c| c.health == Health::Healthy),
            _ => {}
        }
    }
    d.cli(&["exec", "flip", "rm", "/tmp/ok"]);
    let unhealthy = async {
        loop {
            match rx.recv().await {
                Some(SourceMsg::ContainersLoaded(c, _)) if c.iter().any(|c| c.health == Health::Unhealthy) => break,
                Some(_) => {}
                None => panic!("the ops tasks stopped"),
            }
        }
    };
    tokio::time::timeout(harness::HANG_GUARD, unhealthy)
        .await
        .expect("the container turned unhealthy, but the events stream never brought the change");
}

/// Podman's Docker-compatible API (1.41): the list never says "(healthy)" and has no Health,
/// so health must come from inspect; checks run only when triggered.
#[tokio::test]
async fn podman_containers_get_their_health_from_inspect() {
    let p = harness::Podman::start();
    p.cli(&[
        "run",
        "-d",
        "--name",
        "web-ok",
        "--health-cmd",
        "test -f /tmp/ok",
        BUSYBOX_IMAGE,
        "sh",
        "-c",
        "touch /tmp/ok; exec sleep 3600",
    ]);
    p.cli(&[
        "run",
        "-d",
        "--name",
        "web-sick",
        "--health-cmd",
        "test -f /tmp/never",
        "--health-retries",
        "1",
        BUSYBOX_IMAGE,
        "sleep",
        "3600",
    ]);
    p.cli(&["create", "--name", "batch", BUSYBOX_IMAGE, "true"]);
    // trigger the checks (podman has no timer without systemd); "unhealthy" exits 1
    p.cli(&["healthcheck", "run", "web-ok"]);
    let sick = std::panic::catch_unwind(|| p.cli(&["healthcheck", "run", "web-sick"]));
    assert!(sick.is_err(), "the sick check fails");
    let docker = DockerClient::new(&p.endpoint(), Duration::from_secs(5));
    let containers = docker.containers().await.expect("Podman answers the Docker API");
    let find =
        |n: &str| containers.iter().find(|c| c.name == n).cloned().unwrap_or_else(|| panic!("{n} in {containers:?}"));
    assert_eq!((find("web-ok").state.as_str(), find("web-ok").health), ("running", Health::Healthy));
    assert_eq!((find("web-sick").state.as_str(), find("web-sick").health), ("running", Health::Unhealthy));
    assert_eq!(find("web-sick").failing_streak, Some(1));
    assert_eq!(find("batch").state, "created");
    assert_eq!(find("batch").health, Health::None);
}
