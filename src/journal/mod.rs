//! The write journal: before every write the CLI or the browser makes, one JSON line with the
//! before-image of each key it changes, so that the write can be undone.
//!
//! The file is `journal.jsonl` in the user's data directory (`MOTIA_STATE_JOURNAL` names another
//! directory), mode 0600, and capped (`MOTIA_STATE_JOURNAL_MAX`, bytes): the oldest entries are
//! dropped. Bytes (names, DUMP payloads, values) are base64, so they are kept exactly. The server
//! is its URL without the password.

mod file;

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use motia_state::adapter::gc::GcPlan;
use motia_state::adapter::journal::{After, Image, KeyChange};
use motia_state::export::{ExportData, ExportDocument};
use motia_state::{Config, RedisStateAdapter};
use serde_json::{Value, json};

/// This run's journal; `None`: journalling is off (`--no-journal`, the profile's
/// `journal = false`) or not configured (the browser's unit tests).
static CURRENT: OnceLock<Option<Journal>> = OnceLock::new();

/// Turns the journal on or off for this run (the first call decides).
pub fn configure(on: bool) -> Result<(), String> {
    let journal = if on { Some(Journal::from_env()?) } else { None };
    let _ = CURRENT.set(journal);
    Ok(())
}

/// This run's journal, when it is on.
pub fn current() -> Option<&'static Journal> {
    CURRENT.get().and_then(Option::as_ref)
}

/// The cap when `MOTIA_STATE_JOURNAL_MAX` does not set one.
pub const DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;

pub use file::{Appended, Journal};

/// One journalled write.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Counts up from 1 in one journal.
    pub id: u64,
    /// UTC, RFC 3339 with milliseconds.
    pub time: String,
    /// The server's URL without the password.
    pub server: String,
    pub db: i64,
    pub prefix: String,
    /// `set`, `del`, `clear`, `expire`, `import`, `gc`, `save`, `undo`, `restore`, ...
    pub operation: String,
    /// The entry this one undoes.
    pub undoes: Option<u64>,
    pub changes: Vec<KeyChange>,
}

impl Entry {
    /// An entry for a write to the server of `state` (its id is given when it is appended).
    pub fn new(state: &RedisStateAdapter, operation: &str, changes: Vec<KeyChange>) -> Self {
        Self::for_config(state.config(), operation, changes)
    }

    pub fn for_config(config: &Config, operation: &str, changes: Vec<KeyChange>) -> Self {
        Self {
            id: 0,
            time: chrono::Utc::now()
                .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                .to_string(),
            server: config.display_url(),
            db: config.database,
            prefix: config.key_prefix.clone(),
            operation: operation.to_string(),
            undoes: None,
            changes,
        }
    }

    /// Whether this entry was written to the server `config` connects to.
    pub fn same_server(&self, config: &Config) -> bool {
        self.server == config.display_url() && self.db == config.database
    }

    pub(crate) fn to_json(&self) -> Value {
        let image = |i: &Image| {
            json!({
                "type": i.redis_type,
                "dump": BASE64.encode(&i.dump),
                "pttlMs": i.pttl_ms,
            })
        };
        let after = |a: &After| match a {
            After::Absent => json!({"absent": true}),
            After::Same => json!({"same": true}),
            After::Value(v) => json!({"value": BASE64.encode(v)}),
            After::Dump(d) => json!({"dump": BASE64.encode(d)}),
        };
        let keys: Vec<Value> = self
            .changes
            .iter()
            .map(|c| {
                let mut k = json!({
                    "name": BASE64.encode(&c.full_key),
                    "before": c.before.as_ref().map(image),
                    "after": after(&c.after),
                });
                if let Some(f) = &c.field {
                    k["field"] = BASE64.encode(f).into();
                }
                k
            })
            .collect();
        json!({
            "id": self.id,
            "time": self.time,
            "server": self.server,
            "db": self.db,
            "prefix": self.prefix,
            "operation": self.operation,
            "undoes": self.undoes,
            "keys": keys,
        })
    }

