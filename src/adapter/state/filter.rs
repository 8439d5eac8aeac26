//! Motia's `StateFilter`: `{valueKey, operation, value}`, evaluated as Motia evaluates it.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::adapter::error::Error;

/// A comparison operator of Motia's filters. Unknown names are kept and match nothing,
/// as in Motia.
///
/// ```
/// use motia_state::FilterOp;
/// assert_eq!(FilterOp::from("startsWith".to_string()), FilterOp::StartsWith);
/// assert_eq!(FilterOp::from("between".to_string()), FilterOp::Unknown("between".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum FilterOp {
    /// Strictly equal to the given string.
    Eq,
    /// Not strictly equal to the given string.
    Neq,
    /// Greater than (numeric when one side is a number).
    Gt,
    /// Greater or equal.
    Gte,
    /// Less than.
    Lt,
    /// Less or equal.
    Lte,
    /// A string containing the given text.
    Contains,
    /// A string not containing the given text.
    NotContains,
    /// A string starting with the given text.
    StartsWith,
    /// A string ending with the given text.
    EndsWith,
    /// `null` or missing.
    IsNull,
    /// Neither `null` nor missing.
    IsNotNull,
    /// An operator Motia does not know: matches nothing.
    Unknown(String),
}

impl FilterOp {
    /// Every known operator, by its Motia name.
    ///
    /// ```
    /// use motia_state::FilterOp;
    /// assert!(FilterOp::NAMES.contains(&"notContains"));
    /// assert!(FilterOp::NAMES.iter().all(|n| FilterOp::from(n.to_string()).name() == *n));
    /// ```
    pub const NAMES: [&'static str; 12] = [
        "eq",
        "neq",
        "gt",
        "gte",
        "lt",
        "lte",
        "contains",
        "notContains",
        "startsWith",
        "endsWith",
        "isNull",
        "isNotNull",
    ];

    /// The operator's Motia name.
    ///
    /// ```
    /// use motia_state::FilterOp;
    /// assert_eq!(FilterOp::NotContains.name(), "notContains");
    /// assert_eq!(FilterOp::Unknown("between".into()).name(), "between");
    /// ```
    pub fn name(&self) -> &str {
        match self {
            FilterOp::Eq => "eq",
            FilterOp::Neq => "neq",
            FilterOp::Gt => "gt",
            FilterOp::Gte => "gte",
            FilterOp::Lt => "lt",
            FilterOp::Lte => "lte",
            FilterOp::Contains => "contains",
            FilterOp::NotContains => "notContains",
            FilterOp::StartsWith => "startsWith",
            FilterOp::EndsWith => "endsWith",
            FilterOp::IsNull => "isNull",
            FilterOp::IsNotNull => "isNotNull",
            FilterOp::Unknown(s) => s,
        }
    }

    /// True for operators that take no value.
    ///
    /// ```
    /// use motia_state::FilterOp;
    /// assert!(FilterOp::IsNull.is_unary());
    /// assert!(!FilterOp::Eq.is_unary());
    /// ```
    pub fn is_unary(&self) -> bool {
        matches!(self, FilterOp::IsNull | FilterOp::IsNotNull)
    }
}

impl From<String> for FilterOp {
    fn from(s: String) -> Self {
        match s.as_str() {
            "eq" => FilterOp::Eq,
            "neq" => FilterOp::Neq,
            "gt" => FilterOp::Gt,
            "gte" => FilterOp::Gte,
            "lt" => FilterOp::Lt,
            "lte" => FilterOp::Lte,
            "contains" => FilterOp::Contains,
            "notContains" => FilterOp::NotContains,
            "startsWith" => FilterOp::StartsWith,
            "endsWith" => FilterOp::EndsWith,
            "isNull" => FilterOp::IsNull,
            "isNotNull" => FilterOp::IsNotNull,
            _ => FilterOp::Unknown(s),
        }
    }
}

impl From<FilterOp> for String {
    fn from(op: FilterOp) -> Self {
        op.name().to_string()
    }
}

impl fmt::Display for FilterOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One condition on an item's value; all filters of a query must match.
///
/// ```
/// use motia_state::StateFilter;
/// use serde_json::json;
/// let f: StateFilter = "status eq paid".parse().unwrap();
/// assert!(f.matches(&json!({"status": "paid"})));
/// assert!(!f.matches(&json!({"status": "open"})));
/// let n: StateFilter = "amount gt 10".parse().unwrap();
/// assert!(n.matches(&json!({"amount": 12.5})));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateFilter {
    /// The field of an object value; ignored for primitive values.
    pub value_key: String,
    /// The comparison.
    pub operation: FilterOp,
    /// The operand, always a string as in Motia.
    #[serde(default)]
    pub value: String,
}

