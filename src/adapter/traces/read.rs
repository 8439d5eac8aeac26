//! Reading trace records: the group hash streamed with HSCAN, a flow's step documents with a
//! byte budget, and the dead-letter queue.

use std::collections::HashSet;

use serde_json::Value;

use crate::adapter::RedisStateAdapter;
use crate::adapter::conn::{Conn, Retry};
use crate::adapter::error::Result;
use crate::adapter::escape::shown;
use crate::adapter::traces::record::{FlowStatus, Trace, TraceGroup, Unreadable};

/// Field names and lengths of a hash without moving its values (Redis 7.0 has no
/// `HSCAN NOVALUES`); one key, so it routes like any single-key command.
/// A key of another type answers `{type}` (odd length), so one bad key cannot fail a batch.
const FIELD_LENGTHS: &str = r"
local t = redis.call('TYPE', KEYS[1]).ok
if t ~= 'hash' and t ~= 'none' then return {t} end
local f = redis.call('HKEYS', KEYS[1])
local out = {}
for _, k in ipairs(f) do
  out[#out + 1] = k
  out[#out + 1] = redis.call('HSTRLEN', KEYS[1], k)
end
return out";

/// The first and last ARGV[2] bytes of one field: enough for a step's header and end.
const FIELD_ENDS: &str = r"
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return false end
local n = tonumber(ARGV[2])
return {string.sub(v, 1, n), string.sub(v, -n)}";

/// Bytes of each end read from a step document over the budget.
const END_BYTES: usize = 4096;

/// How much of one trace's records a read may move.
///
/// ```
/// use motia_state::adapter::traces::TraceLimits;
/// let small = TraceLimits { bytes: 256 * 1024, ..TraceLimits::default() };
/// assert!(small.bytes < TraceLimits::default().bytes);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceLimits {
    /// Whole step documents are read while their sizes add up to at most this; the others
    /// are read by their ends only ([`Trace::omitted_bytes`]).
    pub bytes: usize,
    /// Step documents read at all; more are counted in [`TraceRecords::not_read`].
    pub steps: usize,
}

impl Default for TraceLimits {
    fn default() -> Self {
        Self {
            bytes: 8 * 1024 * 1024,
            steps: 2_000,
        }
    }
}

/// One entry of the group hash: a flow's trace id and its group record.
///
/// Trace ids are bytes: join and read by [`GroupEntry::trace_id_bytes`]; `trace_id` is for
/// showing (itself when UTF-8, else escaped as [`crate::escape::shown`] does).
///
/// ```
/// use motia_state::adapter::traces::GroupEntry;
/// # fn show(e: GroupEntry) {
/// match &e.group {
///     Ok(g) => println!("{} {}", e.trace_id, g.name),
///     Err(why) => eprintln!("{why}"),
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GroupEntry {
    /// The trace id (the field), as [`crate::escape::shown`] gives it.
    pub trace_id: String,
    /// The field's exact bytes.
    pub trace_id_bytes: Vec<u8>,
    /// The record, or why it cannot be used.
    pub group: std::result::Result<TraceGroup, Unreadable>,
}

/// Pages through the group hash with `HSCAN`, like [`crate::KeyScanner`] does with SCAN:
/// each field once, only cursor 0 ends it.
///
/// ```no_run
/// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
/// let mut groups = state.scan_trace_groups();
/// while let Some(page) = groups.next_page().await? {
///     for entry in page {
///         if let Ok(g) = &entry.group {
///             println!("{} started by {}", entry.trace_id, g.name);
///         }
///     }
/// }
/// # Ok(()) }
/// ```
pub struct GroupScanner {
    conn: Conn,
    key: String,
    count: usize,
    cursor: u64,
    done: bool,
    seen: HashSet<Vec<u8>>,
}

impl GroupScanner {
    /// The group hash's key.
    ///
    /// ```no_run
    /// # fn demo(state: motia_state::RedisStateAdapter) {
    /// assert_eq!(state.scan_trace_groups().key(), "motia:trace:default");
    /// # }
    /// ```
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The next page (possibly empty), `None` when done. A missing hash is an empty walk.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let mut groups = state.scan_trace_groups();
    /// let mut n = 0;
    /// while let Some(page) = groups.next_page().await? {
    ///     n += page.len();
    /// }
    /// println!("{n} flows");
    /// # Ok(()) }
    /// ```
    pub async fn next_page(&mut self) -> Result<Option<Vec<GroupEntry>>> {
        if self.done {
            return Ok(None);
        }
        let mut cmd = redis::cmd("HSCAN");
        cmd.arg(&self.key)
            .arg(self.cursor)
            .arg("COUNT")
            .arg(self.count);
        let (next, flat): (u64, Vec<Vec<u8>>) = Box::pin(self.conn.query(
            &cmd,
            Retry::Safe,
            &format!("HSCAN {}", self.key),
        ))
        .await?;
        self.cursor = next;
        self.done = next == 0;
        let mut page = Vec::with_capacity(flat.len() / 2);
        for pair in flat.chunks_exact(2) {
            if !self.seen.insert(pair[0].clone()) {
                continue;
            }
            let field = shown(&pair[0]);
            let group = TraceGroup::parse(&field, &pair[1])
                .map_err(|reason| Unreadable::new(&self.key, &field, reason));
            page.push(GroupEntry {
                trace_id: field,
                trace_id_bytes: pair[0].clone(),
                group,
            });
        }
        Ok(Some(page))
    }

    /// Every remaining entry.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let all = state.scan_trace_groups().collect_all().await?;
    /// # Ok(()) }
    /// ```
    pub async fn collect_all(mut self) -> Result<Vec<GroupEntry>> {
        let mut all = Vec::new();
        while let Some(page) = self.next_page().await? {
            all.extend(page);
        }
        Ok(all)
    }
}

/// What one flow's hash `{trace_prefix}{traceId}` holds: its steps in start order.
///
/// ```
/// use motia_state::adapter::traces::{FlowStatus, TraceRecords};
/// let empty = TraceRecords::empty("QH7KD-2104821");
/// assert!(!empty.exists());
/// assert_eq!(empty.status(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TraceRecords {
    /// The flow's trace id.
    pub trace_id: String,
    /// Step executions, sorted by start time.
    pub steps: Vec<Trace>,
    /// Step documents that could not be used.
    pub unreadable: Vec<Unreadable>,
    /// Step documents left unread (over [`TraceLimits::steps`]).
    pub not_read: usize,
}

