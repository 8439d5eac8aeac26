//! `motia-state watch` on the iii layout. A hash notification names the scope (`hset`, `hdel`,
//! `del` on `state:{scope}`), never the field, so the scope is re-read and compared with what
//! was last seen: one line per field that changed.

use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::time::SystemTime;

use motia_state::RedisStateAdapter;
use motia_state::adapter::layout::iii::scope_of;
use motia_state::adapter::layout::iii_live::ScopeTracker;
use motia_state::live::{LiveMessage, LiveOptions};
use serde_json::{Map, Value};

use crate::cli::out::{Failure, exit, json_name};
use crate::cli::watch_args::{Signals, WatchArgs, time};

const BATCH: usize = 1000;

fn wanted(args: &WatchArgs, scope: &[u8]) -> bool {
    args.trace.as_deref().is_none_or(|t| t == scope)
}

pub(crate) async fn follow(
    state: &RedisStateAdapter,
    args: &WatchArgs,
    signals: &mut Signals,
) -> Result<(), Failure> {
    let iii = state.iii();
    // Subscribed before the first read, so no change falls between the two.
    let mut live = iii.subscribe(LiveOptions::default()).await?;
    let mut seen = ScopeTracker::default();
    let initial = match &args.trace {
        Some(t) => vec![t.clone()],
        None => iii.scopes().await?,
    };
    for scope in &initial {
        seen.reread(&iii, scope).await?;
    }
    if std::io::stderr().is_terminal() {
        eprintln!(
            "motia-state: watching {} (Ctrl-C to stop)",
            live.patterns().join(", ")
        );
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    loop {
        let batch = tokio::select! {
            b = live.next_batch(BATCH) => b?,
            _ = signals.recv() => return Ok(()),
        };
        // Coalesced: a scope touched many times in a batch is read once.
        let mut scopes: Vec<(Vec<u8>, SystemTime)> = Vec::new();
        let mut listed = HashSet::new();
        let mut resync = false;
        for message in &batch {
            match message {
                LiveMessage::Event(ev) => {
                    if let Some(scope) = scope_of(&ev.raw)
                        && wanted(args, scope)
                        && listed.insert(scope.to_vec())
                    {
                        scopes.push((scope.to_vec(), ev.received));
                    }
                }
                LiveMessage::Reconnected | LiveMessage::Overflow { .. } => {
                    eprintln!("motia-state: changes were missed; re-reading every scope");
                    let reason = if matches!(message, LiveMessage::Reconnected) {
                        "disconnected"
                    } else {
                        "overflow"
                    };
                    let line = serde_json::json!({"time": time(SystemTime::now()),
                        "scope": null, "key": null, "event": "lost", "reason": reason});
                    if writeln!(out, "{line}").is_err() {
                        return Ok(());
                    }
                    resync = true;
                }
                LiveMessage::SettingChanged(s)
                    if !motia_state::adapter::layout::iii::covers_hashes(s) =>
                {
                    let _ = out.flush();
                    return Err(Failure::new(
                        exit::BAD_INPUT,
                        format!(
                            "keyspace notifications for hashes were turned off on the server \
                             (notify-keyspace-events is now {s}); stopped"
                        ),
                    ));
                }
                LiveMessage::Disconnected => eprintln!(
                    "motia-state: lost the connection; reconnecting (changes made meanwhile \
                     will be missed)"
                ),
                LiveMessage::SettingChanged(_) => {}
            }
        }
        if resync {
            let mut all: Vec<Vec<u8>> = match &args.trace {
                Some(t) => vec![t.clone()],
                None => iii.scopes().await?,
            };
            all.extend(seen.scopes().map(<[u8]>::to_vec));
            all.sort();
            all.dedup();
            let now = SystemTime::now();
            scopes = all.into_iter().map(|s| (s, now)).collect();
        }
        for (scope, received) in scopes {
            for change in seen.reread(&iii, &scope).await? {
                if args.key.as_deref().is_some_and(|k| k != change.field) {
                    continue;
                }
                let mut obj = Map::new();
                obj.insert("time".into(), time(received).into());
                json_name(&mut obj, "scope", &scope);
                json_name(&mut obj, "key", &change.field);
                let event = if change.value.is_some() { "set" } else { "del" };
                obj.insert("event".into(), event.into());
                if args.values {
                    let v = match &change.value {
                        None => Value::Null,
                        Some(b) => serde_json::from_slice(b).unwrap_or_else(|_| {
                            obj.insert(
                                "raw".into(),
                                String::from_utf8_lossy(b).into_owned().into(),
                            );
                            Value::Null
                        }),
                    };
                    if !obj.contains_key("raw") {
                        obj.insert("value".into(), v);
                    }
                }
                if writeln!(out, "{}", Value::Object(obj)).is_err() {
                    return Ok(());
                }
            }
        }
        if out.flush().is_err() {
            return Ok(());
        }
    }
}