impl StateFilter {
    /// A filter from its parts.
    ///
    /// ```
    /// use motia_state::{FilterOp, StateFilter};
    /// let f = StateFilter::new("status", FilterOp::Eq, "paid");
    /// assert_eq!(f, "status eq paid".parse().unwrap());
    /// ```
    pub fn new(
        value_key: impl Into<String>,
        operation: FilterOp,
        value: impl Into<String>,
    ) -> Self {
        Self {
            value_key: value_key.into(),
            operation,
            value: value.into(),
        }
    }

    /// Whether `item` (a whole stored value) passes this filter.
    ///
    /// ```
    /// use motia_state::{FilterOp, StateFilter};
    /// use serde_json::json;
    /// let f = StateFilter::new("email", FilterOp::EndsWith, "@example.com");
    /// assert!(f.matches(&json!({"email": "ann@example.com"})));
    /// assert!(!f.matches(&json!({"name": "ann"})));
    /// assert!(f.matches(&json!("bob@example.com")), "a primitive value is compared itself");
    /// ```
    pub fn matches(&self, item: &Value) -> bool {
        // JavaScript's `value[valueKey]`: arrays are objects too (indexes and `length`).
        let length;
        let field = match item {
            Value::Object(map) => map.get(&self.value_key),
            Value::Array(items) if self.value_key == "length" => {
                length = Value::from(items.len());
                Some(&length)
            }
            Value::Array(items) => array_index(&self.value_key).and_then(|i| items.get(i)),
            other => Some(other),
        };
        let wanted = self.value.as_str();
        match &self.operation {
            FilterOp::Eq => matches!(field, Some(Value::String(s)) if s == wanted),
            FilterOp::Neq => !matches!(field, Some(Value::String(s)) if s == wanted),
            FilterOp::Gt => compare(field, wanted).is_some_and(|o| o == Ordering::Greater),
            FilterOp::Gte => compare(field, wanted).is_some_and(|o| o != Ordering::Less),
            FilterOp::Lt => compare(field, wanted).is_some_and(|o| o == Ordering::Less),
            FilterOp::Lte => compare(field, wanted).is_some_and(|o| o != Ordering::Greater),
            FilterOp::Contains => string_test(field, |s| s.contains(wanted)),
            FilterOp::NotContains => string_test(field, |s| !s.contains(wanted)),
            FilterOp::StartsWith => string_test(field, |s| s.starts_with(wanted)),
            FilterOp::EndsWith => string_test(field, |s| s.ends_with(wanted)),
            FilterOp::IsNull => matches!(field, None | Some(Value::Null)),
            FilterOp::IsNotNull => !matches!(field, None | Some(Value::Null)),
            FilterOp::Unknown(_) => false,
        }
    }
}

fn string_test(field: Option<&Value>, test: impl Fn(&str) -> bool) -> bool {
    matches!(field, Some(Value::String(s)) if test(s))
}

/// A canonical JavaScript array index ("0", "12"; not "01" or "+1").
fn array_index(key: &str) -> Option<usize> {
    if key.len() > 1 && key.starts_with('0') {
        return None;
    }
    if !key.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    key.parse().ok()
}

/// JavaScript's `String(value)` of a JSON value, as relational operators convert objects
/// and arrays (`[1,"a"]` is `1,a`, `null` inside an array is empty, objects `[object Object]`).
fn js_string(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f == f.trunc() && f.abs() < 1e21 => format!("{f}"),
            _ => n.to_string(),
        },
        Value::Object(_) => "[object Object]".into(),
        Value::Array(items) => items
            .iter()
            .map(|v| match v {
                Value::Null => String::new(),
                other => js_string(other),
            })
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// JavaScript's relational comparison of a field with a string operand: two strings compare
/// by UTF-16 code units (objects and arrays become strings first), anything else numerically
/// (`null` is 0, booleans 0/1); NaN or a missing field compares as nothing.
fn compare(field: Option<&Value>, wanted: &str) -> Option<Ordering> {
    let left = match field? {
        Value::String(s) => return Some(s.encode_utf16().cmp(wanted.encode_utf16())),
        v @ (Value::Array(_) | Value::Object(_)) => {
            return Some(js_string(v).encode_utf16().cmp(wanted.encode_utf16()));
        }
        Value::Number(n) => n.as_f64()?,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Null => 0.0,
    };
    let right = js_number(wanted)?;
    left.partial_cmp(&right)
}

/// JavaScript's `Number(string)`: trimmed decimal text, `Infinity`, `0x`/`0o`/`0b` integers,
/// "" is 0; anything else (including Rust-only spellings like `inf` or `nan`) is NaN (`None`).
fn js_number(s: &str) -> Option<f64> {
    let t = s.trim();
    match t {
        "" => return Some(0.0),
        "Infinity" | "+Infinity" => return Some(f64::INFINITY),
        "-Infinity" => return Some(f64::NEG_INFINITY),
        _ => {}
    }
    for (prefix, radix) in [
        ("0x", 16),
        ("0X", 16),
        ("0o", 8),
        ("0O", 8),
        ("0b", 2),
        ("0B", 2),
    ] {
        if let Some(digits) = t.strip_prefix(prefix) {
            return u128::from_str_radix(digits, radix)
                .ok()
                .filter(|_| !digits.starts_with('+'))
                .map(|n| n as f64);
        }
    }
    if t.bytes()
        .any(|b| b.is_ascii_alphabetic() && !matches!(b, b'e' | b'E'))
    {
        return None;
    }
    t.parse::<f64>().ok().filter(|n| !n.is_nan())
}

