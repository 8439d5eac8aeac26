//! Terminal-safe text: names and values come from other programs, so control characters and
//! bytes that are not UTF-8 are shown escaped, never sent raw to a terminal.
//!
//! Two flavours: [`name`] for trace ids and keys (every special byte escaped, backslash too, so
//! two different names never look alike) and [`text`] for values and server messages (line
//! breaks and tabs kept, backslashes kept so JSON reads as JSON).
//!
//! ```
//! use motia_state::escape;
//! assert_eq!(escape::name(b"evil\x1b[41mRED"), "evil\\x1b[41mRED");
//! assert_eq!(escape::name(b"k\xffx"), "k\\xffx");
//! assert_eq!(escape::text(b"line 1\nline 2\r"), "line 1\nline 2\\r");
//! ```

use std::borrow::Cow;

/// How a character is written when it must be escaped.
fn push_escaped_char(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\\' => out.push_str("\\\\"),
        c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
        c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
    }
}

/// Characters that change what a terminal shows beyond themselves: C0 and C1 controls, DEL,
/// and the bidirectional overrides that can make text read in another order than it is.
fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn escape_with(bytes: &[u8], must_escape: impl Fn(char) -> bool) -> Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(bytes)
        && !s.chars().any(&must_escape)
    {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if must_escape(c) {
                push_escaped_char(&mut out, c);
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    Cow::Owned(out)
}

/// A trace id or key as one safe line: control characters as `\n`, `\t`, `\x1b`, `\u{9b}`,
/// bytes that are not UTF-8 as `\xff`, and `\` as `\\` (so the escaped form of two different
/// names always differs). Names without any of those come back borrowed, unchanged.
///
/// ```
/// use motia_state::escape::name;
/// assert_eq!(name(b"order:1"), "order:1");
/// assert_eq!(name(b"new\nline"), "new\\nline");
/// assert_eq!(name(b"a\\b"), "a\\\\b");
/// assert_eq!(name("caf\u{e9}".as_bytes()), "caf\u{e9}");
/// assert_eq!(name(b"caf\xe9"), "caf\\xe9");
/// ```
pub fn name(bytes: &[u8]) -> Cow<'_, str> {
    escape_with(bytes, |c| c == '\\' || is_unsafe(c))
}

/// [`name`] of a `&str`.
///
/// ```
/// assert_eq!(motia_state::escape::name_str("tab\there"), "tab\\there");
/// ```
pub fn name_str(s: &str) -> Cow<'_, str> {
    name(s.as_bytes())
}

/// A value or message for a terminal: line breaks (`\n`) and tabs kept, every other control
/// character and every byte that is not UTF-8 escaped; backslashes kept as they are.
///
/// ```
/// use motia_state::escape::text;
/// assert_eq!(text(b"{\"a\":\"x\\ny\"}"), "{\"a\":\"x\\ny\"}");
/// assert_eq!(text(b"bell\x07 and \xe9"), "bell\\x07 and \\xe9");
/// assert_eq!(text(b"two\nlines"), "two\nlines");
/// ```
pub fn text(bytes: &[u8]) -> Cow<'_, str> {
    escape_with(bytes, |c| c != '\n' && c != '\t' && is_unsafe(c))
}

/// [`text`] of a `&str` (a message built from server replies).
///
/// ```
/// assert_eq!(motia_state::escape::text_str("ERR \x1b]0;title\x07"), "ERR \\x1b]0;title\\x07");
/// ```
pub fn text_str(s: &str) -> Cow<'_, str> {
    text(s.as_bytes())
}

/// A name for line-oriented output that is not a terminal (a pipe, a file): the exact bytes,
/// except the separators `\n`, `\r` and `\t`, written `\n`, `\r`, `\t`, so one name stays on one
/// line and in one column. Exact bytes of every name come with `--json`.
///
/// ```
/// use motia_state::escape::line;
/// assert_eq!(line(b"k\xffx").as_ref(), b"k\xffx");
/// assert_eq!(line("new\nline").as_ref(), b"new\\nline");
/// ```
pub fn line<B: AsRef<[u8]> + ?Sized>(bytes: &B) -> Cow<'_, [u8]> {
    let bytes = bytes.as_ref();
    if !bytes.iter().any(|b| matches!(b, b'\n' | b'\r' | b'\t')) {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len() + 4);
    for &b in bytes {
        match b {
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b => out.push(b),
        }
    }
    Cow::Owned(out)
}

/// A name already made a `String` by [`shown`] (or any text) on one safe line: every control
/// character escaped, line breaks and tabs too; backslashes kept, so a name [`shown`] escaped
/// is not escaped twice.
///
/// ```
/// use motia_state::escape::{line_str, shown};
/// assert_eq!(line_str("order:1"), "order:1");
/// assert_eq!(line_str(&shown(b"evil\x1b[41m\n")), "evil\\x1b[41m\\n");
/// assert_eq!(line_str(&shown(b"k\xffx")), "k\\xffx");
/// ```
pub fn line_str(s: &str) -> Cow<'_, str> {
    escape_with(s.as_bytes(), is_unsafe)
}

