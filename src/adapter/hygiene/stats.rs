//! Memory and TTL hygiene: what the state costs, how old it is, and what never expires.
//!
//! One walk reads every state key once with `MEMORY USAGE`, `PTTL` and (when the eviction
//! policy tracks access times) `OBJECT IDLETIME`, plus `OBJECT REFCOUNT` where Redis may share
//! small integer values between keys (a shared value's idle time belongs to no one key). On one
//! server a batch's commands run in one read-only script (half the client's work of a
//! pipeline); on a cluster, or for a user who may not run scripts, they are pipelined.
//! None of these commands touches a key's access time, so reading the figures never makes old
//! state look fresh. A command the
//! server or the user's rights refuse (`NOPERM`, an unknown command, an LFU policy for idle
//! times) is dropped for the rest of the walk and its figures become unknown (`None`).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;
use tokio::task::JoinHandle;

use crate::adapter::RedisStateAdapter;
use crate::adapter::conn::{Conn, Node, Retry};
use crate::adapter::error::Result;
use crate::adapter::records::{FlowRecord, FlowStatus};
use crate::adapter::scan::KeyScanner;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// Upper bounds (exclusive, milliseconds) and labels of the age and TTL buckets; the last
/// bucket has no bound.
const BUCKETS: [(i64, &str); 5] = [
    (HOUR_MS, "under 1 h"),
    (DAY_MS, "1 h to 1 d"),
    (3 * DAY_MS, "1 to 3 d"),
    (7 * DAY_MS, "3 to 7 d"),
    (i64::MAX, "older"),
];

/// Probe batches in flight at once; bounds the replies held in memory.
const MAX_IN_FLIGHT: usize = 8;

/// How many traces and keys the top lists hold.
pub const TOP: usize = 10;

/// What the server says about its memory. `None` where it does not tell (or the user may not
/// ask: `INFO` and `CONFIG` refused).
///
/// ```
/// use motia_state::adapter::stats::ServerMemory;
/// let m = ServerMemory::from_info("used_memory:900\r\nused_memory_peak:950\r\nmaxmemory:1000\r\nmaxmemory_policy:noeviction\r\n");
/// assert_eq!((m.used_memory, m.maxmemory, m.policy.as_deref()), (Some(900), Some(1000), Some("noeviction")));
/// assert!(m.tracks_idle_time());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerMemory {
    /// `used_memory` in bytes.
    pub used_memory: Option<u64>,
    /// `used_memory_peak` in bytes.
    pub peak_memory: Option<u64>,
    /// `maxmemory` in bytes; `Some(0)` means no limit.
    pub maxmemory: Option<u64>,
    /// `maxmemory-policy` (`noeviction`, `allkeys-lru`, ...).
    pub policy: Option<String>,
}

impl ServerMemory {
    /// Reads the fields of an `INFO memory` reply.
    ///
    /// ```
    /// use motia_state::adapter::stats::ServerMemory;
    /// assert_eq!(ServerMemory::from_info("").used_memory, None);
    /// ```
    pub fn from_info(info: &str) -> Self {
        let field = |name: &str| {
            info.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
                .map(|v| v.trim().to_string())
        };
        let number = |name: &str| field(name).and_then(|v| v.parse().ok());
        Self {
            used_memory: number("used_memory"),
            peak_memory: number("used_memory_peak"),
            maxmemory: number("maxmemory"),
            policy: field("maxmemory_policy"),
        }
    }

    /// The figures of several servers (a cluster's primaries) as one: memory summed; the limit
    /// summed when every one has a limit, `0` (none) when one has none; the policy when they
    /// agree, else every policy named. A figure no server gave stays unknown.
    ///
    /// ```
    /// use motia_state::adapter::stats::ServerMemory;
    /// let node = |used, max| ServerMemory {
    ///     used_memory: Some(used),
    ///     maxmemory: Some(max),
    ///     policy: Some("noeviction".into()),
    ///     ..Default::default()
    /// };
    /// let total = ServerMemory::total(&[node(10, 100), node(30, 100)]);
    /// assert_eq!((total.used_memory, total.maxmemory), (Some(40), Some(200)));
    /// assert_eq!(total.policy.as_deref(), Some("noeviction"));
    /// assert_eq!(ServerMemory::total(&[node(10, 100), node(30, 0)]).maxmemory, Some(0));
    /// ```
    pub fn total(parts: &[ServerMemory]) -> Self {
        if let [one] = parts {
            return one.clone();
        }
        let sum =
            |f: fn(&ServerMemory) -> Option<u64>| parts.iter().filter_map(f).reduce(|a, b| a + b);
        let limits: Option<Vec<u64>> = parts.iter().map(|p| p.maxmemory).collect();
        let mut policies: Vec<&str> = parts.iter().filter_map(|p| p.policy.as_deref()).collect();
        policies.sort_unstable();
        policies.dedup();
        Self {
            used_memory: sum(|p| p.used_memory),
            peak_memory: sum(|p| p.peak_memory),
            maxmemory: limits
                .filter(|l| !l.is_empty())
                .map(|l| if l.contains(&0) { 0 } else { l.iter().sum() }),
            policy: (!policies.is_empty()).then(|| policies.join(", ")),
        }
    }

