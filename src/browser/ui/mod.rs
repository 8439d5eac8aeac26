//! Drawing only, one file per pane or overlay: reads the model, never changes it, never calls
//! update. Only the rows and lines on screen are turned into widgets, so the cost of a frame
//! does not grow with the keyspace or the value.

mod command_line;
mod connections;
mod dialog;
mod editor;
mod help;
mod history;
mod journal;
mod keys;
mod notifications;
mod stats;
mod status;
mod streams;
mod timeline;
pub(crate) mod traces;
mod value;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::browser::model::layout::{MIN_SIZE, areas_for, too_small};
use crate::browser::model::{Mode, Model, Pane};
use crate::browser::theme;

/// Draws the whole screen.
pub fn draw(f: &mut Frame, m: &Model) {
    let size = (f.area().width, f.area().height);
    if too_small(size) {
        return too_small_line(f, size);
    }
    let middle_wide = m.timeline.is_some() || m.history.is_some();
    let a = areas_for(size, m.focus, m.index.has_records(), middle_wide);
    // A pane left out on a narrow terminal has no width.
    if a.traces.width > 0 {
        traces::traces(f, m, a.traces);
    }
    if m.timeline.is_some() {
        timeline::timeline(f, m, a.keys);
        timeline::detail(f, m, a.value);
    } else if m.history.is_some() {
        history::history(f, m, a.keys);
        history::detail(f, m, a.value);
    } else {
        if a.keys.width > 0 {
            keys::keys(f, m, a.keys);
        }
        if a.value.width > 0 {
            value::value(f, m, a.value);
        }
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
        journal::journal(f, m, f.area());
    }
}

/// The one line drawn when the panes do not fit.
fn too_small_line(f: &mut Frame, (w, h): (u16, u16)) {
    let (min_w, min_h) = MIN_SIZE;
    let forms = [
        format!("terminal too small: {w}x{h} (needs {min_w}x{min_h})"),
        format!("too small: {w}x{h}, needs {min_w}x{min_h}"),
        format!("{w}x{h} < {min_w}x{min_h}"),
    ];
    let text = forms
        .iter()
        .find(|t| t.len() <= w as usize)
        .unwrap_or(&forms[2]);
    f.render_widget(
        Paragraph::new(Line::styled(clip(text, w as usize), theme::error())),
        f.area(),
    );
}

fn block<'a>(title: Line<'a>, focused: bool) -> Block<'a> {
    Block::bordered()
        .title(marked(title, focused))
        .border_style(theme::border(focused))
}

/// The focus marker, shown without colour too (`NO_COLOR`, colour-blind users).
pub const FOCUS_MARK: &str = "▶";

/// A pane's title, with [`FOCUS_MARK`] in place of its leading space when the pane has the
/// focus: the titles are measured to fit, and the mark takes no room of its own.
pub(crate) fn marked(mut title: Line<'_>, focused: bool) -> Line<'_> {
    if !focused {
        return title;
    }
    let style = theme::title(true);
    match title.spans.first_mut() {
        Some(first) if first.content.starts_with(' ') => {
            first.content = format!("{FOCUS_MARK}{}", &first.content[1..]).into();
        }
        _ => title.spans.insert(0, Span::styled(FOCUS_MARK, style)),
    }
    title
}

fn filter_span(m: &Model, pane: Pane, filter: &str) -> Option<Span<'static>> {
    let typing = m.mode == Mode::Filter(pane);
    if filter.is_empty() && !typing {
        return None;
    }
    let cursor = if typing { "▏" } else { "" };
    Some(Span::styled(
        format!(" /{}{cursor} ", crate::browser::text::line(filter)),
        theme::note(),
    ))
}

fn boxed(title: String) -> Block<'static> {
    Block::bordered()
        .title(Span::styled(title, theme::title(true)))
        .border_style(theme::border(true))
}

/// `s` on one line with its control characters escaped, cut to at most `width` cells with
/// `…`: what every pane draws of text it did not write itself.
pub fn clip(s: &str, width: usize) -> String {
    let s = crate::browser::text::line(s);
    crate::browser::text::clip(&s, width).into_owned()
}

/// The first of `titles` that fits in `width` cells, else the last one clipped with `…`: a
/// title drops its least useful parts before it is cut.
pub fn first_fitting(titles: &[String], width: usize) -> String {
    titles
        .iter()
        .find(|t| crate::browser::text::width(t) <= width)
        .or(titles.last())
        .map(|t| crate::browser::text::clip(t, width).into_owned())
        .unwrap_or_default()
}

/// A box of at most `width` x `height` in the middle of `area` (overlays and dialogs).
pub(crate) fn centered(area: Rect, width: u16, height: u16) -> Rect {
    area.centered(
        ratatui::layout::Constraint::Length(width.min(area.width)),
        ratatui::layout::Constraint::Length(height.min(area.height)),
    )
}

#[cfg(test)]
mod tests {
    use super::first_fitting;

    #[test]
    fn a_title_drops_its_parts_in_order_before_it_is_cut() {
        let titles = [" a long one ".to_string(), " short ".into(), " s ".into()];
        assert_eq!(first_fitting(&titles, 12), " a long one ");
        assert_eq!(first_fitting(&titles, 8), " short ");
        assert_eq!(first_fitting(&titles, 3), " s ");
        assert_eq!(first_fitting(&titles, 2), " …");
        assert_eq!(first_fitting(&[], 9), "");
    }
}
