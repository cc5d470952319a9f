//! The simulated Zabbix problems and CrowdSec alerts, made by the real clients' parsers from
//! answers shaped as the services give them, so the demo shows what a real platform would.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use crate::clients::{crowdsec, zabbix};
use crate::domain::Alert;

impl super::DemoPlatform {
    /// The simulated Zabbix problems and CrowdSec alerts as first made (for tests).
    pub fn monitor_alerts(&self) -> Vec<Alert> {
        alerts(self.lock().now)
    }
}

pub(super) fn alerts(now: DateTime<Utc>) -> Vec<Alert> {
    let ts = |mins: i64| (now - Duration::minutes(mins)).timestamp().to_string();
    let go = |mins: i64| (now - Duration::minutes(mins)).format("%Y-%m-%d %H:%M:%S +0000 UTC").to_string();
    let hosts =
        BTreeMap::from([("13550".to_string(), "db-01".to_string()), ("13561".to_string(), "mail-01".to_string())]);
    let problems = [
        json!({"eventid": "88213", "objectid": "13550", "clock": ts(34), "name": "PostgreSQL: replication lag is too high (over 600s)",
               "severity": "4", "acknowledged": "0", "suppressed": "0", "r_eventid": "0", "opdata": "Lag: 14m 3s",
               "tags": [{"tag": "service", "value": "postgresql"}]}),
        json!({"eventid": "88240", "objectid": "13561", "clock": ts(12), "name": "Mail queue is growing on mail-01",
               "severity": "2", "acknowledged": "1", "suppressed": "0", "r_eventid": "0", "opdata": "1204 messages",
               "tags": [{"tag": "service", "value": "postfix"}]}),
    ];
    let decision = |id: i64, ip: &str| {
        json!([{"id": id, "origin": "crowdsec", "type": "ban", "scope": "Ip", "value": ip,
                "duration": "3h41m12s", "scenario": "crowdsecurity/ssh-bf", "simulated": false}])
    };
    let detections = [
        json!({"id": 4411, "scenario": "crowdsecurity/ssh-bf", "events_count": 12, "start_at": go(18), "stop_at": go(17),
               "message": "Ip 198.51.100.23 performed 'crowdsecurity/ssh-bf' (12 events over 41s)",
               "source": {"scope": "Ip", "value": "198.51.100.23", "ip": "198.51.100.23", "range": "198.51.100.0/24",
                          "as_name": "EXAMPLE-TRANSIT", "as_number": "64500", "cn": "NL"},
               "decisions": decision(9120, "198.51.100.23")}),
        json!({"id": 4415, "scenario": "crowdsecurity/http-probing", "events_count": 31, "start_at": go(6), "stop_at": go(5),
               "message": "Ip 203.0.113.77 performed 'crowdsecurity/http-probing' (31 events over 12s)",
               "source": {"scope": "Ip", "value": "203.0.113.77", "ip": "203.0.113.77", "range": "203.0.113.0/24",
                          "as_name": "DOCUMENTATION-NET", "as_number": "64511", "cn": "US"},
               "decisions": null}),
    ];
    let mut out: Vec<Alert> = problems.iter().filter_map(|p| zabbix::problem_alert(p, &hosts, "zabbix")).collect();
    out.extend(detections.iter().filter_map(|a| crowdsec::alert(a, "crowdsec")));
    out
}
