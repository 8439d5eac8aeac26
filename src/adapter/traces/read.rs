//! Reading trace records: the group hash streamed with HSCAN, a flow's step documents with a
//! byte budget, and the dead-letter queue.

use std::collections::HashSet;

use futures::stream::{StreamExt, TryStreamExt};

use crate::adapter::RedisStateAdapter;
use crate::adapter::conn::Retry;
use crate::adapter::error::Result;
use crate::adapter::escape::shown;
use crate::adapter::traces::dead_letter::DLQ_PATTERN;
use crate::adapter::traces::record::{FlowStatus, Trace, TraceGroup, Unreadable};
use crate::adapter::traces::status::MissingRecords;
use crate::adapter::traces::{DeadLetter, GroupEntry, GroupScanner};

/// Batches of flows [`RedisStateAdapter::read_traces`] has in flight at once.
const READS_IN_FLIGHT: usize = 4;

/// How much of one trace's records a read may move.
///
/// Every record's header (status, times, error, entry; not its events) is read, so a flow's
/// status always comes from all of its records; whole documents, with their events, are read
/// for the first records in start order only.
///
/// ```
/// use motia_state::adapter::traces::TraceLimits;
/// let small = TraceLimits { bytes: 256 * 1024, ..TraceLimits::default() };
/// assert!(small.bytes < TraceLimits::default().bytes);
/// // A listing of statuses: each record's start, no events, no end time or error.
/// let listing = TraceLimits { bytes: 0, steps: 0, after_events: false, ..TraceLimits::default() };
/// assert!(!listing.after_events);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceLimits {
    /// Whole step documents (with their events) are read in start order while their sizes
    /// add up to at most this; the others keep their header only ([`Trace::omitted_bytes`]).
    pub bytes: usize,
    /// At most this many step documents are read whole, the first in start order; 0 reads
    /// headers only.
    pub steps: usize,
    /// The headers of one flow's records may move at most this many bytes (a small document
    /// counts whole, a large one its first 1 KiB and last 4 KiB); beyond, the records are
    /// counted in [`TraceRecords::not_read`] and the status is [`FlowStatus::Unknown`].
    pub header_bytes: usize,
    /// A header includes what Motia writes after the events when a step ends (`endTime`,
    /// `error`): a small document is read whole, a large one by both ends. `false` reads each
    /// record's start only, up to its `"events"` key (id, name, status, start time, entry
    /// point: all that a flow's status, failed attempts and start need), a few hundred bytes
    /// whatever the events hold; `end_time` and `error` are then set only where written before
    /// the events. A record whose start holds no header (the events first, a header over
    /// 5 KiB, bytes that are not UTF-8) is read whole, within `header_bytes`.
    pub after_events: bool,
}