    /// False under an LFU policy, where Redis keeps access counts instead of access times
    /// (`OBJECT IDLETIME` is refused). An unknown policy counts as true: the server's answer to
    /// the first `OBJECT IDLETIME` decides.
    ///
    /// ```
    /// use motia_state::adapter::stats::ServerMemory;
    /// let lfu = ServerMemory { policy: Some("allkeys-lfu".into()), ..Default::default() };
    /// assert!(!lfu.tracks_idle_time());
    /// ```
    pub fn tracks_idle_time(&self) -> bool {
        !self.policy.as_deref().is_some_and(|p| p.contains("lfu"))
    }

    /// Whether small integer values (0 to 9999) may be stored as one object shared by every
    /// key holding them, whose idle time then says nothing about any one key. Redis avoids the
    /// sharing only under a maxmemory limit with an LRU or LFU policy.
    ///
    /// ```
    /// use motia_state::adapter::stats::ServerMemory;
    /// let lru = ServerMemory { maxmemory: Some(1 << 30), policy: Some("allkeys-lru".into()), ..Default::default() };
    /// assert!(!lru.shares_integers());
    /// assert!(ServerMemory::default().shares_integers());
    /// ```
    pub fn shares_integers(&self) -> bool {
        let limited = self.maxmemory.is_some_and(|m| m > 0);
        let lru_or_lfu = self
            .policy
            .as_deref()
            .is_some_and(|p| p.contains("lru") || p.contains("lfu"));
        !(limited && lru_or_lfu)
    }

    /// `used_memory` as a share of `maxmemory`, when both are known and there is a limit.
    ///
    /// ```
    /// use motia_state::adapter::stats::ServerMemory;
    /// let m = ServerMemory { used_memory: Some(85), maxmemory: Some(100), ..Default::default() };
    /// assert_eq!(m.fill(), Some(0.85));
    /// ```
    pub fn fill(&self) -> Option<f64> {
        match (self.used_memory, self.maxmemory) {
            (Some(used), Some(max)) if max > 0 => Some(used as f64 / max as f64),
            _ => None,
        }
    }
}

/// The remaining lifetime of a key as read by the walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyTtl {
    /// No expiry.
    Persistent,
    /// Expires at this server time (epoch milliseconds).
    At(i64),
    /// `PTTL` was refused.
    Unknown,
}

/// One state key as the walk saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyProbe {
    /// The full Redis key: itself when it is UTF-8, else escaped as [`crate::escape::name`]
    /// shows it.
    pub full_key: String,
    /// The exact bytes of the full Redis key.
    pub full_key_bytes: Vec<u8>,
    /// `MEMORY USAGE` in bytes (`None`: refused).
    pub bytes: Option<u64>,
    /// Its expiry.
    pub ttl: KeyTtl,
    /// `OBJECT IDLETIME` in seconds (`None`: refused, not tracked by the policy, or the value
    /// is an object shared with other keys, see [`ServerMemory::shares_integers`]).
    pub idle_secs: Option<u64>,
    /// The value is a shared object (`OBJECT REFCOUNT` at its maximum): its idle time and size
    /// do not tell whether it changed.
    pub shared: bool,
    /// The server time (epoch ms) when it was read.
    pub read_at_ms: i64,
}

/// Which probe commands the server still answers; shared by the batches in flight.
#[derive(Debug)]
struct Caps {
    memory: AtomicBool,
    ttl: AtomicBool,
    idle: AtomicBool,
    refcount: AtomicBool,
    /// The probes of a batch run in one server-side script (one standalone server that
    /// accepts it); off after the first refusal, and the pipeline takes over.
    script: AtomicBool,
}

