//! Type, size and TTL of the keys on screen.

use motia_state::{RedisStateAdapter, Ttl};

use crate::browser::action::{RowMeta, WorkerEvent};
use crate::browser::doc::classify;
use crate::browser::worker::{Events, raw_key};

/// Bytes of each visible value read to tell JSON from raw text.
const HEAD_BYTES: usize = 4096;

/// Type, size and TTL of the visible keys, in one pipelined round trip per batch.
pub async fn fetch_meta(adapter: RedisStateAdapter, keys: Vec<String>, events: Events) {
    let raw: Vec<Vec<u8>> = keys.iter().map(|k| raw_key(k)).collect();
    let ev = match adapter.key_meta(&raw, Some(HEAD_BYTES)).await {
        Ok(metas) => WorkerEvent::Meta {
            rows: metas
                .into_iter()
                .zip(&keys)
                .map(|(m, shown)| {
                    let kind = match (&m.head, m.ttl) {
                        (_, Ttl::Missing) => "gone".to_string(),
                        (Some(h), _) => classify(h, m.len.unwrap_or(0)).to_string(),
                        (None, _) => m.redis_type.clone(),
                    };
                    (
                        shown.clone(),
                        RowMeta {
                            kind,
                            len: m.len,
                            ttl: m.ttl,
                        },
                    )
                })
                .collect(),
        },
        Err(e) => WorkerEvent::MetaFailed {
            keys,
            error: e.to_string(),
        },
    };
    let _ = events.send(ev).await;
}
