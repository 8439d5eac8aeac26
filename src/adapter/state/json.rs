//! JSON text helpers shared by the CLI and the browser.

use serde::Serialize;
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

/// Compact text as Motia stores it (`JSON.stringify` without spaces), from JSON text as the
/// user wrote it: only insignificant whitespace is removed, so object key order, the spelling
/// of numbers (`1.5e10`, `1E400`, `1.0`) and string escapes stay exactly as given.
///
/// ```
/// let c = motia_state::json::compact("{ \"b\": 1.5e10,\n \"a\": 12345678901234567890123 }").unwrap();
/// assert_eq!(c, "{\"b\":1.5e10,\"a\":12345678901234567890123}");
/// assert_eq!(motia_state::json::compact(" [ \"a b\" , 1e400 ] ").unwrap(), "[\"a b\",1e400]");
/// assert!(motia_state::json::compact("{\"a\": }").is_err());
/// ```
pub fn compact(text: &str) -> Result<String> {
    // Validates without building a tree (a big value costs one pass), keeping lone surrogate
    // escapes that JavaScript's JSON.parse accepts.
    serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(|e| Error::invalid_json(&e))?;
    Ok(strip_whitespace(text))
}

/// Removes the whitespace JSON allows between tokens; validated text only.
fn strip_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            in_string = c == '"';
            out.push(c);
        }
    }
    out
}

/// True when `bytes` are what Motia can read: UTF-8 text holding one JSON value (surrounding
/// whitespace allowed, as `JSON.parse` allows it). The one test for "JSON or not" that every
/// listing and pane uses.
///
/// ```
/// use motia_state::json::is_json;
/// assert!(is_json(br#"{"a":1}"#) && is_json(b" 1 "));
/// assert!(!is_json(b"caf\xe9") && !is_json(b"") && !is_json(b"{"));
/// assert!(!is_json(b"{\"name\":\"caf\xe9\"}"));
/// ```
pub fn is_json(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes)
        .is_ok_and(|s| serde_json::from_str::<serde::de::IgnoredAny>(s).is_ok())
}

/// Compact text of a value.
///
/// ```
/// use motia_state::json::to_compact;
/// let value = serde_json::json!({"id": 7, "tags": ["a", "b"]});
/// assert_eq!(to_compact(&value), r#"{"id":7,"tags":["a","b"]}"#);
/// ```
pub fn to_compact(value: &Value) -> String {
    // Serializing a Value cannot fail: its keys are strings and it holds no foreign types.
    serde_json::to_string(value).unwrap_or_default()
}

/// Two-space indented text of a value.
///
/// ```
/// use motia_state::json::to_pretty;
/// assert_eq!(to_pretty(&serde_json::json!({"id": 7})), "{\n  \"id\": 7\n}");
/// ```
pub fn to_pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// Pretty text of stored bytes, or `None` when they are not JSON.
///
/// ```
/// use motia_state::json::pretty;
/// assert_eq!(pretty(b"[1]").as_deref(), Some("[\n  1\n]"));
/// assert_eq!(pretty("{}").as_deref(), Some("{}"));
/// assert_eq!(pretty(b"not json"), None);
/// ```
pub fn pretty(bytes: impl AsRef<[u8]>) -> Option<String> {
    serde_json::from_slice::<Value>(bytes.as_ref())
        .ok()
        .map(|v| to_pretty(&v))
}

/// Compact text of any serializable value, with Rust floats spelled as JavaScript's
/// `JSON.stringify` spells numbers (`1` not `1.0`, `1e+21` not `1e21`), so what we store is what
/// Motia would store. Numbers inside a `serde_json::Value` keep their exact text.
///
/// ```
/// use motia_state::json::to_js_string;
/// assert_eq!(to_js_string(&[1.0, 0.1, 1e21, 1e-7, -0.0]).unwrap(), "[1,0.1,1e+21,1e-7,0]");
/// assert_eq!(to_js_string(&f64::NAN).unwrap(), "null");
/// ```
pub fn to_js_string<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let mut out = Vec::new();
    value.serialize(&mut serde_json::Serializer::with_formatter(
        &mut out,
        JsFormatter,
    ))?;
    String::from_utf8(out).map_err(serde::ser::Error::custom)
}

