//! What the screen knows. Only `update` changes it; the UI only reads it.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset};
use motia_state::{KeySpace, Ttl};

use crate::browser::action::RowMeta;
use crate::browser::doc::ValueDoc;
use crate::browser::keymap::Keymap;

/// Where time comes from; tests inject a [`ManualClock`] so countdowns need no sleeping.
pub trait Clock: Send + Sync {
    /// Monotonic now.
    fn now(&self) -> Instant;
    /// Wall-clock time at `now()`, for absolute expiry times.
    fn wall(&self) -> DateTime<FixedOffset>;
}

/// The real clock, local time zone.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
    fn wall(&self) -> DateTime<FixedOffset> {
        chrono::Local::now().fixed_offset()
    }
}

/// A clock that moves only when told to (tests and benchmarks).
#[allow(dead_code)]
pub struct ManualClock {
    base: Instant,
    wall0: DateTime<FixedOffset>,
    offset: Mutex<Duration>,
}

#[allow(dead_code)]
impl ManualClock {
    /// Starts at `wall0`.
    pub fn new(wall0: DateTime<FixedOffset>) -> Self {
        Self {
            base: Instant::now(),
            wall0,
            offset: Mutex::new(Duration::ZERO),
        }
    }

    /// Moves time forward.
    pub fn advance(&self, d: Duration) {
        if let Ok(mut o) = self.offset.lock() {
            *o += d;
        }
    }

    fn offset(&self) -> Duration {
        self.offset.lock().map(|o| *o).unwrap_or_default()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.base + self.offset()
    }
    fn wall(&self) -> DateTime<FixedOffset> {
        self.wall0 + chrono::Duration::from_std(self.offset()).unwrap_or_default()
    }
}

/// The three panes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pane {
    Traces,
    Keys,
    Value,
}

impl Pane {
    pub fn next(self) -> Self {
        match self {
            Pane::Traces => Pane::Keys,
            Pane::Keys => Pane::Value,
            Pane::Value => Pane::Traces,
        }
    }
    pub fn prev(self) -> Self {
        match self {
            Pane::Traces => Pane::Value,
            Pane::Keys => Pane::Traces,
            Pane::Value => Pane::Keys,
        }
    }
}

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
    Help { scroll: usize },
}

/// The connection as the status bar shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnState {
    /// Not connected yet.
    Connecting { attempt: u32, error: Option<String> },
    /// Answering.
    Connected,
    /// Was connected, now is not; the worker retries.
    Lost { reason: String },
}

/// A short message in the status bar (errors stay until the next key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub text: String,
    pub error: bool,
}

/// Trace order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceSort {
    Id,
    KeyCount,
}

/// Every key found under the prefix, by trace. Inserting is idempotent (SCAN repeats keys);
/// each key remembers the last scan generation that saw it, so a finished rescan can drop the
/// keys that are gone.
#[derive(Debug, Default)]
pub struct Index {
    // Hash maps: the scan inserts a million keys, and order is only needed for what is shown
    // (the trace list and one trace's keys are sorted when built).
    pub traces: HashMap<Box<str>, HashMap<Box<str>, u64>>,
    pub total_keys: usize,
}

impl Index {
    /// Records `key` of `trace` as seen by `generation`; true when the trace is new.
    pub fn insert(&mut self, trace: &str, key: &str, generation: u64) -> bool {
        let mut new_trace = false;
        let keys = match self.traces.get_mut(trace) {
            Some(k) => k,
            None => {
                new_trace = true;
                self.traces.entry(trace.into()).or_default()
            }
        };
        match keys.get_mut(key) {
            Some(g) => *g = generation,
            None => {
                keys.insert(key.into(), generation);
                self.total_keys += 1;
            }
        }
        new_trace
    }

    /// Forgets one key (and its trace when it was the last).
    pub fn remove(&mut self, trace: &str, key: &str) {
        if let Some(keys) = self.traces.get_mut(trace) {
            if keys.remove(key).is_some() {
                self.total_keys -= 1;
            }
            if keys.is_empty() {
                self.traces.remove(trace);
            }
        }
    }

    /// Drops what generation `generation` did not see.
    pub fn prune(&mut self, generation: u64) {
        let mut removed = 0;
        self.traces.retain(|_, keys| {
            let before = keys.len();
            keys.retain(|_, g| *g >= generation);
            removed += before - keys.len();
            !keys.is_empty()
        });
        self.total_keys -= removed;
    }

    /// Number of keys of a trace.
    pub fn count(&self, trace: &str) -> usize {
        self.traces.get(trace).map(|k| k.len()).unwrap_or(0)
    }
}

/// Cursor and scroll position of a list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListState {
    pub cursor: usize,
    pub offset: usize,
}

impl ListState {
    /// Clamps the cursor to `len` rows and scrolls so it is visible in `height` rows.
    pub fn fit(&mut self, len: usize, height: usize) {
        let height = height.max(1);
        self.cursor = self.cursor.min(len.saturating_sub(1));
        if self.cursor < self.offset {
            self.offset = self.cursor;
        } else if self.cursor >= self.offset + height {
            self.offset = self.cursor + 1 - height;
        }
        self.offset = self.offset.min(len.saturating_sub(height));
    }
}