impl Caps {
    fn new(server: &ServerMemory, standalone: bool) -> Self {
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
struct Probed {
    now_ms: i64,
    keys: Vec<KeyProbe>,
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
async fn probe_batch(conn: Conn, keys: Vec<Vec<u8>>, caps: Arc<Caps>) -> Result<Probed> {
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

/// Which keys to read: walk the prefix, or a list the caller already has (a browser whose
/// index is complete), so no second scan is needed.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// Scan `{prefix}*`.
    Scan,
    /// These full keys (keys outside the prefix are ignored).
    Keys(Vec<String>),
}

/// A figure by bucket of age or remaining TTL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgeBucket {
    /// `under 1 h`, `1 h to 1 d`, `1 to 3 d`, `3 to 7 d`, `older`, `unknown`.
    pub label: String,
    /// Traces in the bucket.
    pub traces: u64,
    /// Their keys.
    pub keys: u64,
    /// Their bytes (`None`: MEMORY USAGE refused).
    pub bytes: Option<u64>,
}

/// Keys by remaining TTL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TtlBucket {
    /// `none`, `under 1 h`, `1 h to 1 d`, `1 to 3 d`, `3 to 7 d`, `longer`, `unknown`.
    pub label: String,
    /// Keys in the bucket.
    pub keys: u64,
    /// Their bytes (`None`: MEMORY USAGE refused).
    pub bytes: Option<u64>,
}

/// One of the biggest traces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopTrace {
    /// The trace (group) id: itself when it is UTF-8, else escaped as
    /// [`crate::escape::name`] shows it.
    pub trace_id: String,
    /// The exact bytes of a trace id that is not UTF-8, in base64 (`traceIdBase64`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id_base64: Option<String>,
    /// Its keys.
    pub keys: u64,
    /// Its bytes.
    pub bytes: Option<u64>,
}

/// One of the biggest keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopKey {
    /// The trace (group) id, shown as in [`TopTrace::trace_id`].
    pub trace_id: String,
    /// The exact bytes of a trace id that is not UTF-8, in base64.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id_base64: Option<String>,
    /// The key inside the trace, shown as the trace id is.
    pub key: String,
    /// The exact bytes of a key that is not UTF-8, in base64 (`keyBase64`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_base64: Option<String>,
    /// Its bytes.
    pub bytes: Option<u64>,
}

/// Where the age of traces comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum AgeSource {
    /// Motia's trace records (last activity).
    Records,
    /// The smallest `OBJECT IDLETIME` of the trace's keys.
    IdleTime,
    /// Neither tells.
    Unknown,
}

/// The figures of one walk. Counts are exact; bytes are Redis's `MEMORY USAGE` estimates.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// State keys.
    pub keys: u64,
    /// Traces (group ids) they belong to.
    pub traces: u64,
    /// Their bytes (`None`: MEMORY USAGE refused).
    pub bytes: Option<u64>,
    /// Keys without an expiry (`None`: PTTL refused).
    pub keys_without_ttl: Option<u64>,
    /// Their bytes.
    pub bytes_without_ttl: Option<u64>,
    /// `bytes` as a share of the server's `used_memory` (0..1).
    pub share_of_server_memory: Option<f64>,
    /// Traces by age.
    pub age_buckets: Vec<AgeBucket>,
    /// Keys by remaining TTL.
    pub ttl_buckets: Vec<TtlBucket>,
    /// The biggest traces, biggest first.
    pub top_traces: Vec<TopTrace>,
    /// The biggest keys, biggest first.
    pub top_keys: Vec<TopKey>,
    /// The server's memory.
    pub server: ServerMemory,
    /// Traces aged from their records / from idle times / of unknown age.
    pub traces_with_records: u64,
    /// Traces aged by idle time.
    pub traces_by_idle_time: u64,
    /// Whether idle times could be read (not under an LFU policy, not refused).
    pub idle_time_available: bool,
    /// Whether reads leave idle times alone (`CLIENT NO-TOUCH`); otherwise every read,
    /// the browser's too, makes a key look young.
    pub no_touch: crate::adapter::notouch::NoTouch,
    /// What deserves attention, in plain words.
    pub warnings: Vec<String>,
    /// False while the walk is still going (a partial snapshot).
    pub complete: bool,
}

/// A trace's keys and figures as the walk accumulates them.
#[derive(Debug, Clone, Default)]
pub struct TraceAcc {
    /// Keys seen.
    pub keys: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Smallest idle time over keys without an expiry.
    pub min_idle_persistent: Option<u64>,
    /// Smallest idle time over all keys.
    pub min_idle_any: Option<u64>,
    /// The keys themselves (kept only when asked, for gc).
    pub probes: Vec<KeyProbe>,
    /// The exact bytes of the trace id.
    pub id_bytes: Vec<u8>,
}

