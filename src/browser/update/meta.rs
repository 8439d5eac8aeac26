//! Type, size and TTL of the keys on screen: asking for them (what comes back is taken in
//! by `keys`, keys seen missing leave with `traces`).

use std::time::Duration;

use crate::browser::action::{Effect, WorkerCmd};
use crate::browser::model::{ConnState, Model};
use crate::browser::update::note;

/// A key seen missing stays on screen, marked, this long before it is removed.
pub const GONE_GRACE: Duration = Duration::from_secs(3);
/// Metadata kept for at most this many keys; beyond it only what is on screen stays.
pub const META_CACHE: usize = 20_000;

/// Metadata could not be read; said only while connected (a lost server says so already).
pub fn failed(m: &mut Model, keys: Vec<String>, error: String) {
    for k in &keys {
        m.meta_inflight.remove(k);
    }
    if m.conn == ConnState::Connected {
        note(m, format!("reading key details failed: {error}"), true);
    }
}

/// Asks for the metadata of the rows on screen (and the open value) that lack it, or all of
/// them with `force`.
pub fn request_meta(m: &mut Model, fx: &mut Vec<Effect>, force: bool) {
    if m.conn != ConnState::Connected {
        return;
    }
    let mut keys = m.visible_keys();
    if let Some(k) = &m.value.full_key
        && !keys.contains(k)
    {
        keys.push(k.clone());
    }
    if m.meta.len() > META_CACHE {
        m.meta.retain(|k, _| keys.contains(k));
    }
    keys.retain(|k| !m.meta_inflight.contains(k) && (force || !m.meta.contains_key(k)));
    if keys.is_empty() {
        return;
    }
    m.meta_inflight.extend(keys.iter().cloned());
    fx.push(Effect::Worker(WorkerCmd::FetchMeta { keys }));
}

/// Asks for the metadata of these keys (after a write changed them, or for a sort).
pub fn request_meta_keys(m: &mut Model, mut keys: Vec<String>, fx: &mut Vec<Effect>) {
    if m.conn != ConnState::Connected {
        return;
    }
    keys.retain(|k| !m.meta_inflight.contains(k));
    if keys.is_empty() {
        return;
    }
    m.meta_inflight.extend(keys.iter().cloned());
    fx.push(Effect::Worker(WorkerCmd::FetchMeta { keys }));
}
