//! The key layout: `{prefix}{groupId}:{key}`, glob escaping and the first-colon split.

use crate::adapter::error::{Error, Result};

/// Builds and splits full Redis keys for one prefix.
///
/// ```
/// use motia_state::KeySpace;
/// let ks = KeySpace::new("motia:state:");
/// assert_eq!(ks.full_key("t1", "user:1").unwrap(), b"motia:state:t1:user:1");
/// assert_eq!(ks.split("motia:state:t1:user:1"), Some((&b"t1"[..], &b"user:1"[..])));
/// assert_eq!(ks.group_pattern("a*b").unwrap(), b"motia:state:a\\*b:*");
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
    /// assert_eq!(keys.full_key("t1", "order").unwrap(), b"motia:state:t1:order");
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

    /// `{prefix}{group}:{key}` as exact bytes, after checking the group (not empty, no `:`).
    /// The key may be empty here: such keys exist in real databases, and an export of one must
    /// import back; Motia's operations ([`crate::RedisStateAdapter::set`] and the others)
    /// refuse an empty key themselves.
    ///
    /// ```
    /// use motia_state::KeySpace;
    /// let keys = KeySpace::new("motia:state:");
    /// assert_eq!(keys.full_key("t1", "user:1").unwrap(), b"motia:state:t1:user:1");
    /// assert_eq!(keys.full_key(b"o1", b"k\xffx").unwrap(), b"motia:state:o1:k\xffx");
    /// assert_eq!(keys.full_key("t", "").unwrap(), b"motia:state:t:");
    /// assert!(keys.full_key("a:b", "k").is_err());
    /// ```
    pub fn full_key(&self, group: impl AsRef<[u8]>, key: impl AsRef<[u8]>) -> Result<Vec<u8>> {
        let (group, key) = (group.as_ref(), key.as_ref());
        validate_group(group)?;
        let mut full = Vec::with_capacity(self.prefix.len() + group.len() + 1 + key.len());
        full.extend_from_slice(self.prefix.as_bytes());
        full.extend_from_slice(group);
        full.push(b':');
        full.extend_from_slice(key);
        Ok(full)
    }

    /// SCAN pattern for every key of one group, glob characters escaped.
    ///
    /// ```
    /// use motia_state::KeySpace;
    /// let keys = KeySpace::new("motia:state:");
    /// assert_eq!(keys.group_pattern("t1").unwrap(), b"motia:state:t1:*");
    /// assert_eq!(keys.group_pattern(b"a*\xff").unwrap(), b"motia:state:a\\*\xff:*");
    /// ```
    pub fn group_pattern(&self, group: impl AsRef<[u8]>) -> Result<Vec<u8>> {
        let group = group.as_ref();
        validate_group(group)?;
        let mut p = escape_glob(&self.prefix);
        p.extend(escape_glob(group));
        p.extend_from_slice(b":*");
        Ok(p)
    }

    /// SCAN pattern for every key under the prefix.
    ///
    /// ```
    /// use motia_state::KeySpace;
    /// assert_eq!(KeySpace::new("motia:state:").all_pattern(), "motia:state:*");
    /// assert_eq!(KeySpace::new("app[1]:").all_pattern(), "app\\[1\\]:*");
    /// ```
    pub fn all_pattern(&self) -> String {
        // Escaping only inserts ASCII backslashes, so UTF-8 in stays UTF-8 out.
        let mut p = String::from_utf8_lossy(&escape_glob(&self.prefix)).into_owned();
        p.push('*');
        p
    }

    /// `(group, key)` of a full key: strip the prefix, split at the first `:`.
    /// `None` for keys outside the prefix, without a `:` after it, or with an empty group.
    /// A caller that wants text uses [`std::str::from_utf8`] or [`crate::Name`].
    ///
    /// ```
    /// use motia_state::KeySpace;
    /// let keys = KeySpace::new("motia:state:");
    /// assert_eq!(keys.split("motia:state:t1:user:1"), Some((&b"t1"[..], &b"user:1"[..])));
    /// assert_eq!(keys.split(b"motia:state:o\xff:k:1"), Some((&b"o\xff"[..], &b"k:1"[..])));
    /// assert_eq!(keys.split("motia:state:t:"), Some((&b"t"[..], &b""[..])));
    /// assert_eq!(keys.split("motia:state:nocolon"), None);
    /// assert_eq!(keys.split("other:t1:order"), None);
    /// ```
    pub fn split<'a, F>(&self, full: &'a F) -> Option<(&'a [u8], &'a [u8])>
    where
        F: AsRef<[u8]> + ?Sized,
    {
        let rest = self.strip_prefix(full)?;
        let colon = rest.iter().position(|&b| b == b':')?;
        let (group, key) = (&rest[..colon], &rest[colon + 1..]);
        (!group.is_empty()).then_some((group, key))
    }

    /// The part of a full key after the prefix, `None` for keys outside it.
    ///
    /// ```
    /// use motia_state::KeySpace;
    /// let keys = KeySpace::new("motia:state:");
    /// assert_eq!(keys.strip_prefix("motia:state:nocolon"), Some(&b"nocolon"[..]));
    /// assert_eq!(keys.strip_prefix(b"other"), None);
    /// ```
    pub fn strip_prefix<'a, F>(&self, full: &'a F) -> Option<&'a [u8]>
    where
        F: AsRef<[u8]> + ?Sized,
    {
        full.as_ref().strip_prefix(self.prefix.as_bytes())
    }
}

/// Group ids are the segment before the first `:`, so they cannot be empty or contain `:`.
/// Any other bytes are allowed.
///
/// ```
/// use motia_state::adapter::keys::validate_group;
/// assert!(validate_group("trace-1").is_ok());
/// assert!(validate_group(b"t\xff\n").is_ok());
/// assert!(validate_group("").is_err());
/// assert!(validate_group("a:b").is_err());
/// ```
pub fn validate_group(group: impl AsRef<[u8]>) -> Result<()> {
    let group = group.as_ref();
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

/// Escapes the bytes Redis's glob matcher treats specially; every other byte is kept.
///
/// ```
/// use motia_state::escape_glob;
/// assert_eq!(escape_glob("order*[1]"), b"order\\*\\[1\\]");
/// assert_eq!(escape_glob(b"a?\xff"), b"a\\?\xff");
/// assert_eq!(escape_glob("plain"), b"plain");
/// ```
pub fn escape_glob(s: impl AsRef<[u8]>) -> Vec<u8> {
    let s = s.as_ref();
    let mut out = Vec::with_capacity(s.len());
    for &b in s {
        if matches!(b, b'*' | b'?' | b'[' | b']' | b'\\' | b'^' | b'-') {
            out.push(b'\\');
        }
        out.push(b);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_first_colon_only() {
        let ks = KeySpace::new("p:");
        assert_eq!(ks.split("p:g:a:b:c"), Some((&b"g"[..], &b"a:b:c"[..])));
        assert_eq!(ks.split("p:g:"), Some((&b"g"[..], &b""[..])));
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
        assert_eq!(escape_glob("a?[b]\\"), b"a\\?\\[b\\]\\\\");
    }
}
