//! The Value pane: title with key, TTL and expiry; a note line; the visible lines, coloured.

use motia_state::Ttl;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::browser::doc::{DocKind, ValueDoc, WINDOW};
use crate::browser::format::{human_bytes, thousands, ttl_text};
use crate::browser::keymap::Command;
use crate::browser::model::streams;
use crate::browser::model::{Model, Pane};
use crate::browser::text;
use crate::browser::theme;
use crate::browser::ui::{clip, marked};

pub fn value(f: &mut Frame, m: &Model, area: Rect) {
    let focused = m.focus == Pane::Value;
    let v = &m.value;
    let width = area.width.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = Vec::new();
    let mut notes: Vec<(String, Style)> = Vec::new();
    let mut place = None;
    if v.gone {
        notes.push(("the key no longer exists".into(), theme::error()));
    }
    if let Some(e) = &v.error {
        notes.push((
            format!("reading the value failed: {}", text::line(e)),
            theme::error(),
        ));
    }
    let diff_keys = m.keymap.keys_of(crate::browser::keymap::Command::Diff);
    let diff = v.diff.as_ref().filter(|_| v.show_diff);
    if let Some(d) = diff {
        let (added, removed) = d.counts();
        notes.push((
            format!("diff with the previous version: +{added} -{removed} · {diff_keys}: the value"),
            theme::note(),
        ));
    } else if v.changed_at.is_some() {
        let n = v.changed_lines.len();
        let lines = match n {
            0 => String::new(),
            1 => ": 1 line marked".into(),
            n => format!(": {n} lines marked"),
        };
        notes.push((
            format!("changed just now{lines} · {diff_keys}: diff with the previous version"),
            theme::note(),
        ));
    }
    match (&v.full_key, &v.doc) {
        (None, _) => {
            lines.push(Line::styled("select a key", theme::dim()));
            lines.extend(crate::browser::ui::traces::record_notes(m, width));
        }
        (Some(_), None) => {
            if v.request.is_some() || v.due.is_some() {
                lines.push(Line::styled("loading…", theme::dim()));
            }
        }
        (Some(_), Some(_)) if diff.is_some() => {
            let body_h = (area.height.saturating_sub(2) as usize).saturating_sub(notes.len());
            for (kind, line) in diff
                .into_iter()
                .flat_map(|d| d.lines_from(v.scroll))
                .take(body_h)
            {
                let (sign, style) = match kind {
                    crate::diff::LineKind::Added => ("+ ", theme::diff_added()),
                    crate::diff::LineKind::Removed => ("- ", theme::diff_removed()),
                    crate::diff::LineKind::Same => ("  ", ratatui::style::Style::new()),
                };
                let text = format!("{sign}{}", text::cut(line, width.saturating_sub(2)).0);
                lines.push(Line::styled(text, style));
            }
        }
        (Some(_), Some(doc)) => {
            doc_notes(m, doc, &mut notes);
            let body_h = (area.height.saturating_sub(2) as usize).saturating_sub(notes.len());
            let cut;
            (lines, cut) = body(m, doc, width, body_h);
            place = position(m, doc, (width, body_h), cut);
        }
    }
    let mut all: Vec<Line> = notes
        .into_iter()
        .map(|(t, s)| Line::styled(clip(&t, width), s))
        .collect();
    all.extend(lines);
    let mut block = Block::bordered()
        .title(marked(Line::from(title(m, focused, width)), focused))
        .border_style(theme::border(focused));
    if let Some(place) = place {
        block = block.title_bottom(place);
    }
    f.render_widget(Paragraph::new(all).block(block), area);
}

