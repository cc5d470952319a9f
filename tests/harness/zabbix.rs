//! A real Zabbix 6.0 (Debian's `zabbix-server-pgsql` and `zabbix-frontend-php`) on loopback, per
//! SERVICES.md: its own PostgreSQL 18 ([`Postgres`]), `zabbix_server -f` on a free port below
//! 32768 (the server refuses a higher `ListenPort`), and a copy of the PHP frontend served by
//! `php -S`, so that the JSON-RPC API is at `{url}api_jsonrpc.php`.
//!
//! Loading the schema takes ~13 s, so the loaded database is kept as a `pg_dump` under the cache
//! directory (`$XDG_CACHE_HOME` or `~/.cache`, then `mcptop/`), named by the Zabbix and
//! PostgreSQL versions and by [`RECIPE`], and restored (~1 s) the next time. Two tests building it
//! at once each write a file of their own and rename it into place; a dump that does not restore
//! is ignored and rebuilt.
//!
//! The built-in "Zabbix server" host is disabled, so that nothing but what a test creates ever
//! raises a problem. [`Zabbix::start`] logs in as `Admin`/`zabbix`, makes an API token and creates
//! the host group `mcptop-ci`, the host [`HOST`] with the trapper item [`KEY`] and the trigger
//! `last(/ci-host/ci.cpu)>90` ("CI CPU high", priority 4, High). `send(HOST, KEY, "95")` then
//! raises that problem; [`Zabbix::wait_problems`] waits until it shows in `problem.get`.
//!
//! What the API does on 6.0.14 (tried by hand): only the `auth` body field authenticates, with a
//! `user.login` session or an API token; an `Authorization: Bearer` header is ignored
//! (`-32602`, `"Not authorized."`). `apiinfo.version` must be called without `auth` (with one it
//! is `-32602` "…must be called without the "auth" parameter."). Every field the API returns is
//! a string (`"severity":"4"`, `"acknowledged":"0"`), except `event.acknowledge`, which answers
//! `{"eventids":[6]}` with integers. Errors come with HTTP 200.
//!
//! The server caches its configuration and reads it again every second (`CacheUpdateFrequency=1`):
//! a value sent for an item it does not know yet is refused (`processed: 0`), and one sent for an
//! item it knows, before it knows a new trigger on that item, is stored without raising anything.
//! [`Zabbix::send`] therefore first waits, after any trigger was created, until the server has
//! read a configuration at least as new (a fence item, created after the triggers, is accepted),
//! then sends until the value is processed.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::postgres::Postgres;
use super::{HANG_GUARD, Service, free_port, require};

/// The host `start` creates, with the trapper item [`KEY`] and the trigger on it.
pub const HOST: &str = "ci-host";
/// The trapper item (numeric, float) on [`HOST`].
pub const KEY: &str = "ci.cpu";
/// The host group every host made here belongs to.
pub const GROUP: &str = "mcptop-ci";
/// The frontend's built-in super administrator.
pub const USER: &str = "Admin";
pub const PASSWORD: &str = "zabbix";
/// The version of what the cached dump holds beyond the three SQL files; raise it when
/// `prepare_database` changes, so that old dumps are not restored.
pub const RECIPE: u32 = 1;

const SCHEMA_DIR: &str = "/usr/share/zabbix-server-pgsql";
const FRONTEND_DIR: &str = "/usr/share/zabbix";
/// The frontend's hard-coded configuration path (Debian), patched in the copy.
const DEBIAN_CONFIG: &str = "'/etc/zabbix/zabbix.conf.php'";
const CONFIG_CLASS: &str = "include/classes/core/CConfigFile.php";
/// How many objects one `item.create` / `trigger.create` call carries in `bulk_problems`.
const BATCH: usize = 500;

pub struct Zabbix {
    // Stopped in this order by `Drop`: the frontend, the server (waited for), the database.
    php: Service,
    server: Service,
    pg: Postgres,
    sender: PathBuf,
    session: String,
    token: String,
    groupid: String,
    /// The trigger `start` created on [`HOST`]/[`KEY`].
    pub triggerid: String,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Host name → hostid, for the hosts made here.
    hosts: BTreeMap<String, String>,
    /// The last value sent per (host, key), sent again while `wait_problems` waits.
    last: BTreeMap<(String, String), String>,
    /// A trigger was created since the server last proved it had read the configuration.
    fence_due: bool,
    /// Numbers the fence items and the bulk rounds.
    counter: u64,
}

