//! Connecting (with retries) and the heartbeat that notices a lost server and its return.

use std::time::Duration;

use motia_state::{Config, RedisStateAdapter, Topology};
use tokio::sync::mpsc;

use crate::browser::action::{ServerFacts, WorkerCmd, WorkerEvent};
use crate::browser::worker::Events;

/// How often the connection is checked, and how long a check may take.
const HEARTBEAT: Duration = Duration::from_secs(1);

const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(2);

/// How connecting ended.
pub enum Connect {
    Done(Box<RedisStateAdapter>),
    /// The user picked another saved connection meanwhile.
    Switch(String),
    Stop,
}

/// Connects, retrying with a growing pause, and reports each attempt. Commands that arrive
/// meanwhile are dropped (the model asks again once connected), except a switch to another
/// saved connection, which is how a user leaves a server that does not answer.
pub async fn connect(
    config: &Config,
    cmds: &mut mpsc::UnboundedReceiver<WorkerCmd>,
    events: &Events,
) -> Connect {
    let mut attempt = 0u32;
    let mut error = None;
    loop {
        attempt += 1;
        if events
            .send(WorkerEvent::Connecting {
                attempt,
                error: error.take(),
            })
            .await
            .is_err()
        {
            return Connect::Stop;
        }
        let tried = async {
            let a = RedisStateAdapter::connect(config.clone()).await?;
            let facts = facts(&a).await?;
            Ok::<_, motia_state::Error>((a, facts))
        };
        match tried.await {
            Ok((a, facts)) => {
                tracing::info!(url = %config.display_url(), version = ?facts.version, mode = ?facts.mode, "connected");
                if events.send(WorkerEvent::Connected(facts)).await.is_err() {
                    return Connect::Stop;
                }
                return Connect::Done(Box::new(a));
            }
            // Trying again cannot fix credentials or settings, and would lock accounts on
            // servers that count failures: say why and stop.
            Err(
                e @ (motia_state::Error::Auth { .. }
                | motia_state::Error::NoAuth { .. }
                | motia_state::Error::Config { .. }),
            ) => {
                tracing::warn!(url = %config.display_url(), attempt, error = %e, "connect refused; not retrying");
                let ev = WorkerEvent::GaveUp {
                    error: e.to_string(),
                };
                if events.send(ev).await.is_err() {
                    return Connect::Stop;
                }
                // Wait for the user: quit, or another saved connection.
                while let Some(cmd) = cmds.recv().await {
                    match cmd {
                        WorkerCmd::Shutdown => break,
                        WorkerCmd::Switch { profile } => return Connect::Switch(profile),
                        _ => {}
                    }
                }
                return Connect::Stop;
            }
            Err(e) => {
                tracing::warn!(url = %config.display_url(), attempt, error = %e, "connect failed");
                error = Some(e.to_string());
            }
        }
        let pause = Duration::from_millis((500 * u64::from(attempt)).min(5000));
        let until = tokio::time::Instant::now() + pause;
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(until) => break,
                cmd = cmds.recv() => match cmd {
                    None | Some(WorkerCmd::Shutdown) => return Connect::Stop,
                    Some(WorkerCmd::Switch { profile }) => return Connect::Switch(profile),
                    Some(_) => {}
                },
            }
        }
    }
}

/// Version, key count and mode. What the ACL user may not ask for is unknown, with the
/// reason; only a server that does not answer fails.
async fn facts(a: &RedisStateAdapter) -> motia_state::Result<ServerFacts> {
    let unknown = |e: motia_state::Error| {
        if e.is_connection() {
            Err(e)
        } else {
            Ok(permission_words(&e))
        }
    };
    let version = match a.server_version().await {
        Ok(v) => Ok(v),
        Err(e) => Err(unknown(e)?),
    };
    let (dbsize, unreachable) = match a.dbsize().await {
        Ok(r) => (Ok(r.keys), r.unreachable),
        Err(e) => (Err(unknown(e)?), Vec::new()),
    };
    let mode = mode_label(a.topology());
    Ok(ServerFacts {
        version,
        dbsize,
        mode,
        unreachable,
    })
}

