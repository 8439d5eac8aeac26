//! Where time comes from.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset};

/// Where time comes from; tests inject a [`ManualClock`] so countdowns need no sleeping.
pub trait Clock: Send + Sync {
    /// Monotonic now.
    fn now(&self) -> Instant;
    /// Wall-clock time at `now()`, for absolute expiry times.
    fn wall(&self) -> DateTime<FixedOffset>;
}

/// The real clock, local time zone.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
    fn wall(&self) -> DateTime<FixedOffset> {
        chrono::Local::now().fixed_offset()
    }
}

/// The real clock, its wall time starting at a given moment: `demo --static` shows its fixed
/// set as of the set's own "now" (ages as in the README's screenshots), whenever it runs.
pub struct ShiftedClock {
    start: Instant,
    wall0: DateTime<FixedOffset>,
}

impl ShiftedClock {
    /// Wall time `wall0` now, moving on in real time.
    pub fn new(wall0: DateTime<FixedOffset>) -> Self {
        Self {
            start: Instant::now(),
            wall0,
        }
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
    fn wall(&self) -> DateTime<FixedOffset> {
        self.wall0 + chrono::Duration::from_std(self.start.elapsed()).unwrap_or_default()
    }
}

/// A clock that moves only when told to (tests and benchmarks).
#[allow(dead_code)]
pub struct ManualClock {
    base: Instant,
    wall0: DateTime<FixedOffset>,
    offset: Mutex<Duration>,
}

#[allow(dead_code)]
impl ManualClock {
    /// Starts at `wall0`.
    pub fn new(wall0: DateTime<FixedOffset>) -> Self {
        Self {
            base: Instant::now(),
            wall0,
            offset: Mutex::new(Duration::ZERO),
        }
    }

    /// Moves time forward.
    pub fn advance(&self, d: Duration) {
        if let Ok(mut o) = self.offset.lock() {
            *o += d;
        }
    }

    fn offset(&self) -> Duration {
        self.offset.lock().map(|o| *o).unwrap_or_default()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.base + self.offset()
    }
    fn wall(&self) -> DateTime<FixedOffset> {
        self.wall0 + chrono::Duration::from_std(self.offset()).unwrap_or_default()
    }
}
