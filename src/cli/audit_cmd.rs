//! `mcptop audit` (the audit log, newest first) and `mcptop config show` (the resolved
//! configuration, secrets as references and never as values).

use std::collections::BTreeMap;
use std::process::ExitCode;

use serde::Serialize;

use super::Output;
use super::output::{Align, Table, errln, esc, out, outln};
use crate::audit::{AuditLog, Query};
use crate::config::{AuditConfig, ContextConfig, Settings};

pub async fn show(log: &AuditLog, q: &Query, output: Output) -> anyhow::Result<ExitCode> {
    let records = match log.query(q).await {
        Ok(r) => r,
        Err(e) => {
            errln(&format!("mcptop: {}", esc(&e)));
            return Ok(ExitCode::from(1));
        }
    };
    match output {
        Output::Json => outln(&super::output::json(&records)?),
        Output::Table => {
            let mut t = Table::new(&[
                ("AT (UTC)", Align::Left),
                ("ACTOR", Align::Left),
                ("CONTEXT", Align::Left),
                ("ACTION", Align::Left),
                ("OUTCOME", Align::Left),
                ("TARGET", Align::Left),
                ("DETAIL", Align::Left),
            ]);
            for r in &records {
                let at = r.at.format("%Y-%m-%d %H:%M:%S").to_string();
                t.row([at.as_str(), &r.actor, &r.context, &r.action, r.outcome.as_str(), &r.target, &r.detail]);
            }
            out(&t.render());
            let n = crate::domain::text::count(records.len() as u64, "record", "records");
            errln(&format!("{n} from {}", esc(&log.location)));
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
        Output::Json => outln(&super::output::json(&shown)?),
        Output::Table => outln(&toml::to_string(&shown)?),
    }
    Ok(ExitCode::SUCCESS)
}
