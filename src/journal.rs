//! The write journal: before every write the CLI or the browser makes, one JSON line with the
//! before-image of each key it changes, so that the write can be undone.
//!
//! The file is `journal.jsonl` in the user's data directory (`MOTIA_STATE_JOURNAL` names another
//! directory), mode 0600, and capped (`MOTIA_STATE_JOURNAL_MAX`, bytes): the oldest entries are
//! dropped. Bytes (names, DUMP payloads, values) are base64, so they are kept exactly. The server
//! is its URL without the password.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
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

const FILE_NAME: &str = "journal.jsonl";

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

    fn to_json(&self) -> Value {
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
                json!({
                    "name": BASE64.encode(&c.full_key),
                    "before": c.before.as_ref().map(image),
                    "after": after(&c.after),
                })
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

    fn from_json(v: &Value) -> Option<Self> {
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
            changes.push(KeyChange {
                full_key: bytes(k.get("name")?)?,
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

/// What appending did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    /// Kept under this id.
    Kept(u64),
    /// The entry alone is larger than the cap: nothing was kept.
    TooBig { size: u64, max: u64 },
}

/// The journal file and its cap.
#[derive(Debug, Clone)]
pub struct Journal {
    pub path: PathBuf,
    pub max_bytes: u64,
}

impl Journal {
    /// The journal of this user: `MOTIA_STATE_JOURNAL` (a directory) or the data directory.
    pub fn from_env() -> Result<Self, String> {
        let env = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
        let dir = match env("MOTIA_STATE_JOURNAL") {
            Some(d) => PathBuf::from(d),
            None => directories::ProjectDirs::from("dev", "motia", "motia-state")
                .map(|d| d.data_dir().to_path_buf())
                .ok_or("no home directory to keep the write journal in (set MOTIA_STATE_JOURNAL to a directory, or give --no-journal)")?,
        };
        let max_bytes = match env("MOTIA_STATE_JOURNAL_MAX") {
            None => DEFAULT_MAX_BYTES,
            Some(v) => v
                .parse()
                .map_err(|_| format!("MOTIA_STATE_JOURNAL_MAX: {v:?} is not a number of bytes"))?,
        };
        Ok(Self {
            path: dir.join(FILE_NAME),
            max_bytes,
        })
    }

    /// How large `entry` is as a line of the journal.
    pub fn size_of(entry: &Entry) -> u64 {
        entry.to_json().to_string().len() as u64 + 1
    }

    /// Appends `entry` (setting its id), dropping the oldest entries past the cap. An entry
    /// larger than the cap is not kept: [`Appended::TooBig`].
    pub fn append(&self, entry: &mut Entry) -> Result<Appended, String> {
        let size = Self::size_of(entry);
        if size > self.max_bytes {
            return Ok(Appended::TooBig {
                size,
                max: self.max_bytes,
            });
        }
        let fail = |e: std::io::Error| {
            format!(
                "cannot write the journal {}: {e} (give --no-journal to write without it)",
                self.path.display()
            )
        };
        let mut file = self.open().map_err(fail)?;
        lock(&file).map_err(fail)?;
        entry.id = last_id(&mut file).map_err(fail)? + 1;
        let mut line = entry.to_json().to_string();
        line.push('\n');
        file.seek(SeekFrom::End(0)).map_err(fail)?;
        file.write_all(line.as_bytes()).map_err(fail)?;
        file.sync_data().map_err(fail)?;
        let len = file.metadata().map_err(fail)?.len();
        if len > self.max_bytes {
            self.trim(&mut file).map_err(fail)?;
        }
        Ok(Appended::Kept(entry.id))
    }

    /// Every entry, oldest first (none when there is no journal yet).
    pub fn entries(&self) -> Result<Vec<Entry>, String> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(format!(
                    "cannot read the journal {}: {e}",
                    self.path.display()
                ));
            }
        };
        let mut out = Vec::new();
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.is_empty()) {
            let entry = serde_json::from_str::<Value>(line)
                .ok()
                .and_then(|v| Entry::from_json(&v))
                .ok_or_else(|| {
                    format!(
                        "the journal {} is damaged at line {}",
                        self.path.display(),
                        n + 1
                    )
                })?;
            out.push(entry);
        }
        Ok(out)
    }

    fn open(&self) -> std::io::Result<File> {
        if let Some(dir) = self.path.parent() {
            create_private_dir(dir)?;
        }
        let mut options = OpenOptions::new();
        options.read(true).append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        options.open(&self.path)
    }

    /// Keeps the newest entries that fit the cap, written to a new file moved into place.
    fn trim(&self, file: &mut File) -> std::io::Result<()> {
        let mut text = Vec::new();
        file.seek(SeekFrom::Start(0))?;
        file.read_to_end(&mut text)?;
        let mut start = 0;
        while (text.len() - start) as u64 > self.max_bytes {
            match text[start..].iter().position(|b| *b == b'\n') {
                Some(n) => start += n + 1,
                None => start = text.len(),
            }
        }
        let tmp = self.path.with_extension("jsonl.tmp");
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut out = options.open(&tmp)?;
        out.write_all(&text[start..])?;
        out.sync_data()?;
        std::fs::rename(&tmp, &self.path)
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// An exclusive lock for the process's lifetime of `file`, so that the browser and a CLI run
/// do not interleave ids or trims.
#[cfg(unix)]
fn lock(file: &File) -> std::io::Result<()> {
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock on a descriptor this function borrows; released when the file closes.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(unix))]
fn lock(_: &File) -> std::io::Result<()> {
    Ok(())
}

