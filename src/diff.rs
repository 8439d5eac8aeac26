//! Line diffs of values, shared by the panes that compare two versions of a key (history,
//! live changes). Pure: text in, tagged lines out; drawing and colours stay in the UI.
//!
//! A diff of a value of megabytes has hundreds of thousands of lines: each is kept as a range
//! of one shared text (12 bytes), not as a string of its own.

use std::ops::{Index, Range};
use std::time::{Duration, Instant};

use similar::{Algorithm, DiffOp};

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

/// One line of a diff: where its text is, in the newer text or (removed) in `Diff::removed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: u32,
    len: u32,
    kind: LineKind,
}

/// The line diff of two texts, in reading order (removed lines before the lines that replace
/// them). Holds the newer text and the removed lines of the older one, nothing per line but
/// its range.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diff {
    new: Box<str>,
    /// The removed lines of the older text, one after another.
    removed: Box<str>,
    spans: Vec<Span>,
    counts: (usize, usize),
}

/// A diff too slow to compute exactly (huge values) falls back to a coarser one after this.
const DEADLINE: Duration = Duration::from_millis(200);

/// A text's lines (without their line breaks), indexed by where each starts.
struct Lines<'a> {
    text: &'a str,
    /// Start of each line, and the text's end after the last (4 bytes a line).
    starts: Vec<u32>,
}

impl<'a> Lines<'a> {
    /// `text` is at most `u32::MAX` bytes long (see [`fit`]).
    fn new(text: &'a str) -> Self {
        let mut starts = vec![0u32];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(i, b)| b == b'\n' && i + 1 < text.len())
                .map(|(i, _)| (i + 1) as u32),
        );
        if text.is_empty() {
            starts.clear();
        }
        starts.push(text.len() as u32);
        Self { text, starts }
    }

    fn len(&self) -> usize {
        self.starts.len() - 1
    }

    /// Line `i`'s range, its line break left out.
    fn range(&self, i: usize) -> Range<usize> {
        let (start, end) = (self.starts[i] as usize, self.starts[i + 1] as usize);
        let line = &self.text[start..end];
        start..start + line.trim_end_matches(['\n', '\r']).len()
    }
}

impl Index<usize> for Lines<'_> {
    type Output = str;

    fn index(&self, i: usize) -> &str {
        &self.text[self.range(i)]
    }
}

/// How much of `text` a `u32` range can address (a pretty value over 4 GB is cut), at a
/// character boundary.
fn fit_len(text: &str) -> usize {
    let mut end = text.len().min(u32::MAX as usize);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    end
}

impl Diff {
    /// The line diff from `old` to `new`.
    pub fn new(old: &str, mut new: String) -> Self {
        new.truncate(fit_len(&new));
        let old = &old[..fit_len(old)];
        let (a, b) = (Lines::new(old), Lines::new(&new));
        let ops = similar::capture_diff_deadline(
            Algorithm::Myers,
            &a,
            0..a.len(),
            &b,
            0..b.len(),
            Some(Instant::now() + DEADLINE),
        );
        // Each op as (lines of old removed, lines of new, whether those are added).
        let runs: Vec<(Range<usize>, Range<usize>, bool)> = ops
            .iter()
            .map(|op| {
                let (_, old, new) = op.as_tag_tuple();
                (
                    if matches!(op, DiffOp::Equal { .. }) {
                        0..0
                    } else {
                        old
                    },
                    new,
                    !matches!(op, DiffOp::Equal { .. }),
                )
            })
            .collect();
        drop(ops);
        let gone: usize = runs.iter().map(|r| r.0.len()).sum();
        let added: usize = runs.iter().filter(|r| r.2).map(|r| r.1.len()).sum();
        // Sized once: growing by doubling would touch twice the memory of a large diff.
        let mut spans = Vec::with_capacity(b.len() + gone);
        let mut removed = String::with_capacity(
            runs.iter()
                .flat_map(|r| r.0.clone())
                .map(|i| a.range(i).len())
                .sum(),
        );
        let span = |r: Range<usize>, kind| Span {
            start: r.start as u32,
            len: r.len() as u32,
            kind,
        };
        for (old_lines, new_lines, changed) in runs {
            for i in old_lines {
                let r = a.range(i);
                let at = removed.len();
                removed.push_str(&old[r.clone()]);
                spans.push(span(at..at + r.len(), LineKind::Removed));
            }
            let kind = if changed {
                LineKind::Added
            } else {
                LineKind::Same
            };
            spans.extend(new_lines.map(|i| span(b.range(i), kind)));
        }
        drop((a, b));
        Self {
            new: new.into_boxed_str(),
            removed: removed.into_boxed_str(),
            spans,
            counts: (added, gone),
        }
    }

    /// Number of lines.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// True when neither text has a line.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Line `i`: how it relates to the versions and its text (`None` past the end).
    pub fn line(&self, i: usize) -> Option<(LineKind, &str)> {
        let s = self.spans.get(i)?;
        let text = match s.kind {
            LineKind::Removed => &self.removed,
            _ => &self.new,
        };
        let (start, end) = (s.start as usize, s.start as usize + s.len as usize);
        Some((s.kind, text.get(start..end).unwrap_or("")))
    }

