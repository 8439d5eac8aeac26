//! Motia's trace records: the group hash streamed beside the state scan, step summaries for
//! the rows on screen, one flow's records for its timeline or a key's history.

use std::sync::Arc;

use motia_state::RedisStateAdapter;
use motia_state::adapter::traces::{FlowStatus, SearchLimits, TraceLimits};

use crate::browser::action::{SearchInfo, StepsSummary, TraceRead, WorkerEvent};
use crate::browser::worker::{Events, raw_key};

/// A summary needs each step record's header only (status, times), never the events.
const SUMMARY_LIMITS: TraceLimits = TraceLimits {
    bytes: 0,
    steps: 0,
    header_bytes: 16 * 1024 * 1024,
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
/// the keyspace, so only then), and the current value of `full_key`. For a key's history
/// (`full_key` given) of a group without records of its own (`orders`, written by steps of
/// other flows), every flow's records are searched for the group, with progress.
pub async fn read_records(
    adapter: RedisStateAdapter,
    id: u64,
    trace: String,
    full_key: Option<String>,
    events: Events,
) {
    let result = async {
        let raw = raw_key(&trace);
        let mut records = adapter.read_trace(&raw, TraceLimits::default()).await?;
        let mut search = None;
        // Motia's records name groups as JSON text: a group that is not UTF-8 has none.
        if let (Some(_), false, Ok(group)) =
            (&full_key, records.exists(), std::str::from_utf8(&raw))
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
            records = found.records;
        }
        // A history's search has no use for them.
        let dead_letters = if search.is_none() && records.status() == Some(FlowStatus::Failed) {
            adapter.dead_letters().await?
        } else {
            Vec::new()
        };
        let current = match &full_key {
            Some(k) => Some(
                adapter
                    .get_raw_many_full(&[raw_key(k)])
                    .await?
                    .pop()
                    .flatten(),
            ),
            None => None,
        };
        Ok::<_, motia_state::Error>(TraceRead {
            records: Arc::new(records),
            dead_letters,
            current,
            search,
        })
    }
    .await
    .map_err(|e| e.to_string());
    let _ = events.send(WorkerEvent::TraceRecords { id, result }).await;
}
