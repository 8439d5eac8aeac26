//! The connection picker: the saved connections (profiles) the browser can switch to.

/// One saved connection as the picker lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionEntry {
    pub name: String,
    /// Where it connects, without the password.
    pub place: String,
    /// "standalone", "cluster" or "sentinel".
    pub mode: String,
    pub read_only: bool,
    pub prefix: String,
}
