//! The scan that builds the index: starting it, taking in its batches, its end.

use crate::browser::action::{Effect, WorkerCmd};
use crate::browser::model::fingerprints::prefetch;
use crate::browser::model::split_shown;
use crate::browser::model::traces::TraceSort;
use crate::browser::model::{ConnState, Model};
use crate::browser::update::keys::rebuild_keys;
use crate::browser::update::note;
use crate::browser::update::traces::{add_scanned_traces, rebuild_traces};

/// How many names ahead of its insert a fingerprint's slot is fetched: enough to cover a
/// cache miss with the work on the names in between.
const PREFETCH_AHEAD: usize = 16;

pub fn start_scan(m: &mut Model, fx: &mut Vec<Effect>) {
    if m.conn != ConnState::Connected {
        m.scan.interrupted = true;
        note(
            m,
            "not connected: the scan starts when the server answers",
            false,
        );
        return;
    }
    m.scan.generation += 1;
    m.scan.running = true;
    m.scan.started = Some(m.now());
    m.scan.took = None;
    m.scan.seen = 0;
    m.scan.error = None;
    m.scan.interrupted = false;
    m.scan.had_keys = m.index.total_keys > 0;
    if let Some(n) = m.scan.dbsize {
        m.index.reserve(usize::try_from(n).unwrap_or(usize::MAX));
    }
    m.live.removed_while_scanning.clear();
    fx.push(Effect::Worker(WorkerCmd::Scan {
        generation: m.scan.generation,
    }));
}

/// Keys found by scan `generation` (a stale generation is dropped).
pub fn batch(m: &mut Model, generation: u64, keys: Vec<String>, seen: u64, fx: &mut Vec<Effect>) {
    if generation != m.scan.generation || !m.scan.running {
        return;
    }
    m.scan.seen = seen;
    let mut touches_selected = false;
    let mut new_traces: Vec<Box<str>> = Vec::new();
    let trace_at = m.keyspace.prefix().len();
    // Each name's key offset and fingerprint first, so that the fingerprints' slots can be
    // fetched from memory a few names ahead of their inserts (see `Fingerprints`).
    let split: Vec<Option<(usize, u64)>> = keys
        .iter()
        .enumerate()
        .map(|(at, full)| {
            // The names were written by the worker's thread: fetch them ahead too.
            if let Some(ahead) = keys.get(at + PREFETCH_AHEAD) {
                prefetch(ahead.as_bytes());
            }
            let (trace, key) = split_shown(&m.keyspace, full)?;
            Some((full.len() - key.len(), m.index.fingerprint(trace, key)))
        })
        .collect();
    for (_, fingerprint) in split.iter().take(PREFETCH_AHEAD).flatten() {
        m.index.prefetch(*fingerprint);
    }
    for (at, full) in keys.iter().enumerate() {
        if let Some(Some((_, ahead))) = split.get(at + PREFETCH_AHEAD) {
            m.index.prefetch(*ahead);
        }
        let Some((key_at, fingerprint)) = split[at] else {
            continue;
        };
        if removed_while_scanning(m, full) {
            continue;
        }
        touches_selected |= m.keys.trace.as_deref() == full.get(trace_at..key_at - 1);
        if let Some(trace) = m
            .index
            .insert_scanned(full, trace_at, key_at, fingerprint, generation)
        {
            new_traces.push(trace);
        }
    }
    let before = m.traces.selected.clone();
    // Counts are read from the index when drawn; the list itself only changes with
    // new traces (or, sorted by count, with any key).
    match m.traces.sort {
        TraceSort::KeyCount => rebuild_traces(m, fx, false),
        TraceSort::Id => {
            if !new_traces.is_empty() {
                add_scanned_traces(m, new_traces, fx);
            }
        }
        // Sorted by the trace records: rebuilt on the next tick, not per batch.
        TraceSort::Newest | TraceSort::Status => {
            if m.traces.view.is_empty() {
                rebuild_traces(m, fx, false);
            } else if !new_traces.is_empty() {
                m.traces.stale = true;
            }
        }
    }
    if touches_selected && before == m.traces.selected {
        rebuild_keys(m, fx);
    }
}

/// Scan `generation` is complete: keys it did not see are gone.
pub fn done(m: &mut Model, generation: u64, seen: u64, fx: &mut Vec<Effect>) {
    if generation != m.scan.generation || !m.scan.running {
        return;
    }
    m.scan.running = false;
    m.live.removed_while_scanning.clear();
    m.scan.seen = seen;
    m.scan.completed_once = true;
    m.scan.took = m.scan.started.map(|s| m.now().saturating_duration_since(s));
    // Only a rescan can leave keys that are gone.
    if m.scan.had_keys {
        m.index.prune(generation);
    }
    m.index.settle();
    // The fingerprints and the spare room of the key lists lie freed in the heap: back to the
    // system, or a ten-million-key index stays 50 MB above what it holds.
    fx.push(Effect::ReleaseMemory);
    rebuild_traces(m, fx, true);
    crate::browser::update::other_layout::index_complete(m, fx);
}

/// Scan `generation` stopped; one cut off with the connection runs again when it is back.
pub fn failed(m: &mut Model, generation: u64, error: String, connection: bool) {
    if generation != m.scan.generation || !m.scan.running {
        return;
    }
    m.scan.running = false;
    if connection {
        m.scan.interrupted = true;
    } else {
        note(m, format!("scan failed: {error}"), true);
        m.scan.error = Some(error);
    }
}

/// A scan page must not bring back a key removed while the scan ran.
pub fn removed_while_scanning(m: &Model, full_key: &str) -> bool {
    !m.live.removed_while_scanning.is_empty() && m.live.removed_while_scanning.contains(full_key)
}
