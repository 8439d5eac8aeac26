//! The messages of the browser: what happens (actions), what `update` asks for (effects), and
//! what goes to and comes from the worker.

use std::sync::Arc;

use crossterm::event::KeyEvent;
use motia_state::Ttl;

use crate::browser::doc::ValueDoc;

/// Everything that can change the model.
#[derive(Debug, Clone)]
pub enum Action {
    /// A key press (releases and repeats are filtered out before).
    Key(KeyEvent),
    /// The terminal has a new size.
    Resize(u16, u16),
    /// Time passed (debounces, refreshes, countdowns).
    Tick,
    /// Something the worker reports.
    Worker(WorkerEvent),
}

/// What `update` wants done; the event loop performs it.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Send a command to the worker.
    Worker(WorkerCmd),
    /// Leave the browser.
    Quit,
}

/// Work for the worker.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkerCmd {
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
    /// Stop.
    Shutdown,
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

/// What the worker reports.
#[derive(Debug, Clone)]
pub enum WorkerEvent {
    /// Trying to connect (the first time, or again after `error`).
    Connecting { attempt: u32, error: Option<String> },
    /// Connected for the first time.
    Connected { version: String, dbsize: u64 },
    /// The server stopped answering; the worker keeps trying.
    Lost { reason: String },
    /// The server answers again.
    Restored { version: String, dbsize: u64 },
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
}