impl Default for TraceLimits {
    fn default() -> Self {
        Self {
            bytes: 8 * 1024 * 1024,
            steps: 2_000,
            header_bytes: 32 * 1024 * 1024,
            after_events: true,
        }
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
    /// Step documents whose headers were not read either (over
    /// [`TraceLimits::header_bytes`]).
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

    /// The flow's status from each step's final attempt (see
    /// [`FlowStatus::of_final_attempts`]); [`FlowStatus::Unknown`] when any record could not
    /// be read, since the missing one may be any step's last attempt.
    ///
    /// ```
    /// # use motia_state::adapter::traces::{FlowStatus, TraceRecords};
    /// assert_eq!(TraceRecords::empty("T").status(), None);
    /// let partial = TraceRecords { not_read: 1, ..TraceRecords::empty("T") };
    /// assert_eq!(partial.status(), Some(FlowStatus::Unknown));
    /// ```
    pub fn status(&self) -> Option<FlowStatus> {
        if self.not_read > 0 || !self.unreadable.is_empty() {
            return Some(FlowStatus::Unknown);
        }
        FlowStatus::of_final_attempts(&self.steps)
    }

    /// Step executions that failed, retried or not; `None` when not every record was read.
    ///
    /// ```
    /// # use motia_state::adapter::traces::TraceRecords;
    /// assert_eq!(TraceRecords::empty("T").failed_attempts(), Some(0));
    /// ```
    pub fn failed_attempts(&self) -> Option<usize> {
        (self.not_read == 0 && self.unreadable.is_empty()).then(|| {
            self.steps
                .iter()
                .filter(|s| s.status == FlowStatus::Failed)
                .count()
        })
    }

    /// Failed step executions that a later execution of the same step followed: the queue's
    /// retries.
    ///
    /// ```
    /// use motia_state::adapter::traces::{Trace, TraceRecords};
    /// let step = |id: &str, start: i64, status: &str| Trace::parse(id, format!(
    ///     r#"{{"name":"Pay","status":"{status}","startTime":{start}}}"#).as_bytes()).unwrap();
    /// let r = TraceRecords { steps: vec![step("a", 1, "failed"), step("b", 9, "completed")],
    ///     ..TraceRecords::empty("T") };
    /// assert_eq!((r.retries(), r.failed_attempts()), (1, Some(1)));
    /// ```
    pub fn retries(&self) -> usize {
        let mut later = HashSet::new();
        let mut n = 0;
        for s in self.steps.iter().rev() {
            if s.status == FlowStatus::Failed && later.contains(s.name.as_str()) {
                n += 1;
            }
            later.insert(s.name.as_str());
        }
        n
    }

    /// Step records kept by their header only (their events were not read), the last ones in
    /// start order.
    ///
    /// ```
    /// # use motia_state::adapter::traces::TraceRecords;
    /// assert_eq!(TraceRecords::empty("T").events_not_read(), 0);
    /// ```
    pub fn events_not_read(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| s.omitted_bytes.is_some())
            .count()
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
    /// The group lists the flow but its own hash does not exist: expired, or not written yet
    /// ([`FlowSummary::missing_records`] tells which).
    pub records_expired: bool,
    /// Records that could not be used.
    pub unreadable: Vec<Unreadable>,
    /// Step executions that failed, retries included; `None` without every record read.
    pub failed_attempts: Option<usize>,
    /// Failed step executions the queue retried ([`TraceRecords::retries`]).
    pub retries: usize,
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
            failed_attempts: records
                .exists()
                .then(|| records.failed_attempts())
                .flatten(),
            retries: records.retries(),
            unreadable: records.unreadable,
        }
    }

    /// Why the group lists the flow without step records (`None` when they exist), with the
    /// time now in epoch milliseconds.
    ///
    /// ```
    /// use motia_state::adapter::traces::{FlowSummary, MissingRecords, TraceGroup, TraceRecords};
    /// let group = TraceGroup::parse("T", br#"{"name":"New","startTime":1000}"#).ok();
    /// let s = FlowSummary::new("T", group, TraceRecords::empty("T"));
    /// assert_eq!(s.missing_records(2000), Some(MissingRecords::NotYet));
    /// ```
    pub fn missing_records(&self, now_ms: i64) -> Option<MissingRecords> {
        self.records_expired
            .then(|| MissingRecords::of(self.start_time, now_ms))
    }
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

    /// The hash of one flow's step documents, `{trace_prefix}{traceId}`; the id as `&str` or
    /// exact bytes.
    ///
    /// ```no_run
    /// # fn demo(state: motia_state::RedisStateAdapter) {
    /// assert_eq!(state.trace_records_key("QH7KD-2104821"), b"motia:trace:QH7KD-2104821");
    /// assert_eq!(state.trace_records_key(b"k\xffx"), b"motia:trace:k\xffx");
    /// # }
    /// ```
    pub fn trace_records_key(&self, trace_id: impl AsRef<[u8]>) -> Vec<u8> {
        let mut key = self.config().trace_prefix.as_bytes().to_vec();
        key.extend_from_slice(trace_id.as_ref());
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

    /// One flow's group record, if the group hash lists it (the trace id as `&str` or any bytes).
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
        trace_id: impl AsRef<[u8]>,
    ) -> Result<Option<std::result::Result<TraceGroup, Unreadable>>> {
        let trace_id = trace_id.as_ref();
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
    pub async fn read_trace(
        &self,
        trace_id: impl AsRef<[u8]>,
        limits: TraceLimits,
    ) -> Result<TraceRecords> {
        let trace_id = trace_id.as_ref();
        let mut all = self.read_traces(&[trace_id], limits).await?;
        Ok(all
            .pop()
            .unwrap_or_else(|| TraceRecords::empty(&shown(trace_id))))
    }

    /// Reads several flows' step documents, each within `limits`, pipelined (two or three
    /// round trips per batch of flows). The result has one entry per id, in order.
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
        trace_ids: &[impl AsRef<[u8]>],
        limits: TraceLimits,
    ) -> Result<Vec<TraceRecords>> {
        // A batch moves at most 200 budgets; most flows are a few KB. A few batches are in
        // flight at once, each in a task of its own, so the server reads one while other
        // threads parse the others (parsing is most of a listing's time). (The tasks are
        // started in order by the stream; a closure there would keep callers' futures from
        // being `Send`, so the futures are made first.)
        let reads: Vec<_> = trace_ids
            .chunks(200)
            .map(|c| {
                let this = self.clone();
                let ids: Vec<Vec<u8>> = c.iter().map(|id| id.as_ref().to_vec()).collect();
                async move {
                    let task = tokio::spawn({
                        let (this, ids) = (this.clone(), ids.clone());
                        async move { this.read_trace_batch(&ids, limits).await }
                    });
                    match task.await {
                        Ok(batch) => batch,
                        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                        // Cancelled by the runtime shutting down: read it in this task.
                        Err(_) => this.read_trace_batch(&ids, limits).await,
                    }
                }
            })
            .collect();
        let batches: Vec<Vec<_>> = futures::stream::iter(reads)
            .buffered(READS_IN_FLIGHT)
            .try_collect()
            .await?;
        Ok(batches.into_iter().flatten().map(|f| f.records).collect())
    }

    /// Field names and lengths of each key without a script: `[type]` for a key that is not
    /// a hash, else field names and lengths (two round trips).
    pub(super) async fn field_lengths_plain(
        &self,
        keys: &[Vec<u8>],
    ) -> Result<Vec<Vec<redis::Value>>> {
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
        // A refusal is the user's rights, never missing records: name the refused command.
        if let Some(redis::Value::ServerError(e)) = replies
            .iter()
            .find(|v| matches!(v, redis::Value::ServerError(e) if e.code() == "NOPERM"))
        {
            let e = redis::RedisError::from(e.clone());
            let context = "reading trace records";
            return Err(crate::adapter::conn::map_err(
                self.conn.addr(),
                self.config(),
                e,
                context,
            ));
        }
        let mut out = Vec::with_capacity(keys.len());
        let mut lengths = redis::pipe();
        for (k, pair) in keys.iter().zip(replies.chunks(2)) {
            let t = match pair.first() {
                Some(redis::Value::SimpleString(t)) => t.clone(),
                Some(redis::Value::BulkString(b)) => String::from_utf8_lossy(b).into_owned(),
                // Unknown: read as no records.
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
        let records = self.read_traces(&ids, limits).await?;
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
                // A queue name that is not UTF-8 is no Motia queue.
                let Ok(k) = std::str::from_utf8(k) else {
                    continue;
                };
                if let Some(d) = v.and_then(|b| DeadLetter::parse(k, &b)) {
                    out.push(d);
                }
            }
        }
        Ok(out)
    }
}
