//! `motia-state watch`: one JSON line per change of state, from keyspace notifications,
//! until interrupted.

use std::io::{IsTerminal, Write};

use motia_state::RedisStateAdapter;
use motia_state::live::{LiveMessage, LiveOptions, LiveSubscription};
use motia_state::notify::NotifyChange;
use serde_json::{Map, Value, json};

use crate::cli::out::{Failure, Link, exit, json_name};
pub use crate::cli::watch_args::WatchArgs;
pub(crate) use crate::cli::watch_args::{Signals, time};

/// Messages handled per round: one value read (`MGET`) and one flush of stdout each.
const BATCH: usize = 1000;

pub async fn run(link: Link, args: WatchArgs) -> Result<(), Failure> {
    let config = &link.config;
    if let Some(t) = &args.trace
        && !args.iii
    {
        RedisStateAdapter::check_group(t)?;
    }
    if args.key.as_deref() == Some(b"") {
        return Err(Failure::new(exit::BAD_INPUT, "--key must not be empty"));
    }
    if args.enable_notifications && config.read_only {
        return Err(Failure::new(
            exit::BAD_INPUT,
            "refused: --enable-notifications changes the server's notify-keyspace-events and \
             --read-only is given; nothing was changed",
        ));
    }
    let mut signals = Signals::listen()?;
    let server = config.display_url();
    let state = link.state()?;
    let setting = state.notify_setting().await?;
    owed_restore(&server, &setting);
    let change = if args.enable_notifications {
        let change = state.enable_notifications().await?;
        // Noted at once: a run killed with SIGKILL cannot restore it, the next run says so.
        crate::browser::owed::record(&server, &change);
        if !change.is_noop() {
            eprintln!(
                "motia-state: notify-keyspace-events set from {} to {} for this run; it is \
                 restored at exit",
                change.before, change.after
            );
        }
        Some(change)
    } else if args.iii && !motia_state::adapter::layout::iii::covers_hashes(&setting) {
        return Err(Failure::new(
            exit::BAD_INPUT,
            format!(
                "keyspace notifications for hashes are off on this server \
                 (notify-keyspace-events is {setting}; watch on the iii layout needs K and h). \
                 Add --enable-notifications to switch them on for this run (the setting is \
                 restored at exit), or {}",
                motia_state::notify::HOW_TO_ENABLE
            ),
        ));
    } else if !args.iii && !setting.covers_live() {
        return Err(Failure::new(
            exit::BAD_INPUT,
            format!(
                "keyspace notifications are off on this server (notify-keyspace-events is \
                 {setting}; watch needs K, $, g and x, missing {}). Add --enable-notifications \
                 to switch them on for this run (the setting is restored at exit), or {}",
                setting.missing_required(),
                motia_state::notify::HOW_TO_ENABLE
            ),
        ));
    } else {
        None
    };
    let outcome = if args.iii {
        crate::cli::iii_watch::follow(&state, &args, &mut signals).await
    } else {
        follow(&state, &args, &mut signals).await
    };
    let restored = match &change {
        Some(c) => restore(&state, c).await,
        None => Ok(()),
    };
    if restored.is_ok() {
        crate::browser::owed::settled(&server, std::process::id());
    }
    outcome.and(restored)
}

/// Names the command that restores what an earlier run, killed before it could, left changed
/// (while the server still has the flags it added; a note someone else settled is dropped).
fn owed_restore(server: &str, now: &motia_state::notify::NotifySetting) {
    let Some(o) = crate::browser::owed::abandoned(server) else {
        return;
    };
    if !o.still_applies(now) {
        crate::browser::owed::settled(server, o.pid);
        return;
    }
    eprintln!(
        "motia-state: an earlier run (process {}, no longer running) switched on keyspace \
         notifications and was stopped before it restored them: notify-keyspace-events is {now}, \
         it was {:?}. Restore it with: redis-cli CONFIG SET notify-keyspace-events '{}' (or \
         answer y in the browser, which offers it)",
        o.pid, o.before, o.before
    );
}

async fn restore(state: &RedisStateAdapter, change: &NotifyChange) -> Result<(), Failure> {
    if change.is_noop() {
        return Ok(());
    }
    match state.restore_notifications(change).await {
        Ok(outcome) => {
            eprintln!("motia-state: {outcome}");
            Ok(())
        }
        Err(e) => Err(Failure::new(
            exit::SERVER,
            format!(
                "could not restore notify-keyspace-events to {} ({e}); restore it with: \
                 redis-cli CONFIG SET notify-keyspace-events '{}'",
                change.before,
                change.before.as_str()
            ),
        )),
    }
}

