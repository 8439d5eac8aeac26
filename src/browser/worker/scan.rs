//! The one walk of `{prefix}*` that builds the index, sent to the UI in batches.

use std::time::{Duration, Instant};

use motia_state::RedisStateAdapter;

use crate::browser::action::WorkerEvent;
use crate::browser::worker::Events;

/// Keys per scan batch sent to the UI, and the longest a found key waits before it is sent.
const BATCH_KEYS: usize = 5_000;

const BATCH_TIME: Duration = Duration::from_millis(100);

/// Pages read ahead of the grouping (each up to the scan's COUNT keys).
const PAGES_AHEAD: usize = 16;

/// A page of the walk, with the count of keys seen so far.
type Page = (motia_state::Result<Option<Vec<Vec<u8>>>>, u64);

/// One walk of `{prefix}*`, sent in batches. Duplicates are left in: the model's index is
/// idempotent, so the scanner need not remember every key a second time.
pub async fn run_scan(adapter: RedisStateAdapter, generation: u64, events: Events) {
    // The walk runs in a task of its own: a page is taken (and the next SCAN sent) the moment
    // it arrives, not after the previous page was grouped, so the server never waits on us.
    let (pages_tx, mut pages) = tokio::sync::mpsc::channel::<Page>(PAGES_AHEAD);
    // Held in a set so that dropping it (the scan replaced or the worker gone) stops the walk.
    let mut walk = tokio::task::JoinSet::new();
    walk.spawn(async move {
        let mut scanner = adapter.scan_all().allow_duplicates();
        loop {
            let page = scanner.next_page().await;
            let last = !matches!(page, Ok(Some(_)));
            if pages_tx.send((page, scanner.keys_seen())).await.is_err() || last {
                return;
            }
        }
    });
    let mut batch: Vec<String> = Vec::new();
    let mut last_sent = Instant::now();
    let mut sent_any = false;
    while let Some((page, seen)) = pages.recv().await {
        match page {
            Ok(Some(page)) => {
                // Every key, by its escaped name (exact bytes behind it, see `raw_key`).
                batch.extend(page.into_iter().map(motia_state::escape::name_owned));
                // The first keys go out at once so the first traces show immediately.
                let due = (!sent_any && !batch.is_empty())
                    || batch.len() >= BATCH_KEYS
                    || (last_sent.elapsed() >= BATCH_TIME && !batch.is_empty());
                if due {
                    sent_any = true;
                    last_sent = Instant::now();
                    let ev = WorkerEvent::ScanBatch {
                        generation,
                        keys: std::mem::take(&mut batch),
                        seen,
                    };
                    if events.send(ev).await.is_err() {
                        return;
                    }
                }
            }
            Ok(None) => {
                if !batch.is_empty() {
                    let ev = WorkerEvent::ScanBatch {
                        generation,
                        keys: std::mem::take(&mut batch),
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
    // The walk ended without its last word (it panicked): say so rather than scan forever.
    let _ = events
        .send(WorkerEvent::ScanFailed {
            generation,
            connection: false,
            error: "the scan stopped unexpectedly".into(),
        })
        .await;
}
