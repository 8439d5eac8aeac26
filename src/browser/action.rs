//! The messages of the browser: what happens (actions), what `update` asks for (effects), and
//! what goes to and comes from the worker.

use std::path::PathBuf;
use std::sync::Arc;

use crossterm::event::{KeyEvent, MouseEvent};
use motia_state::adapter::gc::{GcAction, GcPlan, GcReport, GcSelection};
use motia_state::adapter::layout::iii_stats::IiiStats;
use motia_state::adapter::stats::Stats;
use motia_state::adapter::traces::{
    DeadLetter, FlowStatus, GroupEntry, KeyTraceEvent, TraceRecords,
};
use motia_state::coalesce::KeyChange;
use motia_state::notify::NotifySetting;
use motia_state::{Expiry, StateFilter, Ttl};

use crate::browser::doc::ValueDoc;

/// Everything that can change the model.
#[derive(Debug, Clone)]
pub enum Action {
    /// A key press (releases and repeats are filtered out before).
    Key(KeyEvent),
    /// A wheel turn or a left click (other mouse events are filtered out before).
    Mouse(MouseEvent),
    /// The terminal has a new size.
    Resize(u16, u16),
    /// Time passed (debounces, refreshes, countdowns).
    Tick,
    /// Something the worker reports.
    Worker(WorkerEvent),
    /// `$VISUAL`/`$EDITOR` finished: the text it left, or why it failed.
    ExternalEdited(Result<String, String>),
}

/// What `update` wants done; the event loop performs it.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Send a command to the worker.
    Worker(WorkerCmd),
    /// Leave the browser.
    Quit,
    /// Put text on the clipboard (OSC 52, written by the terminal layer).
    Copy(String),
    /// Suspend the screen and edit `text` in `$VISUAL`/`$EDITOR`; the result comes back as
    /// [`Action::ExternalEdited`].
    ExternalEdit { text: String },
    /// A view that held a large value was closed: hand the freed memory back to the system.
    ReleaseMemory,
}

/// Work for the worker.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkerCmd {
    /// Connect to the saved connection `profile` instead (the worker resolves its settings).
    Switch { profile: String },
    /// Scan every key under the prefix; results carry `generation`. Replaces a running scan.
    Scan { generation: u64 },
    /// Read a value: the first `max` bytes, or all of it with `None`.
    LoadValue {
        id: u64,
        full_key: String,
        max: Option<usize>,
    },
    /// Type, size and TTL of these keys.
    FetchMeta { keys: Vec<String> },
    /// Change state in Redis. Writes run one after another, in the order sent.
    Write { id: u64, op: WriteOp },
    /// Read the values of a trace's keys (MGET) and report the keys whose value matches.
    Where {
        id: u64,
        full_keys: Vec<String>,
        filter: StateFilter,
    },
    /// Memory and TTL figures of every key: of `keys` (the complete index) or of a scan.
    Stats { id: u64, keys: Option<Vec<String>> },
    /// What `:gc` would do (a dry run), over `keys` or a scan.
    GcPlan {
        id: u64,
        selection: GcSelection,
        action: GcAction,
        keys: Option<Vec<String>>,
    },
    /// Read the step records of these flows (each within a small budget) for their status
    /// and step count; answered in batches.
    TraceSummaries { ids: Vec<String> },
    /// Read one flow's step records (timeline, history), its dead letters when it failed,
    /// and the value of `full_key` now, if given. With `key` (the history of that key, as
    /// the model names it), only the key's events are kept, values as text.
    TraceRecords {
        id: u64,
        trace: String,
        key: Option<String>,
        full_key: Option<String>,
    },
    /// Build the line diff of two history versions (answered as `HistoryDiff`).
    HistoryDiff {
        id: u64,
        old: DiffSide,
        new: DiffSide,
    },
    /// Live mode: switch notifications on or off on the server.
    Live(LiveCmd),
    /// Read the group records of flows whose state just appeared (answered as `TraceGroups`
    /// of `generation`, not done).
    NewFlows { generation: u64, ids: Vec<String> },
    /// Look for iii state beside the 0.x keys (`keys_seen`: the complete index's key count).
    OtherLayout { keys_seen: Option<u64> },
    /// Stop.
    Shutdown,
}

