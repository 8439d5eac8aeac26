//! What items look like to callers: type tags, items, raw windows, metadata.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::adapter::expiry::Ttl;
use crate::adapter::filter::StateFilter;

/// The JSON type of a stored value, derived when read (never stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueType {
    /// A JSON string.
    String,
    /// A JSON number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// A JSON object.
    Object,
    /// A JSON array.
    Array,
    /// `null`.
    Null,
}

impl ValueType {
    /// The type of a parsed value.
    ///
    /// ```
    /// use motia_state::ValueType;
    /// assert_eq!(ValueType::of(&serde_json::json!([1])), ValueType::Array);
    /// assert_eq!(ValueType::of(&serde_json::json!(null)).as_str(), "null");
    /// ```
    pub fn of(value: &Value) -> Self {
        match value {
            Value::String(_) => ValueType::String,
            Value::Number(_) => ValueType::Number,
            Value::Bool(_) => ValueType::Boolean,
            Value::Object(_) => ValueType::Object,
            Value::Array(_) => ValueType::Array,
            Value::Null => ValueType::Null,
        }
    }

    /// Motia's name of the type.
    pub fn as_str(&self) -> &'static str {
        match self {
            ValueType::String => "string",
            ValueType::Number => "number",
            ValueType::Boolean => "boolean",
            ValueType::Object => "object",
            ValueType::Array => "array",
            ValueType::Null => "null",
        }
    }
}

/// One state item as `items()` returns it (Motia's `StateItem`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateItem {
    /// The group (trace) id.
    pub group_id: String,
    /// The key inside the group.
    pub key: String,
    /// The JSON type of `value`.
    #[serde(rename = "type")]
    pub kind: ValueType,
    /// The parsed value.
    pub value: Value,
}

/// Which items `items()` returns.
///
/// ```
/// use motia_state::ItemsQuery;
/// let q = ItemsQuery::group("trace-1").filter("status eq paid".parse().unwrap());
/// assert_eq!(q.group_id.as_deref(), Some("trace-1"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemsQuery {
    /// Only this group; every group when `None`.
    pub group_id: Option<String>,
    /// Conditions that must all hold.
    pub filters: Vec<StateFilter>,
}

impl ItemsQuery {
    /// Every item of every group.
    pub fn all() -> Self {
        Self::default()
    }

    /// Every item of one group.
    pub fn group(group_id: impl Into<String>) -> Self {
        Self {
            group_id: Some(group_id.into()),
            filters: Vec::new(),
        }
    }

    /// Adds a condition.
    pub fn filter(mut self, f: StateFilter) -> Self {
        self.filters.push(f);
        self
    }
}

/// The first bytes of a stored value and its full length (for previews of big values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawWindow {
    /// Up to the requested number of bytes from the start.
    pub bytes: Vec<u8>,
    /// The length of the whole value in bytes.
    pub total_len: u64,
}

impl RawWindow {
    /// True when `bytes` is the whole value.
    pub fn is_complete(&self) -> bool {
        self.bytes.len() as u64 >= self.total_len
    }
}

/// What a browser row shows about a key, fetched in pipelined batches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMeta {
    /// The full Redis key.
    pub full_key: String,
    /// The Redis type (`string`, `hash`, ..., `none` when gone).
    pub redis_type: String,
    /// Length in bytes, for strings.
    pub len: Option<u64>,
    /// Remaining lifetime.
    pub ttl: Ttl,
}

/// The result of a compare-and-set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CasOutcome {
    /// The value matched and was replaced (its TTL kept).
    Written,
    /// Somebody changed the value first; nothing was written. Holds what is there now
    /// (`None`: the key is gone).
    Conflict(Option<Vec<u8>>),
}
