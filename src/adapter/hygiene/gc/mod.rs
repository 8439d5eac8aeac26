//! Cleaning up state that outlived its flow: select traces by age, status and records, then
//! expire or delete their keys, each key checked against what the selection saw, atomically,
//! right before it is written.
//!
//! Selecting reads nothing that changes a key's access time (see [`crate::adapter::stats`]),
//! so a dry run leaves the ages a later run relies on as they were. The check before each
//! write compares the key's size, expiry and idle time (a write or read since the selection
//! makes it younger) and, for values whose idle time says nothing (small integers Redis
//! shares between keys, or a policy that keeps no access times), the value itself.

use crate::adapter::RedisStateAdapter;
use crate::adapter::conn::Retry;
use crate::adapter::error::Result;
use crate::adapter::records::FlowStatus;
use crate::adapter::stats::{AgeSource, KeySource, KeyTtl, StatsCollector};

mod select;

pub use select::{GcAction, GcFlags, GcSelection, StatusFilter};

/// A key the plan will write, with what the selection saw of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedKey {
    /// The full Redis key: itself when it is UTF-8, else escaped as [`crate::escape::name`]
    /// shows it.
    pub full_key: String,
    /// The exact bytes of the full Redis key (what is written).
    pub full_key_bytes: Vec<u8>,
    /// `MEMORY USAGE` when selected.
    pub bytes: Option<u64>,
    /// Its expiry when selected.
    pub ttl: KeyTtl,
    /// Its idle time (seconds) when selected, when that is a trustworthy change detector.
    pub idle_secs: Option<u64>,
    /// Server time of the selection (epoch ms).
    pub read_at_ms: i64,
    /// The value when selected, for keys whose idle time cannot tell a change.
    pub value: Option<Vec<u8>>,
    /// With `Expire`: the key already expires sooner and is left as it is.
    pub expires_sooner: bool,
}

/// A trace the plan touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedTrace {
    /// The trace (group) id.
    pub trace_id: String,
    /// Its status from the records.
    pub status: Option<FlowStatus>,
    /// Its age in milliseconds.
    pub age_ms: Option<i64>,
    /// Where the age comes from.
    pub age_source: AgeSource,
    /// The keys to write.
    pub keys: Vec<PlannedKey>,
}

impl PlannedTrace {
    /// Keys that will be written (not the ones already expiring sooner).
    ///
    /// ```
    /// use motia_state::adapter::gc::PlannedTrace;
    /// use motia_state::adapter::stats::AgeSource;
    /// let t = PlannedTrace { trace_id: "T".into(), status: None, age_ms: None, age_source: AgeSource::Unknown, keys: vec![] };
    /// assert_eq!(t.acting_keys().count(), 0);
    /// ```
    pub fn acting_keys(&self) -> impl Iterator<Item = &PlannedKey> {
        self.keys.iter().filter(|k| !k.expires_sooner)
    }

    /// Bytes of the keys that will be written.
    ///
    /// ```
    /// # use motia_state::adapter::gc::PlannedTrace;
    /// # use motia_state::adapter::stats::AgeSource;
    /// # let t = PlannedTrace { trace_id: "T".into(), status: None, age_ms: None, age_source: AgeSource::Unknown, keys: vec![] };
    /// assert_eq!(t.bytes(), Some(0));
    /// ```
    pub fn bytes(&self) -> Option<u64> {
        self.acting_keys().map(|k| k.bytes).sum()
    }
}

/// What a run would do (a dry run prints it; applying does it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GcPlan {
    /// The action.
    pub action: GcAction,
    /// The selected traces, oldest first.
    pub traces: Vec<PlannedTrace>,
    /// State traces looked at.
    pub traces_seen: u64,
    /// Running flows left out (they are never touched unless the status filter is `Any`).
    pub running_skipped: u64,
    /// Whether traces without records could be aged (idle times tracked and readable).
    pub idle_time_available: bool,
}

