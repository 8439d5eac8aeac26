//! Live mode: follows keyspace notifications when the server's setting allows, coalescing
//! bursts before they reach `update`, and switches notifications on and off on request.
//!
//! It never changes the server's setting by itself: only `:live on` (confirmed by the user)
//! adds flags, and what it added is taken back by `:live off` or when the browser closes.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use motia_state::adapter::layout::iii::{HASH_FLAGS, covers_hashes};
use motia_state::coalesce::Coalescer;
use motia_state::live::{EventKind, LiveMessage, LiveOptions, LiveSubscription};
use motia_state::notify::{NotifyChange, NotifySetting};
use motia_state::{IiiState, ReconnectStrategy, RedisStateAdapter};
use tokio::sync::mpsc;

use crate::browser::action::{LiveCmd, LiveEvent, WorkerEvent};
use crate::browser::owed::{self, Owed};
use crate::browser::worker::Events;
use crate::browser::worker::iii_live::{self, Ended};

/// Events of one key within this window become one change.
const WINDOW: Duration = Duration::from_millis(50);
/// A window is handed over early once this many keys are pending (bounds a huge burst).
pub const MAX_KEYS: usize = 5_000;
/// Messages taken from the subscription per round.
pub const BATCH: usize = 4_096;
/// How often a server without notifications is asked again (someone may switch them on):
/// one CONFIG GET, so a switch elsewhere is noticed within seconds.
const RECHECK: Duration = Duration::from_secs(2);
/// New flows whose group records are read per round trip batch (the rest come with a scan).
const MAX_NEW_FLOWS: usize = 500;
/// `{trace_prefix}default` lists the flows; every other record hash is one flow's steps.
const GROUP_INDEX: &str = "default";

/// What the live job is told by the worker.
#[derive(Debug)]
pub enum LiveJobCmd {
    Switch(LiveCmd),
    /// Take back what `:live on` added, then stop.
    Shutdown,
}

/// Why following stopped.
enum Stop {
    Cmd(LiveJobCmd),
    Off(String),
    Failed(String),
    Gone,
}

impl From<Ended<LiveJobCmd>> for Stop {
    fn from(end: Ended<LiveJobCmd>) -> Self {
        match end {
            Ended::Cmd(c) => Stop::Cmd(c),
            Ended::Off(r) => Stop::Off(r),
            Ended::Failed(r) => Stop::Failed(r),
            Ended::Gone => Stop::Gone,
        }
    }
}

/// Runs until `Shutdown` or until the UI stops listening. With `iii`, the scope hashes of the
/// iii layout are followed (flags K and h) instead of 0.x keys; switching notifications on
/// and off, and restoring them, are the same.
pub async fn run_live(
    adapter: RedisStateAdapter,
    iii: Option<IiiState>,
    mut cmds: mpsc::UnboundedReceiver<LiveJobCmd>,
    events: Events,
) {
    let mut change: Option<NotifyChange> = None;
    let server = adapter.config().display_url();
    let mut owed = owed_restore(&adapter, &server, &events).await;
    loop {
        let stop = match adapter.notify_setting().await {
            Ok(setting) if covered(&setting, iii.is_some()) => {
                match subscribe(&adapter, iii.as_ref()).await {
                    Ok(sub) => {
                        if send(&events, LiveEvent::Live(setting)).await.is_err() {
                            Stop::Gone
                        } else if let Some(iii) = &iii {
                            iii_live::follow(iii, sub, &mut cmds, &events).await.into()
                        } else {
                            let trace_prefix = adapter.config().trace_prefix.clone();
                            follow(sub, &mut cmds, &events, &trace_prefix).await
                        }
                    }
                    Err(e) => polling(&events, &mut cmds, e.to_string(), Some(setting)).await,
                }
            }
            Ok(setting) => {
                let missing = if iii.is_some() {
                    HASH_FLAGS.chars().filter(|c| !setting.has(*c)).collect()
                } else {
                    setting.missing_required()
                };
                let reason = format!("notify-keyspace-events is {setting}, missing {missing}");
                polling(&events, &mut cmds, reason, Some(setting)).await
            }
            Err(e) => polling(&events, &mut cmds, e.to_string(), None).await,
        };
        match stop {
            Stop::Gone | Stop::Cmd(LiveJobCmd::Shutdown) => {
                let _ = restore(&adapter, &server, &mut change).await;
                return;
            }
            Stop::Cmd(LiveJobCmd::Switch(LiveCmd::RestoreOwed)) => {
                let result = match owed.take() {
                    Some(o) => match adapter.restore_notifications(&o.change()).await {
                        Ok(outcome) => {
                            owed::settled(&server, o.pid);
                            Ok(outcome.to_string())
                        }
                        Err(e) => {
                            let text = format!(
                                "{e}; restore it with CONFIG SET notify-keyspace-events '{}'",
                                o.before
                            );
                            owed = Some(o);
                            Err(text)
                        }
                    },
                    None => Err("nothing is owed to this server".into()),
                };
                if send(&events, LiveEvent::OwedRestored(result))
                    .await
                    .is_err()
                {
                    let _ = restore(&adapter, &server, &mut change).await;
                    return;
                }
            }
            Stop::Cmd(LiveJobCmd::Switch(LiveCmd::On)) => {
                let mut changed = false;
                let result = match adapter.enable_notifications().await {
                    Ok(c) if c.is_noop() => Ok(format!(
                        "notify-keyspace-events is {} already: nothing changed",
                        c.before
                    )),
                    Ok(c) => {
                        changed = true;
                        let text = format!(
                            "notify-keyspace-events set from {} to {}; :live off (or quitting) \
                             restores it",
                            c.before, c.after
                        );
                        // A second :live on keeps the first setting found, to restore that.
                        if change.is_none() {
                            // Noted before anything else can stop this run (SIGKILL).
                            owed::record(&server, &c);
                            change = Some(c);
                        }
                        Ok(text)
                    }
                    Err(e) => Err(e.to_string()),
                };
                let ev = LiveEvent::Switched {
                    on: true,
                    changed: changed || change.is_some(),
                    result,
                };
                if send(&events, ev).await.is_err() {
                    let _ = restore(&adapter, &server, &mut change).await;
                    return;
                }
            }
            Stop::Cmd(LiveJobCmd::Switch(LiveCmd::Off)) => {
                let had = change.is_some();
                let result = match restore(&adapter, &server, &mut change).await {
                    Some(r) => r,
                    None => Err(
                        "live mode was not switched on in this browser (the server had \
                                 notifications on already): nothing to restore"
                            .into(),
                    ),
                };
                let ev = LiveEvent::Switched {
                    on: false,
                    changed: had,
                    result,
                };
                if send(&events, ev).await.is_err() {
                    return;
                }
            }
            Stop::Off(reason) | Stop::Failed(reason) => {
                tracing::info!(%reason, "live mode stopped");
            }
        }
    }
}

