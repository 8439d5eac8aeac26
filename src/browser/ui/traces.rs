//! The Traces pane.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::browser::format::thousands;
use crate::browser::model::traces::TraceSort;
use crate::browser::model::{Model, Pane};
use crate::browser::text::{self, fit};
use crate::browser::theme;
use crate::browser::ui::{block, filter_span};

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
        // A trace with a key changed in the last seconds (live mode) is marked.
        let mark = if m.live.trace_marked(trace, m.now()) {
            "•"
        } else {
            ""
        };
        let n = format!("{mark}{}", thousands(m.index.count(trace) as u64));
        let id = fit(
            &text::name(trace),
            inner_w.saturating_sub(text::width(&n) + 1),
        );
        let line = if start + i == m.traces.list.cursor {
            Line::styled(format!("{id} {n}"), theme::cursor(focused))
        } else {
            Line::from(vec![
                Span::raw(format!("{id} ")),
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
