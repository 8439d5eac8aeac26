//! The timeline (in place of the Keys pane) and the selected step or event (in the Value
//! pane).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use motia_state::adapter::traces::{EventKind, MissingRecords, Trace, TraceEvent};

use crate::browser::format::{ago, human_bytes, local_time, millis, noun};
use crate::browser::model::timeline::{TimelineView, TlLine};
use crate::browser::model::traces::retries_text;
use crate::browser::model::{Model, Pane};
use crate::browser::text;
use crate::browser::theme;
use crate::browser::ui::{block, clip};

pub fn timeline(f: &mut Frame, m: &Model, area: Rect) {
    let Some(v) = &m.timeline else { return };
    let focused = m.focus == Pane::Keys;
    let w = area.width.saturating_sub(2) as usize;
    let h = area.height.saturating_sub(3) as usize;
    let zone = *m.clock.wall().offset();
    let flow = m.index.flows.get(&*v.trace);
    let head = clip(&format!(" Timeline {} ", text::name(&v.trace)), w);
    let status = v.records.as_ref().and_then(|r| r.status());
    // What does not fit whole is left out, the flow's name before the status (a title cut
    // mid-word reads as a defect).
    let mut used = text::width(&head);
    let retries = v.records.as_ref().map_or(0, |r| r.retries());
    // The retries go first when the status alone fits.
    let status = status.and_then(|s| {
        let with_retries = (retries > 0).then(|| format!("{s} · {} ", retries_text(retries)));
        with_retries
            .into_iter()
            .chain([format!("{s} ")])
            .find(|t| used + text::width(t) <= w)
            .map(|t| (s, t))
    });
    used += status.as_ref().map_or(0, |(_, t)| text::width(t));
    let name = flow
        .and_then(|i| i.flow.as_deref())
        .map(|n| format!("{} ", text::line(n)))
        .filter(|n| used + text::width(n) <= w);
    let mut title = vec![Span::styled(head, theme::title(focused))];
    if let Some(name) = name {
        title.push(Span::styled(name, theme::title(focused)));
    }
    if let Some((s, t)) = status {
        title.push(Span::styled(t, theme::status(Some(s))));
    }
    let mut lines = Vec::with_capacity(h + 1);
    let header = match (&v.records, &v.error) {
        (_, Some(e)) => Line::styled(
            clip(&format!("reading the records failed: {e}"), w),
            theme::error(),
        ),
        (None, None) => Line::styled("reading the trace records…", theme::dim()),
        (Some(r), None) if !r.exists() => {
            let now_ms = m.clock.wall().timestamp_millis();
            let text = match flow.and_then(|i| i.missing_records(now_ms)) {
                Some(MissingRecords::NotYet) => {
                    "no step records yet (the flow started less than 3 days ago) · Esc closes"
                }
                Some(MissingRecords::Expired) => {
                    "step records expired (Motia keeps them 3 days) · Esc closes"
                }
                _ => "no step records (Motia keeps them 3 days) · Esc closes",
            };
            Line::styled(clip(text, w), theme::dim())
        }
        (Some(r), None) => {
            let n = r.step_count();
            // Records that could not be read have no start: no time is shown for none.
            let started = match v.timeline.start_time {
                Some(start) => format!(
                    "started {} ({} ago)",
                    local_time(start, &zone),
                    ago(start, m.clock.wall().timestamp_millis())
                ),
                None => "started at an unknown time".into(),
            };
            let mut text = format!("{started} · {n} {}", noun(n as u64, "step", "steps"));
            if !r.unreadable.is_empty() {
                text.push_str(&format!(" · {} unreadable", r.unreadable.len()));
            }
            let unread = r.events_not_read();
            if unread > 0 {
                text.push_str(&format!(
                    " · events of {unread} {} not read (over the budget)",
                    noun(unread as u64, "step", "steps")
                ));
            }
            Line::styled(clip(&text, w), theme::dim())
        }
    };
    lines.push(header);
    if let Some(records) = &v.records {
        let start = v.list.offset.min(v.lines.len());
        let end = (start + h).min(v.lines.len());
        for (i, line) in v.lines[start..end].iter().enumerate() {
            let cursor = start + i == v.list.cursor;
            let spans = line_spans(v, &records.steps, *line, w);
            lines.push(if cursor {
                let text: String = spans.iter().map(|s| s.content.as_ref()).collect();
                Line::styled(clip(&text, w), theme::cursor(focused))
            } else {
                Line::from(spans)
            });
        }
    }
    f.render_widget(
        Paragraph::new(lines).block(block(Line::from(title), focused)),
        area,
    );
}