/// Takes back what `:live on` added; `None` when nothing was added here.
async fn restore(
    adapter: &RedisStateAdapter,
    server: &str,
    change: &mut Option<NotifyChange>,
) -> Option<Result<String, String>> {
    let c = change.take()?;
    Some(match adapter.restore_notifications(&c).await {
        Ok(outcome) => {
            owed::settled(server, std::process::id());
            Ok(outcome.to_string())
        }
        Err(e) => {
            tracing::warn!(error = %e, before = %c.before, "restoring notify-keyspace-events failed");
            Err(format!(
                "{e}; restore it with CONFIG SET notify-keyspace-events '{}'",
                c.before.as_str()
            ))
        }
    })
}

/// A restore owed to this server by an earlier run that was killed: offered to the user while
/// the server still has the flags that run added, forgotten otherwise.
async fn owed_restore(adapter: &RedisStateAdapter, server: &str, events: &Events) -> Option<Owed> {
    let o = owed::abandoned(server)?;
    let now = adapter.notify_setting().await.ok()?;
    if !o.still_applies(&now) {
        owed::settled(server, o.pid);
        return None;
    }
    let ev = LiveEvent::Owed {
        before: o.before.clone(),
        now: now.as_str().to_string(),
        pid: o.pid,
    };
    send(events, ev).await.ok()?;
    Some(o)
}

/// New flows (their state just appeared): their group records, for name, start and status,
/// reported as the group scan reports them. Their steps are read as for any row on screen.
pub async fn read_new_flows(
    adapter: RedisStateAdapter,
    generation: u64,
    ids: Vec<String>,
    events: Events,
) {
    let mut entries = Vec::new();
    let mut error = None;
    for id in ids.into_iter().take(MAX_NEW_FLOWS) {
        // Named as the index names it: the exact bytes are read.
        let raw = super::raw_key(&id);
        match adapter.trace_group(&raw).await {
            Ok(Some(group)) => entries.push(motia_state::adapter::traces::GroupEntry {
                trace_id: id,
                trace_id_bytes: raw,
                group,
            }),
            Ok(None) => {}
            Err(e) => {
                error = Some(e.to_string());
                break;
            }
        }
    }
    if entries.is_empty() && error.is_none() {
        return;
    }
    let ev = WorkerEvent::TraceGroups {
        generation,
        entries,
        done: false,
        error,
    };
    let _ = events.send(ev).await;
}

/// Whether the setting sends what the layout's live mode follows.
fn covered(setting: &NotifySetting, iii: bool) -> bool {
    if iii {
        covers_hashes(setting)
    } else {
        setting.covers_live()
    }
}

