//! The key layout: `{prefix}{groupId}:{key}`, glob escaping and the first-colon split.

use crate::adapter::error::{Error, Result};

/// Builds and splits full Redis keys for one prefix.
///
/// ```
/// use motia_state::KeySpace;
/// let ks = KeySpace::new("motia:state:");
/// assert_eq!(ks.full_key("t1", "user:1").unwrap(), "motia:state:t1:user:1");
/// assert_eq!(ks.split("motia:state:t1:user:1"), Some(("t1", "user:1")));
/// assert_eq!(ks.group_pattern("a*b").unwrap(), "motia:state:a\\*b:*");
/// assert!(ks.full_key("a:b", "k").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySpace {
    prefix: String,
}

impl KeySpace {
    /// A key space under `prefix`, used verbatim (Motia's default is `motia:state:`).
    ///
    /// ```
    /// use motia_state::{DEFAULT_PREFIX, KeySpace};
    /// let keys = KeySpace::new(DEFAULT_PREFIX);
    /// assert_eq!(keys.full_key("t1", "order").unwrap(), "motia:state:t1:order");
    /// ```
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    /// The prefix as given.
    ///
    /// ```
    /// use motia_state::KeySpace;
    /// assert_eq!(KeySpace::new("myapp:state:").prefix(), "myapp:state:");
    /// ```
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `{prefix}{group}:{key}` after checking both parts.
    ///
    /// ```
    /// use motia_state::KeySpace;
    /// let keys = KeySpace::new("motia:state:");
    /// assert_eq!(keys.full_key("t1", "user:1").unwrap(), "motia:state:t1:user:1");
    /// assert!(keys.full_key("t1", "").is_err());
    /// ```
    pub fn full_key(&self, group: &str, key: &str) -> Result<String> {
        validate_group(group)?;
        if key.is_empty() {
            return Err(Error::EmptyKey {
                group: crate::adapter::escape::name_str(group).into_owned(),
            });
        }
        Ok(format!("{}{group}:{key}", self.prefix))
    }

    /// SCAN pattern for every key of one group, glob characters escaped.
    ///
    /// ```
    /// use motia_state::KeySpace;
    /// let keys = KeySpace::new("motia:state:");
    /// assert_eq!(keys.group_pattern("t1").unwrap(), "motia:state:t1:*");
    /// ```
    pub fn group_pattern(&self, group: &str) -> Result<String> {
        validate_group(group)?;
        Ok(format!(
            "{}{}:*",
            escape_glob(&self.prefix),
            escape_glob(group)
        ))
    }

    /// SCAN pattern for every key under the prefix.
    ///
    /// ```
    /// use motia_state::KeySpace;
    /// assert_eq!(KeySpace::new("motia:state:").all_pattern(), "motia:state:*");
    /// assert_eq!(KeySpace::new("app[1]:").all_pattern(), "app\\[1\\]:*");
    /// ```
    pub fn all_pattern(&self) -> String {
        format!("{}*", escape_glob(&self.prefix))
    }

    /// `(group, key)` of a full key: strip the prefix, split at the first `:`.
    /// `None` for keys outside the prefix or without a group separator.
    ///
    /// ```
    /// use motia_state::KeySpace;
    /// let keys = KeySpace::new("motia:state:");
    /// assert_eq!(keys.split("motia:state:t1:user:1"), Some(("t1", "user:1")));
    /// assert_eq!(keys.split("other:t1:order"), None);
    /// ```
    pub fn split<'a>(&self, full: &'a str) -> Option<(&'a str, &'a str)> {
        let rest = full.strip_prefix(self.prefix.as_str())?;
        let (group, key) = rest.split_once(':')?;
        (!group.is_empty()).then_some((group, key))
    }
}

impl KeySpace {
    /// `{prefix}{group}:{key}` from exact bytes. The group is checked as in
    /// [`full_key`](Self::full_key); the key may be empty here (such keys exist in real
    /// databases, and an export of one must import back).
    ///
    /// ```
    /// use motia_state::KeySpace;
    /// let keys = KeySpace::new("motia:state:");
    /// assert_eq!(keys.full_key_bytes(b"o1", b"k\xffx").unwrap(), b"motia:state:o1:k\xffx");
    /// assert_eq!(keys.full_key_bytes(b"t", b"").unwrap(), b"motia:state:t:");
    /// assert!(keys.full_key_bytes(b"a:b", b"k").is_err());
    /// ```
    pub fn full_key_bytes(&self, group: &[u8], key: &[u8]) -> Result<Vec<u8>> {
        validate_group_bytes(group)?;
        let mut full = Vec::with_capacity(self.prefix.len() + group.len() + 1 + key.len());
        full.extend_from_slice(self.prefix.as_bytes());
        full.extend_from_slice(group);
        full.push(b':');
        full.extend_from_slice(key);
        Ok(full)
    }

    /// SCAN pattern for every key of one group given as bytes, glob characters escaped.
    ///
    /// ```
    /// use motia_state::KeySpace;
    /// let keys = KeySpace::new("motia:state:");
    /// assert_eq!(keys.group_pattern_bytes(b"a*\xff").unwrap(), b"motia:state:a\\*\xff:*");
    /// ```
    pub fn group_pattern_bytes(&self, group: &[u8]) -> Result<Vec<u8>> {
        validate_group_bytes(group)?;
        let mut p = escape_glob_bytes(self.prefix.as_bytes());
        p.extend(escape_glob_bytes(group));
        p.extend_from_slice(b":*");
        Ok(p)
    }

