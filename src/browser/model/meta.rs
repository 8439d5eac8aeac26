//! Type, size and TTL of keys, as fetched for the rows on screen.

use std::time::Instant;

use motia_state::Ttl;

use crate::browser::action::RowMeta;

/// Metadata of a row and when it was fetched (the TTL counts down from there).
#[derive(Debug, Clone)]
pub struct MetaEntry {
    pub meta: RowMeta,
    pub at: Instant,
    /// Seen missing at this time; the key is removed after a grace period.
    pub gone_since: Option<Instant>,
}

impl MetaEntry {
    /// TTL left at `now`.
    pub fn ttl_at(&self, now: Instant) -> Ttl {
        match self.meta.ttl {
            Ttl::Expires(d) => {
                Ttl::Expires(d.saturating_sub(now.saturating_duration_since(self.at)))
            }
            other => other,
        }
    }
}
