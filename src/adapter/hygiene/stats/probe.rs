//! Reading a batch of keys' figures: one read-only script on a standalone server, or a pipeline;
//! a command the server refuses is dropped for the rest of the walk.

use crate::adapter::conn::{Conn, Retry};
use crate::adapter::error::Result;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{KeyProbe, KeyTtl, ServerMemory};

/// Which probe commands the server still answers; shared by the batches in flight.
#[derive(Debug)]
pub(super) struct Caps {
    pub(super) memory: AtomicBool,
    pub(super) ttl: AtomicBool,
    pub(super) idle: AtomicBool,
    pub(super) refcount: AtomicBool,
    /// The probes of a batch run in one server-side script (one standalone server that
    /// accepts it); off after the first refusal, and the pipeline takes over.
    pub(super) script: AtomicBool,
}

impl Caps {
    pub(super) fn new(server: &ServerMemory, standalone: bool) -> Self {
        let idle = server.tracks_idle_time();
        Self {
            memory: AtomicBool::new(true),
            ttl: AtomicBool::new(true),
            idle: AtomicBool::new(idle),
            refcount: AtomicBool::new(idle && server.shares_integers()),
            script: AtomicBool::new(standalone),
        }
    }
}

/// The probes of one batch as a script: the same replies in the same order as the pipeline,
/// for half the client's CPU (one command and one reply per batch instead of three per key;
/// the server's work is about the same), which leaves the client's core to the scan.
/// `no-writes` lets it run under maxmemory (exactly when the stats matter) and on replicas; `pcall` turns a refused command into an error entry, as in the pipeline.
/// Redis before 7 rejects the flags line, and an ACL user may lack `EVALSHA`: either switches
/// to the pipeline.
const PROBE_SCRIPT: &str = r"#!lua flags=no-writes,allow-cross-slot-keys
local want = ARGV[1]
local m, t, i, r = want:find('m', 1, true), want:find('t', 1, true), want:find('i', 1, true), want:find('r', 1, true)
local out = { redis.call('TIME') }
local n = 1
for _, k in ipairs(KEYS) do
  if m then n = n + 1; out[n] = redis.pcall('MEMORY', 'USAGE', k, 'SAMPLES', '0') end
  if t then n = n + 1; out[n] = redis.pcall('PTTL', k) end
  if i then n = n + 1; out[n] = redis.pcall('OBJECT', 'IDLETIME', k) end
  if r then n = n + 1; out[n] = redis.pcall('OBJECT', 'REFCOUNT', k) end
end
return out
";

/// `OBJECT REFCOUNT` of a shared object.
const SHARED_REFCOUNT: i64 = i32::MAX as i64;

/// One probed batch: the server's clock when it ran, and the keys still there.
pub(super) struct Probed {
    pub(super) now_ms: i64,
    pub(super) keys: Vec<KeyProbe>,
}

fn int(v: &redis::Value) -> Option<i64> {
    match v {
        redis::Value::Int(n) => Some(*n),
        redis::Value::BulkString(b) => std::str::from_utf8(b).ok()?.parse().ok(),
        redis::Value::SimpleString(s) => s.parse().ok(),
        _ => None,
    }
}

fn server_time_ms(v: &redis::Value) -> Option<i64> {
    match v {
        redis::Value::Array(parts) => match parts.as_slice() {
            [secs, micros] => Some(int(secs)? * 1000 + int(micros)? / 1000),
            _ => None,
        },
        _ => None,
    }
}

/// True when an error reply means "this command is not available" rather than a failure.
fn refused(e: &redis::ServerError) -> bool {
    let code = e.code();
    let details = e.details().unwrap_or_default().to_ascii_lowercase();
    code == "NOPERM"
        || details.contains("unknown command")
        || details.contains("unknown subcommand")
        || details.contains("maxmemory policy")
        || details.contains("not allowed")
}

