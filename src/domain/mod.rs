//! Plain data shared by every layer: jobs, queues, and the cleaning of untrusted text.

pub mod action;
pub mod alert;
pub mod facts;
pub mod health;
pub mod job;
pub mod pipeline;
pub mod queue;
pub mod rag;
pub mod secret;
pub mod text;

pub use alert::{Alert, AlertGroup, AlertState, AlertsSnapshot, Origin};
pub use health::{ComponentStatus, Container, Health, HealthSummary, ServiceStatus, Target};
pub use job::{Job, JobDetail, JobEvent, JobStatus, JobsPage, JobsQuery, Severity};
pub use queue::{QueueHistory, QueueSnapshot, QueueStats};
pub use rag::{KbStats, RagHit, RagSearch};
pub use secret::Secret;
