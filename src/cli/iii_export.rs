//! Export documents of the iii layout: every field as stored, the layout recorded, and the
//! import that refuses a document of the other layout.

use std::ffi::OsString;
use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use motia_state::adapter::journal::After;
use motia_state::adapter::layout::iii::scope_key;
use motia_state::{Config, Error, IiiState, Layout, escape, json};
use serde_json::value::RawValue;

use crate::browser::format::noun;
use crate::cli::iii::chosen;
use crate::cli::input::{read_input, refuse_if_read_only};
use crate::cli::journal::before_write;
use crate::cli::out::{Failure, Out, Outcome, exit, write_document};
use crate::cli::progress::Progress;
use crate::journal::Planned;

/// The `layout` an export document records (`motia` when it names none).
pub(crate) fn document_layout(text: &str) -> Layout {
    #[derive(serde::Deserialize)]
    struct Head {
        layout: Option<String>,
    }
    match serde_json::from_str::<Head>(text) {
        Ok(Head { layout: Some(l) }) if l == Layout::Iii.as_str() => Layout::Iii,
        _ => Layout::Motia,
    }
}

/// Refuses a document of the other layout, before anything is written.
pub(crate) fn check_document(text: &str, target: Layout) -> Outcome {
    let found = document_layout(text);
    if found == target {
        return Ok(());
    }
    let what = |l: Layout| match l {
        Layout::Motia => "Motia 0.x state (strings under a prefix)",
        Layout::Iii => "Motia 1.x / iii state (state:{scope} hashes)",
    };
    Err(Failure::new(
        exit::BAD_INPUT,
        format!(
            "refused: the document holds {} and this connection uses the {} layout ({}); \
             importing across layouts is not supported, nothing was written (give --layout {} \
             to import it as it was exported)",
            what(found),
            target,
            what(target),
            found
        ),
    ))
}

/// One item of an iii export document; the value is the stored text as it is.
#[derive(serde::Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct DocItem {
    #[serde(skip_serializing_if = "Option::is_none")]
    group_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group_id_base64: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_base64: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    raw: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    raw_base64: Option<String>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Doc {
    format: String,
    version: u32,
    layout: String,
    prefix: String,
    items: Vec<DocItem>,
}

/// A name as text when UTF-8, else base64.
fn split_name(b: &[u8]) -> (Option<String>, Option<String>) {
    match std::str::from_utf8(b) {
        Ok(s) => (Some(s.to_string()), None),
        Err(_) => (None, Some(BASE64.encode(b))),
    }
}

/// The stored text as `value` when it is JSON as written, else `raw` or `rawBase64`.
fn doc_item(scope: &[u8], key: &[u8], value: Vec<u8>) -> DocItem {
    let (group_id, group_id_base64) = split_name(scope);
    let (key, key_base64) = split_name(key);
    let mut item = DocItem {
        group_id,
        group_id_base64,
        key,
        key_base64,
        ..DocItem::default()
    };
    match String::from_utf8(value) {
        Ok(text) if text.trim() != text => item.raw = Some(text),
        Ok(text) => match RawValue::from_string(text.clone()) {
            Ok(raw) => item.value = Some(raw),
            Err(_) => item.raw = Some(text),
        },
        Err(e) => item.raw_base64 = Some(BASE64.encode(e.as_bytes())),
    }
    item
}

pub(crate) async fn export(
    iii: &IiiState,
    trace: Option<OsString>,
    output: Option<PathBuf>,
) -> Outcome {
    let scopes = chosen(iii, trace).await?;
    let mut items = Vec::new();
    let mut progress = Progress::new("exporting");
    for (i, scope) in scopes.iter().enumerate() {
        for (key, value) in iii.entries(scope).await? {
            items.push(doc_item(scope, &key, value));
        }
        progress.update(i as u64 + 1, scopes.len() as u64);
    }
    progress.finish();
    let n = items.len() as u64;
    let doc = Doc {
        format: motia_state::export::FORMAT.into(),
        version: motia_state::export::VERSION,
        layout: Layout::Iii.as_str().into(),
        prefix: motia_state::adapter::layout::SCOPE_PREFIX.into(),
        items,
    };
    let mut text = serde_json::to_string_pretty(&doc)
        .map_err(|e| Failure::new(exit::SERVER, format!("cannot encode the document: {e}")))?;
    text.push('\n');
    write_document(output.as_deref(), &text, n)
}

/// One item of an iii document: scope, key and the value's text.
fn document_item(item: &DocItem) -> Result<(Vec<u8>, Vec<u8>, String), Failure> {
    let bad = |m: String| Failure::from(Error::InvalidDocument(m));
    let name = |text: &Option<String>, b64: &Option<String>, field: &str| match (text, b64) {
        (Some(t), _) => Ok(t.as_bytes().to_vec()),
        (None, Some(b)) => BASE64
            .decode(b)
            .map_err(|e| bad(format!("{field}Base64: {e}"))),
        (None, None) => Err(bad(format!("an item has no \"{field}\""))),
    };
    let scope = name(&item.group_id, &item.group_id_base64, "groupId")?;
    let key = name(&item.key, &item.key_base64, "key")?;
    let text = match (&item.value, &item.raw) {
        (Some(v), _) => v.get().to_string(),
        (None, Some(r)) if json::is_json(r.as_bytes()) => r.clone(),
        _ => {
            return Err(bad(format!(
                "the item \"{}\" in scope \"{}\" is not JSON; this layout stores JSON only",
                escape::name(&key),
                escape::name(&scope)
            )));
        }
    };
    Ok((scope, key, text))
}

pub(crate) async fn import(
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
    let doc: Doc = serde_json::from_str(&text)
        .map_err(|e| Failure::from(Error::InvalidDocument(e.to_string())))?;
    let items = doc
        .items
        .iter()
        .map(document_item)
        .collect::<Result<Vec<_>, _>>()?;
    refuse_if_read_only(config, "import")?;
    let mut existing = 0u64;
    for (scope, key, _) in &items {
        if iii.get(scope, key).await?.is_some() {
            existing += 1;
            if !overwrite {
                return Err(Failure::new(
                    exit::BAD_INPUT,
                    format!(
                        "refused: key \"{}\" exists already in scope \"{}\" (and maybe more); \
                         nothing was written (use --overwrite to replace existing keys)",
                        escape::name(key),
                        escape::name(scope)
                    ),
                ));
            }
        }
    }
    let changes = items
        .iter()
        .map(|(scope, key, value)| {
            let after = After::Value(json::compact(value).unwrap_or_default().into_bytes());
            Planned::field(scope_key(scope), key.clone(), after)
        })
        .collect();
    before_write(iii.adapter(), "import", changes).await?;
    let mut progress = Progress::new("importing");
    for (i, (scope, key, value)) in items.iter().enumerate() {
        iii.set(scope, key, value).await?;
        progress.update(i as u64 + 1, items.len() as u64);
    }
    progress.finish();
    let scopes: std::collections::BTreeSet<&[u8]> =
        items.iter().map(|(s, _, _)| s.as_slice()).collect();
    let (n, t) = (items.len() as u64, scopes.len() as u64);
    let mut out = Out::new();
    out.line(&format!(
        "imported {n} {} in {t} {} ({existing} replaced existing {})",
        noun(n, "item", "items"),
        noun(t, "scope", "scopes"),
        noun(existing, "key", "keys"),
    ))?;
    out.done()
}
