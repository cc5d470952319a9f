//! The simulated platform's vocabulary: hosts, alert types and the text of analyses.

pub const HOSTS: &[&str] = &[
    "db-01",
    "db-02",
    "web-01",
    "web-02",
    "web-03",
    "k8s-node-1",
    "k8s-node-2",
    "mail-01",
    "fw-edge-1",
    "backup-01",
    "ci-runner-4",
    "数据库-03",
];

/// (alert type, source, description template, root cause, action)
pub const ALERTS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "DiskFull",
        "alertmanager",
        "/var is 97% full",
        "log rotation stopped after a config change",
        "rotate and compress /var/log, then fix logrotate",
    ),
    (
        "HighCPU",
        "zabbix",
        "CPU load above 95% for 10 minutes",
        "a runaway cron job",
        "stop the job and throttle its schedule",
    ),
    (
        "ServiceDown",
        "alertmanager",
        "HTTP probe failing: 503",
        "the upstream pool is exhausted",
        "restart the pool and raise its limit",
    ),
    (
        "SSHBruteForce",
        "crowdsec",
        "2,341 failed SSH logins from 3 addresses",
        "an exposed SSH port",
        "confirm the CrowdSec ban and close the port",
    ),
    (
        "MemoryPressure",
        "zabbix",
        "available memory below 5%",
        "a leak in the worker process",
        "restart the worker and capture a heap profile",
    ),
    (
        "CertExpiring",
        "alertmanager",
        "TLS certificate expires in 6 days",
        "renewal failed on DNS challenge",
        "renew by hand and fix the DNS credentials",
    ),
    (
        "ReplicationLag",
        "alertmanager",
        "replica lags 340 s behind primary",
        "a long analytical query on the replica",
        "cancel the query and move reports off the replica",
    ),
];

pub const SEVERITIES: &[&str] =
    &["critical", "high", "high", "medium", "medium", "medium", "low", "Kritisch", "Mittel"];
