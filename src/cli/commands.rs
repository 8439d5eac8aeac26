//! The scriptable subcommands. Every input is checked before connecting, so bad input and
//! `--read-only` refusals never reach Redis.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::time::Duration;

use motia_state::adapter::journal::After;
use motia_state::export::{self, ExportData, ExportDocument};
use motia_state::{Config, Error, KeySpace, RedisStateAdapter, Ttl, escape};

use crate::browser::format::noun;
use crate::cli::Command;
use crate::cli::journal::before_write;
use crate::cli::out::{
    Failure, Link, Out, Outcome, exit, item_line, json_name, print_line, print_names, print_stored,
    print_value, set_conflict, write_document,
};
use crate::cli::progress::Progress;
use crate::journal::Planned;

use crate::cli::input::{
    arg_bytes, expire_args, json_value, parse_filter, read_input, refuse_if_read_only,
    set_condition,
};

/// Runs one subcommand (everything but `demo`), on the layout set or detected, over one
/// connection opened here.
pub async fn run(command: Command, config: Config) -> Outcome {
    if let Command::Journal { json, limit } = command {
        if crate::cli::verbose() {
            eprintln!(
                "motia-state: layout: none needed (the journal is a local file; each entry names \
                 the keys or fields it changed)"
            );
        }
        return crate::cli::journal::list(json, limit);
    }
    let link = Link::open(config).await;
    let (command, link) = match crate::cli::iii::route(command, link).await? {
        crate::cli::iii::Route::Iii(outcome) => return outcome,
        crate::cli::iii::Route::Motia(command, link) => (command, *link),
    };
    let config = link.config.clone();
    let keys = KeySpace::new(config.key_prefix.clone());
    match command {
        Command::Traces {
            counts,
            json,
            all,
            status,
        } => {
            if json || all || status.is_some() {
                crate::cli::traces::list(link, json, all, status).await
            } else {
                traces(link.state()?, counts).await
            }
        }
        Command::Trace { trace, json } => {
            crate::cli::traces::timeline(link, &arg_bytes(&trace)?, json).await
        }
        Command::History {
            trace,
            key,
            json,
            reads,
            restore,
            yes,
        } => {
            let (trace, key) = (arg_bytes(&trace)?, arg_bytes(&key)?);
            match restore {
                Some(at) => crate::cli::restore::run(link, &trace, &key, &at, yes).await,
                None => crate::cli::traces::history(link, &trace, &key, json, reads).await,
            }
        }
        Command::Journal { .. } => unreachable_journal(),
        Command::Undo { id, yes } => crate::cli::journal::undo(link, id, yes).await,
        Command::Keys { trace, json } => {
            let trace = arg_bytes(&trace)?;
            RedisStateAdapter::check_group(&trace)?;
            let state = link.state()?;
            let mut list = state.keys(&trace).await?;
            if list.is_empty() {
                return Err(Failure::no_trace(&trace));
            }
            list.sort();
            let names: Vec<&[u8]> = list.iter().map(|k| k.as_bytes()).collect();
            print_names(&names, json)
        }
        Command::Get { trace, key, pretty } => {
            let (trace, key) = (arg_bytes(&trace)?, arg_bytes(&key)?);
            let full = keys.full_key(&trace, &key)?;
            let state = link.state()?;
            match state.get_raw(&full).await? {
                // Motia reads an empty string as missing.
                Some(b) if !b.is_empty() => print_value(&b, pretty, &escape::name(&full)),
                _ => Err(Failure::not_found(&trace, &key)),
            }
        }
        Command::Set {
            trace,
            key,
            json,
            if_value,
            if_absent,
        } => {
            let (trace, key) = (arg_bytes(&trace)?, arg_bytes(&key)?);
            if key.is_empty() {
                return Err(Error::EmptyKey {
                    group: escape::name(&trace).into_owned(),
                }
                .into());
            }
            let full = keys.full_key(&trace, &key)?;
            // Checked before anything else: invalid JSON must never reach Redis. Stored as
            // written, only whitespace between tokens removed.
            let (_, compact) = json_value(json.as_deref())?;
            let condition = set_condition(if_value.as_deref(), if_absent)?;
            refuse_if_read_only(&config, "set")?;
            let ttl = config.ttl.map(Duration::from_secs);
            let state = link.state()?;
            let what = format!(
                "key \"{}\" in trace \"{}\"",
                escape::name(&key),
                escape::name(&trace)
            );
            // A mismatch seen before the write is not journalled (it would be an entry
            // for a write never made); the compare-and-set below still decides.
            if let Some(expected) = &condition {
                let now = state.get_raw(&full).await?;
                if now != *expected {
                    return set_conflict(now.as_deref(), &what);
                }
            }
            let after = After::Value(compact.clone().into_bytes());
            before_write(&state, "set", vec![Planned::key(full.clone(), after)]).await?;
            let Some(expected) = condition else {
                state.set_json(&full, &compact, ttl).await?;
                return Ok(());
            };
            match state
                .compare_and_set(&full, expected.as_deref(), &compact)
                .await?
            {
                motia_state::CasOutcome::Written => Ok(()),
                motia_state::CasOutcome::Conflict(now) => set_conflict(now.as_deref(), &what),
            }
        }
        Command::Del { trace, key } => {
            let (trace, key) = (arg_bytes(&trace)?, arg_bytes(&key)?);
            let full = keys.full_key(&trace, &key)?;
            refuse_if_read_only(&config, "del")?;
            del(link.state()?, &full, (&trace, &key)).await
        }
        Command::Clear { trace } => {
            let trace = arg_bytes(&trace)?;
            RedisStateAdapter::check_group(&trace)?;
            refuse_if_read_only(&config, "clear")?;
            clear(link.state()?, &trace).await
        }
        Command::Ttl { trace, key } => {
            let (trace, key) = (arg_bytes(&trace)?, arg_bytes(&key)?);
            let full = keys.full_key(&trace, &key)?;
            match link.state()?.ttl(&full).await? {
                Ttl::Missing => Err(Failure::not_found(&trace, &key)),
                ttl => print_line(&ttl.as_redis_secs().to_string()),
            }
        }
        Command::Expire {
            trace,
            first,
            duration,
        } => expire(link, &keys, &trace, &first, duration.as_deref()).await,
        Command::Items { trace, filters } => items(link, trace, &filters).await,
        Command::Export { trace, output } => export_cmd(link, trace, output).await,
        Command::Import { file, overwrite } => import_cmd(link, file, overwrite).await,
        Command::Stats { json } => crate::cli::stats::run(link.state()?, json).await,
        Command::Gc {
            older_than,
            status,
            no_records,
            no_ttl,
            expire,
            delete,
            yes,
        } => {
            let args = motia_state::adapter::gc::GcFlags {
                older_than,
                status,
                no_records,
                no_ttl,
                expire,
                delete,
                yes,
            };
            crate::cli::gc::run(link, args).await
        }
        Command::Watch {
            trace,
            key,
            values,
            enable_notifications,
        } => {
            let args = crate::cli::watch::WatchArgs {
                trace: trace
                    .as_deref()
                    .map(arg_bytes)
                    .transpose()?
                    .map(Cow::into_owned),
                key: key
                    .as_deref()
                    .map(arg_bytes)
                    .transpose()?
                    .map(Cow::into_owned),
                values,
                enable_notifications,
                iii: false,
            };
            crate::cli::watch::run(link, args).await
        }
        Command::Demo { .. } | Command::Completions { .. } | Command::Man => Err(Failure::new(
            exit::BAD_INPUT,
            "not a scripting subcommand (it needs no connection)",
        )),
    }
}