impl TraceAcc {
    /// The trace's idle age in milliseconds: the smallest idle time of its keys without an
    /// expiry, or of all its keys when every one expires. Keys that already expire are left out
    /// because setting an expiry resets a key's idle time (so a trace half-handled by an
    /// interrupted `gc --expire` still shows its true age).
    ///
    /// ```
    /// use motia_state::adapter::stats::TraceAcc;
    /// let t = TraceAcc { min_idle_persistent: Some(7200), min_idle_any: Some(3), ..Default::default() };
    /// assert_eq!(t.idle_age_ms(), Some(7_200_000));
    /// ```
    pub fn idle_age_ms(&self) -> Option<i64> {
        self.min_idle_persistent
            .or(self.min_idle_any)
            .map(|s| s as i64 * 1000)
    }
}

/// The JSON convention for names: base64 beside the shown name only when it is not UTF-8.
fn base64_unless_utf8(bytes: &[u8]) -> Option<String> {
    use base64::Engine as _;
    std::str::from_utf8(bytes)
        .is_err()
        .then(|| base64::engine::general_purpose::STANDARD.encode(bytes))
}

fn min_opt(a: Option<u64>, b: u64) -> Option<u64> {
    Some(a.map_or(b, |a| a.min(b)))
}

/// Accumulates a walk; [`snapshot`](Self::snapshot) turns what it has into [`Stats`] at any
/// point, so a screen can show figures while the walk goes on.
#[derive(Debug)]
pub struct StatsCollector {
    prefix: String,
    keep_probes: bool,
    server: ServerMemory,
    /// Per trace.
    pub traces: HashMap<String, TraceAcc>,
    /// Trace records known so far (absent: none).
    pub records: HashMap<String, FlowRecord>,
    ttl_keys: [u64; 7],
    ttl_bytes: [u64; 7],
    keys: u64,
    bytes: u64,
    keys_no_ttl: u64,
    bytes_no_ttl: u64,
    top_keys: BinaryHeap<Reverse<(u64, Vec<u8>)>>,
    memory_known: bool,
    ttl_known: bool,
    idle_known: bool,
    now_ms: i64,
    complete: bool,
    no_touch: crate::adapter::notouch::NoTouch,
}

const TTL_LABELS: [&str; 7] = [
    "none",
    "under 1 h",
    "1 h to 1 d",
    "1 to 3 d",
    "3 to 7 d",
    "longer",
    "unknown",
];

fn bucket_of(ms: i64) -> usize {
    BUCKETS
        .iter()
        .position(|(bound, _)| ms < *bound)
        .unwrap_or(BUCKETS.len() - 1)
}

impl StatsCollector {
    fn new(prefix: &str, server: ServerMemory, keep_probes: bool) -> Self {
        Self {
            prefix: prefix.to_string(),
            keep_probes,
            idle_known: server.tracks_idle_time(),
            no_touch: crate::adapter::notouch::NoTouch::Unknown,
            server,
            traces: HashMap::new(),
            records: HashMap::new(),
            ttl_keys: [0; 7],
            ttl_bytes: [0; 7],
            keys: 0,
            bytes: 0,
            keys_no_ttl: 0,
            bytes_no_ttl: 0,
            top_keys: BinaryHeap::new(),
            memory_known: true,
            ttl_known: true,
            now_ms: 0,
            complete: false,
        }
    }

    /// The server's memory as read before the walk.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// use motia_state::adapter::stats::KeySource;
    /// let (_stats, collector) = state.collect_stats(KeySource::Scan, false, |_, _, _| {}).await?;
    /// println!("{:?}", collector.server().policy);
    /// # Ok(()) }
    /// ```
    pub fn server(&self) -> &ServerMemory {
        &self.server
    }

    /// The server time (epoch ms) of the latest batch.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// use motia_state::adapter::stats::KeySource;
    /// let (_stats, collector) = state.collect_stats(KeySource::Scan, false, |_, _, _| {}).await?;
    /// println!("read at {}", collector.now_ms());
    /// # Ok(()) }
    /// ```
    pub fn now_ms(&self) -> i64 {
        self.now_ms
    }

    /// Whether idle times were read (policy not LFU, command not refused).
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// use motia_state::adapter::stats::KeySource;
    /// let (_stats, collector) = state.collect_stats(KeySource::Scan, false, |_, _, _| {}).await?;
    /// if !collector.idle_time_available() { eprintln!("traces without records have no age"); }
    /// # Ok(()) }
    /// ```
    pub fn idle_time_available(&self) -> bool {
        self.idle_known
    }

