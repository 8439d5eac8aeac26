//! Text as the terminal shows it: names and messages with their control characters escaped,
//! widths in cells, cutting and padding by width.
//!
//! Trace ids, keys, values and server messages come from other programs: an ESC sequence in
//! them would recolour or retitle the terminal, and ratatui drops control characters, which
//! would show names that do not exist. Everything drawn goes through [`name`] or [`line`](fn@line).
//!
//! A width is the sum of the widths of the grapheme clusters, each measured as ratatui's buffer
//! measures it (the Unicode width: `注` and `🎉` take two cells, a combining mark none), so a
//! row cut or padded here lands exactly where ratatui draws it. Counting `char`s instead shifts
//! every row holding CJK text or emoji.

use std::borrow::Cow;

use ratatui::buffer::CellWidth;
use unicode_segmentation::UnicodeSegmentation;

/// A trace id or key as drawn. The worker hands the model every name already in the form
/// [`motia_state::escape::name`] gives it (`evil\x1b[41mRED`, `new\nline`, `k\xffx`, `\` as
/// `\\`), which is how the index tells names apart and reaches their exact bytes; escaping it
/// again would double every backslash. So only control characters that reach the screen another
/// way (a typed name, a test) are escaped here.
pub fn name(s: &str) -> Cow<'_, str> {
    line(s)
}

/// A message on one line (a server error, a note, typed input): control characters escaped,
/// line breaks and tabs too (`\n`, `\t`); backslashes kept.
pub fn line(s: &str) -> Cow<'_, str> {
    let escaped = motia_state::escape::text_str(s);
    if escaped.contains(['\n', '\t']) {
        Cow::Owned(escaped.replace('\n', "\\n").replace('\t', "\\t"))
    } else {
        escaped
    }
}

/// Cells taken by one grapheme cluster; control characters are not drawn (they are escaped
/// before they get here).
fn cells(g: &str) -> usize {
    if g.contains(char::is_control) {
        0
    } else {
        g.cell_width() as usize
    }
}

/// Cells `s` takes on screen.
pub fn width(s: &str) -> usize {
    s.graphemes(true).map(cells).sum()
}

/// The longest prefix of `s` that fits in `max` cells, and its width. A wide character that
/// would straddle the edge is left out whole.
pub fn cut(s: &str, max: usize) -> (&str, usize) {
    let mut used = 0;
    for (i, g) in s.grapheme_indices(true) {
        let w = cells(g);
        if used + w > max {
            return (&s[..i], used);
        }
        used += w;
    }
    (s, used)
}

/// The rows `s` takes wrapped at `width` cells (at least 1), as the Value pane wraps it: as
/// many characters as fit on each row, a wide one that does not fit starting the next.
pub fn wrapped_rows(s: &str, width: usize) -> usize {
    if plain(s) {
        return s.len().div_ceil(width.max(1)).max(1);
    }
    let mut rows = 1;
    walk_rows(s, width, |_| {
        rows += 1;
        true
    });
    rows
}

/// Where row `row` of `s` wrapped at `width` cells starts (a byte offset; the end of `s` when
/// it has fewer rows).
pub fn row_start(s: &str, width: usize, row: usize) -> usize {
    if row == 0 {
        return 0;
    }
    if plain(s) {
        return row.saturating_mul(width.max(1)).min(s.len());
    }
    let (mut n, mut at) = (0, s.len());
    walk_rows(s, width, |start| {
        n += 1;
        if n == row {
            at = start;
            return false;
        }
        true
    });
    at
}

/// Printable ASCII, one cell a byte: a line of megabytes of JSON is measured without walking
/// its characters.
fn plain(s: &str) -> bool {
    s.bytes().all(|b| (0x20..0x7f).contains(&b))
}

/// Calls `new_row` with the byte offset of each row after the first, while it returns true.
fn walk_rows(s: &str, width: usize, mut new_row: impl FnMut(usize) -> bool) {
    let width = width.max(1);
    let mut used = 0;
    for (i, g) in s.grapheme_indices(true) {
        let w = cells(g);
        if used + w > width && used > 0 {
            if !new_row(i) {
                return;
            }
            used = 0;
        }
        // A character wider than the row stands alone on it.
        used += w.min(width);
    }
}

/// `s` without its first `cols` cells (horizontal scrolling), and how many blank cells stand
/// in for a wide character cut in half at the left edge.
pub fn skip(s: &str, cols: usize) -> (&str, usize) {
    let mut used = 0;
    for (i, g) in s.grapheme_indices(true) {
        if used >= cols {
            return (&s[i..], used - cols);
        }
        used += cells(g);
    }
    ("", used.saturating_sub(cols))
}

/// `s` in at most `max` cells, the cut marked with `…`.
pub fn clip(s: &str, max: usize) -> Cow<'_, str> {
    if width(s) <= max {
        return Cow::Borrowed(s);
    }
    if max == 0 {
        return Cow::Borrowed("");
    }
    let (head, _) = cut(s, max - 1);
    Cow::Owned(format!("{head}…"))
}

