//! The Traces pane and the trace -> keys index the scan builds.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use motia_state::adapter::traces::FlowStatus;

use crate::browser::action::StepsSummary;
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
}

/// Every key found under the prefix, by trace. Inserting is idempotent (SCAN repeats keys);
/// each key remembers the last scan generation that saw it, so a finished rescan can drop the
/// keys that are gone.
#[derive(Debug, Default)]
pub struct Index {
    // Hash maps: the scan inserts a million keys, and order is only needed for what is shown
    // (the trace list and one trace's keys are sorted when built).
    pub traces: FastMap<Box<str>, FastMap<Box<str>, u64>>,
    pub total_keys: usize,
    /// Flows of Motia's trace records, by trace id (empty on a Redis without them).
    pub flows: HashMap<Box<str>, FlowInfo>,
}

/// A hash map with a fast, seeded hasher (names come from the server, so still seeded).
pub type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

impl Index {
    /// Records a scanned name `{prefix}{trace}:{key}` (the trace at `trace_at..key_at - 1`,
    /// the key from `key_at`) as seen by `generation`; the key keeps the name's own
    /// allocation, so a million names cost no second copy. The trace's name back when new.
    pub fn insert_scanned(
        &mut self,
        mut full: String,
        trace_at: usize,
        key_at: usize,
        generation: u64,
    ) -> Option<Box<str>> {
        if !full.is_char_boundary(key_at) {
            return None;
        }
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
        full.drain(..key_at);
        match known.entry(full.into_boxed_str()) {
            Entry::Occupied(mut seen) => *seen.get_mut() = generation,
            Entry::Vacant(new) => {
                new.insert(generation);
                self.total_keys += 1;
            }
        }
        new_trace
    }

    /// Records `key` of `trace` as seen by `generation`; true when the trace is new.
    pub fn insert(&mut self, trace: &str, key: &str, generation: u64) -> bool {
        let mut new_trace = false;
        let keys = match self.traces.get_mut(trace) {
            Some(k) => k,
            None => {
                new_trace = true;
                self.traces.entry(trace.into()).or_default()
            }
        };
        match keys.get_mut(key) {
            Some(g) => *g = generation,
            None => {
                keys.insert(key.into(), generation);
                self.total_keys += 1;
            }
        }
        new_trace
    }

    /// Forgets one key (and its trace when it was the last).
    pub fn remove(&mut self, trace: &str, key: &str) {
        if let Some(keys) = self.traces.get_mut(trace) {
            if keys.remove(key).is_some() {
                self.total_keys -= 1;
            }
            if keys.is_empty() {
                self.traces.remove(trace);
            }
        }
    }

    /// Drops what generation `generation` did not see.
    pub fn prune(&mut self, generation: u64) {
        let mut removed = 0;
        self.traces.retain(|_, keys| {
            let before = keys.len();
            keys.retain(|_, g| *g >= generation);
            removed += before - keys.len();
            !keys.is_empty()
        });
        self.total_keys -= removed;
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
}