impl TraceRecords {
    /// No records for `trace_id`.
    ///
    /// ```
    /// # use motia_state::adapter::traces::TraceRecords;
    /// assert_eq!(TraceRecords::empty("T").steps.len(), 0);
    /// ```
    pub fn empty(trace_id: &str) -> Self {
        Self {
            trace_id: trace_id.into(),
            ..Self::default()
        }
    }

    /// True when the flow's hash holds anything (readable or not).
    ///
    /// ```
    /// # use motia_state::adapter::traces::TraceRecords;
    /// assert!(!TraceRecords::empty("T").exists());
    /// ```
    pub fn exists(&self) -> bool {
        !self.steps.is_empty() || !self.unreadable.is_empty() || self.not_read > 0
    }

    /// The flow's status derived from its steps (see [`FlowStatus::derive`]).
    ///
    /// ```
    /// # use motia_state::adapter::traces::TraceRecords;
    /// assert_eq!(TraceRecords::empty("T").status(), None);
    /// ```
    pub fn status(&self) -> Option<FlowStatus> {
        FlowStatus::derive(self.steps.iter().map(|s| s.status))
    }

    /// The earliest step start, epoch milliseconds.
    ///
    /// ```
    /// # use motia_state::adapter::traces::TraceRecords;
    /// assert_eq!(TraceRecords::empty("T").start_time(), None);
    /// ```
    pub fn start_time(&self) -> Option<i64> {
        self.steps.iter().map(|s| s.start_time).min()
    }

    /// The number of step documents, counting the unreadable and unread ones.
    ///
    /// ```
    /// # use motia_state::adapter::traces::TraceRecords;
    /// assert_eq!(TraceRecords::empty("T").step_count(), 0);
    /// ```
    pub fn step_count(&self) -> usize {
        self.steps.len() + self.unreadable.len() + self.not_read
    }
}

