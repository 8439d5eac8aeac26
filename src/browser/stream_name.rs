//! How the browser names iii stream groups. The model names an item `{prefix}{group}:{key}`
//! (on the iii layout `state:{scope}:{field}`); a stream group, hash `stream:{stream}:{group}`,
//! is the group `\s{stream}\x3a{group}`: escaped as every name is (`motia_state::escape`), its
//! `:` written `\x3a` so the first `:` of the name is still the separator, behind `\s`. An
//! escaped scope never starts with `\s` (escaping writes `\` as `\\` and uses only `\\ \n \r
//! \t \x \u`), so a stream group and a scope never share a name. Shared by the worker, which
//! maps the names to hashes, and the model and screen, which sort and show them.

/// What every stream group's name starts with; alone, the name of the `Streams` heading row.
pub const MARK: &str = "\\s";

/// The name of the `Streams` heading row in the left pane's list (no group has it).
pub const HEADING: &str = MARK;

/// The model's group name of a stream group's Redis key (`stream:{stream}:{group}`); `None`
/// for a key that is not one.
pub fn group_name(key: &[u8]) -> Option<String> {
    let rest = key.strip_prefix(motia_state::adapter::layout::streams::STREAM_PREFIX.as_bytes())?;
    if !rest.contains(&b':') {
        return None;
    }
    let shown = motia_state::escape::name(rest).replace(':', "\\x3a");
    Some(format!("{MARK}{shown}"))
}

/// The Redis key of a stream group's model name; `None` for a scope (or the heading).
pub fn redis_key(group: &str) -> Option<Vec<u8>> {
    let rest = group.strip_prefix(MARK).filter(|r| !r.is_empty())?;
    Some(
        [
            motia_state::adapter::layout::streams::STREAM_PREFIX.as_bytes(),
            &motia_state::escape::unescape_name(rest),
        ]
        .concat(),
    )
}

/// True for the model name of a stream group.
pub fn is_stream(group: &str) -> bool {
    group.len() > MARK.len() && group.starts_with(MARK)
}

/// True for the names of the left pane's second section: the heading and the stream groups.
pub fn in_streams_section(group: &str) -> bool {
    group.starts_with(MARK)
}

/// How a group is shown: a stream group as `{stream}/{group}` (escaped), a scope as it is.
pub fn label(group: &str) -> String {
    let Some(key) = redis_key(group) else {
        return group.to_string();
    };
    let rest = &key[motia_state::adapter::layout::streams::STREAM_PREFIX.len()..];
    match rest.iter().position(|&b| b == b':') {
        Some(at) => format!(
            "{}/{}",
            motia_state::escape::name(&rest[..at]),
            motia_state::escape::name(&rest[at + 1..])
        ),
        None => group.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_go_back_to_their_keys_whatever_their_bytes() {
        for key in [
            &b"stream:orderStatus:orders"[..],
            b"stream:s:g:with:colons",
            b"stream::g",
            b"stream:s\\x3a:g\xff\n",
            "stream:注文:é".as_bytes(),
        ] {
            let name = group_name(key).unwrap();
            assert!(is_stream(&name) && !name.contains(':'), "{name}");
            assert_eq!(redis_key(&name).unwrap(), key, "{name}");
        }
        assert_eq!(
            group_name(b"stream:orderStatus:orders").unwrap(),
            "\\sorderStatus\\x3aorders"
        );
        assert_eq!(group_name(b"stream:nogroup"), None);
        assert_eq!(group_name(b"state:orders"), None);
    }

    #[test]
    fn scopes_are_never_stream_groups() {
        for scope in [
            &b"orders"[..],
            b"\\sx",
            b"s",
            b"\\",
            b"stream:a:b",
            b"\\x3a",
        ] {
            let shown = motia_state::escape::name(scope).replace(':', "\\x3a");
            assert!(!in_streams_section(&shown), "{shown}");
            assert_eq!(redis_key(&shown), None);
            assert_eq!(label(&shown), shown);
        }
        assert!(in_streams_section(HEADING) && !is_stream(HEADING));
    }

    #[test]
    fn labels_read_stream_slash_group() {
        let name = group_name(b"stream:orderStatus:eu:vip").unwrap();
        assert_eq!(label(&name), "orderStatus/eu:vip");
        let odd = group_name(b"stream:a\nb:c").unwrap();
        assert_eq!(label(&odd), "a\\nb/c");
    }
}
