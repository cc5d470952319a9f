//! A set of spawned tasks that ends them all when dropped.

use tokio::task::JoinHandle;

/// Tasks that live exactly as long as this value.
#[derive(Default)]
pub struct TaskSet(Vec<JoinHandle<()>>);

impl TaskSet {
    pub fn push(&mut self, task: JoinHandle<()>) {
        self.0.push(task);
    }
}

impl Drop for TaskSet {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}

/// At most one task, replaced by the next (the old one ended) and ended when dropped: the
/// followed log's reader, the fleet's poller.
#[derive(Default)]
pub struct TaskSlot(std::sync::Mutex<Option<JoinHandle<()>>>);

impl TaskSlot {
    /// Hold `task`, ending the one held before.
    pub fn set(&self, task: JoinHandle<()>) {
        if let Some(old) = self.0.lock().unwrap_or_else(|e| e.into_inner()).replace(task) {
            old.abort();
        }
    }

    /// End the task held, if any.
    pub fn stop(&self) {
        if let Some(task) = self.0.lock().unwrap_or_else(|e| e.into_inner()).take() {
            task.abort();
        }
    }
}

impl Drop for TaskSlot {
    fn drop(&mut self) {
        self.stop();
    }
}
