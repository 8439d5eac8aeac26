//! Live mode on the iii layout. A hash event names the scope (`hset`, `hdel`, `del` on
//! `state:{scope}`), never the field: events of one scope within a short window become one
//! re-read of that scope (HSCAN), compared with what was seen before, and the fields found
//! added, changed or removed reach `update` as the same per-key changes 0.x live mode sends.

use std::time::{Duration, Instant};

use motia_state::IiiState;
use motia_state::adapter::layout::iii::{covers_hashes, scope_of};
use motia_state::adapter::layout::iii_live::ScopeTracker;
use motia_state::coalesce::{Coalescer, KeyChange, KeyState};
use motia_state::live::{EventKind, LiveMessage, LiveSubscription};
use tokio::sync::mpsc;

use crate::browser::action::{LiveEvent, WorkerEvent};
use crate::browser::worker::{Events, iii, raw_key};

/// Events of one scope within this window become one re-read.
const WINDOW: Duration = Duration::from_millis(50);
/// A round is re-read early once this many scopes are pending.
const MAX_SCOPES: usize = 5_000;
/// Messages taken from the subscription per round.
const BATCH: usize = 4_096;

/// Why following stopped: a command for the live job, notifications switched off, the
/// subscription lost for good, or the UI gone.
pub enum Ended<C> {
    Cmd(C),
    Off(String),
    Failed(String),
    Gone,
}

/// Follows the scope hashes until a command arrives or following ends.
pub async fn follow<C>(
    iii: &IiiState,
    mut sub: LiveSubscription,
    cmds: &mut mpsc::UnboundedReceiver<C>,
    events: &Events,
) -> Ended<C> {
    let mut seen = ScopeTracker::default();
    // Subscribed first: a change made while the baseline is read is not missed.
    if let Some(end) = read_baseline(iii, &mut seen, cmds).await {
        return end;
    }
    let mut pending = Coalescer::new(WINDOW, MAX_SCOPES);
    loop {
        let due = pending
            .deadline()
            .map(tokio::time::Instant::from_std)
            .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
        let flush;
        let mut lost = false;
        tokio::select! {
            batch = sub.next_batch(BATCH) => {
                let messages = match batch {
                    Ok(m) => m,
                    Err(e) => return Ended::Failed(e.to_string()),
                };
                let now = Instant::now();
                for message in messages {
                    match message {
                        LiveMessage::Event(mut e) => {
                            if scope_of(&e.raw).is_some_and(|s| !s.is_empty()) {
                                // Pending by the model's name of the hash (exact bytes behind it).
                                e.key = motia_state::escape::name(&e.raw).into_owned();
                                pending.push(&e, now);
                            }
                        }
                        LiveMessage::Disconnected => {
                            // What is pending was written before the link went.
                            if let Err(end) = flush_round(iii, &mut seen, &mut pending, events).await {
                                return end;
                            }
                            if send(events, LiveEvent::Reconnecting).await.is_err() {
                                return Ended::Gone;
                            }
                        }
                        LiveMessage::Reconnected | LiveMessage::Overflow { .. } => lost = true,
                        LiveMessage::SettingChanged(s) if !covers_hashes(&s) => {
                            return Ended::Off(format!("notify-keyspace-events is now {s}"));
                        }
                        LiveMessage::SettingChanged(_) => {}
                    }
                }
                flush = pending.is_due(Instant::now());
            }
            _ = tokio::time::sleep_until(due), if !pending.is_empty() => flush = true,
            cmd = cmds.recv() => {
                return match cmd {
                    Some(c) => Ended::Cmd(c),
                    None => Ended::Gone,
                };
            }
        }
        if lost {
            // Events were missed: one scan brings the index back, and what is seen is read
            // again to compare the next events with.
            pending.clear();
            if send(events, LiveEvent::Resync).await.is_err() {
                return Ended::Gone;
            }
            seen = ScopeTracker::default();
            if let Some(end) = read_baseline(iii, &mut seen, cmds).await {
                return end;
            }
            continue;
        }
        if flush && let Err(end) = flush_round(iii, &mut seen, &mut pending, events).await {
            return end;
        }
    }
}

/// Every scope as it is now, read into `seen` without reporting; a command stops it.
async fn read_baseline<C>(
    iii: &IiiState,
    seen: &mut ScopeTracker,
    cmds: &mut mpsc::UnboundedReceiver<C>,
) -> Option<Ended<C>> {
    let read = async {
        let mut scopes = iii.scan_scopes();
        while let Some(page) = scopes.next_page().await? {
            for key in page {
                if let Some(scope) = scope_of(&key).filter(|s| !s.is_empty()) {
                    seen.reread(iii, scope).await?;
                }
            }
        }
        Ok::<(), motia_state::Error>(())
    };
    tokio::select! {
        r = read => r.err().map(|e| Ended::Failed(format!("reading the scopes failed: {e}"))),
        cmd = cmds.recv() => Some(match cmd {
            Some(c) => Ended::Cmd(c),
            None => Ended::Gone,
        }),
    }
}

/// Re-reads the pending scopes and reports what changed. A scope that cannot be read as a
/// hash (a string under `state:`) is skipped; a lost connection asks for a resynchronising
/// scan, since these changes are not known.
async fn flush_round<C>(
    iii: &IiiState,
    seen: &mut ScopeTracker,
    pending: &mut Coalescer,
    events: &Events,
) -> Result<(), Ended<C>> {
    let mut changes: Vec<KeyChange> = Vec::new();
    let mut lost = false;
    for scope_change in pending.take() {
        let raw = raw_key(&scope_change.key);
        let Some(scope) = scope_of(&raw) else {
            continue;
        };
        match seen.reread(iii, scope).await {
            Ok(fields) => changes.extend(fields.into_iter().map(|f| {
                let written = f.value.is_some();
                KeyChange {
                    key: iii::name(scope, &f.field),
                    state: if written {
                        KeyState::Written
                    } else {
                        KeyState::Removed
                    },
                    ttl_changed: false,
                    events: scope_change.events,
                    last: if written {
                        EventKind::Set
                    } else {
                        EventKind::Del
                    },
                }
            })),
            Err(e) if e.is_connection() => lost = true,
            Err(e) => tracing::debug!(error = %e, "re-reading a scope failed"),
        }
    }
    if !changes.is_empty() && send(events, LiveEvent::Changes(changes)).await.is_err() {
        return Err(Ended::Gone);
    }
    if lost && send(events, LiveEvent::Resync).await.is_err() {
        return Err(Ended::Gone);
    }
    Ok(())
}

async fn send(events: &Events, ev: LiveEvent) -> Result<(), ()> {
    events.send(WorkerEvent::Live(ev)).await.map_err(drop)
}
