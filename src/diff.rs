//! Line diffs of values, shared by the panes that compare two versions of a key (history,
//! live changes). Pure: text in, tagged lines out; drawing and colours stay in the UI.

use std::time::Duration;

use similar::{ChangeTag, TextDiff};

/// How a line of a diff relates to the two versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// In both versions.
    Same,
    /// Only in the newer version.
    Added,
    /// Only in the older version.
    Removed,
}

/// One line of a diff, without its line break.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    pub kind: LineKind,
    pub text: String,
}

/// A diff too slow to compute exactly (huge values) falls back to a coarser one after this.
const DEADLINE: Duration = Duration::from_millis(200);

/// The line diff from `old` to `new`, in reading order (removed lines before the lines that
/// replace them).
pub fn lines(old: &str, new: &str) -> Vec<DiffLine> {
    let diff = TextDiff::configure().timeout(DEADLINE).diff_lines(old, new);
    diff.iter_all_changes()
        .map(|c| DiffLine {
            kind: match c.tag() {
                ChangeTag::Equal => LineKind::Same,
                ChangeTag::Insert => LineKind::Added,
                ChangeTag::Delete => LineKind::Removed,
            },
            text: c.value().trim_end_matches(['\n', '\r']).to_string(),
        })
        .collect()
}

/// The text a stored value is compared by: pretty JSON, or the bytes as text when they are not
/// JSON, so that a change of key order or spacing alone still shows.
pub fn comparable_text(stored: &[u8]) -> String {
    motia_state::json::pretty(stored)
        .unwrap_or_else(|| String::from_utf8_lossy(stored).into_owned())
}

/// The line diff of two stored values, as pretty JSON.
pub fn values(old: &[u8], new: &[u8]) -> Vec<DiffLine> {
    lines(&comparable_text(old), &comparable_text(new))
}

/// (added, removed) line counts, for a one-line summary.
pub fn counts(diff: &[DiffLine]) -> (usize, usize) {
    diff.iter().fold((0, 0), |(a, r), l| match l.kind {
        LineKind::Added => (a + 1, r),
        LineKind::Removed => (a, r + 1),
        LineKind::Same => (a, r),
    })
}

/// Where the next (`forward`) or previous change after or before line `from` starts: the
/// first line of a run of added or removed lines.
pub fn next_change(diff: &[DiffLine], from: usize, forward: bool) -> Option<usize> {
    let starts = |i: &usize| {
        diff[*i].kind != LineKind::Same && (*i == 0 || diff[*i - 1].kind == LineKind::Same)
    };
    if forward {
        (from.saturating_add(1)..diff.len()).find(starts)
    } else {
        (0..from.min(diff.len())).rev().find(starts)
    }
}

/// Line numbers (0-based) of `new` that are not in `old`: what to mark in a view of `new`.
pub fn changed_in_new(old: &str, new: &str) -> Vec<usize> {
    let mut n = 0;
    let mut out = Vec::new();
    for l in lines(old, new) {
        match l.kind {
            LineKind::Same => n += 1,
            LineKind::Added => {
                out.push(n);
                n += 1;
            }
            LineKind::Removed => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_field_is_one_removed_and_one_added_line() {
        let d = values(br#"{"a":1,"b":2}"#, br#"{"a":1,"b":3}"#);
        let kinds: Vec<_> = d.iter().map(|l| (l.kind, l.text.as_str())).collect();
        assert_eq!(
            kinds,
            vec![
                (LineKind::Same, "{"),
                (LineKind::Same, "  \"a\": 1,"),
                (LineKind::Removed, "  \"b\": 2"),
                (LineKind::Added, "  \"b\": 3"),
                (LineKind::Same, "}"),
            ]
        );
        assert_eq!(counts(&d), (1, 1));
    }

    #[test]
    fn values_that_are_not_json_are_compared_as_text() {
        let d = values(b"plain", br#""plain""#);
        assert_eq!(counts(&d), (1, 1));
        assert_eq!(d[0].text, "plain");
    }

    #[test]
    fn next_change_finds_the_start_of_each_run() {
        let d = lines("a\nb\nc\nd\ne\nf\n", "a\nB\nC\nd\ne\nF\n");
        let starts: Vec<usize> = d
            .iter()
            .enumerate()
            .filter(|(i, l)| {
                l.kind != LineKind::Same && (*i == 0 || d[i - 1].kind == LineKind::Same)
            })
            .map(|(i, _)| i)
            .collect();
        assert_eq!(starts.len(), 2);
        assert_eq!(next_change(&d, 0, true), Some(starts[0]));
        assert_eq!(next_change(&d, starts[0], true), Some(starts[1]));
        assert_eq!(next_change(&d, starts[1], true), None);
        assert_eq!(next_change(&d, starts[1], false), Some(starts[0]));
        assert_eq!(next_change(&d, starts[0], false), None);
    }

    #[test]
    fn equal_values_have_no_changes() {
        let d = values(br#"{"a":[1,2]}"#, br#"{"a":[1,2]}"#);
        assert!(d.iter().all(|l| l.kind == LineKind::Same));
    }

    #[test]
    fn changed_lines_are_numbered_in_the_new_text() {
        assert_eq!(changed_in_new("a\nb\nc\n", "a\nx\nc\ny\n"), vec![1, 3]);
    }
}