/// serde_json's compact formatter with JavaScript's spelling of floats.
struct JsFormatter;

impl serde_json::ser::Formatter for JsFormatter {
    fn write_f64<W: ?Sized + std::io::Write>(&mut self, w: &mut W, v: f64) -> std::io::Result<()> {
        w.write_all(js_float(&format!("{v:e}")).as_bytes())
    }

    fn write_f32<W: ?Sized + std::io::Write>(&mut self, w: &mut W, v: f32) -> std::io::Result<()> {
        w.write_all(js_float(&format!("{v:e}")).as_bytes())
    }
}

/// ECMAScript's Number::toString from Rust's shortest `{:e}` form (`-1.25e-7`).
fn js_float(exp_form: &str) -> String {
    let (negative, rest) = match exp_form.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, exp_form),
    };
    let (mantissa, exp) = rest.split_once('e').unwrap_or((rest, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if digits.bytes().all(|b| b == b'0') {
        return "0".into();
    }
    let k = digits.len() as i32;
    let n = exp + 1;
    let zeros = |count: i32| "0".repeat(count.max(0) as usize);
    let body = if k <= n && n <= 21 {
        format!("{digits}{}", zeros(n - k))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", zeros(-n))
    } else {
        let e = n - 1;
        let sign = if e < 0 { '-' } else { '+' };
        let m = if k == 1 {
            digits.clone()
        } else {
            format!("{}.{}", &digits[..1], &digits[1..])
        };
        format!("{m}e{sign}{}", e.abs())
    };
    if negative { format!("-{body}") } else { body }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_as_javascript_writes_them() {
        let cases: [(f64, &str); 14] = [
            (1.0, "1"),
            (120.0, "120"),
            (-2.5, "-2.5"),
            (0.1 + 0.2, "0.30000000000000004"),
            (123456.789, "123456.789"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1.5e300, "1.5e+300"),
            (1e-6, "0.000001"),
            (1.5e-6, "0.0000015"),
            (1e-7, "1e-7"),
            (-1.25e-7, "-1.25e-7"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
        ];
        for (v, js) in cases {
            assert_eq!(to_js_string(&v).unwrap(), js, "{v:e}");
        }
        assert_eq!(to_js_string(&1.5f32).unwrap(), "1.5");
        let value: Value = serde_json::from_str("[1.0,1e+21,12345678901234567890123]").unwrap();
        assert_eq!(
            to_js_string(&value).unwrap(),
            "[1.0,1e+21,12345678901234567890123]",
            "parsed numbers keep their text"
        );
    }
}

#[cfg(test)]
mod compact_tests {
    use super::*;

    #[test]
    fn compact_keeps_the_text_and_drops_only_whitespace() {
        let cases = [
            ("1.5e10", "1.5e10"),
            ("1E400", "1E400"),
            ("-0.0", "-0.0"),
            (
                "{ \"a b\" : \"x \\\" y\" , \"c\":[ 1 , 2 ] }",
                "{\"a b\":\"x \\\" y\",\"c\":[1,2]}",
            ),
            ("\"\\\\\"", "\"\\\\\""),
            ("\"\\ud800\"", "\"\\ud800\""),
            ("\"\\u00e9 \\n\"", "\"\\u00e9 \\n\""),
        ];
        for (input, stored) in cases {
            assert_eq!(compact(input).unwrap(), stored, "{input}");
        }
        for bad in ["", "{", "[1,]", "\"\u{1}\"", "\"\\x\"", "1 2"] {
            assert!(compact(bad).is_err(), "{bad:?}");
        }
    }
}
