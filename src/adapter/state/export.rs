//! Export and import documents: every key under the prefix with its TTL, as one JSON document
//! that imports back byte for byte.
//!
//! ```json
//! {"format":"motia-state-export","version":2,"prefix":"motia:state:",
//!  "items":[{"groupId":"t1","key":"order","value":{"id":7},"ttlSeconds":3600},
//!           {"groupId":"t1","key":"note","raw":"plain text"},
//!           {"groupIdBase64":"b/8=","key":"bin","rawBase64":"3q2+7w=="},
//!           {"groupId":"t1","key":"h","redisType":"hash","dumpBase64":"DQ..."}]}
//! ```
//! - `value` is the stored JSON text written through as it is (numbers keep their spelling).
//! - `raw` holds a stored value that is UTF-8 but not JSON (or JSON with whitespace around it);
//!   `rawBase64` one that is not UTF-8.
//! - A trace id or key that is not UTF-8 goes in `groupIdBase64` / `keyBase64` instead of
//!   `groupId` / `key`; a key under the prefix that is not `{traceId}:{key}` (no `:` after the
//!   prefix, or an empty trace id) goes in `name` / `nameBase64`, the part after the prefix.
//! - A key of another Redis type (hash, list, set, zset, stream, ...) carries its type and its
//!   `DUMP` serialization in `dumpBase64`, restored with `RESTORE`: exact for every type
//!   (stream IDs, consumer groups, scores), but readable only by a server of the same or a newer
//!   version.
//!
//! Version 1 documents (no base64 fields, no other types) import as before.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::adapter::RedisStateAdapter;
use crate::adapter::conn::Retry;
use crate::adapter::error::{Error, Result};
use crate::adapter::escape;
use crate::adapter::expiry::Ttl;

// How an item is spelled in the document (serde), apart from what it means.
mod wire;

/// The `format` field of every export document.
///
/// ```
/// use motia_state::export::{ExportDocument, FORMAT};
/// let text = format!(r#"{{"format":"{FORMAT}","version":2,"prefix":"p:","items":[]}}"#);
/// assert_eq!(ExportDocument::parse(&text).unwrap().format, "motia-state-export");
/// ```
pub const FORMAT: &str = "motia-state-export";

/// The version [`export`] writes; [`ExportDocument::parse`] reads it and version 1.
///
/// ```
/// assert_eq!(motia_state::export::VERSION, 2);
/// ```
pub const VERSION: u32 = 2;

/// A whole export.
///
/// ```
/// use motia_state::export::{ExportDocument, ExportItem, FORMAT, VERSION};
/// let item = ExportItem::json(b"t1", b"order", r#"{"id":7}"#, Some(3600)).unwrap();
/// let prefix = "motia:state:".into();
/// let doc = ExportDocument { format: FORMAT.into(), version: VERSION, prefix, items: vec![item] };
/// assert_eq!(ExportDocument::parse(&doc.to_pretty_string()).unwrap(), doc);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportDocument {
    /// Always [`FORMAT`].
    pub format: String,
    /// Document version, [`VERSION`] (or 1 for older documents).
    pub version: u32,
    /// The prefix the items were read under (import writes under its own, and says so).
    pub prefix: String,
    /// The items.
    pub items: Vec<ExportItem>,
}

/// What a key held.
///
/// ```
/// use motia_state::export::ExportData;
/// assert_eq!(ExportData::of_string(b"[1, 2]".to_vec()).kind(), "JSON");
/// assert_eq!(ExportData::of_string(b"caf\xe9".to_vec()).kind(), "bytes");
/// ```
#[derive(Debug, Clone)]
pub enum ExportData {
    /// A string holding JSON, kept as its exact text.
    Json(Box<RawValue>),
    /// A string holding UTF-8 text that is not JSON.
    Text(String),
    /// A string holding bytes that are not UTF-8.
    Bytes(Vec<u8>),
    /// A key of another Redis type, as `DUMP` serialized it.
    Other {
        /// The Redis type (`hash`, `list`, `set`, `zset`, `stream`, ...).
        redis_type: String,
        /// The `DUMP` payload.
        dump: Vec<u8>,
    },
}