impl GcPlan {
    /// `(keys, bytes)` the run would write in total (`bytes` `None`: MEMORY USAGE refused).
    ///
    /// ```
    /// use motia_state::adapter::gc::{GcAction, GcPlan};
    /// let plan = GcPlan { action: GcAction::Delete, traces: vec![], traces_seen: 0, running_skipped: 0, idle_time_available: true };
    /// assert_eq!(plan.totals(), (0, Some(0)));
    /// ```
    pub fn totals(&self) -> (u64, Option<u64>) {
        let keys = self
            .traces
            .iter()
            .map(|t| t.acting_keys().count() as u64)
            .sum();
        let bytes = self.traces.iter().map(PlannedTrace::bytes).sum();
        (keys, bytes)
    }

    /// Keys left alone because they already expire sooner than the TTL `Expire` gives.
    ///
    /// ```
    /// # use motia_state::adapter::gc::{GcAction, GcPlan};
    /// # let plan = GcPlan { action: GcAction::Delete, traces: vec![], traces_seen: 0, running_skipped: 0, idle_time_available: true };
    /// assert_eq!(plan.expiring_sooner(), 0);
    /// ```
    pub fn expiring_sooner(&self) -> u64 {
        self.traces
            .iter()
            .flat_map(|t| &t.keys)
            .filter(|k| k.expires_sooner)
            .count() as u64
    }
}

/// What applying did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Keys deleted or given the TTL.
    pub written: u64,
    /// Their bytes (as selected).
    pub bytes: u64,
    /// Keys left alone because they already expire sooner.
    pub expiring_sooner: u64,
    /// Keys that changed after the selection (value, TTL or a write), skipped.
    pub changed: Vec<String>,
    /// Keys gone before their turn.
    pub gone: u64,
}

/// Checks one key against what the selection saw and writes it, atomically.
/// KEYS[1] the key; ARGV: action (`del` | `expire`), TTL ms, bytes or '', expiry at (ms, -1
/// none) or '', idle seconds or '', selection time ms, 1 when the value is compared, the value.
const CHECK_AND_WRITE: &str = r"
local k = KEYS[1]
if redis.call('EXISTS', k) == 0 then return 'gone' end
if ARGV[3] ~= '' then
  local mem = redis.call('MEMORY', 'USAGE', k, 'SAMPLES', '0')
  if tonumber(mem) ~= tonumber(ARGV[3]) then return 'changed' end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local pttl = redis.call('PTTL', k)
local at = -1
if pttl >= 0 then at = now + pttl end
if ARGV[4] ~= '' then
  local want = tonumber(ARGV[4])
  if want == -1 then
    if at ~= -1 then return 'changed' end
  elseif at == -1 or math.abs(at - want) > 1000 then
    return 'changed'
  end
end
if ARGV[5] ~= '' then
  local idle = redis.call('OBJECT', 'IDLETIME', k)
  local least = tonumber(ARGV[5]) + math.floor((now - tonumber(ARGV[6])) / 1000) - 2
  if idle < least then return 'changed' end
end
if ARGV[7] == '1' then
  if redis.call('GET', k) ~= ARGV[8] then return 'changed' end
end
if ARGV[1] == 'del' then
  redis.call('UNLINK', k)
  return 'done'
end
local ms = tonumber(ARGV[2])
if at ~= -1 and at <= now + ms then return 'sooner' end
redis.call('PEXPIRE', k, ms)
return 'done'
";