    fn add(&mut self, probed: Probed, caps: &Caps) {
        self.now_ms = self.now_ms.max(probed.now_ms);
        self.memory_known &= caps.memory.load(Ordering::Relaxed);
        self.ttl_known &= caps.ttl.load(Ordering::Relaxed);
        self.idle_known &= caps.idle.load(Ordering::Relaxed);
        for p in probed.keys {
            let Some(trace) = p
                .full_key_bytes
                .strip_prefix(self.prefix.as_bytes())
                .and_then(|rest| rest.iter().position(|&b| b == b':').map(|at| &rest[..at]))
            else {
                continue;
            };
            let trace_bytes = trace;
            let trace = crate::adapter::escape::shown(trace);
            let trace = trace.as_str();
            if p.bytes.is_none() {
                self.memory_known = false;
            }
            let bytes = p.bytes.unwrap_or(0);
            self.keys += 1;
            self.bytes += bytes;
            let slot = match p.ttl {
                KeyTtl::Persistent => {
                    self.keys_no_ttl += 1;
                    self.bytes_no_ttl += bytes;
                    0
                }
                KeyTtl::At(at) => 1 + bucket_of((at - probed.now_ms).max(0)),
                KeyTtl::Unknown => {
                    self.ttl_known = false;
                    6
                }
            };
            self.ttl_keys[slot] += 1;
            self.ttl_bytes[slot] += bytes;
            if let Some(b) = p.bytes {
                if self.top_keys.len() < TOP {
                    self.top_keys.push(Reverse((b, p.full_key_bytes.clone())));
                } else if self.top_keys.peek().is_some_and(|Reverse((min, min_key))| {
                    // Ties by name too: which of equal keys make the list must not depend on
                    // the order SCAN returns them in.
                    (b, &p.full_key_bytes) > (*min, min_key)
                }) {
                    self.top_keys.pop();
                    self.top_keys.push(Reverse((b, p.full_key_bytes.clone())));
                }
            }
            let acc = match self.traces.get_mut(trace) {
                Some(acc) => acc,
                None => self
                    .traces
                    .entry(trace.to_string())
                    .or_insert_with(|| TraceAcc {
                        id_bytes: trace_bytes.to_vec(),
                        ..TraceAcc::default()
                    }),
            };
            acc.keys += 1;
            acc.bytes += bytes;
            if let Some(idle) = p.idle_secs {
                acc.min_idle_any = min_opt(acc.min_idle_any, idle);
                if p.ttl == KeyTtl::Persistent {
                    acc.min_idle_persistent = min_opt(acc.min_idle_persistent, idle);
                }
            }
            if self.keep_probes {
                acc.probes.push(p);
            }
        }
    }

    /// A trace's age in milliseconds and where it comes from: its records' last activity,
    /// else its idle time (when tracked), else unknown.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// use motia_state::adapter::stats::KeySource;
    /// let (_stats, collector) = state.collect_stats(KeySource::Scan, false, |_, _, _| {}).await?;
    /// for id in collector.traces.keys() {
    ///     println!("{id}: {:?}", collector.age_of(id));
    /// }
    /// # Ok(()) }
    /// ```
    pub fn age_of(&self, trace: &str) -> (Option<i64>, AgeSource) {
        let record = self.records.get(trace);
        let from_records = record
            .and_then(|r| r.last_activity_ms)
            .map(|at| ((self.now_ms - at).max(0), AgeSource::Records));
        if record.is_some_and(|r| r.steps) {
            return from_records.map_or((None, AgeSource::Unknown), |(a, s)| (Some(a), s));
        }
        // Records gone (only the group entry is left) or never written: the keys' idle time,
        // else what a group entry still says.
        match self.traces.get(trace).and_then(TraceAcc::idle_age_ms) {
            Some(age) if self.idle_known => (Some(age), AgeSource::IdleTime),
            _ => from_records.map_or((None, AgeSource::Unknown), |(a, s)| (Some(a), s)),
        }
    }

    /// Whether the trace's step records exist (see [`FlowRecord::steps`]).
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// use motia_state::adapter::stats::KeySource;
    /// let (_stats, collector) = state.collect_stats(KeySource::Scan, false, |_, _, _| {}).await?;
    /// let orphans = collector.traces.keys().filter(|t| !collector.has_records(t)).count();
    /// # Ok(()) }
    /// ```
    pub fn has_records(&self, trace: &str) -> bool {
        self.records.get(trace).is_some_and(|r| r.steps)
    }

