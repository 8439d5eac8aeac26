//! A key's history (in place of the Keys pane) and the selected version or diff (in the Value
//! pane).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::browser::format::{clock_time, local_time};
use crate::browser::keymap::Command;
use crate::browser::model::history::{Detail, DiffMode, NowCompared};
use crate::browser::model::{Model, Pane};
use crate::browser::text;
use crate::browser::theme;
use crate::browser::ui::{block, clip, first_fitting};
use crate::diff::LineKind;

pub fn history(f: &mut Frame, m: &Model, area: Rect) {
    let Some(v) = &m.history else { return };
    let focused = m.focus == Pane::Keys;
    let w = area.width.saturating_sub(2) as usize;
    let h = area.height.saturating_sub(3) as usize;
    let zone = *m.clock.wall().offset();
    let head = clip(&format!(" History {} ", text::name(&v.key)), w);
    // The legend only where it fits whole: a title cut mid-word reads as a defect.
    let legend = "Motia trace records ";
    let legend = if text::width(&head) + legend.len() <= w {
        legend
    } else {
        ""
    };
    let title = vec![
        Span::styled(head, theme::title(focused)),
        Span::styled(legend, theme::dim()),
    ];
    let header = match (v.loaded, &v.error, v.now) {
        (_, Some(e), _) => Line::styled(
            clip(&format!("reading the records failed: {e}"), w),
            theme::error(),
        ),
        (false, None, _) if v.progress.is_some() => {
            let (done, total) = v.progress.unwrap_or_default();
            Line::styled(
                clip(
                    &format!(
                        "no records of its own: searching every flow's for this group… {done}/{total}"
                    ),
                    w,
                ),
                theme::dim(),
            )
        }
        (false, None, _) => Line::styled("reading the trace records…", theme::dim()),
        (true, None, _) if v.entries.is_empty() => {
            // Says what was searched: the records of this trace, or of every flow.
            let text = match v.searched_text() {
                Some(s) => format!(
                    "no trace record touches this key: {} has no records of its own, and \
                     the records of {s} do not name it",
                    text::name(&v.trace)
                ),
                None => "no record of this trace touches this key".to_string(),
            };
            Line::styled(clip(&text, w), theme::note())
        }
        (true, None, c) => {
            let (text, style) = match c {
                Some(NowCompared::Equal) => ("newest set = the value now", theme::ok()),
                Some(NowCompared::Changed) => (
                    "the value now differs: changed since by something not in the records",
                    theme::note(),
                ),
                Some(NowCompared::Deleted) => ("deleted, as the records say", theme::dim()),
                Some(NowCompared::GoneSince) => (
                    "the key is gone since (expired, or removed outside the records)",
                    theme::note(),
                ),
                Some(NowCompared::Recreated) => (
                    "the key exists again after the recorded delete",
                    theme::note(),
                ),
                Some(NowCompared::NoWrites) => ("reads only: no recorded write", theme::dim()),
                None => ("", theme::dim()),
            };
            Line::styled(clip(text, w), style)
        }
    };
    let mut lines = vec![header];
    let start = v.list.offset.min(v.entries.len());
    let end = (start + h).min(v.entries.len());
    for (i, e) in v.entries[start..end].iter().enumerate() {
        let cursor = start + i == v.list.cursor;
        // Only the start of a value of megabytes: the row shows no more.
        let value = e.value.as_deref().map_or("", |v| start_of(v, w * 4));
        let step = match v.flow_of(start + i) {
            Some(flow) => format!("{} in {}", e.step, text::name(flow)),
            None => e.step.clone(),
        };
        let text = format!(
            "{} {:<8} {} {}",
            clock_time(e.timestamp, &zone),
            e.operation,
            step,
            value
        );
        let style = match e.operation.as_str() {
            "set" => theme::ok(),
            "delete" | "clear" => theme::removed(),
            _ => theme::dim(),
        };
        lines.push(if cursor {
            Line::styled(clip(&text, w), theme::cursor(focused))
        } else {
            Line::styled(clip(&text, w), style)
        });
    }
    f.render_widget(
        Paragraph::new(lines).block(block(Line::from(title), focused)),
        area,
    );
}

