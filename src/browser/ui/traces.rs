//! The Traces pane: each trace with its key count, and with Motia's trace records its flow,
//! status, age and number of steps.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use motia_state::adapter::traces::{FlowStatus, MissingRecords};

use crate::browser::format::{ago, thousands};
use crate::browser::model::streams::{HEADING, shown};
use crate::browser::model::traces::{FlowInfo, TraceSort};
use crate::browser::model::{Model, Pane};
use crate::browser::text::{self, fit, fit_right};
use crate::browser::theme;
use crate::browser::ui::{block, clip, filter_span, streams};

/// From this terminal width on, the status is a word; below, a coloured mark.
const STATUS_WORDS_FROM: u16 = 120;

pub fn traces(f: &mut Frame, m: &Model, area: Rect) {
    let focused = m.focus == Pane::Traces;
    let total = m.index.traces.len()
        + m.index
            .flows
            .keys()
            .filter(|t| !m.index.traces.contains_key(*t))
            .count();
    let shown = m.traces.view.len();
    // On the iii layout the stream groups and their heading are counted by the heading.
    let (streams_total, streams_shown) = streams::counts(m);
    let (total, listed) = match streams_shown {
        0 => (total - streams_total, shown),
        n => (total - streams_total, shown - n - 1),
    };
    let count = if listed == total {
        thousands(total as u64)
    } else {
        format!("{}/{}", thousands(listed as u64), thousands(total as u64))
    };
    let sort = match m.traces.sort {
        TraceSort::Id if m.index.has_records() => " by id",
        TraceSort::Id => "",
        TraceSort::KeyCount => " by count",
        TraceSort::Newest => " newest",
        TraceSort::Status => " by status",
    };
    let inner = area.width.saturating_sub(2) as usize;
    let noun = if m.settings.iii { "Scopes" } else { "Traces" };
    let mut head = format!(" {noun} ({count}){sort} ");
    if head.len() > inner {
        // The sort is the `s` key's to show; the count matters more.
        head = format!(" {noun} ({count}) ");
    }
    let mut title = vec![Span::styled(head, theme::title(focused))];
    if let Some(s) = m.traces.status_filter {
        title.push(Span::styled(format!("{s} only "), theme::status(Some(s))));
    }
    let filter: Vec<Span> = filter_span(m, Pane::Traces, &m.traces.filter)
        .into_iter()
        .collect();
    // The column legend only where it fits whole: a title cut mid-word reads as a defect.
    let used: usize = title.iter().chain(&filter).map(Span::width).sum();
    let legend = "steps/keys ";
    if m.index.has_records() && used + legend.len() <= inner {
        title.push(Span::styled(legend, theme::dim()));
    }
    title.extend(filter);
    let h = area.height.saturating_sub(2) as usize;
    let mut lines = Vec::with_capacity(h);
    let start = m.traces.list.offset.min(shown);
    let now_ms = m.clock.wall().timestamp_millis();
    let rows = &m.traces.view[start..(start + h).min(shown)];
    // The status column is as wide as its widest word on screen ("completed · 2 retries").
    let status_w = rows
        .iter()
        .map(|t| text::width(&status_text(m.index.flows.get(&**t), true, now_ms).0))
        .max()
        .unwrap_or(0)
        .max(9);
    // The id column is as wide as the longest id on screen (Motia's are 13 characters).
    let id_col = rows
        .iter()
        .map(|t| text::width(&text::name(t)))
        .max()
        .unwrap_or(0)
        .max(13);
    // Status words need the terminal's width and, beside an open view, room for whole ids and
    // the counts; else a mark each.
    let counts_w = rows
        .iter()
        .map(|t| text::width(&counts_text(m, t)))
        .max()
        .unwrap_or(0);
    let words = m.size.0 >= STATUS_WORDS_FROM && inner >= id_col + 1 + status_w + 1 + counts_w;
    for (i, trace) in rows.iter().enumerate() {
        let cursor = start + i == m.traces.list.cursor;
        let line = if &**trace == HEADING {
            streams::heading(m, inner)
        } else if m.index.has_records() {
            flow_row(
                m,
                trace,
                (inner, status_w, id_col, words),
                now_ms,
                cursor,
                focused,
            )
        } else {
            plain_row(m, trace, inner, cursor, focused)
        };
        lines.push(line);
    }
    let empty = lines.is_empty();
    if empty {
        lines.push(Line::styled(empty_traces_text(m), theme::dim()));
    }
    let mut pane = Paragraph::new(lines).block(block(Line::from(title), focused));
    if empty {
        // The pane's message wraps between words, as the Keys pane's does.
        pane = pane.wrap(Wrap { trim: true });
    }
    f.render_widget(pane, area);
}

