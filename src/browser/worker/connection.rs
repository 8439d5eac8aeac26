//! Connecting (with retries) and the heartbeat that notices a lost server and its return.

use std::time::Duration;

use motia_state::{Config, RedisStateAdapter};
use tokio::sync::mpsc;

use crate::browser::action::{WorkerCmd, WorkerEvent};
use crate::browser::worker::Events;

/// How often the connection is checked, and how long a check may take.
const HEARTBEAT: Duration = Duration::from_secs(1);

const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(2);

/// Connects, retrying with a growing pause, and reports each attempt. Commands that arrive
/// meanwhile are dropped: the model asks again once connected.
pub async fn connect(
    config: &Config,
    cmds: &mut mpsc::UnboundedReceiver<WorkerCmd>,
    events: &Events,
) -> Option<RedisStateAdapter> {
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
            return None;
        }
        let tried = async {
            let a = RedisStateAdapter::connect(config.clone()).await?;
            let version = a.server_version().await?;
            let dbsize = a.dbsize().await?;
            Ok::<_, motia_state::Error>((a, version, dbsize))
        };
        match tried.await {
            Ok((a, version, dbsize)) => {
                tracing::info!(url = %config.display_url(), %version, "connected");
                events
                    .send(WorkerEvent::Connected { version, dbsize })
                    .await
                    .ok()?;
                return Some(a);
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
                    None | Some(WorkerCmd::Shutdown) => return None,
                    Some(_) => {}
                },
            }
        }
    }
}

/// Notices a lost server quickly (commands in flight may sit in the reconnect loop) and
/// reports when it answers again, with a fresh DBSIZE.
pub async fn heartbeat(adapter: RedisStateAdapter, events: Events) {
    let mut lost = false;
    let mut last_size = None;
    loop {
        tokio::time::sleep(HEARTBEAT).await;
        let check = tokio::time::timeout(HEARTBEAT_TIMEOUT, adapter.dbsize()).await;
        let ev = match check {
            Ok(Ok(n)) if lost => {
                lost = false;
                last_size = Some(n);
                let version = adapter
                    .server_version()
                    .await
                    .unwrap_or_else(|_| "unknown".into());
                tracing::info!("server answers again");
                Some(WorkerEvent::Restored { version, dbsize: n })
            }
            Ok(Ok(n)) => {
                let changed = last_size != Some(n);
                last_size = Some(n);
                changed.then_some(WorkerEvent::DbSize(n))
            }
            Ok(Err(e)) if !lost => {
                lost = true;
                tracing::warn!(error = %e, "server lost");
                Some(WorkerEvent::Lost {
                    reason: e.to_string(),
                })
            }
            Err(_) if !lost => {
                lost = true;
                tracing::warn!("server lost: no answer");
                Some(WorkerEvent::Lost {
                    reason: format!("no answer within {}s", HEARTBEAT_TIMEOUT.as_secs()),
                })
            }
            _ => None,
        };
        if let Some(ev) = ev
            && events.send(ev).await.is_err()
        {
            return;
        }
    }
}