impl FromStr for StateFilter {
    type Err = Error;

    /// `FIELD OP VALUE` (the value may contain spaces; unary operators take none).
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = |reason: String| Error::Config {
            name: "filter".into(),
            reason,
        };
        let mut parts = s.trim().splitn(3, char::is_whitespace);
        let field = parts.next().filter(|f| !f.is_empty());
        let op = parts.next();
        let (Some(field), Some(op)) = (field, op) else {
            return Err(bad(format!(
                "{s:?} is not FIELD OP VALUE (operators: {})",
                FilterOp::NAMES.join(" ")
            )));
        };
        let operation = FilterOp::from(op.to_string());
        let value = parts.next().unwrap_or("").trim_start().to_string();
        if let FilterOp::Unknown(name) = &operation {
            return Err(bad(format!(
                "unknown operator {name:?} (operators: {})",
                FilterOp::NAMES.join(" ")
            )));
        }
        if !operation.is_unary() && value.is_empty() {
            return Err(bad(format!(
                "operator {op} needs a value: FIELD {op} VALUE"
            )));
        }
        Ok(StateFilter::new(field, operation, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(s: &str) -> StateFilter {
        s.parse().unwrap()
    }

    #[test]
    fn strict_equality() {
        assert!(!f("n eq 5").matches(&json!({"n": 5})));
        assert!(f("n eq 5").matches(&json!({"n": "5"})));
        assert!(f("n neq 5").matches(&json!({"n": 5})));
        assert!(
            f("x eq hi").matches(&json!("hi")),
            "primitive compares itself"
        );
    }

    #[test]
    fn ordering_like_javascript() {
        assert!(f("n gt 4").matches(&json!({"n": 5})));
        assert!(f("n gte 5").matches(&json!({"n": 5})));
        assert!(f("n lt 10").matches(&json!({"n": 9})));
        assert!(f("n lte 9").matches(&json!({"n": 9})));
        assert!(!f("n gt 10").matches(&json!({"n": 9})));
        assert!(
            !f("n gt abc").matches(&json!({"n": 9})),
            "NaN compares false"
        );
        assert!(
            f("s gt 10").matches(&json!({"s": "9"})),
            "two strings: lexicographic"
        );
        assert!(!f("missing gt 0").matches(&json!({})));
    }

    #[test]
    fn strings_only_operators() {
        assert!(f("s contains ell").matches(&json!({"s": "hello"})));
        assert!(!f("s contains 1").matches(&json!({"s": 123})));
        assert!(!f("s notContains 1").matches(&json!({"s": 123})));
        assert!(f("s notContains x").matches(&json!({"s": "abc"})));
        assert!(f("s startsWith he").matches(&json!({"s": "hello"})));
        assert!(f("s endsWith lo").matches(&json!({"s": "hello"})));
    }

    #[test]
    fn arrays_and_objects_like_javascript() {
        let list = json!([3, "x", null]);
        assert!(f("1 eq x").matches(&list), "index lookup");
        assert!(f("length gte 3").matches(&list));
        assert!(f("status isNull").matches(&list), "arr.status is undefined");
        assert!(!f("01 eq x").matches(&list));
        assert!(
            f("tags gt 3,x").matches(&json!({"tags": [3, "x", null]})),
            "\"3,x,\" > \"3,x\""
        );
        assert!(
            f("n gt 0").matches(&json!({"n": {"a": 1}})),
            "\"[object Object]\" > \"0\""
        );
        assert!(!f("n lt 0").matches(&json!({"n": {"a": 1}})));
    }

    #[test]
    fn numbers_parsed_like_javascript() {
        assert_eq!(js_number("0x10"), Some(16.0));
        assert_eq!(js_number(" 1e3 "), Some(1000.0));
        assert_eq!(js_number("-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(js_number("inf"), None);
        assert_eq!(js_number("NaN"), None);
        assert_eq!(js_number("0x"), None);
    }

    #[test]
    fn null_checks_and_unknown() {
        assert!(f("a isNull").matches(&json!({})));
        assert!(f("a isNull").matches(&json!({"a": null})));
        assert!(f("a isNotNull").matches(&json!({"a": 0})));
        assert!(
            !StateFilter::new("a", FilterOp::from("between".to_string()), "1")
                .matches(&json!({"a": 1}))
        );
        assert!("a between 1".parse::<StateFilter>().is_err());
        assert!("a eq".parse::<StateFilter>().is_err());
        assert_eq!(f("a eq two words").value, "two words");
    }
}
