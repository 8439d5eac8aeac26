//! The iii layout's index walk reports its names to the UI in batches, as the 0.x scan does:
//! shared by the scopes' walk and the stream groups' walk.

use std::time::{Duration, Instant};

use crate::browser::action::WorkerEvent;
use crate::browser::worker::Events;

const BATCH_KEYS: usize = 5_000;
const BATCH_TIME: Duration = Duration::from_millis(100);

/// Names found by the index walk, sent to the UI in batches (the first at once).
pub struct Batches {
    generation: u64,
    events: Events,
    batch: Vec<String>,
    seen: u64,
    last_sent: Instant,
    sent_any: bool,
}

/// The walk stopped: it failed (and said so) or the UI is gone.
pub struct Stopped;

impl Batches {
    pub fn new(generation: u64, events: Events) -> Self {
        Self {
            generation,
            events,
            batch: Vec::new(),
            seen: 0,
            last_sent: Instant::now(),
            sent_any: false,
        }
    }

    /// Tells the UI the walk failed.
    pub async fn fail(&self, e: motia_state::Error) -> Stopped {
        let ev = WorkerEvent::ScanFailed {
            generation: self.generation,
            connection: e.is_connection(),
            error: e.to_string(),
        };
        let _ = self.events.send(ev).await;
        Stopped
    }

    /// Every field of one hash (HSCAN pages), each named by `name`.
    pub async fn hash(
        &mut self,
        mut fields: motia_state::adapter::layout::FieldScanner,
        name: impl Fn(&[u8]) -> String,
    ) -> Result<(), Stopped> {
        loop {
            let page = match fields.next_page().await {
                Ok(Some(p)) => p,
                Ok(None) => return Ok(()),
                Err(e) => return Err(self.fail(e).await),
            };
            self.seen += page.len() as u64;
            self.batch.extend(page.iter().map(|(f, _)| name(f)));
            let due = (!self.sent_any && !self.batch.is_empty())
                || self.batch.len() >= BATCH_KEYS
                || (self.last_sent.elapsed() >= BATCH_TIME && !self.batch.is_empty());
            if due {
                self.send().await?;
            }
        }
    }

    async fn send(&mut self) -> Result<(), Stopped> {
        self.sent_any = true;
        self.last_sent = Instant::now();
        let ev = WorkerEvent::ScanBatch {
            generation: self.generation,
            keys: std::mem::take(&mut self.batch),
            seen: self.seen,
        };
        self.events.send(ev).await.map_err(|_| Stopped)
    }

    pub async fn done(mut self) {
        if !self.batch.is_empty() && self.send().await.is_err() {
            return;
        }
        let ev = WorkerEvent::ScanDone {
            generation: self.generation,
            seen: self.seen,
        };
        let _ = self.events.send(ev).await;
    }
}
