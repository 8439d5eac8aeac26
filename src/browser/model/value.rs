//! The Value pane: which key it shows and what was loaded for it.

use std::sync::Arc;
use std::time::Instant;

use crate::browser::doc::ValueDoc;
use crate::diff::Diff;

/// The Value pane.
#[derive(Debug, Default)]
pub struct ValuePane {
    /// The key the pane is about (full Redis key).
    pub full_key: Option<String>,
    /// What was loaded for `full_key`.
    pub doc: Option<Arc<ValueDoc>>,
    /// The request whose answer is awaited; any other answer is stale.
    pub request: Option<u64>,
    /// When the (debounced) load should go out.
    pub due: Option<Instant>,
    /// The next load reads the whole value.
    pub want_full: bool,
    pub error: Option<String>,
    /// The key no longer exists.
    pub gone: bool,
    /// The first line shown.
    pub scroll: usize,
    /// While wrapping: the rows of line `scroll` scrolled past (a line of megabytes wraps
    /// into thousands of rows).
    pub scroll_row: usize,
    /// `y` was pressed before the value arrived: copy it when it does.
    pub copy_pending: bool,
    /// Columns scrolled to the right (long lines, not wrapping).
    pub hscroll: usize,
    /// The version shown before the last change of this key (what `=` compares with).
    pub previous: Option<Arc<ValueDoc>>,
    /// Lines of the shown version that differ from `previous`, marked for a while.
    pub changed_lines: Vec<usize>,
    /// When the shown version replaced `previous`.
    pub changed_at: Option<Instant>,
    /// `=`: show the line diff against `previous` instead of the value.
    pub show_diff: bool,
    /// The line diff from `previous` to the shown version (`None`: too big to compare).
    pub diff: Option<Arc<Diff>>,
}
