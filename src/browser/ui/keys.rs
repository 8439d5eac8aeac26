//! The Keys pane: the key tree (or flat list) of the selected trace with type, size and TTL.

use std::time::Instant;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::browser::format::{short_bytes, thousands, ttl_text};
use crate::browser::model::keys::{KeySort, Row, RowKind};
use crate::browser::model::{Model, Pane};
use crate::browser::theme;
use crate::browser::ui::{block, clip, filter_span};

/// Column widths of the key table: type, size, TTL.
const TYPE_W: usize = 7;

const SIZE_W: usize = 7;

const TTL_W: usize = 7;

fn columns(name: &str, kind: &str, size: &str, ttl: &str, width: usize) -> String {
    let name_w = width.saturating_sub(TYPE_W + SIZE_W + TTL_W + 3);
    let name = clip(name, name_w);
    format!(
        "{name:<name_w$} {:<TYPE_W$} {:>SIZE_W$} {:>TTL_W$}",
        clip(kind, TYPE_W),
        clip(size, SIZE_W),
        clip(ttl, TTL_W)
    )
}

pub fn keys(f: &mut Frame, m: &Model, area: Rect) {
    let focused = m.focus == Pane::Keys;
    let w = area.width.saturating_sub(2) as usize;
    let h = area.height.saturating_sub(3) as usize;
    let now = m.now();
    let mut lines = Vec::with_capacity(h + 1);
    lines.push(Line::styled(
        columns("key", "type", "size", "ttl", w),
        theme::dim(),
    ));
    let start = m.keys.list.offset.min(m.keys.rows.len());
    let end = (start + h).min(m.keys.rows.len());
    for (i, row) in m.keys.rows[start..end].iter().enumerate() {
        let selected = start + i == m.keys.list.cursor;
        lines.push(row_line(m, row, (focused, selected), w, now));
    }
    if m.keys.rows.is_empty() {
        lines.push(Line::styled(empty_keys_text(m), theme::dim()));
    }
    f.render_widget(
        Paragraph::new(lines).block(block(Line::from(title(m, focused)), focused)),
        area,
    );
}

/// The pane's title: the trace and its key count, the filter, the order, the `:where`.
fn title(m: &Model, focused: bool) -> Vec<Span<'static>> {
    let mut title = vec![Span::styled(
        match m.keys.trace.as_deref() {
            Some(t) => format!(" Keys · {t} ({}) ", thousands(m.index.count(t) as u64)),
            None => " Keys ".to_string(),
        },
        theme::title(focused),
    )];
    title.extend(filter_span(m, Pane::Keys, &m.keys.filter));
    match m.keys.sort {
        KeySort::Name => {}
        KeySort::Size => title.push(Span::styled(" by size ", theme::note())),
        KeySort::Ttl => title.push(Span::styled(" by TTL ", theme::note())),
    }
    if let Some(w) = &m.keys.where_filter {
        let state = match &w.matching {
            None => "…".to_string(),
            Some(set) => thousands(set.len() as u64),
        };
        title.push(Span::styled(
            format!(" where {} ({state}) ", w.text),
            theme::note(),
        ));
    }
    title
}

/// One row: a folder with its count, or a key with type, size and TTL.
/// `(focused, selected)`: the pane has the focus, the row is under the cursor.
fn row_line(
    m: &Model,
    row: &Row,
    (focused, selected): (bool, bool),
    w: usize,
    now: Instant,
) -> Line<'static> {
    let indent = "  ".repeat(row.depth);
    match &row.kind {
        RowKind::Folder { count, open, .. } => {
            let arrow = if *open { "▾" } else { "▸" };
            let text = format!(
                "{indent}{arrow} {} ({})",
                row.label,
                thousands(*count as u64)
            );
            let text = format!("{:<w$}", clip(&text, w));
            Line::styled(
                text,
                if selected {
                    theme::cursor(focused)
                } else {
                    theme::folder()
                },
            )
        }
        RowKind::Key { key } => {
            let trace = m.keys.trace.as_deref().unwrap_or("");
            let full = format!("{}{trace}:{key}", m.settings.prefix);
            let meta = m.meta.get(&full);
            let (kind, size, ttl) = match meta {
                Some(e) if e.gone_since.is_some() => ("gone".into(), String::new(), "gone".into()),
                Some(e) => (
                    e.meta.kind.clone(),
                    e.meta.len.map(short_bytes).unwrap_or_default(),
                    ttl_text(e.ttl_at(now)),
                ),
                None => ("…".into(), String::new(), String::new()),
            };
            let label = if row.label.is_empty() {
                "(empty)"
            } else {
                &row.label
            };
            // A key changed in the last seconds (live mode) is marked.
            let mark = if m.live.key_marked(&full, now) {
                "• "
            } else {
                "  "
            };
            let text = columns(&format!("{indent}{mark}{label}"), &kind, &size, &ttl, w);
            let style = if selected {
                theme::cursor(focused)
            } else if meta.is_some_and(|e| e.gone_since.is_some()) {
                theme::gone()
            } else {
                ratatui::style::Style::new()
            };
            Line::styled(text, style)
        }
    }
}

/// Why there are no rows.
fn empty_keys_text(m: &Model) -> &'static str {
    if m.keys.trace.is_none() {
        "select a trace"
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