/// Reads `MEMORY USAGE`, `PTTL` and `OBJECT IDLETIME` of a batch in one pipeline. A command
/// the server refuses is switched off in `caps` and its figures are `None`.
pub(super) async fn probe_batch(conn: Conn, keys: Vec<Vec<u8>>, caps: Arc<Caps>) -> Result<Probed> {
    let (memory, ttl, idle) = (
        caps.memory.load(Ordering::Relaxed),
        caps.ttl.load(Ordering::Relaxed),
        caps.idle.load(Ordering::Relaxed),
    );
    let refcount = idle && caps.refcount.load(Ordering::Relaxed);
    let replies = match scripted(&conn, &keys, [memory, ttl, idle, refcount], &caps).await? {
        Some(replies) => replies,
        None => {
            let mut pipe = redis::pipe();
            pipe.ignore_errors();
            pipe.cmd("TIME");
            for k in &keys {
                if memory {
                    pipe.cmd("MEMORY").arg("USAGE").arg(k).arg("SAMPLES").arg(0);
                }
                if ttl {
                    pipe.cmd("PTTL").arg(k);
                }
                if idle {
                    pipe.cmd("OBJECT").arg("IDLETIME").arg(k);
                }
                if refcount {
                    pipe.cmd("OBJECT").arg("REFCOUNT").arg(k);
                }
            }
            conn.query_pipe::<Vec<redis::Value>>(&pipe, Retry::Safe, "reading key sizes and TTLs")
                .await?
        }
    };
    let mut it = replies.into_iter();
    let now_ms = it
        .next()
        .as_ref()
        .and_then(server_time_ms)
        .unwrap_or_else(local_now_ms);
    let mut take = |on: bool, cap: &AtomicBool| -> Option<Option<i64>> {
        if !on {
            return None;
        }
        match it.next() {
            Some(redis::Value::ServerError(e)) => {
                if refused(&e) {
                    cap.store(false, Ordering::Relaxed);
                }
                None
            }
            Some(redis::Value::Nil) => Some(None),
            Some(v) => Some(int(&v)),
            None => None,
        }
    };
    let mut out = Vec::with_capacity(keys.len());
    for full_key_bytes in keys {
        let bytes = take(memory, &caps.memory);
        let pttl = take(ttl, &caps.ttl);
        let idle_secs = take(idle, &caps.idle);
        let shared = take(refcount, &caps.refcount).flatten() == Some(SHARED_REFCOUNT);
        // Gone since the scan (MEMORY USAGE nil, PTTL -2): not counted.
        if matches!(bytes, Some(None)) || matches!(pttl, Some(Some(-2))) {
            continue;
        }
        let ttl = match pttl {
            Some(Some(-1)) => KeyTtl::Persistent,
            Some(Some(ms)) if ms >= 0 => KeyTtl::At(now_ms + ms),
            _ => KeyTtl::Unknown,
        };
        out.push(KeyProbe {
            full_key: crate::adapter::escape::shown(&full_key_bytes),
            full_key_bytes,
            bytes: bytes.flatten().map(|b| b.max(0) as u64),
            ttl,
            idle_secs: idle_secs
                .flatten()
                .filter(|_| !shared)
                .map(|s| s.max(0) as u64),
            shared,
            read_at_ms: now_ms,
        });
    }
    Ok(Probed { now_ms, keys: out })
}

/// The replies of `PROBE_SCRIPT` over `keys` (probes on in the order memory, TTL, idle
/// time, refcount); `None` when scripts are off or the server refuses this one (which turns
/// them off for the rest of the walk).
async fn scripted(
    conn: &Conn,
    keys: &[Vec<u8>],
    [memory, ttl, idle, refcount]: [bool; 4],
    caps: &Caps,
) -> Result<Option<Vec<redis::Value>>> {
    if !caps.script.load(Ordering::Relaxed) {
        return Ok(None);
    }
    static SCRIPT: std::sync::LazyLock<redis::Script> =
        std::sync::LazyLock::new(|| redis::Script::new(PROBE_SCRIPT));
    let want: String = [(memory, 'm'), (ttl, 't'), (idle, 'i'), (refcount, 'r')]
        .iter()
        .filter_map(|&(on, c)| on.then_some(c))
        .collect();
    let mut inv = SCRIPT.prepare_invoke();
    inv.arg(want);
    for k in keys {
        inv.key(k.as_slice());
    }
    match conn
        .invoke::<Vec<redis::Value>>(&inv, Retry::Safe, "reading key sizes and TTLs")
        .await
    {
        Ok(replies) => Ok(Some(replies)),
        Err(e) if e.is_connection() => Err(e),
        Err(e) => {
            tracing::debug!(error = %e, "the stats script was refused: pipelining instead");
            caps.script.store(false, Ordering::Relaxed);
            Ok(None)
        }
    }
}

fn local_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
