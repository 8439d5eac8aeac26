//! The connection picker: the saved connections (profiles) the browser can switch to.

// The entry is made by `profiles`, which stands below the browser.
pub use crate::profiles::ConnectionEntry;
