//! The scriptable subcommands. Every input is checked before connecting, so bad input and
//! `--read-only` refusals never reach Redis.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::time::Duration;

use motia_state::adapter::journal::After;
use motia_state::export::{self, ExportData, ExportDocument};
use motia_state::{Config, Error, Expiry, KeySpace, RedisStateAdapter, Ttl, escape, json};

use crate::browser::format::noun;
use crate::cli::Command;
use crate::cli::journal::before_write;
use crate::cli::out::{Failure, Out, Outcome, connect, exit, json_name, warn, write_document};
use crate::cli::progress::Progress;

pub(crate) use crate::cli::input::{arg_bytes, parse_filter, read_input, refuse_if_read_only};
pub(crate) use crate::cli::out::json_name_bytes;

/// Runs one subcommand (everything but `demo`), on the layout set or detected.
pub async fn run(command: Command, config: Config) -> Outcome {
    let (command, look) = match crate::cli::iii::route(command, &config).await? {
        crate::cli::iii::Route::Iii(outcome) => return outcome,
        crate::cli::iii::Route::Motia(command, look) => (command, look),
    };
    // A listing is a view of the server: after its output, the note on iii state beside it.
    let note_config =
        (look && crate::cli::other_layout::is_listing(&command)).then(|| config.clone());
    let mut keys_seen = None;
    let keys = KeySpace::new(config.key_prefix.clone());
    let outcome = match command {
        Command::Traces {
            counts,
            json,
            all,
            status,
        } => {
            if json || all || status.is_some() {
                crate::cli::traces::list(config, json, all, status).await
            } else {
                traces(config, counts).await.map(|n| keys_seen = Some(n))
            }
        }
        Command::Trace { trace, json } => {
            crate::cli::traces::timeline(config, &arg_bytes(&trace)?, json).await
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
                Some(at) => crate::cli::restore::run(config, &trace, &key, &at, yes).await,
                None => crate::cli::traces::history(config, &trace, &key, json, reads).await,
            }
        }
        Command::Journal { json, limit } => crate::cli::journal::list(json, limit),
        Command::Undo { id, yes } => crate::cli::journal::undo(config, id, yes).await,
        Command::Keys { trace, json } => {
            let trace = arg_bytes(&trace)?;
            RedisStateAdapter::check_group(&trace)?;
            let state = connect(config).await?;
            let mut list = state.keys(&trace).await?;
            if list.is_empty() {
                return Err(Failure::no_trace(&trace));
            }
            list.sort();
            let mut out = Out::new();
            for k in &list {
                if json {
                    let mut map = serde_json::Map::new();
                    json_name(&mut map, "key", k.as_bytes());
                    out.line(&serde_json::Value::Object(map).to_string())?;
                } else {
                    out.name(k.as_bytes())?;
                    out.bytes(b"\n")?;
                }
            }
            out.done()
        }
        Command::Get { trace, key, pretty } => {
            let (trace, key) = (arg_bytes(&trace)?, arg_bytes(&key)?);
            let full = keys.full_key(&trace, &key)?;
            get(connect(config).await?, &full, (&trace, &key), pretty).await
        }
        Command::Set { trace, key, json } => {
            let (trace, key) = (arg_bytes(&trace)?, arg_bytes(&key)?);
            if key.is_empty() {
                return Err(Error::EmptyKey {
                    group: escape::name(&trace).into_owned(),
                }
                .into());
            }
            let full = keys.full_key(&trace, &key)?;
            let text = match json.as_deref() {
                Some(t) if t != "-" => t.to_string(),
                _ => read_input(None, "the JSON value")?,
            };
            // Checked before anything else: invalid JSON must never reach Redis. Stored as
            // written, only whitespace between tokens removed.
            let compact = json::compact(&text)?;
            refuse_if_read_only(&config, "set")?;
            let ttl = config.ttl.map(Duration::from_secs);
            let state = connect(config).await?;
            let after = After::Value(compact.clone().into_bytes());
            before_write(&state, "set", vec![(full.clone(), after)]).await?;
            state.set_json(&full, &compact, ttl).await?;
            Ok(())
        }
        Command::Del { trace, key } => {
            let (trace, key) = (arg_bytes(&trace)?, arg_bytes(&key)?);
            let full = keys.full_key(&trace, &key)?;
            refuse_if_read_only(&config, "del")?;
            del(connect(config).await?, &full, (&trace, &key)).await
        }
        Command::Clear { trace } => {
            let trace = arg_bytes(&trace)?;
            RedisStateAdapter::check_group(&trace)?;
            refuse_if_read_only(&config, "clear")?;
            clear(connect(config).await?, &trace).await
        }
        Command::Ttl { trace, key } => {
            let (trace, key) = (arg_bytes(&trace)?, arg_bytes(&key)?);
            let full = keys.full_key(&trace, &key)?;
            let state = connect(config).await?;
            match state.ttl(&full).await? {
                Ttl::Missing => Err(Failure::not_found(&trace, &key)),
                ttl => {
                    let mut out = Out::new();
                    out.line(&ttl.as_redis_secs().to_string())?;
                    out.done()
                }
            }
        }
        Command::Expire {
            trace,
            first,
            duration,
        } => {
            let rest: Vec<OsString> = std::iter::once(first).chain(duration).collect();
            expire(config, &keys, &trace, &rest).await
        }
        Command::Items { trace, filters } => items(config, trace, &filters).await,
        Command::Export { trace, output } => export_cmd(config, trace, output).await,
        Command::Import { file, overwrite } => import_cmd(config, file, overwrite).await,
        Command::Stats { json } => crate::cli::stats::run(config, json)
            .await
            .map(|n| keys_seen = Some(n)),
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
            crate::cli::gc::run(config, args).await
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
            crate::cli::watch::run(config, args).await
        }
        Command::Demo { .. } | Command::Completions { .. } | Command::Man => Err(Failure::new(
            exit::BAD_INPUT,
            "not a scripting subcommand (it needs no connection)",
        )),
    };
    if let Some(config) = note_config
        && outcome.is_ok()
    {
        crate::cli::other_layout::note_after_listing(&config, keys_seen).await;
    }
    outcome
}

