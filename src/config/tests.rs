//! Config parsing and resolution: keys named in every error, secrets never shown.
use super::*;

fn parse_str(s: &str) -> Result<FileConfig, ConfigError> {
    parse(s, Path::new("test.toml"))
}

#[test]
fn unknown_keys_are_named() {
    let err = parse_str("[contexts.prod]\nredis_ulr = \"redis://x\"\n").err().map(|e| e.to_string());
    assert!(err.unwrap_or_default().contains("redis_ulr"));
}

#[test]
fn malformed_url_names_the_key_and_hides_the_password() {
    let file = parse_str("[contexts.prod]\nredis_url = \"http://:hunter2@x\"\n");
    let err = file.and_then(|f| resolve(f, &Overrides::default())).err().map(|e| e.to_string());
    let err = err.unwrap_or_default();
    assert!(err.contains("contexts.prod.redis_url"), "{err}");
    assert!(!err.contains("hunter2"));
}

#[test]
fn literal_secrets_are_refused_and_references_resolve() {
    let err = parse_str("[contexts.a]\nredis_password = \"hunter2\"\n").err().map(|e| e.to_string());
    let err = err.unwrap_or_default();
    assert!(err.contains("env:NAME") && !err.contains("hunter2"), "{err}");
    let dir = tempfile::tempdir().ok();
    let path = dir.as_ref().map(|d| d.path().join("pw")).unwrap_or_default();
    std::fs::write(&path, "s3cret\n").ok();
    let text = format!("[contexts.a]\nredis_password = \"file:{}\"\n", path.display());
    let settings = parse_str(&text).and_then(|f| resolve(f, &Overrides::default()));
    let pw = settings.ok().and_then(|s| s.redis_password);
    assert_eq!(pw.as_ref().map(Secret::expose), Some("s3cret"));
    assert_eq!(format!("{pw:?}"), "Some(Secret(***))");
}

#[test]
fn flags_override_file_and_contexts_are_chosen() {
    let text = "default_context = \"b\"\ntheme = \"light\"\n[contexts.a]\nredis_url = \"redis://a:1\"\n[contexts.b]\nredis_url = \"redis://b:2\"\nread_only = true\n";
    let s = parse_str(text).and_then(|f| resolve(f, &Overrides::default())).ok();
    assert_eq!(s.as_ref().map(|s| s.context_name.as_str()), Some("b"));
    assert_eq!(s.as_ref().map(|s| s.read_only), Some(true));
    let ov = Overrides { context: Some("a".into()), theme: Some("mono".into()), ..Default::default() };
    let s = parse_str(text).and_then(|f| resolve(f, &ov)).ok();
    assert_eq!(s.as_ref().and_then(|s| s.context.redis_url.clone()).as_deref(), Some("redis://a:1"));
    assert_eq!(s.as_ref().map(|s| s.theme.as_str()), Some("mono"));
    let ov = Overrides { context: Some("zzz".into()), ..Default::default() };
    assert!(parse_str(text).and_then(|f| resolve(f, &ov)).is_err());
}

#[test]
fn knowledge_base_names_are_identifiers_and_passwords_references() {
    let base = "[contexts.a.knowledge_base]\nembeddings = { ollama_url = \"http://o:11434\" }\n";
    let check = |extra: &str| {
        parse_str(&format!("{base}{extra}"))
            .and_then(|f| resolve(f, &Overrides::default()))
            .err()
            .map(|e| e.to_string())
    };
    assert_eq!(check("database_url = \"postgres://mcp@db:5432/mcp\"\n"), None);
    let err = check("database_url = \"postgres://mcp:hunter2@db/mcp\"\n").unwrap_or_default();
    assert!(
        err.contains("knowledge_base.database_url") && err.contains("database_password") && !err.contains("hunter2"),
        "{err}"
    );
    let err = check("database_url = \"postgres://db/mcp\"\ntable = \"kb; DROP TABLE x\"\n").unwrap_or_default();
    assert!(err.contains("contexts.a.knowledge_base.table"), "{err}");
    let err = check("database_url = \"postgres://db/mcp\"\ncolumns = { text = \"body text\" }\n").unwrap_or_default();
    assert!(err.contains("columns.text"), "{err}");
    assert_eq!(check("database_url = \"postgres://db/mcp\"\ntable = \"kb.mcp_knowledge\"\n"), None);
    let err = check("database_url = \"mysql://db/mcp\"\n").unwrap_or_default();
    assert!(err.contains("database_url"), "{err}");
    let err = parse_str("[contexts.a.knowledge_base]\ndatabase_url = \"postgres://db/x\"\n")
        .and_then(|f| resolve(f, &Overrides::default()))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("knowledge_base.embeddings"), "{err}");
}

#[test]
fn numbers_out_of_range_name_their_key() {
    for (line, key) in [
        ("ack_duration_s = 18446744073709551615", "contexts.p.ack_duration_s"),
        ("timeout_ms = 0", "contexts.p.timeout_ms"),
        ("timeout_ms = 18446744073709551615", "contexts.p.timeout_ms"),
        ("poll_interval_ms = 10", "contexts.p.poll_interval_ms"),
        ("stall_after_s = 0", "contexts.p.stall_after_s"),
    ] {
        let err = parse_str(&format!("[contexts.p]\n{line}\n"))
            .and_then(|f| resolve(f, &Overrides::default()))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains(key) && err.contains("between"), "{line}: {err}");
    }
    let err = parse_str("age_refresh_s = 0\n").and_then(|f| resolve(f, &Overrides::default())).err();
    assert!(err.is_some_and(|e| e.to_string().contains("age_refresh_s")));
}

