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