/// The pane's title in `room` cells: the key, its TTL and the time it expires. What does not
/// fit is left out whole, the expiry time first: a date is never cut in half.
fn title(m: &Model, focused: bool, room: usize) -> Vec<Span<'static>> {
    let label = " Value ";
    let mut title = vec![Span::styled(label, theme::title(focused))];
    let Some(full) = &m.value.full_key else {
        return title;
    };
    let shown = full
        .strip_prefix(m.settings.prefix.as_str())
        .unwrap_or(full);
    // Cut, the trace id gives way first: the Keys pane's title names it too.
    let (trace, key) = match m.keys.trace.as_deref() {
        Some(t) => match shown.strip_prefix(t).and_then(|k| k.strip_prefix(':')) {
            Some(k) => (Some(t), k),
            None => (None, shown),
        },
        None => (None, shown),
    };
    let (ttl, when) = match m.meta.get(full).map(|e| e.ttl_at(m.now())) {
        Some(ttl @ Ttl::Expires(d)) => {
            let at = m.clock.wall() + chrono::Duration::from_std(d).unwrap_or_default();
            let same_day = at.date_naive() == m.clock.wall().date_naive();
            let when = if same_day {
                at.format("%H:%M:%S")
            } else {
                at.format("%Y-%m-%d %H:%M")
            };
            (
                Some((format!("· TTL {} ", ttl_text(ttl)), theme::note())),
                Some(format!("→ {when} ")),
            )
        }
        Some(Ttl::Persistent) => (Some(("· no TTL ".to_string(), theme::dim())), None),
        _ => (None, None),
    };
    let room = room.saturating_sub(text::width(label));
    // A stream item is named by its group's label.
    let shown = match trace {
        Some(t) if streams::is_stream(t) => format!("{}:{}", streams::label(t), text::name(key)),
        _ => text::name(shown).into_owned(),
    };
    let key_w = text::width(&shown) + 1;
    let fit_key = |room: usize| -> String {
        if text::width(&shown) <= room {
            return shown.to_string();
        }
        let key = text::name(key);
        match trace {
            Some(t) if text::width(&key) + 2 <= room => {
                let t = clip(
                    &text::name(&streams::shown(t)),
                    room - text::width(&key) - 1,
                );
                format!("{t}:{key}")
            }
            _ => clip(&key, room),
        }
    };
    let ttl_w = ttl.as_ref().map_or(0, |(t, _)| text::width(t));
    let when_w = when.as_deref().map_or(0, text::width);
    // The key keeps at least this much of itself before the TTL is given up.
    let key_min = key_w.min(12);
    let (with_ttl, with_when) = if key_w + ttl_w + when_w <= room {
        (true, true)
    } else {
        (key_min + ttl_w <= room, false)
    };
    let key_room = room.saturating_sub(if with_ttl { ttl_w } else { 0 });
    title.push(Span::styled(
        format!("{} ", fit_key(key_room.saturating_sub(1))),
        theme::title(focused),
    ));
    if with_ttl && let Some((t, style)) = ttl {
        let mut t = t;
        if with_when && let Some(w) = &when {
            t.push_str(w);
        }
        title.push(Span::styled(t, style));
    }
    title
}

/// Where the view is, at the bottom right: the first line shown of all of them and, when long
/// lines are cut or scrolled, the column and the keys that scroll sideways. Shorter forms on
/// a narrow pane.
fn position(
    m: &Model,
    doc: &ValueDoc,
    (width, body_h): (usize, usize),
    cut: bool,
) -> Option<Line<'static>> {
    let v = &m.value;
    let sideways = !m.wrap && (cut || v.hscroll > 0);
    if doc.line_count() <= body_h && v.scroll == 0 && v.scroll_row == 0 && !sideways {
        let wraps_past = m.wrap
            && (0..doc.line_count())
                .map(|i| text::wrapped_rows(text::cut(doc.line(i), width * (body_h + 1)).0, width))
                .sum::<usize>()
                > body_h;
        if !wraps_past {
            return None;
        }
    }
    let (n, of) = (
        thousands((v.scroll + 1) as u64),
        thousands(doc.line_count() as u64),
    );
    let keys = format!(
        "{}/{}",
        m.keymap.first_key(Command::ScrollLeft),
        m.keymap.first_key(Command::ScrollRight)
    );
    let col = v.hscroll + 1;
    // Wrapping, a line that takes more than one row says which of its rows is at the top.
    let rows = if m.wrap && v.scroll < doc.line_count() {
        text::wrapped_rows(doc.line(v.scroll), width)
    } else {
        1
    };
    let forms = if rows > 1 {
        let (r, of_rows) = (
            thousands((v.scroll_row.min(rows - 1) + 1) as u64),
            thousands(rows as u64),
        );
        vec![
            format!(" line {n} of {of} · row {r} of {of_rows} "),
            format!(" {n}/{of} · row {r}/{of_rows} "),
            format!(" {n}/{of} "),
        ]
    } else if sideways {
        vec![
            format!(" line {n} of {of} · col {col} · {keys} scroll "),
            format!(" line {n} of {of} · col {col} · {keys} "),
            format!(" {n}/{of} · col {col} · {keys} "),
            format!(" {n}/{of} · col {col} "),
            format!(" {n}/{of} "),
        ]
    } else {
        vec![format!(" line {n} of {of} "), format!(" {n}/{of} ")]
    };
    let text = forms.into_iter().find(|f| text::width(f) <= width)?;
    Some(Line::styled(text, theme::dim()).right_aligned())
}

