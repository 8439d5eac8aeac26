//! The left pane's second section on the iii layout: stream groups, after the scopes, under a
//! `Streams` heading row. The groups are in the index like scopes, under names no scope can
//! have (`browser::stream_name`); the heading is a row of the list that is never selected.

use std::borrow::Cow;
use std::cmp::Ordering;

pub use crate::browser::stream_name::{HEADING, in_streams_section, is_stream, label};

/// The list's order with the sections: scopes, then the heading, then stream groups; by name
/// within each (the heading's name sorts before every group's).
pub fn by_id(a: &str, b: &str) -> Ordering {
    (in_streams_section(a), a).cmp(&(in_streams_section(b), b))
}

/// Puts the stream groups of a sorted list after its scopes (each keeping its order), with the
/// heading row before them when there are any.
pub fn arrange(view: &mut Vec<Box<str>>) {
    view.retain(|t| &**t != HEADING);
    let groups = view.iter().filter(|t| is_stream(t)).count();
    if groups == 0 {
        return;
    }
    // Stable: each section keeps the sort it had.
    view.sort_by_key(|t| is_stream(t));
    let at = view.len() - groups;
    view.insert(at, HEADING.into());
}

/// The row the cursor goes to when it lands on `at`: the heading is passed in the direction of
/// the move (`dir` >= 0 down), or back when nothing is beyond it.
pub fn selectable(view: &[Box<str>], at: usize, dir: isize) -> usize {
    if view.get(at).is_none_or(|t| &**t != HEADING) {
        return at;
    }
    let down = at + 1 < view.len();
    let up = at > 0;
    match (dir >= 0, down, up) {
        (true, true, _) | (false, true, false) => at + 1,
        (_, _, true) => at - 1,
        _ => at,
    }
}

/// A group's name as shown and filtered: `{stream}/{group}` for a stream group.
pub fn shown(group: &str) -> Cow<'_, str> {
    if is_stream(group) {
        Cow::Owned(label(group))
    } else {
        Cow::Borrowed(group)
    }
}

/// What a group is called in words: a stream group, else a scope (iii) or a trace (0.x).
pub fn noun(settings: &crate::browser::model::Settings, group: &str) -> &'static str {
    if is_stream(group) {
        "stream group"
    } else {
        settings.group_noun()
    }
}

/// Number of stream groups in an arranged list (they end it: only they are read).
pub fn count(view: &[Box<str>]) -> usize {
    view.iter().rev().take_while(|t| is_stream(t)).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<Box<str>> {
        v.iter().map(|s| Box::from(*s)).collect()
    }

    #[test]
    fn stream_groups_follow_the_scopes_under_the_heading() {
        let a = crate::browser::stream_name::group_name(b"stream:a:g").unwrap();
        let b = crate::browser::stream_name::group_name(b"stream:b:g").unwrap();
        let mut v = names(&["zeta", &b, "alpha", &a]);
        arrange(&mut v);
        assert_eq!(v, names(&["zeta", "alpha", HEADING, &b, &a]), "orders kept");
        arrange(&mut v);
        assert_eq!(v.len(), 5, "one heading");
        let mut sorted = names(&["zeta", &b, "alpha", &a]);
        sorted.sort_by(|x, y| by_id(x, y));
        arrange(&mut sorted);
        assert_eq!(sorted, names(&["alpha", "zeta", HEADING, &a, &b]));
        let mut scopes = names(&["a", "b"]);
        arrange(&mut scopes);
        assert_eq!(scopes, names(&["a", "b"]), "no heading without groups");
    }

    #[test]
    fn the_cursor_passes_the_heading() {
        let g = crate::browser::stream_name::group_name(b"stream:a:g").unwrap();
        let v = names(&["a", HEADING, &g]);
        assert_eq!(selectable(&v, 1, 1), 2);
        assert_eq!(selectable(&v, 1, -1), 0);
        assert_eq!(selectable(&v, 0, 1), 0);
        let only = names(&[HEADING, &g]);
        assert_eq!(selectable(&only, 0, -1), 1, "nothing above: down");
    }
}
