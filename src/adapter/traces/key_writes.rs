//! A key's history read lightly: what a flow's records say happened to one key, with each
//! value a `set` wrote kept as its JSON text. A document is parsed only as far as the events
//! of the key (a value stays the text it was stored as), one page of documents at a time, so a
//! value of megabytes never becomes a tree of parsed values (tens of times its size).

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::adapter::RedisStateAdapter;
use crate::adapter::error::Result;
use crate::adapter::traces::pages::Fielded;
use crate::adapter::traces::read::{TraceLimits, TraceRecords};

/// Whole documents read per round trip, at most (and one alone when larger).
const PAGE_BYTES: u64 = 1024 * 1024;

/// One thing a flow's records say happened to a key, its value as compact JSON text.
///
/// ```
/// use motia_state::adapter::traces::KeyTraceEvent;
/// # fn show(e: &KeyTraceEvent) {
/// println!("{} {} {} {:?}", e.timestamp, e.step, e.operation, e.value);
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct KeyTraceEvent {
    /// Epoch milliseconds.
    pub timestamp: i64,
    /// The step that did it.
    pub step: String,
    /// Index of that step execution in the records' steps.
    pub step_index: usize,
    /// `set`, `delete`, `clear`, and with reads `get`, `getGroup`.
    pub operation: String,
    /// The value a `set` wrote, as compact JSON (the stored text without its spacing).
    pub value: Option<String>,
}

/// A flow's records for one key: every step by its header (events not kept), and the key's
/// events, oldest first.
#[derive(Debug, Clone, Default)]
pub struct KeyHistory {
    /// Every step by its header ([`TraceRecords::exists`] says whether the flow has any).
    pub records: TraceRecords,
    /// The key's events, oldest first.
    pub events: Vec<KeyTraceEvent>,
}

#[derive(Deserialize)]
struct Doc<'a> {
    #[serde(borrow, default)]
    events: Option<Vec<&'a RawValue>>,
}

#[derive(Deserialize)]
struct Event<'a> {
    #[serde(rename = "type", default)]
    kind: Option<Value>,
    #[serde(default)]
    timestamp: Option<Value>,
    #[serde(default)]
    operation: Option<Value>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct Data<'a> {
    #[serde(default)]
    traceId: Option<Value>,
    #[serde(default)]
    groupId: Option<Value>,
    #[serde(default)]
    key: Option<Value>,
    #[serde(borrow, default)]
    value: Option<&'a RawValue>,
}

/// The events of `group`/`key` in one step document (as [`super::key_history`] selects them),
/// each `(event index, timestamp, operation, value)`. A document or event of another shape
/// has none.
fn events_of(
    doc: &[u8],
    group: &str,
    key: &str,
    reads: bool,
) -> Vec<(usize, Option<i64>, String, Option<String>)> {
    let Ok(Doc {
        events: Some(events),
    }) = serde_json::from_slice::<Doc>(doc)
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, raw) in events.into_iter().enumerate() {
        let Ok(ev) = serde_json::from_str::<Event>(raw.get()) else {
            continue;
        };
        let (Some(Value::String(kind)), Some(Value::String(operation))) = (ev.kind, ev.operation)
        else {
            continue;
        };
        let Some(data) = ev
            .data
            .and_then(|d| serde_json::from_str::<Data>(d.get()).ok())
        else {
            continue;
        };
        let text = |v: &Option<Value>| v.as_ref().and_then(Value::as_str).map(str::to_string);
        let g = text(&data.traceId).or_else(|| text(&data.groupId));
        let k = text(&data.key);
        if kind != "state" || g.as_deref() != Some(group) {
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
            let value = (operation == "set")
                .then(|| data.value.map(|v| compact(v.get())))
                .flatten();
            out.push((i, ev.timestamp.as_ref().and_then(ms), operation, value));
        }
    }
    out
}

/// A value's text without its spacing (serde has checked it is JSON).
fn compact(json: &str) -> String {
    crate::adapter::json::compact(json).unwrap_or_else(|_| json.to_string())
}

/// A JSON timestamp in ms, as the records' parser reads one.
fn ms(v: &Value) -> Option<i64> {
    let f = v.as_f64()?;
    if !(-8.64e15..=8.64e15).contains(&f) {
        return None;
    }
    v.as_i64().or(Some(f as i64))
}

