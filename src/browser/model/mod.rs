//! What the screen knows, one file per concern: plain data and queries on it. Only `update`
//! changes it; the UI only reads it. Nothing here imports update, ui, app or worker.

pub mod clock;
pub mod command_line;
pub mod connection;
pub mod connections;
pub mod dialog;
pub mod editor;
pub mod filter;
pub mod fingerprints;
pub mod help;
pub mod history;
pub mod journal;
pub mod key_set;
pub mod keys;
pub mod layout;
pub mod list;
pub mod live;
pub mod meta;
pub mod notifications;
pub mod other_layout;
pub mod scan;
pub mod stats;
pub mod streams;
pub mod timeline;
pub mod traces;
pub mod value;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use motia_state::{KeySpace, Ttl};

use crate::browser::keymap::Keymap;
pub use crate::browser::pane::{Pane, Place};
pub use clock::{Clock, SystemClock};
pub use connection::{ConnState, ServerState};
use dialog::Dialog;
use editor::Editor;
use keys::{KeysPane, RowKind};
use list::ListState;
use live::LiveModel;
use meta::MetaEntry;
use notifications::{Note, Toast, next_toast_expiry};
use scan::ScanState;
use traces::{Index, TraceSort, TracesPane};
use value::ValuePane;

/// How keys are read: as bindings, or as text for a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// Typing the filter of this pane.
    Filter(Pane),
}

/// Something drawn over the panes (issue 4 adds dialogs and the editor here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    Help {
        scroll: usize,
    },
    /// The connection picker, on row `selected`.
    Connections {
        selected: usize,
    },
    /// This session's journalled writes, newest first, on row `selected`.
    Journal {
        selected: usize,
    },
}

/// Settings that do not change while running.
#[derive(Debug, Clone)]
pub struct Settings {
    pub url: String,
    pub prefix: String,
    pub read_only: bool,
    /// Which state layout is browsed and why (status bar); empty when not known.
    pub layout: String,
    /// The iii layout (Motia 1.x): the groups are scopes, and there are no trace records.
    pub iii: bool,
    /// The saved connection in use.
    pub profile: Option<String>,
    pub refresh: Option<Duration>,
    pub rescan: Option<Duration>,
}

impl Settings {
    /// What a group of keys is called in words: a trace (0.x) or a scope (iii).
    pub fn group_noun(&self) -> &'static str {
        if self.iii { "scope" } else { "trace" }
    }
}

/// Everything the browser knows.
pub struct Model {
    pub clock: Arc<dyn Clock>,
    pub keymap: Keymap,
    pub keyspace: KeySpace,
    pub settings: Settings,
    pub size: (u16, u16),
    pub conn: ConnState,
    pub server_version: Option<String>,
    pub server: ServerState,
    pub focus: Pane,
    pub mode: Mode,
    pub overlay: Option<Overlay>,
    pub note: Option<Note>,
    pub index: Index,
    pub scan: ScanState,
    pub traces: TracesPane,
    pub keys: KeysPane,
    pub value: ValuePane,
    pub meta: HashMap<String, MetaEntry>,
    pub meta_inflight: HashSet<String>,
    pub next_request: u64,
    pub next_refresh: Option<Instant>,
    pub next_rescan: Option<Instant>,
    /// Something changed since the last draw.
    pub dirty: bool,
    /// Long value lines wrap instead of being cut.
    pub wrap: bool,
    /// Key presses handled so far (the benchmark matches frames to presses with it).
    pub keys_handled: u64,
    /// The in-place editor, when open.
    pub editor: Option<Editor>,
    /// A prompt, confirmation or conflict dialog (over the editor, if any).
    pub dialog: Option<Dialog>,
    /// Writes and their results.
    pub toasts: Vec<Toast>,
    pub next_write: u64,
    /// What each write in flight is, for its notification.
    pub write_labels: HashMap<u64, String>,
    /// The stats view, when open.
    pub stats: Option<stats::StatsView>,
    /// The selected flow's timeline, shown in place of the keys.
    pub timeline: Option<timeline::TimelineView>,
    /// A key's history, shown in place of the keys.
    pub history: Option<history::HistoryView>,
    /// Live mode (keyspace notifications), changes marks and following.
    pub live: LiveModel,
    /// The saved connections the picker offers.
    pub connections: Vec<connections::ConnectionEntry>,
    /// This session's journalled writes, oldest first.
    pub journal: Vec<journal::SessionEntry>,
    /// The look for iii state beside the 0.x keys, left by detection for after the index.
    pub other_layout: other_layout::OtherLayout,
}

