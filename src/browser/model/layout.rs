//! Where each part of the screen goes. The drawing code places its widgets with it, `update`
//! takes page sizes and the rows on screen from it.
//!
//! Names come first on a small terminal: below 100 columns the trace ids keep a little more
//! room (the Keys pane makes room for names by itself, dropping columns), below 70 only the
//! focused pane and its neighbour are shown (the Value pane with the Keys pane), and below
//! [`MIN_SIZE`] nothing but one line saying so. Every pane has the same height, so page sizes
//! depend on the size alone.

use ratatui::layout::{Constraint, Layout, Rect};

use crate::browser::pane::Pane;

/// The smallest terminal the panes are drawn in (columns, rows).
pub const MIN_SIZE: (u16, u16) = (40, 8);

/// Below this width only two panes are shown.
const TWO_PANES: u16 = 70;

/// From this width on the panes keep their wide proportions.
const WIDE: u16 = 100;

/// Where each part of the screen goes; a pane not shown has a width of 0.
pub struct Areas {
    pub traces: Rect,
    pub keys: Rect,
    pub value: Rect,
    pub status: Rect,
}

impl Areas {
    /// The pane drawn at column `x`, row `y` (the mouse's hit test), if any.
    pub fn pane_at(&self, x: u16, y: u16) -> Option<Pane> {
        let at = ratatui::layout::Position::new(x, y);
        [
            (Pane::Traces, self.traces),
            (Pane::Keys, self.keys),
            (Pane::Value, self.value),
        ]
        .into_iter()
        .find(|(_, r)| r.width > 0 && r.contains(at))
        .map(|(p, _)| p)
    }
}

/// True when the terminal is too small for the panes.
pub fn too_small(size: (u16, u16)) -> bool {
    size.0 < MIN_SIZE.0 || size.1 < MIN_SIZE.1
}

/// The layout for a terminal of `size` with `focus` on a pane, without trace records.
pub fn areas(size: (u16, u16), focus: Pane) -> Areas {
    areas_for(size, focus, false, false)
}

/// The layout, with a wider Traces pane when trace records give each trace a flow name,
/// status, age and step count, and a wider middle pane while it shows a timeline or a
/// history (the heights, which `update` uses, are the same).
pub fn areas_for(size: (u16, u16), focus: Pane, records: bool, middle_wide: bool) -> Areas {
    let area = Rect::new(0, 0, size.0, size.1);
    let [main, status] = Layout::vertical([Constraint::Min(3), Constraint::Length(2)]).areas(area);
    let w = main.width;
    let none = Rect { width: 0, ..main };
    let (t, k) = match (middle_wide, records, w >= WIDE) {
        (true, _, _) => (24, 42),
        (false, true, true) => (40, 28),
        (false, false, true) => (22, 38),
        // Narrower: key names keep their room; trace ids (`order-1001-f34dad`) are long, and
        // the Value pane gives up the most.
        (false, true, false) => (30, 34),
        (false, false, false) => (24, 36),
    };
    let [traces, keys, value] = if w >= TWO_PANES {
        Layout::horizontal([
            Constraint::Percentage(t),
            Constraint::Percentage(k),
            Constraint::Fill(1),
        ])
        .areas(main)
    } else {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(48), Constraint::Fill(1)]).areas(main);
        match focus {
            Pane::Traces => [left, right, Rect { x: w, ..none }],
            Pane::Keys | Pane::Value => [none, left, right],
        }
    };
    Areas {
        traces,
        keys,
        value,
        status,
    }
}

/// Rows of the trace list.
pub fn traces_height(size: (u16, u16)) -> usize {
    pane_height(size).saturating_sub(2)
}

/// Rows of the key tree (below its header line).
pub fn keys_height(size: (u16, u16)) -> usize {
    pane_height(size).saturating_sub(3)
}

/// Lines of the value (the first one may hold a note).
pub fn value_height(size: (u16, u16)) -> usize {
    pane_height(size).saturating_sub(2)
}

/// Columns of the value text (inside the borders), 0 when the Value pane is not shown.
pub fn value_width(size: (u16, u16), focus: Pane) -> usize {
    areas(size, focus).value.width.saturating_sub(2) as usize
}

fn pane_height(size: (u16, u16)) -> usize {
    areas(size, Pane::Keys).keys.height as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_first_on_small_terminals() {
        let a = areas((80, 24), Pane::Traces);
        assert_eq!((a.traces.width, a.keys.width, a.value.width), (19, 29, 32));
        let a = areas((60, 15), Pane::Traces);
        assert_eq!((a.traces.width, a.keys.width, a.value.width), (29, 31, 0));
        let a = areas((60, 15), Pane::Value);
        assert_eq!((a.traces.width, a.keys.width, a.value.width), (0, 29, 31));
        assert!(too_small((39, 24)) && too_small((80, 7)) && !too_small((40, 8)));
        // Nothing panics or overflows down to 1x1.
        for size in [(1, 1), (0, 0), (3, 2), (MIN_SIZE.0, 1)] {
            for focus in [Pane::Traces, Pane::Keys, Pane::Value] {
                let a = areas(size, focus);
                assert!(a.traces.right() <= size.0.max(a.traces.x));
                let _ = (keys_height(size), value_width(size, focus));
            }
        }
    }
}
