//! The Traces pane and the trace -> keys index the scan builds.

use std::collections::HashMap;
use std::hash::BuildHasher;

use motia_state::adapter::traces::{FlowStatus, MissingRecords};

use crate::browser::action::StepsSummary;
use crate::browser::model::fingerprints::Fingerprints;
use crate::browser::model::key_set::KeySet;
use crate::browser::model::list::ListState;

/// Trace order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceSort {
    Id,
    KeyCount,
    /// Start time from the trace records, newest first (the default once records exist).
    Newest,
    /// Failed, then running, then completed, then unknown; newest first within each.
    Status,
}

/// What Motia's trace records say about one flow.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlowInfo {
    /// The flow's name (the group record's `name`, else its first step's).
    pub flow: Option<String>,
    /// Epoch milliseconds.
    pub start_time: Option<i64>,
    /// The status an older group record stored (used until the steps are read).
    pub group_status: Option<FlowStatus>,
    /// Why the group record could not be used.
    pub group_unreadable: Option<String>,
    /// The group hash listed it in this scan generation.
    pub generation: u64,
    /// Status and steps, once read.
    pub steps: Option<StepsSummary>,
    /// A summary request is out.
    pub requested: bool,
}

impl FlowInfo {
    /// Derived from the steps, else what an older group record stored.
    pub fn status(&self) -> Option<FlowStatus> {
        self.steps
            .as_ref()
            .and_then(|s| s.status)
            .or(self.group_status)
    }

    /// The group lists the flow, but its step records are gone.
    pub fn records_expired(&self) -> bool {
        self.steps.as_ref().is_some_and(|s| !s.exists)
    }

    /// Why the group lists the flow without step records (`None` while they exist or are
    /// not read yet): a flow younger than Motia's retention has not written them yet.
    pub fn missing_records(&self, now_ms: i64) -> Option<MissingRecords> {
        self.records_expired()
            .then(|| MissingRecords::of(self.start_time, now_ms))
    }

    /// "completed · 1 retry": the status, with the retries that led to it.
    pub fn retries_text(&self) -> Option<String> {
        let n = self.steps.as_ref().map_or(0, |s| s.retries);
        (n > 0).then(|| retries_text(n))
    }
}

/// "1 retry", "2 retries".
pub fn retries_text(n: usize) -> String {
    if n == 1 {
        "1 retry".into()
    } else {
        format!("{n} retries")
    }
}

/// Every key found under the prefix, by trace. Inserting is idempotent (SCAN repeats keys);
/// each key remembers the last scan generation that saw it, so a finished rescan can drop the
/// keys that are gone.
#[derive(Debug, Default)]
pub struct Index {
    // Hashed, not ordered: the scan inserts millions of keys, and order is only needed for
    // what is shown (the trace list and one trace's keys are sorted when built).
    pub traces: FastMap<Box<str>, KeySet>,
    pub total_keys: usize,
    /// Flows of Motia's trace records, by trace id (empty on a Redis without them).
    pub flows: HashMap<Box<str>, FlowInfo>,
    /// Of every (trace, key) inserted until the first scan completed (removals leave theirs):
    /// they make that scan's inserts appends. Freed then: a rescan finds nearly every key
    /// known, so it looks each up anyway.
    fingerprints: Fingerprints,
    /// The first scan completed and the fingerprints are gone.
    settled: bool,
    hasher: foldhash::fast::RandomState,
}

/// 2 million keys: a table of 16 MB.
const RESERVED_KEYS_AT_MOST: usize = 2_000_000;

/// A hash map with a fast, seeded hasher (names come from the server, so still seeded).
pub type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

impl Index {
    /// The fingerprint of a key, for [`insert_scanned`](Self::insert_scanned).
    pub fn fingerprint(&self, trace: &str, key: &str) -> u64 {
        self.hasher.hash_one((trace, key))
    }

    /// Brings a fingerprint's slot into the cache ahead of its insert.
    pub fn prefetch(&self, fingerprint: u64) {
        self.fingerprints.prefetch(fingerprint);
    }

