//! The connection to Redis as the status bar shows it.

/// What the status bar says about the server beyond its version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerState {
    /// Why the version is unknown (the ACL user may not run INFO).
    pub version_unknown: Option<String>,
    /// Why the key count is unknown (no DBSIZE).
    pub size_unknown: Option<String>,
    /// "cluster" or "cluster (detected)"; `None` for one server.
    pub mode: Option<String>,
    /// Cluster primaries that do not answer.
    pub unreachable: Vec<String>,
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
    /// Connecting failed in a way retrying cannot fix (credentials, settings); no retries.
    Failed { error: String },
}
