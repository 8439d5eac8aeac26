//! Bursts of notifications folded into one change per key: an app writing the same key ten
//! times in 50 ms needs one value read, and a `clear` of 100,000 keys one batch of removals.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::adapter::live::{EventKind, KeyEvent};

/// Where a key stands after the events of one window.
///
/// ```
/// use motia_state::coalesce::KeyState;
/// assert_ne!(KeyState::Written, KeyState::Removed);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Written (or created, or renamed to): its value may differ.
    Written,
    /// Gone (deleted, expired, evicted, renamed away).
    Removed,
    /// Only its expiry changed.
    TtlChanged,
}

/// The folded events of one key.
///
/// ```
/// use motia_state::coalesce::{KeyChange, KeyState};
/// let c = KeyChange { key: "k".into(), state: KeyState::Written, ttl_changed: false,
///                     events: 3, last: motia_state::live::EventKind::Set };
/// assert_eq!(c.events, 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyChange {
    /// The full Redis key.
    pub key: String,
    /// Where it stands now.
    pub state: KeyState,
    /// Whether an `expire`/`persist` was among the events.
    pub ttl_changed: bool,
    /// How many events were folded.
    pub events: u32,
    /// The last event's kind (`Expired` vs `Del` tells why a key went).
    pub last: EventKind,
}

/// Collects events and hands them out as one [`KeyChange`] per key, in the order keys first
/// appeared, once the oldest pending event is `window` old (or `max_keys` keys are pending,
/// which bounds memory in a huge burst). Time is passed in, so it tests without sleeping.
///
/// ```
/// use motia_state::coalesce::{Coalescer, KeyState};
/// use motia_state::live::KeyEvent;
/// use std::time::{Duration, Instant};
///
/// let mut c = Coalescer::new(Duration::from_millis(50), 10_000);
/// let t0 = Instant::now();
/// c.push(&KeyEvent::new("p:t:a", "set"), t0);
/// c.push(&KeyEvent::new("p:t:a", "set"), t0);
/// c.push(&KeyEvent::new("p:t:b", "del"), t0);
/// assert!(!c.is_due(t0));
/// assert_eq!(c.deadline(), Some(t0 + Duration::from_millis(50)));
/// let changes = c.take();
/// assert_eq!(changes.len(), 2);
/// assert_eq!((changes[0].state, changes[0].events), (KeyState::Written, 2));
/// assert_eq!(changes[1].state, KeyState::Removed);
/// ```
#[derive(Debug)]
pub struct Coalescer {
    window: Duration,
    max_keys: usize,
    index: HashMap<String, usize>,
    pending: Vec<KeyChange>,
    since: Option<Instant>,
}

impl Coalescer {
    /// Folds events over `window`, at most `max_keys` keys at a time.
    ///
    /// ```
    /// use motia_state::coalesce::Coalescer;
    /// let c = Coalescer::new(std::time::Duration::from_millis(50), 10_000);
    /// assert!(c.is_empty());
    /// ```
    pub fn new(window: Duration, max_keys: usize) -> Self {
        Self {
            window,
            max_keys: max_keys.max(1),
            index: HashMap::new(),
            pending: Vec::new(),
            since: None,
        }
    }

    /// Adds one event received at `now`.
    ///
    /// ```
    /// use motia_state::coalesce::{Coalescer, KeyState};
    /// use motia_state::live::KeyEvent;
    /// let mut c = Coalescer::new(std::time::Duration::ZERO, 10);
    /// let now = std::time::Instant::now();
    /// c.push(&KeyEvent::new("k", "del"), now);
    /// c.push(&KeyEvent::new("k", "set"), now);
    /// assert_eq!(c.take()[0].state, KeyState::Written);
    /// ```
    pub fn push(&mut self, ev: &KeyEvent, now: Instant) {
        self.since.get_or_insert(now);
        let kind = ev.kind;
        if let Some(&i) = self.index.get(&ev.key) {
            let c = &mut self.pending[i];
            c.events = c.events.saturating_add(1);
            c.last = kind;
            if kind.ttl_only() {
                c.ttl_changed = true;
                // An expiry on a key this window saw go means it exists again.
                if c.state == KeyState::Removed {
                    c.state = KeyState::Written;
                }
            } else if kind.removes() {
                c.state = KeyState::Removed;
            } else {
                c.state = KeyState::Written;
            }
            return;
        }
        let state = if kind.ttl_only() {
            KeyState::TtlChanged
        } else if kind.removes() {
            KeyState::Removed
        } else {
            KeyState::Written
        };
        self.index.insert(ev.key.clone(), self.pending.len());
        self.pending.push(KeyChange {
            key: ev.key.clone(),
            state,
            ttl_changed: kind.ttl_only(),
            events: 1,
            last: kind,
        });
    }

