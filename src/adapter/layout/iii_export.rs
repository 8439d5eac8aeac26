//! Export documents of the iii layout: the same envelope as Motia 0.x's (`format`, `version`,
//! `prefix`, `items` with `groupId` / `key` / `value`), with `"layout": "iii"` and each value
//! the stored text as it is (raw JSON, never re-serialised). A document of the other layout is
//! refused before anything is written.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::value::RawValue;

use crate::adapter::error::{Error, Result};
use crate::adapter::export::{FORMAT, VERSION};
use crate::adapter::json;
use crate::adapter::layout::{IiiState, Layout, SCOPE_PREFIX};
use crate::escape;

/// One item of an iii export document as written: names as text when UTF-8, else base64; the
/// value as raw JSON, else `raw` / `rawBase64`.
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

/// One field of a document: scope, key and the value's bytes (as stored when exported; JSON
/// text when parsed, since only JSON is imported).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IiiItem {
    /// The scope (the hash is `state:{scope}`).
    pub scope: Vec<u8>,
    /// The field.
    pub key: Vec<u8>,
    /// The value's bytes.
    pub value: Vec<u8>,
}

impl IiiItem {
    /// The bytes an import leaves in the field: the value as compact JSON, as
    /// [`IiiState::set`](crate::IiiState::set) stores it (the value itself when it is not JSON).
    ///
    /// ```
    /// use motia_state::adapter::layout::iii_export::IiiItem;
    /// let item = IiiItem { scope: b"s".to_vec(), key: b"k".to_vec(), value: br#"{ "a": 1 }"#.to_vec() };
    /// assert_eq!(item.stored(), br#"{"a":1}"#);
    /// ```
    pub fn stored(&self) -> Vec<u8> {
        std::str::from_utf8(&self.value)
            .ok()
            .and_then(|t| crate::json::compact(t).ok())
            .map_or_else(|| self.value.clone(), String::into_bytes)
    }
}

/// A parsed iii export document, checked: of this layout, every value JSON.
///
/// ```
/// use motia_state::adapter::layout::iii_export::IiiDocument;
/// let text = r#"{"format":"motia-state-export","version":1,"layout":"iii","prefix":"state:",
///   "items":[{"groupId":"orders:eu","key":"o1","value":{"total":1}}]}"#;
/// let doc = IiiDocument::parse(text).unwrap();
/// assert_eq!(doc.items[0].scope, b"orders:eu");
/// assert_eq!(doc.items[0].value, br#"{"total":1}"#);
/// // A Motia 0.x document (no layout, or "motia") is refused.
/// assert!(IiiDocument::parse(r#"{"format":"motia-state-export","version":1,"prefix":"motia:state:","items":[]}"#).is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IiiDocument {
    /// Every field, in the order written.
    pub items: Vec<IiiItem>,
}

/// The layout an export document records (`motia` when it names none, as 0.x documents do).
///
/// ```
/// use motia_state::{Layout, adapter::layout::iii_export::document_layout};
/// assert_eq!(document_layout(r#"{"layout":"iii"}"#), Layout::Iii);
/// assert_eq!(document_layout(r#"{"prefix":"motia:state:"}"#), Layout::Motia);
/// ```
pub fn document_layout(text: &str) -> Layout {
    #[derive(serde::Deserialize)]
    struct Head {
        layout: Option<String>,
    }
    match serde_json::from_str::<Head>(text) {
        Ok(Head { layout: Some(l) }) if l == Layout::Iii.as_str() => Layout::Iii,
        _ => Layout::Motia,
    }
}

/// What each layout's documents hold, in words.
pub fn layout_words(l: Layout) -> &'static str {
    match l {
        Layout::Motia => "Motia 0.x state (strings under a prefix)",
        Layout::Iii => "Motia 1.x / iii state (state:{scope} hashes)",
    }
}

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

fn document_item(item: &DocItem) -> Result<IiiItem> {
    let bad = Error::InvalidDocument;
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
    Ok(IiiItem {
        scope,
        key,
        value: text.into_bytes(),
    })
}

