//! Keys while the help overlay is open.

use crate::browser::keymap::Command;
use crate::browser::model::help::{lines, max_scroll, visible};
use crate::browser::model::{Model, Overlay};

/// Scrolls (no further than the last line) or closes the help.
pub fn key(m: &mut Model, cmd: Option<Command>) {
    let last = max_scroll(m);
    let page = visible(m, lines(m).len()).max(1);
    let Some(Overlay::Help { scroll }) = &mut m.overlay else {
        return;
    };
    match cmd {
        Some(Command::Back | Command::Help | Command::Quit) => m.overlay = None,
        Some(Command::Down) => *scroll = (*scroll + 1).min(last),
        Some(Command::Up) => *scroll = scroll.saturating_sub(1),
        Some(Command::PageDown) => *scroll = (*scroll + page).min(last),
        Some(Command::PageUp) => *scroll = scroll.saturating_sub(page),
        Some(Command::Top) => *scroll = 0,
        Some(Command::Bottom) => *scroll = last,
        _ => {}
    }
}
