//! The frame's facts: what the header, the panes, the strip and the fleet's current row show,
//! derived once per frame from the panes' data by `domain::facts`, so they cannot disagree.

use chrono::{DateTime, Utc};

use super::app::App;
use super::loadable::Loadable;
use crate::domain::facts::{ContextFacts, Inputs};
use crate::fleet::{FleetRow, SourceCheck};

impl App {
    /// This context's facts at `now` (the frame's clock for ages).
    pub fn facts(&self, now: DateTime<Utc>) -> ContextFacts {
        let c = self.ops.configured;
        let mut i = Inputs::none(now, self.jobs.stall_after);
        i.queues = self.jobs.queues.data.as_ref();
        i.history = Some(&self.jobs.history);
        i.approvals_total = self.approvals.total();
        i.gateway_active =
            self.ops.pipeline.data.as_ref().and_then(|p| p.gateway.data.as_ref()).and_then(|g| g.active_jobs);
        i.alerts = self.ops.alerts.data.as_ref().filter(|_| c.alerts);
        i.containers = if c.containers { self.ops.containers.data.as_deref() } else { None };
        i.services = if c.services { self.ops.services.data.as_deref() } else { None };
        i.targets = if c.targets { self.ops.targets.data.as_deref() } else { None };
        i.newest_backup = self
            .backups
            .archives
            .data
            .as_ref()
            .filter(|_| self.backups.configured)
            .map(|a| a.first().map(|a| a.created_at));
        i.max_age_h = self.backups.max_age_h;
        ContextFacts::derive(i)
    }

    /// The fleet's row for this context: `checked`'s name, this frame's facts, and which of its
    /// sources are failing right now.
    pub fn fleet_row(&self, checked: &FleetRow, facts: &ContextFacts) -> FleetRow {
        fn check<T>(name: &str, l: &Loadable<T>) -> SourceCheck {
            SourceCheck { name: name.into(), ok: l.error.is_none(), error: l.error.as_ref().map(|e| e.message.clone()) }
        }
        let mut sources = Vec::new();
        if self.jobs.configured {
            let mut redis = check("redis", &self.jobs.queues);
            if let Some(q) = self.jobs.queues.data.as_ref().filter(|q| !q.problems.is_empty() && redis.ok) {
                redis = SourceCheck { name: "redis".into(), ok: false, error: Some(q.problems.join("; ")) };
            }
            sources.push(redis);
        }
        if self.ops.configured.alerts {
            match &self.ops.alerts.data {
                Some(snap) => sources.extend(snap.sources.iter().map(|s| SourceCheck {
                    name: s.name.clone(),
                    ok: s.error.is_none(),
                    error: s.error.as_ref().map(|_| s.notes(self.now).join(" · ")),
                })),
                None => sources.push(check("alerts", &self.ops.alerts)),
            }
        }
        if self.ops.configured.containers {
            sources.push(check("docker", &self.ops.containers));
        }
        if self.backups.configured {
            sources.push(check("backups", &self.backups.archives));
        }
        FleetRow {
            context: checked.context.clone(),
            production: checked.production,
            facts: facts.clone(),
            sources,
            checked_at: self.now,
        }
    }
}
