//! A history's `=` diff, built off the UI thread: the pretty text of two versions of a value
//! of megabytes and their line diff take longer than a key press may.

use std::sync::Arc;

use crate::browser::action::{BuiltDiff, DiffSide, WorkerEvent};
use crate::browser::doc::reindent;
use crate::browser::worker::Events;

/// The text a side is compared by.
fn text(side: &DiffSide) -> String {
    match side {
        DiffSide::Compact(compact) => reindent(compact),
        // Re-indented as stored, not parsed: a tree of megabytes is tens of times their size
        // (and the versions are kept as stored too).
        DiffSide::Stored(bytes) => match std::str::from_utf8(bytes) {
            Ok(t) if motia_state::json::is_json(bytes) => reindent(t),
            _ => String::from_utf8_lossy(bytes).into_owned(),
        },
        DiffSide::Empty => String::new(),
    }
}

/// The line diff from `old` to `new`, with its counts (pure; the headless tests call it in
/// place of the worker).
pub fn build(old: &DiffSide, new: &DiffSide) -> BuiltDiff {
    let lines = crate::diff::Diff::new(&text(old), text(new));
    let (added, removed) = lines.counts();
    BuiltDiff {
        lines: Arc::new(lines),
        added,
        removed,
    }
}

/// Builds the diff on a blocking thread and sends it as the answer to request `id`.
pub async fn run(id: u64, old: DiffSide, new: DiffSide, events: Events) {
    let diff = tokio::task::spawn_blocking(move || build(&old, &new))
        .await
        .map_err(|e| format!("building the diff failed: {e}"));
    let _ = events.send(WorkerEvent::HistoryDiff { id, diff }).await;
}
