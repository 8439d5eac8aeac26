//! The journal overlay: this session's journalled writes, newest first, with what undoing the
//! selected one does.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::clip;
use crate::browser::model::journal::listed;
use crate::browser::model::{Model, Overlay};
use crate::browser::theme;

pub fn journal(f: &mut Frame, m: &Model, area: Rect) {
    let Some(Overlay::Journal { selected }) = &m.overlay else {
        return;
    };
    let inner_w = area.width.saturating_sub(4) as usize;
    let mut lines = vec![Line::styled(
        clip(
            &format!(" {:>4}  {:<8}  {:<10}  keys", "id", "time", "write"),
            inner_w,
        ),
        theme::dim(),
    )];
    for (i, e) in listed(m).enumerate() {
        let style = if i == *selected {
            theme::cursor(true)
        } else {
            ratatui::style::Style::new()
        };
        // The time of day is enough within a session.
        let time = e.time.get(11..19).unwrap_or(&e.time);
        let write = match e.undoes {
            Some(n) => format!("undo {n}"),
            None => e.operation.clone(),
        };
        let mut spans = vec![Span::styled(
            format!(" {:>4}  {time:<8}  {write:<10}  {}", e.id, e.keys),
            style,
        )];
        if e.undone {
            spans.push(Span::styled("  (undone)", theme::dim()));
        }
        let line = Line::from(spans);
        lines.push(if line.width() > inner_w {
            Line::styled(clip(&line.to_string(), inner_w), style)
        } else {
            line
        });
    }
    if let Some(e) = listed(m).nth(*selected) {
        lines.push(Line::raw(""));
        if e.undoable() {
            lines.push(Line::styled(" undoing it would:", theme::dim()));
            for l in &e.undo {
                lines.push(Line::raw(clip(&format!("   {l}"), inner_w)));
            }
        } else {
            lines.push(Line::styled(
                if e.undone {
                    " undone already"
                } else {
                    " an undo (u on the write it undid undoes it again)"
                },
                theme::dim(),
            ));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        clip(
            " u or Enter undoes the selected write (asks) · Esc closes",
            inner_w,
        ),
        theme::dim(),
    ));
    let width = (lines.iter().map(|l| l.width()).max().unwrap_or(20) as u16 + 3).min(area.width);
    let height = (lines.len() as u16 + 2).min(area.height);
    let r = super::centered(area, width, height);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .title(Span::styled(" Journal ", theme::title(true)))
                .border_style(theme::border(true)),
        ),
        r,
    );
}