    /// When the pending changes are due (`None` when nothing is pending).
    ///
    /// ```
    /// use motia_state::coalesce::Coalescer;
    /// assert_eq!(Coalescer::new(std::time::Duration::ZERO, 1).deadline(), None);
    /// ```
    pub fn deadline(&self) -> Option<Instant> {
        self.since.map(|s| s + self.window)
    }

    /// True when the window is over or too many keys are pending.
    ///
    /// ```
    /// use motia_state::coalesce::Coalescer;
    /// use motia_state::live::KeyEvent;
    /// let mut c = Coalescer::new(std::time::Duration::from_secs(60), 1);
    /// let now = std::time::Instant::now();
    /// c.push(&KeyEvent::new("a", "set"), now);
    /// assert!(c.is_due(now)); // full
    /// ```
    pub fn is_due(&self, now: Instant) -> bool {
        self.pending.len() >= self.max_keys || self.deadline().is_some_and(|d| now >= d)
    }

    /// True when nothing is pending.
    ///
    /// ```
    /// use motia_state::coalesce::Coalescer;
    /// assert!(Coalescer::new(std::time::Duration::ZERO, 1).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Number of keys pending.
    ///
    /// ```
    /// use motia_state::coalesce::Coalescer;
    /// assert_eq!(Coalescer::new(std::time::Duration::ZERO, 1).len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Hands out every pending change (one per key) and starts a new window.
    ///
    /// ```
    /// use motia_state::coalesce::Coalescer;
    /// let mut c = Coalescer::new(std::time::Duration::ZERO, 1);
    /// assert!(c.take().is_empty());
    /// ```
    pub fn take(&mut self) -> Vec<KeyChange> {
        self.index.clear();
        self.since = None;
        std::mem::take(&mut self.pending)
    }

    /// Forgets everything pending (a resynchronising scan supersedes it).
    ///
    /// ```
    /// use motia_state::coalesce::Coalescer;
    /// use motia_state::live::KeyEvent;
    /// let mut c = Coalescer::new(std::time::Duration::ZERO, 10);
    /// c.push(&KeyEvent::new("a", "set"), std::time::Instant::now());
    /// c.clear();
    /// assert!(c.is_empty());
    /// ```
    pub fn clear(&mut self) {
        self.take();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(key: &str, event: &str) -> KeyEvent {
        KeyEvent::new(key, event)
    }

    #[test]
    fn folds_per_key_in_first_seen_order() {
        let t0 = Instant::now();
        let mut c = Coalescer::new(Duration::from_millis(50), 100);
        for (k, e) in [
            ("b", "set"),
            ("a", "set"),
            ("b", "expire"),
            ("c", "expire"),
            ("a", "del"),
            ("d", "expired"),
            ("e", "rename_from"),
            ("f", "rename_to"),
        ] {
            c.push(&ev(k, e), t0);
        }
        assert!(!c.is_due(t0 + Duration::from_millis(49)));
        assert!(c.is_due(t0 + Duration::from_millis(50)));
        let out = c.take();
        let got: Vec<(&str, KeyState, bool, u32)> = out
            .iter()
            .map(|c| (c.key.as_str(), c.state, c.ttl_changed, c.events))
            .collect();
        assert_eq!(
            got,
            [
                ("b", KeyState::Written, true, 2),
                ("a", KeyState::Removed, false, 2),
                ("c", KeyState::TtlChanged, true, 1),
                ("d", KeyState::Removed, false, 1),
                ("e", KeyState::Removed, false, 1),
                ("f", KeyState::Written, false, 1),
            ]
        );
        assert_eq!(out[3].last, EventKind::Expired);
        assert!(c.is_empty() && c.deadline().is_none());
    }

    #[test]
    fn a_full_window_is_due_at_once() {
        let t0 = Instant::now();
        let mut c = Coalescer::new(Duration::from_secs(10), 3);
        c.push(&ev("a", "del"), t0);
        c.push(&ev("a", "del"), t0);
        c.push(&ev("b", "del"), t0);
        assert!(!c.is_due(t0));
        c.push(&ev("c", "del"), t0);
        assert!(c.is_due(t0));
        assert_eq!(c.take().len(), 3);
    }
}
