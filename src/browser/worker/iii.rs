//! The iii layout behind the browser's names. The model names an item by a full key
//! `{prefix}{group}:{key}` and takes the group up to the first `:`; on the iii layout the
//! prefix is `state:` and a name `state:{scope}:{field}` stands for field `field` of the hash
//! `state:{scope}`. A `:` inside a scope (`state:orders:eu` is scope `orders:eu`) is written
//! `\x3a` in the name, as `motia_state::escape` writes other bytes, so the first `:` is always
//! the separator and every scope keeps its exact bytes. Each job here answers what its 0.x
//! twin in this folder answers.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use motia_state::adapter::layout::iii_export::IiiDocument;
use motia_state::{CasOutcome, IiiState, Ttl};

use crate::browser::action::{RowMeta, WorkerEvent, WriteOp, WriteOutcome};
use crate::browser::doc::{ValueDoc, classify};
use crate::browser::worker::iii_batches::Batches;
use crate::browser::worker::{Events, raw_key, streams};

/// How a `:` inside a scope is written in the model's names.
const COLON: &str = "\\x3a";

/// `(scope, field)` of a model name.
pub fn split(shown: &str) -> Option<(Vec<u8>, Vec<u8>)> {
    let rest = shown.strip_prefix(motia_state::adapter::layout::SCOPE_PREFIX)?;
    let (scope, field) = rest.split_once(':')?;
    Some((raw_key(scope), raw_key(field)))
}

/// A scope as the model names it: escaped as every name is, with its `:` as `\x3a`.
pub fn group(scope: &[u8]) -> String {
    let shown = motia_state::escape::name(scope);
    if shown.contains(':') {
        shown.replace(':', COLON)
    } else {
        shown.into_owned()
    }
}

/// The model name of a field.
pub fn name(scope: &[u8], field: &[u8]) -> String {
    format!(
        "{}{}:{}",
        motia_state::adapter::layout::SCOPE_PREFIX,
        group(scope),
        motia_state::escape::name(field)
    )
}

fn not_a_field(shown: &str) -> String {
    format!("{shown} is not a field of a scope")
}

/// Every scope's fields (SCAN state:* TYPE hash, then HSCAN of each), then every stream
/// group's items, in batches.
pub async fn run_scan(iii: IiiState, generation: u64, events: Events) {
    let mut out = Batches::new(generation, events);
    let mut scopes = iii.scan_scopes();
    loop {
        let page = match scopes.next_page().await {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(e) => {
                out.fail(e).await;
                return;
            }
        };
        for key in page {
            let Some(scope) = motia_state::adapter::layout::iii::scope_of(&key) else {
                continue;
            };
            let fields = match iii.scan_fields(scope) {
                Ok(f) => f,
                Err(e) => {
                    out.fail(e).await;
                    return;
                }
            };
            if out.hash(fields, |f| name(scope, f)).await.is_err() {
                return;
            }
        }
    }
    if streams::walk(&iii, &mut out).await.is_err() {
        return;
    }
    out.done().await;
}

/// The stored text behind a model name: a scope's field or a stream item (`None`: not a name
/// of either).
async fn read(iii: &IiiState, shown: &str) -> Option<Result<Option<Vec<u8>>, String>> {
    if let Some(item) = streams::item(shown) {
        return Some(match item {
            Ok(item) => streams::get(iii, &item).await,
            Err(e) => Err(e),
        });
    }
    let (scope, field) = split(shown)?;
    Some(iii.get(&scope, &field).await.map_err(|e| e.to_string()))
}