/// What to know about the value before reading it: only part loaded, not JSON, empty, bytes
/// escaped.
fn doc_notes(m: &Model, doc: &ValueDoc, notes: &mut Vec<(String, Style)>) {
    let v = &m.value;
    if !doc.complete() {
        let loading = if v.request.is_some() && v.want_full {
            " · loading all…".to_string()
        } else {
            format!(" · {}: load all", m.keymap.keys_of(Command::LoadAll))
        };
        notes.push((
            format!(
                "first {} of {}{loading}",
                human_bytes(WINDOW as u64),
                human_bytes(doc.total_len)
            ),
            theme::note(),
        ));
    }
    match &doc.kind {
        DocKind::Text { note } => notes.push((text::line(note).into_owned(), theme::note())),
        DocKind::Empty => notes.push((
            "empty string (Motia reads it as missing)".into(),
            theme::note(),
        )),
        _ => {}
    }
    if doc.escaped {
        notes.push(("non-UTF-8 bytes shown as \\xNN".into(), theme::note()));
    }
}

/// The lines of the value on screen, from the scroll position, `body_h` rows high; true when
/// a line goes on past the right edge.
fn body<'a>(m: &Model, doc: &'a ValueDoc, width: usize, body_h: usize) -> (Vec<Line<'a>>, bool) {
    let mut lines = Vec::new();
    let mut cut_right = false;
    let scroll = m.value.scroll;
    let end = (scroll + body_h).min(doc.line_count());
    for i in scroll.min(end)..end {
        if lines.len() >= body_h {
            break;
        }
        let text = doc.line(i);
        // Only what fits is styled: a 50 MB line costs as much as a short one.
        let v = &m.value;
        let changed = v.changed_at.is_some() && v.changed_lines.binary_search(&i).is_ok();
        let mark = |line: Line<'a>| {
            if changed {
                line.patch_style(theme::changed_line())
            } else {
                line
            }
        };
        if m.wrap {
            // The first line shown may start some rows into itself.
            let text = if i == scroll {
                &text[text::row_start(text, width, m.value.scroll_row)..]
            } else {
                text
            };
            let (cut, _) = text::cut(text, width * (body_h - lines.len()));
            lines.extend(wrap_line(mark(styled(doc, cut)), width));
        } else {
            let (rest, blank) = text::skip(text, m.value.hscroll);
            let (cut, _) = text::cut(rest, width.saturating_sub(blank));
            cut_right |= cut.len() < rest.len();
            let mut line = mark(styled(doc, cut));
            if blank > 0 {
                line.spans.insert(0, Span::raw(" ".repeat(blank)));
            }
            lines.push(line);
        }
    }
    (lines, cut_right)
}

/// A line of the value, coloured when it is JSON. A line scrolled into the middle of a JSON
/// string is coloured from there, which is no worse than a cut.
fn styled<'a>(doc: &ValueDoc, text: &'a str) -> Line<'a> {
    if doc.is_json() {
        highlight_json(text)
    } else {
        Line::raw(text)
    }
}

