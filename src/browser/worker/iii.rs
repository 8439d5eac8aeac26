//! The iii layout behind the browser's names. The model names an item by a full key
//! `{prefix}{group}:{key}`; on the iii layout the prefix is `state:` and a name
//! `state:{scope}:{field}` stands for field `field` of the hash `state:{scope}` (a scope is
//! taken up to its first `:`). Each job here answers what its 0.x twin in this folder answers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use motia_state::{CasOutcome, IiiState, Ttl};

use crate::browser::action::{RowMeta, WorkerEvent, WriteOp, WriteOutcome};
use crate::browser::doc::{ValueDoc, classify};
use crate::browser::worker::{Events, raw_key};

const BATCH_KEYS: usize = 5_000;
const BATCH_TIME: Duration = Duration::from_millis(100);

/// `(scope, field)` of a model name.
pub fn split(shown: &str) -> Option<(Vec<u8>, Vec<u8>)> {
    let raw = raw_key(shown);
    let rest = raw.strip_prefix(motia_state::adapter::layout::SCOPE_PREFIX.as_bytes())?;
    let colon = rest.iter().position(|&b| b == b':')?;
    Some((rest[..colon].to_vec(), rest[colon + 1..].to_vec()))
}

/// The model name of a field.
pub fn name(scope: &[u8], field: &[u8]) -> String {
    let full = [
        motia_state::adapter::layout::SCOPE_PREFIX.as_bytes(),
        scope,
        b":",
        field,
    ]
    .concat();
    motia_state::escape::name_owned(full)
}

fn not_a_field(shown: &str) -> String {
    format!("{shown} is not a field of a scope")
}

/// Every scope's fields (SCAN state:* TYPE hash, then HSCAN of each), in batches.
pub async fn run_scan(iii: IiiState, generation: u64, events: Events) {
    let mut scopes = iii.scan_scopes();
    let mut batch: Vec<String> = Vec::new();
    let mut seen = 0u64;
    let mut last_sent = Instant::now();
    let mut sent_any = false;
    let fail = |e: motia_state::Error| WorkerEvent::ScanFailed {
        generation,
        connection: e.is_connection(),
        error: e.to_string(),
    };
    loop {
        let page = match scopes.next_page().await {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(e) => {
                let _ = events.send(fail(e)).await;
                return;
            }
        };
        for key in page {
            let Some(scope) = motia_state::adapter::layout::iii::scope_of(&key) else {
                continue;
            };
            let mut fields = match iii.scan_fields(scope) {
                Ok(f) => f,
                Err(e) => {
                    let _ = events.send(fail(e)).await;
                    return;
                }
            };
            loop {
                let page = match fields.next_page().await {
                    Ok(Some(p)) => p,
                    Ok(None) => break,
                    Err(e) => {
                        let _ = events.send(fail(e)).await;
                        return;
                    }
                };
                seen += page.len() as u64;
                batch.extend(page.iter().map(|(f, _)| name(scope, f)));
                let due = (!sent_any && !batch.is_empty())
                    || batch.len() >= BATCH_KEYS
                    || (last_sent.elapsed() >= BATCH_TIME && !batch.is_empty());
                if due {
                    sent_any = true;
                    last_sent = Instant::now();
                    let keys = std::mem::take(&mut batch);
                    let ev = WorkerEvent::ScanBatch {
                        generation,
                        keys,
                        seen,
                    };
                    if events.send(ev).await.is_err() {
                        return;
                    }
                }
            }
        }
    }
    if !batch.is_empty() {
        let ev = WorkerEvent::ScanBatch {
            generation,
            keys: batch,
            seen,
        };
        if events.send(ev).await.is_err() {
            return;
        }
    }
    let _ = events
        .send(WorkerEvent::ScanDone { generation, seen })
        .await;
}

/// One field's value (HGET), cut to `max` bytes for a window.
pub async fn load_value(
    iii: IiiState,
    id: u64,
    full_key: String,
    max: Option<usize>,
    events: Events,
) {
    let read = match split(&full_key) {
        Some((scope, field)) => iii.get(&scope, &field).await.map_err(|e| e.to_string()),
        None => Err(not_a_field(&full_key)),
    };
    let result = match read {
        Ok(Some(mut bytes)) => {
            let total = bytes.len() as u64;
            if let Some(n) = max {
                bytes.truncate(n);
            }
            match tokio::task::spawn_blocking(move || ValueDoc::build(&bytes, total)).await {
                Ok(doc) => Ok(Some(Arc::new(doc))),
                Err(e) => Err(format!("preparing the value failed: {e}")),
            }
        }
        Ok(None) => Ok(None),
        Err(e) => Err(e),
    };
    let _ = events
        .send(WorkerEvent::Value {
            id,
            full_key,
            result,
        })
        .await;
}

