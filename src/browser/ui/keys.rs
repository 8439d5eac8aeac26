//! The Keys pane: the key tree (or flat list) of the selected trace with type, size and TTL.

use std::time::Instant;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::browser::format::{short_bytes, thousands, ttl_text};
use crate::browser::model::keys::{KeySort, Row, RowKind};
use crate::browser::model::streams::shown;
use crate::browser::model::{Model, Pane};
use crate::browser::text::{self, fit, fit_right};
use crate::browser::theme;
use crate::browser::ui::{block, clip, filter_span};

/// Type, size and TTL of a key row, as shown.
type Cells = [String; 3];

const HEADER: [&str; 3] = ["type", "size", "ttl"];

/// The widest each column gets; narrower when what it shows on screen is.
const MAX_W: [usize; 3] = [7, 7, 7];

/// Columns in the order they keep their place when the pane is narrow: the TTL (it moves by
/// itself) before the type, the type before the size.
const KEEP_ORDER: [usize; 3] = [2, 0, 1];

/// Names as wide as this get the room before any column; beyond it columns come first.
const NAME_ROOM: usize = 24;

/// The width of each column beside names needing `name_need` cells in a row of `width`, 0 for
/// a column left out: names first, each column as wide as its widest cell on screen.
fn plan(width: usize, name_need: usize, rows: &[Option<Cells>]) -> [usize; 3] {
    let mut col_w = [0; 3];
    for i in 0..3 {
        let widest = rows
            .iter()
            .flatten()
            .map(|c| text::width(&c[i]))
            .chain([HEADER[i].len()])
            .max()
            .unwrap_or(0);
        col_w[i] = widest.min(MAX_W[i]);
    }
    let want = name_need.min(NAME_ROOM);
    let mut left = width;
    let mut keep = [0; 3];
    for i in KEEP_ORDER {
        if left.saturating_sub(col_w[i] + 1) >= want {
            left -= col_w[i] + 1;
            keep[i] = col_w[i];
        }
    }
    keep
}

/// A row of the table: the name, then the planned columns (type left, size and TTL right).
fn columns(name: &str, cells: [&str; 3], cols: [usize; 3], width: usize) -> String {
    let used: usize = cols.iter().filter(|w| **w > 0).map(|w| w + 1).sum();
    let mut out = fit(name, width.saturating_sub(used));
    for (i, w) in cols.into_iter().enumerate() {
        if w == 0 {
            continue;
        }
        out.push(' ');
        out.push_str(&if i == 0 {
            fit(cells[i], w)
        } else {
            fit_right(cells[i], w)
        });
    }
    out
}

pub fn keys(f: &mut Frame, m: &Model, area: Rect) {
    let focused = m.focus == Pane::Keys;
    let w = area.width.saturating_sub(2) as usize;
    let h = area.height.saturating_sub(3) as usize;
    let now = m.now();
    let start = m.keys.list.offset.min(m.keys.rows.len());
    let end = (start + h).min(m.keys.rows.len());
    let shown = &m.keys.rows[start..end];
    let cells: Vec<Option<Cells>> = shown.iter().map(|r| key_cells(m, r, now)).collect();
    let name_need = shown
        .iter()
        .zip(&cells)
        .filter(|(_, c)| c.is_some())
        .map(|(r, _)| text::width(&name_text(m, r, now)))
        .max()
        .unwrap_or(0);
    let cols = plan(w, name_need, &cells);
    let mut lines = Vec::with_capacity(h + 1);
    lines.push(Line::styled(columns("key", HEADER, cols, w), theme::dim()));
    for (i, (row, cells)) in shown.iter().zip(&cells).enumerate() {
        let selected = start + i == m.keys.list.cursor;
        let name = name_text(m, row, now);
        let style = if selected {
            theme::cursor(focused)
        } else if matches!(row.kind, RowKind::Folder { .. }) {
            theme::folder()
        } else if is_gone(m, row) {
            theme::gone()
        } else {
            Style::new()
        };
        let text = match cells {
            // Folders span the whole row.
            None => fit(&name, w),
            Some([kind, size, ttl]) => columns(&name, [kind, size, ttl], cols, w),
        };
        lines.push(Line::styled(text, style));
    }
    let empty = m.keys.rows.is_empty();
    if empty {
        lines.push(Line::styled(empty_keys_text(m), theme::dim()));
    }
    let mut pane = Paragraph::new(lines);
    if empty {
        // The message is read whole in a narrow pane: broken between words (the header above
        // it fits the pane, so it is left as it is).
        pane = pane.wrap(Wrap { trim: true });
    }
    f.render_widget(
        pane.block(block(Line::from(title(m, focused, w)), focused)),
        area,
    );
}

