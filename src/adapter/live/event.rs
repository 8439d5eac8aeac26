//! What a subscription delivers: a key's event, its kind, and the messages between them (a lost
//! link, a changed setting).

use std::time::SystemTime;

use crate::adapter::escape;
use crate::adapter::keys::KeySpace;
use crate::adapter::notify::NotifySetting;

/// What a command did to a key, as far as a browser of state cares.
///
/// ```
/// use motia_state::live::EventKind;
/// assert_eq!(EventKind::of("set"), EventKind::Set);
/// assert!(EventKind::of("expired").removes());
/// assert!(EventKind::of("persist").ttl_only());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// The value was written (`set`, `setrange`, `append`, `incrby`, `restore`, `copy_to`, ...).
    Set,
    /// Deleted (`del`; `UNLINK` and `GETDEL` report this too).
    Del,
    /// Expired.
    Expired,
    /// Evicted under `maxmemory`.
    Evicted,
    /// An expiry was set (`expire`, also from `GETEX`).
    Expire,
    /// The expiry was removed.
    Persist,
    /// Renamed away (the key is gone).
    RenameFrom,
    /// Renamed to this key (the key now holds the moved value).
    RenameTo,
    /// Moved to another database (gone from this one).
    MoveFrom,
    /// Any other command (hash commands on trace records, `new`, module types...).
    Other,
}

impl EventKind {
    /// The kind of a notification's event name.
    ///
    /// ```
    /// use motia_state::live::EventKind;
    /// assert_eq!(EventKind::of("rename_from"), EventKind::RenameFrom);
    /// assert_eq!(EventKind::of("hset"), EventKind::Other);
    /// ```
    pub fn of(event: &str) -> Self {
        match event {
            "set" | "setrange" | "append" | "incrby" | "incrbyfloat" | "restore" | "copy_to"
            | "move_to" | "sortstore" => EventKind::Set,
            "del" => EventKind::Del,
            "expired" => EventKind::Expired,
            "evicted" => EventKind::Evicted,
            "expire" => EventKind::Expire,
            "persist" => EventKind::Persist,
            "rename_from" => EventKind::RenameFrom,
            "rename_to" => EventKind::RenameTo,
            "move_from" => EventKind::MoveFrom,
            _ => EventKind::Other,
        }
    }

    /// True when the key no longer exists after this event.
    ///
    /// ```
    /// use motia_state::live::EventKind;
    /// assert!(EventKind::Del.removes() && !EventKind::Set.removes());
    /// ```
    pub fn removes(self) -> bool {
        matches!(
            self,
            EventKind::Del
                | EventKind::Expired
                | EventKind::Evicted
                | EventKind::RenameFrom
                | EventKind::MoveFrom
        )
    }

    /// True when only the expiry changed.
    ///
    /// ```
    /// use motia_state::live::EventKind;
    /// assert!(EventKind::Expire.ttl_only() && !EventKind::Set.ttl_only());
    /// ```
    pub fn ttl_only(self) -> bool {
        matches!(self, EventKind::Expire | EventKind::Persist)
    }
}

/// One notification: which key, which command, when it arrived. Keys of any bytes are
/// delivered: `raw` holds them exactly, `key` as text.
///
/// ```
/// use motia_state::KeySpace;
/// use motia_state::live::KeyEvent;
/// let ev = KeyEvent::new("motia:state:t1:order", "set");
/// let (trace, key) = ev.state_key(&KeySpace::new("motia:state:")).unwrap();
/// assert_eq!((trace, key), (&b"t1"[..], &b"order"[..]));
/// let rec = KeyEvent::new("motia:trace:t1", "hset");
/// assert_eq!(rec.trace_record("motia:trace:"), Some(&b"t1"[..]));
/// let odd = KeyEvent::from_bytes(b"motia:state:t\xff:k".to_vec(), "del");
/// assert_eq!(odd.key, "motia:state:t\\xff:k");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyEvent {
    /// The full Redis key as text: itself when it is UTF-8, else escaped as
    /// [`crate::escape::shown`] shows it. Use [`raw`](Self::raw) to reach the key.
    pub key: String,
    /// The full Redis key's exact bytes.
    pub raw: Vec<u8>,
    /// The event name as Redis sent it (`set`, `del`, `expired`, `rename_from`...).
    pub event: String,
    /// What it means.
    pub kind: EventKind,
    /// When it was received (notifications carry no time of their own).
    pub received: SystemTime,
}