/// Prints the trace ids (with their key counts); returns the distinct keys seen, which tells
/// [`crate::cli::other_layout`] whether anything else is on the server.
async fn traces(config: Config, counts: bool) -> Result<u64, Failure> {
    let state = connect(config).await?;
    // One counted walk either way: the counts are exact (SCAN may return a key twice) and
    // cost no more than the ids alone.
    let list = state.trace_counts().await?;
    let mut out = Out::new();
    let mut keys = 0;
    for (trace, n) in &list {
        keys += n;
        out.name(trace.as_bytes())?;
        if counts {
            out.bytes(format!("\t{n}").as_bytes())?;
        }
        out.bytes(b"\n")?;
    }
    out.done()?;
    Ok(keys)
}

async fn get(
    state: RedisStateAdapter,
    full: &[u8],
    names: (&[u8], &[u8]),
    pretty: bool,
) -> Outcome {
    let bytes = match state.get_raw(full).await? {
        // Motia reads an empty string as missing.
        Some(b) if !b.is_empty() => b,
        _ => return Err(Failure::not_found(names.0, names.1)),
    };
    let mut out = Out::new();
    if !json::is_json(&bytes) {
        warn(&format!(
            "the value of {} is not JSON; printed as stored{}",
            escape::name(full),
            if out.tty {
                ", control characters and bytes that are not UTF-8 escaped"
            } else {
                ""
            }
        ));
        out.text(&bytes)?;
        out.bytes(b"\n")?;
    } else if pretty {
        let pretty = json::pretty(&bytes).unwrap_or_default();
        out.line(&pretty)?;
    } else {
        out.text(&bytes)?;
        out.bytes(b"\n")?;
    }
    out.done()
}

