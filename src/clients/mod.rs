//! Service clients: the only code that talks to the network. They know nothing of the UI.

pub mod alertmanager;
pub mod crowdsec;
pub mod docker;
pub mod embed;
pub mod error;
pub mod gateway;
pub mod http;
pub mod kb;
pub mod liveness;
pub mod ntfy;
pub mod pipeline;
pub mod probe;
pub mod prometheus;
pub mod redis;
mod scripts;
pub mod zabbix;
pub mod zammad;

pub use self::error::{RagError, SourceError};
pub use self::redis::RedisClient;