/// The text of a row's name column (indent, arrow or live mark, label, count).
fn name_text(m: &Model, row: &Row, now: Instant) -> String {
    let indent = "  ".repeat(row.depth);
    match &row.kind {
        RowKind::Folder { count, open, .. } => {
            let arrow = if *open { "▾" } else { "▸" };
            format!(
                "{indent}{arrow} {} ({})",
                text::name(&row.label),
                thousands(*count as u64)
            )
        }
        RowKind::Key { key } => {
            let label = if row.label.is_empty() {
                "(empty)".into()
            } else {
                text::name(&row.label)
            };
            // A key changed in the last seconds (live mode) is marked.
            let mark = if m.live.key_marked(&full_key(m, key), now) {
                "• "
            } else {
                "  "
            };
            format!("{indent}{mark}{label}")
        }
    }
}

fn full_key(m: &Model, key: &str) -> String {
    let trace = m.keys.trace.as_deref().unwrap_or("");
    format!("{}{trace}:{key}", m.settings.prefix)
}

fn is_gone(m: &Model, row: &Row) -> bool {
    match &row.kind {
        RowKind::Key { key } => m
            .meta
            .get(&full_key(m, key))
            .is_some_and(|e| e.gone_since.is_some()),
        RowKind::Folder { .. } => false,
    }
}

/// Type, size and TTL of a key row (`None` for a folder).
fn key_cells(m: &Model, row: &Row, now: Instant) -> Option<Cells> {
    let RowKind::Key { key } = &row.kind else {
        return None;
    };
    Some(match m.meta.get(&full_key(m, key)) {
        Some(e) if e.gone_since.is_some() => ["gone".into(), String::new(), "gone".into()],
        Some(e) => [
            e.meta.kind.clone(),
            e.meta.len.map(short_bytes).unwrap_or_default(),
            ttl_text(e.ttl_at(now)),
        ],
        None => ["…".into(), String::new(), String::new()],
    })
}

/// The pane's title: the trace and its key count, the filter, the order, the `:where`.
fn title(m: &Model, focused: bool, room: usize) -> Vec<Span<'static>> {
    let mut rest = Vec::new();
    rest.extend(filter_span(m, Pane::Keys, &m.keys.filter));
    match m.keys.sort {
        KeySort::Name => {}
        KeySort::Size => rest.push(Span::styled(" by size ", theme::note())),
        KeySort::Ttl => rest.push(Span::styled(" by TTL ", theme::note())),
    }
    if let Some(w) = &m.keys.where_filter {
        let state = match &w.matching {
            None => "…".to_string(),
            Some(set) => thousands(set.len() as u64),
        };
        rest.push(Span::styled(
            format!(" where {} ({state}) ", text::line(&w.text)),
            theme::note(),
        ));
    }
    // Trace records that cannot be used are said here; T names them with the reason.
    if let Some(info) = m.keys.trace.as_deref().and_then(|t| m.index.flows.get(t)) {
        let unreadable = info.group_unreadable.is_some()
            || info
                .steps
                .as_ref()
                .is_some_and(|s| !s.unreadable.is_empty());
        if unreadable {
            rest.push(Span::styled(" records unreadable (T) ", theme::error()));
        } else if let Some(missing) = info.missing_records(m.clock.wall().timestamp_millis()) {
            rest.push(Span::styled(
                format!(" {} ", crate::browser::ui::traces::missing_words(missing)),
                theme::dim(),
            ));
        }
    }
    let head = match m.keys.trace.as_deref() {
        Some(t) => {
            // The trace id gives way so that its key count stays whole.
            let n = thousands(m.index.count(t) as u64);
            let others: usize = rest.iter().map(|s| text::width(&s.content)).sum();
            let frame = text::width(" Keys ·  () ") + n.len() + others;
            let id = clip(&text::name(&shown(t)), room.saturating_sub(frame).max(4));
            format!(" Keys · {id} ({n}) ")
        }
        None => " Keys ".to_string(),
    };
    let mut title = vec![Span::styled(head, theme::title(focused))];
    title.extend(rest);
    title
}

/// Why there are no rows.
fn empty_keys_text(m: &Model) -> &'static str {
    if m.keys.trace.is_none() {
        if m.settings.iii {
            "select a scope"
        } else {
            "select a trace"
        }
    } else if m
        .keys
        .where_filter
        .as_ref()
        .is_some_and(|w| w.matching.is_none())
    {
        "reading values for :where…"
    } else if m.keys.where_filter.is_some() {
        "no key's value matches (:where alone clears)"
    } else if !m.keys.filter.is_empty() {
        "no key matches the filter"
    } else if m
        .keys
        .trace
        .as_deref()
        .is_some_and(|t| m.index.count(t) == 0 && m.index.flows.contains_key(t))
    {
        "no state: this flow has trace records only (T: timeline)"
    } else {
        "no keys"
    }
}
