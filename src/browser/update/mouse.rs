//! The mouse: the wheel scrolls the pane under the pointer, a click focuses a pane and selects
//! the row under it, and a click on a folder opens or closes it. Hit-testing uses the layout
//! the drawing uses (`model::layout`), computed from the model, so this stays pure.

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};

use crate::browser::action::Effect;
use crate::browser::keymap::Command;
use crate::browser::model::keys::RowKind;
use crate::browser::model::layout::{Areas, areas_for, too_small};
use crate::browser::model::{Mode, Model, Overlay, Pane};
use crate::browser::update::{connections, help, journal, navigation, stats};

/// Rows one turn of the wheel scrolls.
pub const WHEEL_ROWS: usize = 3;

/// The panes as they are drawn now.
pub fn areas(m: &Model) -> Areas {
    let middle_wide = m.timeline.is_some() || m.history.is_some();
    areas_for(m.size, m.focus, m.index.has_records(), middle_wide)
}

/// Applies a mouse event; true when it changed something worth a frame.
pub fn event(m: &mut Model, ev: MouseEvent, fx: &mut Vec<Effect>) -> bool {
    let wheel = match ev.kind {
        MouseEventKind::ScrollDown => Some(Command::Down),
        MouseEventKind::ScrollUp => Some(Command::Up),
        MouseEventKind::Down(MouseButton::Left) => None,
        _ => return false,
    };
    if too_small(m.size) {
        return false;
    }
    // What is on top takes the wheel; clicks there are not meant for the panes behind.
    if let Some(cmd) = wheel
        && on_top_wheel(m, cmd, fx)
    {
        return true;
    }
    if m.overlay.is_some()
        || m.dialog.is_some()
        || m.editor.is_some()
        || m.stats.is_some()
        || matches!(m.mode, Mode::Filter(_))
    {
        return false;
    }
    let Some(pane) = areas(m).pane_at(ev.column, ev.row) else {
        return false;
    };
    m.note = None;
    match wheel {
        Some(cmd) => scroll(m, pane, cmd, fx),
        None => click(m, pane, ev.row, fx),
    }
    true
}

/// The wheel over the help, the connection picker or the stats view scrolls them.
fn on_top_wheel(m: &mut Model, cmd: Command, fx: &mut Vec<Effect>) -> bool {
    match m.overlay {
        Some(Overlay::Connections { .. }) => connections::key(m, Some(cmd), fx),
        Some(Overlay::Journal { .. }) => journal::key(m, Some(cmd)),
        Some(Overlay::Help { .. }) => {
            for _ in 0..WHEEL_ROWS {
                help::key(m, Some(cmd));
            }
        }
        None if m.stats.is_some() && m.dialog.is_none() && m.editor.is_none() => {
            stats::key(m, Some(cmd), fx)
        }
        None => return false,
    }
    true
}

/// Scrolls `pane` as the arrow keys would with the focus there; the focus stays where it was.
fn scroll(m: &mut Model, pane: Pane, cmd: Command, fx: &mut Vec<Effect>) {
    let focus = m.focus;
    m.focus = pane;
    for _ in 0..WHEEL_ROWS {
        super::on_command(m, cmd, fx);
    }
    // A command may have moved the focus itself (none of Up and Down does today).
    if m.focus == pane {
        m.focus = focus;
    }
}

/// Focuses `pane` and selects the row at screen row `y` of its list; a folder opens or closes.
fn click(m: &mut Model, pane: Pane, y: u16, fx: &mut Vec<Effect>) {
    let area = match pane {
        Pane::Traces => areas(m).traces,
        Pane::Keys => areas(m).keys,
        Pane::Value => areas(m).value,
    };
    m.focus = pane;
    // The timeline and the history stand in for the keys and the value: focus only.
    if m.timeline.is_some() || m.history.is_some() {
        return;
    }
    // Rows start below the border, and in the Keys pane below its column header.
    let (first_row, list) = match pane {
        Pane::Traces => (area.y + 1, m.traces.list),
        Pane::Keys => (area.y + 2, m.keys.list),
        Pane::Value => return,
    };
    let len = match pane {
        Pane::Traces => m.traces.view.len(),
        _ => m.keys.rows.len(),
    };
    let Some(row) = y
        .checked_sub(first_row)
        .map(|r| list.offset + r as usize)
        .filter(|&r| r < len && y + 1 < area.bottom())
    else {
        return;
    };
    super::live::manual_move(m);
    navigation::move_by(m, row as isize - list.cursor as isize, fx);
    if pane == Pane::Keys
        && let Some(RowKind::Folder { .. }) = m.keys.rows.get(m.keys.list.cursor).map(|r| &r.kind)
    {
        navigation::open(m, fx);
    }
}
