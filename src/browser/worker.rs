//! The worker: owns the Redis connection and is the only code that awaits Redis. It turns
//! commands into events; it never panics, and a failed send means the UI is gone, so it stops.

use std::sync::Arc;
use std::time::{Duration, Instant};

use motia_state::{Config, RedisStateAdapter, Ttl};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::browser::action::{RowMeta, WorkerCmd, WorkerEvent, WriteOp, WriteOutcome};
use crate::browser::doc::{ValueDoc, classify};

/// Keys per scan batch sent to the UI, and the longest a found key waits before it is sent.
const BATCH_KEYS: usize = 5_000;
const BATCH_TIME: Duration = Duration::from_millis(100);
/// How often the connection is checked, and how long a check may take.
const HEARTBEAT: Duration = Duration::from_secs(1);
const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(2);
/// Bytes of each visible value read to tell JSON from raw text.
const HEAD_BYTES: usize = 4096;

type Events = mpsc::Sender<WorkerEvent>;

/// Runs until `Shutdown`, the command channel closes, or the UI stops listening.
pub async fn run(config: Config, mut cmds: mpsc::UnboundedReceiver<WorkerCmd>, events: Events) {
    let Some(adapter) = connect(&config, &mut cmds, &events).await else {
        return;
    };
    let mut scan: Option<JoinHandle<()>> = None;
    let heartbeat = tokio::spawn(heartbeat(adapter.clone(), events.clone()));
    // Writes go through one task so they happen in the order the user made them.
    let (write_tx, write_rx) = mpsc::unbounded_channel();
    let writer = tokio::spawn(run_writes(adapter.clone(), write_rx, events.clone()));
    while let Some(cmd) = cmds.recv().await {
        match cmd {
            WorkerCmd::Shutdown => break,
            WorkerCmd::Scan { generation } => {
                if let Some(old) = scan.take() {
                    old.abort();
                }
                scan = Some(tokio::spawn(run_scan(
                    adapter.clone(),
                    generation,
                    events.clone(),
                )));
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
            WorkerCmd::Write { id, op } => {
                // The writer only stops when this loop ends.
                let _ = write_tx.send((id, op));
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
    // A write in flight is finished, not cut off.
    let _ = writer.await;
    heartbeat.abort();
    if let Some(s) = scan {
        s.abort();
    }
}

/// Connects, retrying with a growing pause, and reports each attempt. Commands that arrive
/// meanwhile are dropped: the model asks again once connected.
async fn connect(
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
async fn heartbeat(adapter: RedisStateAdapter, events: Events) {
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

/// One walk of `{prefix}*`, sent in batches. Duplicates are left in: the model's index is
/// idempotent, so the scanner need not remember every key a second time.
async fn run_scan(adapter: RedisStateAdapter, generation: u64, events: Events) {
    let mut scanner = adapter.scan_all().allow_duplicates();
    let mut batch: Vec<String> = Vec::new();
    let mut last_sent = Instant::now();
    let mut sent_any = false;
    loop {
        match scanner.next_page().await {
            Ok(Some(page)) => {
                batch.extend(page);
                // The first keys go out at once so the first traces show immediately.
                let due = (!sent_any && !batch.is_empty())
                    || batch.len() >= BATCH_KEYS
                    || (last_sent.elapsed() >= BATCH_TIME && !batch.is_empty());
                if due {
                    sent_any = true;
                    last_sent = Instant::now();
                    let ev = WorkerEvent::ScanBatch {
                        generation,
                        keys: std::mem::take(&mut batch),
                        seen: scanner.keys_seen(),
                    };
                    if events.send(ev).await.is_err() {
                        return;
                    }
                }
            }
            Ok(None) => {
                let seen = scanner.keys_seen();
                if !batch.is_empty() {
                    let ev = WorkerEvent::ScanBatch {
                        generation,
                        keys: batch,
                        seen,
                    };
                    if events.send(ev).await.is_err() {
                        return;
                    }
                }
                let _ = events
                    .send(WorkerEvent::ScanDone { generation, seen })
                    .await;
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, generation, "scan failed");
                let _ = events
                    .send(WorkerEvent::ScanFailed {
                        generation,
                        connection: e.is_connection(),
                        error: e.to_string(),
                    })
                    .await;
                return;
            }
        }
    }
}

/// Reads a value (a window, or all of it) and prepares it for display off the async threads.
async fn load_value(
    adapter: RedisStateAdapter,
    id: u64,
    full_key: String,
    max: Option<usize>,
    events: Events,
) {
    let raw = match max {
        Some(n) => adapter
            .get_window_full(&full_key, n)
            .await
            .map(|w| w.map(|w| (w.bytes, w.total_len))),
        None => adapter.get_raw_full(&full_key).await.map(|v| {
            v.map(|b| {
                let len = b.len() as u64;
                (b, len)
            })
        }),
    };
    let result = match raw {
        Ok(Some((bytes, total))) => {
            match tokio::task::spawn_blocking(move || ValueDoc::build(&bytes, total)).await {
                Ok(doc) => Ok(Some(Arc::new(doc))),
                Err(e) => Err(format!("preparing the value failed: {e}")),
            }
        }
        Ok(None) => Ok(None),
        Err(e) => Err(e.to_string()),
    };
    let _ = events
        .send(WorkerEvent::Value {
            id,
            full_key,
            result,
        })
        .await;
}

/// Type, size and TTL of the visible keys, in one pipelined round trip per batch.
async fn fetch_meta(adapter: RedisStateAdapter, keys: Vec<String>, events: Events) {
    let ev = match adapter.key_meta_with_head(&keys, HEAD_BYTES).await {
        Ok(metas) => WorkerEvent::Meta {
            rows: metas
                .into_iter()
                .map(|(m, head)| {
                    let kind = match (&head, m.ttl) {
                        (_, Ttl::Missing) => "gone".to_string(),
                        (Some(h), _) => classify(h, m.len.unwrap_or(0)).to_string(),
                        (None, _) => m.redis_type.clone(),
                    };
                    (
                        m.full_key,
                        RowMeta {
                            kind,
                            len: m.len,
                            ttl: m.ttl,
                        },
                    )
                })
                .collect(),
        },
        Err(e) => WorkerEvent::MetaFailed {
            keys,
            error: e.to_string(),
        },
    };
    let _ = events.send(ev).await;
}

/// Performs writes one at a time and reports each result.
async fn run_writes(
    adapter: RedisStateAdapter,
    mut rx: mpsc::UnboundedReceiver<(u64, WriteOp)>,
    events: Events,
) {
    while let Some((id, op)) = rx.recv().await {
        let result = write(&adapter, &op).await;
        if let Err(e) = &result {
            tracing::warn!(id, error = %e, "write failed");
        }
        if events
            .send(WorkerEvent::Written { id, op, result })
            .await
            .is_err()
        {
            return;
        }
    }
}

async fn write(adapter: &RedisStateAdapter, op: &WriteOp) -> Result<WriteOutcome, String> {
    use motia_state::CasOutcome;
    let e = |e: motia_state::Error| e.to_string();
    match op {
        WriteOp::Save {
            full_key,
            expected,
            text,
        } => match adapter
            .compare_and_set_full(full_key, expected.as_deref(), text)
            .await
            .map_err(e)?
        {
            CasOutcome::Written => Ok(WriteOutcome::Saved),
            CasOutcome::Conflict(now) => Ok(WriteOutcome::Conflict(now)),
        },
        WriteOp::Expire { full_keys, expiry } => adapter
            .expire_keys(full_keys, *expiry)
            .await
            .map(WriteOutcome::Expired)
            .map_err(e),
        WriteOp::Unlink { full_keys } => adapter
            .unlink_keys(full_keys)
            .await
            .map(WriteOutcome::Unlinked)
            .map_err(e),
        WriteOp::Export { path, trace } => {
            let doc = motia_state::export::export(adapter, trace.as_deref(), |_, _| {})
                .await
                .map_err(e)?;
            let n = doc.items.len() as u64;
            let text = doc.to_pretty_string();
            let target = path.clone();
            tokio::task::spawn_blocking(move || std::fs::write(&target, text))
                .await
                .map_err(|err| format!("writing the file failed: {err}"))?
                .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
            Ok(WriteOutcome::Exported(n))
        }
        WriteOp::Import { path } => {
            let text = tokio::fs::read_to_string(path)
                .await
                .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
            let doc = motia_state::export::ExportDocument::parse(&text)
                .map_err(|err| format!("{}: {err}", path.display()))?;
            let report = motia_state::export::import(adapter, &doc, false, |_, _| {})
                .await
                .map_err(e)?;
            Ok(WriteOutcome::Imported(report.written))
        }
    }
}

/// Reads the values of `full_keys` with MGET and keeps the keys whose JSON value matches.
async fn run_where(
    adapter: RedisStateAdapter,
    id: u64,
    full_keys: Vec<String>,
    filter: motia_state::StateFilter,
    events: Events,
) {
    let result = match adapter.get_raw_many_full(&full_keys).await {
        Ok(values) => Ok(full_keys
            .into_iter()
            .zip(values)
            .filter(|(_, v)| {
                v.as_deref()
                    .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
                    .is_some_and(|v| filter.matches(&v))
            })
            .map(|(k, _)| k)
            .collect()),
        Err(e) => Err(e.to_string()),
    };
    let _ = events.send(WorkerEvent::WhereResult { id, result }).await;
}
