//! This session's journalled writes: what `u` undoes (newest first) and `:journal` lists.

use crate::browser::model::Model;

/// One write of this session as the journal kept it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionEntry {
    /// The journal entry's id.
    pub id: u64,
    /// When it was written (UTC, as the journal has it).
    pub time: String,
    /// `save`, `delete`, `expire`, `import`, `gc`, `undo`.
    pub operation: String,
    /// The keys it changed, one line.
    pub keys: String,
    /// What undoing it does, a line per key (the first few).
    pub undo: Vec<String>,
    /// The entry this one undid.
    pub undoes: Option<u64>,
    /// Undone in this session.
    pub undone: bool,
}

impl SessionEntry {
    /// Whether `u` may undo it: not undone already, and no undo itself (that would redo).
    pub fn undoable(&self) -> bool {
        !self.undone && self.undoes.is_none()
    }
}

/// The newest entry `u` undoes.
pub fn newest_undoable(m: &Model) -> Option<&SessionEntry> {
    m.journal.iter().rev().find(|e| e.undoable())
}

/// The entries as the overlay lists them, newest first.
pub fn listed(m: &Model) -> impl Iterator<Item = &SessionEntry> {
    m.journal.iter().rev()
}
