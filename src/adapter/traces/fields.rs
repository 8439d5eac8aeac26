//! Lenient readers for the fields of Motia's trace documents: each says what is wrong
//! with a field instead of failing the whole document.

use serde_json::{Map, Value};

/// Where the top-level object's fields before `"events"` end in the start of a document:
/// the offset of the comma before the key (or just after `{` when it is the first), so that
/// `head[..cut] + "}"` is the header as an object. Strings and nesting are skipped, and any
/// whitespace JSON allows is accepted.
pub(super) fn header_end(head: &str) -> Option<usize> {
    let b = head.as_bytes();
    let mut depth = 0usize;
    let mut cut = None;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                if depth == 1 && head.get(start..i) == Some("events") {
                    let rest = head.get(i + 1..)?.trim_start();
                    if rest.starts_with(':') {
                        return cut;
                    }
                }
            }
            b'{' | b'[' => {
                depth += 1;
                if depth == 1 {
                    cut = Some(i + 1);
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            b',' if depth == 1 => cut = Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

pub(super) fn parse_object(bytes: &[u8]) -> std::result::Result<Map<String, Value>, String> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(other) => Err(format!(
            "a JSON {} where an object belongs",
            json_kind(&other)
        )),
        Err(e) => Err(format!("not JSON ({e})")),
    }
}

pub(super) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// JavaScript's `Date` reaches 8.64e15 ms either side of 1970: anything beyond is no time
/// Motia could have written.
const MAX_MS: f64 = 8.64e15;

pub(super) fn as_ms(v: &Value) -> Option<i64> {
    let f = v.as_f64()?;
    if !(-MAX_MS..=MAX_MS).contains(&f) {
        return None;
    }
    v.as_i64().or(Some(f as i64))
}

/// A record's fields by name: a parsed object, or the few a step header holds.
pub(super) trait Fields {
    fn field(&self, k: &str) -> Option<&Value>;
}

impl Fields for Map<String, Value> {
    fn field(&self, k: &str) -> Option<&Value> {
        self.get(k)
    }
}

pub(super) fn opt_ms(v: &impl Fields, k: &str) -> std::result::Result<Option<i64>, String> {
    match v.field(k) {
        None | Some(Value::Null) => Ok(None),
        Some(x @ Value::Number(_)) => as_ms(x)
            .map(Some)
            .ok_or_else(|| format!("\"{k}\" {x} is out of the range of times")),
        Some(x) => Err(format!("\"{k}\" is a {}, not a time", json_kind(x))),
    }
}

pub(super) fn opt_str(v: &impl Fields, k: &str) -> std::result::Result<Option<String>, String> {
    match v.field(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(x) => Err(format!("\"{k}\" is a {}, not a string", json_kind(x))),
    }
}

pub(super) fn req_str(v: &impl Fields, k: &str) -> std::result::Result<String, String> {
    opt_str(v, k)?.ok_or_else(|| format!("missing \"{k}\""))
}

/// `bytes` as text, replacing what is not UTF-8; a quick check first, since nearly every
/// record is valid and the replacing walk is several times slower.
pub(super) fn lossy(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// [`lossy`] for owned bytes: no copy when they are UTF-8.
pub(super) fn lossy_owned(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}
