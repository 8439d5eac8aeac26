//! The Traces and Keys panes.

use motia_state::{Ttl, format_duration};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::browser::model::{Mode, Model, Pane, RowKind, TraceSort};
use crate::browser::ui::{clip, short_bytes, theme, thousands};

fn block<'a>(title: Line<'a>, focused: bool) -> Block<'a> {
    Block::bordered()
        .title(title)
        .border_style(theme::border(focused))
}

fn filter_span(m: &Model, pane: Pane, filter: &str) -> Option<Span<'static>> {
    let typing = m.mode == Mode::Filter(pane);
    if filter.is_empty() && !typing {
        return None;
    }
    let cursor = if typing { "▏" } else { "" };
    Some(Span::styled(format!(" /{filter}{cursor} "), theme::note()))
}

pub fn traces(f: &mut Frame, m: &Model, area: Rect) {
    let focused = m.focus == Pane::Traces;
    let total = m.index.traces.len();
    let shown = m.traces.view.len();
    let count = if shown == total {
        thousands(total as u64)
    } else {
        format!("{}/{}", thousands(shown as u64), thousands(total as u64))
    };
    let sort = match m.traces.sort {
        TraceSort::Id => "",
        TraceSort::KeyCount => " by count",
    };
    let mut title = vec![Span::styled(
        format!(" Traces ({count}){sort} "),
        theme::title(focused),
    )];
    title.extend(filter_span(m, Pane::Traces, &m.traces.filter));
    let inner_w = area.width.saturating_sub(2) as usize;
    let h = area.height.saturating_sub(2) as usize;
    let mut lines = Vec::with_capacity(h);
    let start = m.traces.list.offset.min(shown);
    for (i, trace) in m.traces.view[start..(start + h).min(shown)]
        .iter()
        .enumerate()
    {
        let n = thousands(m.index.count(trace) as u64);
        let id_w = inner_w.saturating_sub(n.len() + 2);
        let id = clip(trace, id_w);
        let pad = inner_w.saturating_sub(id.chars().count() + n.len() + 1);
        let text = format!("{id}{} {n}", " ".repeat(pad));
        let line = if start + i == m.traces.list.cursor {
            Line::styled(text, theme::cursor(focused))
        } else {
            Line::from(vec![
                Span::raw(format!("{id}{} ", " ".repeat(pad))),
                Span::styled(n, theme::dim()),
            ])
        };
        lines.push(line);
    }
    if lines.is_empty() {
        lines.push(Line::styled(empty_traces_text(m), theme::dim()));
    }
    f.render_widget(
        Paragraph::new(lines).block(block(Line::from(title), focused)),
        area,
    );
}

fn empty_traces_text(m: &Model) -> &'static str {
    if !m.traces.filter.is_empty() && !m.index.traces.is_empty() {
        "no trace matches the filter"
    } else if m.scan.running {
        "scanning…"
    } else if m.scan.completed_once {
        "no traces under this prefix"
    } else {
        "waiting for the server…"
    }
}

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

/// `59s`, `1h 2m`, `-` for none.
pub fn ttl_text(ttl: Ttl) -> String {
    match ttl {
        Ttl::Missing => "gone".into(),
        Ttl::Persistent => "-".into(),
        Ttl::Expires(d) if d.is_zero() => "expired".into(),
        // Round up so a countdown reads 3, 2, 1 and not 2, 1, 0.
        Ttl::Expires(d) => format_duration(std::time::Duration::from_secs(
            d.as_millis().div_ceil(1000) as u64,
        )),
    }
}

pub fn keys(f: &mut Frame, m: &Model, area: Rect) {
    let focused = m.focus == Pane::Keys;
    let trace = m.keys.trace.as_deref().unwrap_or("");
    let mut title = vec![Span::styled(
        match m.keys.trace.as_deref() {
            Some(t) => format!(" Keys · {t} ({}) ", thousands(m.index.count(t) as u64)),
            None => " Keys ".to_string(),
        },
        theme::title(focused),
    )];
    title.extend(filter_span(m, Pane::Keys, &m.keys.filter));
    match m.keys.sort {
        crate::browser::edit::KeySort::Name => {}
        crate::browser::edit::KeySort::Size => title.push(Span::styled(" by size ", theme::note())),
        crate::browser::edit::KeySort::Ttl => title.push(Span::styled(" by TTL ", theme::note())),
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
        let indent = "  ".repeat(row.depth);
        let selected = start + i == m.keys.list.cursor;
        let line = match &row.kind {
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
                let full = format!("{}{trace}:{key}", m.settings.prefix);
                let meta = m.meta.get(&full);
                let (kind, size, ttl) = match meta {
                    Some(e) if e.gone_since.is_some() => {
                        ("gone".into(), String::new(), "gone".into())
                    }
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
                let text = columns(&format!("{indent}  {label}"), &kind, &size, &ttl, w);
                let style = if selected {
                    theme::cursor(focused)
                } else if meta.is_some_and(|e| e.gone_since.is_some()) {
                    theme::gone()
                } else {
                    ratatui::style::Style::new()
                };
                Line::styled(text, style)
            }
        };
        lines.push(line);
    }
    if m.keys.rows.is_empty() {
        let text = if m.keys.trace.is_none() {
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
        } else {
            "no keys"
        };
        lines.push(Line::styled(text, theme::dim()));
    }
    f.render_widget(
        Paragraph::new(lines).block(block(Line::from(title), focused)),
        area,
    );
}
