//! Drawing only, one file per pane or overlay: reads the model, never changes it, never calls
//! update. Only the rows and lines on screen are turned into widgets, so the cost of a frame
//! does not grow with the keyspace or the value.

mod command_line;
mod connections;
mod dialog;
mod editor;
mod help;
mod history;
mod keys;
mod notifications;
mod stats;
mod status;
mod timeline;
mod traces;
mod value;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Block;

use crate::browser::model::layout::areas_for;
use crate::browser::model::{Mode, Model, Pane};
use crate::browser::theme;

/// Draws the whole screen.
pub fn draw(f: &mut Frame, m: &Model) {
    let middle_wide = m.timeline.is_some() || m.history.is_some();
    let a = areas_for(
        (f.area().width, f.area().height),
        m.index.has_records(),
        middle_wide,
    );
    traces::traces(f, m, a.traces);
    if m.timeline.is_some() {
        timeline::timeline(f, m, a.keys);
        timeline::detail(f, m, a.value);
    } else if m.history.is_some() {
        history::history(f, m, a.keys);
        history::detail(f, m, a.value);
    } else {
        keys::keys(f, m, a.keys);
        value::value(f, m, a.value);
    }
    status::status(f, m, a.status);
    let main = Rect {
        height: a.status.y,
        ..f.area()
    };
    stats::stats(f, m, main);
    editor::editor(f, m, main);
    dialog::dialog(f, m, main, a.status);
    notifications::toasts(f, m, main);
    if m.overlay.is_some() {
        help::help(f, m, f.area());
        connections::connections(f, m, f.area());
    }
}

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

fn boxed(title: String) -> Block<'static> {
    Block::bordered()
        .title(Span::styled(title, theme::title(true)))
        .border_style(theme::border(true))
}

/// Cuts `s` to at most `width` characters, marking the cut with `…`.
pub fn clip(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(width - 1).collect();
    out.push('…');
    out
}

/// A box of at most `width` x `height` in the middle of `area` (overlays and dialogs).
pub(crate) fn centered(area: Rect, width: u16, height: u16) -> Rect {
    area.centered(
        ratatui::layout::Constraint::Length(width.min(area.width)),
        ratatui::layout::Constraint::Length(height.min(area.height)),
    )
}