/// A flow's summary for listings: its group record joined with its steps.
///
/// ```
/// use motia_state::adapter::traces::{FlowStatus, FlowSummary, TraceGroup, TraceRecords};
/// let group = TraceGroup::parse("T", br#"{"name":"Old","status":"completed","startTime":5}"#).ok();
/// let s = FlowSummary::new("T", group, TraceRecords::empty("T"));
/// // The steps expired: an old group's own status is all there is.
/// assert_eq!((s.status, s.records_expired), (Some(FlowStatus::Completed), true));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FlowSummary {
    /// The trace id.
    pub trace_id: String,
    /// The flow name (the group's `name`, else the first step's).
    pub flow: Option<String>,
    /// Derived from the steps, else an old group's stored status.
    pub status: Option<FlowStatus>,
    /// Epoch milliseconds: the group's, else the first step's.
    pub start_time: Option<i64>,
    /// Step documents.
    pub steps: usize,
    /// The group lists the flow but its own hash is gone (it expires on its own).
    pub records_expired: bool,
    /// Records that could not be used.
    pub unreadable: Vec<Unreadable>,
}

impl FlowSummary {
    /// Joins a group record (if any) with the flow's step records.
    ///
    /// ```
    /// # use motia_state::adapter::traces::{FlowSummary, TraceRecords};
    /// let s = FlowSummary::new("T", None, TraceRecords::empty("T"));
    /// assert_eq!((s.flow, s.status, s.records_expired), (None, None, false));
    /// ```
    pub fn new(trace_id: &str, group: Option<TraceGroup>, records: TraceRecords) -> Self {
        let status = records
            .status()
            .or_else(|| group.as_ref().and_then(|g| g.status));
        let flow = group
            .as_ref()
            .map(|g| g.name.clone())
            .or_else(|| records.steps.first().map(|s| s.name.clone()));
        let start_time = group
            .as_ref()
            .and_then(|g| g.start_time)
            .or_else(|| records.start_time());
        FlowSummary {
            trace_id: trace_id.into(),
            flow,
            status,
            start_time,
            steps: records.step_count(),
            records_expired: group.is_some() && !records.exists(),
            unreadable: records.unreadable,
        }
    }
}

/// An event Motia's queue gave up on, from `motia:events:{topic}.{Step}.dlq:*`.
///
/// ```
/// use motia_state::adapter::traces::DeadLetter;
/// let d = DeadLetter::parse("motia:events:payment.requested.ProcessPayment.dlq:dlq-1",
///     br#"{"originalEvent":{"topic":"payment.requested","data":{},"traceId":"T","flows":[]},
///         "failureReason":"Card declined","failureTimestamp":9,"attemptsMade":4,"originalJobId":"7"}"#).unwrap();
/// assert_eq!((d.step.as_str(), d.topic.as_str(), d.attempts), ("ProcessPayment", "payment.requested", Some(4)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The Redis key.
    pub key: String,
    /// The flow's trace id.
    pub trace_id: String,
    /// The event's topic.
    pub topic: String,
    /// The step that failed on it.
    pub step: String,
    /// The last failure.
    pub reason: String,
    /// Epoch milliseconds.
    pub timestamp: Option<i64>,
    /// How many times the step ran.
    pub attempts: Option<u64>,
}

/// Where Motia's queue keeps dead letters.
const DLQ_PATTERN: &str = "motia:events:*.dlq:*";

impl DeadLetter {
    /// Parses the `data` field of a dead-letter hash; `None` when it is not one.
    ///
    /// ```
    /// # use motia_state::adapter::traces::DeadLetter;
    /// assert!(DeadLetter::parse("motia:events:a.B.dlq:dlq-1", b"{}").is_none());
    /// ```
    pub fn parse(key: &str, data: &[u8]) -> Option<Self> {
        let v: Value = serde_json::from_slice(data).ok()?;
        let original = v.get("originalEvent")?;
        let trace_id = original.get("traceId")?.as_str()?.to_string();
        let queue = key.strip_prefix("motia:events:")?;
        let queue = &queue[..queue.rfind(".dlq:")?];
        let (topic_from_key, step) = queue.rsplit_once('.').unwrap_or(("", queue));
        let topic = original
            .get("topic")
            .and_then(Value::as_str)
            .unwrap_or(topic_from_key)
            .to_string();
        Some(DeadLetter {
            key: key.into(),
            trace_id,
            topic,
            step: step.into(),
            reason: v
                .get("failureReason")
                .and_then(Value::as_str)
                .unwrap_or("")
                .into(),
            timestamp: v.get("failureTimestamp").and_then(Value::as_i64),
            attempts: v.get("attemptsMade").and_then(Value::as_u64),
        })
    }
}

