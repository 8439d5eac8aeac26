//! A key's history (in place of the Keys pane) and the selected version or diff (in the Value
//! pane).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::browser::format::{clock_time, local_time};
use crate::browser::model::history::{DiffMode, NowCompared};
use crate::browser::model::{Model, Pane};
use crate::browser::text;
use crate::browser::theme;
use crate::browser::ui::{block, clip, first_fitting};
use crate::diff::{self, LineKind};

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
    let header = match (&v.records, &v.error, v.compare_now()) {
        (_, Some(e), _) => Line::styled(
            clip(&format!("reading the records failed: {e}"), w),
            theme::error(),
        ),
        (_, None, _) if v.progress.is_some() => {
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
        (None, None, _) => Line::styled("reading the trace records…", theme::dim()),
        (Some(_), None, _) if v.entries.is_empty() => {
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
        (Some(_), None, c) => {
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
        let value = e
            .value
            .as_ref()
            .map(motia_state::json::to_compact)
            .unwrap_or_default();
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

/// The Value pane while the history is shown: the version under the cursor, or with `=` its
/// diff with the version before it or with the value now.
pub fn detail(f: &mut Frame, m: &Model, area: Rect) {
    let Some(v) = &m.history else { return };
    let focused = m.focus == Pane::Value;
    let w = area.width.saturating_sub(2) as usize;
    let zone = *m.clock.wall().offset();
    // Short lines: the pane does not wrap unless `w` is on.
    let source = match v.searched_text() {
        Some(s) => vec![
            format!("{}: no trace records of its own;", text::name(&v.trace)),
            "found in other flows' records".to_string(),
            format!("(searched {s})"),
        ],
        None => vec![
            "from Motia's trace records (kept 3 days); writes outside traced steps do not appear"
                .to_string(),
        ],
    };
    let mut lines: Vec<Line> = source
        .iter()
        .map(|l| Line::styled(clip(l, w), theme::dim()))
        .collect();
    let i = v.list.cursor;
    let title = match v.entries.get(i) {
        None => " Version ".to_string(),
        Some(e) => {
            let when = local_time(e.timestamp, &zone);
            match (v.diff, v.version_text(i)) {
                (DiffMode::Off, _) | (_, None) => {
                    match v.version_text(i) {
                        Some(t) if e.operation == "set" => {
                            lines.extend(t.lines().map(|l| Line::raw(l.to_string())));
                        }
                        Some(_) => lines.push(Line::styled(
                            format!("{} by {}: no value after it", e.operation, e.step),
                            theme::removed(),
                        )),
                        None => lines.push(Line::styled(
                            format!("{} by {} (a read)", e.operation, e.step),
                            theme::dim(),
                        )),
                    }
                    let (time, step) = (clock_time(e.timestamp, &zone), text::line(&e.step));
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
                (mode, Some(this)) => {
                    let (old, new, what) = match mode {
                        DiffMode::Now => (
                            this,
                            v.now_text().unwrap_or_default(),
                            "this version → the value now",
                        ),
                        _ => (v.previous_text(i), this, "the version before → this one"),
                    };
                    let d = diff::lines(&old, &new);
                    let (added, removed) = diff::counts(&d);
                    lines.push(Line::styled(
                        format!("{what}: +{added} -{removed} lines · = next"),
                        theme::note(),
                    ));
                    lines.extend(d.into_iter().map(|l| match l.kind {
                        LineKind::Same => Line::raw(format!("  {}", l.text)),
                        LineKind::Added => Line::styled(format!("+ {}", l.text), theme::added()),
                        LineKind::Removed => {
                            Line::styled(format!("- {}", l.text), theme::removed())
                        }
                    }));
                    let (time, step) = (clock_time(e.timestamp, &zone), text::line(&e.step));
                    first_fitting(
                        &[
                            format!(" Diff {when} · {step} "),
                            format!(" Diff {time} · {step} "),
                            format!(" Diff {time} "),
                        ],
                        w,
                    )
                }
            }
        }
    };
    let body: Vec<Line> = lines.into_iter().skip(v.detail_scroll).collect();
    let mut p =
        Paragraph::new(body).block(block(Line::styled(title, theme::title(focused)), focused));
    if m.wrap {
        p = p.wrap(Wrap { trim: false });
    }
    f.render_widget(p, area);
}
