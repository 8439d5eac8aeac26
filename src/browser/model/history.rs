//! A key's history from Motia's trace records: each set with its value, deletes and clears,
//! reads on request, compared with the value now.
//!
//! A value of megabytes is kept once, as compact JSON text (the worker reads it so, never as a
//! parsed tree); what the Value pane shows is built when the cursor or `=` changes, not per
//! frame, a diff by the worker.

use std::sync::Arc;

use motia_state::adapter::traces::KeyTraceEvent;
use serde_json::Value;

use crate::browser::action::{DiffSide, SearchInfo};
use crate::browser::doc::ValueDoc;
use crate::browser::model::list::ListState;
use crate::diff::Diff;

/// Values compared by parsing them when their texts differ, at most (both together).
const SMALL: usize = 1024 * 1024;

/// What `=` compares the selected version with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DiffMode {
    #[default]
    Off,
    /// The version before it.
    Previous,
    /// The value in Redis now.
    Now,
}

/// How the newest recorded write compares with Redis now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NowCompared {
    /// The newest set is the value now.
    Equal,
    /// Redis holds something else: written by something not in the records.
    Changed,
    /// The records end with a delete or clear and the key is gone.
    Deleted,
    /// The key is gone, but the records end with a set (expired, or removed outside them).
    GoneSince,
    /// The key exists again after a recorded delete.
    Recreated,
    /// Nothing was written in the records (reads only).
    NoWrites,
}

/// One thing the records say happened to the key.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Epoch milliseconds.
    pub timestamp: i64,
    /// The step that did it.
    pub step: String,
    /// `set`, `delete`, `clear`, and with reads `get`, `getGroup`.
    pub operation: String,
    /// The value a set wrote, as compact JSON.
    pub value: Option<Arc<str>>,
    /// The step's index in the records read (names the flow of a search's finding).
    pub step_index: usize,
}

impl Entry {
    /// True for operations that change the key.
    pub fn is_write(&self) -> bool {
        matches!(self.operation.as_str(), "set" | "delete" | "clear")
    }
}

/// What the Value pane shows beside the history.
#[derive(Debug, Clone)]
pub enum Detail {
    /// The value a set wrote, pretty.
    Version(Arc<ValueDoc>),
    /// A delete or clear: nothing after it.
    Removed,
    /// A read.
    Read,
    /// `=`: the diff is being built by the worker.
    Building,
    /// `=`: the line diff, with its counts.
    Diff {
        lines: Arc<Diff>,
        added: usize,
        removed: usize,
    },
}

impl Detail {
    /// Lines above the body besides the source note: a diff's counts.
    pub fn header(&self) -> usize {
        match self {
            Detail::Diff { .. } => 1,
            _ => 0,
        }
    }

    /// Lines below the pane's header.
    pub fn len(&self) -> usize {
        match self {
            Detail::Version(doc) => doc.line_count(),
            Detail::Removed | Detail::Read | Detail::Building => 1,
            Detail::Diff { lines, .. } => lines.len(),
        }
    }
}

/// The History view (in place of the keys).
#[derive(Debug, Default)]
pub struct HistoryView {
    pub trace: Box<str>,
    pub key: String,
    pub full_key: String,
    pub request: Option<u64>,
    pub error: Option<String>,
    /// The records were read once (they are not kept).
    pub loaded: bool,
    /// Every entry, reads included.
    all: Vec<Entry>,
    /// The entries listed: `all`, without reads unless `reads`.
    pub entries: Vec<Entry>,
    /// The value in Redis when the records were read (`None` inside: the key is gone).
    pub current: Option<Option<Arc<[u8]>>>,
    /// The newest write against the value now, worked out when read.
    pub now: Option<NowCompared>,
    pub reads: bool,
    pub list: ListState,
    pub diff: DiffMode,
    pub detail_scroll: usize,
    /// What the Value pane shows for the cursor's entry.
    pub detail: Option<Detail>,
    /// The diff the worker is building for `detail` (an answer to another is stale).
    pub diff_request: Option<u64>,
    /// The group has no records of its own: what the search of every flow's records read.
    pub search: Option<SearchInfo>,
    /// A search under way: flows read, of how many.
    pub progress: Option<(usize, usize)>,
}

impl HistoryView {
    pub fn new(trace: &str, key: &str, full_key: &str) -> Self {
        Self {
            trace: trace.into(),
            key: key.into(),
            full_key: full_key.into(),
            ..Self::default()
        }
    }

    /// Takes what the records say about the key (its events, values as compact text).
    pub fn take_history(&mut self, events: Vec<KeyTraceEvent>, current: Option<Option<Vec<u8>>>) {
        self.all = events
            .into_iter()
            .map(|e| Entry {
                timestamp: e.timestamp,
                value: e.value.map(Arc::from),
                step: e.step,
                operation: e.operation,
                step_index: e.step_index,
            })
            .collect();
        self.current = current.map(|c| c.map(Arc::from));
        self.loaded = true;
        self.build();
        self.now = self.compare_now();
    }

    /// The entries listed, from all of them (reads included or not).
    pub fn build(&mut self) {
        self.entries = self
            .all
            .iter()
            .filter(|e| self.reads || e.is_write())
            .cloned()
            .collect();
    }

