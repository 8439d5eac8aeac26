//! The in-place editor, over most of the screen above the status bar.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use crate::browser::keymap::Command;
use crate::browser::model::Model;
use crate::browser::text;
use crate::browser::theme;
use crate::browser::ui::{boxed, clip, first_fitting};

/// The in-place editor: most of the screen above the status bar.
pub fn editor(f: &mut Frame, m: &Model, main: Rect) {
    let Some(ed) = &m.editor else {
        return;
    };
    let area = Rect {
        x: main.x + main.width / 20,
        y: main.y,
        width: main.width - main.width / 10,
        height: main.height,
    };
    f.render_widget(Clear, area);
    let mut title = format!(
        " {} {} ",
        if ed.creating { "New" } else { "Edit" },
        text::name(&ed.label)
    );
    if ed.dirty() {
        title.push_str("· modified ");
    }
    if ed.saving.is_some() {
        title.push_str("· saving… ");
    }
    let save = m.keymap.keys_of(Command::Save);
    let back = m.keymap.keys_of(Command::Back);
    let room = area.width.saturating_sub(2) as usize;
    let hint = if ed.creating {
        first_fitting(
            &[
                format!(" {save} create (refused if the key exists) · {back} leave "),
                format!(" {save} create · {back} leave "),
            ],
            room,
        )
    } else {
        first_fitting(
            &[
                format!(
                    " {save} save (compact, TTL kept, only if unchanged in Redis) · {back} leave "
                ),
                format!(" {save} save (only if unchanged in Redis) · {back} leave "),
                format!(" {save} save · {back} leave "),
            ],
            room,
        )
    };
    let block = boxed(title).title_bottom(Span::styled(hint, theme::dim()));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let [text_area, status] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(inner);
    f.render_widget(&ed.area, text_area);
    let ratatui_textarea::DataCursor(row, col) = ed.area.cursor();
    let line = if let Some(e) = &ed.error {
        Line::styled(clip(&text::line(e), status.width as usize), theme::error())
    } else if let Some(n) = &ed.notice {
        Line::styled(clip(&text::line(n), status.width as usize), theme::note())
    } else {
        Line::styled(
            format!("line {}, column {} · valid JSON required", row + 1, col + 1),
            theme::dim(),
        )
    };
    f.render_widget(Paragraph::new(line), status);
}