#[test]
fn a_password_in_any_url_is_refused_naming_the_key() {
    let check = |toml: &str| {
        parse_str(toml).and_then(|f| resolve(f, &Overrides::default())).err().map(|e| e.to_string()).unwrap_or_default()
    };
    for (toml, key) in [
        ("[contexts.p]\nredis_url = \"redis://:hunter2@h:6379/0\"\n", "contexts.p.redis_url"),
        ("[contexts.p]\nredis_url = \"redis://u:hunter2@h:6379/0\"\n", "contexts.p.redis_url"),
        ("[contexts.p]\nprometheus_url = \"http://u:hunter2@h:9090\"\n", "contexts.p.prometheus_url"),
        ("[[contexts.p.alertmanagers]]\nname = \"a\"\nurl = \"https://hunter2@h\"\n", "alertmanagers[0].url"),
        ("[[contexts.p.services]]\nname = \"g\"\nurl = \"http://x:hunter2@h/health\"\n", "services[0].url"),
        ("[[contexts.p.services]]\nname = \"g\"\nurl = \"http://h/health?token=hunter2\"\n", "services[0].url"),
        ("[contexts.p]\nredis_url = \"redis://h:6379/0?password=hunter2\"\n", "contexts.p.redis_url"),
        (
            "[contexts.p.knowledge_base]\ndatabase_url = \"postgres://h/db?password=hunter2\"\nembeddings = { ollama_url = \"http://o\" }\n",
            "knowledge_base.database_url",
        ),
    ] {
        let err = check(toml);
        assert!(err.contains(key) && !err.contains("hunter2"), "{err}");
    }
    let ov = Overrides { redis_url: Some("redis://:hunter2@h".into()), ..Default::default() };
    let err = resolve(FileConfig::default(), &ov).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("--redis-url") && !err.contains("hunter2"), "{err}");
    assert_eq!(check("[contexts.p]\nredis_url = \"redis://user@h:6379/0\"\n"), "", "a user name alone is fine");
}

/// A secret file that never ends, a pipe nobody writes to, a huge or empty file: each an error
/// within the read timeout that names the key, never a hang or gigabytes read.
#[test]
fn secret_files_are_read_bounded_and_in_time() {
    let dir = tempfile::tempdir().expect("dir");
    let resolve_file = |path: &std::path::Path| {
        let text = format!("[contexts.a]\nredis_password = \"file:{}\"\n", path.display());
        let started = std::time::Instant::now();
        let r = parse_str(&text).and_then(|f| resolve(f, &Overrides::default())).map(|s| s.redis_password);
        (r.map_err(|e| e.to_string()), started.elapsed())
    };
    let (zero, _) = resolve_file(std::path::Path::new("/dev/zero"));
    let zero = zero.err().unwrap_or_default();
    assert!(zero.contains("contexts.a.redis_password") && zero.contains("a device"), "{zero}");
    let fifo = dir.path().join("fifo");
    let c = std::ffi::CString::new(fifo.to_string_lossy().as_bytes()).expect("path");
    // SAFETY: mkfifo on a path this test made.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let (hung, took) = resolve_file(&fifo);
    let hung = hung.err().unwrap_or_default();
    // A pipe with no writer reads as empty at once; one whose writer never writes times out.
    assert!(
        hung.contains("redis_password") && (hung.contains("no answer within") || hung.contains("is empty")),
        "{hung}"
    );
    assert!(took < std::time::Duration::from_secs(10), "bounded, not hung: {took:?}");
    let big = dir.path().join("big");
    std::fs::write(&big, vec![b'x'; MAX_SECRET_BYTES + 10]).expect("write");
    assert!(resolve_file(&big).0.err().unwrap_or_default().contains("larger than"));
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "\n").expect("write");
    assert!(resolve_file(&empty).0.err().unwrap_or_default().contains("is empty"));
    let real = dir.path().join("pw");
    std::fs::write(&real, "a-real-secret\n").expect("write");
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");
    let (ok, _) = resolve_file(&link);
    assert_eq!(ok.ok().flatten().as_ref().map(Secret::expose), Some("a-real-secret"), "a link to a file works");
}

#[test]
fn a_sentinel_address_with_credentials_is_refused_without_repeating_them() {
    let text = "[contexts.a]\nredis_master = \"m\"\nredis_sentinels = [\"user:pa55word@10.0.0.5:26379\"]\n";
    let err = parse_str(text).and_then(|f| resolve(f, &Overrides::default())).err().map(|e| e.to_string());
    let err = err.unwrap_or_default();
    assert!(err.contains("redis_sentinels[0]") && !err.contains("pa55word"), "{err}");
    for good in ["10.0.0.5:26379", "sentinel-1.internal:26379", "[::1]:26379"] {
        let text = format!("[contexts.a]\nredis_master = \"m\"\nredis_sentinels = [\"{good}\"]\n");
        assert!(parse_str(&text).and_then(|f| resolve(f, &Overrides::default())).is_ok(), "{good}");
    }
    for bad in ["::1:26379", "host", "host:port", "h/0:1"] {
        let text = format!("[contexts.a]\nredis_master = \"m\"\nredis_sentinels = [\"{bad}\"]\n");
        assert!(parse_str(&text).and_then(|f| resolve(f, &Overrides::default())).is_err(), "{bad}");
    }
}

#[test]
fn yank_is_on_by_default_with_or_without_a_file() {
    let none = resolve(FileConfig::default(), &Overrides::default()).map(|s| s.yank);
    assert_eq!(none.ok(), Some(true), "no config file");
    let empty = parse_str("").and_then(|f| resolve(f, &Overrides::default())).map(|s| s.yank);
    assert_eq!(empty.ok(), Some(true), "a config file without the key");
    let off = parse_str("yank = false\n").and_then(|f| resolve(f, &Overrides::default())).map(|s| s.yank);
    assert_eq!(off.ok(), Some(false));
}
