//! A value prepared for display: decoded, re-indented and split into lines, built off the UI
//! thread (it may be 50 MB) so the draw loop only ever touches the lines on screen.

use std::hash::{DefaultHasher, Hash, Hasher};

use motia_state::ValueType;

/// How much of a value is fetched before the user asks for all of it.
pub const WINDOW: usize = 256 * 1024;

/// What the bytes turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocKind {
    /// Valid JSON of this type, shown re-indented.
    Json(ValueType),
    /// The start of a value that looks like JSON (the rest is not loaded yet).
    JsonPartial,
    /// Not JSON; shown as text. `note` says why.
    Text { note: String },
    /// An empty string (Motia treats it as missing).
    Empty,
}

/// A decoded value with its line index.
#[derive(Debug, Clone)]
pub struct ValueDoc {
    text: String,
    /// u32 halves the index of a 50 MB value (millions of lines); text is capped to fit.
    line_starts: Vec<u32>,
    /// What the bytes are.
    pub kind: DocKind,
    /// Length of the whole stored value in bytes.
    pub total_len: u64,
    /// How many of those bytes are here.
    pub loaded_len: u64,
    /// Hash of the raw bytes, so a refresh that changed nothing keeps the view as it is.
    pub raw_hash: u64,
    /// Some bytes were not UTF-8 and are shown as `\xNN`.
    pub escaped: bool,
    /// The stored bytes, when all of them are loaded: what an edit compares against.
    pub raw: Option<std::sync::Arc<[u8]>>,
}

impl ValueDoc {
    /// Decodes `bytes` (the first `bytes.len()` of `total_len` bytes).
    pub fn build(bytes: &[u8], total_len: u64) -> Self {
        let complete = bytes.len() as u64 >= total_len;
        let mut h = DefaultHasher::new();
        bytes.hash(&mut h);
        let raw_hash = h.finish();
        let (text, escaped) = decode(bytes, complete);
        let first = text.trim_start().chars().next();
        let (kind, body) = if text.is_empty() {
            (DocKind::Empty, String::new())
        } else if complete {
            match serde_json::from_str::<serde::de::IgnoredAny>(&text) {
                // `escaped`: bytes that are not UTF-8, which no JSON text holds (json::is_json).
                Ok(_) if !escaped => (
                    DocKind::Json(type_of_first(first).unwrap_or(ValueType::Null)),
                    // Valid JSON may still hold C1 controls and bidi overrides in its strings.
                    sanitize(reindent(&text)),
                ),
                Ok(_) => (
                    DocKind::Text {
                        note: "not JSON, shown as text (bytes that are not UTF-8)".into(),
                    },
                    sanitize(text),
                ),
                Err(e) => (
                    DocKind::Text {
                        note: format!("not JSON, shown as text ({e})"),
                    },
                    sanitize(text),
                ),
            }
        } else if type_of_first(first).is_some() && !escaped {
            (DocKind::JsonPartial, sanitize(reindent(&text)))
        } else {
            (
                DocKind::Text {
                    note: "not JSON, shown as text".into(),
                },
                sanitize(text),
            )
        };
        let mut body = body;
        if body.len() > u32::MAX as usize {
            let mut end = u32::MAX as usize;
            while !body.is_char_boundary(end) {
                end -= 1;
            }
            body.truncate(end);
        }
        let mut line_starts = vec![0u32];
        line_starts.extend(
            body.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| (i + 1) as u32),
        );
        Self {
            text: body,
            line_starts,
            kind,
            total_len,
            loaded_len: bytes.len() as u64,
            raw_hash,
            escaped,
            raw: complete.then(|| std::sync::Arc::from(bytes)),
        }
    }

    /// The text to edit: pretty JSON, or a non-JSON value as the Value pane shows it, control
    /// characters and bytes that are not UTF-8 escaped (`\xNN`), so the editor hides nothing
    /// (`None` while the value is only partly loaded). A save writes JSON in its place.
    pub fn edit_text(&self) -> Option<String> {
        let raw = self.raw.as_ref()?;
        Some(match self.kind {
            DocKind::Json(_) => self.text.clone(),
            _ => motia_state::escape::text(raw).into_owned(),
        })
    }

    /// True when the whole value is loaded.
    pub fn complete(&self) -> bool {
        self.loaded_len >= self.total_len
    }

    /// Number of display lines.
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// Display line `i` (empty past the end).
    pub fn line(&self, i: usize) -> &str {
        let Some(&start) = self.line_starts.get(i) else {
            return "";
        };
        let start = start as usize;
        let end = self
            .line_starts
            .get(i + 1)
            .map(|&e| e as usize - 1)
            .unwrap_or(self.text.len());
        self.text.get(start..end).unwrap_or("")
    }

    /// True for JSON (whole or partial), which gets syntax colours.
    pub fn is_json(&self) -> bool {
        matches!(self.kind, DocKind::Json(_) | DocKind::JsonPartial)
    }
}

/// The JSON type a value starting with `c` would have.
pub fn type_of_first(c: Option<char>) -> Option<ValueType> {
    Some(match c? {
        '{' => ValueType::Object,
        '[' => ValueType::Array,
        '"' => ValueType::String,
        't' | 'f' => ValueType::Boolean,
        'n' => ValueType::Null,
        '-' | '0'..='9' => ValueType::Number,
        _ => return None,
    })
}

