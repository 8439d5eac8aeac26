//! The CLI's side of the write journal: journalling each write before it is made, and the
//! `journal` and `undo` subcommands.

use std::io::IsTerminal;

use motia_state::export::ExportDocument;
use motia_state::{Config, RedisStateAdapter};

use crate::browser::format::noun;
use crate::cli::out::{Failure, Link, Out, exit, json_name};
use crate::journal::{Entry, Journal, Planned, RecordError, Recorded, describe_undo, record};

type Outcome = Result<(), Failure>;

/// Turns the journal on or off for this run.
pub fn configure(on: bool) -> Result<(), Failure> {
    crate::journal::configure(on).map_err(|m| Failure::new(exit::BAD_INPUT, m))
}

/// The journal, when it is on.
pub fn current() -> Option<&'static Journal> {
    crate::journal::current()
}

/// Journals a write before it is made: the before-image of each key (`full key`, what the write
/// leaves). Refuses the write when the journal cannot be written. A write whose before-images
/// exceed the journal's cap is refused unless `confirmed` (the command runs with `--yes`): then
/// it goes ahead, saying that it cannot be undone.
pub async fn before_write(
    state: &RedisStateAdapter,
    operation: &str,
    changes: Vec<Planned>,
) -> Result<Option<u64>, Failure> {
    before_write_confirmed(state, operation, changes, false, None).await
}

/// [`before_write`] for commands that run under `--yes`, or that undo entry `undoes`.
pub async fn before_write_confirmed(
    state: &RedisStateAdapter,
    operation: &str,
    changes: Vec<Planned>,
    confirmed: bool,
    undoes: Option<u64>,
) -> Result<Option<u64>, Failure> {
    let Some(journal) = current() else {
        return Ok(None);
    };
    let recorded = record(journal, state, operation, changes, undoes)
        .await
        .map_err(|e| match e {
            // The status the write itself would have had (a server refusal is 3).
            RecordError::Server(err) => {
                let f = Failure::from(err);
                Failure::new(
                    f.code,
                    format!(
                        "cannot journal the write ({}); nothing was changed (give --no-journal \
                         to write without it)",
                        f.message
                    ),
                )
            }
            RecordError::File(m) => {
                Failure::new(exit::BAD_INPUT, format!("{m}; nothing was changed"))
            }
        })?;
    match recorded {
        Recorded::Kept(id) => {
            if std::io::stderr().is_terminal() {
                eprintln!("motia-state: journalled as {id} (motia-state undo {id} reverts it)");
            }
            Ok(Some(id))
        }
        Recorded::Nothing => Ok(None),
        Recorded::TooBig { what } => {
            if confirmed {
                eprintln!("motia-state: {what}; going ahead as --yes asks");
                Ok(None)
            } else {
                Err(Failure::new(
                    exit::BAD_INPUT,
                    format!(
                        "{what}; nothing was changed (give --no-journal to write without it, or \
                         raise MOTIA_STATE_JOURNAL_MAX)"
                    ),
                ))
            }
        }
    }
}

fn journal_or_fail() -> Result<&'static Journal, Failure> {
    current().ok_or_else(|| {
        Failure::new(
            exit::BAD_INPUT,
            "the journal is off (--no-journal or the profile's journal = false)",
        )
    })
}

fn read_entries(journal: &Journal) -> Result<Vec<Entry>, Failure> {
    journal
        .entries()
        .map_err(|m| Failure::new(exit::BAD_INPUT, m))
}

/// `motia-state journal`: the entries, oldest first (the newest `limit`).
pub fn list(json: bool, limit: Option<usize>) -> Outcome {
    let journal = journal_or_fail()?;
    let entries = read_entries(journal)?;
    let skip = limit.map_or(0, |n| entries.len().saturating_sub(n));
    let mut out = Out::new();
    for e in &entries[skip..] {
        if json {
            let keys: Vec<serde_json::Value> = e
                .changes
                .iter()
                .map(|c| {
                    let mut map = serde_json::Map::new();
                    json_name(&mut map, "key", &c.full_key);
                    if let Some(f) = &c.field {
                        json_name(&mut map, "field", f);
                    }
                    serde_json::Value::Object(map)
                })
                .collect();
            let line = serde_json::json!({
                "id": e.id,
                "time": e.time,
                "server": e.server,
                "db": e.db,
                "prefix": e.prefix,
                "operation": e.operation,
                "undoes": e.undoes,
                "keys": keys,
            });
            out.line(&line.to_string())?;
        } else {
            let undoes = e.undoes.map(|n| format!(" of {n}")).unwrap_or_default();
            out.line(&format!(
                "{}\t{}\t{}\t{}{undoes}\t{}",
                e.id,
                e.time,
                e.server,
                e.operation,
                crate::journal::key_list(e, 5)
            ))?;
        }
    }
    out.done()
}

