//! A key's history from Motia's trace records: each set with its value, deletes and clears,
//! reads on request, compared with the value now.

use std::sync::Arc;

use motia_state::adapter::traces::{HistoryEntry, TraceRecords, key_history};
use serde_json::Value;

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
        self.entries = match &self.records {
            Some(r) => key_history(r, &self.trace, &self.key, self.reads),
            None => Vec::new(),
        };
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