/// How the status bar names the connection's mode (`None`: one server).
fn mode_label(topology: Topology) -> Option<String> {
    match topology {
        Topology::Standalone => None,
        Topology::Cluster { detected: true, .. } => Some("cluster (detected)".to_string()),
        Topology::Cluster { .. } => Some("cluster".to_string()),
        Topology::Sentinel { master, primary } => Some(format!(
            "sentinel {master}{}",
            primary.map(|p| format!(" at {p}")).unwrap_or_default()
        )),
    }
}

/// "may not run INFO" from a NOPERM error.
fn permission_words(e: &motia_state::Error) -> String {
    match e {
        motia_state::Error::NoPerm { reason, .. } => reason
            .strip_prefix("the ACL user ")
            .unwrap_or(reason)
            .split(" (NOPERM)")
            .next()
            .unwrap_or_default()
            .to_string(),
        other => other.to_string(),
    }
}

/// Notices a lost server quickly (commands in flight may sit in the reconnect loop) and
/// reports when it answers again, with a fresh DBSIZE when the user may ask for it, and
/// which cluster primaries stopped answering.
pub async fn heartbeat(adapter: RedisStateAdapter, events: Events) {
    let mut lost = false;
    let mut last_size = None;
    let mut last_unreachable: Vec<String> = Vec::new();
    let mut may_count = true;
    let mut last_mode = mode_label(adapter.topology());
    loop {
        tokio::time::sleep(HEARTBEAT).await;
        let probe = async {
            if may_count {
                match adapter.dbsize().await {
                    Ok(r) => return Ok((Some(r.keys), r.unreachable)),
                    Err(e) if e.is_permission() => may_count = false,
                    Err(e) => return Err(e),
                }
            }
            adapter.ping().await.map(|()| (None, Vec::new()))
        };
        let check = tokio::time::timeout(HEARTBEAT_TIMEOUT, probe).await;
        let mut evs = Vec::new();
        match check {
            Ok(Ok((size, unreachable))) => {
                if lost {
                    lost = false;
                    last_size = size;
                    tracing::info!("server answers again");
                    match facts(&adapter).await {
                        Ok(f) => evs.push(WorkerEvent::Restored(f)),
                        Err(e) => tracing::warn!(error = %e, "server facts"),
                    }
                } else if let Some(n) = size
                    && last_size != Some(n)
                {
                    last_size = Some(n);
                    evs.push(WorkerEvent::DbSize(n));
                }
                if unreachable != last_unreachable {
                    if unreachable.is_empty() {
                        tracing::info!("every cluster primary answers again");
                    } else {
                        tracing::warn!(nodes = ?unreachable, "cluster primaries do not answer");
                    }
                    last_unreachable = unreachable.clone();
                    evs.push(WorkerEvent::Unreachable(unreachable));
                }
            }
            Ok(Err(e)) if !lost => {
                lost = true;
                tracing::warn!(error = %e, "server lost");
                evs.push(WorkerEvent::Lost {
                    reason: e.to_string(),
                });
            }
            Err(_) if !lost => {
                lost = true;
                tracing::warn!("server lost: no answer");
                evs.push(WorkerEvent::Lost {
                    reason: format!("no answer within {}s", HEARTBEAT_TIMEOUT.as_secs()),
                });
            }
            _ => {}
        }
        // A failover followed through the sentinels changes the primary under the same adapter.
        let mode = mode_label(adapter.topology());
        if mode != last_mode {
            last_mode = mode.clone();
            evs.push(WorkerEvent::Mode(mode));
        }
        for ev in evs {
            if events.send(ev).await.is_err() {
                return;
            }
        }
    }
}
