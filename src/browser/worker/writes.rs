//! Writes, one at a time in the order the user made them, each reported with its outcome.

use motia_state::adapter::journal::After;
use motia_state::adapter::layout::iii_export::{document_layout, layout_words};
use motia_state::{Layout, RedisStateAdapter};
use tokio::sync::mpsc;

use crate::browser::action::SessionEntry;
use crate::browser::action::{WorkerEvent, WriteOp, WriteOutcome};
use crate::browser::worker::{Events, raw_key};
use crate::journal::{Journal, Recorded};

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
            None => match journal_first(&adapter, &op, &events).await {
                Ok(None) => write(&adapter, &op, &events).await,
                Ok(Some(outcome)) => Ok(outcome),
                Err(e) => Err(e),
            },
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

async fn write(
    adapter: &RedisStateAdapter,
    op: &WriteOp,
    events: &Events,
) -> Result<WriteOutcome, String> {
    use motia_state::CasOutcome;
    let e = |e: motia_state::Error| e.to_string();
    match op {
        WriteOp::Save {
            full_key,
            expected,
            text,
        } => match adapter
            .compare_and_set(raw_key(full_key), expected.as_deref(), text)
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
        WriteOp::Import {
            path,
            overwrite,
            other_prefix,
        } => {
            let text = tokio::fs::read_to_string(path)
                .await
                .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
            if document_layout(&text) == Layout::Iii {
                return Err(format!(
                    "refused: {} holds {} and this connection uses the motia layout ({}); \
                     importing across layouts is not supported, nothing was written",
                    path.display(),
                    layout_words(Layout::Iii),
                    layout_words(Layout::Motia)
                ));
            }
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
            .gc_apply(
                &match crate::journal::current() {
                    Some(_) => crate::journal::after_capture(plan),
                    None => plan.as_ref().clone(),
                },
                |_, _| {},
            )
            .await
            .map(WriteOutcome::Collected)
            .map_err(e),
        WriteOp::Undo { entry } => undo(adapter, *entry, events).await,
        WriteOp::Unjournalled(op) => Box::pin(write(adapter, op, events)).await,
    }
}

/// The keys a write changes and what it leaves in them (`None`: it changes no key).
async fn changes(
    adapter: &RedisStateAdapter,
    op: &WriteOp,
) -> Result<Option<(&'static str, Vec<(Vec<u8>, After)>)>, String> {
    Ok(Some(match op {
        WriteOp::Save { full_key, text, .. } => {
            // Invalid JSON is refused by the save itself, which writes nothing.
            let Ok(compact) = motia_state::json::compact(text) else {
                return Ok(None);
            };
            (
                "save",
                vec![(raw_key(full_key), After::Value(compact.into_bytes()))],
            )
        }
        WriteOp::Expire { full_keys, .. } => (
            "expire",
            full_keys
                .iter()
                .map(|k| (raw_key(k), After::Same))
                .collect(),
        ),
        WriteOp::Unlink { full_keys } => (
            "delete",
            full_keys
                .iter()
                .map(|k| (raw_key(k), After::Absent))
                .collect(),
        ),
        WriteOp::Gc { plan } => {
            let after = match plan.action {
                motia_state::adapter::gc::GcAction::Delete => After::Absent,
                motia_state::adapter::gc::GcAction::Expire(_) => After::Same,
            };
            let keys = plan.traces.iter().flat_map(|t| t.acting_keys());
            (
                "gc",
                keys.map(|k| (k.full_key_bytes.clone(), after.clone()))
                    .collect(),
            )
        }
        WriteOp::Import {
            path,
            overwrite,
            other_prefix,
        } => {
            let Ok(text) = tokio::fs::read_to_string(path).await else {
                return Ok(None);
            };
            // An iii document is refused by the import itself: nothing to journal.
            if document_layout(&text) == Layout::Iii {
                return Ok(None);
            }
            let Ok(doc) = motia_state::export::ExportDocument::parse(&text) else {
                return Ok(None);
            };
            if doc.prefix != adapter.key_space().prefix() && !*other_prefix {
                return Ok(None);
            }
            let changes = crate::journal::import_changes(adapter.key_space().prefix(), &doc);
            if !*overwrite {
                // The import refuses when a key exists, writing nothing.
                let keys: Vec<&[u8]> = changes.iter().map(|(k, _)| k.as_slice()).collect();
                let images = adapter
                    .before_images(&keys)
                    .await
                    .map_err(|e| e.to_string())?;
                if images.iter().any(Option::is_some) {
                    return Ok(None);
                }
            }
            ("import", changes)
        }
        WriteOp::Export { .. } | WriteOp::Undo { .. } | WriteOp::Unjournalled(_) => {
            return Ok(None);
        }
    }))
}

/// Journals a write before it is made, and tells the UI. `Some`: the write must not be made
/// now (the journal cannot keep it: the user is asked).
async fn journal_first(
    adapter: &RedisStateAdapter,
    op: &WriteOp,
    events: &Events,
) -> Result<Option<WriteOutcome>, String> {
    let Some(journal) = crate::journal::current() else {
        return Ok(None);
    };
    let Some((operation, changes)) = changes(adapter, op).await? else {
        return Ok(None);
    };
    match crate::journal::record(journal, adapter, operation, changes, None).await? {
        Recorded::Kept(id) => {
            tell(journal, adapter, id, events).await;
            Ok(None)
        }
        Recorded::Nothing => Ok(None),
        Recorded::TooBig { what } => Ok(Some(WriteOutcome::NotJournalled { what })),
    }
}

/// Sends the UI the session entry of journal entry `id`.
async fn tell(journal: &Journal, adapter: &RedisStateAdapter, id: u64, events: &Events) {
    let Ok(entries) = journal.entries() else {
        return;
    };
    let Some(e) = entries.iter().rev().find(|e| e.id == id) else {
        return;
    };
    let prefix = adapter.key_space().prefix();
    let mut undo: Vec<String> = e
        .changes
        .iter()
        .take(5)
        .map(|c| crate::journal::describe_undo(c, prefix))
        .collect();
    if e.changes.len() > 5 {
        undo.push(format!("and {} more", e.changes.len() - 5));
    }
    let entry = SessionEntry {
        id,
        time: e.time.clone(),
        operation: e.operation.clone(),
        keys: crate::journal::key_list(e, 3),
        undo,
        undoes: e.undoes,
        undone: false,
    };
    let _ = events.send(WorkerEvent::Journalled(entry)).await;
}

/// Undoes journal entry `id` of this session.
async fn undo(
    adapter: &RedisStateAdapter,
    id: u64,
    events: &Events,
) -> Result<WriteOutcome, String> {
    let journal = crate::journal::current().ok_or("the journal is off (--no-journal)")?;
    let entries = journal.entries()?;
    let entry = entries
        .iter()
        .find(|e| e.id == id)
        .ok_or_else(|| format!("journal entry {id} is gone (dropped by the journal's cap)"))?;
    let report = crate::journal::undo(journal, adapter, entry).await?;
    if let Recorded::Kept(undo_id) = report.journalled {
        tell(journal, adapter, undo_id, events).await;
    }
    let prefix = adapter.key_space().prefix();
    Ok(WriteOutcome::Undone {
        restored: report.restored,
        conflicts: report
            .conflicts
            .iter()
            .map(|k| {
                motia_state::escape::name(k.strip_prefix(prefix.as_bytes()).unwrap_or(k))
                    .into_owned()
            })
            .collect(),
    })
}