async fn subscribe(
    adapter: &RedisStateAdapter,
    iii: Option<&IiiState>,
) -> motia_state::Result<LiveSubscription> {
    let options = LiveOptions {
        // The browser waits for a server as long as it runs.
        reconnect: Some(ReconnectStrategy::new(|n| {
            Some(Duration::from_millis(u64::from(n.min(20)) * 100))
        })),
        ..LiveOptions::default()
    };
    match iii {
        Some(iii) => iii.subscribe(options).await,
        None => {
            let options = LiveOptions {
                trace_records: true,
                ..options
            };
            LiveSubscription::open(adapter, options).await
        }
    }
}

async fn send(events: &Events, ev: LiveEvent) -> Result<(), ()> {
    events.send(WorkerEvent::Live(ev)).await.map_err(drop)
}

/// Reports polling and waits for a command or the next check.
async fn polling(
    events: &Events,
    cmds: &mut mpsc::UnboundedReceiver<LiveJobCmd>,
    reason: String,
    setting: Option<motia_state::notify::NotifySetting>,
) -> Stop {
    if send(events, LiveEvent::Polling { reason, setting })
        .await
        .is_err()
    {
        return Stop::Gone;
    }
    tokio::select! {
        cmd = cmds.recv() => match cmd {
            Some(c) => Stop::Cmd(c),
            None => Stop::Gone,
        },
        _ = tokio::time::sleep(RECHECK) => Stop::Off("recheck".into()),
    }
}

/// Follows the subscription: events coalesced per key, handed over once their window is over.
async fn follow(
    mut sub: LiveSubscription,
    cmds: &mut mpsc::UnboundedReceiver<LiveJobCmd>,
    events: &Events,
    trace_prefix: &str,
) -> Stop {
    let mut pending = Coalescer::new(WINDOW, MAX_KEYS);
    // Flows whose trace records were written since the last report.
    let mut records: BTreeSet<String> = BTreeSet::new();
    loop {
        let due = pending
            .deadline()
            .map(tokio::time::Instant::from_std)
            .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
        let mut flush = false;
        tokio::select! {
            batch = sub.next_batch(BATCH) => {
                let messages = match batch {
                    Ok(m) => m,
                    Err(e) => return Stop::Failed(e.to_string()),
                };
                let now = Instant::now();
                for message in messages {
                    let ev = match message {
                        LiveMessage::Event(mut e) => {
                            // The model names keys by their escaped form (see raw_key),
                            // from the exact bytes (keys that are not UTF-8 too).
                            if let std::borrow::Cow::Owned(shown) =
                                motia_state::escape::name(&e.raw)
                            {
                                e.key = shown;
                            }
                            match e.trace_record(trace_prefix) {
                                Some(id) if id == GROUP_INDEX.as_bytes() => {}
                                // Written, not removed or given a TTL: a flow's records
                                // that expire are no reason to list the flow again.
                                Some(id) => {
                                    let kind = EventKind::of(&e.event);
                                    if !kind.removes()
                                        && !kind.ttl_only()
                                        && records.len() < MAX_KEYS
                                    {
                                        records.insert(motia_state::escape::shown(id));
                                    }
                                }
                                None => pending.push(&e, now),
                            }
                            continue;
                        }
                        LiveMessage::Disconnected => {
                            flush = !pending.is_empty();
                            LiveEvent::Reconnecting
                        }
                        LiveMessage::Reconnected | LiveMessage::Overflow { .. } => {
                            // The scan supersedes what is pending.
                            pending.clear();
                            LiveEvent::Resync
                        }
                        LiveMessage::SettingChanged(s) if !s.covers_live() => {
                            return Stop::Off(format!("notify-keyspace-events is now {s}"));
                        }
                        LiveMessage::SettingChanged(_) => continue,
                    };
                    if flush {
                        flush = false;
                        if send(events, LiveEvent::Changes(pending.take())).await.is_err() {
                            return Stop::Gone;
                        }
                    }
                    if send(events, ev).await.is_err() {
                        return Stop::Gone;
                    }
                }
                flush = pending.is_due(Instant::now());
                // A batch's record writes are reported at once: a flow's status is one read.
                if !records.is_empty()
                    && send(events, LiveEvent::Records(std::mem::take(&mut records).into_iter().collect()))
                        .await
                        .is_err()
                {
                    return Stop::Gone;
                }
            }
            _ = tokio::time::sleep_until(due), if !pending.is_empty() => flush = true,
            cmd = cmds.recv() => {
                return match cmd {
                    Some(c) => Stop::Cmd(c),
                    None => Stop::Gone,
                };
            }
        }
        if flush
            && !pending.is_empty()
            && send(events, LiveEvent::Changes(pending.take()))
                .await
                .is_err()
        {
            return Stop::Gone;
        }
    }
}
