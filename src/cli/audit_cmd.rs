//! `mcptop audit` (the audit log, newest first) and `mcptop config show` (the resolved
//! configuration, secrets as references and never as values).

use std::collections::BTreeMap;
use std::process::ExitCode;

use serde::Serialize;

use super::Output;
use crate::audit::{AuditLog, Query};
use crate::config::{AuditConfig, ContextConfig, Settings};

pub async fn show(log: &AuditLog, q: &Query, output: Output) -> anyhow::Result<ExitCode> {
    let records = match log.query(q).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mcptop: {}", super::output::table(&e));
            return Ok(ExitCode::from(1));
        }
    };
    match output {
        Output::Json => println!("{}", super::output::json(&records)?),
        Output::Table => {
            println!("{:<24} {:<28} {:<8} {:<7} {:<24} DETAIL", "AT (UTC)", "ACTOR", "ACTION", "OUTCOME", "TARGET");
            for r in &records {
                let line = format!(
                    "{:<24} {:<28} {:<8} {:<7} {:<24} {}",
                    r.at.format("%Y-%m-%d %H:%M:%S"),
                    r.actor,
                    r.action,
                    r.outcome.as_str(),
                    r.target,
                    r.detail
                );
                println!("{}", super::output::table(&line));
            }
            eprintln!("{} record(s) from {}", records.len(), log.location);
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct Shown<'a> {
    context: &'a str,
    contexts: &'a [String],
    read_only: bool,
    theme: &'a str,
    log_level: &'a str,
    age_refresh_s: u32,
    bell: bool,
    yank: bool,
    /// Which secrets were read: "set" or "not set", never a value.
    secrets: BTreeMap<&'static str, &'static str>,
    audit: &'a AuditConfig,
    settings: &'a ContextConfig,
}

pub fn config_show(s: &Settings, output: Output) -> anyhow::Result<ExitCode> {
    let set = |v: bool| if v { "set" } else { "not set" };
    let mut secrets = BTreeMap::new();
    secrets.insert("redis_password", set(s.redis_password.is_some()));
    secrets.insert("gateway_token", set(s.gateway_token.is_some()));
    secrets.insert("zammad.token", set(s.zammad_token.is_some()));
    secrets.insert("ntfy.token", set(s.ntfy_token.is_some()));
    secrets.insert("knowledge_base.database_password", set(s.kb_password.is_some()));
    secrets.insert("knowledge_base.embeddings.litellm_key", set(s.litellm_key.is_some()));
    secrets.insert("audit.database_password", set(s.audit_password.is_some()));
    if !s.backup_passwords.is_empty() {
        secrets.insert("backup.databases[].password", set(s.backup_passwords.iter().any(Option::is_some)));
    }
    let shown = Shown {
        context: &s.context_name,
        contexts: &s.context_names,
        read_only: s.read_only,
        theme: &s.theme,
        log_level: &s.log_level,
        age_refresh_s: s.age_refresh_s,
        bell: s.bell,
        yank: s.yank,
        secrets,
        audit: &s.audit,
        settings: &s.context,
    };
    match output {
        Output::Json => println!("{}", super::output::json(&shown)?),
        Output::Table => println!("{}", super::output::table(&toml::to_string(&shown)?)),
    }
    Ok(ExitCode::SUCCESS)
}
