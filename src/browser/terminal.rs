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

/// Gives the terminal back for a child program (`$EDITOR`): normal screen, cooked mode.
pub fn suspend() -> std::io::Result<()> {
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