/// `s` in exactly `cells` cells: clipped with `…`, or padded with spaces on the right.
pub fn fit(s: &str, cells: usize) -> String {
    let s = clip(s, cells);
    let pad = cells.saturating_sub(width(&s));
    format!("{s}{}", " ".repeat(pad))
}

/// `s` in exactly `cells` cells, aligned right.
pub fn fit_right(s: &str, cells: usize) -> String {
    let s = clip(s, cells);
    let pad = cells.saturating_sub(width(&s));
    format!("{}{s}", " ".repeat(pad))
}

/// `s` broken between words (at spaces; a no-break space holds) into lines of at most `cells`
/// cells, a word longer than a line broken between grapheme clusters. textwrap's first-fit
/// algorithm, with widths measured here: its own measure counts `❤️` as one cell and a family
/// emoji as six, so a line of them would overrun the box it was wrapped for.
pub fn wrap(s: &str, cells: usize) -> Vec<String> {
    #[derive(Debug)]
    struct Piece<'a> {
        text: &'a str,
        width: usize,
        /// 1 when a space follows in the text.
        space: usize,
    }
    impl textwrap::core::Fragment for Piece<'_> {
        fn width(&self) -> f64 {
            self.width as f64
        }
        fn whitespace_width(&self) -> f64 {
            self.space as f64
        }
        fn penalty_width(&self) -> f64 {
            0.0
        }
    }
    let cells = cells.max(1);
    let mut pieces = Vec::new();
    for word in s.split(' ').filter(|w| !w.is_empty()) {
        let mut rest = word;
        while width(rest) > cells {
            let (mut head, mut w) = cut(rest, cells);
            if head.is_empty() {
                // One cluster wider than the line: it goes alone.
                head = rest.graphemes(true).next().unwrap_or(rest);
                w = width(head);
            }
            pieces.push(Piece {
                text: head,
                width: w,
                space: 0,
            });
            rest = &rest[head.len()..];
        }
        pieces.push(Piece {
            text: rest,
            width: width(rest),
            space: 1,
        });
    }
    let lines = textwrap::wrap_algorithms::wrap_first_fit(&pieces, &[cells as f64]);
    let mut out: Vec<String> = lines
        .into_iter()
        .map(|line| {
            let mut text = String::new();
            for (i, p) in line.iter().enumerate() {
                text.push_str(p.text);
                if p.space > 0 && i + 1 < line.len() {
                    text.push(' ');
                }
            }
            text
        })
        .collect();
    if out.is_empty() {
        out.push(String::new());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_wrap_between_words_measured_as_drawn() {
        assert_eq!(
            wrap("no state: this flow has trace records only", 16),
            ["no state: this", "flow has trace", "records only"]
        );
        assert_eq!(wrap("short", 16), ["short"]);
        assert_eq!(wrap("", 16), [""]);
        // Two cells each, as ratatui draws them (textwrap alone counts 1 and 6).
        assert_eq!(wrap("❤️❤️ 👨‍👩‍👧 注文", 6), ["❤️❤️", "👨‍👩‍👧", "注文"]);
        assert_eq!(wrap("❤️ 👨‍👩‍👧 x", 6), ["❤️ 👨‍👩‍👧", "x"]);
        // A word longer than a line is broken, a wide character left whole.
        assert_eq!(wrap("注文注文注 a", 4), ["注文", "注文", "注 a"]);
        assert!(
            wrap("a/very/long/path/name x", 5)
                .iter()
                .all(|l| width(l) <= 5)
        );
    }

    #[test]
    fn control_characters_are_shown_escaped() {
        assert_eq!(name("evil\x1b[41mRED"), "evil\\x1b[41mRED");
        assert_eq!(name("new\nline"), "new\\nline");
        assert_eq!(name("注文-1"), "注文-1");
        assert_eq!(line("ERR\r\nbad\ttab \u{9b}"), "ERR\\r\\nbad\\ttab \\u{9b}");
        assert_eq!(line("C:\\path"), "C:\\path");
    }

    #[test]
    fn widths_are_cells_not_chars() {
        assert_eq!(width("注文-1"), 6);
        assert_eq!(width("emoji🎉key"), 10);
        assert_eq!(width("e\u{301}"), 1);
        assert_eq!(width("שלום"), 4);
    }

    #[test]
    fn cutting_never_splits_a_wide_character() {
        assert_eq!(cut("合計", 3), ("合", 2));
        assert_eq!(clip("注文-1234", 5), "注文…");
        assert_eq!(clip("ab🎉", 3), "ab…");
        assert_eq!(clip("short", 9), "short");
        assert_eq!(fit("合計", 6), "合計  ");
        assert_eq!(fit_right("7B", 4), "  7B");
        assert_eq!(width(&fit("注文-1234", 5)), 5);
    }

    #[test]
    fn skipping_columns_pads_a_cut_wide_character() {
        assert_eq!(skip("ab合計", 2), ("合計", 0));
        assert_eq!(skip("ab合計", 3), ("計", 1));
        assert_eq!(skip("ab", 5), ("", 0));
    }
}