impl PartialEq for ExportData {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Json(a), Self::Json(b)) => a.get() == b.get(),
            (Self::Text(a), Self::Text(b)) => a == b,
            (Self::Bytes(a), Self::Bytes(b)) => a == b,
            (
                Self::Other {
                    redis_type: t1,
                    dump: d1,
                },
                Self::Other {
                    redis_type: t2,
                    dump: d2,
                },
            ) => t1 == t2 && d1 == d2,
            _ => false,
        }
    }
}

impl ExportData {
    /// Classifies the bytes of a Redis string: JSON text that round-trips as written (no
    /// surrounding whitespace, which a JSON document would not keep), else text, else bytes.
    ///
    /// ```
    /// use motia_state::export::ExportData;
    /// assert!(matches!(ExportData::of_string(b"1e400".to_vec()), ExportData::Json(v) if v.get() == "1e400"));
    /// assert!(matches!(ExportData::of_string(b" 1".to_vec()), ExportData::Text(_)));
    /// assert!(matches!(ExportData::of_string(Vec::new()), ExportData::Text(t) if t.is_empty()));
    /// ```
    pub fn of_string(bytes: Vec<u8>) -> Self {
        match String::from_utf8(bytes) {
            Ok(text) => {
                let padded = text.starts_with(|c: char| c.is_ascii_whitespace())
                    || text.ends_with(|c: char| c.is_ascii_whitespace());
                if padded || text.is_empty() {
                    return Self::Text(text);
                }
                match serde_json::from_str::<&RawValue>(&text) {
                    Ok(raw) => Self::Json(raw.to_owned()),
                    Err(_) => Self::Text(text),
                }
            }
            Err(e) => Self::Bytes(e.into_bytes()),
        }
    }

    /// A short word for messages: `JSON`, `text`, `bytes` or the Redis type.
    ///
    /// ```
    /// use motia_state::export::ExportData;
    /// let other = ExportData::Other { redis_type: "hash".into(), dump: vec![] };
    /// assert_eq!(other.kind(), "hash");
    /// ```
    pub fn kind(&self) -> &str {
        match self {
            Self::Json(_) => "JSON",
            Self::Text(_) => "text",
            Self::Bytes(_) => "bytes",
            Self::Other { redis_type, .. } => redis_type,
        }
    }
}

/// One key of an export: its name after the prefix, what it held and its remaining lifetime.
///
/// ```
/// use motia_state::export::ExportItem;
/// let item: ExportItem =
///     serde_json::from_str(r#"{"groupId":"t1","key":"note","raw":"not json"}"#).unwrap();
/// assert_eq!((item.group_id(), item.key()), (Some(&b"t1"[..]), Some(&b"note"[..])));
/// assert_eq!(item.data.kind(), "text");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ExportItem {
    /// The full key without the prefix (`{traceId}:{key}` for Motia's keys), exact bytes.
    pub name: Vec<u8>,
    /// What the key held.
    pub data: ExportData,
    /// Remaining lifetime at export time, whole seconds; `None`: no expiry.
    pub ttl_seconds: Option<u64>,
}

impl ExportItem {
    /// An item holding JSON text (validated, kept as written).
    ///
    /// ```
    /// use motia_state::export::ExportItem;
    /// assert!(ExportItem::json(b"t", b"k", "{\"a\":1}", None).is_ok());
    /// assert!(ExportItem::json(b"t", b"k", "{", None).is_err());
    /// ```
    pub fn json(group: &[u8], key: &[u8], text: &str, ttl_seconds: Option<u64>) -> Result<Self> {
        let raw = RawValue::from_string(text.to_string()).map_err(|e| Error::invalid_json(&e))?;
        Ok(Self {
            name: join(group, key),
            data: ExportData::Json(raw),
            ttl_seconds,
        })
    }

    /// The trace id, when the name is `{traceId}:{key}` with a trace id that is not empty.
    ///
    /// ```
    /// use motia_state::export::ExportItem;
    /// let item = ExportItem::json(b"t", b"a:b", "1", None).unwrap();
    /// assert_eq!(item.group_id(), Some(&b"t"[..]));
    /// ```
    pub fn group_id(&self) -> Option<&[u8]> {
        split(&self.name).map(|(g, _)| g)
    }

    /// The key inside the trace (may be empty), under the same condition as
    /// [`group_id`](Self::group_id).
    ///
    /// ```
    /// use motia_state::export::ExportItem;
    /// let item = ExportItem::json(b"t", b"", "1", None).unwrap();
    /// assert_eq!(item.key(), Some(&b""[..]));
    /// ```
    pub fn key(&self) -> Option<&[u8]> {
        split(&self.name).map(|(_, k)| k)
    }
}