    /// The status of a trace from its records (`None`: no records, or they do not say).
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// use motia_state::adapter::stats::KeySource;
    /// let (_stats, collector) = state.collect_stats(KeySource::Scan, false, |_, _, _| {}).await?;
    /// use motia_state::adapter::records::FlowStatus;
    /// let running = collector.traces.keys().filter(|t| collector.status_of(t) == Some(FlowStatus::Running)).count();
    /// # Ok(()) }
    /// ```
    pub fn status_of(&self, trace: &str) -> Option<FlowStatus> {
        self.records.get(trace).and_then(|r| r.status)
    }

    /// The figures so far.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// use motia_state::adapter::stats::KeySource;
    /// let stats = state.stats(KeySource::Scan, |done, total, collector| {
    ///     if done % 100_000 == 0 { println!("{done}/{total}: {} bytes", collector.snapshot().bytes.unwrap_or(0)); }
    /// }).await?;
    /// # Ok(()) }
    /// ```
    pub fn snapshot(&self) -> Stats {
        let known = |v: u64, ok: bool| ok.then_some(v);
        let mut ages = vec![(0u64, 0u64, 0u64); BUCKETS.len() + 1];
        let (mut with_records, mut by_idle) = (0, 0);
        for (id, acc) in &self.traces {
            let (age, source) = self.age_of(id);
            match source {
                AgeSource::Records => with_records += 1,
                AgeSource::IdleTime => by_idle += 1,
                AgeSource::Unknown => {}
            }
            let slot = age.map_or(BUCKETS.len(), bucket_of);
            ages[slot].0 += 1;
            ages[slot].1 += acc.keys;
            ages[slot].2 += acc.bytes;
        }
        let age_buckets = ages
            .iter()
            .enumerate()
            .map(|(i, (traces, keys, bytes))| AgeBucket {
                label: BUCKETS.get(i).map_or("unknown", |b| b.1).to_string(),
                traces: *traces,
                keys: *keys,
                bytes: known(*bytes, self.memory_known),
            })
            .collect();
        let ttl_buckets = TTL_LABELS
            .iter()
            .enumerate()
            .filter(|(i, _)| *i < 6 || self.ttl_keys[6] > 0)
            .map(|(i, label)| TtlBucket {
                label: label.to_string(),
                keys: self.ttl_keys[i],
                bytes: known(self.ttl_bytes[i], self.memory_known),
            })
            .collect();
        let mut top: Vec<(&String, &TraceAcc)> = self.traces.iter().collect();
        let rank = |a: &(&String, &TraceAcc)| (Reverse(a.1.bytes), Reverse(a.1.keys));
        if top.len() > TOP {
            top.select_nth_unstable_by(TOP - 1, |a, b| rank(a).cmp(&rank(b)).then(a.0.cmp(b.0)));
            top.truncate(TOP);
        }
        top.sort_by(|a, b| rank(a).cmp(&rank(b)).then(a.0.cmp(b.0)));
        let top_traces = top
            .into_iter()
            .map(|(id, acc)| TopTrace {
                trace_id: id.clone(),
                trace_id_base64: base64_unless_utf8(&acc.id_bytes),
                keys: acc.keys,
                bytes: known(acc.bytes, self.memory_known),
            })
            .collect();
        let mut top_keys: Vec<(u64, &Vec<u8>)> = self
            .top_keys
            .iter()
            .map(|Reverse((b, k))| (*b, k))
            .collect();
        top_keys.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
        let top_keys = top_keys
            .into_iter()
            .filter_map(|(b, full)| {
                let rest = full.strip_prefix(self.prefix.as_bytes())?;
                let at = rest.iter().position(|&b| b == b':')?;
                let (trace, key) = (&rest[..at], &rest[at + 1..]);
                Some(TopKey {
                    trace_id: crate::adapter::escape::shown(trace),
                    trace_id_base64: base64_unless_utf8(trace),
                    key: crate::adapter::escape::shown(key),
                    key_base64: base64_unless_utf8(key),
                    bytes: Some(b),
                })
            })
            .collect();
        let bytes = known(self.bytes, self.memory_known);
        let share = match (bytes, self.server.used_memory) {
            (Some(b), Some(used)) if used > 0 => Some(b as f64 / used as f64),
            _ => None,
        };
        let mut stats = Stats {
            keys: self.keys,
            traces: self.traces.len() as u64,
            bytes,
            keys_without_ttl: known(self.keys_no_ttl, self.ttl_known),
            bytes_without_ttl: known(self.bytes_no_ttl, self.ttl_known && self.memory_known),
            share_of_server_memory: share,
            age_buckets,
            ttl_buckets,
            top_traces,
            top_keys,
            server: self.server.clone(),
            traces_with_records: with_records,
            traces_by_idle_time: by_idle,
            idle_time_available: self.idle_known,
            no_touch: self.no_touch,
            warnings: Vec::new(),
            complete: self.complete,
        };
        stats.warnings = warnings(&stats);
        stats
    }
}