    /// Room for the fingerprints of `n` keys (the server's key count before a first scan),
    /// so the table is not copied as it fills; bounded, since the server's keys need not all
    /// be under the prefix.
    pub fn reserve(&mut self, n: usize) {
        if !self.settled {
            self.fingerprints.reserve(n.min(RESERVED_KEYS_AT_MOST));
        }
    }

    /// Records a scanned name `{prefix}{trace}:{key}` (the trace at `trace_at..key_at - 1`,
    /// the key from `key_at`, `fingerprint` theirs) as seen by `generation`. The trace's name
    /// back when new.
    pub fn insert_scanned(
        &mut self,
        full: &str,
        trace_at: usize,
        key_at: usize,
        fingerprint: u64,
        generation: u64,
    ) -> Option<Box<str>> {
        let key = full.get(key_at..)?;
        let trace = full.get(trace_at..key_at.saturating_sub(1))?;
        let mut new_trace = None;
        let known = match self.traces.get_mut(trace) {
            Some(k) => k,
            None => {
                let name: Box<str> = trace.into();
                new_trace = Some(name.clone());
                self.traces.entry(name).or_default()
            }
        };
        let added = if !self.settled && self.fingerprints.insert(fingerprint) {
            known.insert_new(key, generation)
        } else {
            known.insert(key, generation)
        };
        self.total_keys += usize::from(added);
        new_trace
    }

    /// Records `key` of `trace` as seen by `generation`; true when the trace is new.
    pub fn insert(&mut self, trace: &str, key: &str, generation: u64) -> bool {
        if !self.settled {
            let fingerprint = self.fingerprint(trace, key);
            self.fingerprints.insert(fingerprint);
        }
        let mut new_trace = false;
        let keys = match self.traces.get_mut(trace) {
            Some(k) => k,
            None => {
                new_trace = true;
                self.traces.entry(trace.into()).or_default()
            }
        };
        if keys.insert(key, generation) {
            self.total_keys += 1;
        }
        new_trace
    }

    /// Forgets one key (and its trace when it was the last).
    pub fn remove(&mut self, trace: &str, key: &str) {
        if let Some(keys) = self.traces.get_mut(trace) {
            if keys.remove(key) {
                self.total_keys -= 1;
            }
            if keys.is_empty() {
                self.traces.remove(trace);
            }
        }
        self.forget_stale_fingerprints();
    }

    /// Drops what generation `generation` did not see.
    pub fn prune(&mut self, generation: u64) {
        let mut removed = 0;
        self.traces.retain(|_, keys| {
            removed += keys.keep_seen_by(generation);
            !keys.is_empty()
        });
        self.total_keys -= removed;
        self.forget_stale_fingerprints();
    }

    /// A scan completed: frees the fingerprints (after the first) and what the scan's growing
    /// left spare, so the memory held is the keys' bytes and a few bytes a key.
    pub fn settle(&mut self) {
        self.settled = true;
        self.fingerprints.clear();
        self.traces.shrink_to_fit();
        for keys in self.traces.values_mut() {
            keys.shrink();
        }
    }

    /// Removed keys leave their fingerprints; once they outnumber the keys, the set is built
    /// again from the keys (so a long live session's churn does not grow it without end).
    fn forget_stale_fingerprints(&mut self) {
        if self.settled || self.fingerprints.len() <= 2 * self.total_keys + 4096 {
            return;
        }
        self.fingerprints.clear();
        self.fingerprints.reserve(self.total_keys);
        for (trace, keys) in &self.traces {
            for key in keys.keys() {
                self.fingerprints
                    .insert(self.hasher.hash_one((&**trace, key)));
            }
        }
    }

    /// Number of keys of a trace.
    pub fn count(&self, trace: &str) -> usize {
        self.traces.get(trace).map(|k| k.len()).unwrap_or(0)
    }

    /// True once any trace record was found.
    pub fn has_records(&self) -> bool {
        !self.flows.is_empty()
    }
}