impl IiiDocument {
    /// Reads a document: an export of this layout, every value JSON; anything else is an
    /// [`Error::InvalidDocument`] saying what.
    pub fn parse(text: &str) -> Result<Self> {
        let head: serde_json::Value =
            serde_json::from_str(text).map_err(|e| Error::invalid_json(&e))?;
        if head["format"].as_str() != Some(FORMAT) {
            return Err(Error::InvalidDocument(format!(
                "expected an object with \"format\": \"{FORMAT}\""
            )));
        }
        let found = document_layout(text);
        if found != Layout::Iii {
            return Err(Error::InvalidDocument(format!(
                "refused: the document holds {} and this connection uses the iii layout ({}); \
                 importing across layouts is not supported, nothing was written",
                layout_words(found),
                layout_words(Layout::Iii)
            )));
        }
        let doc: Doc =
            serde_json::from_str(text).map_err(|e| Error::InvalidDocument(e.to_string()))?;
        let items = doc
            .items
            .iter()
            .map(document_item)
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { items })
    }

    /// The document as pretty JSON text, ending with a line break.
    pub fn to_pretty_string(&self) -> String {
        let doc = Doc {
            format: FORMAT.into(),
            version: VERSION,
            layout: Layout::Iii.as_str().into(),
            prefix: SCOPE_PREFIX.into(),
            items: self
                .items
                .iter()
                .map(|i| doc_item(&i.scope, &i.key, i.value.clone()))
                .collect(),
        };
        // Serialising strings and raw JSON cannot fail; an empty object would be refused.
        let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// What an import wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IiiImport {
    /// Fields written.
    pub written: u64,
    /// Scopes they are in.
    pub scopes: u64,
    /// Fields that existed and were replaced.
    pub replaced: u64,
}

impl IiiState {
    /// Every field of `scopes` as a document (values as stored); `progress(scopes done, all)`.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> Result<(), Box<dyn std::error::Error>> {
    /// let iii = state.iii();
    /// let doc = iii.export(&iii.scopes().await?, |_, _| {}).await?;
    /// std::fs::write("state.json", doc.to_pretty_string())?;
    /// # Ok(()) }
    /// ```
    pub async fn export(
        &self,
        scopes: &[Vec<u8>],
        mut progress: impl FnMut(u64, u64),
    ) -> Result<IiiDocument> {
        let mut items = Vec::new();
        for (i, scope) in scopes.iter().enumerate() {
            for (key, value) in self.entries(scope).await? {
                items.push(IiiItem {
                    scope: scope.clone(),
                    key,
                    value,
                });
            }
            progress(i as u64 + 1, scopes.len() as u64);
        }
        Ok(IiiDocument { items })
    }

    /// Writes a document's fields (HGET then HSET each, as the engine's set). Unless
    /// `overwrite`, a field that exists already refuses the whole import before anything is
    /// written; `progress(items done, all)`.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> Result<(), Box<dyn std::error::Error>> {
    /// use motia_state::adapter::layout::iii_export::IiiDocument;
    /// let doc = IiiDocument::parse(&std::fs::read_to_string("state.json")?)?;
    /// let done = state.iii().import(&doc, false, |_, _| {}).await?;
    /// println!("{} fields in {} scopes", done.written, done.scopes);
    /// # Ok(()) }
    /// ```
    pub async fn import(
        &self,
        doc: &IiiDocument,
        overwrite: bool,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<IiiImport> {
        let mut replaced = 0u64;
        for item in &doc.items {
            if self.get(&item.scope, &item.key).await?.is_some() {
                replaced += 1;
                if !overwrite {
                    return Err(Error::InvalidDocument(format!(
                        "refused: key \"{}\" exists already in scope \"{}\" (and maybe more); \
                         nothing was written (use overwrite to replace existing keys)",
                        escape::name(&item.key),
                        escape::name(&item.scope)
                    )));
                }
            }
        }
        let total = doc.items.len() as u64;
        for (i, item) in doc.items.iter().enumerate() {
            // Parsed items are JSON text, so UTF-8; bytes otherwise are refused, not mangled.
            let text = std::str::from_utf8(&item.value).map_err(|_| {
                Error::InvalidDocument(format!(
                    "the item \"{}\" in scope \"{}\" is not JSON; this layout stores JSON only",
                    escape::name(&item.key),
                    escape::name(&item.scope)
                ))
            })?;
            self.set(&item.scope, &item.key, text).await?;
            progress(i as u64 + 1, total);
        }
        let scopes: std::collections::BTreeSet<&[u8]> =
            doc.items.iter().map(|i| i.scope.as_slice()).collect();
        Ok(IiiImport {
            written: total,
            scopes: scopes.len() as u64,
            replaced,
        })
    }
}
