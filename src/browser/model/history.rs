//! A key's history from Motia's trace records: each set with its value, deletes and clears,
//! reads on request, compared with the value now.

use std::sync::Arc;

use motia_state::adapter::traces::{HistoryEntry, TraceRecords, key_history};
use serde_json::Value;

use crate::browser::action::SearchInfo;
use crate::browser::model::list::ListState;

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

/// The History view (in place of the keys).
#[derive(Debug, Default)]
pub struct HistoryView {
    pub trace: Box<str>,
    pub key: String,
    pub full_key: String,
    pub request: Option<u64>,
    pub error: Option<String>,
    pub records: Option<Arc<TraceRecords>>,
    pub entries: Vec<HistoryEntry>,
    /// The value in Redis when the records were read (`None` inside: the key is gone).
    pub current: Option<Option<Vec<u8>>>,
    pub reads: bool,
    pub list: ListState,
    pub diff: DiffMode,
    pub detail_scroll: usize,
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

    /// Recomputes the entries from the records (reads included or not).
    pub fn build(&mut self) {
        // The view names the trace and key escaped; the records name them as JSON text (a
        // trace id that is not UTF-8 lossily, in its own records).
        let raw = |shown: &str| motia_state::escape::unescape_name(shown);
        let group = String::from_utf8_lossy(&raw(&self.trace)).into_owned();
        self.entries = match (&self.records, String::from_utf8(raw(&self.key))) {
            (Some(r), Ok(key)) => key_history(r, &group, &key, self.reads),
            _ => Vec::new(),
        };
    }

    /// The flow whose records hold entry `i`, when they are not the trace's own.
    pub fn flow_of(&self, i: usize) -> Option<&str> {
        let step = self.entries.get(i)?.step_index;
        self.search.as_ref()?.flows.get(step).map(String::as_str)
    }

    /// What the search read, as a phrase: `all 12 flows`, `the newest 5000 of 7200 flows`.
    pub fn searched_text(&self) -> Option<String> {
        let s = self.search.as_ref()?;
        let flows = |n: usize| if n == 1 { "flow" } else { "flows" };
        Some(if s.searched >= s.listed {
            match s.listed {
                1 => "the 1 flow listed".to_string(),
                n => format!("all {n} {} listed", flows(n)),
            }
        } else {
            format!("the newest {} of {} flows listed", s.searched, s.listed)
        })
    }

    /// The newest write compared with the value now.
    pub fn compare_now(&self) -> Option<NowCompared> {
        let current = self.current.as_ref()?;
        let last = self.entries.iter().rev().find(|e| e.is_write());
        Some(match (last, current) {
            (None, _) => NowCompared::NoWrites,
            (Some(e), Some(now)) if e.operation == "set" => {
                let same = serde_json::from_slice::<Value>(now)
                    .ok()
                    .is_some_and(|v| Some(&v) == e.value.as_ref());
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

    /// The stored text of entry `i` as a version: the value a set wrote, nothing after a
    /// delete or clear; `None` for reads.
    pub fn version_text(&self, i: usize) -> Option<String> {
        let e = self.entries.get(i)?;
        match e.operation.as_str() {
            "set" => Some(
                e.value
                    .as_ref()
                    .map(motia_state::json::to_pretty)
                    .unwrap_or_else(|| "null".into()),
            ),
            "delete" | "clear" => Some(String::new()),
            _ => None,
        }
    }

    /// The version before entry `i` (empty when the key did not exist before).
    pub fn previous_text(&self, i: usize) -> String {
        (0..i)
            .rev()
            .find_map(|j| self.version_text(j))
            .unwrap_or_default()
    }

    /// The value now as pretty text (empty when gone).
    pub fn now_text(&self) -> Option<String> {
        let current = self.current.as_ref()?;
        Some(match current {
            Some(bytes) => crate::diff::comparable_text(bytes),
            None => String::new(),
        })
    }
}