/// What to read of one flow's hash.
enum Plan {
    WrongType(String),
    Read {
        whole: Vec<Vec<u8>>,
        ends: Vec<(Vec<u8>, u64)>,
        not_read: usize,
    },
}

impl RedisStateAdapter {
    /// The group hash's key, `{trace_prefix}default`.
    ///
    /// ```no_run
    /// # fn demo(state: motia_state::RedisStateAdapter) {
    /// assert_eq!(state.trace_groups_key(), "motia:trace:default");
    /// # }
    /// ```
    pub fn trace_groups_key(&self) -> String {
        format!("{}default", self.config().trace_prefix)
    }

    /// The hash of one flow's step documents, `{trace_prefix}{traceId}`.
    ///
    /// ```no_run
    /// # fn demo(state: motia_state::RedisStateAdapter) {
    /// assert_eq!(state.trace_records_key("QH7KD-2104821"), "motia:trace:QH7KD-2104821");
    /// # }
    /// ```
    pub fn trace_records_key(&self, trace_id: &str) -> String {
        format!("{}{trace_id}", self.config().trace_prefix)
    }

    /// [`Self::trace_records_key`] of a trace id given as bytes (any bytes).
    ///
    /// ```no_run
    /// # fn demo(state: motia_state::RedisStateAdapter) {
    /// assert_eq!(state.trace_records_key_bytes(b"k\xffx"), b"motia:trace:k\xffx");
    /// # }
    /// ```
    pub fn trace_records_key_bytes(&self, trace_id: &[u8]) -> Vec<u8> {
        let mut key = self.config().trace_prefix.as_bytes().to_vec();
        key.extend_from_slice(trace_id);
        key
    }

    /// Streams the group hash with `HSCAN`.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let groups = state.scan_trace_groups().collect_all().await?;
    /// println!("{} flows recorded", groups.len());
    /// # Ok(()) }
    /// ```
    pub fn scan_trace_groups(&self) -> GroupScanner {
        GroupScanner {
            conn: self.conn.clone(),
            key: self.trace_groups_key(),
            count: self.config().scan_count,
            cursor: 0,
            done: false,
            seen: HashSet::new(),
        }
    }

