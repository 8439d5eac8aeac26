//! Motia's operations: get, set, delete, getGroup, clear, keys, traceIds, items.

use std::collections::BTreeMap;
use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::task::JoinHandle;

use crate::adapter::RedisStateAdapter;
use crate::adapter::conn::{Conn, Retry};
use crate::adapter::error::{Error, Result};
use crate::adapter::escape;
use crate::adapter::filter::StateFilter;
use crate::adapter::item::{ItemsQuery, RawItem, StateItem, ValueType};
use crate::adapter::json;
use crate::adapter::keys::validate_group;
use crate::adapter::scan::KeyScanner;

/// Atomic delete for servers older than 6.2 (no GETDEL).
const GETDEL_SCRIPT: &str = r"
local v = redis.call('GET', KEYS[1])
if v then redis.call('DEL', KEYS[1]) end
return v";

/// One entry per key of an MGET: `None` for missing, empty or non-string keys, `Some(None)` for
/// a value that is not JSON.
type MgetReply = Vec<Option<Option<Value>>>;

/// Batches of `items` fetched ahead; bounds the memory of replies not yet parsed.
const MAX_MGET_IN_FLIGHT: usize = 8;

/// Fetches and decodes one batch (in its own task, so decoding uses another core); `None` for
/// missing, empty or non-string keys.
async fn mget_batch<T>(
    conn: Conn,
    keys: Vec<Vec<u8>>,
    decode: fn(Vec<u8>) -> T,
) -> Result<Vec<Option<T>>> {
    let mut cmd = redis::cmd("MGET");
    cmd.arg(&keys);
    let raw: Vec<Option<Vec<u8>>> = conn.query(&cmd, Retry::Safe, "MGET").await?;
    Ok(raw
        .into_iter()
        .map(|v| v.filter(|b| !b.is_empty()).map(decode))
        .collect())
}

fn parse_value(bytes: Vec<u8>) -> Option<Value> {
    serde_json::from_slice(&bytes).ok()
}

fn raw_value(bytes: Vec<u8>) -> Option<(ValueType, String)> {
    RawItem::validate(bytes)
}

impl RedisStateAdapter {
    pub(in crate::adapter) fn ensure_writable(&self, operation: &'static str) -> Result<()> {
        if self.config.read_only {
            Err(Error::ReadOnly { operation })
        } else {
            Ok(())
        }
    }

    /// Replaces a WRONGTYPE error by one that names the type found.
    pub(in crate::adapter) async fn explain(&self, err: Error, full_key: &[u8]) -> Error {
        if let Error::Redis { source, .. } = &err
            && source.code() == Some("WRONGTYPE")
        {
            let found: Result<String> = self
                .conn
                .query(redis::cmd("TYPE").arg(full_key), Retry::Safe, "TYPE")
                .await;
            return Error::WrongType {
                key: crate::adapter::escape::name(full_key).into_owned(),
                found: found.unwrap_or_else(|_| "non-string type".into()),
            };
        }
        err
    }

    fn parse_stored<T: DeserializeOwned>(full_key: &str, bytes: &[u8]) -> Result<Option<T>> {
        // Motia treats an empty string as missing.
        if bytes.is_empty() {
            return Ok(None);
        }
        let value: Value =
            serde_json::from_slice(bytes).map_err(|source| Error::InvalidStoredJson {
                key: full_key.to_string(),
                source,
            })?;
        serde_json::from_value(value)
            .map(Some)
            .map_err(|source| Error::Convert {
                key: full_key.to_string(),
                source,
            })
    }

    /// The exact stored bytes of an item, `None` when missing.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// if let Some(bytes) = state.get_raw("trace-1", "order").await? {
    ///     println!("{}", String::from_utf8_lossy(&bytes));
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn get_raw(&self, group: &str, key: &str) -> Result<Option<Vec<u8>>> {
        let full = self.keys.full_key(group, key)?;
        self.get_raw_full(&full).await
    }

