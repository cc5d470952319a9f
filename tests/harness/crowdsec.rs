//! A real CrowdSec local API (Debian `crowdsec` 1.4.6, LAPI only: `crowdsec -no-cs`) in a
//! temporary directory, configured as SERVICES.md says: SQLite, no Central API, a free loopback
//! port, the Debian `profiles.yaml`. A machine (`machine_id`/`password`, validated by
//! `cscli machines add`) and a bouncer with a fixed key (`bouncer_key`) are registered before it
//! starts; it is ready when `GET /health` answers `{"status":"up"}`. `start()` takes ~0.25 s idle,
//! ~0.4–0.5 s with both cores busy (the two `cscli` registrations are ~0.2 s of it). Logs (server
//! and access log) go to `crowdsec.log` in the directory (`log_media: stdout`). Stopped by pid in
//! `Drop` (`Service`: SIGTERM, waited on; 20 ms–1.3 s).
//!
//! What 1.4.6 answers (checked by hand against this very setup):
//! - alerts are added with the machine's JWT (`POST /v1/alerts`, 201, `["12","13"]`: ids as
//!   strings), the way the agent posts its detections; `cscli` has no command to add an alert,
//!   and `cscli decisions add` makes an alert whose scenario is the reason, without AS or country;
//! - `GET /v1/alerts` is newest first (`created_at` DESC, then id DESC); an empty list is the
//!   literal `null`; `start_at`/`stop_at` and events' `timestamp` are Go strings like
//!   `2026-11-22 10:10:16 +0000 UTC`, `created_at` is RFC 3339; decisions there have no `until` or
//!   `uuid`, only `duration` (`3h59m58.43s`, negative once expired: `-48h0m8.27s`);
//! - a decision lasts `duration` from the alert's `stop_at`, not from when it was posted;
//! - login (`POST /v1/watchers/login`) wants a `User-Agent` of the form `name/version`; with
//!   none, `mcptop` or `a/b/c` it answers 401 `{"code":401,"message":"incorrect Username or
//!   Password"}` (bouncer requests only log a warning);
//! - errors: no or malformed JWT 401 `{"code":401,"message":"cookie token is empty"}`, a token of
//!   another key 401 `"signature is invalid"`, an expired one 401 `"Token is expired"` (all with
//!   `code`); a wrong or missing bouncer key, or a machine JWT on `/v1/decisions`, 403
//!   `{"message":"access forbidden"}`; a bad query value 500 `{"message":"…"}`;
//! - `since`/`until` are durations (`24h`, `2d`) compared with `start_at`;
//!   `has_active_decision=false` means "no decision at all", not "no active one";
//! - **`limit` ≥ 200 can hang the LAPI**: with N ≥ 100 matching alerts and `limit - N ≥ 100` its
//!   pagination loops forever at 100 % CPU, never answers, and keeps spinning after the client
//!   gives up (fixed upstream in 1.6.10, crowdsecurity/crowdsec#3695). `limit` < 200 and
//!   `limit=0` ("all": it counts first) always answer; [`CrowdSec::alerts_api`] uses `limit=0`.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::{Service, free_port, http_status, require};

/// The machine (watcher) the harness registers; mcptop logs in as it.
pub const MACHINE_ID: &str = "mcptop-test";
const PASSWORD: &str = "mcptop-test-Passw0rd";
/// The bouncer the harness registers, with a fixed key.
pub const BOUNCER: &str = "mcptop-test-bouncer";
const BOUNCER_KEY: &str = "mcptopTestBouncerKey0123456789abcdef";

/// How long one request to the LAPI may take before the harness gives up (it answers in
/// milliseconds; only the pagination loop above makes it never answer).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// The Debian `profiles.yaml`, used when `/etc/crowdsec/profiles.yaml` is absent.
const DEFAULT_PROFILES: &str = "name: default_ip_remediation\nfilters:\n - Alert.Remediation == true && \
                                Alert.GetScope() == \"Ip\"\ndecisions:\n - type: ban\n   duration: 4h\non_success: break\n";

