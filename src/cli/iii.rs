//! The subcommands on the iii layout (Motia 1.x / iii engine: one `state:{scope}` hash per
//! scope), and the choice of layout before any subcommand runs. Writes are journalled field by
//! field, as the 0.x commands journal keys.

use std::ffi::OsString;

use motia_state::adapter::journal::After;
use motia_state::adapter::layout::iii::scope_key;
use motia_state::{CasOutcome, Expiry, IiiState, Layout, RawItem, Ttl, escape};

use crate::cli::Command;
use crate::cli::input::{
    arg_bytes, expire_args, json_value, parse_filter, refuse_if_read_only, set_condition,
};
use crate::cli::journal::before_write;
use crate::cli::out::{
    Failure, Link, Out, Outcome, exit, item_line, json_name, print_line, print_names, print_stored,
    print_value, set_conflict,
};
use crate::cli::progress::Progress;
use crate::journal::Planned;

/// Where a subcommand goes: done on the iii layout, or on to the 0.x code with the connection.
pub(crate) enum Route {
    Iii(Outcome),
    /// With whether iii state is still to be looked for (detection deferred it).
    Motia(Command, Box<Link>, bool),
}

/// Picks the layout (the setting, else what the server holds, read over the command's own
/// connection) and runs `command` on the iii layout when that is the one. A 0.x run is told
/// when iii state exists beside it.
pub(crate) async fn route(command: Command, link: Link) -> Result<Route, Failure> {
    let verbose = crate::cli::verbose();
    let Some(state) = link.adapter() else {
        if link.config.layout == Some(Layout::Iii) {
            return Err(link.state().err().unwrap_or_else(|| {
                Failure::new(exit::SERVER, "no connection to detect the layout on")
            }));
        }
        // The 0.x code reports input errors before connection errors: let it.
        if verbose {
            eprintln!("motia-state: layout not detected: no connection");
        }
        return Ok(Route::Motia(command, Box::new(link), false));
    };
    let detection = match state.detect_layout().await {
        Ok(d) => d,
        Err(e) if link.config.layout != Some(Layout::Iii) => {
            if verbose {
                eprintln!("motia-state: layout Motia 0.x: detection failed ({e})");
            }
            return Ok(Route::Motia(command, Box::new(link), false));
        }
        Err(e) => return Err(e.into()),
    };
    if verbose {
        let name = match detection.layout {
            Layout::Motia => "Motia 0.x (strings under the prefix)",
            Layout::Iii => "Motia 1.x / iii (state:{scope} hashes)",
        };
        eprintln!("motia-state: layout {name}: {}", detection.reason);
        if !detection.other_looked_for && !crate::cli::other_layout::is_listing(&command) {
            eprintln!(
                "motia-state: iii state (state:* hashes): not looked for (a single-key command \
                 walks no keyspace; the listing commands look after their output)"
            );
        }
    }
    if let Some(note) = &detection.note {
        eprintln!("motia-state: note: {note}");
    }
    if detection.layout == Layout::Motia {
        let look = !detection.other_looked_for;
        return Ok(Route::Motia(command, Box::new(link), look));
    }
    Ok(Route::Iii(run(command, link).await))
}

fn unsupported(what: &str) -> Failure {
    Failure::new(exit::BAD_INPUT, what)
}

const NO_TRACES: &str = "the iii layout keeps no trace records in Redis: the iii engine keeps \
                         traces as OpenTelemetry spans in the engine (its console or OTLP \
                         exporter shows them)";

fn no_field(scope: &[u8], key: &[u8]) -> Failure {
    Failure::new(
        exit::NOT_FOUND,
        format!(
            "no key \"{}\" in scope \"{}\"",
            escape::name(key),
            escape::name(scope)
        ),
    )
}

fn no_scope(scope: &[u8]) -> Failure {
    Failure::new(
        exit::NOT_FOUND,
        format!("no scope \"{}\" (it has no keys)", escape::name(scope)),
    )
}

fn os(arg: &std::ffi::OsStr) -> Result<Vec<u8>, Failure> {
    Ok(arg_bytes(arg)?.into_owned())
}

/// The journal's name for fields of a scope, each left as `after`.
fn planned<K: AsRef<[u8]>>(scope: &[u8], keys: &[K], after: &After) -> Vec<Planned> {
    keys.iter()
        .map(|k| Planned::field(scope_key(scope), k.as_ref(), after.clone()))
        .collect()
}

