//! Trace ids and keys as the server holds them: bytes, usually (not always) UTF-8.

use std::borrow::Borrow;
use std::fmt;

/// A trace id or key as exact bytes. Motia writes UTF-8 names, but a server may hold any
/// bytes; one type serves both, so every operation has one method. Shown (`Display`) escaped
/// as [`crate::escape::name`] does, so a name never breaks a line or a terminal.
///
/// Methods that take names take `impl AsRef<[u8]>`: `&str`, `String`, `&[u8]`, `Vec<u8>` and
/// `Name` itself all work.
///
/// ```
/// use motia_state::Name;
/// let plain = Name::from("order:1");
/// assert_eq!(plain, "order:1");
/// assert_eq!(plain.to_str(), Some("order:1"));
/// let odd = Name::from(&b"caf\xe9\n"[..]);
/// assert_eq!(odd.to_str(), None);
/// assert_eq!(odd.to_string(), "caf\\xe9\\n");
/// assert_eq!(odd.as_bytes(), b"caf\xe9\n");
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(Vec<u8>);

impl Name {
    /// The exact bytes.
    ///
    /// ```
    /// assert_eq!(motia_state::Name::from("t1").as_bytes(), b"t1");
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The name as text when it is UTF-8, `None` otherwise.
    ///
    /// ```
    /// use motia_state::Name;
    /// assert_eq!(Name::from("t1").to_str(), Some("t1"));
    /// assert_eq!(Name::from(vec![0xff]).to_str(), None);
    /// ```
    pub fn to_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// The bytes, without copying.
    ///
    /// ```
    /// assert_eq!(motia_state::Name::from("k").into_bytes(), b"k".to_vec());
    /// ```
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Self {
        Self(s.as_bytes().to_vec())
    }
}

impl From<String> for Name {
    fn from(s: String) -> Self {
        Self(s.into_bytes())
    }
}

impl From<&[u8]> for Name {
    fn from(b: &[u8]) -> Self {
        Self(b.to_vec())
    }
}

impl From<Vec<u8>> for Name {
    fn from(b: Vec<u8>) -> Self {
        Self(b)
    }
}

impl AsRef<[u8]> for Name {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

// Lets maps keyed by `Name` be looked up with `&[u8]`; the byte order is the same.
impl Borrow<[u8]> for Name {
    fn borrow(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::adapter::escape::name(&self.0))
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", crate::adapter::escape::name(&self.0))
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<[u8]> for Name {
    fn eq(&self, other: &[u8]) -> bool {
        self.0 == other
    }
}