/// A running CrowdSec LAPI with a registered machine and bouncer.
pub struct CrowdSec {
    pub svc: Service,
    crowdsec: PathBuf,
    cscli: PathBuf,
    /// `CS_LAPI_SECRET`, the HS256 key of its JWTs (new at every start, as a real LAPI without
    /// it draws a random one): lets [`CrowdSec::expired_token`] sign a token.
    secret: String,
    /// The machine's JWT, logged in on first use and again after a 401.
    token: Mutex<Option<String>>,
    /// How many alerts `add_alerts` has made, so that later calls go on with new addresses.
    bulk: AtomicUsize,
}

/// One detection, as the agent would post it. `AlertSpec::new` fills in a typical SSH
/// brute-force from a Hetzner address in Germany with a 4 h ban; change fields with struct update
/// syntax: `AlertSpec { cn: "FR".into(), ..AlertSpec::new("crowdsecurity/ssh-bf", "203.0.113.7") }`.
#[derive(Debug, Clone)]
pub struct AlertSpec {
    pub scenario: String,
    /// The source IP (scope `Ip`); an IPv4 address also gets `range` `a.b.c.0/24`.
    pub ip: String,
    /// Country code (`source.cn`).
    pub cn: String,
    /// `source.as_number`: a string, as the LAPI keeps it.
    pub as_number: String,
    pub as_name: String,
    /// `source.latitude`/`longitude`, omitted when `None` (the LAPI then omits them too).
    pub location: Option<(f64, f64)>,
    pub events_count: u32,
    /// `(type, duration)` of the decision, e.g. `("ban", "4h")`; `None` posts the alert with no
    /// decision and `remediation: false`, so the profile adds none either (the alert's
    /// `decisions` is then `null`).
    pub decision: Option<(String, String)>,
    pub simulated: bool,
    /// How long ago the detection ended (`stop_at`); `start_at` is 3 s earlier. The decision
    /// lasts its duration from `stop_at`, so an alert 5 h ago with a 4 h ban has none active.
    pub ago: Duration,
}

impl AlertSpec {
    pub fn new(scenario: &str, ip: &str) -> AlertSpec {
        AlertSpec {
            scenario: scenario.to_string(),
            ip: ip.to_string(),
            cn: "DE".to_string(),
            as_number: "24940".to_string(),
            as_name: "Hetzner Online GmbH".to_string(),
            location: Some((51.2993, 9.491)),
            events_count: 6,
            decision: Some(("ban".to_string(), "4h".to_string())),
            simulated: false,
            ago: Duration::ZERO,
        }
    }
}

/// The scenarios `add_alerts` cycles through.
const SCENARIOS: [&str; 6] = [
    "crowdsecurity/ssh-bf",
    "crowdsecurity/http-probing",
    "crowdsecurity/ssh-slow-bf",
    "crowdsecurity/http-crawl-non_statics",
    "crowdsecurity/http-bad-user-agent",
    "crowdsecurity/http-sensitive-files",
];

/// Country, AS number, AS name, latitude, longitude: what GeoIP enrichment adds.
const ORIGINS: [(&str, &str, &str, f64, f64); 10] = [
    ("CN", "4134", "CHINANET-BACKBONE", 34.7732, 113.722),
    ("US", "14061", "DIGITALOCEAN-ASN", 40.7308, -73.9975),
    ("DE", "24940", "Hetzner Online GmbH", 51.2993, 9.491),
    ("FR", "16276", "OVH SAS", 48.8582, 2.3387),
    ("RU", "49505", "Selectel", 59.8983, 30.2618),
    ("NL", "60781", "LeaseWeb Netherlands B.V.", 52.3824, 4.8995),
    ("BR", "28573", "Claro NXT Telecomunicacoes Ltda", -23.5335, -46.6359),
    ("IN", "9829", "National Internet Backbone", 21.9974, 79.0011),
    ("VN", "45899", "VNPT Corp", 21.0184, 105.8461),
    ("US", "16509", "AMAZON-02", 39.0438, -77.4874),
];