async fn run(command: Command, link: Link) -> Outcome {
    let config = link.config.clone();
    let state = link.state()?;
    let iii = state.iii();
    match command {
        Command::Traces {
            status: Some(_), ..
        } => Err(unsupported(&format!(
            "--status does not apply: {NO_TRACES}"
        ))),
        Command::Traces { counts, json, .. } => scopes(&iii, counts, json).await,
        Command::Trace { .. } | Command::History { .. } => Err(unsupported(NO_TRACES)),
        // The journal's entries name their fields: undo is the same on both layouts.
        Command::Undo { id, yes } => {
            crate::cli::journal::undo(Link::from_state(config, state), id, yes).await
        }
        Command::Journal { .. } | Command::Completions { .. } | Command::Man => {
            Err(unsupported("this command reads no state"))
        }
        Command::Gc { .. } => Err(unsupported(
            "gc does not apply to the iii layout: it has no trace records to age state by and \
             the engine sets no TTL (use clear SCOPE or del SCOPE KEY)",
        )),
        Command::Keys { trace, json } => {
            let scope = os(&trace)?;
            let keys = iii.keys(&scope).await?;
            if keys.is_empty() {
                return Err(no_scope(&scope));
            }
            print_names(&keys, json)
        }
        Command::Get { trace, key, pretty } => {
            let (scope, key) = (os(&trace)?, os(&key)?);
            let Some(bytes) = iii.get(&scope, &key).await? else {
                return Err(no_field(&scope, &key));
            };
            let what = format!("{}:{}", escape::name(&scope), escape::name(&key));
            print_value(&bytes, pretty, &what)
        }
        Command::Set {
            trace,
            key,
            json,
            if_value,
            if_absent,
        } => {
            let (scope, key) = (os(&trace)?, os(&key)?);
            let (_, compact) = json_value(json.as_deref())?;
            let condition = set_condition(if_value.as_deref(), if_absent)?;
            if config.ttl.is_some() {
                return Err(unsupported(
                    "the iii layout has no TTL on writes (the engine sets none); leave out \
                     --ttl and STATE_TTL (a field's expiry: expire SCOPE KEY DURATION)",
                ));
            }
            refuse_if_read_only(&config, "set")?;
            let what = format!(
                "key \"{}\" in scope \"{}\"",
                escape::name(&key),
                escape::name(&scope)
            );
            // A mismatch seen before the write is not journalled; the compare-and-set decides.
            if let Some(expected) = &condition {
                let now = iii.get(&scope, &key).await?;
                if now != *expected {
                    return set_conflict(now.as_deref(), &what);
                }
            }
            let after = After::Value(compact.clone().into_bytes());
            before_write(&state, "set", planned(&scope, &[&key], &after)).await?;
            let Some(expected) = condition else {
                iii.set(&scope, &key, &compact).await?;
                return Ok(());
            };
            match iii
                .compare_and_set(&scope, &key, expected.as_deref(), &compact)
                .await?
            {
                CasOutcome::Written => Ok(()),
                CasOutcome::Conflict(now) => set_conflict(now.as_deref(), &what),
            }
        }
        Command::Del { trace, key } => {
            let (scope, key) = (os(&trace)?, os(&key)?);
            refuse_if_read_only(&config, "del")?;
            before_write(&state, "del", planned(&scope, &[&key], &After::Absent)).await?;
            match iii.delete(&scope, &key).await? {
                Some(old) => print_stored(&old),
                None => Err(no_field(&scope, &key)),
            }
        }
        Command::Clear { trace } => {
            let scope = os(&trace)?;
            refuse_if_read_only(&config, "clear")?;
            // Every field is journalled, so an undo of the clear restores them all.
            let keys = iii.keys(&scope).await?;
            before_write(&state, "clear", planned(&scope, &keys, &After::Absent)).await?;
            match iii.clear(&scope).await? {
                0 => Err(no_scope(&scope)),
                n => print_line(&n.to_string()),
            }
        }
        Command::Ttl { trace, key } => {
            let (scope, key) = (os(&trace)?, os(&key)?);
            match iii.ttl(&scope, &key).await? {
                Ttl::Missing => Err(no_field(&scope, &key)),
                ttl => print_line(&ttl.as_redis_secs().to_string()),
            }
        }
        Command::Expire {
            trace,
            first,
            duration,
        } => {
            let scope = os(&trace)?;
            let (key, expiry) = expire_args(&first, duration.as_deref())?;
            refuse_if_read_only(&config, "expire")?;
            expire(&iii, &scope, key, expiry).await
        }
        Command::Items { trace, filters } => items(&iii, trace, &filters).await,
        Command::Export { trace, output } => {
            let scopes = chosen(&iii, trace).await?;
            crate::cli::iii_export::export(&iii, &scopes, output).await
        }
        Command::Import { file, overwrite } => {
            crate::cli::iii_export::import(&iii, &config, file, overwrite).await
        }
        Command::Stats { json } => crate::cli::iii_stats::run(&iii, json).await,
        Command::Watch {
            trace,
            key,
            values,
            enable_notifications,
        } => {
            let args = crate::cli::watch::WatchArgs {
                trace: trace.as_deref().map(os).transpose()?,
                key: key.as_deref().map(os).transpose()?,
                values,
                enable_notifications,
                iii: true,
            };
            crate::cli::watch::run(Link::from_state(config, state), args).await
        }
        Command::Demo { .. } => Err(Failure::new(
            exit::BAD_INPUT,
            "demo is not a scripting subcommand",
        )),
    }
}