impl Zabbix {
    pub fn start() -> Zabbix {
        let server_bin = require("zabbix_server", "zabbix-server-pgsql");
        let sender = require("zabbix_sender", "zabbix-agent");
        let php_bin = require("php", "php-cli");
        for file in ["schema", "images", "data"] {
            let path = Path::new(SCHEMA_DIR).join(format!("{file}.sql.gz"));
            assert!(
                path.is_file(),
                "{} is missing. Install it with `apt-get install -y zabbix-server-pgsql`",
                path.display()
            );
        }
        assert!(
            Path::new(FRONTEND_DIR).join("api_jsonrpc.php").is_file(),
            "the Zabbix frontend is not installed. Install it with `apt-get install -y zabbix-frontend-php`"
        );
        let pgsql = Command::new(&php_bin)
            .args(["-r", "exit(extension_loaded('pgsql') ? 0 : 1);"])
            .status()
            .is_ok_and(|s| s.success());
        assert!(pgsql, "PHP has no PostgreSQL driver. Install it with `apt-get install -y php-pgsql`");

        let pg = Postgres::start();
        prepare_database(&pg, &server_bin);

        // The server: everything in its own directory, logging to the Service's log file.
        let server_port = free_port();
        assert!(
            server_port < 32768,
            "zabbix_server refuses ListenPort {server_port} (1024–32767 only); the harness hands out ports \
             above the ephemeral range, which starts below 21000 here: sysctl -w net.ipv4.ip_local_port_range=\"32768 60999\""
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let conf = dir.path().join("zabbix_server.conf");
        std::fs::write(&conf, server_config(dir.path(), server_port, pg.svc.port)).expect("server config");
        let mut cmd = Command::new(&server_bin);
        cmd.arg("-f").arg("-c").arg(&conf);
        let server = Service::start("zabbix_server", server_port, dir, cmd, |port| {
            TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200)).is_ok()
        });

        // The frontend: a copy whose configuration path points into its directory.
        let dir = tempfile::tempdir().expect("temp dir");
        let frontend = dir.path().join("frontend");
        let copied = Command::new("cp").arg("-a").arg(FRONTEND_DIR).arg(&frontend).status().is_ok_and(|s| s.success());
        assert!(copied, "copying {FRONTEND_DIR}");
        let php_conf = dir.path().join("zabbix.conf.php");
        let class = frontend.join(CONFIG_CLASS);
        let source = std::fs::read_to_string(&class).expect("CConfigFile.php");
        assert!(source.contains(DEBIAN_CONFIG), "{} no longer names {DEBIAN_CONFIG}", class.display());
        let patched = source.replace(DEBIAN_CONFIG, &format!("'{}'", php_conf.display()));
        std::fs::write(&class, patched).expect("patch CConfigFile.php");
        std::fs::write(&php_conf, frontend_config(pg.svc.port, server_port)).expect("frontend config");
        let php_port = free_port();
        let mut cmd = Command::new(&php_bin);
        cmd.arg("-S").arg(format!("127.0.0.1:{php_port}")).arg("-t").arg(&frontend);
        let php = Service::start("php", php_port, dir, cmd, |port| {
            rpc(port, "apiinfo.version", json!({}), None, Duration::from_secs(2)).is_ok_and(|v| v.is_string())
        });

        // A session, then an API token for everything else.
        let call = |method: &str, params: Value, auth: Option<&str>| {
            rpc(php.port, method, params, auth, HANG_GUARD)
                .unwrap_or_else(|e| panic!("Zabbix {method} failed: {e}\n{}", log_tail(&php)))
        };
        let session = call("user.login", json!({"username": USER, "password": PASSWORD}), None);
        let session = session.as_str().expect("user.login returns the session id").to_string();
        let made = call("token.create", json!({"name": "mcptop-ci"}), Some(&session));
        let tokenid = made["tokenids"][0].as_str().expect("token.create returns tokenids").to_string();
        let generated = call("token.generate", json!([tokenid]), Some(&session));
        let token = generated[0]["token"].as_str().expect("token.generate returns the token").to_string();
        let made = call("hostgroup.create", json!({"name": GROUP}), Some(&token));
        let groupid = made["groupids"][0].as_str().expect("hostgroup.create returns groupids").to_string();

