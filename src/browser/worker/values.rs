//! Reading values: the one shown (a window or whole), and the values a `:where` filter tests.

use std::sync::Arc;

use motia_state::RedisStateAdapter;

use crate::browser::action::WorkerEvent;
use crate::browser::doc::ValueDoc;
use crate::browser::worker::{Events, raw_key};

/// Reads a value (a window, or all of it) and prepares it for display off the async threads.
pub async fn load_value(
    adapter: RedisStateAdapter,
    id: u64,
    full_key: String,
    max: Option<usize>,
    events: Events,
) {
    let key = raw_key(&full_key);
    let raw = match max {
        Some(n) => adapter
            .get_window(&key, n)
            .await
            .map(|w| w.map(|w| (w.bytes, w.total_len))),
        None => adapter.get_raw(&key).await.map(|v| {
            v.map(|b| {
                let len = b.len() as u64;
                (b, len)
            })
        }),
    };
    let result = match raw {
        Ok(Some((bytes, total))) => {
            match tokio::task::spawn_blocking(move || ValueDoc::build(&bytes, total)).await {
                Ok(doc) => Ok(Some(Arc::new(doc))),
                Err(e) => Err(format!("preparing the value failed: {e}")),
            }
        }
        Ok(None) => Ok(None),
        Err(e) => Err(e.to_string()),
    };
    let _ = events
        .send(WorkerEvent::Value {
            id,
            full_key,
            result,
        })
        .await;
}

/// Reads the values of `full_keys` with MGET and keeps the keys whose JSON value matches.
pub async fn run_where(
    adapter: RedisStateAdapter,
    id: u64,
    full_keys: Vec<String>,
    filter: motia_state::StateFilter,
    events: Events,
) {
    let raw: Vec<Vec<u8>> = full_keys.iter().map(|k| raw_key(k)).collect();
    let result = match adapter.get_raw_many(&raw).await {
        Ok(values) => Ok(full_keys
            .into_iter()
            .zip(values)
            .filter(|(_, v)| {
                v.as_deref()
                    .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
                    .is_some_and(|v| filter.matches(&v))
            })
            .map(|(k, _)| k)
            .collect()),
        Err(e) => Err(e.to_string()),
    };
    let _ = events.send(WorkerEvent::WhereResult { id, result }).await;
}
