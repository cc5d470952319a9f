//! Alertmanager alerts (APIS.md §1), de-duplicated across an HA pair, grouped and sorted. Labels
//! are kept exactly as Alertmanager sent them: a silence built from them must match the alert.
//! Cleaning for the screen happens when drawn.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::text::cut;

/// Longest annotation kept, in characters (a description may be a megabyte). Annotations are
/// only shown, never matched on, so a bound here changes no action.
pub const MAX_ANNOTATION_CHARS: usize = 8 * 1024;

/// What Alertmanager says about an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    Active,
    Suppressed,
    Unprocessed,
    /// Resolved recently (a Zabbix problem with its recovery event); shown, no longer firing.
    Resolved,
    Unknown,
}

impl AlertState {
    pub fn parse(s: &str) -> Self {
        match s {
            "active" => Self::Active,
            "suppressed" => Self::Suppressed,
            "unprocessed" => Self::Unprocessed,
            _ => Self::Unknown,
        }
    }
}

/// Which monitoring system an alert comes from, with what acting on it needs (raw values).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    #[default]
    Alertmanager,
    /// A Zabbix problem (`problem.get`): acknowledged with `event.acknowledge` on its event.
    Zabbix { server: String, eventid: String, acknowledged: bool, severity: Option<u8> },
    /// A CrowdSec alert (`/v1/alerts`) and the decisions it made.
    #[serde(rename = "crowdsec")]
    CrowdSec { id: i64, events_count: Option<i64>, decisions: Vec<Decision> },
}

/// A CrowdSec decision: what is done to whom, for how long.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub id: Option<i64>,
    /// `ban`, `captcha`, …
    pub kind: String,
    pub scope: String,
    pub value: String,
    /// As CrowdSec gives it (`3h59m59.5s`).
    pub duration: String,
    pub origin: String,
    pub scenario: String,
}

impl Decision {
    /// Still in force: CrowdSec keeps an expired decision in its alert with a negative duration.
    pub fn active(&self) -> bool {
        !self.duration.trim_start().starts_with('-')
    }
}

impl Origin {
    /// The system's name, for lists and the analysis request's `source`.
    pub fn system(&self) -> &'static str {
        match self {
            Origin::Alertmanager => "alertmanager",
            Origin::Zabbix { .. } => "zabbix",
            Origin::CrowdSec { .. } => "crowdsec",
        }
    }
}

/// One alert, possibly seen on several Alertmanagers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    pub fingerprint: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub state: AlertState,
    pub silenced_by: Vec<String>,
    pub inhibited_by: Vec<String>,
    pub starts_at: Option<DateTime<Utc>>,
    pub generator_url: Option<String>,
    /// Names of the Alertmanagers (or the Zabbix server, CrowdSec) that reported it.
    pub sources: Vec<String>,
    pub origin: Origin,
}

impl Alert {
    /// Build from the strings as Alertmanager sent them (annotations bounded).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        fingerprint: &str,
        labels: impl IntoIterator<Item = (String, String)>,
        annotations: impl IntoIterator<Item = (String, String)>,
        state: AlertState,
        silenced_by: Vec<String>,
        inhibited_by: Vec<String>,
        starts_at: Option<DateTime<Utc>>,
        generator_url: Option<&str>,
        source: &str,
    ) -> Alert {
        Alert {
            fingerprint: fingerprint.to_string(),
            labels: labels.into_iter().collect(),
            annotations: annotations.into_iter().map(|(k, v)| (k, cut(&v, MAX_ANNOTATION_CHARS))).collect(),
            state,
            silenced_by,
            inhibited_by,
            starts_at,
            generator_url: generator_url.map(String::from),
            sources: vec![source.to_string()],
            origin: Origin::Alertmanager,
        }
    }

    /// The same alert from another system.
    pub fn with_origin(self, origin: Origin) -> Alert {
        Alert { origin, ..self }
    }

    pub fn name(&self) -> &str {
        self.labels.get("alertname").map(String::as_str).unwrap_or("?")
    }

    /// The `severity` label mapped onto the platform's levels (unknown for anything else).
    pub fn severity(&self) -> super::Severity {
        super::Severity::from_label(self.labels.get("severity").map(String::as_str).unwrap_or(""))
    }

    /// One line for lists: the summary annotation, else the description's first line.
    pub fn summary(&self) -> &str {
        self.annotations
            .get("summary")
            .or_else(|| self.annotations.get("description"))
            .and_then(|s| s.lines().next())
            .unwrap_or("")
    }

    /// Whether the alert matches a filter typed in `/`: a label name or value, or the summary,
    /// folding ASCII case only (as the jobs filter does).
    pub fn matches(&self, needle: &str) -> bool {
        let needle = needle.to_ascii_lowercase();
        let has = |s: &str| s.to_ascii_lowercase().contains(&needle);
        needle.is_empty() || self.labels.iter().any(|(k, v)| has(k) || has(v)) || has(self.summary())
    }
}