        let mut zabbix = Zabbix {
            php,
            server,
            pg,
            sender,
            session,
            token,
            groupid,
            triggerid: String::new(),
            state: Mutex::new(State::default()),
        };
        zabbix.triggerid = zabbix.add_trigger(HOST, KEY, "CI CPU high", 4);
        zabbix
    }

    /// The frontend's base URL, `http://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.php.port)
    }

    /// The JSON-RPC endpoint, `{url}api_jsonrpc.php`.
    pub fn api_url(&self) -> String {
        format!("{}api_jsonrpc.php", self.url())
    }

    /// An API token of `Admin` (`token.create` + `token.generate`), for the `auth` field.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The `user.login` session id of `Admin`, which the `auth` field also takes.
    pub fn session(&self) -> &str {
        &self.session
    }

    /// The trapper port of zabbix_server.
    pub fn server_port(&self) -> u16 {
        self.server.port
    }

    /// The API version (`apiinfo.version`, asked without `auth`): "6.0.14".
    pub fn version(&self) -> String {
        self.call("apiinfo.version", json!({}), None)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default()
    }

    /// A JSON-RPC call with the token in the `auth` field; the `result`, or a panic with the error.
    pub fn api(&self, method: &str, params: Value) -> Value {
        self.call(method, params, Some(&self.token))
            .unwrap_or_else(|e| panic!("Zabbix {method} failed: {e}\n{}", log_tail(&self.php)))
    }

    /// A JSON-RPC call with any `auth` (or none): `Ok(result)` or `Err(error)`, the error object
    /// as the API sent it (`{"code":-32602,"message":"Invalid params.","data":"Not authorized."}`).
    /// A failure to reach the API at all is an `Err` with a `transport` field.
    pub fn call(&self, method: &str, params: Value, auth: Option<&str>) -> Result<Value, Value> {
        rpc(self.php.port, method, params, auth, HANG_GUARD)
    }

    /// The hostid of `host`, creating it (in [`GROUP`], with no interface: trapper items need none).
    pub fn add_host(&self, host: &str) -> String {
        if let Some(id) = self.lock().hosts.get(host) {
            return id.clone();
        }
        let found = self.api("host.get", json!({"output": ["hostid"], "filter": {"host": [host]}}));
        let id = match found[0]["hostid"].as_str() {
            Some(id) => id.to_string(),
            None => {
                let made = self.api("host.create", json!({"host": host, "groups": [{"groupid": self.groupid}]}));
                made["hostids"][0].as_str().expect("host.create returns hostids").to_string()
            }
        };
        self.lock().hosts.insert(host.to_string(), id.clone());
        id
    }

    /// The itemid of the trapper item `key` on `host` (numeric, float), creating both as needed.
    pub fn add_item(&self, host: &str, key: &str) -> String {
        let hostid = self.add_host(host);
        let found = self.api("item.get", json!({"output": ["itemid"], "hostids": [hostid], "filter": {"key_": [key]}}));
        if let Some(id) = found[0]["itemid"].as_str() {
            return id.to_string();
        }
        let made =
            self.api("item.create", json!({"hostid": hostid, "name": key, "key_": key, "type": 2, "value_type": 0}));
        made["itemids"][0].as_str().expect("item.create returns itemids").to_string()
    }

    /// A trigger `last(/HOST/KEY)>90` named `name` with `priority` (severity: 0 not classified,
    /// 1 information, 2 warning, 3 average, 4 high, 5 disaster), creating the host and the
    /// trapper item as needed. Returns the triggerid. Several triggers may watch one item.
    pub fn add_trigger(&self, host: &str, key: &str, name: &str, priority: u8) -> String {
        self.add_trigger_expr(host, key, name, priority, &format!("last(/{host}/{key})>90"))
    }

    /// A trigger with any `expression` over the trapper item `key` on `host` (both created as
    /// needed). Returns the triggerid.
    pub fn add_trigger_expr(&self, host: &str, key: &str, name: &str, priority: u8, expression: &str) -> String {
        self.add_item(host, key);
        let made =
            self.api("trigger.create", json!({"description": name, "expression": expression, "priority": priority}));
        self.lock().fence_due = true;
        made["triggerids"][0].as_str().expect("trigger.create returns triggerids").to_string()
    }

    /// Send one value with zabbix_sender, every 0.5 s until the server has processed it (it
    /// refuses values for items its configuration cache does not hold yet). After a trigger was
    /// created, first waits until the server's configuration holds it.
    pub fn send(&self, host: &str, key: &str, value: &str) {
        self.fence();
        let port = self.server.port.to_string();
        let args = ["-z", "127.0.0.1", "-p", &port, "-s", host, "-k", key, "-o", value];
        self.sender_until(&args, 1);
        self.lock().last.insert((host.to_string(), key.to_string()), value.to_string());
    }

    /// Every problem (`problem.get`, `output: extend`, oldest first).
    pub fn problems(&self) -> Vec<Value> {
        let all = self.api("problem.get", json!({"output": "extend", "sortfield": ["eventid"], "sortorder": "ASC"}));
        all.as_array().cloned().unwrap_or_default()
    }

    /// Wait until `problem.get` lists at least `n` problems and return them (oldest first).
    /// While waiting, sends the last value of every item again every 2 s: the same value raises
    /// nothing twice, and a trigger the server read just after the value was processed fires.
    pub fn wait_problems(&self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + HANG_GUARD;
        let mut resend = Instant::now() + Duration::from_secs(2);
        loop {
            let problems = self.problems();
            if problems.len() >= n {
                return problems;
            }
            assert!(
                Instant::now() < deadline,
                "{n} problems expected, {} within {HANG_GUARD:?}: {problems:#?}\n{}",
                problems.len(),
                log_tail(&self.server)
            );
            if Instant::now() >= resend {
                self.resend_last();
                resend = Instant::now() + Duration::from_secs(2);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `n` more problems, quickly: on the host `bulk-host`, `n` trapper items `bulk.R.I` and
    /// triggers `last(…)>90` named "bulk problem R.I" with priorities 3, 4, 5 in turn (all in a
    /// client's usual `severities: [3,4,5]`), made `BATCH` at a time, then one zabbix_sender
    /// run with an input file sends 99 to each. Returns once `problem.get` counts them all,
    /// with the triggerids.
    pub fn bulk_problems(&self, n: usize) -> Vec<String> {
        let host = "bulk-host";
        let hostid = self.add_host(host);
        let round = {
            let mut state = self.lock();
            state.counter += 1;
            state.counter
        };
        let before = self.problem_count();
        let keys: Vec<String> = (0..n).map(|i| format!("bulk.{round}.{i}")).collect();
        let mut triggerids = Vec::with_capacity(n);
        for chunk in keys.chunks(BATCH) {
            let items: Vec<Value> = chunk
                .iter()
                .map(|k| json!({"hostid": hostid, "name": k, "key_": k, "type": 2, "value_type": 0}))
                .collect();
            self.api("item.create", Value::Array(items));
        }
        for (c, chunk) in keys.chunks(BATCH).enumerate() {
            let triggers: Vec<Value> = chunk
                .iter()
                .enumerate()
                .map(|(i, k)| {
                    let i = c * BATCH + i;
                    json!({"description": format!("bulk problem {round}.{i}"),
                           "expression": format!("last(/{host}/{k})>90"), "priority": 3 + i % 3})
                })
                .collect();
            let made = self.api("trigger.create", Value::Array(triggers));
            let ids = made["triggerids"].as_array().expect("trigger.create returns triggerids");
            triggerids.extend(ids.iter().filter_map(|id| id.as_str().map(String::from)));
        }
        self.lock().fence_due = true;
        self.fence();

        let dir = tempfile::tempdir().expect("temp dir");
        let input = dir.path().join("values.txt");
        let lines: String = keys.iter().map(|k| format!("{host} {k} 99\n")).collect();
        std::fs::write(&input, lines).expect("sender input");
        let port = self.server.port.to_string();
        let path = input.to_str().expect("UTF-8 temp path");
        let args = ["-z", "127.0.0.1", "-p", &port, "-i", path];
        self.sender_until(&args, n);
        {
            let mut state = self.lock();
            for k in &keys {
                state.last.insert((host.to_string(), k.clone()), "99".to_string());
            }
        }
        let deadline = Instant::now() + HANG_GUARD;
        let mut resend = Instant::now() + Duration::from_secs(2);
        loop {
            let count = self.problem_count();
            if count >= before + n {
                return triggerids;
            }
            assert!(Instant::now() < deadline, "{n} bulk problems expected, {} within {HANG_GUARD:?}", count - before);
            if Instant::now() >= resend {
                self.sender_until(&args, n);
                resend = Instant::now() + Duration::from_secs(2);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// How many problems there are (`problem.get` with `countOutput`).
    pub fn problem_count(&self) -> usize {
        let n = self.api("problem.get", json!({"countOutput": true}));
        n.as_str().and_then(|s| s.parse().ok()).expect("problem.get countOutput is a number in a string")
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// After triggers were created: create a fence item on [`HOST`] and send to it until the
    /// server takes the value. The server reads items, then triggers, in each configuration sync,
    /// so once it holds the fence item, which was committed after the triggers, it holds them
    /// too (a moment later, in the same sync).
    fn fence(&self) {
        let n = {
            let mut state = self.lock();
            if !state.fence_due {
                return;
            }
            state.fence_due = false;
            state.counter += 1;
            state.counter
        };
        let hostid = self.add_host(HOST);
        let key = format!("mcptop.fence.{n}");
        let made =
            self.api("item.create", json!({"hostid": hostid, "name": key, "key_": key, "type": 2, "value_type": 3}));
        let itemid = made["itemids"][0].as_str().expect("item.create returns itemids").to_string();
        let port = self.server.port.to_string();
        self.sender_until(&["-z", "127.0.0.1", "-p", &port, "-s", HOST, "-k", &key, "-o", "1"], 1);
        std::thread::sleep(Duration::from_millis(100));
        self.api("item.delete", json!([itemid]));
    }

    /// Run zabbix_sender with `args` every 0.5 s until the server reports `expected` values
    /// processed (summed over its batches of 250); panics with its output after `HANG_GUARD`.
    fn sender_until(&self, args: &[&str], expected: usize) {
        let deadline = Instant::now() + HANG_GUARD;
        loop {
            let out = Command::new(&self.sender).args(args).output().expect("zabbix_sender");
            let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            if processed(&text) >= expected {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "zabbix_sender {args:?}: {expected} values not processed within {HANG_GUARD:?}:\n{text}\n{}",
                log_tail(&self.server)
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    fn resend_last(&self) {
        let last: Vec<((String, String), String)> =
            self.lock().last.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        if last.is_empty() {
            return;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let input = dir.path().join("values.txt");
        let lines: String =
            last.iter().map(|((host, key), value)| format!("\"{host}\" \"{key}\" \"{value}\"\n")).collect();
        std::fs::write(&input, lines).expect("sender input");
        let port = self.server.port.to_string();
        let _ = Command::new(&self.sender)
            .args(["-z", "127.0.0.1", "-p", &port, "-i"])
            .arg(&input)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for Zabbix {
    fn drop(&mut self) {
        self.php.stop();
        // The server's main process stops its children and waits for them; should it have to
        // be killed, they would stay: end any that are left, by pid.
        let children = self.server.pid().map(children_of).unwrap_or_default();
        self.server.stop();
        for pid in children {
            let alive =
                std::fs::read_to_string(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.contains("zabbix_server"));
            if alive {
                let _ = Command::new("kill").arg("-KILL").arg(pid.to_string()).status();
            }
        }
        self.pg.stop();
    }
}

/// Role, database and schema: restored from the cached dump when there is one that restores,
/// else loaded from the SQL files, prepared, and dumped to the cache.
fn prepare_database(pg: &Postgres, server_bin: &Path) {
    pg.psql("postgres", "CREATE ROLE zabbix LOGIN;");
    create_database(pg);
    let cache = cache_path(pg, server_bin);
    if cache.as_ref().is_some_and(|c| c.is_file()) {
        let dump = cache.as_deref().expect("checked");
        let out = Command::new(pg.bin.join("pg_restore"))
            .args(["-h", "127.0.0.1", "-p", &pg.svc.port.to_string(), "-U", "zabbix", "-d", "zabbix"])
            .args(["--no-owner", "--exit-on-error", "--single-transaction"])
            .arg(dump)
            .output()
            .expect("pg_restore");
        if out.status.success() {
            return;
        }
        eprintln!(
            "the cached Zabbix database {} did not restore, building it again: {}",
            dump.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        pg.psql("postgres", "DROP DATABASE zabbix;");
        create_database(pg);
    }
    for file in ["schema", "images", "data"] {
        load_sql_gz(pg, &Path::new(SCHEMA_DIR).join(format!("{file}.sql.gz")));
    }
    // Nothing but what a test creates raises a problem.
    pg.psql("zabbix", "UPDATE hosts SET status = 1 WHERE host = 'Zabbix server';");
    if let Some(cache) = cache {
        write_cache(pg, &cache);
    }
}

fn create_database(pg: &Postgres) {
    pg.psql("postgres", "CREATE DATABASE zabbix OWNER zabbix TEMPLATE template0 ENCODING 'UTF8';");
}

/// Stream a gzipped SQL file into psql as `zabbix` (stopping at the first error).
fn load_sql_gz(pg: &Postgres, file: &Path) {
    let err_path = pg.svc.dir.path().join("psql-load.err");
    let err = std::fs::File::create(&err_path).expect("psql error file");
    let mut child = Command::new(pg.bin.join("psql"))
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-U", "zabbix"])
        .args(["-p", &pg.svc.port.to_string(), "-d", "zabbix", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(err)
        .spawn()
        .expect("psql");
    let mut stdin = child.stdin.take().expect("psql stdin");
    let source = std::fs::File::open(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let copied = std::io::copy(&mut flate2::read::GzDecoder::new(std::io::BufReader::new(source)), &mut stdin);
    drop(stdin);
    let status = child.wait().expect("psql");
    assert!(
        copied.is_ok() && status.success(),
        "loading {} failed ({copied:?}, {status}): {}",
        file.display(),
        std::fs::read_to_string(&err_path).unwrap_or_default()
    );
}

/// `pg_dump` to a name of our own beside the cache file, then rename it into place: a test
/// building it at the same time cannot leave a half-written dump behind. Failing to write the
/// cache only costs the next run time.
fn write_cache(pg: &Postgres, cache: &Path) {
    let Some(parent) = cache.parent() else { return };
    if let Err(e) = std::fs::create_dir_all(parent) {
        eprintln!("cannot create {}: {e}", parent.display());
        return;
    }
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let tmp = cache.with_extension(format!("tmp.{}.{nanos}", std::process::id()));
    let out = Command::new(pg.bin.join("pg_dump"))
        .args(["-h", "127.0.0.1", "-p", &pg.svc.port.to_string(), "-U", "zabbix", "-d", "zabbix", "-Fc", "-f"])
        .arg(&tmp)
        .output();
    let done = match out {
        Ok(o) if o.status.success() => std::fs::rename(&tmp, cache).map_err(|e| e.to_string()),
        Ok(o) => Err(String::from_utf8_lossy(&o.stderr).into_owned()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = done {
        eprintln!("cannot cache the Zabbix database in {}: {e}", cache.display());
        let _ = std::fs::remove_file(&tmp);
    }
}

/// `$XDG_CACHE_HOME/mcptop/zabbix-schema-<zabbix>-pg<major>-r<RECIPE>.dump` (else under
/// `~/.cache`); `None` without a home or a version.
fn cache_path(pg: &Postgres, server_bin: &Path) -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    // "zabbix_server (Zabbix) 6.0.14" and "pg_dump (PostgreSQL) 18.1"
    let last_word = |cmd: &mut Command| -> Option<String> {
        let out = cmd.output().ok()?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.lines().next()?.split_whitespace().last().map(String::from)
    };
    let zabbix = last_word(Command::new(server_bin).arg("-V"))?;
    let pg_version = last_word(Command::new(pg.bin.join("pg_dump")).arg("--version"))?;
    let pg_major = pg_version.split('.').next()?.to_string();
    Some(base.join("mcptop").join(format!("zabbix-schema-{zabbix}-pg{pg_major}-r{RECIPE}.dump")))
}

fn server_config(dir: &Path, port: u16, db_port: u16) -> String {
    let d = dir.display();
    format!(
        "ListenIP=127.0.0.1\nListenPort={port}\nPidFile={d}/zabbix_server.pid\nLogType=console\n\
         SocketDir={d}\nTmpDir={d}\n\
         DBHost=127.0.0.1\nDBPort={db_port}\nDBName=zabbix\nDBUser=zabbix\n\
         AllowRoot=1\nAllowUnsupportedDBVersions=1\nCacheUpdateFrequency=1\nHousekeepingFrequency=0\n\
         StartPollers=0\nStartPollersUnreachable=0\nStartHistoryPollers=1\nStartPreprocessors=1\n\
         StartTrappers=2\nStartPingers=0\nStartDiscoverers=0\nStartHTTPPollers=0\nStartJavaPollers=0\n\
         StartVMwareCollectors=0\nStartODBCPollers=0\nStartReportWriters=0\nStartProxyPollers=0\n\
         StartLLDProcessors=1\nStartAlerters=1\nStartDBSyncers=1\nStartEscalators=1\nStartTimers=1\n"
    )
}

fn frontend_config(db_port: u16, server_port: u16) -> String {
    format!(
        "<?php\n\
         $DB['TYPE'] = 'POSTGRESQL';\n$DB['SERVER'] = '127.0.0.1';\n$DB['PORT'] = '{db_port}';\n\
         $DB['DATABASE'] = 'zabbix';\n$DB['USER'] = 'zabbix';\n$DB['PASSWORD'] = '';\n$DB['SCHEMA'] = '';\n\
         $DB['ENCRYPTION'] = false;\n$DB['KEY_FILE'] = '';\n$DB['CERT_FILE'] = '';\n$DB['CA_FILE'] = '';\n\
         $DB['VERIFY_HOST'] = false;\n$DB['CIPHER_LIST'] = '';\n$DB['VAULT_URL'] = '';\n\
         $DB['VAULT_DB_PATH'] = '';\n$DB['VAULT_TOKEN'] = '';\n$DB['DOUBLE_IEEE754'] = true;\n\
         $ZBX_SERVER = '127.0.0.1';\n$ZBX_SERVER_PORT = '{server_port}';\n$ZBX_SERVER_NAME = 'mcptop-ci';\n\
         $IMAGE_FORMAT_DEFAULT = IMAGE_FORMAT_PNG;\n"
    )
}

/// One JSON-RPC call: `Ok(result)`, `Err(error)` as sent, or `Err({"transport": …})`.
fn rpc(port: u16, method: &str, params: Value, auth: Option<&str>, timeout: Duration) -> Result<Value, Value> {
    let mut request = json!({"jsonrpc": "2.0", "method": method, "params": params, "id": 1});
    if let Some(auth) = auth {
        request["auth"] = json!(auth);
    }
    let body = post(port, &request.to_string(), timeout).map_err(|e| json!({"transport": e}))?;
    let mut answer: Value = serde_json::from_str(&body).map_err(|e| json!({"transport": format!("{e}: {body}")}))?;
    if let Some(error) = answer.get_mut("error") {
        return Err(error.take());
    }
    answer.get_mut("result").map(Value::take).ok_or_else(|| json!({"transport": format!("no result: {body}")}))
}

/// `POST /api_jsonrpc.php` over HTTP/1.0 (the server closes the connection after answering).
fn post(port: u16, body: &str, timeout: Duration) -> Result<String, String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    write!(
        s,
        "POST /api_jsonrpc.php HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json-rpc\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out);
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| format!("not an HTTP answer: {text}"))?;
    match head.split_whitespace().nth(1) {
        Some("200") => Ok(body.to_string()),
        status => Err(format!("HTTP {status:?}: {body}")),
    }
}

/// The values zabbix_sender says the server processed, over all its batches
/// (`… "processed: 250; failed: 0; total: 250; …"`).
fn processed(output: &str) -> usize {
    output
        .match_indices("processed: ")
        .filter_map(|(at, m)| {
            let digits: String = output[at + m.len()..].chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<usize>().ok()
        })
        .sum()
}

/// The pids whose parent is `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .filter(|child| {
            // "pid (comm) state ppid …"; comm may hold spaces, so read after its closing paren.
            std::fs::read_to_string(format!("/proc/{child}/stat"))
                .ok()
                .and_then(|s| s.rsplit_once(')').map(|(_, rest)| rest.to_string()))
                .and_then(|rest| rest.split_whitespace().nth(1).and_then(|p| p.parse::<u32>().ok()))
                == Some(pid)
        })
        .collect()
}

/// The last lines of a service's log, for panic messages.
fn log_tail(svc: &Service) -> String {
    let log = std::fs::read_to_string(svc.log_path()).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    format!("--- {} log (last lines) ---\n{}", svc.name, lines[lines.len().saturating_sub(30)..].join("\n"))
}