/// Plain-word warnings: a full `noeviction` server, no memory limit while state never expires,
/// figures the server would not give.
fn warnings(s: &Stats) -> Vec<String> {
    let mut out = Vec::new();
    let m = &s.server;
    if let (Some(fill), Some("noeviction")) = (m.fill(), m.policy.as_deref())
        && fill > 0.8
    {
        out.push(format!(
            "memory is {:.0}% of maxmemory under noeviction: writes will fail once it is full",
            fill * 100.0
        ));
    }
    if m.maxmemory == Some(0)
        && let Some(n) = s.keys_without_ttl.filter(|n| *n > 0)
    {
        out.push(format!(
            "no maxmemory and {n} state keys without TTL: they stay, and memory grows, until something deletes them"
        ));
    }
    if s.bytes.is_none() {
        out.push("MEMORY USAGE was refused: byte figures are unknown".into());
    }
    if s.keys_without_ttl.is_none() {
        out.push("PTTL was refused: TTL figures are unknown".into());
    }
    if m.used_memory.is_none() && m.policy.is_none() {
        out.push("INFO and CONFIG were refused: server memory figures are unknown".into());
    }
    if !s.idle_time_available && s.traces > s.traces_with_records {
        let why = if m.tracks_idle_time() {
            "OBJECT IDLETIME was refused"
        } else {
            "the eviction policy is LFU, which keeps no access times"
        };
        out.push(format!("{why}: traces without records have no age"));
    }
    if s.idle_time_available
        && let Some(w) = s.no_touch.warning()
    {
        out.push(w);
    }
    out
}

impl RedisStateAdapter {
    /// The server's memory figures: `INFO memory`, or `CONFIG GET` for the limit and policy
    /// when `INFO` is refused; `None` for whatever neither tells.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let memory = state.server_memory().await?;
    /// println!("{:?} of {:?} bytes, policy {:?}", memory.used_memory, memory.maxmemory, memory.policy);
    /// # Ok(()) }
    /// ```
    pub async fn server_memory(&self) -> Result<ServerMemory> {
        let mut parts = Vec::new();
        for node in self.conn.scan_targets().await? {
            parts.push(self.node_memory(node.as_ref()).await?);
        }
        Ok(ServerMemory::total(&parts))
    }

    /// One server's (or one primary's) memory figures.
    async fn node_memory(&self, node: Option<&Node>) -> Result<ServerMemory> {
        let info: Result<String> = self
            .conn
            .query_node(node, redis::cmd("INFO").arg("memory"), "INFO memory")
            .await;
        let mut memory = match info {
            Ok(text) => ServerMemory::from_info(&text),
            Err(e) if e.is_connection() => return Err(e),
            Err(_) => ServerMemory::default(),
        };
        // CONFIG GET answers `[name, value]` (RESP2) or `{name: value}` (RESP3).
        let config_get = async |name: &str| -> Result<Option<String>> {
            let cmd = redis::cmd("CONFIG").arg("GET").arg(name).clone();
            let reply: Result<redis::Value> = self.conn.query_node(node, &cmd, "CONFIG GET").await;
            let value = match reply {
                Ok(redis::Value::Array(kv)) => kv.into_iter().nth(1),
                Ok(redis::Value::Map(kv)) => kv.into_iter().next().map(|(_, v)| v),
                Ok(_) => None,
                Err(e) if e.is_connection() => return Err(e),
                Err(_) => None,
            };
            Ok(match value {
                Some(redis::Value::BulkString(b)) => Some(String::from_utf8_lossy(&b).into()),
                _ => None,
            })
        };
        if memory.maxmemory.is_none() {
            memory.maxmemory = config_get("maxmemory").await?.and_then(|v| v.parse().ok());
        }
        if memory.policy.is_none() {
            memory.policy = config_get("maxmemory-policy").await?;
        }
        Ok(memory)
    }

