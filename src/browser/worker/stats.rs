//! The stats job: one walk of the state's keys (the index's keys when it is complete, else a
//! scan), with snapshots of the figures sent as it goes; and the `:gc` dry run over the same.

use std::sync::Arc;
use std::time::{Duration, Instant};

use motia_state::RedisStateAdapter;
use motia_state::adapter::gc::{GcAction, GcSelection};
use motia_state::adapter::stats::KeySource;

use crate::browser::action::WorkerEvent;
use crate::browser::worker::Events;

/// How often the figures so far are sent while the walk goes on.
const SNAPSHOT_EVERY: Duration = Duration::from_millis(250);

fn source(keys: Option<Vec<String>>) -> KeySource {
    keys.map_or(KeySource::Scan, KeySource::Keys)
}

pub async fn run_stats(
    adapter: RedisStateAdapter,
    id: u64,
    keys: Option<Vec<String>>,
    events: Events,
) {
    let mut last = Instant::now();
    let result = adapter
        .stats(source(keys), |done, total, collector| {
            if last.elapsed() >= SNAPSHOT_EVERY {
                last = Instant::now();
                // A full queue drops a snapshot; the next one or the result follows.
                let _ = events.try_send(WorkerEvent::StatsProgress {
                    id,
                    done,
                    total,
                    stats: Some(Arc::new(collector.snapshot())),
                });
            }
        })
        .await;
    if let Err(e) = &result {
        tracing::warn!(error = %e, "stats failed");
    }
    let _ = events
        .send(WorkerEvent::Stats {
            id,
            result: result.map(Arc::new).map_err(|e| e.to_string()),
        })
        .await;
}

pub async fn run_gc_plan(
    adapter: RedisStateAdapter,
    id: u64,
    (selection, action): (GcSelection, GcAction),
    keys: Option<Vec<String>>,
    events: Events,
) {
    let mut last = Instant::now();
    let result = adapter
        .gc_plan(source(keys), &selection, action, |done, total| {
            if last.elapsed() >= SNAPSHOT_EVERY {
                last = Instant::now();
                let _ = events.try_send(WorkerEvent::GcProgress { id, done, total });
            }
        })
        .await;
    let _ = events
        .send(WorkerEvent::GcPlanned {
            id,
            result: result.map(Arc::new).map_err(|e| e.to_string()),
        })
        .await;
}