    /// One flow's group record, if the group hash lists it.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// if let Some(Ok(group)) = state.trace_group("QH7KD-2104821").await? {
    ///     println!("flow {}", group.name);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn trace_group(
        &self,
        trace_id: &str,
    ) -> Result<Option<std::result::Result<TraceGroup, Unreadable>>> {
        self.trace_group_bytes(trace_id.as_bytes()).await
    }

    /// [`Self::trace_group`] of a trace id given as bytes.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let listed = state.trace_group_bytes(b"k\xffx").await?.is_some();
    /// # Ok(()) }
    /// ```
    pub async fn trace_group_bytes(
        &self,
        trace_id: &[u8],
    ) -> Result<Option<std::result::Result<TraceGroup, Unreadable>>> {
        let key = self.trace_groups_key();
        let id = shown(trace_id);
        let raw: Option<Vec<u8>> = Box::pin(self.conn.query(
            redis::cmd("HGET").arg(&key).arg(trace_id),
            Retry::Safe,
            &format!("HGET {key} {}", crate::adapter::escape::name(trace_id)),
        ))
        .await?;
        Ok(raw.map(|b| TraceGroup::parse(&id, &b).map_err(|r| Unreadable::new(&key, &id, r))))
    }

    /// Reads one flow's step documents within `limits` (two round trips; documents over the
    /// budget are read by their ends).
    ///
    /// ```no_run
    /// use motia_state::adapter::traces::TraceLimits;
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let records = state.read_trace("QH7KD-2104821", TraceLimits::default()).await?;
    /// for step in &records.steps {
    ///     println!("{} {} {} events", step.name, step.status, step.events.len());
    /// }
    /// for bad in &records.unreadable {
    ///     eprintln!("{bad}");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn read_trace(&self, trace_id: &str, limits: TraceLimits) -> Result<TraceRecords> {
        self.read_trace_bytes(trace_id.as_bytes(), limits).await
    }

    /// [`Self::read_trace`] of a trace id given as bytes (any bytes); the records'
    /// `trace_id` is it as [`crate::escape::shown`] gives it.
    ///
    /// ```no_run
    /// use motia_state::adapter::traces::TraceLimits;
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let records = state.read_trace_bytes(b"k\xffx", TraceLimits::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn read_trace_bytes(
        &self,
        trace_id: &[u8],
        limits: TraceLimits,
    ) -> Result<TraceRecords> {
        let mut all = self.read_traces_bytes(&[trace_id.to_vec()], limits).await?;
        Ok(all
            .pop()
            .unwrap_or_else(|| TraceRecords::empty(&shown(trace_id))))
    }

    /// Reads several flows' step documents, each within `limits`, pipelined (two round trips
    /// per batch of flows). The result has one entry per id, in order.
    ///
    /// ```no_run
    /// use motia_state::adapter::traces::TraceLimits;
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let ids = vec!["QH7KD-2104821".to_string(), "W6SPF-3235264".to_string()];
    /// for r in state.read_traces(&ids, TraceLimits::default()).await? {
    ///     println!("{}: {:?}", r.trace_id, r.status());
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn read_traces(
        &self,
        trace_ids: &[String],
        limits: TraceLimits,
    ) -> Result<Vec<TraceRecords>> {
        let ids: Vec<Vec<u8>> = trace_ids.iter().map(|t| t.as_bytes().to_vec()).collect();
        self.read_traces_bytes(&ids, limits).await
    }

    /// [`Self::read_traces`] of trace ids given as bytes (any bytes): the exact hash
    /// `{trace_prefix}{bytes}` of each is read.
    ///
    /// ```no_run
    /// use motia_state::adapter::traces::TraceLimits;
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let groups = state.scan_trace_groups().collect_all().await?;
    /// let ids: Vec<Vec<u8>> = groups.into_iter().map(|g| g.trace_id_bytes).collect();
    /// let records = state.read_traces_bytes(&ids, TraceLimits::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn read_traces_bytes(
        &self,
        trace_ids: &[Vec<u8>],
        limits: TraceLimits,
    ) -> Result<Vec<TraceRecords>> {
        let mut out = Vec::with_capacity(trace_ids.len());
        // A batch moves at most 100 budgets; most flows are a few KB.
        for chunk in trace_ids.chunks(100) {
            out.extend(self.read_trace_batch(chunk, limits).await?);
        }
        Ok(out)
    }

    async fn read_trace_batch(
        &self,
        trace_ids: &[Vec<u8>],
        limits: TraceLimits,
    ) -> Result<Vec<TraceRecords>> {
        let lengths_script = redis::Script::new(FIELD_LENGTHS);
        let ends_script = redis::Script::new(FIELD_ENDS);
        let keys: Vec<Vec<u8>> = trace_ids
            .iter()
            .map(|id| self.trace_records_key_bytes(id))
            .collect();
        let mut pipe = redis::pipe();
        // Loaded ahead in the same pipeline, so EVALSHA finds them even after a restart.
        for s in [FIELD_LENGTHS, FIELD_ENDS] {
            pipe.cmd("SCRIPT").arg("LOAD").arg(s).ignore();
        }
        for k in &keys {
            pipe.cmd("EVALSHA")
                .arg(lengths_script.get_hash())
                .arg(1)
                .arg(k);
        }
        let scripted: Result<Vec<Vec<redis::Value>>> = Box::pin(self.conn.query_pipe(
            &pipe,
            Retry::Safe,
            "reading trace record sizes",
        ))
        .await;
        // A user without the right to run scripts still reads the records, in plain commands;
        // only documents over the budget are left out (no partial read of a hash field).
        let (lengths, scripts) = match scripted {
            Ok(l) => (l, true),
            Err(e) if e.is_permission() => {
                (Box::pin(self.field_lengths_plain(&keys)).await?, false)
            }
            Err(e) => return Err(e),
        };

        // Plan per flow: whole documents smallest first within the budget, the others by ends.
        let mut plans = Vec::with_capacity(keys.len());
        let mut pipe = redis::pipe();
        for (key, flat) in keys.iter().zip(&lengths) {
            if let [t] = flat.as_slice() {
                let t = match t {
                    redis::Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
                    redis::Value::SimpleString(s) => s.clone(),
                    other => format!("{other:?}"),
                };
                plans.push(Plan::WrongType(t));
                continue;
            }
            let mut fields: Vec<(Vec<u8>, u64)> = flat
                .chunks_exact(2)
                .filter_map(|p| {
                    let name = match &p[0] {
                        redis::Value::BulkString(b) => b.clone(),
                        _ => return None,
                    };
                    let len = match &p[1] {
                        redis::Value::Int(n) => *n as u64,
                        _ => 0,
                    };
                    Some((name, len))
                })
                .collect();
            fields.sort_by_key(|(_, len)| *len);
            let not_read = fields.len().saturating_sub(limits.steps);
            fields.truncate(limits.steps);
            let mut not_read = not_read;
            let mut used = 0usize;
            let mut whole = Vec::new();
            let mut ends = Vec::new();
            for (name, len) in fields {
                if used + len as usize <= limits.bytes {
                    used += len as usize;
                    whole.push(name);
                } else if scripts {
                    ends.push((name, len));
                } else {
                    not_read += 1;
                }
            }
            if !whole.is_empty() {
                pipe.cmd("HMGET").arg(key).arg(&whole);
            }
            for (name, _) in &ends {
                pipe.cmd("EVALSHA")
                    .arg(ends_script.get_hash())
                    .arg(1)
                    .arg(key)
                    .arg(name)
                    .arg(END_BYTES);
            }
            plans.push(Plan::Read {
                whole,
                ends,
                not_read,
            });
        }
        let mut replies: std::vec::IntoIter<redis::Value> = if pipe.is_empty() {
            Vec::new().into_iter()
        } else {
            Box::pin(self.conn.query_pipe::<Vec<redis::Value>>(
                &pipe,
                Retry::Safe,
                "reading trace records",
            ))
            .await?
            .into_iter()
        };

        let mut out = Vec::with_capacity(keys.len());
        for ((trace_id, key), plan) in trace_ids.iter().zip(&keys).zip(plans) {
            let mut rec = TraceRecords::empty(&shown(trace_id));
            let key = &shown(key);
            let (whole, ends) = match plan {
                Plan::WrongType(t) => {
                    rec.unreadable.push(Unreadable::new(
                        key,
                        "",
                        format!("a Redis {t}, not a hash of step records"),
                    ));
                    out.push(rec);
                    continue;
                }
                Plan::Read {
                    whole,
                    ends,
                    not_read,
                } => {
                    rec.not_read = not_read;
                    (whole, ends)
                }
            };
            let mut add = |field: &str, parsed: std::result::Result<Trace, String>| match parsed {
                Ok(t) => rec.steps.push(t),
                Err(reason) => rec.unreadable.push(Unreadable::new(key, field, reason)),
            };
            if !whole.is_empty() {
                let values = match replies.next() {
                    Some(redis::Value::Array(v)) => v,
                    _ => Vec::new(),
                };
                for (i, field) in whole.iter().enumerate() {
                    // A field deleted between the two round trips is simply gone.
                    if let Some(redis::Value::BulkString(b)) = values.get(i) {
                        let field = shown(field);
                        add(&field, Trace::parse(&field, b));
                    }
                }
            }
            for (field, len) in &ends {
                if let Some(redis::Value::Array(parts)) = replies.next()
                    && let [
                        redis::Value::BulkString(head),
                        redis::Value::BulkString(tail),
                    ] = parts.as_slice()
                {
                    let field = shown(field);
                    add(&field, Trace::parse_ends(&field, head, tail, *len));
                }
            }
            rec.steps
                .sort_by(|a, b| (a.start_time, &a.id).cmp(&(b.start_time, &b.id)));
            out.push(rec);
        }
        Ok(out)
    }

    /// `FIELD_LENGTHS` of each key without a script: `[type]` for a key that is not a hash,
    /// else field names and lengths (two round trips).
    async fn field_lengths_plain(&self, keys: &[Vec<u8>]) -> Result<Vec<Vec<redis::Value>>> {
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        for k in keys {
            pipe.cmd("TYPE").arg(k);
            pipe.cmd("HKEYS").arg(k);
        }
        let replies: Vec<redis::Value> = Box::pin(self.conn.query_pipe(
            &pipe,
            Retry::Safe,
            "reading trace record fields",
        ))
        .await?;
        let mut out = Vec::with_capacity(keys.len());
        let mut lengths = redis::pipe();
        for (k, pair) in keys.iter().zip(replies.chunks(2)) {
            let t = match pair.first() {
                Some(redis::Value::SimpleString(t)) => t.clone(),
                Some(redis::Value::BulkString(b)) => String::from_utf8_lossy(b).into_owned(),
                // Refused or unknown: read as no records.
                _ => "none".to_string(),
            };
            // Field names as HKEYS gives them (bulk strings), each with its HSTRLEN below.
            let fields: Vec<redis::Value> = match pair.get(1) {
                Some(redis::Value::Array(f)) if t == "hash" => f
                    .iter()
                    .filter(|f| matches!(f, redis::Value::BulkString(_)))
                    .cloned()
                    .collect(),
                _ => Vec::new(),
            };
            if t != "hash" && t != "none" {
                out.push(vec![redis::Value::SimpleString(t)]);
                continue;
            }
            for f in &fields {
                if let redis::Value::BulkString(name) = f {
                    lengths.cmd("HSTRLEN").arg(k).arg(name.as_slice());
                }
            }
            out.push(fields);
        }
        if lengths.is_empty() {
            return Ok(out);
        }
        let lens: Vec<redis::Value> = Box::pin(self.conn.query_pipe(
            &lengths,
            Retry::Safe,
            "reading trace record sizes",
        ))
        .await?;
        let mut lens = lens.into_iter();
        for fields in &mut out {
            if let [redis::Value::SimpleString(_)] = fields.as_slice() {
                continue;
            }
            *fields = std::mem::take(fields)
                .into_iter()
                .flat_map(|f| [f, lens.next().unwrap_or(redis::Value::Int(0))])
                .collect();
        }
        Ok(out)
    }

    /// Joins group records with their flows' steps, for a listing.
    ///
    /// ```no_run
    /// use motia_state::adapter::traces::TraceLimits;
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let groups = state.scan_trace_groups().collect_all().await?;
    /// let summaries = state.flow_summaries(groups, TraceLimits::default()).await?;
    /// for s in summaries {
    ///     println!("{} {:?} {:?}", s.trace_id, s.flow, s.status);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn flow_summaries(
        &self,
        groups: Vec<GroupEntry>,
        limits: TraceLimits,
    ) -> Result<Vec<FlowSummary>> {
        let ids: Vec<Vec<u8>> = groups.iter().map(|g| g.trace_id_bytes.clone()).collect();
        let records = self.read_traces_bytes(&ids, limits).await?;
        Ok(groups
            .into_iter()
            .zip(records)
            .map(|(entry, rec)| {
                let (group, bad) = match entry.group {
                    Ok(g) => (Some(g), None),
                    Err(u) => (None, Some(u)),
                };
                let mut s = FlowSummary::new(&entry.trace_id, group, rec);
                if let Some(u) = bad {
                    s.records_expired = false;
                    s.unreadable.insert(0, u);
                }
                s
            })
            .collect())
    }

    /// Dead letters of every flow (one walk of the keyspace for `motia:events:*.dlq:*`).
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// for d in state.dead_letters().await? {
    ///     println!("{} gave up on {} after {:?} attempts", d.step, d.topic, d.attempts);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn dead_letters(&self) -> Result<Vec<DeadLetter>> {
        // Every primary of a cluster, de-duplicated.
        let keys = Box::pin(
            crate::adapter::scan::KeyScanner::new(
                self.conn.clone(),
                DLQ_PATTERN.as_bytes().to_vec(),
                self.config().scan_count,
            )
            .of_type("hash")
            .collect_all(),
        )
        .await?;
        let mut out = Vec::new();
        for chunk in keys.chunks(self.config().batch_size) {
            let mut pipe = redis::pipe();
            for k in chunk {
                pipe.cmd("HGET").arg(k).arg("data");
            }
            let values: Vec<Option<Vec<u8>>> = Box::pin(self.conn.query_pipe(
                &pipe,
                Retry::Safe,
                "reading dead letters",
            ))
            .await?;
            for (k, v) in chunk.iter().zip(values) {
                if let Some(d) = v.and_then(|b| DeadLetter::parse(k, &b)) {
                    out.push(d);
                }
            }
        }
        Ok(out)
    }
}