impl CrowdSec {
    /// Configure, register the machine and the bouncer, start the LAPI and wait for `/health`.
    pub fn start() -> CrowdSec {
        let crowdsec = require("crowdsec", "crowdsec");
        let cscli = require("cscli", "crowdsec");
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let root = dir.path();
        let t = root.display();
        std::fs::write(
            root.join("config.yaml"),
            format!(
                "common: {{daemonize: false, log_media: stdout, log_level: info, log_dir: {t}/, working_dir: {t}}}\n\
                 config_paths: {{config_dir: {t}/, data_dir: {t}/, simulation_path: {t}/simulation.yaml, \
                 hub_dir: {t}/hub/, index_path: {t}/hub/.index.json}}\n\
                 db_config: {{type: sqlite, db_path: {t}/crowdsec.db, use_wal: true}}\n\
                 api:\n  client: {{credentials_path: {t}/local_api_credentials.yaml}}\n  \
                 server: {{listen_uri: \"127.0.0.1:{port}\", profiles_path: {t}/profiles.yaml, trusted_ips: [127.0.0.1]}}\n\
                 prometheus: {{enabled: false}}\n"
            ),
        )
        .expect("config.yaml");
        let profiles =
            std::fs::read_to_string("/etc/crowdsec/profiles.yaml").unwrap_or_else(|_| DEFAULT_PROFILES.to_string());
        std::fs::write(root.join("profiles.yaml"), profiles).expect("profiles.yaml");
        // Both write the database directly, before the LAPI runs. `machines add` validates the
        // machine (one registered over `POST /v1/watchers` is refused at login:
        // 401 `{"code":401,"message":"machine NAME not validated"}`).
        let creds = root.join("local_api_credentials.yaml");
        let creds = creds.to_str().expect("UTF-8 temp path");
        run_cscli(&cscli, root, &["machines", "add", MACHINE_ID, "--password", PASSWORD, "-f", creds]);
        run_cscli(&cscli, root, &["bouncers", "add", BOUNCER, "-k", BOUNCER_KEY, "-o", "raw"]);
        let secret = new_secret();
        let svc = spawn(&crowdsec, port, dir, &secret);
        CrowdSec { svc, crowdsec, cscli, secret, token: Mutex::new(None), bulk: AtomicUsize::new(0) }
    }

