//! The connection to Redis as the status bar shows it.

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