    /// The flow whose records hold entry `i`, when they are not the trace's own.
    pub fn flow_of(&self, i: usize) -> Option<&str> {
        let step = self.entries.get(i)?.step_index;
        self.search.as_ref()?.flows.get(step).map(String::as_str)
    }

    /// What the search read, as a phrase: `all 12 flows listed`, `the newest 5000 of 7200 …`.
    pub fn searched_text(&self) -> Option<String> {
        let s = self.search.as_ref()?;
        Some(crate::browser::format::searched_flows(s.listed, s.searched))
    }

    /// Where the versions come from, a short line each (the pane does not wrap them).
    pub fn source_lines(&self) -> Vec<String> {
        match self.searched_text() {
            Some(s) => vec![
                format!(
                    "{}: no trace records of its own;",
                    crate::browser::text::name(&self.trace)
                ),
                "found in other flows' records".to_string(),
                format!("(searched {s})"),
            ],
            None => vec![
                "from Motia's trace records (kept 3 days); writes outside traced steps do not \
                 appear"
                    .to_string(),
            ],
        }
    }

    /// Lines of the Value pane above the version or diff.
    pub fn detail_header(&self) -> usize {
        self.source_lines().len() + self.detail.as_ref().map_or(0, Detail::header)
    }

    /// The newest write compared with the value now.
    fn compare_now(&self) -> Option<NowCompared> {
        let current = self.current.as_ref()?;
        let last = self.entries.iter().rev().find(|e| e.is_write());
        Some(match (last, current) {
            (None, _) => NowCompared::NoWrites,
            (Some(e), Some(now)) if e.operation == "set" => {
                // Compared as compact text: parsing megabytes into trees would take tens of
                // times their size. Texts that differ only in escapes or number spelling are
                // parsed when small.
                let then = e.value.as_deref().unwrap_or("null");
                let now_text = std::str::from_utf8(now).ok();
                let same = now_text
                    .and_then(|t| motia_state::json::compact(t).ok())
                    .is_some_and(|c| c == then)
                    || (now.len() + then.len() <= SMALL
                        && matches!(
                            (serde_json::from_slice::<Value>(now), serde_json::from_str::<Value>(then)),
                            (Ok(a), Ok(b)) if a == b
                        ));
                if same {
                    NowCompared::Equal
                } else {
                    NowCompared::Changed
                }
            }
            (Some(_), Some(_)) => NowCompared::Recreated,
            (Some(e), None) if e.operation == "set" => NowCompared::GoneSince,
            (Some(_), None) => NowCompared::Deleted,
        })
    }

    /// Entry `i` as one side of a diff; `None` for reads.
    fn version_side(&self, i: usize) -> Option<DiffSide> {
        let e = self.entries.get(i)?;
        match e.operation.as_str() {
            "set" => Some(DiffSide::Compact(
                e.value.clone().unwrap_or_else(|| Arc::from("null")),
            )),
            "delete" | "clear" => Some(DiffSide::Empty),
            _ => None,
        }
    }

    /// Builds what the Value pane shows for the cursor's entry in the current mode. A diff
    /// is left to the worker: the two sides to compare are returned and the pane says it is
    /// being built until [`HistoryView::diff_built`].
    pub fn build_detail(&mut self) -> Option<(DiffSide, DiffSide)> {
        let i = self.list.cursor;
        self.detail = None;
        self.diff_request = None;
        let e = self.entries.get(i)?;
        let mut job = None;
        let detail = match e.operation.as_str() {
            "set" | "delete" | "clear" if self.diff != DiffMode::Off => {
                let this = self.version_side(i).unwrap_or(DiffSide::Empty);
                job = Some(match self.diff {
                    DiffMode::Now => {
                        let now = match self.current.as_ref() {
                            Some(Some(bytes)) => DiffSide::Stored(bytes.clone()),
                            _ => DiffSide::Empty,
                        };
                        (this, now)
                    }
                    _ => {
                        // The version before it (empty when the key did not exist before).
                        let before = (0..i)
                            .rev()
                            .find_map(|j| self.version_side(j))
                            .unwrap_or(DiffSide::Empty);
                        (before, this)
                    }
                });
                Detail::Building
            }
            "set" => {
                let text = e.value.as_deref().unwrap_or("null");
                let mut doc = ValueDoc::build(text.as_bytes(), text.len() as u64);
                // A copy of the stored bytes is for editing, which a past version is not.
                doc.raw = None;
                Detail::Version(Arc::new(doc))
            }
            "delete" | "clear" => Detail::Removed,
            _ => Detail::Read,
        };
        self.detail = Some(detail);
        job
    }

    /// The worker's diff for request `id`; false (and dropped) when it is stale.
    pub fn diff_built(&mut self, id: u64, diff: crate::browser::action::BuiltDiff) -> bool {
        if self.diff_request != Some(id) {
            return false;
        }
        self.diff_request = None;
        self.detail = Some(Detail::Diff {
            lines: diff.lines,
            added: diff.added,
            removed: diff.removed,
        });
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_is_the_pretty_json_of_the_value() {
        let v: Value = serde_json::from_str(
            r#"{"a":[1,2.50,{"b":"é \"q\" \u0001"}],"e":{},"f":[],"g":null,"h":-1e5}"#,
        )
        .unwrap();
        let compact = motia_state::json::to_compact(&v);
        assert_eq!(
            crate::browser::doc::reindent(&compact),
            motia_state::json::to_pretty(&v)
        );
    }
}
