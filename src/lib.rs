//! mcptop: a terminal dashboard for the MCP AI-operations platform, as a library the binary wraps.
#![deny(clippy::unwrap_used)]

pub mod actions;
pub mod audit;
pub mod backup;
pub mod cli;
pub mod clients;
pub mod config;
pub mod demo;
pub mod domain;
pub mod fleet;
pub mod logging;
pub mod logs;
pub mod runtime;
pub mod sources;
pub mod tui;
