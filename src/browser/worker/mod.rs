//! The worker: owns the Redis connection and is the only code that awaits Redis, one file per
//! job. It turns commands into events; it never panics, and a failed send means the UI is
//! gone, so it stops.

mod connection;
pub mod history_diff;
pub mod iii;
pub mod iii_batches;
mod iii_live;
mod iii_stats;
mod live;
mod meta;
mod other_layout;
mod scan;
mod stats;
pub mod streams;
pub mod traces;
mod values;
mod writes;

use motia_state::Config;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::browser::action::{WorkerCmd, WorkerEvent};
use crate::profiles::Profiles;
use connection::{Connect, connect, heartbeat};
/// The live job's coalescing bounds, for the load test's memory checks.
#[cfg(test)]
pub use live::{BATCH as LIVE_BATCH, MAX_KEYS as LIVE_MAX_KEYS};
use live::{LiveJobCmd, read_new_flows, run_live};
use meta::fetch_meta;
use scan::run_scan;
use stats::{run_gc_plan, run_stats};
use traces::{read_records, run_group_scan, run_summaries};
use values::{load_value, run_where};
use writes::run_writes;

type Events = mpsc::Sender<WorkerEvent>;

const GC_ON_III: &str =
    "gc does not apply to the iii layout (no trace records, no TTL from the engine)";

/// The model names keys by their escaped form ([`motia_state::escape::name`], which is also
/// what it shows); Redis is asked with the exact bytes behind it.
fn raw_key(shown: &str) -> Vec<u8> {
    motia_state::escape::unescape_name(shown)
}

/// Runs until `Shutdown`, the command channel closes, or the UI stops listening; `Switch`
/// starts over on another saved connection.
pub async fn run(
    mut config: Config,
    profiles: Profiles,
    mut cmds: mpsc::UnboundedReceiver<WorkerCmd>,
    events: Events,
) {
    loop {
        let next = match connect(&config, &mut cmds, &events).await {
            Connect::Stop => return,
            Connect::Switch(profile) => switch(&profiles, profile, &events).await,
            Connect::Done(adapter) => session(*adapter, &profiles, &mut cmds, &events).await,
        };
        match next {
            Next::Stop => return,
            Next::Stay => {}
            Next::Use(c) => {
                // Another server may keep the other layout: detected again, as at start.
                let (c, label, look) = iii::choose_layout(*c).await;
                let ev = WorkerEvent::Layout {
                    label,
                    iii: c.layout == Some(motia_state::Layout::Iii),
                    prefix: c.key_prefix.clone(),
                    look,
                };
                if events.send(ev).await.is_err() {
                    return;
                }
                config = c;
            }
        }
    }
}

/// What follows a session: the end, the same settings again, or another connection's.
enum Next {
    Stop,
    Stay,
    Use(Box<Config>),
}

/// Resolves a saved connection off the async threads (its password command may take a while)
/// and tells the UI whether the switch happens.
async fn switch(profiles: &Profiles, profile: String, events: &Events) -> Next {
    let p = profiles.clone();
    let name = profile.clone();
    let resolved = tokio::task::spawn_blocking(move || p.config_for(&name)).await;
    let ev = match resolved {
        Ok(Ok(c)) => {
            let ev = WorkerEvent::Switched {
                profile: profile.clone(),
            };
            if events.send(ev).await.is_err() {
                return Next::Stop;
            }
            tracing::info!(%profile, url = %c.display_url(), "switching connection");
            return Next::Use(Box::new(c));
        }
        Ok(Err(e)) => WorkerEvent::SwitchFailed {
            profile,
            error: e.to_string(),
        },
        Err(e) => WorkerEvent::SwitchFailed {
            profile,
            error: e.to_string(),
        },
    };
    if events.send(ev).await.is_err() {
        Next::Stop
    } else {
        Next::Stay
    }
}

