//! The one walk of `{prefix}*` that builds the index, sent to the UI in batches.

use std::time::{Duration, Instant};

use motia_state::RedisStateAdapter;

use crate::browser::action::{ScanGroups, WorkerEvent};
use crate::browser::worker::Events;

/// Keys per scan batch sent to the UI, and the longest a found key waits before it is sent.
const BATCH_KEYS: usize = 50_000;

const BATCH_TIME: Duration = Duration::from_millis(100);

/// One walk of `{prefix}*`, sent in batches. Duplicates are left in: the model's index is
/// idempotent, so the scanner need not remember every key a second time.
pub async fn run_scan(adapter: RedisStateAdapter, generation: u64, events: Events) {
    let mut scanner = adapter.scan_all().allow_duplicates();
    let keyspace = adapter.key_space().clone();
    let mut batch = ScanGroups::default();
    let mut last_sent = Instant::now();
    let mut sent_any = false;
    loop {
        match scanner.next_page_bytes().await {
            Ok(Some(page)) => {
                // Every key, by its escaped name (exact bytes behind it, see `raw_key`).
                for bytes in page {
                    batch.add(&keyspace, motia_state::escape::name_owned(bytes));
                }
                // The first keys go out at once so the first traces show immediately.
                let due = (!sent_any && !batch.is_empty())
                    || batch.len() >= BATCH_KEYS
                    || (last_sent.elapsed() >= BATCH_TIME && !batch.is_empty());
                if due {
                    sent_any = true;
                    last_sent = Instant::now();
                    let ev = WorkerEvent::ScanBatch {
                        generation,
                        keys: batch.take(),
                        seen: scanner.keys_seen(),
                    };
                    if events.send(ev).await.is_err() {
                        return;
                    }
                }
            }
            Ok(None) => {
                let seen = scanner.keys_seen();
                if !batch.is_empty() {
                    let ev = WorkerEvent::ScanBatch {
                        generation,
                        keys: batch.take(),
                        seen,
                    };
                    if events.send(ev).await.is_err() {
                        return;
                    }
                }
                let _ = events
                    .send(WorkerEvent::ScanDone { generation, seen })
                    .await;
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, generation, "scan failed");
                let _ = events
                    .send(WorkerEvent::ScanFailed {
                        generation,
                        connection: e.is_connection(),
                        error: e.to_string(),
                    })
                    .await;
                return;
            }
        }
    }
}
