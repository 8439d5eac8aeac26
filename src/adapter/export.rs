//! Export and import documents: items with their TTLs, as one JSON document.
//!
//! ```json
//! {"format":"motia-state-export","version":1,"prefix":"motia:state:",
//!  "items":[{"groupId":"t1","key":"order","value":{"id":7},"ttlSeconds":3600}]}
//! ```
//! A value that is not JSON is kept as text under `"raw"` instead of `"value"`, so an export
//! restores exactly what was there.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::adapter::RedisStateAdapter;
use crate::adapter::conn::Retry;
use crate::adapter::error::{Error, Result};
use crate::adapter::expiry::Ttl;
use crate::adapter::keys::validate_group;

/// The `format` field of every export document.
///
/// ```
/// use motia_state::export::{ExportDocument, FORMAT};
/// let text = format!(r#"{{"format":"{FORMAT}","version":1,"prefix":"p:","items":[]}}"#);
/// assert_eq!(ExportDocument::parse(&text).unwrap().format, "motia-state-export");
/// ```
pub const FORMAT: &str = "motia-state-export";

/// A whole export.
///
/// ```
/// use motia_state::export::{ExportDocument, ExportItem, FORMAT};
/// let item = ExportItem {
///     group_id: "t1".into(), key: "order".into(), value: Some(serde_json::json!({"id": 7})),
///     raw: None, ttl_seconds: Some(3600),
/// };
/// let prefix = "motia:state:".into();
/// let doc = ExportDocument { format: FORMAT.into(), version: 1, prefix, items: vec![item] };
/// assert_eq!(ExportDocument::parse(&doc.to_pretty_string()).unwrap(), doc);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportDocument {
    /// Always [`FORMAT`].
    pub format: String,
    /// Document version, 1.
    pub version: u32,
    /// The prefix the items were read under (informative; import uses its own).
    pub prefix: String,
    /// The items.
    pub items: Vec<ExportItem>,
}

/// One item of an export.
///
/// ```
/// use motia_state::export::ExportItem;
/// let item: ExportItem =
///     serde_json::from_str(r#"{"groupId":"t1","key":"note","raw":"not json"}"#).unwrap();
/// assert_eq!((item.value, item.raw.as_deref(), item.ttl_seconds), (None, Some("not json"), None));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportItem {
    /// Group (trace) id.
    pub group_id: String,
    /// Key inside the group.
    pub key: String,
    /// The value, when it is JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// The stored text, when it is not JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
    /// Remaining lifetime in whole seconds at export time; `None`: no expiry.
    #[serde(default)]
    pub ttl_seconds: Option<u64>,
}

/// What an import did.
///
/// ```no_run
/// use motia_state::{Config, RedisStateAdapter, export};
/// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
/// let doc = export::export(&state, None, |_, _| {}).await?;
/// let backup = RedisStateAdapter::connect(Config::from_url("redis://backup:6379")?).await?;
/// let report = export::import(&backup, &doc, true, |_, _| {}).await?;
/// println!("{} written, {} replaced", report.written, report.overwritten);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Items written.
    pub written: u64,
    /// Of those, how many replaced an existing key.
    pub overwritten: u64,
}

