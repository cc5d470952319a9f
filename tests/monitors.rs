//! Zabbix problems and CrowdSec alerts in the alerts list, from a real Zabbix 6.0 server (with
//! its PHP frontend) and a real CrowdSec local API: what `mcptop alerts --output json` gives is
//! compared with what each service's own API returns, and each source fails alone.
#![allow(clippy::disallowed_macros)] // a test or bench reports on its own terminal

mod harness;

use std::collections::BTreeSet;
use std::process::Command;

use harness::crowdsec::{AlertSpec, CrowdSec};
use harness::zabbix::{HOST, KEY, Zabbix};
use harness::{Alertmanager, mcptop_bin};
use serde_json::{Value, json};

fn alerts_json(config: &std::path::Path, zbx_token: &str, cs_password: &str) -> (Value, i32) {
    let out = Command::new(mcptop_bin())
        .arg("--config")
        .arg(config)
        .args(["alerts", "--output", "json"])
        .env("MCPTOP_T_ZBX", zbx_token)
        .env("MCPTOP_T_CS", cs_password)
        .output()
        .expect("mcptop alerts");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let v =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}\n{}", String::from_utf8_lossy(&out.stderr)));
    (v, out.status.code().unwrap_or(-1))
}

fn all_alerts(v: &Value) -> Vec<Value> {
    v["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["alerts"].as_array().cloned().unwrap_or_default())
        .collect()
}

fn source<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["sources"].as_array().and_then(|s| s.iter().find(|s| s["name"] == name)).unwrap_or(&Value::Null)
}