/// Splits a styled line into rows of `width` cells, keeping each piece's style; a wide
/// character that does not fit at the end of a row starts the next one.
fn wrap_line(line: Line<'_>, width: usize) -> Vec<Line<'_>> {
    let width = width.max(1);
    let mut rows = vec![Line::default()];
    let mut used = 0;
    for span in line.spans {
        let style = span.style;
        let mut rest: &str = match span.content {
            std::borrow::Cow::Borrowed(s) => s,
            // Not produced by highlight_json or Line::raw; kept whole.
            std::borrow::Cow::Owned(s) => {
                if let Some(r) = rows.last_mut() {
                    r.spans.push(Span::styled(s, style));
                }
                continue;
            }
        };
        while !rest.is_empty() {
            let (mut piece, mut w) = text::cut(rest, width - used);
            if piece.is_empty() {
                if used > 0 {
                    rows.push(Line::default());
                    used = 0;
                    continue;
                }
                // Wider than the whole row: shown alone rather than lost.
                let end = rest.chars().next().map_or(rest.len(), char::len_utf8);
                piece = &rest[..end];
                w = width;
            }
            used += w;
            if let Some(r) = rows.last_mut() {
                r.spans.push(Span::styled(piece, style));
            }
            rest = &rest[piece.len()..];
        }
    }
    rows
}

/// Colours one line of re-indented JSON: keys, strings, numbers, literals, punctuation.
pub fn highlight_json(line: &str) -> Line<'_> {
    let b = line.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        if c == b' ' {
            while i < b.len() && b[i] == b' ' {
                i += 1;
            }
            spans.push(Span::raw(&line[start..i]));
        } else if c == b'"' {
            i += 1;
            let mut esc = false;
            while i < b.len() {
                let d = b[i];
                i += 1;
                if esc {
                    esc = false;
                } else if d == b'\\' {
                    esc = true;
                } else if d == b'"' {
                    break;
                }
            }
            let is_key = line[i..].starts_with(':');
            let style = if is_key {
                theme::json_key()
            } else {
                theme::json_string()
            };
            spans.push(Span::styled(&line[start..i], style));
        } else if c == b'-' || c.is_ascii_digit() {
            while i < b.len() && matches!(b[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
                i += 1;
            }
            spans.push(Span::styled(&line[start..i], theme::json_number()));
        } else if c.is_ascii_alphabetic() {
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            spans.push(Span::styled(&line[start..i], theme::json_literal()));
        } else {
            // One character (which may be multi-byte in a partial or odd value).
            let len = line[i..].chars().next().map_or(1, |ch| ch.len_utf8());
            i += len;
            spans.push(Span::styled(&line[start..i], theme::json_punct()));
        }
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_counts_cells_and_keeps_every_character() {
        let text = "注文🎉".repeat(20);
        let rows = wrap_line(Line::raw(text.as_str()), 7);
        let joined: String = rows.iter().map(|r| r.to_string()).collect();
        assert_eq!(joined, text);
        assert_eq!(joined.matches('🎉').count(), 20);
        assert!(rows.iter().all(|r| r.width() <= 7), "{rows:?}");
        // A character wider than the row is kept too.
        assert_eq!(wrap_line(Line::raw("合"), 1).len(), 1);
    }

    #[test]
    fn row_counts_and_starts_match_the_wrapped_rows() {
        for text in ["注文🎉ab".repeat(30), "plain ascii text ".repeat(40)] {
            for width in [1, 3, 7, 20] {
                let rows = wrap_line(Line::raw(text.as_str()), width);
                assert_eq!(text::wrapped_rows(&text, width), rows.len(), "{width}");
                let mut at = 0;
                for (r, row) in rows.iter().enumerate() {
                    assert_eq!(text::row_start(&text, width, r), at, "{width} row {r}");
                    at += row.to_string().len();
                }
            }
        }
    }

    #[test]
    fn wrapping_keeps_styles_and_widths() {
        let rows = wrap_line(highlight_json(r#"  "key": "abcdefghij","#), 8);
        let texts: Vec<String> = rows.iter().map(|r| r.to_string()).collect();
        assert_eq!(texts, ["  \"key\":", " \"abcdef", "ghij\","]);
        assert_eq!(rows[2].spans[0].style, theme::json_string());
    }
}