/// `:live on` / `:live off`, carried out by the worker's live job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveCmd {
    /// Add the missing notification flags (the user confirmed).
    On,
    /// Restore the setting found before `On`.
    Off,
    /// Restore what an earlier run that was killed left changed (see `LiveEvent::Owed`).
    RestoreOwed,
}

/// What the live job reports.
#[derive(Debug, Clone)]
pub enum LiveEvent {
    /// Following notifications now, with the server's setting.
    Live(NotifySetting),
    /// Not following: the reason, and the setting when it could be read.
    Polling {
        reason: String,
        setting: Option<NotifySetting>,
    },
    /// The subscription's connection is down; it is being re-established.
    Reconnecting,
    /// Changes, one per key, coalesced over a short window.
    Changes(Vec<KeyChange>),
    /// Motia wrote trace records of these flows (trace ids; the group index is left out):
    /// their statuses, and an open timeline or history of them, are read again.
    Records(Vec<String>),
    /// Events were lost (a reconnection, an overflow): the index needs one scan.
    Resync,
    /// The outcome of `:live on` (`on`) or `:live off`, in words; `changed`: the server's
    /// setting was changed (so there is something to restore, or nothing left to).
    Switched {
        on: bool,
        changed: bool,
        result: Result<String, String>,
    },
    /// An earlier run (process `pid`, no longer running) switched notifications on and never
    /// restored them: `before` is what it found, `now` what the server has.
    Owed {
        before: String,
        now: String,
        pid: u32,
    },
    /// The outcome of restoring what the earlier run owed, in words.
    OwedRestored(Result<String, String>),
}

/// A change to Redis; the worker echoes it back with the outcome.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOp {
    /// Compare-and-set of one value against the bytes loaded (`None`: create, must not exist).
    Save {
        full_key: String,
        expected: Option<Vec<u8>>,
        text: String,
    },
    /// Set or remove the expiry of keys.
    Expire {
        full_keys: Vec<String>,
        expiry: Expiry,
    },
    /// UNLINK keys.
    Unlink { full_keys: Vec<String> },
    /// Write a trace (or everything) to a file, in the CLI's export format.
    Export {
        path: PathBuf,
        trace: Option<String>,
    },
    /// Load a file written by export (refuses to overwrite existing keys). A file exported
    /// under another prefix is only written once `other_prefix` says the user agreed.
    Import {
        path: PathBuf,
        overwrite: bool,
        other_prefix: bool,
    },
    /// Apply a `:gc` plan the user confirmed (each key checked before it is written).
    Gc { plan: Arc<GcPlan> },
    /// Undo journal entry `entry` (compare-and-set, journalled itself).
    Undo { entry: u64 },
    /// A write the user confirmed although the journal cannot keep its before-images.
    Unjournalled(Box<WriteOp>),
}

/// What a write did.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOutcome {
    Saved,
    /// Not written: the key holds other bytes now (`None`: it is gone, or exists when creating
    /// with no readable value).
    Conflict(Option<Vec<u8>>),
    /// Keys whose expiry changed.
    Expired(u64),
    /// Keys that existed and were removed.
    Unlinked(u64),
    Exported(u64),
    Imported(u64),
    /// Nothing written: the file was exported under the prefix `from`, not the browser's `to`.
    ImportPrefix {
        from: String,
        to: String,
    },
    Collected(GcReport),
    /// An undo: keys restored, and the keys left because they changed since the write.
    Undone {
        restored: u64,
        conflicts: Vec<String>,
    },
    /// Nothing written: the journal cannot keep this write's before-images (`what` says so);
    /// the user is asked.
    NotJournalled {
        what: String,
    },
}

