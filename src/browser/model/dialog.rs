//! Boxes over the panes that take the keys until they close: prompts, confirmations, the
//! conflict after a save.

use std::sync::Arc;

use crate::browser::action::WriteOp;
use crate::browser::doc::ValueDoc;

/// What a one-line prompt is for.
#[derive(Debug, Clone, PartialEq)]
pub enum Prompt {
    /// The `:` command line.
    Command,
    /// The id of a new trace (then its first key).
    TraceId,
    /// The name of a new key in `trace`.
    KeyName { trace: String },
    /// A TTL for `full_keys`; `whole_trace` asks for a confirmation first.
    Ttl {
        full_keys: Vec<String>,
        what: String,
        whole_trace: bool,
    },
}

/// A box over the panes (and over the editor) that takes the keys until it closes.
pub enum Dialog {
    Prompt {
        purpose: Prompt,
        input: String,
        /// Command names that fit what is typed (the command line only).
        fits: Vec<&'static str>,
    },
    /// `y` performs `op`; anything else cancels.
    Confirm {
        title: String,
        text: String,
        op: WriteOp,
        label: String,
    },
    /// `:live on`: `y` adds the notification flags `text` describes.
    ConfirmLive { text: String },
    /// An earlier run left notifications switched on: `y` restores the setting it found.
    RestoreOwed { text: String },
    /// Leaving the editor with unsaved changes.
    Discard,
    /// The save found other bytes than those loaded.
    Conflict { current: Option<Vec<u8>> },
    /// The value as it is now in Redis, shown after a conflict.
    Current {
        current: Option<Vec<u8>>,
        doc: Option<Arc<ValueDoc>>,
        scroll: usize,
    },
}
