//! What items look like to callers: type tags, items, raw windows, metadata.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::adapter::expiry::Ttl;
use crate::adapter::filter::StateFilter;

/// The JSON type of a stored value, derived when read (never stored).
///
/// ```
/// use motia_state::ValueType;
/// let kind: ValueType = serde_json::from_str("\"boolean\"").unwrap();
/// assert_eq!(kind, ValueType::Boolean);
/// ```
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
    ///
    /// ```
    /// use motia_state::ValueType;
    /// assert_eq!(ValueType::Object.as_str(), "object");
    /// ```
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
///
/// ```
/// use motia_state::{StateItem, ValueType};
/// let item: StateItem = serde_json::from_str(
///     r#"{"groupId":"t1","key":"order","type":"object","value":{"id":7}}"#,
/// ).unwrap();
/// assert_eq!((item.kind, item.value["id"].as_u64()), (ValueType::Object, Some(7)));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateItem {
    /// The group (trace) id.
    pub group_id: String,
    /// The key inside the group.
    pub key: String,
    /// The exact bytes of the group id (`group_id` is the same name when it is UTF-8, else
    /// escaped as [`crate::escape::name`] shows it). Not serialized: empty when deserialized.
    #[serde(skip)]
    pub group_id_bytes: Vec<u8>,
    /// The exact bytes of the key (`key` shows them escaped like `group_id`).
    #[serde(skip)]
    pub key_bytes: Vec<u8>,
    /// The JSON type of `value`.
    #[serde(rename = "type")]
    pub kind: ValueType,
    /// The parsed value.
    pub value: Value,
}

/// One state item with its value kept as the stored JSON text: validated (syntax and UTF-8)
/// but never parsed into a tree, so printing many items costs little more than copying them.
///
/// ```
/// use motia_state::{RawItem, ValueType};
/// let (kind, json) = RawItem::validate(b" {\"id\":7} ".to_vec()).unwrap();
/// assert_eq!((kind, json.as_str()), (ValueType::Object, "{\"id\":7}"));
/// assert_eq!(RawItem::validate(b"not json".to_vec()), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawItem {
    /// The group (trace) id.
    pub group_id: String,
    /// The key inside the group.
    pub key: String,
    /// The exact bytes of the group id (`group_id` is the same name when it is UTF-8, else
    /// escaped as [`crate::escape::name`] shows it).
    pub group_id_bytes: Vec<u8>,
    /// The exact bytes of the key (`key` shows them escaped like `group_id`).
    pub key_bytes: Vec<u8>,
    /// The JSON type of the value.
    pub kind: ValueType,
    /// The value's JSON text on one line: as stored (Motia stores it compact), without
    /// surrounding whitespace; re-written compact only when the stored text spans lines.
    pub json: String,
}

impl RawItem {
    /// Checks stored bytes: the value's type and one-line text when they are JSON, `None`
    /// otherwise.
    ///
    /// ```
    /// use motia_state::{RawItem, ValueType};
    /// let (kind, json) = RawItem::validate(b"[1,\n 2]".to_vec()).unwrap();
    /// assert_eq!((kind, json.as_str()), (ValueType::Array, "[1,2]"));
    /// ```
    pub fn validate(bytes: Vec<u8>) -> Option<(ValueType, String)> {
        let text = String::from_utf8(bytes).ok()?;
        let raw: &serde_json::value::RawValue = serde_json::from_str(&text).ok()?;
        let body = raw.get();
        let kind = match body.as_bytes().first()? {
            b'{' => ValueType::Object,
            b'[' => ValueType::Array,
            b'"' => ValueType::String,
            b't' | b'f' => ValueType::Boolean,
            b'n' => ValueType::Null,
            _ => ValueType::Number,
        };
        // A raw newline can only be whitespace in valid JSON (strings escape theirs).
        if body.contains(['\n', '\r']) {
            let value: Value = serde_json::from_str(body).ok()?;
            return Some((kind, serde_json::to_string(&value).ok()?));
        }
        if body.len() == text.len() {
            Some((kind, text))
        } else {
            Some((kind, body.to_string()))
        }
    }
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
    ///
    /// ```
    /// use motia_state::ItemsQuery;
    /// let q = ItemsQuery::all();
    /// assert!(q.group_id.is_none() && q.filters.is_empty());
    /// ```
    pub fn all() -> Self {
        Self::default()
    }

    /// Every item of one group.
    ///
    /// ```
    /// use motia_state::ItemsQuery;
    /// assert_eq!(ItemsQuery::group("trace-1").group_id.as_deref(), Some("trace-1"));
    /// ```
    pub fn group(group_id: impl Into<String>) -> Self {
        Self {
            group_id: Some(group_id.into()),
            filters: Vec::new(),
        }
    }

    /// Adds a condition.
    ///
    /// ```
    /// use motia_state::{FilterOp, ItemsQuery, StateFilter};
    /// let q = ItemsQuery::all()
    ///     .filter(StateFilter::new("amount", FilterOp::Gt, "10"))
    ///     .filter("status neq refunded".parse().unwrap());
    /// assert_eq!(q.filters.len(), 2);
    /// ```
    pub fn filter(mut self, f: StateFilter) -> Self {
        self.filters.push(f);
        self
    }
}

/// The first bytes of a stored value and its full length (for previews of big values).
///
/// ```
/// use motia_state::RawWindow;
/// let window = RawWindow { bytes: b"{\"items\":[".to_vec(), total_len: 52_000 };
/// assert_eq!(String::from_utf8_lossy(&window.bytes), "{\"items\":[");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawWindow {
    /// Up to the requested number of bytes from the start.
    pub bytes: Vec<u8>,
    /// The length of the whole value in bytes.
    pub total_len: u64,
}

impl RawWindow {
    /// True when `bytes` is the whole value.
    ///
    /// ```
    /// use motia_state::RawWindow;
    /// assert!(RawWindow { bytes: b"[1]".to_vec(), total_len: 3 }.is_complete());
    /// assert!(!RawWindow { bytes: b"[1,".to_vec(), total_len: 5 }.is_complete());
    /// ```
    pub fn is_complete(&self) -> bool {
        self.bytes.len() as u64 >= self.total_len
    }
}

/// What a browser row shows about a key, fetched in pipelined batches.
///
/// ```no_run
/// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
/// let keys = state.scan_all().collect_all().await?;
/// for meta in state.key_meta(&keys).await? {
///     if meta.redis_type != "string" {
///         println!("{} is a {}, Motia cannot read it", meta.full_key, meta.redis_type);
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMeta {
    /// The full Redis key, as [`crate::escape::name`] shows it (unchanged for ordinary names).
    pub full_key: String,
    /// The Redis type (`string`, `hash`, ..., `none` when gone).
    pub redis_type: String,
    /// Length in bytes, for strings.
    pub len: Option<u64>,
    /// Remaining lifetime.
    pub ttl: Ttl,
}

/// The result of a compare-and-set.
///
/// ```
/// use motia_state::CasOutcome;
/// let outcome = CasOutcome::Conflict(None);
/// let message = match outcome {
///     CasOutcome::Written => "saved",
///     CasOutcome::Conflict(None) => "deleted meanwhile",
///     CasOutcome::Conflict(Some(_)) => "changed meanwhile",
/// };
/// assert_eq!(message, "deleted meanwhile");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CasOutcome {
    /// The value matched and was replaced (its TTL kept).
    Written,
    /// Somebody changed the value first; nothing was written. Holds what is there now
    /// (`None`: the key is gone).
    Conflict(Option<Vec<u8>>),
}
