//! The context's Redis keys as DUMP/RESTORE records: read with SCAN and pipelined DUMP + PTTL,
//! restored with `RESTORE key ttl value REPLACE ABSTTL`, so TTLs come back as they were.
//!
//! Format: the header `MCPTOP-REDIS-RECORDS 1\n`, then per key a big-endian u32 key length, the
//! key, an i64 absolute expiry in epoch ms (-1: none), a u32 value length, the DUMP payload; then
//! the trailer `END` and a u64 count, so a truncated file is told from a complete one.

use std::io::{Read, Seek, Write};

/// A file read twice: checked, then restored.
pub trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

use redis::Value;

pub const HEADER: &[u8] = b"MCPTOP-REDIS-RECORDS 1\n";
const TRAILER: &[u8] = b"END";
/// Largest key or value a record may claim, so a corrupt length cannot ask for gigabytes.
const MAX_LEN: u32 = 512 * 1024 * 1024;

/// Write every key under `prefix`; returns how many. `scan` walks the keyspace on its own
/// thread while `conn` dumps the batch before, so our parsing overlaps the server's scanning.
pub fn dump(
    scan: &mut redis::Connection,
    conn: &mut redis::Connection,
    prefix: &str,
    out: &mut dyn Write,
    count_bytes: &mut dyn FnMut(u64),
) -> Result<u64, String> {
    out.write_all(HEADER).map_err(|e| e.to_string())?;
    let pattern = format!("{}*", glob_escape(prefix));
    let (batches, keys_in) = std::sync::mpsc::sync_channel::<Result<Vec<Vec<u8>>, String>>(2);
    std::thread::scope(|s| {
        s.spawn(move || {
            let mut cursor: u64 = 0;
            loop {
                let reply: Result<(u64, Vec<Vec<u8>>), String> = redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(5000)
                    .query(scan)
                    .map_err(|e| format!("SCAN: {e}"));
                let (next, keys) = match reply {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = batches.send(Err(e));
                        return;
                    }
                };
                // A closed channel: the writer stopped on an error of its own.
                if (!keys.is_empty() && batches.send(Ok(keys)).is_err()) || next == 0 {
                    return;
                }
                cursor = next;
            }
        });
        let mut n = 0u64;
        let mut buf = Vec::with_capacity(1 << 20);
        for keys in keys_in {
            let keys = keys?;
            let mut pipe = redis::pipe();
            for k in &keys {
                pipe.cmd("DUMP").arg(k).cmd("PTTL").arg(k);
            }
            let now_ms = chrono::Utc::now().timestamp_millis();
            let replies: Vec<Value> = pipe.query(conn).map_err(|e| format!("DUMP: {e}"))?;
            buf.clear();
            for (k, pair) in keys.iter().zip(replies.chunks(2)) {
                let [value, ttl] = pair else { continue };
                // A key that expired or was deleted between SCAN and DUMP is simply gone.
                let Value::BulkString(payload) = value else { continue };
                if payload.len() > MAX_LEN as usize || k.len() > MAX_LEN as usize {
                    return Err(format!(
                        "key {:?} is {} bytes, over the {MAX_LEN}-byte limit of a record",
                        String::from_utf8_lossy(k),
                        payload.len()
                    ));
                }
                let expire_at = match ttl {
                    Value::Int(ms) if *ms >= 0 => now_ms + ms,
                    _ => -1,
                };
                buf.extend((k.len() as u32).to_be_bytes());
                buf.extend(k);
                buf.extend(expire_at.to_be_bytes());
                buf.extend((payload.len() as u32).to_be_bytes());
                buf.extend(payload);
                n += 1;
            }
            out.write_all(&buf).map_err(|e| e.to_string())?;
            count_bytes(buf.len() as u64);
        }
        out.write_all(TRAILER).and_then(|_| out.write_all(&n.to_be_bytes())).map_err(|e| e.to_string())?;
        Ok(n)
    })
}

/// One record.
pub struct Record {
    pub key: Vec<u8>,
    pub expire_at_ms: i64,
    pub payload: Vec<u8>,
}