fn line_spans(v: &TimelineView, steps: &[Trace], line: TlLine, w: usize) -> Vec<Span<'static>> {
    let base = v.timeline.start_time.unwrap_or(0);
    match line {
        TlLine::Row(r) => {
            let Some(row) = v.timeline.rows.get(r) else {
                return Vec::new();
            };
            let mark = if row.attempts.len() > 1 { "▸ " } else { "  " };
            let mut note = Vec::new();
            if let Some(a) = row.attempts_text() {
                note.push(a);
            }
            if let Some(e) = &row.error_line {
                note.push(e.clone());
            }
            if row.dead_letter.is_some() {
                note.push("dead-letter queue".into());
            }
            let glyph = match row.status {
                motia_state::adapter::traces::FlowStatus::Failed => "✗",
                motia_state::adapter::traces::FlowStatus::Running => "◷",
                motia_state::adapter::traces::FlowStatus::Completed => "✓",
                motia_state::adapter::traces::FlowStatus::Unknown => "?",
            };
            let head = format!("{:>7} {glyph} ", format!("+{}", millis(row.offset_ms)));
            let took = row
                .duration_ms
                .map(millis)
                .unwrap_or_else(|| "running".into());
            let rest = format!(
                "{} · {} · {took}{}{}",
                row.name,
                row.entry_type.as_deref().unwrap_or("-"),
                if note.is_empty() { "" } else { " · " },
                note.join(" · ")
            );
            vec![
                Span::raw(mark.to_string()),
                Span::styled(head.clone(), theme::status(Some(row.status))),
                Span::raw(clip(&rest, w.saturating_sub(head.chars().count() + 2))),
            ]
        }
        TlLine::Attempt { row, step } => {
            let s = &steps[step];
            let n = v.timeline.rows[row]
                .attempts
                .iter()
                .position(|&a| a == step)
                .map_or(0, |p| p + 1);
            let text = format!(
                "    attempt {n} +{} {} {}",
                millis(s.start_time - base),
                s.duration_ms()
                    .map(millis)
                    .unwrap_or_else(|| "running".into()),
                s.error
                    .as_ref()
                    .map(|e| e.first_line().to_string())
                    .unwrap_or_default()
            );
            vec![Span::styled(clip(&text, w), theme::status(Some(s.status)))]
        }
        TlLine::Event { step, event } => {
            let ev = &steps[step].events[event];
            let at = ev
                .timestamp
                .map(|t| format!("+{}", millis(t - base)))
                .unwrap_or_default();
            let text = format!("      {at:>7} {}", ev.summary());
            vec![Span::styled(clip(&text, w), event_style(ev))]
        }
    }
}

fn event_style(ev: &TraceEvent) -> Style {
    match &ev.kind {
        EventKind::State { .. } => theme::json_key(),
        EventKind::Emit { success: false, .. } | EventKind::Unreadable { .. } => theme::error(),
        EventKind::Emit { .. } | EventKind::Stream { .. } => theme::json_literal(),
        EventKind::Log { level, .. } if level == "error" => theme::error(),
        EventKind::Log { level, .. } if level == "warn" => theme::note(),
        _ => theme::dim(),
    }
}

