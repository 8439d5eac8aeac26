//! JSON text helpers shared by the CLI and the browser.

use serde_json::Value;

use crate::adapter::error::{Error, Result};

/// Parses caller-supplied JSON text; the error names line and column.
///
/// ```
/// let v = motia_state::json::parse_input("{\"a\": 1}").unwrap();
/// assert_eq!(v["a"], 1);
/// let e = motia_state::json::parse_input("{\"a\": }").unwrap_err();
/// assert_eq!(e.to_string(), "invalid JSON at line 1, column 7: expected value");
/// ```
pub fn parse_input(text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| Error::invalid_json(&e))
}

/// Compact text as Motia stores it (`JSON.stringify` without spaces).
///
/// Object key order and the exact digits of numbers are kept.
///
/// ```
/// let c = motia_state::json::compact("{ \"b\": 1,\n \"a\": 12345678901234567890123 }").unwrap();
/// assert_eq!(c, "{\"b\":1,\"a\":12345678901234567890123}");
/// ```
pub fn compact(text: &str) -> Result<String> {
    Ok(to_compact(&parse_input(text)?))
}

/// Compact text of a value.
pub fn to_compact(value: &Value) -> String {
    // Serializing a Value cannot fail: its keys are strings and it holds no foreign types.
    serde_json::to_string(value).unwrap_or_default()
}

/// Two-space indented text of a value.
pub fn to_pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// Pretty text of stored bytes, or `None` when they are not JSON.
pub fn pretty_bytes(bytes: &[u8]) -> Option<String> {
    serde_json::from_slice::<Value>(bytes)
        .ok()
        .map(|v| to_pretty(&v))
}