/// `journal` never opens a connection: [`run`] answers it first.
fn unreachable_journal() -> Outcome {
    Err(Failure::new(
        exit::BAD_INPUT,
        "journal reads no state (a local file)",
    ))
}

async fn traces(state: RedisStateAdapter, counts: bool) -> Outcome {
    let list: Vec<(Vec<u8>, Option<u64>)> = if counts {
        state
            .trace_counts()
            .await?
            .into_iter()
            .map(|(t, n)| (t.into_bytes(), Some(n)))
            .collect()
    } else {
        let mut ids = state.trace_ids().await?;
        ids.sort();
        ids.into_iter().map(|t| (t.into_bytes(), None)).collect()
    };
    let mut out = Out::new();
    for (trace, n) in &list {
        out.name(trace)?;
        if let Some(n) = n {
            out.bytes(format!("\t{n}").as_bytes())?;
        }
        out.bytes(b"\n")?;
    }
    out.done()
}

async fn del(state: RedisStateAdapter, full: &[u8], names: (&[u8], &[u8])) -> Outcome {
    before_write(&state, "del", vec![Planned::key(full, After::Absent)]).await?;
    match state.delete_raw(full).await {
        Ok(Some(old)) => print_stored(&old),
        Ok(None) => Err(Failure::not_found(names.0, names.1)),
        // Listed by `keys`, removed by `clear` and by the browser: `del` removes it too, and
        // says what it was since there is no value to print.
        Err(Error::WrongType { found, .. }) => {
            if state.unlink_keys(&[full]).await? == 0 {
                return Err(Failure::not_found(names.0, names.1));
            }
            eprintln!(
                "motia-state: deleted {}, a Redis {found} (not a state value, so nothing is printed)",
                escape::name(full)
            );
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

async fn clear(state: RedisStateAdapter, trace: &[u8]) -> Outcome {
    let mut progress = Progress::new("scanning");
    let mut scan = state.scan_group(trace)?;
    let mut full = Vec::new();
    while let Some(page) = scan.next_page().await? {
        full.extend(page);
        progress.update(full.len() as u64, 0);
    }
    progress.finish();
    if full.is_empty() {
        return Err(Failure::no_trace(trace));
    }
    let changes = full
        .iter()
        .map(|k| Planned::key(k.clone(), After::Absent))
        .collect();
    before_write(&state, "clear", changes).await?;
    let mut progress = Progress::new("deleting");
    let total = full.len() as u64;
    let mut removed = 0;
    for chunk in full.chunks(state.config().batch_size) {
        removed += state.unlink_keys(chunk).await?;
        progress.update(removed, total);
    }
    progress.finish();
    print_line(&removed.to_string())
}

async fn expire(
    link: Link,
    keys: &KeySpace,
    trace: &OsStr,
    first: &OsStr,
    duration: Option<&OsStr>,
) -> Outcome {
    let trace = arg_bytes(trace)?;
    let (key, expiry) = expire_args(first, duration)?;
    let full = match &key {
        Some(k) => Some(keys.full_key(&trace, k)?),
        None => {
            RedisStateAdapter::check_group(&trace)?;
            None
        }
    };
    refuse_if_read_only(&link.config, "expire")?;
    let state = link.state()?;
    let changed = match (full, key) {
        (Some(full), Some(k)) => {
            before_write(
                &state,
                "expire",
                vec![Planned::key(full.clone(), After::Same)],
            )
            .await?;
            if state.expire(&full, expiry).await? {
                1
            } else if state.ttl(&full).await? == Ttl::Missing {
                return Err(Failure::not_found(&trace, &k));
            } else {
                // `persist` on a key without expiry changes nothing.
                0
            }
        }
        _ => {
            let full = state.scan_group(&trace)?.collect_all().await?;
            if full.is_empty() {
                return Err(Failure::no_trace(&trace));
            }
            let changes = full
                .iter()
                .map(|k| Planned::key(k.clone(), After::Same))
                .collect();
            before_write(&state, "expire", changes).await?;
            state.expire_keys(&full, expiry).await?
        }
    };
    print_line(&changed.to_string())
}

async fn items(link: Link, trace: Option<OsString>, filters: &[String]) -> Outcome {
    let trace = trace.as_deref().map(arg_bytes).transpose()?;
    if let Some(t) = &trace {
        RedisStateAdapter::check_group(t)?;
    }
    let filters = filters
        .iter()
        .map(|f| parse_filter(f))
        .collect::<Result<Vec<_>, _>>()?;
    let state = link.state()?;
    if filters.is_empty() {
        return items_as_stored(&state, trace.as_deref()).await;
    }
    let mut progress = Progress::new("reading items");
    let mut with = state.items_with().filters(filters);
    if let Some(t) = &trace {
        with = with.group(t);
    }
    let report = with
        .on_progress(|done, total| progress.update(done, total))
        .report()
        .await?;
    progress.finish();
    let (mut items, skipped) = (report.items, report.not_json);
    for k in &skipped {
        eprintln!("motia-state: skipped {k}: the value is not JSON");
    }
    items.sort_by(|a, b| (&a.group_id_bytes, &a.key_bytes).cmp(&(&b.group_id_bytes, &b.key_bytes)));
    let mut out = Out::new();
    for item in &items {
        let mut map = serde_json::Map::new();
        json_name(&mut map, "groupId", &item.group_id_bytes);
        json_name(&mut map, "key", &item.key_bytes);
        map.insert("type".into(), item.kind.as_str().into());
        map.insert("value".into(), item.value.clone());
        let line = serde_json::to_string(&map)
            .map_err(|e| Failure::new(exit::SERVER, format!("cannot encode {}: {e}", item.key)))?;
        out.line(&line)?;
    }
    out.done()
}

/// `items` without filters: every value validated and written through as stored, never parsed
/// into a tree and printed back (the same lines, at the cost of a copy).
async fn items_as_stored(state: &RedisStateAdapter, trace: Option<&[u8]>) -> Outcome {
    let mut progress = Progress::new("reading items");
    let mut with = state.items_with().raw();
    if let Some(t) = trace {
        with = with.group(t);
    }
    let report = with
        .on_progress(|done, total| progress.update(done, total))
        .report()
        .await?;
    progress.finish();
    let (mut items, skipped) = (report.items, report.not_json);
    for k in &skipped {
        eprintln!("motia-state: skipped {k}: the value is not JSON");
    }
    items.sort_unstable_by(|a, b| {
        (&a.group_id_bytes, &a.key_bytes).cmp(&(&b.group_id_bytes, &b.key_bytes))
    });
    let mut out = Out::new();
    let mut line = Vec::with_capacity(4096);
    for item in &items {
        item_line(
            &mut line,
            &item.group_id_bytes,
            &item.key_bytes,
            item.kind.as_str(),
            &item.json,
        );
        out.bytes(&line)?;
    }
    out.done()
}

async fn export_cmd(link: Link, trace: Option<OsString>, output: Option<PathBuf>) -> Outcome {
    let trace = trace.as_deref().map(arg_bytes).transpose()?;
    if let Some(t) = &trace {
        RedisStateAdapter::check_group(t)?;
    }
    let state = link.state()?;
    let mut progress = Progress::new("exporting");
    let doc = export::export(&state, trace.as_deref(), |done, total| {
        progress.update(done, total)
    })
    .await?;
    progress.finish();
    let prefix = state.key_space().prefix();
    for item in doc.unusual() {
        let full = escape::name(&[prefix.as_bytes(), &item.name].concat()).into_owned();
        match &item.data {
            ExportData::Other { redis_type, .. } => eprintln!(
                "motia-state: {full} is a Redis {redis_type}, not a state value: exported with its \
type and DUMP serialization"
            ),
            _ => eprintln!(
                "motia-state: {full} is not a {{traceId}}:{{key}} name: exported as \"name\""
            ),
        }
    }
    let mut text = doc.to_pretty_string();
    text.push('\n');
    write_document(output.as_deref(), &text, doc.items.len() as u64)
}

async fn import_cmd(link: Link, file: Option<PathBuf>, overwrite: bool) -> Outcome {
    let config = &link.config;
    let text = read_input(file.as_deref(), "the export document")?;
    let doc = ExportDocument::parse(&text)?;
    crate::cli::iii_export::check_document(&text, motia_state::Layout::Motia)?;
    refuse_if_read_only(config, "import")?;
    if doc.prefix != config.key_prefix {
        eprintln!(
            "motia-state: note: the document was exported under the prefix \"{}\"; its items are \
written under \"{}\" (give --prefix to choose)",
            escape::name_str(&doc.prefix),
            escape::name_str(&config.key_prefix)
        );
    }
    let state = link.state()?;
    crate::cli::journal::before_import(&state, &doc, overwrite).await?;
    let mut progress = Progress::new("importing");
    let report = export::import(&state, &doc, overwrite, |done, total| {
        progress.update(done, total)
    })
    .await?;
    progress.finish();
    let traces: BTreeSet<&[u8]> = doc.items.iter().filter_map(|i| i.group_id()).collect();
    let mut out = Out::new();
    let (n, t, r) = (report.written, traces.len() as u64, report.overwritten);
    out.line(&format!(
        "imported {n} {} in {t} {} ({r} replaced existing {})",
        noun(n, "item", "items"),
        noun(t, "trace", "traces"),
        noun(r, "key", "keys"),
    ))?;
    out.done()
}