/// What the type column shows for a value whose first bytes are `head` of `total_len`.
pub fn classify(head: &[u8], total_len: u64) -> &'static str {
    let complete = head.len() as u64 >= total_len;
    if head.is_empty() && complete {
        return "empty";
    }
    if complete {
        // The Value pane's test too (ValueDoc::build): UTF-8 and JSON, else raw.
        if !motia_state::json::is_json(head) {
            return "raw";
        }
    } else if std::str::from_utf8(head).is_err_and(|e| e.error_len().is_some()) {
        return "raw";
    }
    let first = head
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .map(|&b| b as char);
    type_of_first(first).map(|t| t.as_str()).unwrap_or("raw")
}

/// UTF-8 text of the bytes; invalid bytes become `\xNN`. A character cut in half at the end
/// of a partial window is dropped rather than escaped.
fn decode(bytes: &[u8], complete: bool) -> (String, bool) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_string(), false),
        Err(e) if !complete && e.error_len().is_none() => (
            String::from_utf8_lossy(&bytes[..e.valid_up_to()]).into_owned(),
            false,
        ),
        Err(_) => {
            let mut out = String::with_capacity(bytes.len() + 16);
            for chunk in bytes.utf8_chunks() {
                out.push_str(chunk.valid());
                for b in chunk.invalid() {
                    out.push_str(&format!("\\x{b:02x}"));
                }
            }
            (out, true)
        }
    }
}

/// Control characters would recolour or move the cursor of the real terminal, and ratatui
/// drops them: shown escaped (`\r`, `\t`, `\x1b`, `\u{9b}`), line breaks kept. Text without any
/// is kept as it is, not copied.
fn sanitize(text: String) -> String {
    let escaped = match motia_state::escape::text_str(&text) {
        std::borrow::Cow::Owned(s) => Some(s),
        std::borrow::Cow::Borrowed(_) => None,
    };
    let text = escaped.unwrap_or(text);
    if text.contains('\t') {
        text.replace('\t', "\\t")
    } else {
        text
    }
}

/// Re-indents JSON text token by token (two spaces, `"key": value`), without building a
/// tree: works on a truncated window and costs one pass over a 50 MB value.
pub fn reindent(text: &str) -> String {
    let b = text.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len() + b.len() / 3);
    let mut indent = 0usize;
    let mut in_str = false;
    let mut esc = false;
    let newline = |out: &mut Vec<u8>, indent: usize| {
        out.push(b'\n');
        out.extend(std::iter::repeat_n(b' ', indent * 2));
    };
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if in_str {
            if c < 0x20 {
                // Raw control bytes are invalid inside JSON strings; keep the screen sane.
                out.extend(format!("\\u{c:04x}").bytes());
            } else {
                out.push(c);
            }
            if esc {
                esc = false;
            } else if c == b'\\' {
                esc = true;
            } else if c == b'"' {
                in_str = false;
            }
            i += 1;
            continue;
        }
        match c {
            b'"' => {
                in_str = true;
                out.push(c);
            }
            b'{' | b'[' => {
                let close = if c == b'{' { b'}' } else { b']' };
                let mut j = i + 1;
                while j < b.len() && b[j].is_ascii_whitespace() {
                    j += 1;
                }
                if j < b.len() && b[j] == close {
                    out.push(c);
                    out.push(close);
                    i = j + 1;
                    continue;
                }
                out.push(c);
                indent += 1;
                newline(&mut out, indent);
            }
            b'}' | b']' => {
                indent = indent.saturating_sub(1);
                newline(&mut out, indent);
                out.push(c);
            }
            b',' => {
                out.push(c);
                newline(&mut out, indent);
            }
            b':' => out.extend_from_slice(b": "),
            c if c.is_ascii_whitespace() => {}
            c if c < 0x20 => {}
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reindent_matches_serde_pretty() {
        let src = r#"{"a":1,"b":[true,null,{}],"c":{"d":"x:,{y}\"z"},"e":[]}"#;
        let v: serde_json::Value = serde_json::from_str(src).unwrap();
        assert_eq!(reindent(src), serde_json::to_string_pretty(&v).unwrap());
    }

    #[test]
    fn kinds() {
        let d = ValueDoc::build(b"{\"a\":1}", 7);
        assert_eq!(d.kind, DocKind::Json(ValueType::Object));
        assert_eq!(d.line_count(), 3);
        assert_eq!(d.line(1), "  \"a\": 1");
        let d = ValueDoc::build(b"hello\tworld\x1b", 12);
        assert!(matches!(d.kind, DocKind::Text { .. }));
        assert_eq!(d.line(0), "hello\\tworld\\x1b");
        let b = b"evil\x1b[41mRED\r\nnext";
        let d = ValueDoc::build(b, b.len() as u64);
        assert_eq!((d.line(0), d.line(1)), ("evil\\x1b[41mRED\\r", "next"));
        let b = "\"csi\u{9b}31m\"".as_bytes();
        let d = ValueDoc::build(b, b.len() as u64);
        assert_eq!(d.kind, DocKind::Json(ValueType::String));
        assert_eq!(d.line(0), "\"csi\\u{9b}31m\"");
        let d = ValueDoc::build(b"ab\xffcd", 5);
        assert!(d.escaped);
        assert_eq!(d.line(0), "ab\\xffcd");
        let d = ValueDoc::build(b"{\"a\":[1,2", 1000);
        assert_eq!(d.kind, DocKind::JsonPartial);
        assert!(!d.complete());
        // A multi-byte character cut by the window is dropped, not escaped.
        let d = ValueDoc::build("\"é".as_bytes().get(..2).unwrap(), 10);
        assert!(!d.escaped);
    }

    #[test]
    fn classify_heads() {
        assert_eq!(classify(b"{\"a\":1}", 7), "object");
        assert_eq!(classify(b"42", 2), "number");
        assert_eq!(classify(b"plain", 5), "raw");
        assert_eq!(classify(b"[1,", 100), "array");
        assert_eq!(classify(b"", 0), "empty");
    }
}
