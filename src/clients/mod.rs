//! Service clients: the only code that talks to the network. They know nothing of the UI.

pub mod redis;
mod scripts;

pub use self::redis::RedisClient;
