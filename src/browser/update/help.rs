//! Keys while the help overlay is open.

use crate::browser::keymap::Command;
use crate::browser::model::{Model, Overlay};

/// Scrolls or closes the help.
pub fn key(m: &mut Model, cmd: Option<Command>) {
    let Some(Overlay::Help { scroll }) = &mut m.overlay else {
        return;
    };
    match cmd {
        Some(Command::Back | Command::Help | Command::Quit) => m.overlay = None,
        Some(Command::Down) => *scroll += 1,
        Some(Command::Up) => *scroll = scroll.saturating_sub(1),
        Some(Command::Top) => *scroll = 0,
        _ => {}
    }
}