    /// `(group, key)` of a full key given as bytes: strip the prefix, split at the first `:`.
    /// `None` for keys outside the prefix, without a `:` after it, or with an empty group.
    ///
    /// ```
    /// use motia_state::KeySpace;
    /// let keys = KeySpace::new("motia:state:");
    /// let (group, key) = keys.split_bytes(b"motia:state:o\xff:k:1").unwrap();
    /// assert_eq!((group, key), (&b"o\xff"[..], &b"k:1"[..]));
    /// assert_eq!(keys.split_bytes(b"motia:state:t:"), Some((&b"t"[..], &b""[..])));
    /// assert_eq!(keys.split_bytes(b"motia:state:nocolon"), None);
    /// ```
    pub fn split_bytes<'a>(&self, full: &'a [u8]) -> Option<(&'a [u8], &'a [u8])> {
        let rest = full.strip_prefix(self.prefix.as_bytes())?;
        let colon = rest.iter().position(|&b| b == b':')?;
        let (group, key) = (&rest[..colon], &rest[colon + 1..]);
        (!group.is_empty()).then_some((group, key))
    }

    /// The part of a full key after the prefix, `None` for keys outside it.
    ///
    /// ```
    /// use motia_state::KeySpace;
    /// let keys = KeySpace::new("motia:state:");
    /// assert_eq!(keys.strip_prefix_bytes(b"motia:state:nocolon"), Some(&b"nocolon"[..]));
    /// assert_eq!(keys.strip_prefix_bytes(b"other"), None);
    /// ```
    pub fn strip_prefix_bytes<'a>(&self, full: &'a [u8]) -> Option<&'a [u8]> {
        full.strip_prefix(self.prefix.as_bytes())
    }
}

/// [`validate_group`] for a group id given as bytes (any bytes but `:`, not empty).
///
/// ```
/// use motia_state::adapter::keys::validate_group_bytes;
/// assert!(validate_group_bytes(b"t\xff\n").is_ok());
/// assert!(validate_group_bytes(b"").is_err());
/// assert!(validate_group_bytes(b"a:b").is_err());
/// ```
pub fn validate_group_bytes(group: &[u8]) -> Result<()> {
    if group.is_empty() {
        return Err(Error::InvalidGroupId {
            group: String::new(),
            reason: "it is empty",
        });
    }
    if group.contains(&b':') {
        return Err(Error::InvalidGroupId {
            group: crate::adapter::escape::name(group).into_owned(),
            reason: "it contains ':', which separates the trace id from the key",
        });
    }
    Ok(())
}

/// [`escape_glob`] for bytes (patterns of names that are not UTF-8).
///
/// ```
/// use motia_state::adapter::keys::escape_glob_bytes;
/// assert_eq!(escape_glob_bytes(b"a?\xff"), b"a\\?\xff");
/// ```
pub fn escape_glob_bytes(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for &b in s {
        if matches!(b, b'*' | b'?' | b'[' | b']' | b'\\' | b'^' | b'-') {
            out.push(b'\\');
        }
        out.push(b);
    }
    out
}

/// Group ids are the segment before the first `:`, so they cannot be empty or contain `:`.
///
/// ```
/// use motia_state::adapter::keys::validate_group;
/// assert!(validate_group("trace-1").is_ok());
/// assert!(validate_group("").is_err());
/// assert!(validate_group("a:b").is_err());
/// ```
pub fn validate_group(group: &str) -> Result<()> {
    if group.is_empty() {
        return Err(Error::InvalidGroupId {
            group: group.into(),
            reason: "it is empty",
        });
    }
    if group.contains(':') {
        return Err(Error::InvalidGroupId {
            group: crate::adapter::escape::name_str(group).into_owned(),
            reason: "it contains ':', which separates the trace id from the key",
        });
    }
    Ok(())
}

/// Escapes the characters Redis's glob matcher treats specially.
///
/// ```
/// use motia_state::escape_glob;
/// assert_eq!(escape_glob("order*[1]"), "order\\*\\[1\\]");
/// assert_eq!(escape_glob("plain"), "plain");
/// ```
pub fn escape_glob(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\' | '^' | '-') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_first_colon_only() {
        let ks = KeySpace::new("p:");
        assert_eq!(ks.split("p:g:a:b:c"), Some(("g", "a:b:c")));
        assert_eq!(ks.split("p:g:"), Some(("g", "")));
        assert_eq!(ks.split("p:nogroup"), None);
        assert_eq!(ks.split("other:g:k"), None);
        assert_eq!(ks.split("p::k"), None);
    }

    #[test]
    fn validation() {
        let ks = KeySpace::new("motia:state:");
        assert!(matches!(
            ks.full_key("", "k"),
            Err(Error::InvalidGroupId { .. })
        ));
        assert!(matches!(ks.full_key("g", ""), Err(Error::EmptyKey { .. })));
        assert_eq!(escape_glob("a?[b]\\"), "a\\?\\[b\\]\\\\");
    }
}