    /// The item decoded into `T` (use `serde_json::Value` for any JSON); `None` when missing.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// #[derive(serde::Deserialize)]
    /// struct Order { id: u64 }
    /// let order: Option<Order> = state.get("trace-1", "order").await?;
    /// # Ok(()) }
    /// ```
    pub async fn get<T: DeserializeOwned>(&self, group: &str, key: &str) -> Result<Option<T>> {
        let full = self.keys.full_key(group, key)?;
        match self.get_raw(group, key).await? {
            Some(bytes) => Self::parse_stored(&full, &bytes),
            None => Ok(None),
        }
    }

    /// Stores `value` as compact JSON, with the configured TTL (`SETEX`) or without (`SET`,
    /// which drops an existing expiry), exactly as the official adapter does.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// #[derive(serde::Serialize)]
    /// struct Order { id: u64, status: String }
    /// state.set("trace-1", "order", &Order { id: 7, status: "paid".into() }).await?;
    /// # Ok(()) }
    /// ```
    pub async fn set<T: Serialize + ?Sized>(
        &self,
        group: &str,
        key: &str,
        value: &T,
    ) -> Result<()> {
        let ttl = self.config.ttl.map(Duration::from_secs);
        self.set_with_ttl(group, key, value, ttl).await
    }

    /// Like [`set`](Self::set) with an expiry for this write only (`None`: no expiry).
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let ttl = Some(Duration::from_secs(600));
    /// state.set_with_ttl("trace-1", "session", "abc123", ttl).await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_with_ttl<T: Serialize + ?Sized>(
        &self,
        group: &str,
        key: &str,
        value: &T,
        ttl: Option<Duration>,
    ) -> Result<()> {
        let full = self.keys.full_key(group, key)?;
        let text = json::to_js_string(value).map_err(|source| Error::Convert {
            key: full.clone(),
            source,
        })?;
        self.write_text(full.as_bytes(), &text, ttl).await
    }

    /// Validates JSON text, stores it as written with only insignificant whitespace removed
    /// (numbers keep their spelling: `1.5e10` stays `1.5e10`) and returns what was stored.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let stored = state.set_json("trace-1", "order", "{ \"id\": 7, \"n\": 1.5e10 }", None).await?;
    /// assert_eq!(stored, r#"{"id":7,"n":1.5e10}"#);
    /// # Ok(()) }
    /// ```
    pub async fn set_json(
        &self,
        group: &str,
        key: &str,
        text: &str,
        ttl: Option<Duration>,
    ) -> Result<String> {
        let full = self.keys.full_key(group, key)?;
        self.set_json_full(&full, text, ttl).await
    }

    /// [`set_json`](Self::set_json) by full Redis key (exact bytes, for names that are not UTF-8).
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let full = state.key_space().full_key_bytes(b"o1", b"k\xffx")?;
    /// state.set_json_full(&full, "[1, 2]", None).await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_json_full(
        &self,
        full: impl AsRef<[u8]>,
        text: &str,
        ttl: Option<Duration>,
    ) -> Result<String> {
        let compact = json::compact(text)?;
        self.write_text(full.as_ref(), &compact, ttl).await?;
        Ok(compact)
    }

    async fn write_text(&self, full: &[u8], text: &str, ttl: Option<Duration>) -> Result<()> {
        self.ensure_writable("set")?;
        let mut cmd = redis::cmd("SET");
        cmd.arg(full).arg(text);
        if let Some(ttl) = ttl {
            if ttl.subsec_millis() == 0 {
                cmd.arg("EX").arg(ttl.as_secs().max(1));
            } else {
                cmd.arg("PX").arg(ttl.as_millis() as u64);
            }
        }
        let done: Result<()> = self
            .conn
            .query(&cmd, Retry::Safe, &format!("SET {}", escape::name(full)))
            .await;
        done
    }

    /// Deletes an item atomically and returns the stored bytes it had.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// match state.delete_raw("trace-1", "order").await? {
    ///     Some(old) => println!("removed {} bytes", old.len()),
    ///     None => println!("nothing to remove"),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn delete_raw(&self, group: &str, key: &str) -> Result<Option<Vec<u8>>> {
        let full = self.keys.full_key(group, key)?;
        self.delete_raw_full(&full).await
    }

    /// [`delete_raw`](Self::delete_raw) by full Redis key (exact bytes). A key of another type
    /// than string is refused with [`Error::WrongType`] and left as it is.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let full = state.key_space().full_key_bytes(b"o1", b"k\xffx")?;
    /// let old = state.delete_raw_full(&full).await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_raw_full(&self, full: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        let full = full.as_ref();
        self.ensure_writable("delete")?;
        let shown = escape::name(full);
        let attempt: Result<Option<Vec<u8>>> = self
            .conn
            .query(
                redis::cmd("GETDEL").arg(full),
                Retry::Never,
                &format!("GETDEL {shown}"),
            )
            .await;
        match attempt {
            Err(Error::Redis { source, .. })
                if source
                    .to_string()
                    .to_ascii_lowercase()
                    .contains("unknown command") =>
            {
                let script = redis::Script::new(GETDEL_SCRIPT);
                let mut inv = script.prepare_invoke();
                inv.key(full);
                let r = self
                    .conn
                    .invoke(&inv, Retry::Never, &format!("delete {shown}"))
                    .await;
                match r {
                    Ok(v) => Ok(v),
                    Err(e) => Err(self.explain(e, full).await),
                }
            }
            Err(e) => Err(self.explain(e, full).await),
            Ok(v) => Ok(v),
        }
    }

    /// Deletes an item atomically (`GETDEL`) and returns its old value, `None` when it was
    /// missing. An old value that was not JSON comes back as a JSON string of its text.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// if let Some(old) = state.delete("trace-1", "order").await? {
    ///     println!("removed {old}");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn delete(&self, group: &str, key: &str) -> Result<Option<Value>> {
        Ok(self.delete_raw(group, key).await?.and_then(|bytes| {
            if bytes.is_empty() {
                return None;
            }
            Some(
                serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                    Value::String(String::from_utf8_lossy(&bytes).into_owned())
                }),
            )
        }))
    }

    /// A paged, de-duplicated scan of every key under the prefix.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let keys = state.scan_all().collect_all().await?;
    /// println!("{} keys under the prefix", keys.len());
    /// # Ok(()) }
    /// ```
    pub fn scan_all(&self) -> KeyScanner {
        KeyScanner::new(
            self.conn.clone(),
            self.keys.all_pattern().into_bytes(),
            self.config.scan_count,
        )
    }

    /// A paged, de-duplicated scan of one group's keys (full Redis keys).
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let full_keys = state.scan_group("trace-1")?.collect_all().await?;
    /// let metas = state.key_meta(&full_keys).await?;
    /// # Ok(()) }
    /// ```
    pub fn scan_group(&self, group: &str) -> Result<KeyScanner> {
        self.scan_group_bytes(group.as_bytes())
    }

    /// [`scan_group`](Self::scan_group) of a group id given as exact bytes.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let full_keys = state.scan_group_bytes(b"o\xff")?.collect_all_bytes().await?;
    /// # Ok(()) }
    /// ```
    pub fn scan_group_bytes(&self, group: &[u8]) -> Result<KeyScanner> {
        Ok(KeyScanner::new(
            self.conn.clone(),
            self.keys.group_pattern_bytes(group)?,
            self.config.scan_count,
        ))
    }

    /// The keys of a group (prefix and group stripped), each once, in SCAN order. Keys that are
    /// not UTF-8 cannot be a `String`: [`keys_bytes`](Self::keys_bytes) lists every key.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// for key in state.keys("trace-1").await? {
    ///     println!("{key}");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn keys(&self, group: &str) -> Result<Vec<String>> {
        let full = self.scan_group(group)?.collect_all().await?;
        Ok(full
            .iter()
            .filter_map(|k| self.keys.split(k).map(|(_, key)| key.to_string()))
            .collect())
    }

    /// Every key of a group as exact bytes (prefix and group stripped), each once, in SCAN order.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// for key in state.keys_bytes(b"o1").await? {
    ///     println!("{}", motia_state::escape::name(&key));
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn keys_bytes(&self, group: &[u8]) -> Result<Vec<Vec<u8>>> {
        let full = self.scan_group_bytes(group)?.collect_all_bytes().await?;
        Ok(full
            .iter()
            .filter_map(|k| self.keys.split_bytes(k).map(|(_, key)| key.to_vec()))
            .collect())
    }

    /// Raw values of full Redis keys with `MGET` in bounded batches, in the order given; `None`
    /// for a missing or non-string key.
    ///
    /// ```no_run
    /// # async fn demo(state: &motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let keys = vec!["motia:state:trace-1:order".to_string()];
    /// let values = state.get_raw_many_full(&keys).await?;
    /// assert_eq!(values.len(), 1);
    /// # Ok(()) }
    /// ```
    pub async fn get_raw_many_full<K: AsRef<[u8]>>(
        &self,
        full_keys: &[K],
    ) -> Result<Vec<Option<Vec<u8>>>> {
        self.mget(full_keys).await
    }

    /// `MGET` in bounded chunks; one entry per key, `None` for missing or non-string keys.
    async fn mget<K: AsRef<[u8]>>(&self, full_keys: &[K]) -> Result<Vec<Option<Vec<u8>>>> {
        let mut out = Vec::with_capacity(full_keys.len());
        for chunk in full_keys.chunks(self.config.batch_size) {
            let mut cmd = redis::cmd("MGET");
            for k in chunk {
                cmd.arg(k.as_ref());
            }
            let values: Vec<Option<Vec<u8>>> = self.conn.query(&cmd, Retry::Safe, "MGET").await?;
            out.extend(values);
        }
        Ok(out)
    }

    /// `(key, value)` of every item of a group, in SCAN order.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// for (key, value) in state.get_group_entries("trace-1").await? {
    ///     println!("{key} = {value}");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn get_group_entries(&self, group: &str) -> Result<Vec<(String, Value)>> {
        let full = self.scan_group(group)?.collect_all().await?;
        let values = self.mget(&full).await?;
        let mut out = Vec::with_capacity(full.len());
        for (k, v) in full.iter().zip(values) {
            let Some((_, key)) = self.keys.split(k) else {
                continue;
            };
            if let Some(bytes) = v
                && let Some(value) = Self::parse_stored::<Value>(k, &bytes)?
            {
                out.push((key.to_string(), value));
            }
        }
        Ok(out)
    }

    /// The values of every item of a group, decoded into `T` (Motia's `getGroup`).
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// #[derive(serde::Deserialize)]
    /// struct Order { id: u64 }
    /// let orders: Vec<Order> = state.get_group("trace-1").await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_group<T: DeserializeOwned>(&self, group: &str) -> Result<Vec<T>> {
        // Every key, also those that are not UTF-8: getGroup returns values, not names.
        let full = self.scan_group(group)?.collect_all_bytes().await?;
        let values = self.mget(&full).await?;
        let mut out = Vec::with_capacity(full.len());
        for (k, v) in full.iter().zip(values) {
            let shown = escape::name(k);
            if let Some(bytes) = v
                && let Some(value) = Self::parse_stored::<T>(&shown, &bytes)?
            {
                out.push(value);
            }
        }
        Ok(out)
    }

    /// Unlinks full keys in bounded batches; returns how many existed.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let stale = vec!["motia:state:trace-1:order".to_string()];
    /// let removed = state.unlink_keys(&stale).await?;
    /// # Ok(()) }
    /// ```
    pub async fn unlink_keys<K: AsRef<[u8]>>(&self, full_keys: &[K]) -> Result<u64> {
        self.ensure_writable("delete")?;
        let mut removed = 0;
        for chunk in full_keys.chunks(self.config.batch_size) {
            let mut cmd = redis::cmd("UNLINK");
            for k in chunk {
                cmd.arg(k.as_ref());
            }
            let n: u64 = self.conn.query(&cmd, Retry::Safe, "UNLINK").await?;
            removed += n;
        }
        Ok(removed)
    }

    /// Removes every item of a group with `UNLINK` in bounded batches; returns how many.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let removed = state.clear("trace-1").await?;
    /// println!("removed {removed} items");
    /// # Ok(()) }
    /// ```
    pub async fn clear(&self, group: &str) -> Result<u64> {
        self.clear_bytes(group.as_bytes()).await
    }

    /// [`clear`](Self::clear) of a group id given as exact bytes. Every key of the group goes,
    /// whatever its bytes and its Redis type.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let removed = state.clear_bytes(b"o\xff").await?;
    /// # Ok(()) }
    /// ```
    pub async fn clear_bytes(&self, group: &[u8]) -> Result<u64> {
        self.ensure_writable("clear")?;
        let full = self.scan_group_bytes(group)?.collect_all_bytes().await?;
        self.unlink_keys(&full).await
    }

    /// Every group id, each once, in the order SCAN met them (one walk of the keyspace). Ids
    /// that are not UTF-8 cannot be a `String`: [`trace_ids_bytes`](Self::trace_ids_bytes) has
    /// them all.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// for trace in state.trace_ids().await? {
    ///     println!("{trace}");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn trace_ids(&self) -> Result<Vec<String>> {
        let mut scan = self.scan_all().allow_duplicates();
        let mut seen = HashSet::new();
        let mut ids = Vec::new();
        while let Some(page) = scan.next_page().await? {
            for k in &page {
                if let Some((group, _)) = self.keys.split(k)
                    && !seen.contains(group)
                {
                    seen.insert(group.to_string());
                    ids.push(group.to_string());
                }
            }
        }
        Ok(ids)
    }

    /// Every group id as exact bytes, each once, in the order SCAN met them.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// for trace in state.trace_ids_bytes().await? {
    ///     println!("{}", motia_state::escape::name(&trace));
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn trace_ids_bytes(&self) -> Result<Vec<Vec<u8>>> {
        let mut scan = self.scan_all().allow_duplicates();
        let mut seen = HashSet::new();
        let mut ids = Vec::new();
        while let Some(page) = scan.next_page_bytes().await? {
            for k in &page {
                if let Some((group, _)) = self.keys.split_bytes(k)
                    && !seen.contains(group)
                {
                    seen.insert(group.to_vec());
                    ids.push(group.to_vec());
                }
            }
        }
        Ok(ids)
    }

    /// Every group id as exact bytes with its number of keys, sorted by bytes.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// for (trace, keys) in state.trace_counts_bytes().await? {
    ///     println!("{}: {keys}", motia_state::escape::name(&trace));
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn trace_counts_bytes(&self) -> Result<BTreeMap<Vec<u8>, u64>> {
        let mut counts = BTreeMap::new();
        let mut scan = self.scan_all();
        while let Some(page) = scan.next_page_bytes().await? {
            for k in &page {
                if let Some((group, _)) = self.keys.split_bytes(k) {
                    *counts.entry(group.to_vec()).or_insert(0) += 1;
                }
            }
        }
        Ok(counts)
    }

    /// Every group id with its number of keys, sorted by id (one walk of the keyspace).
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// for (trace, keys) in state.trace_counts().await? {
    ///     println!("{trace}: {keys} keys");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn trace_counts(&self) -> Result<BTreeMap<String, u64>> {
        let mut counts = BTreeMap::new();
        let mut scan = self.scan_all();
        while let Some(page) = scan.next_page().await? {
            for k in &page {
                if let Some((group, _)) = self.keys.split(k) {
                    *counts.entry(group.to_string()).or_insert(0) += 1;
                }
            }
        }
        Ok(counts)
    }

    /// Items matching a query (Motia's `items`): one scan, values fetched with chunked MGET.
    /// Values that are not JSON are left out; see [`items_report`](Self::items_report).
    ///
    /// ```no_run
    /// use motia_state::ItemsQuery;
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let paid = ItemsQuery::group("trace-1").filter("status eq paid".parse()?);
    /// for item in state.items(&paid).await? {
    ///     println!("{} {}", item.key, item.value);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn items(&self, query: &ItemsQuery) -> Result<Vec<StateItem>> {
        Ok(self.items_report(query).await?.0)
    }

    /// Like [`items`](Self::items), plus the full keys left out because they hold no JSON.
    ///
    /// ```no_run
    /// use motia_state::ItemsQuery;
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let (items, not_json) = state.items_report(&ItemsQuery::all()).await?;
    /// for key in &not_json {
    ///     eprintln!("skipped {key}: not JSON");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn items_report(&self, query: &ItemsQuery) -> Result<(Vec<StateItem>, Vec<String>)> {
        self.items_report_with_progress(query, |_, _| {}).await
    }

    /// Like [`items_report`](Self::items_report), calling `progress(keys read, keys found so
    /// far)` after each MGET batch (for progress on big databases; the scan runs meanwhile, so
    /// the second number grows until it is done).
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let (items, not_json) = state
    ///     .items_report_with_progress(&motia_state::ItemsQuery::all(), |done, total| {
    ///         eprint!("\r{done}/{total}");
    ///     })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn items_report_with_progress(
        &self,
        query: &ItemsQuery,
        progress: impl FnMut(u64, u64),
    ) -> Result<(Vec<StateItem>, Vec<String>)> {
        let group = query.group_id.as_deref().map(str::as_bytes);
        self.items_report_bytes_with_progress(group, &query.filters, progress)
            .await
    }

    /// [`items_report_with_progress`](Self::items_report_with_progress) of a group id given
    /// as exact bytes (every group when `None`), keeping the items that pass all `filters`.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let (items, _) = state
    ///     .items_report_bytes_with_progress(Some(&b"o\xff"[..]), &[], |_, _| {})
    ///     .await?;
    /// for item in &items {
    ///     println!("{:?} {}", item.key_bytes, item.value);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn items_report_bytes_with_progress(
        &self,
        group: Option<&[u8]>,
        filters: &[StateFilter],
        progress: impl FnMut(u64, u64),
    ) -> Result<(Vec<StateItem>, Vec<String>)> {
        let scan = match group {
            Some(g) => self.scan_group_bytes(g)?,
            None => self.scan_all(),
        };
        let mut out = (Vec::new(), Vec::new());
        self.scan_values(scan, parse_value, progress, |batch, values| {
            self.collect_items(filters, batch, values, &mut out)
        })
        .await?;
        Ok(out)
    }

    /// Every item of one group (or all) with its value as the stored JSON text, validated but
    /// not parsed into a tree: the fast path for printing items as they are. Also returns the
    /// full keys left out because they hold no JSON. `progress` as in
    /// [`items_report_with_progress`](Self::items_report_with_progress).
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let (items, not_json) = state.items_raw_with_progress(None, |_, _| {}).await?;
    /// for item in &items {
    ///     println!("{} {} {}", item.group_id, item.key, item.json);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn items_raw_with_progress(
        &self,
        group: Option<&str>,
        progress: impl FnMut(u64, u64),
    ) -> Result<(Vec<RawItem>, Vec<String>)> {
        self.items_raw_bytes_with_progress(group.map(str::as_bytes), progress)
            .await
    }

    /// [`items_raw_with_progress`](Self::items_raw_with_progress) of a group id given as exact
    /// bytes (every group when `None`).
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let (items, _) = state.items_raw_bytes_with_progress(Some(&b"o\xff"[..]), |_, _| {}).await?;
    /// for item in &items {
    ///     println!("{} {}", motia_state::escape::name(&item.key_bytes), item.json);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn items_raw_bytes_with_progress(
        &self,
        group: Option<&[u8]>,
        progress: impl FnMut(u64, u64),
    ) -> Result<(Vec<RawItem>, Vec<String>)> {
        let scan = match group {
            Some(g) => self.scan_group_bytes(g)?,
            None => self.scan_all(),
        };
        let (mut items, mut skipped) = (Vec::new(), Vec::new());
        self.scan_values(scan, raw_value, progress, |batch, values| {
            for (k, v) in batch.iter().zip(values) {
                let (Some((group, key)), Some(checked)) = (self.keys.split_bytes(k), v) else {
                    continue;
                };
                match checked {
                    Some((kind, json)) => items.push(RawItem {
                        group_id: escape::shown(group),
                        key: escape::shown(key),
                        group_id_bytes: group.to_vec(),
                        key_bytes: key.to_vec(),
                        kind,
                        json,
                    }),
                    None => skipped.push(escape::name(k).into_owned()),
                }
            }
        })
        .await?;
        Ok((items, skipped))
    }

    /// Walks `scan`, fetching values with MGET batches sent while the scan goes on and decoded
    /// in their own tasks; `each` gets every batch with its decoded values, in scan order.
    async fn scan_values<T: Send + 'static>(
        &self,
        mut scan: KeyScanner,
        decode: fn(Vec<u8>) -> T,
        mut progress: impl FnMut(u64, u64),
        mut each: impl FnMut(&[Vec<u8>], Vec<Option<T>>),
    ) -> Result<()> {
        type InFlight<T> = VecDeque<(Vec<Vec<u8>>, JoinHandle<Result<Vec<Option<T>>>>)>;
        let mut in_flight: InFlight<T> = VecDeque::new();
        let mut buffer: Vec<Vec<u8>> = Vec::new();
        let mut done = 0u64;
        loop {
            // Exact bytes: a name that is not UTF-8 is an item like any other.
            let page = scan.next_page_bytes().await?;
            let scan_done = page.is_none();
            buffer.extend(page.unwrap_or_default());
            while buffer.len() >= self.config.batch_size || (scan_done && !buffer.is_empty()) {
                let rest = buffer.split_off(buffer.len().min(self.config.batch_size));
                let batch = std::mem::replace(&mut buffer, rest);
                let task = tokio::spawn(mget_batch(self.conn.clone(), batch.clone(), decode));
                in_flight.push_back((batch, task));
            }
            while let Some((_, task)) = in_flight.front() {
                if !(scan_done || task.is_finished() || in_flight.len() > MAX_MGET_IN_FLIGHT) {
                    break;
                }
                let Some((batch, task)) = in_flight.pop_front() else {
                    break;
                };
                let values = match task.await {
                    Ok(reply) => reply?,
                    Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                    Err(_) => mget_batch(self.conn.clone(), batch.clone(), decode).await?,
                };
                done += batch.len() as u64;
                progress(done, scan.keys_seen().max(done));
                each(&batch, values);
            }
            if scan_done && in_flight.is_empty() {
                return Ok(());
            }
        }
    }

    /// Parses one MGET batch into items (filtered) and skipped keys.
    fn collect_items(
        &self,
        filters: &[StateFilter],
        batch: &[Vec<u8>],
        values: MgetReply,
        (items, skipped): &mut (Vec<StateItem>, Vec<String>),
    ) {
        for (k, v) in batch.iter().zip(values) {
            let (Some((group, key)), Some(parsed)) = (self.keys.split_bytes(k), v) else {
                continue;
            };
            let Some(value) = parsed else {
                skipped.push(escape::name(k).into_owned());
                continue;
            };
            if filters.iter().all(|f| f.matches(&value)) {
                items.push(StateItem {
                    group_id: escape::shown(group),
                    key: escape::shown(key),
                    group_id_bytes: group.to_vec(),
                    key_bytes: key.to_vec(),
                    kind: ValueType::of(&value),
                    value,
                });
            }
        }
    }

    /// True when the group id is usable (not empty, no `:`).
    /// Returns [`Error::InvalidGroupId`] otherwise.
    ///
    /// ```
    /// use motia_state::RedisStateAdapter;
    /// assert!(RedisStateAdapter::check_group("trace-1").is_ok());
    /// assert!(RedisStateAdapter::check_group("a:b").is_err());
    /// assert!(RedisStateAdapter::check_group("").is_err());
    /// ```
    pub fn check_group(group: &str) -> Result<()> {
        validate_group(group)
    }

    /// [`check_group`](Self::check_group) of a group id given as exact bytes.
    ///
    /// ```
    /// use motia_state::RedisStateAdapter;
    /// assert!(RedisStateAdapter::check_group_bytes(b"o\xff").is_ok());
    /// assert!(RedisStateAdapter::check_group_bytes(b"a:b").is_err());
    /// ```
    pub fn check_group_bytes(group: &[u8]) -> Result<()> {
        crate::adapter::keys::validate_group_bytes(group)
    }
}
