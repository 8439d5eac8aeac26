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
                group: group.into(),
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
            group: group.into(),
            reason: "it contains ':', which separates the group id from the key",
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
