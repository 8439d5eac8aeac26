//! Accumulating a walk's probes into [`Stats`](super::Stats): per trace, per bucket, the top lists,
//! and the warnings a snapshot carries.

use crate::adapter::records::{FlowRecord, FlowStatus};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::Ordering;

use super::probe::{Caps, Probed};
use super::{
    AgeBucket, AgeSource, KeyProbe, KeyTtl, ServerMemory, Stats, TOP, TopKey, TopTrace, TtlBucket,
};

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
    pub(super) complete: bool,
    pub(super) no_touch: crate::adapter::notouch::NoTouch,
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
    pub(super) fn new(prefix: &str, server: ServerMemory, keep_probes: bool) -> Self {
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

    pub(super) fn add(&mut self, probed: Probed, caps: &Caps) {
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