/// The entry `undo` without an id takes: the newest write to this server that is no undo and
/// was not undone.
pub fn newest_undoable<'a>(entries: &'a [Entry], config: &Config) -> Option<&'a Entry> {
    let undone: Vec<u64> = entries.iter().filter_map(|e| e.undoes).collect();
    entries
        .iter()
        .rev()
        .find(|e| e.same_server(config) && e.undoes.is_none() && !undone.contains(&e.id))
}

/// `motia-state undo [ID] [--yes]`: a dry run without `--yes`.
pub async fn undo(link: Link, id: Option<u64>, yes: bool) -> Outcome {
    let config = &link.config;
    let journal = journal_or_fail()?;
    if yes && config.read_only {
        return Err(Failure::new(
            exit::BAD_INPUT,
            "refused: undo --yes writes to Redis and --read-only is given; nothing was changed \
             (drop --yes for a dry run)",
        ));
    }
    let entries = read_entries(journal)?;
    let entry = match id {
        Some(id) => entries.iter().find(|e| e.id == id).ok_or_else(|| {
            Failure::new(
                exit::NOT_FOUND,
                format!("no journal entry {id} (motia-state journal lists them)"),
            )
        })?,
        None => newest_undoable(&entries, config).ok_or_else(|| {
            Failure::new(
                exit::NOT_FOUND,
                format!(
                    "nothing to undo on {} db {}",
                    config.display_url(),
                    config.database
                ),
            )
        })?,
    };
    if !entry.same_server(config) {
        return Err(Failure::new(
            exit::BAD_INPUT,
            format!(
                "journal entry {} was written to {} (db {}), not to {} (db {}); connect there \
                 with --url to undo it",
                entry.id,
                entry.server,
                entry.db,
                config.display_url(),
                config.database
            ),
        ));
    }
    let mut out = Out::new();
    if !yes {
        out.line(&format!(
            "undo of {} ({} at {}) would:",
            entry.id, entry.operation, entry.time
        ))?;
        for c in &entry.changes {
            out.line(&format!("  {}", describe_undo(c, &entry.prefix)))?;
        }
        out.line("dry run: nothing was changed; add --yes to apply")?;
        return out.done();
    }
    let state = link.state()?;
    let report = crate::journal::undo(journal, &state, entry)
        .await
        .map_err(|m| Failure::new(exit::SERVER, format!("{m}; nothing was changed")))?;
    if let Recorded::TooBig { what } = &report.journalled {
        eprintln!("motia-state: {what}; going ahead as --yes asks");
    }
    report_undo(&mut out, &report)?;
    out.done()
}

fn report_undo(out: &mut Out, report: &crate::journal::UndoReport) -> Outcome {
    let n = report.restored;
    out.line(&format!("restored {n} {}", noun(n, "key", "keys")))?;
    if !report.conflicts.is_empty() {
        let n = report.conflicts.len() as u64;
        out.line(&format!(
            "left {n} {} as {} (changed since the write):",
            noun(n, "key", "keys"),
            noun(n, "it is", "they are")
        ))?;
        for k in &report.conflicts {
            out.line(&format!("  {k}"))?;
        }
    }
    Ok(())
}

/// What an import leaves in each key, journalled before it writes. Without `overwrite` an
/// import that would replace a key is refused by the import itself, so it is not journalled.
pub async fn before_import(
    state: &RedisStateAdapter,
    doc: &ExportDocument,
    overwrite: bool,
) -> Result<(), Failure> {
    if current().is_none() {
        return Ok(());
    }
    let changes = crate::journal::import_changes(state.key_space().prefix(), doc);
    if !overwrite {
        let keys: Vec<&[u8]> = changes.iter().map(|c| c.key.as_slice()).collect();
        let exists = state
            .before_images(&keys)
            .await?
            .iter()
            .any(Option::is_some);
        if exists {
            return Ok(());
        }
    }
    before_write_confirmed(state, "import", changes, false, None).await?;
    Ok(())
}