/// Merge alerts from several Alertmanagers: an HA pair reports the same fingerprint twice, which
/// shows once with both sources. Suppressed on any one of them counts as suppressed.
pub fn merge(lists: Vec<Vec<Alert>>) -> Vec<Alert> {
    let mut by_fp: BTreeMap<String, Alert> = BTreeMap::new();
    for alert in lists.into_iter().flatten() {
        match by_fp.get_mut(&alert.fingerprint) {
            Some(seen) => {
                for s in alert.sources {
                    if !seen.sources.contains(&s) {
                        seen.sources.push(s);
                    }
                }
                if alert.state == AlertState::Suppressed {
                    seen.state = AlertState::Suppressed;
                    seen.silenced_by.extend(alert.silenced_by);
                    seen.inhibited_by.extend(alert.inhibited_by);
                }
            }
            None => {
                by_fp.insert(alert.fingerprint.clone(), alert);
            }
        }
    }
    by_fp.into_values().collect()
}

/// Alerts sharing the values of the group-by labels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertGroup {
    /// `label=value` pairs the group shares (`alertname=DiskFull`).
    pub key: Vec<(String, String)>,
    pub alerts: Vec<Alert>,
}

/// Alerts sharing the values of the group-by labels, as positions in a list of alerts (the
/// dashboard groups its one copy of the alerts without cloning them).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupIndex {
    pub key: Vec<(String, String)>,
    pub alerts: Vec<usize>,
}

/// Group the alerts at `keep` by the given labels; groups sorted by their worst severity then
/// oldest alert, alerts inside a group by severity then age (oldest first).
pub fn group_indices(alerts: &[Alert], keep: impl IntoIterator<Item = usize>, by: &[String]) -> Vec<GroupIndex> {
    let mut groups: BTreeMap<Vec<(String, String)>, Vec<usize>> = BTreeMap::new();
    for i in keep {
        let a = &alerts[i];
        let key = by.iter().map(|l| (l.clone(), a.labels.get(l).cloned().unwrap_or_default())).collect();
        groups.entry(key).or_default().push(i);
    }
    let order = |i: &usize| {
        let a = &alerts[*i];
        (matches!(a.state, AlertState::Suppressed | AlertState::Resolved), a.severity(), a.starts_at)
    };
    let mut out: Vec<GroupIndex> = groups
        .into_iter()
        .map(|(key, mut idx)| {
            idx.sort_by_key(order);
            GroupIndex { key, alerts: idx }
        })
        .collect();
    out.sort_by_key(|g| g.alerts.first().map(order));
    out
}

/// [`group_indices`] of every alert, each group holding its alerts.
pub fn group(alerts: Vec<Alert>, by: &[String]) -> Vec<AlertGroup> {
    let groups = group_indices(&alerts, 0..alerts.len(), by);
    let mut slots: Vec<Option<Alert>> = alerts.into_iter().map(Some).collect();
    groups
        .into_iter()
        .map(|g| AlertGroup { key: g.key, alerts: g.alerts.iter().filter_map(|i| slots[*i].take()).collect() })
        .collect()
}

/// One alert source's part in a snapshot: whether it answered, and what of its answer is shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertSource {
    pub name: String,
    /// `alertmanager`, `zabbix` or `crowdsec`.
    pub kind: &'static str,
    /// Why it did not answer this time (raw; escaped when drawn). Its last alerts are kept.
    pub error: Option<String>,
    /// When the alerts shown for it were read: now, or its last answer when it failed.
    pub read_at: Option<DateTime<Utc>>,
    /// How many alerts it contributed.
    pub alerts: usize,
    /// Items of its answer that could not be read (skipped, not fatal), and why the first was.
    pub skipped: usize,
    pub skipped_why: Option<String>,
    /// Alerts beyond the most one source keeps (its first ones are shown).
    pub beyond_cap: usize,
}

