//! Retention: keep the newest `keep_last` archives, and the newest of each of the last
//! `keep_daily` days and `keep_weekly` ISO weeks. Every archive is listed with the rule that
//! keeps it, or "goes" — so what prune will do can be read before it does it.

use std::path::Path;

use chrono::Datelike;
use serde::Serialize;

use super::{Retention, list, sidecar};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub name: String,
    pub keep: bool,
    /// `keep_last (2 of 3)`, `keep_daily (2026-11-21)`, `goes`.
    pub reason: String,
}

/// Decide (and unless `dry_run`, delete) archives by the retention rules. Without rules nothing
/// goes.
pub fn prune(dir: &Path, r: Retention, dry_run: bool) -> Result<Vec<Decision>, String> {
    let archives = list(dir)?;
    let mut out = Vec::new();
    let mut days = Vec::new();
    let mut weeks = Vec::new();
    for (i, a) in archives.iter().enumerate() {
        let day = a.created_at.date_naive();
        let week = (a.created_at.iso_week().year(), a.created_at.iso_week().week());
        let mut reasons = Vec::new();
        if let Some(n) = r.keep_last.filter(|n| i < *n) {
            reasons.push(format!("keep_last ({} of {n})", i + 1));
        }
        if let Some(n) = r.keep_daily
            && !days.contains(&day)
            && days.len() < n
        {
            days.push(day);
            reasons.push(format!("keep_daily ({day})"));
        }
        if let Some(n) = r.keep_weekly
            && !weeks.contains(&week)
            && weeks.len() < n
        {
            weeks.push(week);
            reasons.push(format!("keep_weekly ({}-W{:02})", week.0, week.1));
        }
        if i == 0 && reasons.is_empty() {
            reasons.push("the newest".to_string());
        }
        let keep = !r.configured() || !reasons.is_empty();
        let reason = if !r.configured() {
            "no retention configured".into()
        } else if keep {
            reasons.join(", ")
        } else {
            "goes".into()
        };
        out.push(Decision { name: a.name.clone(), keep, reason });
        if !keep && !dry_run {
            std::fs::remove_file(&a.path).map_err(|e| format!("cannot remove {}: {}", a.path.display(), e.kind()))?;
            for s in ["manifest.json", "verified"] {
                let _ = std::fs::remove_file(sidecar(&a.path, s));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_keep_what_they_say_and_name_why() {
        let dir = tempfile::tempdir().expect("dir");
        for stamp in
            ["20261120T010000Z", "20261121T010000Z", "20261121T020000Z", "20261122T010000Z", "20261122T020000Z"]
        {
            std::fs::write(dir.path().join(format!("mcp-backup-{stamp}.tar.gz")), b"x").expect("write");
        }
        let r = Retention { keep_last: Some(2), keep_daily: Some(3), keep_weekly: None };
        let plan = prune(dir.path(), r, true).expect("dry run");
        let kept: Vec<(&str, bool)> = plan.iter().map(|d| (&d.name[11..26], d.keep)).collect();
        assert_eq!(
            kept,
            [
                ("20261122T020000", true),
                ("20261122T010000", true),
                ("20261121T020000", true),
                ("20261121T010000", false),
                ("20261120T010000", true)
            ]
        );
        assert_eq!(plan[0].reason, "keep_last (1 of 2), keep_daily (2026-11-22)");
        assert_eq!(plan[3].reason, "goes");
        assert_eq!(std::fs::read_dir(dir.path()).map(|d| d.count()).unwrap_or(0), 5, "a dry run deletes nothing");
        prune(dir.path(), r, false).expect("prune");
        assert_eq!(std::fs::read_dir(dir.path()).map(|d| d.count()).unwrap_or(0), 4);
    }
}
