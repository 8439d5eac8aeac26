//! This session's journalled writes: what `u` undoes (newest first) and `:journal` lists.

// A message from the worker too, so it is defined with the messages.
pub use crate::browser::action::SessionEntry;
use crate::browser::model::Model;

/// The newest entry `u` undoes.
pub fn newest_undoable(m: &Model) -> Option<&SessionEntry> {
    m.journal.iter().rev().find(|e| e.undoable())
}

/// The entries as the overlay lists them, newest first.
pub fn listed(m: &Model) -> impl Iterator<Item = &SessionEntry> {
    m.journal.iter().rev()
}