impl Model {
    pub fn new(settings: Settings, keymap: Keymap, clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            keymap,
            keyspace: KeySpace::new(settings.prefix.clone()),
            settings,
            size: (80, 24),
            conn: ConnState::Connecting {
                attempt: 0,
                error: None,
            },
            server_version: None,
            server: ServerState::default(),
            focus: Pane::Traces,
            mode: Mode::Normal,
            overlay: None,
            note: None,
            index: Index::default(),
            scan: ScanState::default(),
            traces: TracesPane {
                view: Vec::new(),
                list: ListState::default(),
                filter: String::new(),
                sort: TraceSort::Id,
                selected: None,
                anchor: None,
                status_filter: None,
                sort_chosen: false,
                stale: false,
                pending: Vec::new(),
            },
            keys: KeysPane::default(),
            value: ValuePane::default(),
            meta: HashMap::new(),
            meta_inflight: HashSet::new(),
            next_request: 0,
            next_refresh: None,
            next_rescan: None,
            dirty: true,
            wrap: false,
            keys_handled: 0,
            editor: None,
            dialog: None,
            toasts: Vec::new(),
            next_write: 0,
            write_labels: HashMap::new(),
            stats: None,
            timeline: None,
            history: None,
            live: LiveModel::default(),
            connections: Vec::new(),
            journal: Vec::new(),
            other_layout: other_layout::OtherLayout::NotNeeded,
        }
    }

    pub fn now(&self) -> Instant {
        self.clock.now()
    }

    /// What the focused pane shows, where keys act.
    pub fn place(&self) -> Place {
        let (list, detail) = if self.timeline.is_some() {
            (Place::Timeline, Place::Step)
        } else if self.history.is_some() {
            (Place::History, Place::Version)
        } else {
            (Place::Keys, Place::Value)
        };
        match self.focus {
            Pane::Traces => Place::Traces,
            Pane::Keys => list,
            Pane::Value => detail,
        }
    }

    /// Full Redis key of a key of the selected trace.
    pub fn full_key(&self, key: &str) -> Option<String> {
        let trace = self.keys.trace.as_deref()?;
        Some(format!("{}{trace}:{key}", self.settings.prefix))
    }

    /// The key row under the cursor, if it is a key.
    pub fn cursor_key(&self) -> Option<&str> {
        match &self.keys.rows.get(self.keys.list.cursor)?.kind {
            RowKind::Key { key } => Some(key),
            RowKind::Folder { .. } => None,
        }
    }

    /// When the event loop should wake up even if nothing happens.
    pub fn next_wakeup(&self) -> Option<Instant> {
        let now = self.now();
        let mut t: Option<Instant> = None;
        let mut at = |x: Option<Instant>| {
            if let Some(x) = x {
                t = Some(t.map_or(x, |t: Instant| t.min(x)));
            }
        };
        if self.conn == ConnState::Connected {
            at(self.value.due);
            at(self.next_refresh);
            at(self.next_rescan);
            at(self.live.flush_check);
        }
        if self.animating() {
            at(Some(now + Duration::from_secs(1)));
        }
        at(next_toast_expiry(self));
        t
    }

    /// True while something on screen changes by itself (a TTL counting down, a scan clock, a
    /// key waiting to be removed).
    pub fn animating(&self) -> bool {
        if self.scan.running {
            return true;
        }
        let visible_countdown = self.visible_keys().iter().any(|k| {
            self.meta
                .get(k)
                .is_some_and(|m| matches!(m.meta.ttl, Ttl::Expires(_)) || m.gone_since.is_some())
        });
        visible_countdown
            || self.live.has_marks()
            || self.value.changed_at.is_some()
            || self
                .value
                .full_key
                .as_ref()
                .and_then(|k| self.meta.get(k))
                .is_some_and(|m| matches!(m.meta.ttl, Ttl::Expires(_)))
    }

    /// Full keys of the key rows on screen.
    pub fn visible_keys(&self) -> Vec<String> {
        let h = layout::keys_height(self.size);
        let end = (self.keys.list.offset + h).min(self.keys.rows.len());
        self.keys.rows[self.keys.list.offset.min(end)..end]
            .iter()
            .filter_map(|r| match &r.kind {
                RowKind::Key { key } => self.full_key(key),
                RowKind::Folder { .. } => None,
            })
            .collect()
    }
}

/// `(trace, key)` of a full key as the model holds it: escaped text, so both parts are text.
pub fn split_shown<'a>(keyspace: &KeySpace, full: &'a str) -> Option<(&'a str, &'a str)> {
    let (trace, key) = keyspace.split(full)?;
    Some((
        std::str::from_utf8(trace).ok()?,
        std::str::from_utf8(key).ok()?,
    ))
}
