//! Backup, restore and prune as actions: audited before and after, restore and prune refused in
//! read-only mode (a backup only reads the platform, so it is allowed), run on a blocking thread
//! with progress to whoever listens.

use std::sync::Arc;

use serde_json::json;

use super::{ActionError, Actions, Done};
use crate::backup::{self, Kind, Plan, Progress, ProgressSink};

fn plan(a: &Actions, only: &[Kind]) -> Result<Plan, ActionError> {
    let mut p = a
        .backup
        .as_deref()
        .cloned()
        .ok_or_else(|| ActionError::Invalid(format!("no [contexts.{}.backup] is configured", a.context)))?;
    p.only = only.to_vec();
    Ok(p)
}

fn reporter(a: &Actions) -> ProgressSink {
    a.progress.clone().unwrap_or_else(|| Arc::new(|_: &Progress| {}))
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, String> + Send + 'static) -> Result<T, ActionError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ActionError::Failed(format!("the backup task stopped: {e}")))?
        .map_err(ActionError::Failed)
}

pub(super) async fn run(a: &Actions, only: &[Kind]) -> Result<Done, ActionError> {
    let mut p = plan(a, only)?;
    if a.read_only {
        // A backup only reads the platform; pruning deletes archives, which read-only refuses.
        p.retention = backup::Retention::default();
    }
    let estimate = backup::estimate(&p).await;
    let report = reporter(a);
    let summary = blocking(move || backup::run(&p, estimate, report.as_ref())).await?;
    let mut message = format!(
        "backup {} written: {}, {} in {:.1} s",
        summary.archive.display(),
        crate::domain::text::count(summary.items.len() as u64, "item", "items"),
        crate::domain::text::count(summary.bytes, "byte", "bytes"),
        summary.seconds
    );
    for n in &summary.notes {
        message.push_str(&format!("; {n}"));
    }
    Ok(Done { message, warning: None, data: serde_json::to_value(&summary).unwrap_or_default() })
}

pub(super) async fn restore(
    a: &Actions,
    archive: &str,
    context: &str,
    only: &[Kind],
    confirmed: &str,
) -> Result<Done, ActionError> {
    let p = plan(a, only)?;
    let path = std::path::PathBuf::from(archive);
    let manifest = {
        let path = path.clone();
        blocking(move || backup::restore::inspect(&path)).await?
    };
    // The context typed out must name this context, and the archive's too when it differs.
    let mut needed = vec![context.to_string()];
    if manifest.context != context {
        needed.push(manifest.context.clone());
    }
    let typed: Vec<&str> = confirmed.split([',', ' ']).filter(|s| !s.is_empty()).collect();
    if let Some(missing) = needed.iter().find(|n| !typed.contains(&n.as_str())) {
        return Err(ActionError::Refused(format!(
            "restore not confirmed: type the context name {missing:?}{}",
            if needed.len() > 1 {
                format!(" (the archive was taken from context {:?})", manifest.context)
            } else {
                String::new()
            }
        )));
    }
    let report = reporter(a);
    let r = blocking(move || backup::restore::restore(&path, &p, report.as_ref())).await?;
    let ok = r.verify.problems.is_empty();
    let message = format!("restored {} from {archive}", r.restored.join(", "));
    let warning = (!ok).then(|| format!("the archive's verify found: {}", r.verify.problems.join("; ")));
    Ok(Done { message, warning, data: json!({"restored": r.restored, "verify_problems": r.verify.problems}) })
}

pub(super) async fn prune(a: &Actions) -> Result<Done, ActionError> {
    let p = plan(a, &[])?;
    if !p.retention.configured() {
        return Err(ActionError::Invalid("no retention (keep_last, keep_daily, keep_weekly) is configured".into()));
    }
    let decisions = blocking(move || backup::prune::prune(&p.dir, p.retention, false)).await?;
    let gone: Vec<&str> = decisions.iter().filter(|d| !d.keep).map(|d| d.name.as_str()).collect();
    let message = if gone.is_empty() { "nothing to prune".to_string() } else { format!("pruned {}", gone.join(", ")) };
    Ok(Done { message, warning: None, data: serde_json::to_value(&decisions).unwrap_or_default() })
}