/// One field's value (HGET), cut to `max` bytes for a window.
pub async fn load_value(
    iii: IiiState,
    id: u64,
    full_key: String,
    max: Option<usize>,
    events: Events,
) {
    let got = read(&iii, &full_key)
        .await
        .unwrap_or_else(|| Err(not_a_field(&full_key)));
    let result = match got {
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
        let Some(got) = read(&iii, shown).await else {
            continue;
        };
        let meta = match got {
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
                    .send(WorkerEvent::MetaFailed { keys, error: e })
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
        let Some(got) = read(&iii, &shown).await else {
            continue;
        };
        match got {
            Ok(Some(b)) => {
                if serde_json::from_slice::<serde_json::Value>(&b).is_ok_and(|v| filter.matches(&v))
                {
                    matched.push(shown);
                }
            }
            Ok(None) => {}
            Err(e) => {
                error = Some(e);
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
            if let Some(item) = streams::item(full_key) {
                return streams::save(iii, &item?, expected.as_deref(), text).await;
            }
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
            // A name that is no stream item refuses the whole delete before any is made.
            if let Some(Err(bad)) = full_keys
                .iter()
                .filter_map(|k| streams::item(k))
                .find(Result::is_err)
            {
                return Err(bad);
            }
            let mut removed = 0;
            for shown in full_keys {
                if let Some(item) = streams::item(shown) {
                    removed += u64::from(streams::delete(iii, &item?).await?);
                    continue;
                }
                let (scope, field) = split(shown).ok_or_else(|| not_a_field(shown))?;
                if iii.delete(&scope, &field).await.map_err(e)?.is_some() {
                    removed += 1;
                }
            }
            Ok(WriteOutcome::Unlinked(removed))
        }
        WriteOp::Expire { full_keys, expiry } => {
            if full_keys.iter().any(|k| streams::item(k).is_some()) {
                return Err(streams::NO_TTL.into());
            }
            let mut changed = 0;
            for shown in full_keys {
                let (scope, field) = split(shown).ok_or_else(|| not_a_field(shown))?;
                changed += iii.expire(&scope, &[field], *expiry).await.map_err(e)?;
            }
            Ok(WriteOutcome::Expired(changed))
        }
        WriteOp::Export { path, trace } => export(iii, path, trace.as_deref()).await,
        WriteOp::Import {
            path, overwrite, ..
        } => import(iii, path, *overwrite).await,
        WriteOp::Undo { .. } | WriteOp::Unjournalled(_) => {
            Err("an undo or a nested write reached the iii writer".into())
        }
        WriteOp::Gc { .. } => Err(
            "gc does not apply to the iii layout (no trace records, no TTL from the engine)".into(),
        ),
    }
}

/// `:export`: the selected scope (a model name) or every scope, as an iii document.
async fn export(iii: &IiiState, path: &Path, scope: Option<&str>) -> Result<WriteOutcome, String> {
    let scopes = match scope {
        Some(s) => vec![raw_key(s)],
        None => iii.scopes().await.map_err(|e| e.to_string())?,
    };
    let doc = iii
        .export(&scopes, |_, _| {})
        .await
        .map_err(|e| e.to_string())?;
    let n = doc.items.len() as u64;
    let text = doc.to_pretty_string();
    let target = path.to_path_buf();
    tokio::task::spawn_blocking(move || std::fs::write(&target, text))
        .await
        .map_err(|err| format!("writing the file failed: {err}"))?
        .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
    Ok(WriteOutcome::Exported(n))
}

/// `:import`: an iii document's fields; a 0.x document, or a field that exists without
/// `--overwrite`, is refused before anything is written.
async fn import(iii: &IiiState, path: &Path, overwrite: bool) -> Result<WriteOutcome, String> {
    let text = tokio::fs::read_to_string(path)
        .await
        .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    let doc = IiiDocument::parse(&text).map_err(|err| format!("{}: {err}", path.display()))?;
    let done = iii
        .import(&doc, overwrite, |_, _| {})
        .await
        .map_err(|err| match err {
            motia_state::Error::InvalidDocument(m) => m.replace(
                "(use overwrite to replace existing keys)",
                &format!("(:import {} --overwrite replaces them)", path.display()),
            ),
            other => other.to_string(),
        })?;
    Ok(WriteOutcome::Imported(done.written))
}

/// The layout to browse: the setting, else detected (a short connection before the screen is
/// taken). On the iii layout the names the model is given are `state:{scope}:{field}`.
/// Returns the settings to use, a line for the status bar, and whether iii state is still to
/// be looked for (on 0.x detection leaves it for after the index walk, never before the first
/// frame).
pub async fn choose_layout(mut config: motia_state::Config) -> (motia_state::Config, String, bool) {
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
    // Without a detection (no connection yet) a 0.x view looks after its index too.
    let look = layout == Layout::Motia && detection.as_ref().is_none_or(|d| !d.other_looked_for);
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
    (config, label, look)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scope_name_survives_the_models_name() {
        let scopes: [&[u8]; 7] = [
            b"orders",
            b"orders:eu",
            b"a:b:c",
            b":",
            b"k\xff:x",
            b"back\\x3a",
            b"new\nline:",
        ];
        for scope in scopes {
            for field in [&b"v1"[..], b"f:with:colons", b"\xfe", b""] {
                let shown = name(scope, field);
                assert_eq!(
                    split(&shown),
                    Some((scope.to_vec(), field.to_vec())),
                    "{shown}"
                );
                // The model takes the group up to the first `:` after the prefix.
                let rest = shown.strip_prefix("state:").unwrap_or_default();
                assert_eq!(
                    rest.split_once(':').map(|(g, _)| g.to_string()),
                    Some(group(scope))
                );
            }
        }
        assert_eq!(name(b"orders:eu", b"o:1"), "state:orders\\x3aeu:o:1");
        assert_eq!(
            group(b"back\\x3a"),
            "back\\\\x3a",
            "a literal backslash stays apart"
        );
        assert_eq!(split("motia:state:t:k"), None);
    }
}