fn join(group: &[u8], key: &[u8]) -> Vec<u8> {
    let mut name = Vec::with_capacity(group.len() + 1 + key.len());
    name.extend_from_slice(group);
    name.push(b':');
    name.extend_from_slice(key);
    name
}

fn split(name: &[u8]) -> Option<(&[u8], &[u8])> {
    let colon = name.iter().position(|&b| b == b':')?;
    (colon > 0).then(|| (&name[..colon], &name[colon + 1..]))
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
        #[derive(Deserialize)]
        struct Head {
            format: Option<serde_json::Value>,
            version: Option<serde_json::Value>,
        }
        let head: Head = serde_json::from_str(text).map_err(|e| match e.classify() {
            serde_json::error::Category::Data => {
                Error::InvalidDocument(format!("expected an object with \"format\": \"{FORMAT}\""))
            }
            _ => Error::invalid_json(&e),
        })?;
        if head.format.as_ref().and_then(|f| f.as_str()) != Some(FORMAT) {
            return Err(Error::InvalidDocument(format!(
                "expected an object with \"format\": \"{FORMAT}\""
            )));
        }
        let version = head.version.as_ref().and_then(|v| v.as_u64());
        if !matches!(version, Some(1) | Some(2)) {
            return Err(Error::InvalidDocument(format!(
                "version {} is not supported (1 and 2 are)",
                head.version
                    .map_or_else(|| "(none)".to_string(), |v| v.to_string())
            )));
        }
        serde_json::from_str(text).map_err(|e| Error::InvalidDocument(e.to_string()))
    }

    /// The document as indented JSON text (stored JSON values written through as they are).
    ///
    /// ```
    /// use motia_state::export::ExportDocument;
    /// let doc = ExportDocument::parse(
    ///     r#"{"format":"motia-state-export","version":1,"prefix":"p:","items":[]}"#,
    /// ).unwrap();
    /// assert!(doc.to_pretty_string().contains("\n  \"prefix\": \"p:\""));
    /// ```
    pub fn to_pretty_string(&self) -> String {
        // Serializing cannot fail: every field is a string, number or validated raw JSON.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The items whose keys are not Motia state strings (other Redis types, names that are not
    /// `{traceId}:{key}`), for reporting.
    ///
    /// ```
    /// use motia_state::export::ExportDocument;
    /// let doc = ExportDocument::parse(
    ///     r#"{"format":"motia-state-export","version":2,"prefix":"p:","items":[{"name":"x","raw":""}]}"#,
    /// ).unwrap();
    /// assert_eq!(doc.unusual().count(), 1);
    /// ```
    pub fn unusual(&self) -> impl Iterator<Item = &ExportItem> {
        self.items
            .iter()
            .filter(|i| matches!(i.data, ExportData::Other { .. }) || i.group_id().is_none())
    }
}

/// Reads every key of one group (or, with `None`, of everything under the prefix) with its
/// TTL. The group is exact bytes (`"trace-1".as_ref()` or `b"o\xff"`); the `Option` takes a
/// slice so `None` needs no type annotation. `progress` is called with (items done, items
/// total) after each batch.
///
/// ```no_run
/// use motia_state::{Error, export};
/// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
/// let progress = |done, total| eprint!("\r{done}/{total}");
/// let doc = export::export(&state, Some(b"trace-1"), progress).await?;
/// std::fs::write("trace-1.json", doc.to_pretty_string())
///     .map_err(|source| Error::Io { path: "trace-1.json".into(), source })?;
/// let everything = export::export(&state, None, |_, _| {}).await?;
/// # Ok(()) }
/// ```
pub async fn export(
    adapter: &RedisStateAdapter,
    group: Option<&[u8]>,
    mut progress: impl FnMut(u64, u64),
) -> Result<ExportDocument> {
    let scan = match group {
        Some(g) => adapter.scan_group(g)?,
        None => adapter.scan_all(),
    };
    let mut full = scan.collect_all().await?;
    full.sort();
    let prefix_len = adapter.key_space().prefix().len();
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
        let mut others = Vec::new();
        for (k, r) in chunk.iter().zip(replies.chunks(2)) {
            let ttl_seconds = ttl_seconds(r.get(1));
            let data = match r.first() {
                Some(Ok(redis::Value::BulkString(b))) => ExportData::of_string(b.clone()),
                Some(Err(e)) if e.code() == Some("WRONGTYPE") => {
                    others.push(k);
                    continue;
                }
                Some(Err(e)) => {
                    return Err(Error::Redis {
                        context: format!("export of {}", escape::name(k)),
                        source: e.clone(),
                    });
                }
                // Gone since the scan.
                _ => continue,
            };
            items.push(ExportItem {
                name: k[prefix_len..].to_vec(),
                data,
                ttl_seconds,
            });
        }
        items.extend(dump_others(adapter, &others, prefix_len).await?);
        done += chunk.len() as u64;
        progress(done, total);
    }
    items.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(ExportDocument {
        format: FORMAT.into(),
        version: VERSION,
        prefix: adapter.key_space().prefix().to_string(),
        items,
    })
}

