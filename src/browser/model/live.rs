//! Live mode: whether keyspace notifications are followed, what changed in the last seconds,
//! and following the newest trace.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use motia_state::notify::NotifySetting;

/// Keys and traces changed within this long are marked in their panes.
pub const MARK: Duration = Duration::from_secs(5);
/// At most this many marks are kept (a flood of writes marks what fits).
pub const MAX_MARKS: usize = 20_000;

/// Whether the index follows notifications.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum LiveState {
    /// Not known yet (before the first check).
    #[default]
    Unknown,
    /// Following notifications.
    Live,
    /// Not following; the screen is re-read periodically as without live mode.
    Polling { reason: String },
    /// The subscription's connection is down; it is being re-established.
    Reconnecting,
}

/// Live mode as the screen knows it.
#[derive(Debug, Default)]
pub struct LiveModel {
    pub state: LiveState,
    /// The server's `notify-keyspace-events`, when it could be read.
    pub setting: Option<NotifySetting>,
    /// `:live on` succeeded in this browser (so `:live off` has something to restore).
    pub switched_on: bool,
    /// `F`: the selection jumps to the newest trace and its last written key.
    pub follow: bool,
    /// Full keys changed recently, and when.
    pub keys: HashMap<String, Instant>,
    /// Traces with a key changed recently, and when.
    pub traces: HashMap<Box<str>, Instant>,
    /// iii layout: when each scope last changed while live (the `newest` order; scopes leave
    /// it with their last field).
    pub activity: HashMap<Box<str>, Instant>,
    /// Keys removed while a scan runs: a page read before the removal must not bring them back.
    pub removed_while_scanning: HashSet<String>,
    /// The `:live on`/`:live off` awaiting its outcome (its notification id).
    pub switching: Option<u64>,
    /// The database had fewer keys than the index: checked again at this time.
    pub flush_check: Option<Instant>,
}

impl LiveModel {
    /// True while following notifications.
    pub fn is_live(&self) -> bool {
        self.state == LiveState::Live
    }

    /// True when `full_key` changed within [`MARK`] of `now`.
    pub fn key_marked(&self, full_key: &str, now: Instant) -> bool {
        self.keys
            .get(full_key)
            .is_some_and(|t| now.saturating_duration_since(*t) < MARK)
    }

    /// True when a key of `trace` changed within [`MARK`] of `now`.
    pub fn trace_marked(&self, trace: &str, now: Instant) -> bool {
        self.traces
            .get(trace)
            .is_some_and(|t| now.saturating_duration_since(*t) < MARK)
    }

    /// True while some mark is still shown (the screen changes when it ends).
    pub fn has_marks(&self) -> bool {
        !self.keys.is_empty() || !self.traces.is_empty()
    }
}
