//! Drawing only: reads the model, never changes it. Only the rows and lines on screen are
//! turned into widgets, so the cost of a frame does not grow with the keyspace or the value.

mod edit;
mod help;
mod panes;
mod status;
pub mod theme;
mod value;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};

use crate::browser::model::Model;

/// Where each part of the screen goes.
pub struct Areas {
    pub traces: Rect,
    pub keys: Rect,
    pub value: Rect,
    pub status: Rect,
}

/// The layout for a terminal of `size`; `update` uses it too, for page sizes and the rows on
/// screen.
pub fn areas(size: (u16, u16)) -> Areas {
    let area = Rect::new(0, 0, size.0, size.1);
    let [main, status] = Layout::vertical([Constraint::Min(3), Constraint::Length(2)]).areas(area);
    let [traces, keys, value] = Layout::horizontal([
        Constraint::Percentage(22),
        Constraint::Percentage(38),
        Constraint::Fill(1),
    ])
    .areas(main);
    Areas {
        traces,
        keys,
        value,
        status,
    }
}

/// Rows of the trace list.
pub fn traces_height(size: (u16, u16)) -> usize {
    areas(size).traces.height.saturating_sub(2) as usize
}

/// Rows of the key tree (below its header line).
pub fn keys_height(size: (u16, u16)) -> usize {
    areas(size).keys.height.saturating_sub(3) as usize
}

/// Lines of the value (the first one may hold a note).
pub fn value_height(size: (u16, u16)) -> usize {
    areas(size).value.height.saturating_sub(2) as usize
}

/// Draws the whole screen.
pub fn draw(f: &mut Frame, m: &Model) {
    let a = areas((f.area().width, f.area().height));
    panes::traces(f, m, a.traces);
    panes::keys(f, m, a.keys);
    value::value(f, m, a.value);
    status::status(f, m, a.status);
    let main = Rect {
        height: a.status.y,
        ..f.area()
    };
    edit::editor(f, m, main);
    edit::dialog(f, m, main, a.status);
    edit::toasts(f, m, main);
    if m.overlay.is_some() {
        help::help(f, m, f.area());
    }
}

/// `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `512 B`, `4.0 KiB`, `50.0 MiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let (v, u) = scaled(n);
    format!("{v:.1} {}", UNITS[u])
}

/// `512B`, `4.0K`, `50.0M`: for the narrow size column.
pub fn short_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["K", "M", "G", "T"];
    if n < 1024 {
        return format!("{n}B");
    }
    let (v, u) = scaled(n);
    format!("{v:.1}{}", UNITS[u])
}

fn scaled(n: u64) -> (f64, usize) {
    const UNITS: usize = 4;
    let mut v = n as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS - 1 {
        v /= 1024.0;
        u += 1;
    }
    (v, u)
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
