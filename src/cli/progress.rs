//! Progress lines on stderr for long operations, drawn only when stderr is a terminal so that
//! scripts and logs stay clean.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// One `label: done/total` line, redrawn in place at most every 100 ms.
pub struct Progress {
    label: &'static str,
    enabled: bool,
    last: Option<Instant>,
    drawn: bool,
}

impl Progress {
    /// A progress line that shows only when stderr is a terminal.
    pub fn new(label: &'static str) -> Self {
        Self {
            label,
            enabled: std::io::stderr().is_terminal(),
            last: None,
            drawn: false,
        }
    }

    /// Reports `done` of `total` items (`total` 0: unknown).
    pub fn update(&mut self, done: u64, total: u64) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        let due = self
            .last
            .is_none_or(|t| now.duration_since(t) >= Duration::from_millis(100));
        if !due && done < total {
            return;
        }
        self.last = Some(now);
        let line = match done.saturating_mul(100).checked_div(total) {
            Some(pct) => format!("{}: {done}/{total} ({pct}%)", self.label),
            None => format!("{}: {done}", self.label),
        };
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{line}");
        let _ = err.flush();
        self.drawn = true;
    }

    /// Removes the line, so the next message starts on a clean line.
    pub fn finish(&mut self) {
        if self.drawn {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.drawn = false;
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