#[test]
fn zabbix_problems_and_crowdsec_alerts_join_alertmanagers_and_fail_alone() {
    let zbx = Zabbix::start();
    zbx.add_trigger(HOST, "ci.disk", "CI disk full", 5);
    zbx.send(HOST, KEY, "95");
    zbx.send(HOST, "ci.disk", "99");
    zbx.wait_problems(2);

    let mut cs = CrowdSec::start();
    let mut spec = AlertSpec::new("crowdsecurity/ssh-bf", "203.0.113.7");
    spec.decision = None;
    let quiet = cs.add_alert(&spec);
    cs.add_alerts(3);
    cs.add_decision("198.51.100.9", "4h", "manual test");

    let am = Alertmanager::start();
    am.post_alerts(&json!([{"labels": {"alertname": "DiskFull", "severity": "critical", "instance": "db-01:9100"},
                           "annotations": {"summary": "/var 97% full"}}]));

    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[contexts.m]\ntimeout_ms = 5000\n[[contexts.m.alertmanagers]]\nname = \"am\"\nurl = \"{}\"\n\
             [[contexts.m.zabbix]]\nurl = \"{}\"\ntoken = \"env:MCPTOP_T_ZBX\"\n\
             [contexts.m.crowdsec]\nurl = \"{}\"\nmachine_id = \"{}\"\npassword = \"env:MCPTOP_T_CS\"\n",
            am.url(),
            zbx.url(),
            cs.url(),
            cs.machine_id()
        ),
    )
    .expect("config");
    let (v, code) = alerts_json(&config, zbx.token(), cs.password());
    assert_eq!(code, 0, "every source answered: {}", v["sources"]);
    let alerts = all_alerts(&v);

    // Zabbix: the same problems as problem.get (recent ones included), with the trigger's host.
    let problems = zbx.api("problem.get", json!({"output": "extend", "recent": true}));
    let theirs: BTreeSet<String> = problems
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| Some(format!("zabbix:zabbix:{}", p["eventid"].as_str()?)))
        .collect();
    let ours: BTreeSet<String> = alerts
        .iter()
        .filter(|a| a["origin"]["kind"] == "zabbix")
        .filter_map(|a| a["fingerprint"].as_str().map(String::from))
        .collect();
    assert_eq!(ours, theirs);
    let disk = alerts.iter().find(|a| a["labels"]["alertname"] == "CI disk full").expect("the disaster");
    assert_eq!(disk["labels"]["severity"], "critical", "Disaster maps onto critical");
    assert_eq!(disk["labels"]["zabbix_severity"], "disaster");
    assert_eq!(disk["labels"]["host"], HOST, "host from trigger.get");
    assert_eq!(disk["origin"]["acknowledged"], false);
    assert_eq!(disk["sources"], json!(["zabbix"]));

    // CrowdSec: the same alerts as /v1/alerts, with the same decisions.
    let api = cs.alerts_api();
    let theirs: BTreeSet<i64> = api.as_array().into_iter().flatten().filter_map(|a| a["id"].as_i64()).collect();
    let ours: BTreeSet<i64> = alerts
        .iter()
        .filter(|a| a["origin"]["kind"] == "crowdsec")
        .filter_map(|a| a["origin"]["id"].as_i64())
        .collect();
    assert_eq!(ours, theirs);
    assert_eq!(theirs.len(), 5, "the quiet one, three detections and the manual decision");
    for item in api.as_array().into_iter().flatten() {
        let mine = alerts.iter().find(|a| a["origin"]["id"] == item["id"]).expect("listed");
        assert_eq!(mine["labels"]["alertname"], item["scenario"]);
        let ids = |d: &Value| -> Vec<Value> { d.as_array().into_iter().flatten().map(|x| x["id"].clone()).collect() };
        assert_eq!(ids(&mine["origin"]["decisions"]), ids(&item["decisions"]), "decisions of {}", item["id"]);
        if let Some(cn) = item["source"]["cn"].as_str() {
            assert_eq!(mine["labels"]["country"], cn);
        }
    }
    let quiet = alerts.iter().find(|a| a["origin"]["id"] == quiet).expect("the alert without a decision");
    assert_eq!(quiet["labels"]["severity"], "low", "no decision: low");
    assert_eq!(quiet["labels"]["source_ip"], "203.0.113.7");
    assert!(alerts.iter().any(|a| a["labels"]["alertname"] == "DiskFull"), "Alertmanager's still there");

    // On screen: every source's alerts, then CrowdSec down keeps its last alerts and says so.
    let t = harness::Tmux::start(
        &format!("--config {}", config.display()),
        200,
        50,
        &format!("MCPTOP_T_ZBX={} MCPTOP_T_CS={}", zbx.token(), cs.password()),
    );
    t.keys(&["4", "z"]);
    t.wait_for("[zabbix]", std::time::Duration::from_secs(20));
    t.wait_for("[crowdsec]", std::time::Duration::from_secs(5));
    t.wait_for("DiskFull", std::time::Duration::from_secs(5));
    cs.stop();
    t.wait_for("⚠ crowdsec:", harness::HANG_GUARD);
    let screen = t.screen();
    assert!(screen.contains("showing its 5 alerts from"), "its last alerts kept, saying from when:\n{screen}");
    assert!(screen.contains("[crowdsec]") && screen.contains("[zabbix]"), "{screen}");
    drop(t);

    // CrowdSec down: its source fails, the others' alerts stay, the exit code says so.
    let (v, code) = alerts_json(&config, zbx.token(), cs.password());
    assert_eq!(code, 1);
    assert_eq!(source(&v, "crowdsec")["ok"], false, "{}", v["sources"]);
    assert_eq!(source(&v, "zabbix")["ok"], true);
    assert_eq!(source(&v, "am")["ok"], true);
    let alerts = all_alerts(&v);
    assert!(
        alerts.iter().any(|a| a["origin"]["kind"] == "zabbix")
            && alerts.iter().any(|a| a["labels"]["alertname"] == "DiskFull")
    );

    // A wrong Zabbix token: its source says so, without the token.
    let (v, _) =
        alerts_json(&config, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", cs.password());
    let err = source(&v, "zabbix")["error"].as_str().unwrap_or_default().to_string();
    assert!(err.contains("Not authorized") || err.contains("Session terminated"), "{err}");
    assert!(!err.contains("0123456789abcdef"), "the token is not echoed: {err}");
}