/// The id of the last line (`{"id":N,...}`), read from the end of the file; 0 when empty.
fn last_id(file: &mut File) -> std::io::Result<u64> {
    let len = file.metadata()?.len();
    let mut tail = 4096u64;
    loop {
        let from = len.saturating_sub(tail);
        file.seek(SeekFrom::Start(from))?;
        let mut buf = Vec::new();
        file.read_to_end(&mut buf)?;
        let body = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let line_start = body.iter().rposition(|b| *b == b'\n').map(|n| n + 1);
        let line = match (line_start, from) {
            (Some(n), _) => &body[n..],
            (None, 0) => body,
            (None, _) => {
                tail *= 4;
                continue;
            }
        };
        let id = line
            .strip_prefix(b"{\"id\":")
            .map(|rest| {
                rest.iter()
                    .take_while(|b| b.is_ascii_digit())
                    .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'))
            })
            .unwrap_or(0);
        return Ok(id);
    }
}

/// Reads the before-images of `changes` (full key and what the write leaves) into an entry.
/// Keys that do not exist and that the write does not create are left out.
pub async fn capture(
    state: &RedisStateAdapter,
    operation: &str,
    changes: Vec<(Vec<u8>, After)>,
) -> motia_state::Result<Entry> {
    let keys: Vec<&[u8]> = changes.iter().map(|(k, _)| k.as_slice()).collect();
    let images = state.before_images(&keys).await?;
    let changes = changes
        .into_iter()
        .zip(images)
        .filter(|((_, after), before)| {
            before.is_some() || matches!(after, After::Value(_) | After::Dump(_))
        })
        .map(|((full_key, after), before)| KeyChange {
            full_key,
            before,
            after,
        })
        .collect();
    Ok(Entry::new(state, operation, changes))
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
    changes: Vec<(Vec<u8>, After)>,
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
    let name = change
        .full_key
        .strip_prefix(prefix.as_bytes())
        .unwrap_or(&change.full_key);
    let name = motia_state::escape::name(name);
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

/// What an undo did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndoReport {
    /// The journal entry of the undo itself.
    pub journalled: Recorded,
    pub restored: u64,
    /// Keys that changed since the journalled write, left as they are.
    pub conflicts: Vec<Vec<u8>>,
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
        .map(|c| (c.full_key.clone(), c.undone()))
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
            report.conflicts.push(c.full_key.clone());
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
        .map(|c| {
            let shown = c
                .full_key
                .strip_prefix(entry.prefix.as_bytes())
                .unwrap_or(&c.full_key);
            motia_state::escape::name(shown).into_owned()
        })
        .collect();
    if entry.changes.len() > max {
        names.push(format!("and {} more", entry.changes.len() - max));
    }
    names.join(", ")
}

/// The keys an import writes and what it leaves in them.
pub fn import_changes(prefix: &str, doc: &ExportDocument) -> Vec<(Vec<u8>, After)> {
    doc.items
        .iter()
        .map(|item| {
            let after = match &item.data {
                ExportData::Json(v) => After::Value(v.get().as_bytes().to_vec()),
                ExportData::Text(t) => After::Value(t.as_bytes().to_vec()),
                ExportData::Bytes(b) => After::Value(b.clone()),
                ExportData::Other { dump, .. } => After::Dump(dump.clone()),
            };
            ([prefix.as_bytes(), &item.name].concat(), after)
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