/// A name as a `String` beside its exact bytes: itself when it is UTF-8 (so the `&str` API
/// reaches it), else escaped as [`name`] shows it.
///
/// ```
/// use motia_state::escape::shown;
/// assert_eq!(shown(b"new\nline"), "new\nline");
/// assert_eq!(shown(b"k\xffx"), "k\\xffx");
/// ```
pub fn shown(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => name(bytes).into_owned(),
    }
}

/// [`name`] of owned bytes, without a copy when nothing needs escaping.
///
/// ```
/// use motia_state::escape::name_owned;
/// assert_eq!(name_owned(b"order".to_vec()), "order");
/// assert_eq!(name_owned(b"k\xffx".to_vec()), "k\\xffx");
/// ```
pub fn name_owned(bytes: Vec<u8>) -> String {
    // Most names are printable ASCII: one pass over the bytes decides before the chars do
    // (without stopping early, so that the compiler checks many bytes at once).
    let plain = |s: &str| {
        s.bytes()
            .fold(true, |ok, b| ok & (0x20..0x7f).contains(&b) & (b != b'\\'))
    };
    match String::from_utf8(bytes) {
        Ok(s) if plain(&s) || !s.chars().any(|c| c == '\\' || is_unsafe(c)) => s,
        Ok(s) => name(s.as_bytes()).into_owned(),
        Err(e) => name(e.as_bytes()).into_owned(),
    }
}

/// The exact bytes of a name shown by [`name`]: its inverse, so a program can key its data by
/// the escaped text (which it also shows) and still reach the exact key. A backslash that starts
/// no escape [`name`] writes is kept as it is.
///
/// ```
/// use motia_state::escape::{name, unescape_name};
/// for raw in [&b"k\xffx"[..], b"a\\b", b"new\nline", b"evil\x1b[41m", "\u{9b}\u{202e}".as_bytes()] {
///     assert_eq!(unescape_name(&name(raw)), raw);
/// }
/// assert_eq!(unescape_name("plain"), b"plain");
/// ```
pub fn unescape_name(shown: &str) -> Vec<u8> {
    let b = shown.as_bytes();
    if !b.contains(&b'\\') {
        return b.to_vec();
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let rest = &shown[i + 1..];
        let (bytes, used): (Vec<u8>, usize) = match rest.as_bytes().first() {
            Some(b'\\') => (vec![b'\\'], 1),
            Some(b'n') => (vec![b'\n'], 1),
            Some(b'r') => (vec![b'\r'], 1),
            Some(b't') => (vec![b'\t'], 1),
            Some(b'x') => match rest.get(1..3).and_then(|h| u8::from_str_radix(h, 16).ok()) {
                Some(v) => (vec![v], 3),
                None => (vec![b'\\'], 0),
            },
            Some(b'u') => {
                let code = rest
                    .strip_prefix("u{")
                    .and_then(|r| r.split_once('}'))
                    .and_then(|(hex, _)| u32::from_str_radix(hex, 16).ok().map(|v| (v, hex.len())))
                    .and_then(|(v, len)| char::from_u32(v).map(|c| (c, len)));
                match code {
                    Some((c, len)) => (c.to_string().into_bytes(), len + 3),
                    None => (vec![b'\\'], 0),
                }
            }
            _ => (vec![b'\\'], 0),
        };
        out.extend_from_slice(&bytes);
        i += 1 + used;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_control_character_is_escaped_in_names() {
        for b in (0u8..0x20).chain([0x7f]) {
            let input = [b'a', b, b'b'];
            let shown = name(&input);
            assert!(
                shown.chars().all(|c| !c.is_control()),
                "{b:#x} -> {shown:?}"
            );
            assert!(
                shown.starts_with("a\\") && shown.ends_with('b'),
                "{shown:?}"
            );
        }
        assert_eq!(name("\u{9b}31m".as_bytes()), "\\u{9b}31m");
        assert_eq!(name("x\u{202e}y".as_bytes()), "x\\u{202e}y");
        assert_eq!(name(b"\x1b[41mRED"), "\\x1b[41mRED");
    }

    #[test]
    fn names_stay_distinct_after_escaping() {
        let names: [&[u8]; 5] = [b"k\xffx", b"k\\xffx", b"a\nb", b"a\\nb", b""];
        let shown: std::collections::HashSet<_> = names.iter().map(|n| name(n)).collect();
        assert_eq!(shown.len(), names.len());
    }

    #[test]
    fn unescape_inverts_name_for_every_byte() {
        for b in 0..=255u8 {
            let raw = [b'a', b, b'\\', b'x', b'f', b'f', b'b'];
            assert_eq!(unescape_name(&name(&raw)), raw, "{b:#x}");
        }
        assert_eq!(
            unescape_name(&name_owned("注文\u{85}".into())),
            "注文\u{85}".as_bytes()
        );
    }

    #[test]
    fn text_keeps_unicode_and_escapes_controls() {
        assert_eq!(text("注文 🎉 é".as_bytes()), "注文 🎉 é");
        assert_eq!(text(b"a\rb\x1bc"), "a\\rb\\x1bc");
        assert_eq!(text(&[0xe9, b'\t', 0x80]), "\\xe9\t\\x80");
    }
}
