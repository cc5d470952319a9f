//! A full RDB snapshot of the context's Redis, fetched the way `redis-cli --rdb` does
//! (APIS.md §9): `REPLCONF capa eof`, `REPLCONF rdb-only 1`, `SYNC`, then either `$<len>` and
//! that many bytes, or `$EOF:<40-byte mark>` and bytes up to the mark (diskless). It restores by
//! replacing the server's RDB file while it is stopped, which mcptop does not do: restore says so.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use super::RedisSource;

/// The RDB magic every snapshot starts with.
pub const MAGIC: &[u8] = b"REDIS";

/// Stream the server's RDB snapshot into `out`; returns its size.
pub fn fetch(
    r: &RedisSource,
    timeout: Duration,
    out: &mut dyn Write,
    count: &mut dyn FnMut(u64),
) -> Result<u64, String> {
    let (host, port, user) = endpoint(&r.current_url(timeout)?)?;
    use std::net::ToSocketAddrs;
    let addr = (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|e| format!("Redis: {e}"))?
        .next()
        .ok_or_else(|| format!("Redis: {host} has no address"))?;
    let stream =
        TcpStream::connect_timeout(&addr, timeout.max(Duration::from_secs(2))).map_err(|e| format!("Redis: {e}"))?;
    stream.set_read_timeout(Some(timeout.max(Duration::from_secs(60)))).map_err(|e| e.to_string())?;
    let mut w = stream.try_clone().map_err(|e| e.to_string())?;
    let mut rd = BufReader::with_capacity(1 << 16, stream);
    let mut command = |args: &[&[u8]]| -> Result<String, String> {
        let mut buf = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            buf.extend(format!("${}\r\n", a.len()).as_bytes());
            buf.extend(*a);
            buf.extend(b"\r\n");
        }
        w.write_all(&buf).map_err(|e| format!("Redis: {e}"))?;
        let mut line = String::new();
        rd.read_line(&mut line).map_err(|e| format!("Redis: {e}"))?;
        Ok(line.trim_end().to_string())
    };
    if let Some(pw) = &r.password {
        // `AUTH user password` for an ACL user, `AUTH password` for the default one.
        let reply = match &user {
            Some(user) => command(&[b"AUTH", user.as_bytes(), pw.expose().as_bytes()])?,
            None => command(&[b"AUTH", pw.expose().as_bytes()])?,
        };
        if !reply.starts_with('+') {
            return Err("Redis refused the user name or password".into());
        }
    }
    // Old servers lack these; an error reply is not fatal.
    command(&[b"REPLCONF", b"capa", b"eof"])?;
    command(&[b"REPLCONF", b"rdb-only", b"1"])?;
    w.write_all(b"SYNC\r\n").map_err(|e| format!("Redis: {e}"))?;
    let header = loop {
        let mut line = String::new();
        if rd.read_line(&mut line).map_err(|e| format!("Redis: {e}"))? == 0 {
            return Err("Redis closed the connection before the snapshot".into());
        }
        let line = line.trim_end().to_string();
        if !line.is_empty() {
            break line;
        }
    };
    if let Some(err) = header.strip_prefix('-') {
        return Err(format!("Redis refused SYNC: {err}"));
    }
    let spec = header.strip_prefix('$').ok_or_else(|| format!("Redis: unexpected reply to SYNC: {header:?}"))?;
    let mut buf = vec![0u8; 1 << 16];
    let mut n = 0u64;
    if let Some(mark) = spec.strip_prefix("EOF:") {
        // Diskless: stream until the last 40 bytes are the mark.
        let mark = mark.as_bytes().to_vec();
        let mut tail: Vec<u8> = Vec::new();
        loop {
            let got = rd.read(&mut buf).map_err(|e| format!("Redis: {e}"))?;
            if got == 0 {
                return Err("the snapshot ended before its end mark".into());
            }
            tail.extend_from_slice(&buf[..got]);
            if tail.ends_with(&mark) {
                tail.truncate(tail.len() - mark.len());
                out.write_all(&tail).map_err(|e| e.to_string())?;
                n += tail.len() as u64;
                count(tail.len() as u64);
                return Ok(n);
            }
            if tail.len() > mark.len() {
                let keep = tail.split_off(tail.len() - mark.len());
                out.write_all(&tail).map_err(|e| e.to_string())?;
                n += tail.len() as u64;
                count(tail.len() as u64);
                tail = keep;
            }
        }
    }
    let len: u64 = spec.parse().map_err(|_| format!("Redis: unexpected snapshot length {spec:?}"))?;
    while n < len {
        let want = ((len - n) as usize).min(buf.len());
        let got = rd.read(&mut buf[..want]).map_err(|e| format!("Redis: {e}"))?;
        if got == 0 {
            return Err(format!("the snapshot ended after {n} of {len} bytes"));
        }
        out.write_all(&buf[..got]).map_err(|e| e.to_string())?;
        n += got as u64;
        count(got as u64);
    }
    Ok(n)
}

/// Host and port of a `redis://` URL (the snapshot needs a plain TCP connection).
/// Host, port and ACL user name of a `redis://` URL, parsed as the redis crate parses it.
fn endpoint(url: &str) -> Result<(String, u16, Option<String>), String> {
    use redis::IntoConnectionInfo;
    let info = url.into_connection_info().map_err(|e| format!("Redis URL: {:?}", e.kind()))?;
    let user = info.redis_settings().username().map(str::to_string);
    match info.addr() {
        redis::ConnectionAddr::Tcp(host, port) => Ok((host.clone(), *port, user)),
        _ => Err("an RDB snapshot needs a redis:// URL (plain TCP)".into()),
    }
}