impl ExportDocument {
    /// Parses a document, with a clear error for anything else.
    ///
    /// ```
    /// let doc = motia_state::export::ExportDocument::parse(
    ///     r#"{"format":"motia-state-export","version":1,"prefix":"p:","items":[]}"#).unwrap();
    /// assert!(doc.items.is_empty());
    /// assert!(motia_state::export::ExportDocument::parse("[1]").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self> {
        let value: Value = serde_json::from_str(text).map_err(|e| Error::invalid_json(&e))?;
        if value.get("format").and_then(Value::as_str) != Some(FORMAT) {
            return Err(Error::InvalidDocument(format!(
                "expected an object with \"format\": \"{FORMAT}\""
            )));
        }
        let doc: ExportDocument =
            serde_json::from_value(value).map_err(|e| Error::InvalidDocument(e.to_string()))?;
        if doc.version != 1 {
            return Err(Error::InvalidDocument(format!(
                "version {} is not supported (1 is)",
                doc.version
            )));
        }
        for (i, item) in doc.items.iter().enumerate() {
            validate_group(&item.group_id)
                .map_err(|e| Error::InvalidDocument(format!("item {}: {e}", i + 1)))?;
            if item.key.is_empty() {
                return Err(Error::InvalidDocument(format!("item {}: empty key", i + 1)));
            }
            if item.value.is_some() == item.raw.is_some() {
                return Err(Error::InvalidDocument(format!(
                    "item {} ({}:{}): needs exactly one of \"value\" and \"raw\"",
                    i + 1,
                    item.group_id,
                    item.key
                )));
            }
        }
        Ok(doc)
    }

    /// The document as indented JSON text.
    ///
    /// ```
    /// use motia_state::export::ExportDocument;
    /// let doc = ExportDocument::parse(
    ///     r#"{"format":"motia-state-export","version":1,"prefix":"p:","items":[]}"#,
    /// ).unwrap();
    /// assert!(doc.to_pretty_string().contains("\n  \"prefix\": \"p:\""));
    /// ```
    pub fn to_pretty_string(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

impl ExportItem {
    fn stored_text(&self) -> String {
        match (&self.value, &self.raw) {
            (Some(v), _) => crate::adapter::json::to_compact(v),
            (None, Some(r)) => r.clone(),
            (None, None) => "null".into(),
        }
    }
}

/// Reads every item of one group (or of all groups) with its TTL.
/// `progress` is called with (items done, items total) after each batch.
///
/// ```no_run
/// use motia_state::{Error, export};
/// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
/// let progress = |done, total| eprint!("\r{done}/{total}");
/// let doc = export::export(&state, Some("trace-1"), progress).await?;
/// std::fs::write("trace-1.json", doc.to_pretty_string())
///     .map_err(|source| Error::Io { path: "trace-1.json".into(), source })?;
/// # Ok(()) }
/// ```
pub async fn export(
    adapter: &RedisStateAdapter,
    group: Option<&str>,
    mut progress: impl FnMut(u64, u64),
) -> Result<ExportDocument> {
    let scan = match group {
        Some(g) => adapter.scan_group(g)?,
        None => adapter.scan_all(),
    };
    let mut full = scan.collect_all().await?;
    full.sort();
    let total = full.len() as u64;
    let mut items = Vec::with_capacity(full.len());
    let mut done = 0;
    for chunk in full.chunks(adapter.config().batch_size) {
        let mut pipe = redis::pipe();
        for k in chunk {
            pipe.cmd("GET").arg(k).cmd("PTTL").arg(k);
        }
        pipe.ignore_errors();
        let replies: Vec<redis::RedisResult<redis::Value>> = adapter
            .conn
            .query_pipe(&pipe, Retry::Safe, "export")
            .await?;
        for (k, r) in chunk.iter().zip(replies.chunks(2)) {
            let Some((g, key)) = adapter.key_space().split(k) else {
                continue;
            };
            let bytes = match r.first() {
                Some(Ok(redis::Value::BulkString(b))) => b.clone(),
                // Gone since the scan, or not a string: nothing Motia could read.
                _ => continue,
            };
            let ttl = match r.get(1) {
                Some(Ok(redis::Value::Int(ms))) => Ttl::from_pttl(*ms),
                _ => Ttl::Persistent,
            };
            let ttl_seconds = match ttl {
                Ttl::Expires(d) => Some(d.as_secs().max(1)),
                _ => None,
            };
            let (value, raw) = match serde_json::from_slice::<Value>(&bytes) {
                Ok(v) => (Some(v), None),
                Err(_) => (None, Some(String::from_utf8_lossy(&bytes).into_owned())),
            };
            items.push(ExportItem {
                group_id: g.to_string(),
                key: key.to_string(),
                value,
                raw,
                ttl_seconds,
            });
        }
        done += chunk.len() as u64;
        progress(done, total);
    }
    Ok(ExportDocument {
        format: FORMAT.into(),
        version: 1,
        prefix: adapter.key_space().prefix().to_string(),
        items,
    })
}

/// Writes a document's items under the adapter's prefix. Without `overwrite`, refuses (and
/// writes nothing) when any of its keys exists already, naming the first few.
///
/// ```no_run
/// use motia_state::{Error, export};
/// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
/// let text = std::fs::read_to_string("trace-1.json")
///     .map_err(|source| Error::Io { path: "trace-1.json".into(), source })?;
/// let doc = export::ExportDocument::parse(&text)?;
/// let report = export::import(&state, &doc, false, |_, _| {}).await?;
/// # Ok(()) }
/// ```
pub async fn import(
    adapter: &RedisStateAdapter,
    doc: &ExportDocument,
    overwrite: bool,
    mut progress: impl FnMut(u64, u64),
) -> Result<ImportReport> {
    if adapter.config().read_only {
        return Err(Error::ReadOnly {
            operation: "import",
        });
    }
    let mut full = Vec::with_capacity(doc.items.len());
    for item in &doc.items {
        full.push(adapter.key_space().full_key(&item.group_id, &item.key)?);
    }
    let mut existing = Vec::new();
    for chunk in full.chunks(adapter.config().batch_size) {
        let mut pipe = redis::pipe();
        for k in chunk {
            pipe.cmd("EXISTS").arg(k);
        }
        let flags: Vec<i64> = adapter
            .conn
            .query_pipe(&pipe, Retry::Safe, "import check")
            .await?;
        existing.extend(
            chunk
                .iter()
                .zip(flags)
                .filter(|(_, f)| *f == 1)
                .map(|(k, _)| k.clone()),
        );
    }
    if !existing.is_empty() && !overwrite {
        let shown: Vec<&str> = existing.iter().take(5).map(String::as_str).collect();
        let more = existing.len().saturating_sub(5);
        return Err(Error::InvalidDocument(format!(
            "{} key(s) exist already ({}{}); nothing was written (use overwrite to replace them)",
            existing.len(),
            shown.join(", "),
            if more > 0 {
                format!(", and {more} more")
            } else {
                String::new()
            }
        )));
    }
    let total = doc.items.len() as u64;
    let mut written = 0;
    for (items, keys) in doc
        .items
        .chunks(adapter.config().batch_size)
        .zip(full.chunks(adapter.config().batch_size))
    {
        let mut pipe = redis::pipe();
        for (item, k) in items.iter().zip(keys) {
            let cmd = pipe.cmd("SET").arg(k).arg(item.stored_text());
            if let Some(secs) = item.ttl_seconds.filter(|s| *s > 0) {
                cmd.arg("EX").arg(Duration::from_secs(secs).as_secs());
            }
            pipe.ignore();
        }
        let () = adapter
            .conn
            .query_pipe(&pipe, Retry::Safe, "import")
            .await?;
        written += items.len() as u64;
        progress(written, total);
    }
    Ok(ImportReport {
        written,
        overwritten: existing.len() as u64,
    })
}
