//! Writes, one at a time in the order the user made them, each reported with its outcome.

use motia_state::adapter::journal::After;
use motia_state::adapter::layout::iii_export::{document_layout, layout_words};
use motia_state::{Layout, RedisStateAdapter};
use tokio::sync::mpsc;

use crate::browser::action::SessionEntry;
use crate::browser::action::{WorkerEvent, WriteOp, WriteOutcome};
use crate::browser::worker::{Events, raw_key};
use crate::journal::{Journal, Planned, Recorded};

/// Performs writes one at a time and reports each result.
pub async fn run_writes(
    adapter: RedisStateAdapter,
    mut rx: mpsc::UnboundedReceiver<(u64, WriteOp)>,
    events: Events,
) {
    let iii = (adapter.config().layout == Some(motia_state::Layout::Iii)).then(|| adapter.iii());
    while let Some((id, op)) = rx.recv().await {
        let result = match journal_first(&adapter, iii.is_some(), &op, &events).await {
            Ok(Some(outcome)) => Ok(outcome),
            Err(e) => Err(e),
            Ok(None) => match (&iii, &op) {
                // An undo restores what the journal kept, keys or fields alike.
                (Some(_), WriteOp::Undo { entry }) => undo(&adapter, *entry, &events).await,
                (Some(iii), op) => crate::browser::worker::iii::write(iii, op).await,
                (None, op) => write(&adapter, op, &events).await,
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

/// What a write changes and what it leaves there (`None`: it changes nothing). On the iii
/// layout a model name stands for a field of a scope hash.
async fn changes(
    adapter: &RedisStateAdapter,
    iii: bool,
    op: &WriteOp,
) -> Result<Option<(&'static str, Vec<Planned>)>, String> {
    let planned = |shown: &String, after: After| -> Result<Planned, String> {
        if !iii {
            return Ok(Planned::key(raw_key(shown), after));
        }
        // A stream item is a field of its group's hash: journalled the same way (an undo puts
        // the field back; it does not PUBLISH a stream event for it).
        if let Some(item) = crate::browser::worker::streams::item(shown) {
            let item = item?;
            return Ok(Planned::field(
                item.group.key().into_bytes(),
                item.id.into_bytes(),
                after,
            ));
        }
        let (scope, field) = crate::browser::worker::iii::split(shown)
            .ok_or_else(|| format!("{shown} is not a field of a scope"))?;
        Ok(Planned::field(
            motia_state::adapter::layout::iii::scope_key(scope),
            field,
            after,
        ))
    };
    let each = |keys: &[String], after: After| -> Result<Vec<Planned>, String> {
        keys.iter().map(|k| planned(k, after.clone())).collect()
    };
    Ok(Some(match op {
        WriteOp::Save { full_key, text, .. } => {
            // Invalid JSON is refused by the save itself, which writes nothing.
            let Ok(compact) = motia_state::json::compact(text) else {
                return Ok(None);
            };
            (
                "save",
                vec![planned(full_key, After::Value(compact.into_bytes()))?],
            )
        }
        WriteOp::Expire { full_keys, .. } => ("expire", each(full_keys, After::Same)?),
        WriteOp::Unlink { full_keys } => ("delete", each(full_keys, After::Absent)?),
        // gc does not apply to the iii layout (its write says so).
        WriteOp::Gc { .. } if iii => return Ok(None),
        WriteOp::Import {
            path, overwrite, ..
        } if iii => return iii_import_changes(adapter, path, *overwrite).await,
        WriteOp::Gc { plan } => {
            let after = match plan.action {
                motia_state::adapter::gc::GcAction::Delete => After::Absent,
                motia_state::adapter::gc::GcAction::Expire(_) => After::Same,
            };
            let keys = plan.traces.iter().flat_map(|t| t.acting_keys());
            (
                "gc",
                keys.map(|k| Planned::key(k.full_key_bytes.clone(), after.clone()))
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
                let keys: Vec<&[u8]> = changes.iter().map(|c| c.key.as_slice()).collect();
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

/// The fields an iii document's import writes (none when the import will refuse: another
/// layout's document, or an existing field without `overwrite`).
async fn iii_import_changes(
    adapter: &RedisStateAdapter,
    path: &std::path::Path,
    overwrite: bool,
) -> Result<Option<(&'static str, Vec<Planned>)>, String> {
    let Ok(text) = tokio::fs::read_to_string(path).await else {
        return Ok(None);
    };
    if document_layout(&text) != Layout::Iii {
        return Ok(None);
    }
    let Ok(doc) = motia_state::adapter::layout::iii_export::IiiDocument::parse(&text) else {
        return Ok(None);
    };
    let iii = adapter.iii();
    if !overwrite {
        for item in &doc.items {
            if iii
                .get(&item.scope, &item.key)
                .await
                .map_err(|e| e.to_string())?
                .is_some()
            {
                return Ok(None);
            }
        }
    }
    let changes = doc
        .items
        .iter()
        .map(|item| {
            Planned::field(
                motia_state::adapter::layout::iii::scope_key(&item.scope),
                item.key.clone(),
                After::Value(item.stored()),
            )
        })
        .collect();
    Ok(Some(("import", changes)))
}

/// Journals a write before it is made, and tells the UI. `Some`: the write must not be made
/// now (the journal cannot keep it: the user is asked).
async fn journal_first(
    adapter: &RedisStateAdapter,
    iii: bool,
    op: &WriteOp,
    events: &Events,
) -> Result<Option<WriteOutcome>, String> {
    let Some(journal) = crate::journal::current() else {
        return Ok(None);
    };
    let Some((operation, changes)) = changes(adapter, iii, op).await? else {
        return Ok(None);
    };
    match crate::journal::record(journal, adapter, operation, changes, None).await? {
        Recorded::Kept(id) => {
            tell(journal, id, events).await;
            Ok(None)
        }
        Recorded::Nothing => Ok(None),
        Recorded::TooBig { what } => Ok(Some(WriteOutcome::NotJournalled { what })),
    }
}

/// Sends the UI the session entry of journal entry `id`.
async fn tell(journal: &Journal, id: u64, events: &Events) {
    let Ok(entries) = journal.entries() else {
        return;
    };
    let Some(e) = entries.iter().rev().find(|e| e.id == id) else {
        return;
    };
    let mut undo: Vec<String> = e
        .changes
        .iter()
        .take(5)
        .map(|c| crate::journal::describe_undo(c, &e.prefix))
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
        tell(journal, undo_id, events).await;
    }
    Ok(WriteOutcome::Undone {
        restored: report.restored,
        conflicts: report.conflicts,
    })
}