impl KeyEvent {
    /// An event received now.
    ///
    /// ```
    /// use motia_state::live::{EventKind, KeyEvent};
    /// assert_eq!(KeyEvent::new("k", "del").kind, EventKind::Del);
    /// ```
    pub fn new(key: impl Into<String>, event: impl Into<String>) -> Self {
        let key = key.into();
        Self::with(key.as_bytes().to_vec(), key, event.into())
    }

    /// An event received now for a key given as exact bytes (any bytes).
    ///
    /// ```
    /// use motia_state::live::KeyEvent;
    /// let ev = KeyEvent::from_bytes(b"k\xff".to_vec(), "set");
    /// assert_eq!((ev.raw.as_slice(), ev.key.as_str()), (&b"k\xff"[..], "k\\xff"));
    /// ```
    pub fn from_bytes(raw: Vec<u8>, event: impl Into<String>) -> Self {
        let key = escape::shown(&raw);
        Self::with(raw, key, event.into())
    }

    fn with(raw: Vec<u8>, key: String, event: String) -> Self {
        Self {
            key,
            raw,
            kind: EventKind::of(&event),
            event,
            received: SystemTime::now(),
        }
    }

    /// `(traceId, key)` as exact bytes when the key is a state item under `keys`' prefix.
    ///
    /// ```
    /// use motia_state::KeySpace;
    /// use motia_state::live::KeyEvent;
    /// let ks = KeySpace::new("motia:state:");
    /// assert_eq!(KeyEvent::new("other", "set").state_key(&ks), None);
    /// let ev = KeyEvent::from_bytes(b"motia:state:t\xff:k".to_vec(), "set");
    /// assert_eq!(ev.state_key(&ks), Some((&b"t\xff"[..], &b"k"[..])));
    /// ```
    pub fn state_key<'a>(&'a self, keys: &KeySpace) -> Option<(&'a [u8], &'a [u8])> {
        keys.split(&self.raw)
    }

    /// The trace id (or `default`, the group index) as exact bytes when the key is a Motia
    /// trace record under `trace_prefix` ([`crate::Config::trace_prefix`]).
    ///
    /// ```
    /// use motia_state::live::KeyEvent;
    /// let ev = KeyEvent::new("motia:trace:default", "hset");
    /// assert_eq!(ev.trace_record("motia:trace:"), Some(&b"default"[..]));
    /// let ev = KeyEvent::from_bytes(b"motia:trace:t\xff".to_vec(), "hset");
    /// assert_eq!(ev.trace_record("motia:trace:"), Some(&b"t\xff"[..]));
    /// ```
    pub fn trace_record(&self, trace_prefix: &str) -> Option<&[u8]> {
        self.raw
            .strip_prefix(trace_prefix.as_bytes())
            .filter(|id| !id.is_empty())
    }
}

/// What a subscription yields.
///
/// ```
/// use motia_state::live::LiveMessage;
/// let m = LiveMessage::Reconnected;
/// assert!(m.events_lost());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveMessage {
    /// A key changed.
    Event(KeyEvent),
    /// The subscription's connection was lost; it is being re-established.
    Disconnected,
    /// Subscribed again after a disconnection. Events in between were lost: resynchronise.
    Reconnected,
    /// The reader fell behind and this many notifications were dropped: resynchronise.
    Overflow {
        /// Notifications dropped.
        dropped: u64,
    },
    /// The server's setting changed: when it no longer covers live updates, nothing more
    /// will arrive until it does again.
    SettingChanged(NotifySetting),
}

impl LiveMessage {
    /// True when events may have been missed, so the caller should resynchronise.
    ///
    /// ```
    /// use motia_state::live::LiveMessage;
    /// assert!(LiveMessage::Overflow { dropped: 3 }.events_lost());
    /// assert!(!LiveMessage::Disconnected.events_lost());
    /// ```
    pub fn events_lost(&self) -> bool {
        matches!(
            self,
            LiveMessage::Reconnected | LiveMessage::Overflow { .. }
        )
    }
}