/// One connection's life: its jobs, until the UI stops or switches.
async fn session(
    adapter: motia_state::RedisStateAdapter,
    profiles: &Profiles,
    cmds: &mut mpsc::UnboundedReceiver<WorkerCmd>,
    events: &Events,
) -> Next {
    let mut next = Next::Stop;
    // On the iii layout the jobs that read or write state go through its hashes.
    let iii = (adapter.config().layout == Some(motia_state::Layout::Iii)).then(|| adapter.iii());
    let mut scan: Option<JoinHandle<()>> = None;
    let mut group_scan: Option<JoinHandle<()>> = None;
    let heartbeat = tokio::spawn(heartbeat(adapter.clone(), events.clone()));
    // Writes go through one task so they happen in the order the user made them.
    let (write_tx, write_rx) = mpsc::unbounded_channel();
    let writer = tokio::spawn(run_writes(adapter.clone(), write_rx, events.clone()));
    let (live_tx, live_rx) = mpsc::unbounded_channel();
    let live = tokio::spawn(run_live(
        adapter.clone(),
        iii.clone(),
        live_rx,
        events.clone(),
    ));
    while let Some(cmd) = cmds.recv().await {
        match cmd {
            WorkerCmd::Shutdown => break,
            WorkerCmd::Switch { profile } => match switch(profiles, profile, events).await {
                Next::Stay => {}
                other => {
                    next = other;
                    break;
                }
            },
            WorkerCmd::Scan { generation } => {
                if let Some(old) = scan.take() {
                    old.abort();
                }
                if let Some(old) = group_scan.take() {
                    old.abort();
                }
                if let Some(iii) = &iii {
                    // No trace records in this layout: nothing to walk beside the fields.
                    scan = Some(tokio::spawn(iii::run_scan(
                        iii.clone(),
                        generation,
                        events.clone(),
                    )));
                    continue;
                }
                scan = Some(tokio::spawn(run_scan(
                    adapter.clone(),
                    generation,
                    events.clone(),
                )));
                // The trace records are walked beside the keys, never in front of them.
                group_scan = Some(tokio::spawn(run_group_scan(
                    adapter.clone(),
                    generation,
                    events.clone(),
                )));
            }
            WorkerCmd::OtherLayout { keys_seen } => {
                tokio::spawn(other_layout::run(
                    adapter.clone(),
                    keys_seen,
                    events.clone(),
                ));
            }
            WorkerCmd::TraceSummaries { ids } => {
                tokio::spawn(run_summaries(adapter.clone(), ids, events.clone()));
            }
            WorkerCmd::TraceRecords {
                id,
                trace,
                key,
                full_key,
            } => {
                tokio::spawn(read_records(
                    adapter.clone(),
                    id,
                    trace,
                    key.zip(full_key),
                    events.clone(),
                ));
            }
            WorkerCmd::HistoryDiff { id, old, new } => {
                tokio::spawn(history_diff::run(id, old, new, events.clone()));
            }
            WorkerCmd::LoadValue { id, full_key, max } if iii.is_some() => {
                if let Some(iii) = &iii {
                    let job = iii::load_value(iii.clone(), id, full_key, max, events.clone());
                    tokio::spawn(job);
                }
            }
            WorkerCmd::FetchMeta { keys } if iii.is_some() => {
                if let Some(iii) = &iii {
                    tokio::spawn(iii::fetch_meta(iii.clone(), keys, events.clone()));
                }
            }
            WorkerCmd::Where {
                id,
                full_keys,
                filter,
            } if iii.is_some() => {
                if let Some(iii) = &iii {
                    let job = iii::run_where(iii.clone(), id, full_keys, filter, events.clone());
                    tokio::spawn(job);
                }
            }
            WorkerCmd::Stats { id, .. } if iii.is_some() => {
                if let Some(iii) = &iii {
                    tokio::spawn(iii_stats::run_stats(iii.clone(), id, events.clone()));
                }
            }
            WorkerCmd::GcPlan { id, .. } if iii.is_some() => {
                // `update` refuses `:gc` here first; this keeps a 0.x plan off the hashes.
                let ev = WorkerEvent::GcPlanned {
                    id,
                    result: Err(GC_ON_III.into()),
                };
                let _ = events.send(ev).await;
            }
            WorkerCmd::LoadValue { id, full_key, max } => {
                tokio::spawn(load_value(
                    adapter.clone(),
                    id,
                    full_key,
                    max,
                    events.clone(),
                ));
            }
            WorkerCmd::FetchMeta { keys } => {
                tokio::spawn(fetch_meta(adapter.clone(), keys, events.clone()));
            }
            WorkerCmd::NewFlows { generation, ids } => {
                tokio::spawn(read_new_flows(
                    adapter.clone(),
                    generation,
                    ids,
                    events.clone(),
                ));
            }
            WorkerCmd::Live(cmd) => {
                let _ = live_tx.send(LiveJobCmd::Switch(cmd));
            }
            WorkerCmd::Write { id, op } => {
                // The writer only stops when this loop ends.
                let _ = write_tx.send((id, op));
            }
            WorkerCmd::Stats { id, keys } => {
                tokio::spawn(run_stats(adapter.clone(), id, keys, events.clone()));
            }
            WorkerCmd::GcPlan {
                id,
                selection,
                action,
                keys,
            } => {
                tokio::spawn(run_gc_plan(
                    adapter.clone(),
                    id,
                    (selection, action),
                    keys,
                    events.clone(),
                ));
            }
            WorkerCmd::Where {
                id,
                full_keys,
                filter,
            } => {
                tokio::spawn(run_where(
                    adapter.clone(),
                    id,
                    full_keys,
                    filter,
                    events.clone(),
                ));
            }
        }
    }
    drop(write_tx);
    // A write in flight is finished, not cut off; what `:live on` added is taken back.
    let _ = writer.await;
    let _ = live_tx.send(LiveJobCmd::Shutdown);
    let _ = live.await;
    heartbeat.abort();
    if let Some(s) = scan {
        s.abort();
    }
    if let Some(s) = group_scan {
        s.abort();
    }
    next
}