impl AlertSource {
    pub fn answered(name: &str, kind: &'static str, at: DateTime<Utc>) -> AlertSource {
        AlertSource {
            name: name.into(),
            kind,
            error: None,
            read_at: Some(at),
            alerts: 0,
            skipped: 0,
            skipped_why: None,
            beyond_cap: 0,
        }
    }

    /// What is partial about this source's part, one phrase each, `None` when nothing is:
    /// its error and the age of the alerts kept, items that could not be read, the cap.
    pub fn notes(&self, now: DateTime<Utc>) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some(e) = &self.error {
            match self.read_at {
                Some(at) if self.alerts > 0 => notes.push(format!(
                    "{e} · showing its {} from {} ago",
                    super::text::count(self.alerts as u64, "alert", "alerts"),
                    super::text::age((now - at).num_seconds())
                )),
                _ => notes.push(e.clone()),
            }
        }
        if self.skipped > 0 {
            let why = self.skipped_why.as_deref().map(|w| format!(" ({w})")).unwrap_or_default();
            let n = super::text::count(self.skipped as u64, "alert", "alerts");
            notes.push(format!("{n} could not be read{why}"));
        }
        if self.beyond_cap > 0 {
            notes.push(format!(
                "showing the first {}; {} more not kept",
                super::text::thousands(self.alerts as u64),
                super::text::thousands(self.beyond_cap as u64)
            ));
        }
        notes
    }
}

/// Every alert as fetched, with each source's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertsSnapshot {
    pub alerts: Vec<Alert>,
    /// Each source's outcome; a failed one's alerts are its last answer's.
    pub sources: Vec<AlertSource>,
    pub fetched_at: DateTime<Utc>,
}

impl AlertsSnapshot {
    /// No source answered this time (what is shown is all kept from before).
    pub fn all_failed(&self) -> bool {
        !self.sources.is_empty() && self.sources.iter().all(|s| s.error.is_some())
    }

    /// The sources whose part is not whole: failed, items skipped, or capped.
    pub fn partial(&self) -> impl Iterator<Item = &AlertSource> {
        self.sources.iter().filter(|s| s.error.is_some() || s.skipped > 0 || s.beyond_cap > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(fp: &str, name: &str, sev: &str, state: AlertState, source: &str, start: i64) -> Alert {
        Alert::new(
            fp,
            [("alertname".to_string(), name.to_string()), ("severity".to_string(), sev.to_string())],
            [("summary".to_string(), format!("{name}\x1b[31m!"))],
            state,
            vec![],
            vec![],
            DateTime::from_timestamp(start, 0),
            None,
            source,
        )
    }

    #[test]
    fn ha_pairs_are_deduplicated_and_keep_both_sources() {
        let a = vec![alert("f1", "DiskFull", "critical", AlertState::Active, "am-a", 10)];
        let b = vec![
            alert("f1", "DiskFull", "critical", AlertState::Suppressed, "am-b", 10),
            alert("f2", "HighCPU", "warning", AlertState::Active, "am-b", 5),
        ];
        let merged = merge(vec![a, b]);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].sources, ["am-a", "am-b"]);
        assert_eq!(merged[0].state, AlertState::Suppressed);
        assert_eq!(merged[0].summary(), "DiskFull\x1b[31m!", "kept raw; cleaned when drawn");
    }

    #[test]
    fn groups_sort_by_severity_then_age_with_silenced_last() {
        let alerts = vec![
            alert("1", "HighCPU", "warning", AlertState::Active, "am", 1),
            alert("2", "DiskFull", "critical", AlertState::Active, "am", 50),
            alert("3", "DiskFull", "critical", AlertState::Active, "am", 20),
            alert("4", "Quiet", "critical", AlertState::Suppressed, "am", 0),
        ];
        let groups = group(alerts, &["alertname".to_string()]);
        let names: Vec<_> = groups.iter().map(|g| g.key[0].1.as_str()).collect();
        assert_eq!(names, ["DiskFull", "HighCPU", "Quiet"]);
        let fps: Vec<_> = groups[0].alerts.iter().map(|a| a.fingerprint.as_str()).collect();
        assert_eq!(fps, ["3", "2"], "oldest first inside a group");
    }
}
