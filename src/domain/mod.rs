//! Plain data shared by every layer: jobs, queues, and the cleaning of untrusted text.

pub mod job;
pub mod queue;
pub mod text;

pub use job::{Job, JobDetail, JobStatus, JobsPage, JobsQuery, Severity};
pub use queue::{QueueSnapshot, QueueStats};