    /// Memory and TTL figures of the state: every key read once (see the module docs), trace
    /// records read for the traces found. `progress(keys read, keys known, collector)` is called
    /// after each batch; `collector.snapshot()` gives the figures so far.
    ///
    /// ```no_run
    /// use motia_state::adapter::stats::KeySource;
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let stats = state.stats(KeySource::Scan, |_, _, _| {}).await?;
    /// println!("{} keys, {:?} without TTL", stats.keys, stats.keys_without_ttl);
    /// # Ok(()) }
    /// ```
    pub async fn stats(
        &self,
        source: KeySource,
        progress: impl FnMut(u64, u64, &StatsCollector),
    ) -> Result<Stats> {
        Ok(self.collect_stats(source, false, progress).await?.0)
    }

    /// Like [`stats`](Self::stats), also returning the collector, with every key's probe kept
    /// when `keep_probes` (what `gc` selects from).
    ///
    /// ```no_run
    /// use motia_state::adapter::stats::KeySource;
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let (stats, collector) = state.collect_stats(KeySource::Scan, true, |_, _, _| {}).await?;
    /// for (trace, acc) in &collector.traces {
    ///     println!("{trace}: {} keys", acc.probes.len());
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn collect_stats(
        &self,
        source: KeySource,
        keep_probes: bool,
        mut progress: impl FnMut(u64, u64, &StatsCollector),
    ) -> Result<(Stats, StatsCollector)> {
        let server = self.server_memory().await?;
        let standalone = !matches!(
            self.conn.topology(),
            crate::adapter::conn::Topology::Cluster { .. }
        );
        let caps = Arc::new(Caps::new(&server, standalone));
        let mut collector = StatsCollector::new(self.key_space().prefix(), server, keep_probes);
        collector.no_touch = self.no_touch();
        let (mut scan, mut pending, total): (Option<KeyScanner>, Vec<Vec<u8>>, Option<u64>) =
            match source {
                KeySource::Scan => (Some(self.scan_all()), Vec::new(), None),
                KeySource::Keys(mut keys) => {
                    let prefix = self.key_space().prefix();
                    keys.retain(|k| k.starts_with(prefix));
                    let n = keys.len() as u64;
                    (
                        None,
                        keys.into_iter().map(String::into_bytes).collect(),
                        Some(n),
                    )
                }
            };
        pending.reverse();
        let batch = self.config().batch_size.max(1);
        let mut in_flight: VecDeque<(usize, JoinHandle<Result<Probed>>)> = VecDeque::new();
        let mut buffer: Vec<Vec<u8>> = Vec::new();
        let mut done = 0u64;
        loop {
            let source_done = match scan.as_mut() {
                Some(s) => match s.next_page_bytes().await? {
                    Some(page) => {
                        buffer.extend(page);
                        false
                    }
                    None => true,
                },
                None => {
                    let at = pending.len().saturating_sub(batch * MAX_IN_FLIGHT);
                    buffer.extend(pending.drain(at..).rev());
                    pending.is_empty()
                }
            };
            while buffer.len() >= batch || (source_done && !buffer.is_empty()) {
                let rest = buffer.split_off(buffer.len().min(batch));
                let keys = std::mem::replace(&mut buffer, rest);
                let n = keys.len();
                let task = tokio::spawn(probe_batch(self.conn.clone(), keys, caps.clone()));
                in_flight.push_back((n, task));
            }
            while let Some((_, task)) = in_flight.front() {
                if !(source_done || task.is_finished() || in_flight.len() > MAX_IN_FLIGHT) {
                    break;
                }
                let Some((n, task)) = in_flight.pop_front() else {
                    break;
                };
                let probed = match task.await {
                    Ok(reply) => reply?,
                    Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                    Err(e) => {
                        return Err(crate::adapter::error::Error::Disconnected {
                            addr: self.addr().to_string(),
                            retries: 0,
                            reason: format!("a read was cancelled: {e}"),
                        });
                    }
                };
                collector.add(probed, &caps);
                done += n as u64;
                let known = total.unwrap_or_else(|| scan.as_ref().map_or(done, |s| s.keys_seen()));
                progress(done, known.max(done), &collector);
            }
            if source_done && in_flight.is_empty() {
                break;
            }
        }
        let ids: Vec<String> = collector.traces.keys().cloned().collect();
        collector.records = self.flow_records(&ids).await?;
        collector.complete = true;
        progress(done, done, &collector);
        Ok((collector.snapshot(), collector))
    }
}