/// Read every record, checking the header, each length and the trailer's count.
pub fn read(input: &mut dyn Read, each: &mut dyn FnMut(Record) -> Result<(), String>) -> Result<u64, String> {
    let mut header = vec![0u8; HEADER.len()];
    input.read_exact(&mut header).map_err(|_| "not a Redis records file (too short)".to_string())?;
    if header != HEADER {
        return Err("not a Redis records file (wrong header)".into());
    }
    let mut n = 0u64;
    loop {
        let mut tag = [0u8; 4];
        input.read_exact(&mut tag[..3]).map_err(|_| format!("truncated after {n} records"))?;
        if &tag[..3] == TRAILER {
            let mut count = [0u8; 8];
            input.read_exact(&mut count).map_err(|_| format!("truncated after {n} records"))?;
            let want = u64::from_be_bytes(count);
            if want != n {
                return Err(format!("the trailer says {want} records, {n} were read"));
            }
            let mut rest = [0u8; 1];
            if input.read(&mut rest).unwrap_or(0) != 0 {
                return Err("data after the trailer".into());
            }
            return Ok(n);
        }
        input.read_exact(&mut tag[3..]).map_err(|_| format!("truncated after {n} records"))?;
        let key_len = u32::from_be_bytes(tag);
        let key = read_len(input, key_len, n)?;
        let mut exp = [0u8; 8];
        input.read_exact(&mut exp).map_err(|_| format!("truncated in record {}", n + 1))?;
        let mut vl = [0u8; 4];
        input.read_exact(&mut vl).map_err(|_| format!("truncated in record {}", n + 1))?;
        let payload = read_len(input, u32::from_be_bytes(vl), n)?;
        each(Record { key, expire_at_ms: i64::from_be_bytes(exp), payload })?;
        n += 1;
    }
}

fn read_len(input: &mut dyn Read, len: u32, n: u64) -> Result<Vec<u8>, String> {
    if len > MAX_LEN {
        return Err(format!("record {} claims {len} bytes: corrupt", n + 1));
    }
    // Read as much as is there, never allocating what a corrupt length claims.
    let mut buf = Vec::new();
    input.take(len as u64).read_to_end(&mut buf).map_err(|_| format!("truncated in record {}", n + 1))?;
    if buf.len() != len as usize {
        return Err(format!("truncated in record {}", n + 1));
    }
    Ok(buf)
}

/// Restore records into a running Redis, replacing keys; expired ones are skipped. Pipelined.
/// Every key must be under `prefix` (checked through the whole file first): an archive never
/// writes another context's keys.
pub fn restore(conn: &mut redis::Connection, input: &mut dyn ReadSeek, prefix: &str) -> Result<u64, String> {
    read(&mut *input, &mut |r| {
        if r.key.starts_with(prefix.as_bytes()) {
            Ok(())
        } else {
            Err(format!(
                "key {:?} is not under this context's prefix {prefix:?}; nothing was restored",
                String::from_utf8_lossy(&r.key)
            ))
        }
    })?;
    input.seek(std::io::SeekFrom::Start(0)).map_err(|e| e.to_string())?;
    let now = chrono::Utc::now().timestamp_millis();
    let mut pipe = redis::pipe();
    let mut pending = 0usize;
    let mut restored = 0u64;
    let flush = |pipe: &mut redis::Pipeline, conn: &mut redis::Connection| -> Result<(), String> {
        pipe.query::<()>(conn).map_err(|e| format!("RESTORE: {e}"))?;
        pipe.clear();
        Ok(())
    };
    read(input, &mut |r| {
        if r.expire_at_ms >= 0 && r.expire_at_ms <= now {
            return Ok(());
        }
        let ttl = if r.expire_at_ms < 0 { 0 } else { r.expire_at_ms };
        pipe.cmd("RESTORE").arg(&r.key).arg(ttl).arg(&r.payload).arg("REPLACE");
        if ttl > 0 {
            pipe.arg("ABSTTL");
        }
        pipe.ignore();
        pending += 1;
        restored += 1;
        if pending >= 1000 {
            flush(&mut pipe, conn)?;
            pending = 0;
        }
        Ok(())
    })?;
    if pending > 0 {
        flush(&mut pipe, conn)?;
    }
    Ok(restored)
}

/// A prefix as a SCAN pattern: glob characters matched literally.
fn glob_escape(s: &str) -> String {
    s.chars().flat_map(|c| if "*?[]\\".contains(c) { vec!['\\', c] } else { vec![c] }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_truncation_is_caught() {
        let mut buf = HEADER.to_vec();
        for (k, v) in [(b"mcp:a".to_vec(), b"x".to_vec()), (b"mcp:b".to_vec(), vec![0u8; 300])] {
            buf.extend((k.len() as u32).to_be_bytes());
            buf.extend(&k);
            buf.extend((-1i64).to_be_bytes());
            buf.extend((v.len() as u32).to_be_bytes());
            buf.extend(&v);
        }
        buf.extend(TRAILER);
        buf.extend(2u64.to_be_bytes());
        let mut keys = Vec::new();
        let n = read(&mut buf.as_slice(), &mut |r| {
            keys.push(r.key);
            Ok(())
        });
        assert_eq!(n, Ok(2));
        assert_eq!(keys, [b"mcp:a".to_vec(), b"mcp:b".to_vec()]);
        let cut = &buf[..buf.len() - 20];
        assert!(read(&mut &cut[..], &mut |_| Ok(())).is_err_and(|e| e.contains("truncated")));
        assert!(
            read(&mut &b"PK\x03\x04 not ours, a zip file of some length"[..], &mut |_| Ok(()))
                .is_err_and(|e| e.contains("header"))
        );
        assert_eq!(glob_escape("mcp:[x]*"), "mcp:\\[x\\]\\*");
    }
}