    /// The LAPI's base URL, `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.svc.port)
    }

    pub fn machine_id(&self) -> &str {
        MACHINE_ID
    }

    pub fn password(&self) -> &str {
        PASSWORD
    }

    pub fn bouncer_key(&self) -> &str {
        BOUNCER_KEY
    }

    /// Stop the LAPI (connections are then refused), keeping its directory and port.
    pub fn stop(&mut self) {
        self.svc.stop();
    }

    /// Start the LAPI again on the same port and database (stopping it first if it runs). Like a
    /// real restart it signs with a new key: tokens from before get
    /// 401 `{"code":401,"message":"signature is invalid"}`.
    pub fn restart(&mut self) {
        self.svc.stop();
        let port = self.svc.port;
        let dir = std::mem::replace(&mut self.svc.dir, tempfile::tempdir().expect("temp dir"));
        self.secret = new_secret();
        *self.token.lock().unwrap_or_else(|e| e.into_inner()) = None;
        self.svc = spawn(&self.crowdsec, port, dir, &self.secret);
    }

    /// Run `cscli -c $T/config.yaml ARGS`; its stdout, trimmed. Panics with stderr on failure.
    /// Commands that talk to the LAPI (`decisions`, `alerts`) need it running.
    pub fn cscli(&self, args: &[&str]) -> String {
        run_cscli(&self.cscli, self.svc.dir.path(), args)
    }

    /// `cscli decisions add --ip IP --duration D --reason R` (a ban). The LAPI records it as an
    /// alert from this machine whose scenario and message are the reason, origin `cscli`,
    /// `events_count` 1, and a `source` with only `scope`/`value`/`ip`. ~0.12 s.
    pub fn add_decision(&self, ip: &str, duration: &str, reason: &str) {
        self.cscli(&["decisions", "add", "--ip", ip, "--duration", duration, "--reason", reason]);
    }

    /// Post one detection as the agent does; returns its alert id.
    pub fn add_alert(&self, alert: &AlertSpec) -> u64 {
        let ids = self.post_alerts(&json!([alert_json(alert, SystemTime::now())]));
        ids.first().copied().expect("one alert id")
    }

    /// Post `n` detections (in batches of 100: 500 take ~0.3 s) and return their ids. They
    /// cycle through six scenarios and ten origins (country, AS, location), come from distinct
    /// addresses in 198.18.0.0/15 (later calls go on with new ones), have 5–44 events, ended
    /// within the last hour, and each carries a 4 h ban, so all are active and within `since=24h`.
    pub fn add_alerts(&self, n: usize) -> Vec<u64> {
        let first = self.bulk.fetch_add(n, Ordering::SeqCst);
        let now = SystemTime::now();
        let specs: Vec<Value> = (first..first + n).map(|i| alert_json(&bulk_spec(i), now)).collect();
        specs.chunks(100).flat_map(|batch| self.post_alerts(&Value::Array(batch.to_vec()))).collect()
    }

    /// `POST /v1/alerts` with any body (an array of alerts in the LAPI's schema); the new ids.
    /// Panics unless 201. A body failing the schema gets a 500 with
    /// `{"message":"validation failure list:\n0.events in body is required"}`.
    pub fn post_alerts(&self, alerts: &Value) -> Vec<u64> {
        let (status, body) = self.machine_request("POST", "/v1/alerts", &alerts.to_string());
        assert_eq!(status, 201, "POST /v1/alerts: {body}");
        let ids: Vec<String> = serde_json::from_str(&body).unwrap_or_else(|e| panic!("alert ids {body:?}: {e}"));
        ids.iter().map(|id| id.parse().unwrap_or_else(|e| panic!("alert id {id:?}: {e}"))).collect()
    }

    /// Every alert (`GET /v1/alerts?limit=0` with the machine's JWT), newest first; the literal
    /// `null` when there are none.
    pub fn alerts_api(&self) -> Value {
        self.alerts_api_query("limit=0")
    }

    /// `GET /v1/alerts?QUERY` with the machine's JWT (e.g. `has_active_decision=true&since=24h`).
    /// Panics unless 200. Mind the `limit` hang above: no `limit` ≥ 200 other than 0.
    pub fn alerts_api_query(&self, query: &str) -> Value {
        let (status, body) = self.machine_request("GET", &format!("/v1/alerts?{query}"), "");
        assert_eq!(status, 200, "GET /v1/alerts?{query}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("alerts JSON {body:?}: {e}"))
    }

    /// The active decisions (`GET /v1/decisions` with the bouncer key): an array of
    /// `{duration,id,origin,scenario,scope,type,value}`, or the literal `null` when there are none.
    pub fn decisions_api(&self) -> Value {
        let (status, body) = self.request("GET", "/v1/decisions", &[("X-Api-Key", BOUNCER_KEY)], "");
        assert_eq!(status, 200, "GET /v1/decisions: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("decisions JSON {body:?}: {e}"))
    }

    /// Log the machine in (`POST /v1/watchers/login`; bcrypt makes it take ~0.06–0.12 s) and
    /// return the JWT, valid 1 h. The answer is `{"code":200,"expire":"<RFC 3339>","token":"…"}`.
    pub fn login(&self) -> String {
        let body = json!({"machine_id": MACHINE_ID, "password": PASSWORD, "scenarios": []}).to_string();
        let (status, answer) = self.request("POST", "/v1/watchers/login", &[], &body);
        assert_eq!(status, 200, "login: {answer}");
        let v: Value = serde_json::from_str(&answer).unwrap_or_else(|e| panic!("login JSON {answer:?}: {e}"));
        v["token"].as_str().expect("token").to_string()
    }

    /// A JWT for the machine, signed with the LAPI's key, that expired a minute ago. The LAPI
    /// answers it with 401 `{"code":401,"message":"Token is expired"}` (and `/v1/refresh_token`
    /// with `"token is expired"`), as it does once a real token's hour is up.
    pub fn expired_token(&self) -> String {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let header = base64url(br#"{"alg":"HS256","typ":"JWT"}"#);
        let claims = json!({"exp": now - 60, "id": MACHINE_ID, "orig_iat": now - 3660});
        let signed = format!("{header}.{}", base64url(claims.to_string().as_bytes()));
        let signature = base64url(&hmac_sha256(self.secret.as_bytes(), signed.as_bytes()));
        format!("{signed}.{signature}")
    }

    /// One HTTP/1.1 request to the LAPI with extra headers, e.g.
    /// `[("Authorization", "Bearer …")]` or `[("X-Api-Key", …)]`: (status, body).
    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
        http(self.svc.port, method, path, headers, body)
    }

    /// A request with the machine's JWT; logs in again once on a 401.
    fn machine_request(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let mut cached = self.token.lock().unwrap_or_else(|e| e.into_inner());
        let token = cached.get_or_insert_with(|| self.login()).clone();
        let answer = self.request(method, path, &[("Authorization", &format!("Bearer {token}"))], body);
        if answer.0 != 401 {
            return answer;
        }
        let token = self.login();
        *cached = Some(token.clone());
        self.request(method, path, &[("Authorization", &format!("Bearer {token}"))], body)
    }
}

/// Start `crowdsec -c config.yaml -no-cs` and wait until `/health` answers 200.
fn spawn(crowdsec: &Path, port: u16, dir: tempfile::TempDir, secret: &str) -> Service {
    let mut cmd = Command::new(crowdsec);
    cmd.arg("-c")
        .arg(dir.path().join("config.yaml"))
        .arg("-no-cs")
        .current_dir(dir.path())
        .env("CS_LAPI_SECRET", secret);
    Service::start("crowdsec", port, dir, cmd, |p| http_status(p, "/health") == Some(200))
}

fn run_cscli(cscli: &Path, dir: &Path, args: &[&str]) -> String {
    let out = Command::new(cscli)
        .arg("-c")
        .arg(dir.join("config.yaml"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run cscli: {e}"));
    assert!(
        out.status.success(),
        "cscli {args:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// 64 hex characters (the LAPI refuses a `CS_LAPI_SECRET` shorter than 64 bytes).
fn new_secret() -> String {
    use std::hash::{BuildHasher, RandomState};
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    (0..4u8).map(|i| format!("{:016x}", RandomState::new().hash_one((nanos, i, std::process::id())))).collect()
}

/// The `i`th alert of `add_alerts`.
fn bulk_spec(i: usize) -> AlertSpec {
    let (cn, asn, as_name, lat, lon) = ORIGINS[i % ORIGINS.len()];
    let host = i % 254 + 1;
    let net = i / 254;
    AlertSpec {
        scenario: SCENARIOS[i % SCENARIOS.len()].to_string(),
        ip: format!("198.{}.{}.{host}", 18 + (net / 256) % 2, net % 256),
        cn: cn.to_string(),
        as_number: asn.to_string(),
        as_name: as_name.to_string(),
        location: Some((lat, lon)),
        events_count: 5 + u32::try_from(i * 7 % 40).unwrap_or(0),
        decision: Some(("ban".to_string(), "4h".to_string())),
        simulated: false,
        ago: Duration::from_secs(u64::try_from(i * 37 % 3600).unwrap_or(0)),
    }
}

/// An alert in the LAPI's schema (`models.Alert`), shaped like the agent's: every required field,
/// up to three events with the usual meta, the GeoIP-enriched source, the decision.
fn alert_json(a: &AlertSpec, now: SystemTime) -> Value {
    let stop = now.checked_sub(a.ago).unwrap_or(now);
    let start = stop.checked_sub(Duration::from_secs(3)).unwrap_or(stop);
    let (service, log_type) =
        if a.scenario.contains("ssh") { ("ssh", "ssh_failed-auth") } else { ("http", "http_access-log") };
    let events: Vec<Value> = (0..a.events_count.min(3))
        .map(|k| {
            json!({
                "timestamp": rfc3339(start + Duration::from_secs(u64::from(k))),
                "meta": [
                    {"key": "source_ip", "value": a.ip},
                    {"key": "service", "value": service},
                    {"key": "log_type", "value": log_type},
                    {"key": "ASNNumber", "value": a.as_number},
                    {"key": "IsoCode", "value": a.cn},
                ],
            })
        })
        .collect();
    let decisions: Vec<Value> = a
        .decision
        .iter()
        .map(|(kind, duration)| {
            json!({"origin": "crowdsec", "type": kind, "scope": "Ip", "value": a.ip, "duration": duration,
                   "scenario": a.scenario, "simulated": a.simulated})
        })
        .collect();
    let mut source = json!({"scope": "Ip", "value": a.ip, "ip": a.ip, "as_number": a.as_number,
                            "as_name": a.as_name, "cn": a.cn});
    if let Some((prefix, _)) = a.ip.rsplit_once('.').filter(|_| !a.ip.contains(':')) {
        source["range"] = json!(format!("{prefix}.0/24"));
    }
    if let Some((lat, lon)) = a.location {
        source["latitude"] = json!(lat);
        source["longitude"] = json!(lon);
    }
    json!({
        "scenario": a.scenario,
        "scenario_hash": hex(&sha256(a.scenario.as_bytes())),
        "scenario_version": "0.1",
        "message": format!("Ip {} performed '{}' ({} events over 3s) at {}", a.ip, a.scenario, a.events_count, rfc3339(stop)),
        "events_count": a.events_count,
        "start_at": rfc3339(start),
        "stop_at": rfc3339(stop),
        "capacity": 5,
        "leakspeed": "10s",
        "simulated": a.simulated,
        "remediation": a.decision.is_some(),
        "events": events,
        "source": source,
        "decisions": decisions,
    })
}

/// `YYYY-MM-DDTHH:MM:SSZ`, what the LAPI parses `start_at`/`stop_at` with (RFC 3339).
fn rfc3339(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A blocking HTTP/1.1 request on loopback (`Connection: close`), chunked answers decoded (the
/// LAPI sends lists larger than 4 KiB chunked): (status, body). The `User-Agent` must be
/// `name/version`: the LAPI refuses a login from any other (none, `mcptop`, `a/b/c`) with the
/// misleading 401 `{"code":401,"message":"incorrect Username or Password"}`.
fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port))
        .unwrap_or_else(|e| panic!("cannot connect to the CrowdSec LAPI on port {port}: {e}"));
    s.set_read_timeout(Some(REQUEST_TIMEOUT)).expect("read timeout");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nUser-Agent: mcptop-test-harness/1.0\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).and_then(|()| s.write_all(body.as_bytes())).expect("write the request");
    let mut raw = Vec::new();
    if let Err(e) = s.read_to_end(&mut raw) {
        panic!(
            "{method} {path}: no complete answer within {REQUEST_TIMEOUT:?} ({e}); a `limit` of 200 or more \
             makes CrowdSec 1.4.6 loop forever"
        );
    }
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let rest = raw.get(split + 4..).unwrap_or_default();
    let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let chunked = head.lines().any(|l| {
        l.split_once(':').is_some_and(|(k, v)| {
            k.trim().eq_ignore_ascii_case("transfer-encoding") && v.trim().eq_ignore_ascii_case("chunked")
        })
    });
    let body = if chunked { dechunk(rest) } else { rest.to_vec() };
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// The payload of a `Transfer-Encoding: chunked` body.
fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
        let line = String::from_utf8_lossy(&rest[..eol]).into_owned();
        let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16).unwrap_or(0);
        rest = &rest[eol + 2..];
        if size == 0 {
            break;
        }
        let take = size.min(rest.len());
        out.extend_from_slice(&rest[..take]);
        rest = rest.get(take + 2..).unwrap_or_default();
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Base64url without padding, as JWTs use.
fn base64url(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for k in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * k)) & 63) as usize]));
        }
    }
    out
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&sha256(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner: Vec<u8> = block.iter().map(|b| b ^ 0x36).collect();
    inner.extend_from_slice(message);
    let mut outer: Vec<u8> = block.iter().map(|b| b ^ 0x5c).collect();
    outer.extend_from_slice(&sha256(&inner));
    sha256(&outer)
}

/// SHA-256 (FIPS 180-4), for the HS256 signature of `expired_token`.
fn sha256(data: &[u8]) -> [u8; 32] {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
        0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
        0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
        0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
        0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
        0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
        0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] =
        [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    let mut msg = data.to_vec();
    let bits = u64::try_from(data.len()).unwrap_or(0).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bits.to_be_bytes());
    for block in msg.chunks_exact(64) {
        let mut w = [0u32; 64];
        for (word, bytes) in w.iter_mut().zip(block.chunks_exact(4)) {
            *word = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16].wrapping_add(s0).wrapping_add(w[i - 7]).wrapping_add(s1);
        }
        let mut v = h;
        for (k, wi) in K.iter().zip(w.iter()) {
            let [a, b, c, d, e, f, g, hh] = v;
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh.wrapping_add(s1).wrapping_add(ch).wrapping_add(*k).wrapping_add(*wi);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            v = [t1.wrapping_add(s0.wrapping_add(maj)), a, b, c, d.wrapping_add(t1), e, f, g];
        }
        for (x, y) in h.iter_mut().zip(v) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 32];
    for (bytes, word) in out.chunks_exact_mut(4).zip(h) {
        bytes.copy_from_slice(&word.to_be_bytes());
    }
    out
}