impl RedisStateAdapter {
    /// What one flow's records say happened to `group`/`key`, oldest first: sets (with the
    /// value as compact JSON text), deletes and clears of the group, and with `reads` also
    /// gets and getGroups. The same entries as [`super::key_history`] of
    /// [`read_trace`](Self::read_trace) within `limits`, read a page of documents at a time
    /// without parsing the values written.
    ///
    /// ```no_run
    /// use motia_state::adapter::traces::TraceLimits;
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let h = state.read_key_history("QH7KD-2104821", "QH7KD-2104821", "order", false,
    ///     TraceLimits::default()).await?;
    /// for e in &h.events {
    ///     println!("{} {} {:?}", e.step, e.operation, e.value);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn read_key_history(
        &self,
        trace_id: impl AsRef<[u8]>,
        group: &str,
        key: &str,
        reads: bool,
        limits: TraceLimits,
    ) -> Result<KeyHistory> {
        let trace_id = trace_id.as_ref();
        let headers_only = TraceLimits { steps: 0, ..limits };
        let Some(Fielded { records, fields }) = self
            .read_trace_batch(&[trace_id], headers_only)
            .await?
            .pop()
        else {
            return Ok(KeyHistory::default());
        };
        let key_bytes = self.trace_records_key(trace_id);
        // The documents read_trace would read whole: the first in start order within limits.
        let mut wanted = Vec::new();
        let mut used = 0u64;
        for (i, step) in records.steps.iter().enumerate() {
            let len = step.omitted_bytes.unwrap_or(0);
            if i >= limits.steps || used + len > limits.bytes as u64 {
                break;
            }
            used += len;
            wanted.push(i);
        }
        let mut found = Vec::new();
        let mut next = 0;
        while next < wanted.len() {
            let (mut end, mut bytes) = (next, 0u64);
            while end < wanted.len() {
                let len = records.steps[wanted[end]].omitted_bytes.unwrap_or(0);
                if end > next && bytes + len > PAGE_BYTES {
                    break;
                }
                bytes += len;
                end += 1;
            }
            let page = &wanted[next..end];
            next = end;
            let names: Vec<String> = page.iter().map(|&i| fields[i].clone()).collect();
            let values = Box::pin(self.hmget_each(std::slice::from_ref(&key_bytes), &[names]))
                .await?
                .pop()
                .unwrap_or_default();
            for (&i, v) in page.iter().zip(values) {
                let redis::Value::BulkString(doc) = v else {
                    continue;
                };
                let step = &records.steps[i];
                for (_, at, operation, value) in events_of(&doc, group, key, reads) {
                    found.push(KeyTraceEvent {
                        timestamp: at.unwrap_or(step.start_time),
                        step: step.name.clone(),
                        step_index: i,
                        operation,
                        value,
                    });
                }
            }
        }
        // Stable: events of one step keep their recorded order at equal times.
        found.sort_by_key(|e| e.timestamp);
        Ok(KeyHistory {
            records,
            events: found,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapter::traces::{Trace, key_history};

    #[test]
    fn the_events_of_a_key_are_those_key_history_finds() {
        let doc = br#"{"name":"Create","status":"completed","startTime":1,"events":[
          {"type":"state","timestamp":2,"operation":"set","data":{"traceId":"T","key":"order","value":{ "n" : [1, "a b\" c"] }}},
          {"type":"state","timestamp":3,"operation":"get","data":{"traceId":"T","key":"order"}},
          {"type":"state","timestamp":3,"operation":"set","data":{"traceId":"T","key":"other","value":1}},
          {"type":"state","operation":"clear","data":{"groupId":"T"}},
          {"type":"log","timestamp":5,"level":"info","message":"x"},
          42,
          {"type":"state","timestamp":4,"operation":"delete","data":{"traceId":"T","key":"order"}}]}"#;
        let records = TraceRecords {
            trace_id: "T".into(),
            steps: vec![Trace::parse("u", doc).unwrap()],
            ..Default::default()
        };
        for reads in [false, true] {
            let mut want: Vec<_> = key_history(&records, "T", "order", reads)
                .into_iter()
                .map(|e| {
                    let ts = (e.timestamp != 1).then_some(e.timestamp);
                    let value = e.value.map(|v| serde_json::to_string(&v).unwrap());
                    (e.event_index, ts, e.operation, value)
                })
                .collect();
            // key_history sorts by time; a document's events come in their recorded order.
            want.sort_by_key(|w| w.0);
            assert_eq!(events_of(doc, "T", "order", reads), want);
        }
    }
}