/// Run mcptop with its XDG directories in `home` (the audit file is `home/data/…`).
fn mcptop_in(home: &std::path::Path, config: &std::path::Path, token: &str, args: &[&str]) -> std::process::Output {
    Command::new(mcptop_bin())
        .arg("--config")
        .arg(config)
        .args(args)
        .env("MCPTOP_T_ZBX", token)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("USER", "carol")
        .output()
        .expect("mcptop")
}

#[test]
fn a_zabbix_problem_is_acknowledged_once_audited_and_never_in_read_only_mode() {
    let zbx = Zabbix::start();
    zbx.send(HOST, KEY, "97");
    let problems = zbx.wait_problems(1);
    let eventid = problems[0]["eventid"].as_str().expect("eventid").to_string();
    let home = tempfile::tempdir().expect("home");
    let config = home.path().join("config.toml");
    std::fs::write(
        &config,
        format!("[contexts.z]\n[[contexts.z.zabbix]]\nurl = \"{}\"\ntoken = \"env:MCPTOP_T_ZBX\"\n", zbx.url()),
    )
    .expect("config");
    let fingerprint = format!("zabbix:zabbix:{eventid}");
    let acks = || {
        let p = zbx.api("problem.get", json!({"eventids": [eventid], "selectAcknowledges": "extend"}));
        p[0].clone()
    };

    // Read-only: refused where the action runs, recorded, nothing sent.
    let out = mcptop_in(home.path(), &config, zbx.token(), &["--read-only", "silence", "ack", &fingerprint, "--yes"]);
    assert_ne!(out.status.code(), Some(0), "refused: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(acks()["acknowledged"], "0");

    let out =
        mcptop_in(home.path(), &config, zbx.token(), &["silence", "ack", &fingerprint, "--yes", "--output", "json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!(v["data"]["already"], false, "{v} {}", String::from_utf8_lossy(&out.stderr));
    let p = acks();
    assert_eq!(p["acknowledged"], "1", "Zabbix says acknowledged: {p}");
    let messages: Vec<&str> =
        p["acknowledges"].as_array().into_iter().flatten().filter_map(|a| a["message"].as_str()).collect();
    assert_eq!(messages.len(), 1);
    assert!(messages[0].contains("carol@"), "the message names the operator: {messages:?}");

    // Again: nothing sent, said so.
    let out =
        mcptop_in(home.path(), &config, zbx.token(), &["silence", "ack", &fingerprint, "--yes", "--output", "json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!(v["data"]["already"], true, "{v}");
    assert_eq!(acks()["acknowledges"].as_array().map(Vec::len), Some(1), "no second acknowledgement");

    let out = mcptop_in(home.path(), &config, zbx.token(), &["audit", "--output", "json"]);
    let records: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let outcomes: Vec<(String, String)> = records
        .iter()
        .filter(|r| r["action"] == "ack_problem")
        .map(|r| (r["outcome"].as_str().unwrap_or("").into(), r["target"].as_str().unwrap_or("").into()))
        .collect();
    let target = format!("zabbix event {eventid}");
    assert!(outcomes.iter().all(|(_, t)| *t == target), "{outcomes:?}");
    let count = |o: &str| outcomes.iter().filter(|(x, _)| x == o).count();
    assert_eq!((count("started"), count("ok"), count("failed")), (2, 2, 1), "before and after each, and the refusal");
}

#[test]
fn crowdsec_logs_in_again_when_its_token_stops_working_and_a_bouncer_key_reads_decisions() {
    use mcptop::clients::crowdsec::CrowdSecClient;
    use mcptop::domain::{Origin, Secret};
    let mut cs = CrowdSec::start();
    cs.add_alerts(2);
    cs.add_decision("192.0.2.44", "2h", "manual test");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let timeout = std::time::Duration::from_secs(5);
    let machine = Some((cs.machine_id().to_string(), Secret::new(cs.password())));
    let client = CrowdSecClient::new(&cs.url(), machine, None, timeout).expect("client");
    assert_eq!(rt.block_on(client.alerts()).map(|a| a.items.len()).ok(), Some(3));
    // A restarted API signs with a new key: the token held is refused, the client logs in again.
    cs.restart();
    assert_eq!(rt.block_on(client.alerts()).map(|a| a.items.len()).ok(), Some(3), "after a 401, a new login");

    let bouncer = CrowdSecClient::new(&cs.url(), None, Some(Secret::new(cs.bouncer_key())), timeout).expect("client");
    let ours: BTreeSet<i64> = rt
        .block_on(bouncer.alerts())
        .map(|a| a.items)
        .unwrap_or_default()
        .iter()
        .flat_map(|a| match &a.origin {
            Origin::CrowdSec { decisions, .. } => decisions.iter().filter_map(|d| d.id).collect(),
            _ => vec![],
        })
        .collect();
    let theirs: BTreeSet<i64> =
        cs.decisions_api().as_array().into_iter().flatten().filter_map(|d| d["id"].as_i64()).collect();
    assert_eq!(ours, theirs, "the active decisions, as /v1/decisions lists them");
    assert_eq!(theirs.len(), 3);

    let wrong = Some((cs.machine_id().to_string(), Secret::new("not-the-password-7f3a")));
    let err = rt.block_on(CrowdSecClient::new(&cs.url(), wrong, None, timeout).expect("client").alerts());
    let err = err.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("401") && !err.contains("not-the-password-7f3a"), "{err}");
}

#[test]
fn a_source_that_never_answers_fails_alone_within_the_timeout() {
    let am = Alertmanager::start();
    am.post_alerts(&json!([{"labels": {"alertname": "DiskFull", "severity": "critical", "instance": "db-01:9100"}}]));
    // Accepts connections and never answers, as a host behind a dead firewall rule does.
    let hole = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let hole = format!("http://{}", hole.local_addr().expect("addr"));
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[contexts.m]\ntimeout_ms = 1000\n[[contexts.m.alertmanagers]]\nname = \"am\"\nurl = \"{}\"\n\
             [[contexts.m.zabbix]]\nurl = \"{hole}\"\ntoken = \"env:MCPTOP_T_ZBX\"\n\
             [contexts.m.crowdsec]\nurl = \"{hole}\"\nmachine_id = \"m\"\npassword = \"env:MCPTOP_T_CS\"\n",
            am.url()
        ),
    )
    .expect("config");
    let (v, code) = alerts_json(&config, "token-0123", "password-4567");
    assert_eq!(code, 1);
    assert_eq!(source(&v, "am")["ok"], true, "{}", v["sources"]);
    for name in ["zabbix", "crowdsec"] {
        let err = source(&v, name)["error"].as_str().unwrap_or_default().to_string();
        assert!(err.contains("timed out") || err.contains("1s") || err.contains("1000"), "{name}: {err}");
    }
    assert!(all_alerts(&v).iter().any(|a| a["labels"]["alertname"] == "DiskFull"), "Alertmanager's alert stays");

    // Two sources of one name would mix their alerts and acks: refused at start, naming both.
    std::fs::write(
        &config,
        format!(
            "[contexts.m]\n[[contexts.m.alertmanagers]]\nname = \"zabbix\"\nurl = \"{}\"\n\
             [[contexts.m.zabbix]]\nurl = \"{hole}\"\ntoken = \"env:MCPTOP_T_ZBX\"\n",
            am.url()
        ),
    )
    .expect("config");
    let out =
        Command::new(mcptop_bin()).arg("--config").arg(&config).args(["alerts"]).env("MCPTOP_T_ZBX", "t").output();
    let err = out.map(|o| String::from_utf8_lossy(&o.stderr).into_owned()).unwrap_or_default();
    assert!(err.contains("contexts.m.zabbix[0].name") && err.contains("alertmanagers[0].name"), "{err}");
}