    pub(crate) fn from_json(v: &Value) -> Option<Self> {
        let bytes = |v: &Value| BASE64.decode(v.as_str()?).ok();
        let text = |k: &str| v.get(k)?.as_str().map(str::to_string);
        let mut changes = Vec::new();
        for k in v.get("keys")?.as_array()? {
            let before = match k.get("before")? {
                Value::Null => None,
                b => Some(Image {
                    redis_type: b.get("type")?.as_str()?.to_string(),
                    dump: bytes(b.get("dump")?)?,
                    pttl_ms: b.get("pttlMs").and_then(Value::as_u64),
                }),
            };
            let a = k.get("after")?;
            let after = if let Some(v) = a.get("value") {
                After::Value(bytes(v)?)
            } else if let Some(d) = a.get("dump") {
                After::Dump(bytes(d)?)
            } else if a.get("same").is_some() {
                After::Same
            } else {
                After::Absent
            };
            let field = match k.get("field") {
                Some(f) => Some(bytes(f)?),
                None => None,
            };
            changes.push(KeyChange {
                full_key: bytes(k.get("name")?)?,
                field,
                before,
                after,
            });
        }
        Some(Self {
            id: v.get("id")?.as_u64()?,
            time: text("time")?,
            server: text("server")?,
            db: v.get("db")?.as_i64()?,
            prefix: text("prefix")?,
            operation: text("operation")?,
            undoes: v.get("undoes").and_then(Value::as_u64),
            changes,
        })
    }
}

/// A change a write is about to make: the key (and the hash field, on the iii layout) and
/// what the write leaves there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub key: Vec<u8>,
    pub field: Option<Vec<u8>>,
    pub after: After,
}

impl Planned {
    /// A change of a whole key.
    pub fn key(key: impl Into<Vec<u8>>, after: After) -> Self {
        Self {
            key: key.into(),
            field: None,
            after,
        }
    }

    /// A change of one field of the hash `key`.
    pub fn field(key: impl Into<Vec<u8>>, field: impl Into<Vec<u8>>, after: After) -> Self {
        Self {
            key: key.into(),
            field: Some(field.into()),
            after,
        }
    }
}

/// Reads the before-images of `changes` into an entry. Keys (fields) that do not exist and
/// that the write does not create are left out.
pub async fn capture(
    state: &RedisStateAdapter,
    operation: &str,
    changes: Vec<Planned>,
) -> motia_state::Result<Entry> {
    let keys: Vec<&[u8]> = changes
        .iter()
        .filter(|c| c.field.is_none())
        .map(|c| c.key.as_slice())
        .collect();
    let fields: Vec<(&[u8], &[u8])> = changes
        .iter()
        .filter_map(|c| Some((c.key.as_slice(), c.field.as_deref()?)))
        .collect();
    let mut key_images = state.before_images(&keys).await?.into_iter();
    let mut field_images = if fields.is_empty() {
        Vec::new()
    } else {
        state.field_images(&fields).await?
    }
    .into_iter();
    let fields_only = keys.is_empty() && !fields.is_empty();
    let changes: Vec<KeyChange> = changes
        .into_iter()
        .map(|c| {
            let before = match c.field {
                None => key_images.next().flatten(),
                Some(_) => field_images.next().flatten(),
            };
            KeyChange {
                full_key: c.key,
                field: c.field,
                before,
                after: c.after,
            }
        })
        .filter(|c| c.before.is_some() || matches!(c.after, After::Value(_) | After::Dump(_)))
        .collect();
    let mut entry = Entry::new(state, operation, changes);
    if fields_only {
        // The iii layout's names: its scope hashes, whatever the 0.x prefix is set to.
        entry.prefix = motia_state::adapter::layout::SCOPE_PREFIX.into();
    }
    Ok(entry)
}

/// What journalling a write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// Kept under this id.
    Kept(u64),
    /// The write changes no existing key and creates none: nothing to keep.
    Nothing,
    /// The before-images exceed the cap: nothing was kept (`what` says so, for the user).
    TooBig { what: String },
}

/// Why a write could not be journalled.
#[derive(Debug)]
pub enum RecordError {
    /// The server refused to give the before-images (an ACL without DUMP, a lost connection).
    Server(motia_state::Error),
    /// The journal file cannot be written.
    File(String),
}

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Server(e) => write!(
                f,
                "cannot journal the write ({e}; give --no-journal to write without it)"
            ),
            Self::File(m) => f.write_str(m),
        }
    }
}

impl From<RecordError> for String {
    fn from(e: RecordError) -> Self {
        e.to_string()
    }
}

