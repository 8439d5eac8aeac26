//! Progress of the scan that builds the index.

use std::time::{Duration, Instant};

/// Progress of the current scan.
#[derive(Debug, Default)]
pub struct ScanState {
    pub generation: u64,
    pub running: bool,
    pub started: Option<Instant>,
    /// Final duration of the last finished scan.
    pub took: Option<Duration>,
    pub seen: u64,
    pub dbsize: Option<u64>,
    pub error: Option<String>,
    /// The scan broke off with the connection; run it again when the server is back.
    pub interrupted: bool,
    /// Some scan has completed since start.
    pub completed_once: bool,
    /// The index held keys when this scan started (so it may need pruning at the end).
    pub had_keys: bool,
}