async fn follow(
    state: &RedisStateAdapter,
    args: &WatchArgs,
    signals: &mut Signals,
) -> Result<(), Failure> {
    let options = LiveOptions {
        trace: args.trace.clone(),
        key: args.key.clone(),
        ..LiveOptions::default()
    };
    let mut live = LiveSubscription::open(state, options).await?;
    if std::io::stderr().is_terminal() {
        eprintln!(
            "motia-state: watching {} (Ctrl-C to stop)",
            live.patterns().join(", ")
        );
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    // Interrupting is how watch ends, and a reader that went away (`| head`) ends it too:
    // both return Ok, so the setting is restored and the exit status is 0.
    loop {
        let batch = tokio::select! {
            b = live.next_batch(BATCH) => b?,
            _ = signals.recv() => return Ok(()),
        };
        let values = if args.values {
            read_values(state, &batch).await?
        } else {
            Default::default()
        };
        for message in batch {
            let line = match message {
                LiveMessage::Event(ev) => {
                    let Some((trace, key)) = ev.state_key(state.key_space()) else {
                        continue;
                    };
                    let mut obj = Map::new();
                    obj.insert("time".into(), time(ev.received).into());
                    json_name(&mut obj, "traceId", trace);
                    json_name(&mut obj, "key", key);
                    obj.insert("event".into(), ev.event.clone().into());
                    if args.values {
                        add_value(&mut obj, values.get(&ev.raw));
                    }
                    Value::Object(obj)
                }
                LiveMessage::Disconnected => {
                    eprintln!(
                        "motia-state: lost the connection; reconnecting (changes made meanwhile \
                         will be missed)"
                    );
                    continue;
                }
                LiveMessage::Reconnected => {
                    eprintln!(
                        "motia-state: reconnected; changes made while disconnected were missed"
                    );
                    lost_line("disconnected")
                }
                LiveMessage::Overflow { dropped } => {
                    eprintln!(
                        "motia-state: {dropped} {} dropped (output read too slowly)",
                        crate::browser::format::noun(
                            dropped,
                            "notification was",
                            "notifications were"
                        )
                    );
                    lost_line("overflow")
                }
                LiveMessage::SettingChanged(s) if !s.covers_live() => {
                    let _ = out.flush();
                    return Err(Failure::new(
                        exit::BAD_INPUT,
                        format!(
                            "keyspace notifications were turned off on the server \
                             (notify-keyspace-events is now {s}); stopped"
                        ),
                    ));
                }
                LiveMessage::SettingChanged(_) => continue,
            };
            if writeln!(out, "{line}").is_err() {
                return Ok(());
            }
        }
        if out.flush().is_err() {
            return Ok(());
        }
    }
}

/// A line telling a script that changes were missed (`traceId` and `key` null).
fn lost_line(reason: &str) -> Value {
    json!({
        "time": time(std::time::SystemTime::now()),
        "traceId": null,
        "key": null,
        "event": "lost",
        "reason": reason,
    })
}

/// What `--values` found under a key.
enum Found {
    Value(Vec<u8>),
    Gone,
    /// A key of another Redis type (`hash`, `list`, ...): `MGET` says nil for it too.
    OtherType(String),
}

/// Values of the batch's keys, in one `MGET`, read after the events arrived; the type of each
/// key it found nothing under.
async fn read_values(
    state: &RedisStateAdapter,
    batch: &[LiveMessage],
) -> Result<std::collections::HashMap<Vec<u8>, Found>, Failure> {
    let mut keys: Vec<Vec<u8>> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for m in batch {
        if let LiveMessage::Event(ev) = m
            && ev.state_key(state.key_space()).is_some()
            && seen.insert(ev.raw.as_slice())
        {
            keys.push(ev.raw.clone());
        }
    }
    if keys.is_empty() {
        return Ok(Default::default());
    }
    let values = state.get_raw_many(&keys).await?;
    let nil: Vec<&Vec<u8>> = keys
        .iter()
        .zip(&values)
        .filter(|(_, v)| v.is_none())
        .map(|(k, _)| k)
        .collect();
    let mut types: std::collections::HashMap<&Vec<u8>, String> = Default::default();
    if !nil.is_empty() {
        for (k, meta) in nil.iter().zip(state.key_meta(&nil, None).await?) {
            if meta.redis_type != "none" && meta.redis_type != "string" {
                types.insert(k, meta.redis_type);
            }
        }
    }
    let found = keys
        .iter()
        .zip(values)
        .map(|(k, v)| {
            let f = match (v, types.remove(k)) {
                (Some(bytes), _) => Found::Value(bytes),
                (None, Some(t)) => Found::OtherType(t),
                (None, None) => Found::Gone,
            };
            (k.clone(), f)
        })
        .collect();
    Ok(found)
}

/// `"value"`: the JSON as stored, `null` when the key is gone; `"raw"` for text that is not JSON;
/// `"redisType"` (no `"value"`) for a key of another Redis type.
fn add_value(obj: &mut Map<String, Value>, value: Option<&Found>) {
    match value {
        None | Some(Found::Gone) => {
            obj.insert("value".into(), Value::Null);
        }
        Some(Found::OtherType(t)) => {
            obj.insert("redisType".into(), Value::String(t.clone()));
        }
        Some(Found::Value(bytes)) => match serde_json::from_slice::<Value>(bytes) {
            Ok(v) => {
                obj.insert("value".into(), v);
            }
            Err(_) => {
                obj.insert(
                    "raw".into(),
                    Value::String(String::from_utf8_lossy(bytes).into_owned()),
                );
            }
        },
    }
}