impl RedisStateAdapter {
    /// Selects what `gc` would write: one walk of the state (as [`stats`](Self::stats)), the
    /// records of the traces found, then the selection. Changes nothing.
    /// `progress(keys read, keys known)`.
    ///
    /// ```no_run
    /// use motia_state::adapter::gc::{GcAction, GcSelection};
    /// use motia_state::adapter::stats::KeySource;
    /// use std::time::Duration;
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let selection = GcSelection { older_than: Some(Duration::from_secs(86400)), ..Default::default() };
    /// let plan = state.gc_plan(KeySource::Scan, &selection, GcAction::Delete, |_, _| {}).await?;
    /// let (keys, bytes) = plan.totals();
    /// println!("would delete {keys} keys ({bytes:?} bytes) in {} traces", plan.traces.len());
    /// # Ok(()) }
    /// ```
    pub async fn gc_plan(
        &self,
        source: KeySource,
        selection: &GcSelection,
        action: GcAction,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<GcPlan> {
        selection.validate()?;
        let (_, collector) = self
            .collect_stats(source, true, |done, total, _| progress(done, total))
            .await?;
        self.plan_from(&collector, selection, action).await
    }

    /// The selection over a finished walk (see [`gc_plan`](Self::gc_plan)); reads the values
    /// of the keys whose idle time cannot tell a change.
    ///
    /// ```no_run
    /// use motia_state::adapter::gc::{GcAction, GcSelection};
    /// use motia_state::adapter::stats::KeySource;
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let (_, walk) = state.collect_stats(KeySource::Scan, true, |_, _, _| {}).await?;
    /// let selection = GcSelection { no_records: true, ..Default::default() };
    /// let plan = state.plan_from(&walk, &selection, GcAction::Delete).await?;
    /// # Ok(()) }
    /// ```
    pub async fn plan_from(
        &self,
        walk: &StatsCollector,
        selection: &GcSelection,
        action: GcAction,
    ) -> Result<GcPlan> {
        selection.validate()?;
        let idle_ok = walk.idle_time_available();
        let older_ms = selection.older_than.map(|d| d.as_millis() as i64);
        let mut traces = Vec::new();
        let mut running_skipped = 0;
        for (id, acc) in &walk.traces {
            let has_records = walk.has_records(id);
            if has_records == selection.no_records {
                continue;
            }
            let (age_ms, age_source) = walk.age_of(id);
            if let Some(min) = older_ms
                && age_ms.is_none_or(|a| a <= min)
            {
                continue;
            }
            let status = if has_records {
                walk.status_of(id)
            } else {
                None
            };
            if has_records && !selection.status.admits(status) {
                if status == Some(FlowStatus::Running) {
                    running_skipped += 1;
                }
                continue;
            }
            let mut keys = Vec::new();
            for p in &acc.probes {
                if selection.no_ttl && p.ttl != KeyTtl::Persistent {
                    continue;
                }
                let expires_sooner = match (action, p.ttl) {
                    (GcAction::Expire(d), KeyTtl::At(at)) => {
                        at <= p.read_at_ms + d.as_millis() as i64
                    }
                    _ => false,
                };
                keys.push(PlannedKey {
                    full_key: p.full_key.clone(),
                    full_key_bytes: p.full_key_bytes.clone(),
                    bytes: p.bytes,
                    ttl: p.ttl,
                    idle_secs: p.idle_secs.filter(|_| idle_ok),
                    read_at_ms: p.read_at_ms,
                    value: None,
                    expires_sooner,
                });
            }
            if keys.is_empty() {
                continue;
            }
            keys.sort_by(|a, b| a.full_key_bytes.cmp(&b.full_key_bytes));
            traces.push(PlannedTrace {
                trace_id: id.clone(),
                status,
                age_ms,
                age_source,
                keys,
            });
        }
        traces.sort_by(|a, b| {
            b.age_ms
                .cmp(&a.age_ms)
                .then_with(|| a.trace_id.cmp(&b.trace_id))
        });
        // Keys whose idle time says nothing get their value compared instead. Reading them
        // cannot make anything look younger: their idle time was not used.
        let need_value: Vec<(usize, usize)> = traces
            .iter()
            .enumerate()
            .flat_map(|(t, tr)| {
                tr.keys
                    .iter()
                    .enumerate()
                    .filter(|(_, k)| k.idle_secs.is_none() && !k.expires_sooner)
                    .map(move |(i, _)| (t, i))
            })
            .collect();
        for chunk in need_value.chunks(self.config().batch_size.max(1)) {
            let names: Vec<Vec<u8>> = chunk
                .iter()
                .map(|&(t, i)| traces[t].keys[i].full_key_bytes.clone())
                .collect();
            let values = self.get_raw_many(&names).await?;
            for (&(t, i), v) in chunk.iter().zip(values) {
                traces[t].keys[i].value = Some(v.unwrap_or_default());
            }
        }
        Ok(GcPlan {
            action,
            traces,
            traces_seen: walk.traces.len() as u64,
            running_skipped,
            idle_time_available: idle_ok,
        })
    }

    /// Applies a plan in batches: each key is checked against what the selection saw and
    /// written only if unchanged, in one script per key (atomic per key). Only keys under the
    /// prefix are written. `progress(keys handled, keys planned)`.
    ///
    /// ```no_run
    /// use motia_state::adapter::gc::{GcAction, GcSelection};
    /// use motia_state::adapter::stats::KeySource;
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let selection = GcSelection { no_records: true, older_than: Some(std::time::Duration::from_secs(7 * 86400)), ..Default::default() };
    /// let plan = state.gc_plan(KeySource::Scan, &selection, GcAction::Delete, |_, _| {}).await?;
    /// let report = state.gc_apply(&plan, |_, _| {}).await?;
    /// for key in &report.changed {
    ///     eprintln!("skipped {key}: it changed after it was selected");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn gc_apply(
        &self,
        plan: &GcPlan,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<GcReport> {
        self.ensure_writable("gc")?;
        let script = redis::Script::new(CHECK_AND_WRITE);
        let prefix = self.key_space().prefix();
        let keys: Vec<&PlannedKey> = plan
            .traces
            .iter()
            .flat_map(|t| t.acting_keys())
            .filter(|k| k.full_key_bytes.starts_with(prefix.as_bytes()))
            .collect();
        let total = keys.len() as u64;
        let mut report = GcReport {
            expiring_sooner: plan.expiring_sooner(),
            ..GcReport::default()
        };
        let (verb, ttl_ms) = match plan.action {
            GcAction::Delete => ("del", 0),
            GcAction::Expire(d) => ("expire", d.as_millis().max(1) as u64),
        };
        let mut handled = 0u64;
        for batch in keys.chunks(self.config().batch_size.max(1)) {
            let mut pipe = redis::pipe();
            // Loaded in the same round trip, so EVALSHA finds it even after a restart.
            pipe.cmd("SCRIPT").arg("LOAD").arg(CHECK_AND_WRITE).ignore();
            for k in batch {
                let at = match k.ttl {
                    KeyTtl::Persistent => "-1".to_string(),
                    KeyTtl::At(at) => at.to_string(),
                    KeyTtl::Unknown => String::new(),
                };
                let opt = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
                let cmd = pipe
                    .cmd("EVALSHA")
                    .arg(script.get_hash())
                    .arg(1)
                    .arg(&k.full_key_bytes)
                    .arg(verb)
                    .arg(ttl_ms)
                    .arg(opt(k.bytes))
                    .arg(at)
                    .arg(opt(k.idle_secs))
                    .arg(k.read_at_ms);
                match &k.value {
                    Some(v) => cmd.arg("1").arg(v.as_slice()),
                    None => cmd.arg("0").arg(""),
                };
            }
            // Not re-sent on a broken connection: a second run re-selects and finishes.
            let outcomes: Vec<String> = self
                .conn
                .query_pipe(&pipe, Retry::Never, "gc: checking and writing keys")
                .await?;
            for (k, outcome) in batch.iter().zip(outcomes) {
                match outcome.as_str() {
                    "done" => {
                        report.written += 1;
                        report.bytes += k.bytes.unwrap_or(0);
                    }
                    "sooner" => report.expiring_sooner += 1,
                    "gone" => report.gone += 1,
                    _ => report.changed.push(k.full_key.clone()),
                }
            }
            handled += batch.len() as u64;
            progress(handled, total);
        }
        Ok(report)
    }
}
