//! Each source fails alone: with the Docker socket missing, an Alertmanager answering 500,
//! another hanging, and Prometheus down, the Jobs pane still updates from a real Redis and keys
//! still answer at once — in the real binary, in a real terminal.

mod harness;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::time::Duration;

use harness::{Redis, eventually, free_port, mcptop_bin, require, seed_job};

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
    let tmux = require("tmux", "tmux");
    let sock = format!("mcptop-iso-{}", std::process::id());
    let cmd = format!(
        "XDG_STATE_HOME={} {} --config {}; sleep 30",
        dir.path().display(),
        mcptop_bin().display(),
        config.display()
    );
    let run = |args: &[&str]| Command::new(&tmux).args(["-L", &sock]).args(args).output().unwrap();
    run(&["new-session", "-d", "-x", "160", "-y", "48", "sh", "-c", &cmd]);
    let screen = || String::from_utf8_lossy(&run(&["capture-pane", "-p"]).stdout).into_owned();
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
    // and keys answer at once
    run(&["send-keys", "?"]);
    assert!(eventually(Duration::from_secs(1), || screen().contains("Help")), "{}", screen());
    run(&["send-keys", "q"]);
    std::thread::sleep(Duration::from_millis(100));
    run(&["send-keys", "q"]);
    run(&["kill-server"]);
}