/// The Value pane while the timeline is shown: the step under the cursor (its error with the
/// stack when it failed), or the event as stored.
pub fn detail(f: &mut Frame, m: &Model, area: Rect) {
    let Some(v) = &m.timeline else { return };
    let focused = m.focus == Pane::Value;
    let w = area.width.saturating_sub(2) as usize;
    let zone = *m.clock.wall().offset();
    let mut title = " Step ".to_string();
    let mut lines: Vec<Line> = Vec::new();
    match (v.records.as_ref(), v.cursor_line()) {
        (Some(records), Some(line)) => match line {
            TlLine::Event { step, event } => {
                let ev = &records.steps[step].events[event];
                title = " Event ".into();
                if let EventKind::State { key: Some(k), .. } = &ev.kind {
                    lines.push(Line::styled(
                        clip(&format!("Enter: go to the key {k}"), w),
                        theme::note(),
                    ));
                }
                for l in motia_state::json::to_pretty(&ev.raw).lines() {
                    lines.push(Line::raw(l.to_string()));
                }
            }
            _ => {
                if let Some(step) = v.step_of(line) {
                    let s = &records.steps[step];
                    title = clip(&format!(" Step {} ", s.name), w);
                    let row = match line {
                        TlLine::Row(r) | TlLine::Attempt { row: r, .. } => v.timeline.rows.get(r),
                        TlLine::Event { .. } => None,
                    };
                    step_lines(s, row, &zone, m.clock.wall().timestamp_millis(), &mut lines);
                }
            }
        },
        _ => lines.push(Line::styled("select a step", theme::dim())),
    }
    // Records that could not be read are named, with the reason, above the rest.
    let mut notes: Vec<Line> = Vec::new();
    if let Some(r) = m
        .index
        .flows
        .get(&*v.trace)
        .and_then(|i| i.group_unreadable.as_ref())
    {
        notes.push(Line::styled(
            format!("unreadable group record: {r}"),
            theme::error(),
        ));
    }
    if let Some(r) = &v.records {
        notes.extend(r.unreadable.iter().map(|u| {
            Line::styled(
                text::line(&format!("unreadable: {u}")).into_owned(),
                theme::error(),
            )
        }));
    }
    if !notes.is_empty() {
        notes.append(&mut lines);
        lines = notes;
    }
    let body: Vec<Line> = lines.into_iter().skip(v.detail_scroll).collect();
    f.render_widget(
        Paragraph::new(body)
            .wrap(Wrap { trim: false })
            .block(block(Line::styled(title, theme::title(focused)), focused)),
        area,
    );
}

fn step_lines(
    s: &Trace,
    row: Option<&motia_state::adapter::traces::TimelineRow>,
    zone: &chrono::FixedOffset,
    now_ms: i64,
    lines: &mut Vec<Line<'static>>,
) {
    lines.push(Line::from(vec![
        Span::raw(format!(
            "{} ({}) ",
            text::line(&s.name),
            s.entry_type().unwrap_or("-")
        )),
        Span::styled(s.status.as_str().to_string(), theme::status(Some(s.status))),
    ]));
    let took = match s.end_time {
        Some(_) => format!("took {}", s.duration_ms().map(millis).unwrap_or_default()),
        None => format!("running for {}", millis(now_ms - s.start_time)),
    };
    lines.push(Line::styled(
        format!("started {} · {took}", local_time(s.start_time, zone)),
        theme::dim(),
    ));
    if let Some(row) = row
        && row.attempts.len() > 1
    {
        lines.push(Line::styled(
            row.attempts_text().unwrap_or_default(),
            theme::note(),
        ));
    }
    if let Some(d) = row.and_then(|r| r.dead_letter.as_ref()) {
        lines.push(Line::styled(
            format!(
                "the queue gave up after {} {}: the event went to the dead-letter queue ({})",
                d.attempts.unwrap_or(0),
                noun(d.attempts.unwrap_or(0), "attempt", "attempts"),
                d.key
            ),
            theme::error(),
        ));
    }
    match s.omitted_bytes {
        Some(n) => lines.push(Line::styled(
            format!(
                "events not read: the record is {} (over the read budget)",
                human_bytes(n)
            ),
            theme::note(),
        )),
        None => lines.push(Line::styled(
            match s.events.len() {
                1 => "1 event · Enter lists it".to_string(),
                n => format!("{n} events · Enter lists them"),
            },
            theme::dim(),
        )),
    }
    if let Some(e) = &s.error {
        lines.push(Line::raw(""));
        // Escaped as everything drawn is: ratatui would drop an ESC and show the rest.
        for l in e.full_text().lines() {
            lines.push(Line::styled(text::line(l).into_owned(), theme::error()));
        }
    }
}