fn ttl_seconds(reply: Option<&redis::RedisResult<redis::Value>>) -> Option<u64> {
    match reply {
        Some(Ok(redis::Value::Int(ms))) => match Ttl::from_pttl(*ms) {
            Ttl::Expires(d) => Some(d.as_secs().max(1)),
            _ => None,
        },
        _ => None,
    }
}

/// `TYPE`, `DUMP` and `PTTL` of the keys that hold no string.
async fn dump_others(
    adapter: &RedisStateAdapter,
    keys: &[&Vec<u8>],
    prefix_len: usize,
) -> Result<Vec<ExportItem>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipe = redis::pipe();
    for k in keys {
        pipe.cmd("TYPE")
            .arg(k.as_slice())
            .cmd("DUMP")
            .arg(k.as_slice())
            .cmd("PTTL")
            .arg(k.as_slice());
    }
    pipe.ignore_errors();
    let replies: Vec<redis::RedisResult<redis::Value>> = adapter
        .conn
        .query_pipe(&pipe, Retry::Safe, "export (DUMP)")
        .await?;
    let mut out = Vec::new();
    for (k, r) in keys.iter().zip(replies.chunks(3)) {
        let redis_type = match r.first() {
            Some(Ok(redis::Value::SimpleString(s))) => s.clone(),
            Some(Ok(redis::Value::BulkString(b))) => String::from_utf8_lossy(b).into_owned(),
            _ => continue,
        };
        let dump = match r.get(1) {
            Some(Ok(redis::Value::BulkString(b))) => b.clone(),
            Some(Err(e)) => {
                return Err(Error::Redis {
                    context: format!("DUMP of {} ({redis_type})", escape::name(k)),
                    source: e.clone(),
                });
            }
            // Gone since the scan.
            _ => continue,
        };
        out.push(ExportItem {
            name: k[prefix_len..].to_vec(),
            data: ExportData::Other { redis_type, dump },
            ttl_seconds: ttl_seconds(r.get(2)),
        });
    }
    Ok(out)
}

/// Writes a document's items under the adapter's prefix, exactly as exported. Without
/// `overwrite`, refuses (and writes nothing) when any of its keys exists already, naming the
/// first few.
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
    let prefix = adapter.key_space().prefix().as_bytes();
    let full: Vec<Vec<u8>> = doc
        .items
        .iter()
        .map(|item| [prefix, &item.name].concat())
        .collect();
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
        let shown: Vec<String> = existing
            .iter()
            .take(5)
            .map(|k| escape::name(k).into_owned())
            .collect();
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
            let ttl = item.ttl_seconds.filter(|s| *s > 0);
            if let ExportData::Other { dump, .. } = &item.data {
                // RESTORE refuses an existing key without REPLACE; SET replaces any type, so a
                // string item needs no DEL first.
                let cmd = pipe
                    .cmd("RESTORE")
                    .arg(k)
                    .arg(ttl.map_or(0, |s| Duration::from_secs(s).as_millis() as u64))
                    .arg(dump.as_slice());
                if overwrite {
                    cmd.arg("REPLACE");
                }
            } else {
                let cmd = pipe.cmd("SET").arg(k);
                match &item.data {
                    ExportData::Json(v) => cmd.arg(v.get()),
                    ExportData::Text(t) => cmd.arg(t.as_str()),
                    ExportData::Bytes(b) => cmd.arg(b.as_slice()),
                    ExportData::Other { .. } => cmd,
                };
                if let Some(secs) = ttl {
                    cmd.arg("EX").arg(secs);
                }
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
