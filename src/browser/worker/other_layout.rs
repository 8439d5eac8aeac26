//! The worker's look for iii state beside the 0.x keys (see `update::other_layout`).

use crate::browser::action::WorkerEvent;
use crate::browser::worker::Events;

/// One library call: DBSIZE against the index's count, else a walk stopping at the first hash.
pub async fn run(adapter: motia_state::RedisStateAdapter, keys_seen: Option<u64>, events: Events) {
    let result = adapter
        .other_layout_note(keys_seen)
        .await
        .map_err(|e| e.to_string());
    let _ = events.send(WorkerEvent::OtherLayout(result)).await;
}