/// Type, size and TTL of one key, as the rows show them.
#[derive(Debug, Clone, PartialEq)]
pub struct RowMeta {
    /// JSON type, `raw`, `empty`, or the Redis type of a non-string key.
    pub kind: String,
    /// Bytes, for strings.
    pub len: Option<u64>,
    /// Remaining lifetime when fetched.
    pub ttl: Ttl,
}

/// What a flow's step records say, for its row in the Traces pane.
#[derive(Debug, Clone, PartialEq)]
pub struct StepsSummary {
    pub status: Option<FlowStatus>,
    pub steps: usize,
    /// The flow's hash exists (else its records expired).
    pub exists: bool,
    /// Start of the first step (for flows whose group record does not say).
    pub start_time: Option<i64>,
    pub first_step: Option<String>,
    /// Records that could not be read, with the reason.
    pub unreadable: Vec<String>,
    /// Failed step executions the queue retried.
    pub retries: usize,
}

/// One flow's records as the timeline and history need them.
#[derive(Debug, Clone)]
pub struct TraceRead {
    /// The flow's records (for a key's history, only their headers: the events are in
    /// `history`).
    pub records: Arc<TraceRecords>,
    /// A key's history: its events, oldest first, reads included.
    pub history: Vec<KeyTraceEvent>,
    pub dead_letters: Vec<DeadLetter>,
    /// The value of the requested key now (`None` inside: the key is gone).
    pub current: Option<Option<Vec<u8>>>,
    /// Set when the group has no records of its own and every flow's were searched for it:
    /// `records` then holds the steps that name the group.
    pub search: Option<SearchInfo>,
}

/// One side of a history diff, as the view keeps it; made pretty by the worker, since a
/// value of megabytes takes too long for a key press.
#[derive(Debug, Clone, PartialEq)]
pub enum DiffSide {
    /// A version's compact JSON (re-indented).
    Compact(Arc<str>),
    /// The value stored in Redis now (pretty when JSON, else its bytes as text).
    Stored(Arc<[u8]>),
    /// Nothing: before the first set, after a delete, or the key gone.
    Empty,
}

/// A line diff with its counts.
#[derive(Debug, Clone)]
pub struct BuiltDiff {
    pub lines: Arc<crate::diff::Diff>,
    pub added: usize,
    pub removed: usize,
}

/// What a search of every flow's records for a group read (see `search_group_records`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchInfo {
    /// The flow of each step of the records, in order.
    pub flows: Vec<String>,
    /// Flows read, of those listed.
    pub searched: usize,
    pub listed: usize,
}

/// What the server let the user know about itself; `Err` says why a figure is unknown (an ACL
/// user without INFO or DBSIZE).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerFacts {
    pub version: Result<String, String>,
    pub dbsize: Result<u64, String>,
    /// `None` standalone; "cluster" or "cluster (detected)".
    pub mode: Option<String>,
    /// Cluster primaries that did not answer.
    pub unreachable: Vec<String>,
}

impl ServerFacts {
    /// A server that told everything (tests, the demo).
    #[cfg(test)]
    pub fn plain(version: &str, dbsize: u64) -> Self {
        Self {
            version: Ok(version.into()),
            dbsize: Ok(dbsize),
            mode: None,
            unreachable: Vec::new(),
        }
    }
}

