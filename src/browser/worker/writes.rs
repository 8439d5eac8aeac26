//! Writes, one at a time in the order the user made them, each reported with its outcome.

use motia_state::RedisStateAdapter;
use tokio::sync::mpsc;

use crate::browser::action::{WorkerEvent, WriteOp, WriteOutcome};
use crate::browser::worker::{Events, raw_key};

/// Performs writes one at a time and reports each result.
pub async fn run_writes(
    adapter: RedisStateAdapter,
    mut rx: mpsc::UnboundedReceiver<(u64, WriteOp)>,
    events: Events,
) {
    let iii = (adapter.config().layout == Some(motia_state::Layout::Iii)).then(|| adapter.iii());
    while let Some((id, op)) = rx.recv().await {
        let result = match &iii {
            Some(iii) => crate::browser::worker::iii::write(iii, &op).await,
            None => write(&adapter, &op).await,
        };
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

fn raw_keys(shown: &[String]) -> Vec<Vec<u8>> {
    shown.iter().map(|k| raw_key(k)).collect()
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
            .compare_and_set_full(raw_key(full_key), expected.as_deref(), text)
            .await
            .map_err(e)?
        {
            CasOutcome::Written => Ok(WriteOutcome::Saved),
            CasOutcome::Conflict(now) => Ok(WriteOutcome::Conflict(now)),
        },
        WriteOp::Expire { full_keys, expiry } => adapter
            .expire_keys(&raw_keys(full_keys), *expiry)
            .await
            .map(WriteOutcome::Expired)
            .map_err(e),
        WriteOp::Unlink { full_keys } => adapter
            .unlink_keys(&raw_keys(full_keys))
            .await
            .map(WriteOutcome::Unlinked)
            .map_err(e),
        WriteOp::Export { path, trace } => {
            let trace = trace.as_deref().map(raw_key);
            let doc = motia_state::export::export_bytes(adapter, trace.as_deref(), |_, _| {})
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
        WriteOp::Import {
            path,
            overwrite,
            other_prefix,
        } => {
            let text = tokio::fs::read_to_string(path)
                .await
                .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
            let doc = motia_state::export::ExportDocument::parse(&text)
                .map_err(|err| format!("{}: {err}", path.display()))?;
            let ours = adapter.key_space().prefix();
            if doc.prefix != ours && !*other_prefix {
                return Ok(WriteOutcome::ImportPrefix {
                    from: doc.prefix,
                    to: ours.to_string(),
                });
            }
            let report = motia_state::export::import(adapter, &doc, *overwrite, |_, _| {})
                .await
                .map_err(|err| match err {
                    motia_state::Error::InvalidDocument(m) if m.contains("exist already") => m
                        .replace(
                            "(use overwrite to replace them)",
                            &format!("(:import {} --overwrite replaces them)", path.display()),
                        ),
                    other => other.to_string(),
                })?;
            Ok(WriteOutcome::Imported(report.written))
        }
        WriteOp::Gc { plan } => adapter
            .gc_apply(plan, |_, _| {})
            .await
            .map(WriteOutcome::Collected)
            .map_err(e),
    }
}
