//! Views built from a flow's records: the step timeline and a key's history.

use serde_json::Value;

use crate::adapter::traces::dead_letter::DeadLetter;
use crate::adapter::traces::read::TraceRecords;
use crate::adapter::traces::record::{EventKind, FlowStatus, Trace};

/// One row of a timeline: a step, with every attempt the queue made at it.
///
/// ```
/// use motia_state::adapter::traces::{Timeline, Trace, TraceRecords};
/// let step = |id: &str, start: i64, status: &str| Trace::parse(id, format!(
///     r#"{{"name":"Pay","status":"{status}","startTime":{start},"endTime":{}}}"#, start + 5).as_bytes()).unwrap();
/// let records = TraceRecords { trace_id: "T".into(),
///     steps: vec![step("a", 0, "failed"), step("b", 2000, "failed")], ..Default::default() };
/// let t = Timeline::new(&records, &[]);
/// assert_eq!(t.rows.len(), 1);
/// assert_eq!(t.rows[0].attempts_text().as_deref(), Some("2 attempts, all failed"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineRow {
    /// The step's name.
    pub name: String,
    /// Indices into [`TraceRecords::steps`], oldest attempt first.
    pub attempts: Vec<usize>,
    /// The last attempt's status.
    pub status: FlowStatus,
    /// The entry type of the first attempt.
    pub entry_type: Option<String>,
    /// Milliseconds from the flow's first step to this row's first attempt.
    pub offset_ms: i64,
    /// From the first attempt's start to the last attempt's end; `None` while running.
    pub duration_ms: Option<i64>,
    /// The first line of the last failed attempt's error.
    pub error_line: Option<String>,
    /// The queue gave up on the event after the last attempt.
    pub dead_letter: Option<DeadLetter>,
}

impl TimelineRow {
    /// "4 attempts, all failed" / "2 attempts, last completed"; `None` for a single attempt.
    ///
    /// ```
    /// # use motia_state::adapter::traces::{FlowStatus, TimelineRow};
    /// let row = TimelineRow { name: "A".into(), attempts: vec![0], status: FlowStatus::Completed,
    ///     entry_type: None, offset_ms: 0, duration_ms: None, error_line: None, dead_letter: None };
    /// assert_eq!(row.attempts_text(), None);
    /// ```
    pub fn attempts_text(&self) -> Option<String> {
        (self.attempts.len() > 1).then(|| {
            let n = self.attempts.len();
            // Attempts join a row only after a failure, so a failed last one means all failed.
            if self.status == FlowStatus::Failed {
                format!("{n} attempts, all failed")
            } else {
                format!("{n} attempts, last {}", self.status)
            }
        })
    }
}

/// A flow's steps in start order, retried attempts of a step folded into one row.
///
/// ```
/// use motia_state::adapter::traces::{Timeline, TraceRecords};
/// let t = Timeline::new(&TraceRecords::empty("T"), &[]);
/// assert!(t.rows.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Timeline {
    /// Epoch milliseconds of the first step.
    pub start_time: Option<i64>,
    /// The rows, in start order.
    pub rows: Vec<TimelineRow>,
}

impl Timeline {
    /// Builds the timeline of `records` (steps already in start order). An attempt joins the
    /// row of the same step when that row's last attempt failed: that is a queue retry; the
    /// same step running again after a success is a new row. `dead_letters` may hold every
    /// flow's; those of this trace are matched to its last failed row of that step.
    ///
    /// ```
    /// use motia_state::adapter::traces::{Timeline, TraceRecords};
    /// let t = Timeline::new(&TraceRecords::empty("T"), &[]);
    /// assert_eq!(t.start_time, None);
    /// ```
    pub fn new(records: &TraceRecords, dead_letters: &[DeadLetter]) -> Self {
        let start_time = records.start_time();
        let base = start_time.unwrap_or(0);
        let mut rows: Vec<TimelineRow> = Vec::new();
        for (i, step) in records.steps.iter().enumerate() {
            let retry_of = rows
                .iter()
                .rposition(|r| r.name == step.name && r.status == FlowStatus::Failed);
            let later = rows.iter().rposition(|r| r.name == step.name);
            match retry_of {
                Some(r) if Some(r) == later => {
                    let row = &mut rows[r];
                    row.attempts.push(i);
                    row.status = step.status;
                    if let Some(e) = &step.error {
                        row.error_line = Some(e.first_line().to_string());
                    }
                    let first = &records.steps[row.attempts[0]];
                    row.duration_ms = step.end_time.map(|e| (e - first.start_time).max(0));
                }
                _ => rows.push(row_of(i, step, base)),
            }
        }
        for d in dead_letters
            .iter()
            .filter(|d| d.trace_id == records.trace_id)
        {
            if let Some(row) = rows
                .iter_mut()
                .rev()
                .find(|r| r.name == d.step && r.status == FlowStatus::Failed)
            {
                row.dead_letter = Some(d.clone());
            }
        }
        Timeline { start_time, rows }
    }
}

