//! Where each part of the screen goes. The drawing code places its widgets with it, `update`
//! takes page sizes and the rows on screen from it.

use ratatui::layout::{Constraint, Layout, Rect};

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
    areas_for(size, false, false)
}

/// The layout, with a wider Traces pane when trace records give each trace a flow name,
/// status, age and step count, and a wider middle pane while it shows a timeline or a
/// history (the heights, which `update` uses, are the same).
pub fn areas_for(size: (u16, u16), records: bool, middle_wide: bool) -> Areas {
    let area = Rect::new(0, 0, size.0, size.1);
    let [main, status] = Layout::vertical([Constraint::Min(3), Constraint::Length(2)]).areas(area);
    let (t, k) = match (middle_wide, records) {
        (true, _) => (24, 42),
        (false, true) => (40, 28),
        (false, false) => (22, 38),
    };
    let [traces, keys, value] = Layout::horizontal([
        Constraint::Percentage(t),
        Constraint::Percentage(k),
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