/// Kind, size and TTL of the visible fields (HGET each; fields of the engine have no TTL).
pub async fn fetch_meta(iii: IiiState, keys: Vec<String>, events: Events) {
    let mut rows = Vec::with_capacity(keys.len());
    for shown in &keys {
        let Some((scope, field)) = split(shown) else {
            continue;
        };
        let meta = match iii.get(&scope, &field).await {
            Ok(Some(v)) => RowMeta {
                kind: classify(&v[..v.len().min(4096)], v.len() as u64).to_string(),
                len: Some(v.len() as u64),
                ttl: Ttl::Persistent,
            },
            Ok(None) => RowMeta {
                kind: "gone".into(),
                len: None,
                ttl: Ttl::Missing,
            },
            Err(e) => {
                let _ = events
                    .send(WorkerEvent::MetaFailed {
                        keys,
                        error: e.to_string(),
                    })
                    .await;
                return;
            }
        };
        rows.push((shown.clone(), meta));
    }
    let _ = events.send(WorkerEvent::Meta { rows }).await;
}

/// The fields among `full_keys` whose JSON value matches `filter`.
pub async fn run_where(
    iii: IiiState,
    id: u64,
    full_keys: Vec<String>,
    filter: motia_state::StateFilter,
    events: Events,
) {
    let mut matched = Vec::new();
    let mut error = None;
    for shown in full_keys {
        let Some((scope, field)) = split(&shown) else {
            continue;
        };
        match iii.get(&scope, &field).await {
            Ok(Some(b)) => {
                if serde_json::from_slice::<serde_json::Value>(&b).is_ok_and(|v| filter.matches(&v))
                {
                    matched.push(shown);
                }
            }
            Ok(None) => {}
            Err(e) => {
                error = Some(e.to_string());
                break;
            }
        }
    }
    let result = match error {
        Some(e) => Err(e),
        None => Ok(matched),
    };
    let _ = events.send(WorkerEvent::WhereResult { id, result }).await;
}

/// A write on the iii layout: save (compare-and-set on the field), delete fields, field TTLs;
/// journalled before (`writes.rs`), undone there too.
pub async fn write(iii: &IiiState, op: &WriteOp) -> Result<WriteOutcome, String> {
    match op {
        WriteOp::Unjournalled(inner) => write_one(iii, inner).await,
        op => write_one(iii, op).await,
    }
}

async fn write_one(iii: &IiiState, op: &WriteOp) -> Result<WriteOutcome, String> {
    let e = |e: motia_state::Error| e.to_string();
    match op {
        WriteOp::Save {
            full_key,
            expected,
            text,
        } => {
            let (scope, field) = split(full_key).ok_or_else(|| not_a_field(full_key))?;
            match iii
                .compare_and_set(&scope, &field, expected.as_deref(), text)
                .await
                .map_err(e)?
            {
                CasOutcome::Written => Ok(WriteOutcome::Saved),
                CasOutcome::Conflict(now) => Ok(WriteOutcome::Conflict(now)),
            }
        }
        WriteOp::Unlink { full_keys } => {
            let mut removed = 0;
            for shown in full_keys {
                let (scope, field) = split(shown).ok_or_else(|| not_a_field(shown))?;
                if iii.delete(&scope, &field).await.map_err(e)?.is_some() {
                    removed += 1;
                }
            }
            Ok(WriteOutcome::Unlinked(removed))
        }
        WriteOp::Expire { full_keys, expiry } => {
            let mut changed = 0;
            for shown in full_keys {
                let (scope, field) = split(shown).ok_or_else(|| not_a_field(shown))?;
                changed += iii.expire(&scope, &[field], *expiry).await.map_err(e)?;
            }
            Ok(WriteOutcome::Expired(changed))
        }
        WriteOp::Export { .. } | WriteOp::Import { .. } => Err(
            "export and import of the iii layout are done with the CLI for now: motia-state \
             export / import"
                .into(),
        ),
        WriteOp::Undo { .. } | WriteOp::Unjournalled(_) => {
            Err("an undo or a nested write reached the iii writer".into())
        }
        WriteOp::Gc { .. } => Err(
            "gc does not apply to the iii layout (no trace records, no TTL from the engine)".into(),
        ),
    }
}

/// The layout to browse: the setting, else detected (a short connection before the screen is
/// taken). On the iii layout the names the model is given are `state:{scope}:{field}`.
/// Returns the settings to use and a line for the status bar.
pub async fn choose_layout(mut config: motia_state::Config) -> (motia_state::Config, String) {
    use motia_state::Layout;
    let mut probe = config.clone();
    probe.connect_timeout = probe.connect_timeout.min(Duration::from_secs(5));
    let detection = match motia_state::RedisStateAdapter::connect(probe).await {
        Ok(a) => a.detect_layout().await.ok(),
        Err(_) => None,
    };
    let (layout, why, note) = match (&detection, config.layout) {
        (Some(d), _) => (d.layout, d.reason.clone(), d.note.clone()),
        (None, Some(l)) => (l, "as asked".into(), None),
        (None, None) => (
            Layout::Motia,
            "not detected (no connection yet)".into(),
            None,
        ),
    };
    let mut label = match layout {
        Layout::Motia => format!("layout motia ({why})"),
        Layout::Iii => format!("layout iii ({why})"),
    };
    if let Some(n) = note {
        label = format!("{label}; {n}");
    }
    if layout == Layout::Iii {
        config.layout = Some(Layout::Iii);
        config.key_prefix = motia_state::adapter::layout::SCOPE_PREFIX.into();
    }
    (config, label)
}