/// Captures and appends the before-images of a write (`undoes`: the entry an undo undoes).
/// An error (the server refused DUMP, the file cannot be written) means the write must not be
/// made.
pub async fn record(
    journal: &Journal,
    state: &RedisStateAdapter,
    operation: &str,
    changes: Vec<Planned>,
    undoes: Option<u64>,
) -> Result<Recorded, RecordError> {
    let mut entry = capture(state, operation, changes)
        .await
        .map_err(RecordError::Server)?;
    if entry.changes.is_empty() {
        return Ok(Recorded::Nothing);
    }
    entry.undoes = undoes;
    match journal.append(&mut entry).map_err(RecordError::File)? {
        Appended::Kept(id) => Ok(Recorded::Kept(id)),
        Appended::TooBig { size, max } => Ok(Recorded::TooBig {
            what: format!(
                "the journal cannot keep the before-images of this write ({size} bytes of {} \
                 key(s); its cap is {max} bytes, MOTIA_STATE_JOURNAL_MAX): it could not be undone",
                entry.changes.len(),
            ),
        }),
    }
}

/// What undoing a change does, for a dry run or a question.
pub fn describe_undo(change: &KeyChange, prefix: &str) -> String {
    let name = change_name(change, prefix);
    match &change.before {
        None => format!("delete {name} (the write created it)"),
        Some(image) => {
            let ttl = match image.pttl_ms {
                None => "no expiry".to_string(),
                Some(ms) => format!(
                    "TTL {}",
                    motia_state::format_duration(std::time::Duration::from_millis(ms))
                ),
            };
            let how = if change.after == After::Same {
                "give back the expiry of"
            } else {
                "restore"
            };
            format!("{how} {name} ({}, {ttl})", image.redis_type)
        }
    }
}

/// How a change's key is shown: without the prefix (`t1:order`), a field after its scope
/// (`orders:o-1`), escaped.
pub fn change_name(change: &KeyChange, prefix: &str) -> String {
    let key = change
        .full_key
        .strip_prefix(prefix.as_bytes())
        .unwrap_or(&change.full_key);
    match &change.field {
        None => motia_state::escape::name(key).into_owned(),
        Some(f) => format!(
            "{}:{}",
            motia_state::escape::name(key),
            motia_state::escape::name(f)
        ),
    }
}

/// What an undo did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndoReport {
    /// The journal entry of the undo itself.
    pub journalled: Recorded,
    pub restored: u64,
    /// Keys that changed since the journalled write, left as they are ([`change_name`]).
    pub conflicts: Vec<String>,
}

/// Undoes an entry key by key, compare-and-set, journalled itself (as `undo`, undoing it).
/// Goes ahead when the journal cannot keep the undo (the user confirmed the undo).
pub async fn undo(
    journal: &Journal,
    state: &RedisStateAdapter,
    entry: &Entry,
) -> Result<UndoReport, String> {
    let changes = entry
        .changes
        .iter()
        .map(|c| Planned {
            key: c.full_key.clone(),
            field: c.field.clone(),
            after: c.undone(),
        })
        .collect();
    let journalled = record(journal, state, "undo", changes, Some(entry.id)).await?;
    let mut report = UndoReport {
        journalled,
        restored: 0,
        conflicts: Vec::new(),
    };
    for c in &entry.changes {
        if state.undo_change(c).await.map_err(|e| e.to_string())? {
            report.restored += 1;
        } else {
            report.conflicts.push(change_name(c, &entry.prefix));
        }
    }
    Ok(report)
}

/// The names an entry changed, as one line.
pub fn key_list(entry: &Entry, max: usize) -> String {
    let mut names: Vec<String> = entry
        .changes
        .iter()
        .take(max)
        .map(|c| change_name(c, &entry.prefix))
        .collect();
    if entry.changes.len() > max {
        names.push(format!("and {} more", entry.changes.len() - max));
    }
    names.join(", ")
}

/// The keys an import writes and what it leaves in them.
pub fn import_changes(prefix: &str, doc: &ExportDocument) -> Vec<Planned> {
    doc.items
        .iter()
        .map(|item| {
            let after = match &item.data {
                ExportData::Json(v) => After::Value(v.get().as_bytes().to_vec()),
                ExportData::Text(t) => After::Value(t.as_bytes().to_vec()),
                ExportData::Bytes(b) => After::Value(b.clone()),
                ExportData::Other { dump, .. } => After::Dump(dump.clone()),
            };
            Planned::key([prefix.as_bytes(), &item.name].concat(), after)
        })
        .collect()
}

/// A `gc` plan for after its keys' before-images were read. `DUMP` counts as an access on a
/// server without `CLIENT NO-TOUCH`, so an idle time measured before it can no longer tell a
/// change: the write is then checked by size and expiry only (a change in between is in the
/// before-image, so undo still restores the last value).
pub fn after_capture(plan: &GcPlan) -> GcPlan {
    let mut plan = plan.clone();
    for k in plan.traces.iter_mut().flat_map(|t| t.keys.iter_mut()) {
        k.idle_secs = None;
    }
    plan
}
