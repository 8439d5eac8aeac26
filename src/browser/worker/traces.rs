//! Motia's trace records: the group hash streamed beside the state scan, step summaries for
//! the rows on screen, one flow's records for its timeline or a key's history.

use std::collections::HashMap;
use std::sync::Arc;

use motia_state::RedisStateAdapter;
use motia_state::adapter::traces::{
    EventKind, FlowStatus, KeyHistory, KeyTraceEvent, SearchLimits, TraceLimits, TraceRecords,
    key_history,
};

use crate::browser::action::{SearchInfo, StepsSummary, TraceRead, WorkerEvent};
use crate::browser::worker::{Events, raw_key};

/// A summary needs each step record's header only (status, times), never the events.
const SUMMARY_LIMITS: TraceLimits = TraceLimits {
    bytes: 0,
    steps: 0,
    header_bytes: 16 * 1024 * 1024,
    after_events: true,
};

/// Flows per summary batch sent to the UI.
const SUMMARY_BATCH: usize = 50;

/// HSCAN of `{trace_prefix}default`, page by page. It shares the connection with the state
/// scan without waiting for it: neither delays the other beyond the round trips themselves.
pub async fn run_group_scan(adapter: RedisStateAdapter, generation: u64, events: Events) {
    let mut groups = adapter.scan_trace_groups();
    loop {
        let (entries, done, error) = match groups.next_page().await {
            Ok(Some(page)) => (page, false, None),
            Ok(None) => (Vec::new(), true, None),
            Err(e) => (Vec::new(), true, Some(e.to_string())),
        };
        if entries.is_empty() && !done {
            continue;
        }
        let ev = WorkerEvent::TraceGroups {
            generation,
            entries,
            done,
            error,
        };
        if events.send(ev).await.is_err() || done {
            return;
        }
    }
}

/// Status and step count of flows (named as the model names them), in batches.
pub async fn run_summaries(adapter: RedisStateAdapter, ids: Vec<String>, events: Events) {
    for chunk in ids.chunks(SUMMARY_BATCH) {
        let raw: Vec<Vec<u8>> = chunk.iter().map(|id| raw_key(id)).collect();
        let (rows, error) = match adapter.read_traces(&raw, SUMMARY_LIMITS).await {
            Ok(records) => (
                records
                    .into_iter()
                    .zip(chunk)
                    .map(|(r, id)| {
                        let s = StepsSummary {
                            status: r.status(),
                            steps: r.step_count(),
                            exists: r.exists(),
                            start_time: r.start_time(),
                            first_step: r.steps.first().map(|s| s.name.clone()),
                            unreadable: r.unreadable.iter().map(|u| u.to_string()).collect(),
                            retries: r.retries(),
                        };
                        (id.clone(), s)
                    })
                    .collect(),
                None,
            ),
            Err(e) => (Vec::new(), Some(e.to_string())),
        };
        let failed = error.is_some();
        if events
            .send(WorkerEvent::TraceSummaries { rows, error })
            .await
            .is_err()
            || failed
        {
            return;
        }
    }
}

/// One flow's records within the default budget, its dead letters when it failed (a walk of
/// the keyspace, so only then). For a key's history (`key` given: as the model names it, and
/// its full name), the key's events instead of the records, values as text, and its value
/// now; for a group without records of its own (`orders`, written by steps of other flows),
/// every flow's records are searched for the group, with progress.
pub async fn read_records(
    adapter: RedisStateAdapter,
    id: u64,
    trace: String,
    key: Option<(String, String)>,
    events: Events,
) {
    let result = async {
        // A history reads values of megabytes: through a connection of its own, whose read
        // buffer (grown to the largest reply, never shrunk) goes when the read ends. On the
        // shared one, 8 MB stayed after the history of a 5 MB value closed.
        let adapter = match &key {
            Some(_) => RedisStateAdapter::connect(adapter.config().clone()).await?,
            None => adapter,
        };
        let raw = raw_key(&trace);
        let mut history = Vec::new();
        let mut search = None;
        let mut records = match &key {
            // The records name the group and key as JSON text: the group of a trace id that is
            // not UTF-8 lossily (in its own records), a key that is not UTF-8 never.
            Some((key, _)) => {
                let group = String::from_utf8_lossy(&raw).into_owned();
                let key = String::from_utf8(raw_key(key)).ok();
                let read = match &key {
                    Some(k) => {
                        adapter
                            .read_key_history(&raw, &group, k, true, TraceLimits::default())
                            .await?
                    }
                    None => KeyHistory {
                        records: adapter
                            .read_trace(
                                &raw,
                                TraceLimits {
                                    steps: 0,
                                    ..Default::default()
                                },
                            )
                            .await?,
                        events: Vec::new(),
                    },
                };
                history = read.events;
                read.records
            }
            None => adapter.read_trace(&raw, TraceLimits::default()).await?,
        };
        if let (Some((key, _)), false, Ok(group)) =
            (&key, records.exists(), std::str::from_utf8(&raw))
        {
            let found = adapter
                .search_group_records(group, Some(&raw), SearchLimits::default(), |done, total| {
                    let _ = events.try_send(WorkerEvent::TraceSearch { id, done, total });
                })
                .await?;
            search = Some(SearchInfo {
                flows: found.flows,
                searched: found.searched,
                listed: found.listed,
            });
            history = match String::from_utf8(raw_key(key)) {
                Ok(k) => history_of(found.records, group, &k),
                Err(_) => Vec::new(),
            };
            records = TraceRecords::default();
        }
        // A history has no use for them.
        let dead_letters = if key.is_none() && records.status() == Some(FlowStatus::Failed) {
            adapter.dead_letters().await?
        } else {
            Vec::new()
        };
        let current = match &key {
            Some((_, k)) => Some(adapter.get_raw_many(&[raw_key(k)]).await?.pop().flatten()),
            None => None,
        };
        Ok::<_, motia_state::Error>(TraceRead {
            records: Arc::new(records),
            history,
            dead_letters,
            current,
            search,
        })
    }
    .await
    .map_err(|e| e.to_string());
    let _ = events.send(WorkerEvent::TraceRecords { id, result }).await;
}

/// The events of `group`/`key` in parsed records (a search's), each value set turned into
/// compact text at once and its parsed tree dropped, reads included.
pub fn history_of(mut records: TraceRecords, group: &str, key: &str) -> Vec<KeyTraceEvent> {
    // key_history would clone every value: take them out first.
    let mut values: HashMap<(usize, usize), String> = HashMap::new();
    for (si, step) in records.steps.iter_mut().enumerate() {
        for (ei, ev) in step.events.iter_mut().enumerate() {
            let ours = matches!(&ev.kind, EventKind::State { operation, group: g, key: k }
                if operation == "set" && g.as_deref() == Some(group) && k.as_deref() == Some(key));
            if let Some(v) = ev.raw.get_mut("data").and_then(|d| d.get_mut("value"))
                && ours
            {
                values.insert((si, ei), motia_state::json::to_compact(&v.take()));
            }
        }
    }
    key_history(&records, group, key, true)
        .into_iter()
        .map(|e| KeyTraceEvent {
            timestamp: e.timestamp,
            value: values
                .remove(&(e.step_index, e.event_index))
                .or_else(|| e.value.as_ref().map(motia_state::json::to_compact)),
            step: e.step,
            operation: e.operation,
            step_index: e.step_index,
        })
        .collect()
}