/// A trace without records: the id and its key count, as without any records at all.
fn plain_row(m: &Model, trace: &str, inner: usize, cursor: bool, focused: bool) -> Line<'static> {
    let n = format!(
        "{}{}",
        live_mark(m, trace),
        thousands(m.index.count(trace) as u64)
    );
    let id = fit(
        &text::name(&shown(trace)),
        inner.saturating_sub(text::width(&n) + 1),
    );
    if cursor {
        Line::styled(format!("{id} {n}"), theme::cursor(focused))
    } else {
        Line::from(vec![
            Span::raw(format!("{id} ")),
            Span::styled(n, theme::dim()),
        ])
    }
}

/// A trace with a key changed in the last seconds (live mode) is marked.
fn live_mark(m: &Model, trace: &str) -> &'static str {
    if m.live.trace_marked(trace, m.now()) {
        "•"
    } else {
        ""
    }
}

fn status_text(info: Option<&FlowInfo>, words: bool, now_ms: i64) -> (String, Style) {
    let Some(info) = info else {
        return (if words { "" } else { " " }.into(), theme::dim());
    };
    let unreadable_steps = info
        .steps
        .as_ref()
        .is_some_and(|s| !s.unreadable.is_empty());
    // Nothing usable: neither a group record nor readable step records.
    let group_only_unreadable =
        info.group_unreadable.is_some() && info.steps.as_ref().is_none_or(|s| !s.exists);
    if group_only_unreadable || (unreadable_steps && info.status() == Some(FlowStatus::Unknown)) {
        return (
            if words { "unreadable" } else { "!" }.into(),
            theme::error(),
        );
    }
    if info.group_status.is_none()
        && let Some(missing) = info.missing_records(now_ms)
    {
        let word = match missing {
            MissingRecords::Expired => "expired",
            MissingRecords::NotYet | MissingRecords::Unknown => "no steps",
        };
        return (if words { word } else { "-" }.into(), theme::dim());
    }
    let status = info.status();
    let text = match (status, words) {
        (Some(s), true) => match info.retries_text() {
            Some(r) => format!("{s} · {r}"),
            None => s.as_str().to_string(),
        },
        (None, true) => "…".into(),
        (Some(FlowStatus::Failed), false) => "✗".into(),
        (Some(FlowStatus::Running), false) => "◷".into(),
        (Some(FlowStatus::Completed), false) => "✓".into(),
        (Some(FlowStatus::Unknown), false) => "?".into(),
        (None, false) => "·".into(),
    };
    (text, theme::status(status))
}

/// A row's `steps/keys` (with the live mark).
fn counts_text(m: &Model, trace: &str) -> String {
    let info = m.index.flows.get(trace);
    let keys = m.index.count(trace);
    let steps = match info.and_then(|i| i.steps.as_ref()) {
        Some(s) if s.exists => s.steps.to_string(),
        Some(_) => "-".into(),
        None if info.is_some() => "…".into(),
        None => String::new(),
    };
    let keys_text = if keys == 0 {
        "∅".to_string()
    } else {
        thousands(keys as u64)
    };
    let mark = live_mark(m, trace);
    if info.is_some() {
        format!("{mark}{steps}/{keys_text}")
    } else {
        format!("{mark}{keys_text}")
    }
}

