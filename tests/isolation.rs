//! Each source fails alone: with the Docker socket missing, an Alertmanager answering 500,
//! another hanging, and Prometheus down, the Jobs pane still updates from a real Redis and keys
//! still answer at once — in the real binary, in a real terminal.
#![allow(clippy::disallowed_macros)] // a test or bench reports on its own terminal

mod harness;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use harness::{Redis, Tmux, eventually, free_port, seed_job};

/// A loopback server that answers every request with `reply`, or never answers ("hang").
fn stand_in(reply: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf);
                if reply == "hang" {
                    std::thread::sleep(Duration::from_secs(60));
                } else {
                    let _ = conn.write_all(reply.as_bytes());
                }
            });
        }
    });
    url
}

#[test]
fn failing_sources_degrade_only_their_panes() {
    let redis = Redis::start();
    let mut c = redis.conn();
    let now = chrono::Utc::now().timestamp_millis();
    seed_job(&mut c, "mcp:", "job-1", now, "queued", &[("hostname", b"db-01")]);
    let e500 = stand_in("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 14\r\n\r\n\"store broken\"");
    let hang = stand_in("hang");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[contexts.t]\nredis_url = \"{}\"\ntimeout_ms = 800\ndocker = \"unix:///nonexistent/docker.sock\"\nprometheus_url = \"http://127.0.0.1:{}\"\n\
             [[contexts.t.alertmanagers]]\nname = \"am-500\"\nurl = \"{e500}\"\n[[contexts.t.alertmanagers]]\nname = \"am-hang\"\nurl = \"{hang}\"\n",
            redis.url(),
            free_port()
        ),
    )
    .unwrap();
    let t = Tmux::start(&format!("--config {}", config.display()), 160, 48, "");
    let screen = || t.screen();
    assert!(
        eventually(Duration::from_secs(10), || {
            let s = screen();
            s.contains("job-1")
                && s.contains("no Docker socket")
                && s.contains("am-500: HTTP 500: store broken")
                && s.contains("am-hang: timed out")
        }),
        "each pane shows its own failure, Jobs its data:\n{}",
        screen()
    );
    assert!(screen().contains("prometheus: ✗ cannot connect"), "{}", screen());
    // Jobs still update while the others fail
    seed_job(&mut c, "mcp:", "job-2", now + 1000, "queued", &[("hostname", b"web-02")]);
    assert!(eventually(Duration::from_secs(5), || screen().contains("job-2")), "{}", screen());
    // and keys answer (a hang guard only: how fast is for the benchmarks)
    t.keys(&["?"]);
    t.wait_for("Help", harness::HANG_GUARD);
    t.keys(&["Escape", "q"]);
    t.exited(0);
}
