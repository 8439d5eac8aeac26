//! The Value pane: title with key, TTL and expiry; a note line; the visible lines, coloured.

use motia_state::Ttl;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::browser::doc::{DocKind, ValueDoc, WINDOW};
use crate::browser::format::{human_bytes, ttl_text};
use crate::browser::model::{Model, Pane};
use crate::browser::theme;
use crate::browser::ui::clip;

pub fn value(f: &mut Frame, m: &Model, area: Rect) {
    let focused = m.focus == Pane::Value;
    let v = &m.value;
    let width = area.width.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = Vec::new();
    let mut notes: Vec<(String, Style)> = Vec::new();
    if v.gone {
        notes.push(("the key no longer exists".into(), theme::error()));
    }
    if let Some(e) = &v.error {
        notes.push((format!("reading the value failed: {e}"), theme::error()));
    }
    let diff_keys = m.keymap.keys_of(crate::browser::keymap::Command::Diff);
    let diff = v.diff.as_ref().filter(|_| v.show_diff);
    if let Some(d) = diff {
        let (added, removed) = crate::diff::counts(d);
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
            for l in diff
                .into_iter()
                .flat_map(|d| d.iter())
                .skip(v.scroll)
                .take(body_h)
            {
                let (sign, style) = match l.kind {
                    crate::diff::LineKind::Added => ("+ ", theme::diff_added()),
                    crate::diff::LineKind::Removed => ("- ", theme::diff_removed()),
                    crate::diff::LineKind::Same => ("  ", ratatui::style::Style::new()),
                };
                let text = format!("{sign}{}", cut_at(&l.text, width.saturating_sub(2)));
                lines.push(Line::styled(text, style));
            }
        }
        (Some(_), Some(doc)) => {
            doc_notes(m, doc, &mut notes);
            let body_h = (area.height.saturating_sub(2) as usize).saturating_sub(notes.len());
            lines = body(m, doc, width, body_h);
        }
    }
    let mut all: Vec<Line> = notes
        .into_iter()
        .map(|(t, s)| Line::styled(clip(&t, width), s))
        .collect();
    all.extend(lines);
    f.render_widget(
        Paragraph::new(all).block(
            Block::bordered()
                .title(Line::from(title(m, focused)))
                .border_style(theme::border(focused)),
        ),
        area,
    );
}

/// The pane's title: the key and its TTL, with the time it expires.
fn title(m: &Model, focused: bool) -> Vec<Span<'static>> {
    let mut title = vec![Span::styled(" Value ", theme::title(focused))];
    let Some(full) = &m.value.full_key else {
        return title;
    };
    let shown = full
        .strip_prefix(m.settings.prefix.as_str())
        .unwrap_or(full);
    title.push(Span::styled(format!("{shown} "), theme::title(focused)));
    if let Some(e) = m.meta.get(full) {
        let ttl = e.ttl_at(m.now());
        match ttl {
            Ttl::Expires(d) => {
                let at = m.clock.wall() + chrono::Duration::from_std(d).unwrap_or_default();
                let same_day = at.date_naive() == m.clock.wall().date_naive();
                let when = if same_day {
                    at.format("%H:%M:%S")
                } else {
                    at.format("%Y-%m-%d %H:%M")
                };
                title.push(Span::styled(
                    format!("· TTL {} → {when} ", ttl_text(ttl)),
                    theme::note(),
                ));
            }
            Ttl::Persistent => title.push(Span::styled("· no TTL ", theme::dim())),
            Ttl::Missing => {}
        }
    }
    title
}

/// What to know about the value before reading it: only part loaded, not JSON, empty, bytes
/// escaped.
fn doc_notes(m: &Model, doc: &ValueDoc, notes: &mut Vec<(String, Style)>) {
    let v = &m.value;
    if !doc.complete() {
        let loading = if v.request.is_some() && v.want_full {
            " · loading all…".to_string()
        } else {
            format!(
                " · {}: load all",
                m.keymap.keys_of(crate::browser::keymap::Command::LoadAll)
            )
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
        DocKind::Text { note } => notes.push((note.clone(), theme::note())),
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

/// The lines of the value on screen, from the scroll position, `body_h` rows high.
fn body<'a>(m: &Model, doc: &'a ValueDoc, width: usize, body_h: usize) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    let scroll = m.value.scroll;
    let end = (scroll + body_h).min(doc.line_count());
    for i in scroll.min(end)..end {
        if lines.len() >= body_h {
            break;
        }
        let text = doc.line(i);
        // Only what fits is styled: a 50 MB line costs as much as a short one.
        let room = if m.wrap {
            width * (body_h - lines.len())
        } else {
            width
        };
        let cut = cut_at(text, room);
        let mut line = if doc.is_json() {
            highlight_json(cut)
        } else {
            Line::raw(cut)
        };
        let v = &m.value;
        if v.changed_at.is_some() && v.changed_lines.binary_search(&i).is_ok() {
            line = line.patch_style(theme::changed_line());
        }
        if m.wrap {
            lines.extend(wrap_line(line, width));
        } else {
            lines.push(line);
        }
    }
    lines
}

/// Splits a styled line into rows of `width` characters, keeping each piece's style.
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
            if used == width {
                rows.push(Line::default());
                used = 0;
            }
            let piece = cut_at(rest, width - used);
            used += piece.chars().count();
            if let Some(r) = rows.last_mut() {
                r.spans.push(Span::styled(piece, style));
            }
            rest = &rest[piece.len()..];
        }
    }
    rows
}

/// The prefix of `s` holding at most `width` characters.
fn cut_at(s: &str, width: usize) -> &str {
    match s.char_indices().nth(width) {
        Some((i, _)) => &s[..i],
        None => s,
    }
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
    fn wrapping_keeps_styles_and_widths() {
        let rows = wrap_line(highlight_json(r#"  "key": "abcdefghij","#), 8);
        let texts: Vec<String> = rows.iter().map(|r| r.to_string()).collect();
        assert_eq!(texts, ["  \"key\":", " \"abcdef", "ghij\","]);
        assert_eq!(rows[2].spans[0].style, theme::json_string());
    }
}