fn row_of(i: usize, step: &Trace, base: i64) -> TimelineRow {
    TimelineRow {
        name: step.name.clone(),
        attempts: vec![i],
        status: step.status,
        entry_type: step.entry_type().map(str::to_string),
        offset_ms: step.start_time - base,
        duration_ms: step.duration_ms(),
        error_line: step.error.as_ref().map(|e| e.first_line().to_string()),
        dead_letter: None,
    }
}

/// One thing the records say happened to a key.
///
/// ```
/// use motia_state::adapter::traces::HistoryEntry;
/// # fn show(e: &HistoryEntry) {
/// println!("{} {} {} {:?}", e.timestamp, e.step, e.operation, e.value);
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    /// Epoch milliseconds.
    pub timestamp: i64,
    /// The step that did it.
    pub step: String,
    /// Index of that step execution in [`TraceRecords::steps`].
    pub step_index: usize,
    /// Index of the event in the step's events.
    pub event_index: usize,
    /// `set`, `delete`, `clear`, and with reads `get`, `getGroup`.
    pub operation: String,
    /// The whole value written, for `set`.
    pub value: Option<Value>,
}

impl HistoryEntry {
    /// True for operations that change the key.
    ///
    /// ```
    /// # use motia_state::adapter::traces::HistoryEntry;
    /// let e = HistoryEntry { timestamp: 1, step: "A".into(), step_index: 0, event_index: 0,
    ///     operation: "get".into(), value: None };
    /// assert!(!e.is_write());
    /// ```
    pub fn is_write(&self) -> bool {
        matches!(self.operation.as_str(), "set" | "delete" | "clear")
    }
}

/// What a flow's records say happened to `group`/`key`, oldest first: sets (with the value),
/// deletes and clears of the group, and with `reads` also gets and getGroups.
///
/// ```
/// use motia_state::adapter::traces::{Trace, TraceRecords, key_history};
/// let step = Trace::parse("u", br#"{"name":"Create","status":"completed","startTime":1,"events":[
///   {"type":"state","timestamp":2,"operation":"set","data":{"traceId":"T","key":"order","value":{"n":1}}},
///   {"type":"state","timestamp":3,"operation":"get","data":{"traceId":"T","key":"order"}},
///   {"type":"state","timestamp":4,"operation":"delete","data":{"traceId":"T","key":"order"}}]}"#).unwrap();
/// let records = TraceRecords { trace_id: "T".into(), steps: vec![step], ..Default::default() };
/// let h = key_history(&records, "T", "order", false);
/// assert_eq!(h.iter().map(|e| e.operation.as_str()).collect::<Vec<_>>(), ["set", "delete"]);
/// assert_eq!(h[0].value.as_ref().unwrap()["n"], 1);
/// assert_eq!(key_history(&records, "T", "order", true).len(), 3);
/// ```
pub fn key_history(
    records: &TraceRecords,
    group: &str,
    key: &str,
    reads: bool,
) -> Vec<HistoryEntry> {
    let mut out = Vec::new();
    for (si, step) in records.steps.iter().enumerate() {
        for (ei, ev) in step.events.iter().enumerate() {
            let EventKind::State {
                operation,
                group: g,
                key: k,
            } = &ev.kind
            else {
                continue;
            };
            if g.as_deref() != Some(group) {
                continue;
            }
            let touches = match operation.as_str() {
                "set" | "delete" => k.as_deref() == Some(key),
                "get" => reads && k.as_deref() == Some(key),
                "clear" => k.is_none(),
                "getGroup" => reads && k.is_none(),
                _ => false,
            };
            if touches {
                out.push(HistoryEntry {
                    timestamp: ev.timestamp.unwrap_or(step.start_time),
                    step: step.name.clone(),
                    step_index: si,
                    event_index: ei,
                    operation: operation.clone(),
                    value: ev.state_value().cloned(),
                });
            }
        }
    }
    // Stable: events of one step keep their recorded order at equal times.
    out.sort_by_key(|e| e.timestamp);
    out
}