/// What the worker reports.
#[derive(Debug, Clone)]
pub enum WorkerEvent {
    /// Trying to connect (the first time, or again after `error`).
    Connecting { attempt: u32, error: Option<String> },
    /// Connecting cannot work by trying again (wrong password, no such database): the worker
    /// stopped trying; `error` is the whole reason.
    GaveUp { error: String },
    /// Connected for the first time.
    Connected(ServerFacts),
    /// The server stopped answering; the worker keeps trying.
    Lost { reason: String },
    /// The server answers again.
    Restored(ServerFacts),
    /// The worker now connects to saved connection `profile`.
    Switched { profile: String },
    /// The saved connection could not be used; the old connection stays.
    SwitchFailed { profile: String, error: String },
    /// The connection's mode changed (a sentinel named another primary).
    Mode(Option<String>),
    /// The cluster primaries that stopped answering (empty: all answer again).
    Unreachable(Vec<String>),
    /// A fresh DBSIZE.
    DbSize(u64),
    /// Keys found by scan `generation`; `seen` counts every key returned so far.
    ScanBatch {
        generation: u64,
        keys: Vec<String>,
        seen: u64,
    },
    /// Scan `generation` reached cursor 0.
    ScanDone { generation: u64, seen: u64 },
    /// The look for iii state: its note, if there is some, or why it failed.
    OtherLayout(Result<Option<String>, String>),
    /// Scan `generation` stopped with an error.
    ScanFailed {
        generation: u64,
        error: String,
        connection: bool,
    },
    /// A value read for request `id`: `Ok(None)` when the key is gone.
    Value {
        id: u64,
        full_key: String,
        result: Result<Option<Arc<ValueDoc>>, String>,
    },
    /// Metadata of keys (a key that is gone has `ttl: Missing`).
    Meta { rows: Vec<(String, RowMeta)> },
    /// Metadata could not be fetched.
    MetaFailed { keys: Vec<String>, error: String },
    /// The result of write `id`.
    Written {
        id: u64,
        op: WriteOp,
        result: Result<WriteOutcome, String>,
    },
    /// A write of this session was journalled (sent before its `Written`).
    Journalled(SessionEntry),
    /// Stats request `id` so far: `done` of `total` keys read, the figures up to there.
    StatsProgress {
        id: u64,
        done: u64,
        total: u64,
        stats: Option<Arc<Stats>>,
    },
    /// Stats request `id` finished.
    Stats {
        id: u64,
        result: Result<Arc<Stats>, String>,
    },
    /// Stats request `id` on the iii layout finished; its scope and key names are the model's
    /// (escaped, a scope's `:` as `\x3a`).
    IiiStats {
        id: u64,
        result: Result<Arc<IiiStats>, String>,
    },
    /// The layout of the connection the worker switched to, and why (`label`, for the status
    /// bar), with the prefix its names start with.
    Layout {
        label: String,
        iii: bool,
        prefix: String,
        /// On 0.x: iii state is still to be looked for, after the index walk.
        look: bool,
    },
    /// The `:gc` dry run `id` so far.
    GcProgress { id: u64, done: u64, total: u64 },
    /// The `:gc` dry run `id` finished.
    GcPlanned {
        id: u64,
        result: Result<Arc<GcPlan>, String>,
    },
    /// Entries of the trace group hash found by scan `generation`; `done` with the last.
    TraceGroups {
        generation: u64,
        entries: Vec<GroupEntry>,
        done: bool,
        error: Option<String>,
    },
    /// Step summaries of flows (an answer to `TraceSummaries`).
    TraceSummaries {
        rows: Vec<(String, StepsSummary)>,
        error: Option<String>,
    },
    /// One flow's records (an answer to `TraceRecords`).
    TraceRecords {
        id: u64,
        result: Result<TraceRead, String>,
    },
    /// The diff of request `id` (an answer to `HistoryDiff`).
    HistoryDiff {
        id: u64,
        diff: Result<BuiltDiff, String>,
    },
    /// A search of every flow's records for request `id` has read `done` of `total` flows.
    TraceSearch { id: u64, done: usize, total: usize },
    /// Live mode (keyspace notifications).
    Live(LiveEvent),
    /// The keys of a `:where` request whose value matched.
    WhereResult {
        id: u64,
        result: Result<Vec<String>, String>,
    },
}

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
