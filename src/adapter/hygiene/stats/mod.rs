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

use std::collections::VecDeque;
use std::sync::Arc;

use serde::Serialize;
use tokio::task::JoinHandle;

use crate::adapter::RedisStateAdapter;
use crate::adapter::conn::Node;
use crate::adapter::error::Result;
use crate::adapter::scan::KeyScanner;

mod collector;
mod probe;

pub use collector::{StatsCollector, TraceAcc};
use probe::{Caps, Probed, probe_batch};

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
                Some(s) => match s.next_page().await? {
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