/// The start of `s`, at most `bytes` long, cut at a character boundary.
fn start_of(s: &str, bytes: usize) -> &str {
    let mut end = bytes.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The Value pane while the history is shown: the version under the cursor, or with `=` its
/// diff with the version before it or with the value now. Only the lines on screen are drawn:
/// the version and the diff were built once, when the cursor or `=` changed.
pub fn detail(f: &mut Frame, m: &Model, area: Rect) {
    let Some(v) = &m.history else { return };
    let focused = m.focus == Pane::Value;
    let w = area.width.saturating_sub(2) as usize;
    let zone = *m.clock.wall().offset();
    let mut lines: Vec<Line> = v
        .source_lines()
        .iter()
        .map(|l| Line::styled(clip(l, w), theme::dim()))
        .collect();
    // The body's rows: wrapped lines may take more than one each, never more than this.
    let header = v.detail_header();
    let body_h = (area.height.saturating_sub(2) as usize).saturating_sub(header);
    // A line is cut to what the body could show of it, wrapped or not.
    let room = if m.wrap { w * body_h.max(1) } else { w };
    let scroll = v.detail_scroll;
    let title = match (v.entries.get(v.list.cursor), &v.detail) {
        (Some(e), Some(detail)) => {
            let when = local_time(e.timestamp, &zone);
            let (time, step) = (clock_time(e.timestamp, &zone), text::line(&e.step));
            match detail {
                Detail::Diff {
                    lines: d,
                    added,
                    removed,
                } => {
                    let what = match v.diff {
                        DiffMode::Now => "this version → the value now",
                        _ => "the version before → this one",
                    };
                    let keys = format!(
                        "{}/{}",
                        m.keymap.first_key(Command::NextChange),
                        m.keymap.first_key(Command::PrevChange)
                    );
                    lines.push(Line::styled(
                        clip(
                            &format!("{what}: +{added} -{removed} lines · {keys} changes · = next"),
                            w,
                        ),
                        theme::note(),
                    ));
                    let end = (scroll + body_h).min(d.len());
                    lines.extend((scroll.min(end)..end).filter_map(|i| d.line(i)).map(
                        |(kind, l)| {
                            let text = text::cut(l, room.saturating_sub(2)).0;
                            match kind {
                                LineKind::Same => Line::raw(format!("  {text}")),
                                LineKind::Added => {
                                    Line::styled(format!("+ {text}"), theme::added())
                                }
                                LineKind::Removed => {
                                    Line::styled(format!("- {text}"), theme::removed())
                                }
                            }
                        },
                    ));
                    first_fitting(
                        &[
                            format!(" Diff {when} · {step} "),
                            format!(" Diff {time} · {step} "),
                            format!(" Diff {time} "),
                        ],
                        w,
                    )
                }
                other => {
                    match other {
                        Detail::Version(doc) => {
                            let end = (scroll + body_h).min(doc.line_count());
                            lines.extend((scroll.min(end)..end).map(|i| {
                                let text = text::cut(doc.line(i), room).0;
                                if doc.is_json() {
                                    crate::browser::ui::value::highlight_json(text)
                                } else {
                                    Line::raw(text)
                                }
                            }));
                        }
                        Detail::Removed => lines.push(Line::styled(
                            format!("{} by {}: no value after it", e.operation, step),
                            theme::removed(),
                        )),
                        Detail::Building => {
                            lines.push(Line::styled("building the diff…", theme::dim()))
                        }
                        _ => lines.push(Line::styled(
                            format!("{} by {} (a read)", e.operation, step),
                            theme::dim(),
                        )),
                    }
                    first_fitting(
                        &[
                            format!(" Version {when} · {step} · = diff "),
                            format!(" Version {when} · {step} "),
                            format!(" Version {time} · {step} "),
                            format!(" Version {time} "),
                        ],
                        w,
                    )
                }
            }
        }
        _ => " Version ".to_string(),
    };
    let mut p =
        Paragraph::new(lines).block(block(Line::styled(title, theme::title(focused)), focused));
    if m.wrap {
        p = p.wrap(Wrap { trim: false });
    }
    f.render_widget(p, area);
}