async fn scopes(iii: &IiiState, counts: bool, json: bool) -> Outcome {
    let list = iii.scopes().await?;
    let counts = if counts || json {
        Some(iii.field_counts(&list).await?)
    } else {
        None
    };
    let mut out = Out::new();
    for (i, scope) in list.iter().enumerate() {
        let n = counts.as_ref().and_then(|c| c.get(i)).copied();
        if json {
            let mut map = serde_json::Map::new();
            json_name(&mut map, "scope", scope);
            map.insert("keys".into(), n.unwrap_or(0).into());
            out.line(&serde_json::Value::Object(map).to_string())?;
            continue;
        }
        out.name(scope)?;
        if let Some(n) = n {
            out.bytes(format!("\t{n}").as_bytes())?;
        }
        out.bytes(b"\n")?;
    }
    out.done()
}

async fn expire(iii: &IiiState, scope: &[u8], key: Option<Vec<u8>>, expiry: Expiry) -> Outcome {
    let state = iii.adapter();
    let changed = match &key {
        Some(k) => {
            before_write(state, "expire", planned(scope, &[k], &After::Same)).await?;
            let n = iii.expire(scope, &[k], expiry).await?;
            if n == 0 && iii.ttl(scope, k).await? == Ttl::Missing {
                return Err(no_field(scope, k));
            }
            n
        }
        None => {
            let keys = iii.keys(scope).await?;
            if keys.is_empty() {
                return Err(no_scope(scope));
            }
            before_write(state, "expire", planned(scope, &keys, &After::Same)).await?;
            iii.expire(scope, &keys, expiry).await?
        }
    };
    print_line(&changed.to_string())
}

/// The scopes to read: one, or all.
pub(crate) async fn chosen(
    iii: &IiiState,
    trace: Option<OsString>,
) -> Result<Vec<Vec<u8>>, Failure> {
    Ok(match trace {
        Some(t) => vec![os(&t)?],
        None => iii.scopes().await?,
    })
}

async fn items(iii: &IiiState, trace: Option<OsString>, filters: &[String]) -> Outcome {
    let filters = filters
        .iter()
        .map(|f| parse_filter(f))
        .collect::<Result<Vec<_>, _>>()?;
    let scopes = chosen(iii, trace).await?;
    let mut progress = Progress::new("reading items");
    let mut out = Out::new();
    let mut line = Vec::with_capacity(4096);
    for (i, scope) in scopes.iter().enumerate() {
        for (key, value) in iii.entries(scope).await? {
            let Some((kind, text)) = RawItem::validate(value) else {
                eprintln!(
                    "motia-state: skipped {} in scope {}: the value is not JSON",
                    escape::name(&key),
                    escape::name(scope)
                );
                continue;
            };
            if !filters.is_empty() {
                let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
                    continue;
                };
                if !filters.iter().all(|f| f.matches(&v)) {
                    continue;
                }
            }
            item_line(&mut line, scope, &key, kind.as_str(), &text);
            out.bytes(&line)?;
        }
        progress.update(i as u64 + 1, scopes.len() as u64);
    }
    progress.finish();
    out.done()
}
