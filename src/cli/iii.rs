//! The subcommands on the iii layout (Motia 1.x / iii engine: one `state:{scope}` hash per
//! scope), and the choice of layout before any subcommand runs.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

use motia_state::adapter::layout::iii_export::{IiiDocument, document_layout, layout_words};
use motia_state::{
    Config, Error, Expiry, IiiState, Layout, RawItem, RedisStateAdapter, Ttl, escape, json,
};

use crate::browser::format::noun;
use crate::cli::Command;
use crate::cli::input::{arg_bytes, parse_filter, read_input, refuse_if_read_only};
use crate::cli::out::{Failure, Out, Outcome, exit, json_name, json_name_bytes, write_document};
use crate::cli::progress::Progress;

/// Where a subcommand goes: done on the iii layout, or on to the 0.x code.
pub(crate) enum Route {
    Iii(Outcome),
    Motia(Command),
}

/// Picks the layout (the setting, else what the server holds) and runs `command` on the iii
/// layout when that is the one. A 0.x run is told when iii state exists beside it.
pub(crate) async fn route(command: Command, config: &Config) -> Result<Route, Failure> {
    // These read no state: the journal is a local file, the others print text.
    if matches!(
        command,
        Command::Demo { .. } | Command::Journal { .. } | Command::Completions { .. } | Command::Man
    ) {
        return Ok(Route::Motia(command));
    }
    let state = match RedisStateAdapter::connect(config.clone()).await {
        Ok(s) => s,
        // The 0.x code reports input errors before connection errors: let it.
        Err(_) if config.layout != Some(Layout::Iii) => return Ok(Route::Motia(command)),
        Err(e) => return Err(e.into()),
    };
    let detection = match state.detect_layout().await {
        Ok(d) => d,
        Err(_) if config.layout != Some(Layout::Iii) => return Ok(Route::Motia(command)),
        Err(e) => return Err(e.into()),
    };
    if crate::cli::verbose() {
        let name = match detection.layout {
            Layout::Motia => "Motia 0.x (strings under the prefix)",
            Layout::Iii => "Motia 1.x / iii (state:{scope} hashes)",
        };
        eprintln!("motia-state: layout {name}: {}", detection.reason);
    }
    if let Some(note) = &detection.note {
        eprintln!("motia-state: note: {note}");
    }
    if detection.layout == Layout::Motia {
        return Ok(Route::Motia(command));
    }
    if crate::cli::verbose() {
        eprintln!("motia-state: {}", crate::cli::out::describe(&state).await);
    }
    Ok(Route::Iii(run(command, state).await))
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

fn os(arg: &OsStr) -> Result<Vec<u8>, Failure> {
    Ok(arg_bytes(arg)?.into_owned())
}

async fn run(command: Command, state: RedisStateAdapter) -> Outcome {
    let config = state.config().clone();
    let iii = state.iii();
    match command {
        Command::Traces {
            status: Some(_), ..
        } => Err(unsupported(&format!(
            "--status does not apply: {NO_TRACES}"
        ))),
        Command::Traces { counts, json, .. } => scopes(&iii, counts, json).await,
        Command::Trace { .. } | Command::History { .. } => Err(unsupported(NO_TRACES)),
        Command::Undo { .. } => Err(unsupported(
            "undo does not apply to the iii layout: the journal keeps the 0.x layout's keys only",
        )),
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
            let mut out = Out::new();
            for k in &keys {
                if json {
                    let mut map = serde_json::Map::new();
                    json_name(&mut map, "key", k);
                    out.line(&serde_json::Value::Object(map).to_string())?;
                } else {
                    out.name(k)?;
                    out.bytes(b"\n")?;
                }
            }
            out.done()
        }
        Command::Get { trace, key, pretty } => {
            let (scope, key) = (os(&trace)?, os(&key)?);
            let Some(bytes) = iii.get(&scope, &key).await? else {
                return Err(no_field(&scope, &key));
            };
            let mut out = Out::new();
            if !json::is_json(&bytes) {
                crate::cli::out::warn("the value is not JSON; printed as stored");
                out.text(&bytes)?;
                out.bytes(b"\n")?;
            } else if pretty {
                out.line(&json::pretty(&bytes).unwrap_or_default())?;
            } else {
                out.text(&bytes)?;
                out.bytes(b"\n")?;
            }
            out.done()
        }
        Command::Set { trace, key, json } => {
            let (scope, key) = (os(&trace)?, os(&key)?);
            let text = match json.as_deref() {
                Some(t) if t != "-" => t.to_string(),
                _ => read_input(None, "the JSON value")?,
            };
            json::compact(&text)?;
            if config.ttl.is_some() {
                return Err(unsupported(
                    "the iii layout has no TTL on writes (the engine sets none); leave out \
                     --ttl and STATE_TTL (a field's expiry: expire SCOPE KEY DURATION)",
                ));
            }
            refuse_if_read_only(&config, "set")?;
            iii.set(&scope, &key, &text).await?;
            Ok(())
        }
        Command::Del { trace, key } => {
            let (scope, key) = (os(&trace)?, os(&key)?);
            refuse_if_read_only(&config, "del")?;
            let Some(old) = iii.delete(&scope, &key).await? else {
                return Err(no_field(&scope, &key));
            };
            let mut out = Out::new();
            out.text(&old)?;
            out.bytes(b"\n")?;
            out.done()
        }
        Command::Clear { trace } => {
            let scope = os(&trace)?;
            refuse_if_read_only(&config, "clear")?;
            match iii.clear(&scope).await? {
                0 => Err(no_scope(&scope)),
                n => {
                    let mut out = Out::new();
                    out.line(&n.to_string())?;
                    out.done()
                }
            }
        }
        Command::Ttl { trace, key } => {
            let (scope, key) = (os(&trace)?, os(&key)?);
            match iii.ttl(&scope, &key).await? {
                Ttl::Missing => Err(no_field(&scope, &key)),
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
        } => expire(&iii, &config, &trace, first, duration).await,
        Command::Items { trace, filters } => items(&iii, trace, &filters).await,
        Command::Export { trace, output } => export(&iii, trace, output).await,
        Command::Import { file, overwrite } => import(&iii, &config, file, overwrite).await,
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
            crate::cli::watch::run(config, args).await
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

async fn expire(
    iii: &IiiState,
    config: &Config,
    scope: &OsStr,
    first: OsString,
    duration: Option<OsString>,
) -> Outcome {
    let scope = os(scope)?;
    let (key, duration) = match duration {
        Some(d) => (Some(os(&first)?), d),
        None => (None, first),
    };
    let expiry: Expiry = duration
        .to_str()
        .ok_or_else(|| Failure::new(exit::BAD_INPUT, "invalid duration: not UTF-8"))?
        .parse()?;
    refuse_if_read_only(config, "expire")?;
    let changed = match &key {
        Some(k) => {
            let n = iii.expire(&scope, &[k], expiry).await?;
            if n == 0 && iii.ttl(&scope, k).await? == Ttl::Missing {
                return Err(no_field(&scope, k));
            }
            n
        }
        None => {
            let keys = iii.keys(&scope).await?;
            if keys.is_empty() {
                return Err(no_scope(&scope));
            }
            iii.expire(&scope, &keys, expiry).await?
        }
    };
    let mut out = Out::new();
    out.line(&changed.to_string())?;
    out.done()
}

/// The scopes to read: one, or all.
async fn chosen(iii: &IiiState, trace: Option<OsString>) -> Result<Vec<Vec<u8>>, Failure> {
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
            line.clear();
            line.push(b'{');
            json_name_bytes(&mut line, "groupId", scope);
            line.push(b',');
            json_name_bytes(&mut line, "key", &key);
            line.extend_from_slice(b",\"type\":\"");
            line.extend_from_slice(kind.as_str().as_bytes());
            line.extend_from_slice(b"\",\"value\":");
            line.extend_from_slice(text.as_bytes());
            line.extend_from_slice(b"}\n");
            out.bytes(&line)?;
        }
        progress.update(i as u64 + 1, scopes.len() as u64);
    }
    progress.finish();
    out.done()
}

/// Refuses a document of the other layout, before anything is written.
pub(crate) fn check_document(text: &str, target: Layout) -> Outcome {
    let found = document_layout(text);
    if found == target {
        return Ok(());
    }
    Err(Failure::new(
        exit::BAD_INPUT,
        format!(
            "refused: the document holds {} and this connection uses the {} layout ({}); \
             importing across layouts is not supported, nothing was written (give --layout {} \
             to import it as it was exported)",
            layout_words(found),
            target,
            layout_words(target),
            found
        ),
    ))
}

async fn export(iii: &IiiState, trace: Option<OsString>, output: Option<PathBuf>) -> Outcome {
    let scopes = chosen(iii, trace).await?;
    let mut progress = Progress::new("exporting");
    let doc = iii.export(&scopes, |d, t| progress.update(d, t)).await?;
    progress.finish();
    write_document(
        output.as_deref(),
        &doc.to_pretty_string(),
        doc.items.len() as u64,
    )
}

async fn import(
    iii: &IiiState,
    config: &Config,
    file: Option<PathBuf>,
    overwrite: bool,
) -> Outcome {
    let text = read_input(file.as_deref(), "the export document")?;
    let head: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| Failure::from(Error::invalid_json(&e)))?;
    if head["format"].as_str() != Some(motia_state::export::FORMAT) {
        return Err(Error::InvalidDocument(format!(
            "expected an object with \"format\": \"{}\"",
            motia_state::export::FORMAT
        ))
        .into());
    }
    check_document(&text, Layout::Iii)?;
    let doc = IiiDocument::parse(&text)?;
    refuse_if_read_only(config, "import")?;
    let mut progress = Progress::new("importing");
    let done = iii
        .import(&doc, overwrite, |d, t| progress.update(d, t))
        .await
        .map_err(|e| match e {
            Error::InvalidDocument(m) => Failure::new(
                exit::BAD_INPUT,
                m.replace("(use overwrite", "(use --overwrite"),
            ),
            other => other.into(),
        })?;
    progress.finish();
    let (n, t, existing) = (done.written, done.scopes, done.replaced);
    let mut out = Out::new();
    out.line(&format!(
        "imported {n} {} in {t} {} ({existing} replaced existing {})",
        noun(n, "item", "items"),
        noun(t, "scope", "scopes"),
        noun(existing, "key", "keys"),
    ))?;
    out.done()
}