/// The Traces pane.
#[derive(Debug)]
pub struct TracesPane {
    /// Trace ids passing the filter, in the current sort.
    pub view: Vec<Box<str>>,
    pub list: ListState,
    pub filter: String,
    pub sort: TraceSort,
    /// The trace whose keys are shown (kept by id across rescans and filter changes).
    pub selected: Option<Box<str>>,
}

/// One row of the key tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowKind {
    /// `path` ends with `:`; `count` keys below it.
    Folder {
        path: String,
        count: usize,
        open: bool,
    },
    /// A key of the trace (without prefix and trace id).
    Key { key: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub depth: usize,
    pub label: String,
    pub kind: RowKind,
}

/// What is selected in the key tree, by identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selected {
    Folder(String),
    Key(String),
}

/// The Keys pane.
#[derive(Debug, Default)]
pub struct KeysPane {
    /// The trace these rows belong to.
    pub trace: Option<Box<str>>,
    pub rows: Vec<Row>,
    pub list: ListState,
    pub filter: String,
    /// Folder paths the user closed.
    pub collapsed: HashSet<String>,
    pub selected: Option<Selected>,
    /// Tree by name, or flat by size or TTL.
    pub sort: crate::browser::edit::KeySort,
    /// `:where`: only keys whose value matches.
    pub where_filter: Option<crate::browser::edit::WhereFilter>,
}

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
    pub scroll: usize,
}

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

