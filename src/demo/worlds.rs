//! The demo's contexts, each made once and kept for the whole run: `:ctx demo-lab` and back
//! finds `demo` as it was left (its jobs, decisions, silences, tickets and archives), its clock
//! having run meanwhile, and the fleet view reads the very platforms the dashboard shows.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::Utc;

use super::DemoPlatform;
use crate::backup::Plan;

/// The demo's contexts, in order: the first is the one it starts on.
pub const CONTEXTS: [&str; 2] = ["demo", "demo-lab"];

/// Aborts a task when dropped (a world's clock, with the process's worlds).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One demo context: its platform and its backups.
#[derive(Clone)]
pub struct DemoWorld {
    pub platform: DemoPlatform,
    /// The backup plan and the folder it lives in (removed when the last holder goes).
    pub backup: Option<(Arc<Plan>, Arc<tempfile::TempDir>)>,
    _clock: Option<Arc<AbortOnDrop>>,
}

/// Every demo context made so far.
pub struct DemoWorlds {
    seed: u64,
    /// Whether the platforms' clocks run (not with `--demo-still` or `--snapshot`).
    clock: bool,
    worlds: Mutex<BTreeMap<String, DemoWorld>>,
}

impl DemoWorlds {
    pub fn new(seed: u64, clock: bool) -> Arc<DemoWorlds> {
        Arc::new(DemoWorlds { seed, clock, worlds: Mutex::new(BTreeMap::new()) })
    }

    /// The seed of a demo context: the run's seed plus its position.
    pub fn seed_of(seed: u64, name: &str) -> u64 {
        seed + CONTEXTS.iter().position(|c| *c == name).unwrap_or(0) as u64
    }

    /// Whether `name` is one of the demo's contexts.
    pub fn knows(name: &str) -> bool {
        CONTEXTS.contains(&name)
    }

    /// The context `name`, made on first use. Blocking (its backups are real archives): call it
    /// from a blocking thread, inside the runtime (its clock is a task).
    pub fn get(&self, name: &str) -> DemoWorld {
        let mut worlds = self.worlds.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = worlds.get(name) {
            return w.clone();
        }
        let platform = DemoPlatform::new(Self::seed_of(self.seed, name), Utc::now());
        let clock = (self.clock && tokio::runtime::Handle::try_current().is_ok())
            .then(|| Arc::new(AbortOnDrop(platform.spawn_clock())));
        let backup = super::backups::plan(name).map(|(plan, dir)| (Arc::new(plan), Arc::new(dir)));
        let world = DemoWorld { platform, backup, _clock: clock };
        worlds.insert(name.to_string(), world.clone());
        world
    }
}
