//! Taking the terminal over and giving it back: on exit, on error (the guard's Drop) and on
//! panic (ratatui's hook, plus a flag so the event loop stops when a background task panics).

use std::sync::atomic::{AtomicBool, Ordering};

use ratatui::DefaultTerminal;

static PANICKED: AtomicBool = AtomicBool::new(false);

/// Restores the terminal when dropped.
pub struct TerminalGuard;

impl TerminalGuard {
    /// Raw mode and the alternate screen, with a panic hook that undoes both.
    pub fn enter() -> std::io::Result<(DefaultTerminal, Self)> {
        let terminal = ratatui::try_init()?;
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICKED.store(true, Ordering::SeqCst);
            previous(info);
        }));
        Ok((terminal, Self))
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        ratatui::restore();
        let _ = crossterm::execute!(std::io::stdout(), crossterm::cursor::Show);
    }
}

/// True once anything panicked (the terminal is already restored then).
pub fn panicked() -> bool {
    PANICKED.load(Ordering::SeqCst)
}