async fn del(state: RedisStateAdapter, full: &[u8], names: (&[u8], &[u8])) -> Outcome {
    before_write(&state, "del", vec![(full.to_vec(), After::Absent)]).await?;
    match state.delete_raw(full).await {
        Ok(Some(old)) => {
            let mut out = Out::new();
            out.text(&old)?;
            out.bytes(b"\n")?;
            out.done()
        }
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
    let changes = full.iter().map(|k| (k.clone(), After::Absent)).collect();
    before_write(&state, "clear", changes).await?;
    let mut progress = Progress::new("deleting");
    let total = full.len() as u64;
    let mut removed = 0;
    for chunk in full.chunks(state.config().batch_size) {
        removed += state.unlink_keys(chunk).await?;
        progress.update(removed, total);
    }
    progress.finish();
    let mut out = Out::new();
    out.line(&removed.to_string())?;
    out.done()
}

async fn expire(config: Config, keys: &KeySpace, trace: &OsStr, rest: &[OsString]) -> Outcome {
    let trace = arg_bytes(trace)?;
    let (key, duration) = match rest {
        [d] => (None, d),
        [k, d] => (Some(arg_bytes(k)?), d),
        _ => {
            return Err(Failure::new(
                exit::BAD_INPUT,
                "expire takes TRACE [KEY] DURATION",
            ));
        }
    };
    let full = match &key {
        Some(k) => Some(keys.full_key(&trace, k)?),
        None => {
            RedisStateAdapter::check_group(&trace)?;
            None
        }
    };
    let expiry: Expiry = duration
        .to_str()
        .ok_or_else(|| {
            Failure::new(
                exit::BAD_INPUT,
                format!(
                    "invalid duration {duration:?}: not UTF-8; e.g. 90, 10m, 1h30m, 1d or persist"
                ),
            )
        })?
        .parse()?;
    refuse_if_read_only(&config, "expire")?;
    let state = connect(config).await?;
    let changed = match (full, key) {
        (Some(full), Some(k)) => {
            before_write(&state, "expire", vec![(full.clone(), After::Same)]).await?;
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
            let changes = full.iter().map(|k| (k.clone(), After::Same)).collect();
            before_write(&state, "expire", changes).await?;
            state.expire_keys(&full, expiry).await?
        }
    };
    let mut out = Out::new();
    out.line(&changed.to_string())?;
    out.done()
}

async fn items(config: Config, trace: Option<OsString>, filters: &[String]) -> Outcome {
    let trace = trace.as_deref().map(arg_bytes).transpose()?;
    if let Some(t) = &trace {
        RedisStateAdapter::check_group(t)?;
    }
    let filters = filters
        .iter()
        .map(|f| parse_filter(f))
        .collect::<Result<Vec<_>, _>>()?;
    let state = connect(config).await?;
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
        line.clear();
        line.push(b'{');
        json_name_bytes(&mut line, "groupId", &item.group_id_bytes);
        line.push(b',');
        json_name_bytes(&mut line, "key", &item.key_bytes);
        line.extend_from_slice(b",\"type\":\"");
        line.extend_from_slice(item.kind.as_str().as_bytes());
        line.extend_from_slice(b"\",\"value\":");
        line.extend_from_slice(item.json.as_bytes());
        line.extend_from_slice(b"}\n");
        out.bytes(&line)?;
    }
    out.done()
}

async fn export_cmd(config: Config, trace: Option<OsString>, output: Option<PathBuf>) -> Outcome {
    let trace = trace.as_deref().map(arg_bytes).transpose()?;
    if let Some(t) = &trace {
        RedisStateAdapter::check_group(t)?;
    }
    let state = connect(config).await?;
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

async fn import_cmd(config: Config, file: Option<PathBuf>, overwrite: bool) -> Outcome {
    let text = read_input(file.as_deref(), "the export document")?;
    let doc = ExportDocument::parse(&text)?;
    crate::cli::iii::check_document(&text, motia_state::Layout::Motia)?;
    refuse_if_read_only(&config, "import")?;
    if doc.prefix != config.key_prefix {
        eprintln!(
            "motia-state: note: the document was exported under the prefix \"{}\"; its items are \
written under \"{}\" (give --prefix to choose)",
            escape::name_str(&doc.prefix),
            escape::name_str(&config.key_prefix)
        );
    }
    let state = connect(config).await?;
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