    /// The lines from `from` on.
    pub fn lines_from(&self, from: usize) -> impl Iterator<Item = (LineKind, &str)> {
        (from..self.len()).filter_map(|i| self.line(i))
    }

    /// (added, removed) line counts, for a one-line summary.
    pub fn counts(&self) -> (usize, usize) {
        self.counts
    }

    /// Where the next (`forward`) or previous change after or before line `from` starts: the
    /// first line of a run of added or removed lines.
    pub fn next_change(&self, from: usize, forward: bool) -> Option<usize> {
        let kind = |i: usize| self.spans[i].kind;
        let starts =
            |i: &usize| kind(*i) != LineKind::Same && (*i == 0 || kind(*i - 1) == LineKind::Same);
        if forward {
            (from.saturating_add(1)..self.len()).find(starts)
        } else {
            (0..from.min(self.len())).rev().find(starts)
        }
    }

    /// Line numbers (0-based) of the newer text that are not in the older: what to mark in a
    /// view of it.
    pub fn changed_in_new(&self) -> Vec<usize> {
        let mut n = 0;
        let mut out = Vec::new();
        for s in &self.spans {
            match s.kind {
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
}

/// The text a stored value is compared by: pretty JSON, or the bytes as text when they are not
/// JSON, so that a change of key order or spacing alone still shows.
pub fn comparable_text(stored: &[u8]) -> String {
    motia_state::json::pretty(stored)
        .unwrap_or_else(|| String::from_utf8_lossy(stored).into_owned())
}

/// The line diff of two stored values, as pretty JSON.
pub fn values(old: &[u8], new: &[u8]) -> Diff {
    Diff::new(&comparable_text(old), comparable_text(new))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(d: &Diff) -> Vec<(LineKind, &str)> {
        d.lines_from(0).collect()
    }

    #[test]
    fn a_changed_field_is_one_removed_and_one_added_line() {
        let d = values(br#"{"a":1,"b":2}"#, br#"{"a":1,"b":3}"#);
        assert_eq!(
            all(&d),
            vec![
                (LineKind::Same, "{"),
                (LineKind::Same, "  \"a\": 1,"),
                (LineKind::Removed, "  \"b\": 2"),
                (LineKind::Added, "  \"b\": 3"),
                (LineKind::Same, "}"),
            ]
        );
        assert_eq!(d.counts(), (1, 1));
        assert_eq!(d.line(5), None);
    }

    #[test]
    fn values_that_are_not_json_are_compared_as_text() {
        let d = values(b"plain", br#""plain""#);
        assert_eq!(d.counts(), (1, 1));
        assert_eq!(d.line(0), Some((LineKind::Removed, "plain")));
    }

    #[test]
    fn line_breaks_are_not_part_of_the_lines() {
        let d = Diff::new("a\r\nb\n\nc", "a\r\nB\n\nc\n".to_string());
        assert_eq!(
            all(&d),
            vec![
                (LineKind::Same, "a"),
                (LineKind::Removed, "b"),
                (LineKind::Added, "B"),
                (LineKind::Same, ""),
                (LineKind::Same, "c"),
            ]
        );
        assert!(Diff::new("", String::new()).is_empty());
        let d = Diff::new("", "x\ny\n".to_string());
        assert_eq!(
            all(&d),
            vec![(LineKind::Added, "x"), (LineKind::Added, "y")]
        );
        assert_eq!(d.counts(), (2, 0));
    }

    #[test]
    fn next_change_finds_the_start_of_each_run() {
        let d = Diff::new("a\nb\nc\nd\ne\nf\n", "a\nB\nC\nd\ne\nF\n".to_string());
        let kinds: Vec<LineKind> = d.lines_from(0).map(|l| l.0).collect();
        let starts: Vec<usize> = (0..kinds.len())
            .filter(|&i| kinds[i] != LineKind::Same && (i == 0 || kinds[i - 1] == LineKind::Same))
            .collect();
        assert_eq!(starts.len(), 2);
        assert_eq!(d.next_change(0, true), Some(starts[0]));
        assert_eq!(d.next_change(starts[0], true), Some(starts[1]));
        assert_eq!(d.next_change(starts[1], true), None);
        assert_eq!(d.next_change(starts[1], false), Some(starts[0]));
        assert_eq!(d.next_change(starts[0], false), None);
    }

    #[test]
    fn equal_values_have_no_changes() {
        let d = values(br#"{"a":[1,2]}"#, br#"{"a":[1,2]}"#);
        assert!(d.lines_from(0).all(|l| l.0 == LineKind::Same));
        assert_eq!(d.counts(), (0, 0));
    }

    #[test]
    fn changed_lines_are_numbered_in_the_new_text() {
        let d = Diff::new("a\nb\nc\n", "a\nx\nc\ny\n".to_string());
        assert_eq!(d.changed_in_new(), vec![1, 3]);
    }
}