/// Settings that do not change while running.
#[derive(Debug, Clone)]
pub struct Settings {
    pub url: String,
    pub prefix: String,
    pub read_only: bool,
    pub refresh: Option<Duration>,
    pub rescan: Option<Duration>,
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
    pub editor: Option<crate::browser::edit::Editor>,
    /// A prompt, confirmation or conflict dialog (over the editor, if any).
    pub dialog: Option<crate::browser::edit::Dialog>,
    /// Writes and their results.
    pub toasts: Vec<crate::browser::edit::Toast>,
    pub next_write: u64,
    /// What each write in flight is, for its notification.
    pub write_labels: HashMap<u64, String>,
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
        }
    }

    pub fn now(&self) -> Instant {
        self.clock.now()
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
        }
        if self.animating() {
            at(Some(now + Duration::from_secs(1)));
        }
        at(crate::browser::edit::next_toast_expiry(self));
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
            || self
                .value
                .full_key
                .as_ref()
                .and_then(|k| self.meta.get(k))
                .is_some_and(|m| matches!(m.meta.ttl, Ttl::Expires(_)))
    }

    /// Full keys of the key rows on screen.
    pub fn visible_keys(&self) -> Vec<String> {
        let h = crate::browser::ui::keys_height(self.size);
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

/// Substring (case-insensitive), or a glob when the pattern has `*` or `?`.
#[derive(Debug, Clone)]
pub struct Matcher {
    pattern: Vec<char>,
    glob: bool,
}

impl Matcher {
    pub fn new(pattern: &str) -> Self {
        Self {
            pattern: pattern.to_lowercase().chars().collect(),
            glob: pattern.contains(['*', '?']),
        }
    }

    pub fn matches(&self, s: &str) -> bool {
        if self.pattern.is_empty() {
            return true;
        }
        let text: Vec<char> = s.to_lowercase().chars().collect();
        if self.glob {
            glob_match(&self.pattern, &text)
        } else {
            text.windows(self.pattern.len())
                .any(|w| w == self.pattern.as_slice())
        }
    }
}

/// `*` any run, `?` one character; whole-string match, iterative with one backtrack point.
fn glob_match(p: &[char], t: &[char]) -> bool {
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// The order of keys in the tree: segment by segment between `:` (so a folder's keys stay
/// together), digit runs by their value (`item:7` before `item:14`, `step2` before `step10`).
pub fn natural_key_cmp(a: &str, b: &str) -> Ordering {
    let (mut sa, mut sb) = (a.split(':'), b.split(':'));
    loop {
        match (sa.next(), sb.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => match natural_segment_cmp(x, y) {
                Ordering::Equal => {}
                other => return other,
            },
        }
    }
}

fn natural_segment_cmp(a: &str, b: &str) -> Ordering {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < x.len() && j < y.len() {
        if x[i].is_ascii_digit() && y[j].is_ascii_digit() {
            let (si, sj) = (i, j);
            while i < x.len() && x[i].is_ascii_digit() {
                i += 1;
            }
            while j < y.len() && y[j].is_ascii_digit() {
                j += 1;
            }
            let (na, nb) = (
                a[si..i].trim_start_matches('0'),
                b[sj..j].trim_start_matches('0'),
            );
            // Longer (without leading zeros) is larger; then digit by digit; then fewer zeros first.
            let o = na
                .len()
                .cmp(&nb.len())
                .then_with(|| na.cmp(nb))
                .then_with(|| (i - si).cmp(&(j - sj)));
            if o != Ordering::Equal {
                return o;
            }
        } else {
            // Byte order of UTF-8 is code point order.
            match x[i].cmp(&y[j]) {
                Ordering::Equal => {
                    i += 1;
                    j += 1;
                }
                other => return other,
            }
        }
    }
    (x.len() - i).cmp(&(y.len() - j))
}

/// The tree rows of a trace's keys: split on `:`, folders with counts, closed folders' contents
/// left out. With a filter, only matching keys and their folders, all open.
pub fn build_rows<'a>(
    keys: impl Iterator<Item = &'a str> + Clone,
    filter: &str,
    collapsed: &HashSet<String>,
) -> Vec<Row> {
    let m = Matcher::new(filter);
    let filtering = !filter.is_empty();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for key in keys.clone().filter(|k| m.matches(k)) {
        for (i, _) in key.match_indices(':') {
            *counts.entry(&key[..=i]).or_insert(0) += 1;
        }
    }
    let mut rows = Vec::new();
    // Open folder paths from the root down.
    let mut stack: Vec<&str> = Vec::new();
    for key in keys.filter(|k| m.matches(k)) {
        while let Some(top) = stack.last() {
            if key.starts_with(top) {
                break;
            }
            stack.pop();
        }
        // Inside a closed folder nothing below it is shown.
        if !filtering && stack.last().is_some_and(|top| collapsed.contains(*top)) {
            continue;
        }
        let mut start = stack.last().map_or(0, |s| s.len());
        let mut hidden = false;
        while let Some(rel) = key[start..].find(':') {
            let path = &key[..start + rel + 1];
            let open = filtering || !collapsed.contains(path);
            rows.push(Row {
                depth: stack.len(),
                label: format!("{}:", &key[start..start + rel]),
                kind: RowKind::Folder {
                    path: path.to_string(),
                    count: counts.get(path).copied().unwrap_or(0),
                    open,
                },
            });
            stack.push(path);
            start += rel + 1;
            if !open {
                hidden = true;
                break;
            }
        }
        if !hidden {
            rows.push(Row {
                depth: stack.len(),
                label: key[start..].to_string(),
                kind: RowKind::Key {
                    key: key.to_string(),
                },
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_key_order_keeps_folders_together() {
        let mut keys = vec![
            "item:14",
            "item:7",
            "item:7:note",
            "item",
            "step10",
            "step2",
            "a:b",
            "a-b",
            "x:007",
            "x:7",
            "éclair",
        ];
        keys.sort_by(|a, b| natural_key_cmp(a, b));
        assert_eq!(
            keys,
            [
                "a:b",
                "a-b",
                "item",
                "item:7",
                "item:7:note",
                "item:14",
                "step2",
                "step10",
                "x:7",
                "x:007",
                "éclair"
            ]
        );
    }

    #[test]
    fn matcher() {
        assert!(Matcher::new("ord").matches("trace-ORDER-1"));
        assert!(!Matcher::new("xyz").matches("order"));
        assert!(Matcher::new("tr*1").matches("trace-1"));
        assert!(!Matcher::new("tr*1").matches("trace-12"));
        assert!(Matcher::new("t?ace*").matches("trace-12"));
        assert!(Matcher::new("").matches("anything"));
    }

    #[test]
    fn tree_rows_with_counts_and_collapse() {
        let keys = ["a", "user:1:name", "user:1:profile", "user:2:name", "z"];
        let rows = build_rows(keys.iter().copied(), "", &HashSet::new());
        let labels: Vec<_> = rows
            .iter()
            .map(|r| format!("{}{}", "  ".repeat(r.depth), r.label))
            .collect();
        assert_eq!(
            labels,
            [
                "a",
                "user:",
                "  1:",
                "    name",
                "    profile",
                "  2:",
                "    name",
                "z"
            ]
        );
        assert!(matches!(rows[1].kind, RowKind::Folder { count: 3, .. }));
        let collapsed: HashSet<String> = ["user:1:".to_string()].into();
        let rows = build_rows(keys.iter().copied(), "", &collapsed);
        assert_eq!(rows.len(), 6);
        assert!(matches!(
            rows[2].kind,
            RowKind::Folder {
                open: false,
                count: 2,
                ..
            }
        ));
        let rows = build_rows(keys.iter().copied(), "prof", &collapsed);
        assert_eq!(rows.len(), 3);
    }

    #[test]
    fn index_is_idempotent_and_prunes() {
        let mut ix = Index::default();
        ix.insert("t1", "a", 1);
        ix.insert("t1", "a", 1);
        ix.insert("t2", "b", 1);
        assert_eq!(ix.total_keys, 2);
        ix.insert("t1", "a", 2);
        ix.prune(2);
        assert_eq!(ix.total_keys, 1);
        assert!(!ix.traces.contains_key("t2"));
    }
}