/// A trace with records: id, status (a word from 120 columns on), age, flow, steps/keys.
fn flow_row(
    m: &Model,
    trace: &str,
    (inner, status_w, id_col, words): (usize, usize, usize, bool),
    now_ms: i64,
    cursor: bool,
    focused: bool,
) -> Line<'static> {
    let info = m.index.flows.get(trace);
    let (status, status_style) = status_text(info, words, now_ms);
    let status_w = if words { status_w } else { 1 };
    let age = info
        .and_then(|i| i.start_time)
        .map(|t| ago(t, now_ms))
        .unwrap_or_default();
    let no_state = m.index.count(trace) == 0;
    let counts = counts_text(m, trace);
    let id = text::name(trace);
    let flow = match info {
        Some(i) if i.group_unreadable.is_some() && i.flow.is_none() => "unreadable record".into(),
        Some(i) => match i.missing_records(now_ms) {
            Some(missing) => format!(
                "{} ({})",
                text::line(i.flow.as_deref().unwrap_or_default()),
                missing_words(missing)
            ),
            // Below 120 columns the status is a mark: the retries go with the flow's name.
            None => match i.retries_text().filter(|_| !words) {
                Some(r) => format!(
                    "{} · {r}",
                    text::line(i.flow.as_deref().unwrap_or_default())
                ),
                None => text::line(i.flow.as_deref().unwrap_or_default()).into_owned(),
            },
        },
        None => String::new(),
    };
    // The counts and the status are kept whole on a narrow pane; the id takes the width it
    // needs before the flow name and the age do, then gives way in its middle.
    let counts_w = text::width(&counts);
    let id_w = id_col.min(inner.saturating_sub(status_w + 1 + counts_w + 1));
    let base = id_w + 1 + status_w + 1 + counts_w;
    let age_w = if inner >= base + 5 { 5 } else { 0 };
    let flow_w = inner.saturating_sub(base + age_w + 1);
    // A name cut to a letter or two says nothing.
    let flow_w = if flow_w >= 4 { flow_w } else { 0 };
    let mut cells = vec![
        (
            format!("{} ", fit(&clip_middle(&id, id_w), id_w)),
            if no_state { theme::dim() } else { Style::new() },
        ),
        (format!("{status:<status_w$} "), status_style),
    ];
    if age_w > 0 {
        cells.push((format!("{age:>4} "), theme::dim()));
    }
    if flow_w > 0 {
        cells.push((format!("{} ", fit(&flow, flow_w)), Style::new()));
    }
    // Right-aligned, whatever was left out before them.
    let used: usize = cells.iter().map(|(t, _)| text::width(t)).sum();
    cells.push((fit_right(&counts, inner.saturating_sub(used)), theme::dim()));
    if cursor {
        let text: String = cells.iter().map(|(t, _)| t.as_str()).collect();
        return Line::styled(clip(&text, inner), theme::cursor(focused));
    }
    Line::from(
        cells
            .into_iter()
            .map(|(t, s)| Span::styled(t, s))
            .collect::<Vec<_>>(),
    )
}

/// `s` in at most `max` cells, cut in the middle: ids that differ only at their start or only
/// at their end (UUIDs, `order-1001-f34dad`) still look different.
fn clip_middle(s: &str, max: usize) -> String {
    let w = text::width(s);
    if w <= max {
        return s.to_string();
    }
    if max < 7 {
        return text::clip(s, max).into_owned();
    }
    let tail = (max - 1) / 2;
    let (head, _) = text::cut(s, max - 1 - tail);
    let (end, blank) = text::skip(s, w - tail);
    format!("{head}…{}{end}", " ".repeat(blank))
}

fn empty_traces_text(m: &Model) -> &'static str {
    if m.traces.status_filter.is_some() {
        "no flow with this status (:status all shows every trace)"
    } else if !m.traces.filter.is_empty() && !m.index.traces.is_empty() {
        "no trace matches the filter"
    } else if m.scan.running {
        "scanning…"
    } else if m.scan.completed_once {
        "no traces under this prefix"
    } else {
        "waiting for the server…"
    }
}

/// The flow cell's words for a flow without step records.
pub(crate) fn missing_words(missing: MissingRecords) -> &'static str {
    match missing {
        MissingRecords::Expired => "records expired",
        MissingRecords::NotYet => "no step records yet",
        MissingRecords::Unknown => "no step records",
    }
}

/// What the Value pane says about the selected trace's records when no key is shown: records
/// that could not be read, with the reason, or records that expired.
pub(crate) fn record_notes(m: &Model, width: usize) -> Vec<Line<'static>> {
    let Some(info) = m
        .traces
        .selected
        .as_deref()
        .and_then(|t| m.index.flows.get(t))
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(r) = &info.group_unreadable {
        out.push(Line::styled(
            clip(&format!("unreadable group record: {r}"), width),
            theme::error(),
        ));
    }
    let text = match info.missing_records(m.clock.wall().timestamp_millis()) {
        Some(MissingRecords::Expired) => Some(
            "records expired: the group lists this flow, its step records are gone (kept 3 days)",
        ),
        Some(MissingRecords::NotYet) => Some(
            "no step records yet: the flow started less than 3 days ago, its steps have not written any",
        ),
        Some(MissingRecords::Unknown) => Some(
            "no step records: the group lists this flow without a start time (expired, or not written yet)",
        ),
        None => None,
    };
    if let Some(text) = text {
        out.push(Line::styled(clip(text, width), theme::dim()));
    }
    for u in info.steps.iter().flat_map(|s| &s.unreadable) {
        out.push(Line::styled(
            clip(&format!("unreadable step record: {u}"), width),
            theme::error(),
        ));
    }
    out
}