/// The Traces pane.
#[derive(Debug)]
pub struct TracesPane {
    /// Trace ids passing the filter, in the current sort.
    pub view: Vec<Box<str>>,
    pub list: ListState,
    pub filter: String,
    pub sort: TraceSort,
    /// The trace whose keys are shown (kept by id across rescans and filter changes).
    pub selected: Option<Box<str>>,
    /// The trace the user last chose: a filter that hides it does not make the browser forget
    /// it, so clearing the filter selects it again.
    pub anchor: Option<Box<str>>,
    /// `:status`: only flows with this status.
    pub status_filter: Option<FlowStatus>,
    /// The user picked the sort (so records arriving do not change it).
    pub sort_chosen: bool,
    /// The list needs rebuilding (sorted by time or status while a scan streams in).
    pub stale: bool,
    /// New trace ids a scan found, not yet merged into the id-sorted list.
    pub pending: Vec<Box<str>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_is_idempotent_and_prunes() {
        let mut ix = Index::default();
        ix.insert("t1", "a", 1);
        ix.insert("t1", "a", 1);
        ix.insert("t2", "b", 1);
        assert_eq!(ix.total_keys, 2);
        ix.insert("t1", "a", 2);
        ix.prune(2);
        assert_eq!(ix.total_keys, 1);
        assert!(!ix.traces.contains_key("t2"));
    }

    fn scan(ix: &mut Index, name: &str, generation: u64) {
        let (trace, key) = name.split_once(':').unwrap_or_default();
        let fingerprint = ix.fingerprint(trace, key);
        ix.insert_scanned(name, 0, trace.len() + 1, fingerprint, generation);
    }

    #[test]
    fn a_name_scanned_twice_or_known_from_a_live_event_is_counted_once() {
        let mut ix = Index::default();
        ix.insert("t1", "live", 1);
        for name in ["t1:a", "t1:b", "t1:a", "t1:live", "t2:a", "t1:b"] {
            scan(&mut ix, name, 1);
        }
        assert_eq!(ix.total_keys, 4);
        assert_eq!((ix.count("t1"), ix.count("t2")), (3, 1));
        // Removed, then seen again by a rescan: its fingerprint is still there, the key is not.
        ix.remove("t1", "a");
        scan(&mut ix, "t1:a", 2);
        scan(&mut ix, "t1:b", 2);
        assert_eq!(ix.count("t1"), 3);
        ix.prune(2);
        assert_eq!(ix.total_keys, 2);
        assert!(ix.traces["t1"].contains("a") && !ix.traces["t1"].contains("live"));
    }

    #[test]
    fn a_settled_index_without_fingerprints_still_counts_each_key_once() {
        let mut ix = Index::default();
        for name in ["t1:a", "t1:b", "t2:a"] {
            scan(&mut ix, name, 1);
        }
        ix.settle();
        assert_eq!(ix.fingerprints.len(), 0);
        ix.insert("t1", "live", 1);
        for name in ["t1:a", "t1:b", "t1:live", "t1:c", "t1:a"] {
            scan(&mut ix, name, 2);
        }
        ix.remove("t1", "b");
        ix.prune(2);
        ix.settle();
        assert_eq!(ix.fingerprints.len(), 0, "not built again");
        assert_eq!((ix.total_keys, ix.count("t1"), ix.count("t2")), (3, 3, 0));
        let mut keys: Vec<&str> = ix.traces["t1"].keys().collect();
        keys.sort();
        assert_eq!(keys, ["a", "c", "live"]);
    }

    #[test]
    fn fingerprints_of_removed_keys_do_not_pile_up() {
        let mut ix = Index::default();
        ix.insert("keep", "k", 1);
        for i in 0..50_000 {
            let key = format!("k{i}");
            scan(&mut ix, &format!("t:{key}"), 1);
            ix.remove("t", &key);
        }
        assert!(ix.fingerprints.len() <= 2 * ix.total_keys + 4096);
        assert_eq!(ix.total_keys, 1);
        scan(&mut ix, "keep:k", 1);
        scan(&mut ix, "t:k7", 1);
        assert_eq!((ix.count("keep"), ix.count("t")), (1, 1));
    }
}
