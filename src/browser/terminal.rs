//! Taking the terminal over and giving it back: on exit, on error (the guard's Drop) and on
//! panic (ratatui's hook, plus a flag so the event loop stops when a background task panics).
//! Mouse reporting, when on, is turned off in each of these and around `$EDITOR`: a terminal
//! left reporting the mouse prints escape codes at every click.

use std::sync::atomic::{AtomicBool, Ordering};

use ratatui::DefaultTerminal;

static PANICKED: AtomicBool = AtomicBool::new(false);
/// Mouse reporting was turned on (so it must be turned off).
static MOUSE: AtomicBool = AtomicBool::new(false);

/// Restores the terminal when dropped.
pub struct TerminalGuard;

impl TerminalGuard {
    /// Raw mode and the alternate screen, and mouse reporting when `mouse`, with a panic hook
    /// that undoes them.
    pub fn enter(mouse: bool) -> std::io::Result<(DefaultTerminal, Self)> {
        let terminal = ratatui::try_init()?;
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICKED.store(true, Ordering::SeqCst);
            mouse_off();
            previous(info);
        }));
        // From here a failure drops the guard, which restores the terminal.
        let guard = Self;
        if mouse {
            MOUSE.store(true, Ordering::SeqCst);
            crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture)?;
        }
        Ok((terminal, guard))
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        mouse_off();
        MOUSE.store(false, Ordering::SeqCst);
        ratatui::restore();
        let _ = crossterm::execute!(std::io::stdout(), crossterm::cursor::Show);
    }
}

/// Stops mouse reporting if it was turned on.
fn mouse_off() {
    if MOUSE.load(Ordering::SeqCst) {
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
    }
}

/// True once anything panicked (the terminal is already restored then).
pub fn panicked() -> bool {
    PANICKED.load(Ordering::SeqCst)
}

/// Gives the terminal back for a child program (`$EDITOR`): normal screen, cooked mode.
pub fn suspend() -> std::io::Result<()> {
    mouse_off();
    crossterm::terminal::disable_raw_mode()?;
    crossterm::execute!(
        std::io::stdout(),
        crossterm::terminal::LeaveAlternateScreen,
        crossterm::cursor::Show
    )
}

/// Takes the terminal again after [`suspend`], dropping keys typed meanwhile (they were meant
/// for the child program).
pub fn resume() -> std::io::Result<()> {
    crossterm::execute!(std::io::stdout(), crossterm::terminal::EnterAlternateScreen)?;
    crossterm::terminal::enable_raw_mode()?;
    if MOUSE.load(Ordering::SeqCst) {
        crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture)?;
    }
    while crossterm::event::poll(std::time::Duration::ZERO)? {
        let _ = crossterm::event::read()?;
    }
    Ok(())
}

/// Writes an escape sequence straight to the terminal (OSC 52 for the clipboard).
pub fn write_raw(seq: &str) {
    use std::io::Write;
    let mut out = std::io::stdout();
    // A terminal that ignores the sequence is harmless; a failed write changes nothing else.
    let _ = out.write_all(seq.as_bytes()).and_then(|()| out.flush());
}
