//! Motia's operations: get, set, delete, getGroup, clear, keys, traceIds, items.

use std::collections::BTreeMap;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::adapter::RedisStateAdapter;
use crate::adapter::conn::Retry;
use crate::adapter::error::{Error, Result};
use crate::adapter::escape;
use crate::adapter::item::{ItemsQuery, StateItem};
use crate::adapter::json;
use crate::adapter::name::Name;
use crate::adapter::scan::KeyScanner;

/// Atomic delete for servers older than 6.2 (no GETDEL).
const GETDEL_SCRIPT: &str = r"
local v = redis.call('GET', KEYS[1])
if v then redis.call('DEL', KEYS[1]) end
return v";

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

    /// `{prefix}{group}:{key}` for Motia's operations: the group checked, the key not empty.
    pub(super) fn item_key(&self, group: &[u8], key: &[u8]) -> Result<Vec<u8>> {
        if key.is_empty() {
            crate::adapter::keys::validate_group(group)?;
            return Err(Error::EmptyKey {
                group: escape::name(group).into_owned(),
            });
        }
        self.keys.full_key(group, key)
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
    pub async fn get<T: DeserializeOwned>(
        &self,
        group: impl AsRef<[u8]>,
        key: impl AsRef<[u8]>,
    ) -> Result<Option<T>> {
        let full = self.item_key(group.as_ref(), key.as_ref())?;
        match self.get_raw(&full).await? {
            Some(bytes) => Self::parse_stored(&escape::name(&full), &bytes),
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
        group: impl AsRef<[u8]>,
        key: impl AsRef<[u8]>,
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
        group: impl AsRef<[u8]>,
        key: impl AsRef<[u8]>,
        value: &T,
        ttl: Option<Duration>,
    ) -> Result<()> {
        let full = self.item_key(group.as_ref(), key.as_ref())?;
        let text = json::to_js_string(value).map_err(|source| Error::Convert {
            key: escape::name(&full).into_owned(),
            source,
        })?;
        self.write_text(&full, &text, ttl).await
    }

    /// Validates JSON text, stores it under a full Redis key (exact bytes) as written with only
    /// insignificant whitespace removed (numbers keep their spelling: `1.5e10` stays `1.5e10`)
    /// and returns what was stored.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let full = state.key_space().full_key("trace-1", "order")?;
    /// let stored = state.set_json(&full, "{ \"id\": 7, \"n\": 1.5e10 }", None).await?;
    /// assert_eq!(stored, r#"{"id":7,"n":1.5e10}"#);
    /// let odd = state.key_space().full_key(b"o1", b"k\xffx")?;
    /// state.set_json(&odd, "[1, 2]", None).await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_json(
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

    /// Deletes a full Redis key (exact bytes) atomically and returns the stored bytes it had. A
    /// key of another type than string is refused with [`Error::WrongType`] and left as it is.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let full = state.key_space().full_key(b"o1", b"k\xffx")?;
    /// match state.delete_raw(&full).await? {
    ///     Some(old) => println!("removed {} bytes", old.len()),
    ///     None => println!("nothing to remove"),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn delete_raw(&self, full: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
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
    pub async fn delete(
        &self,
        group: impl AsRef<[u8]>,
        key: impl AsRef<[u8]>,
    ) -> Result<Option<Value>> {
        let full = self.item_key(group.as_ref(), key.as_ref())?;
        Ok(self.delete_raw(&full).await?.and_then(|bytes| {
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

    /// A paged, de-duplicated scan of one group's keys (full Redis keys); the group id as
    /// `&str` or exact bytes.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let full_keys = state.scan_group("trace-1")?.collect_all().await?;
    /// let metas = state.key_meta(&full_keys, None).await?;
    /// let odd = state.scan_group(b"o\xff")?.collect_all().await?;
    /// # Ok(()) }
    /// ```
    pub fn scan_group(&self, group: impl AsRef<[u8]>) -> Result<KeyScanner> {
        Ok(KeyScanner::new(
            self.conn.clone(),
            self.keys.group_pattern(group.as_ref())?,
            self.config.scan_count,
        ))
    }

    /// The keys of a group (prefix and group stripped) as exact bytes, each once, in SCAN
    /// order.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// for key in state.keys("trace-1").await? {
    ///     println!("{key}");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn keys(&self, group: impl AsRef<[u8]>) -> Result<Vec<Name>> {
        let full = self.scan_group(group)?.collect_all().await?;
        Ok(full
            .iter()
            .filter_map(|k| self.keys.split(k).map(|(_, key)| Name::from(key)))
            .collect())
    }

    /// Raw values of full Redis keys with `MGET` in bounded batches, in the order given; `None`
    /// for a missing or non-string key.
    ///
    /// ```no_run
    /// # async fn demo(state: &motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let keys = vec!["motia:state:trace-1:order".to_string()];
    /// let values = state.get_raw_many(&keys).await?;
    /// assert_eq!(values.len(), 1);
    /// # Ok(()) }
    /// ```
    pub async fn get_raw_many<K: AsRef<[u8]>>(
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
    pub async fn get_group_entries(&self, group: impl AsRef<[u8]>) -> Result<Vec<(Name, Value)>> {
        let full = self.scan_group(group)?.collect_all().await?;
        let values = self.mget(&full).await?;
        let mut out = Vec::with_capacity(full.len());
        for (k, v) in full.iter().zip(values) {
            let Some((_, key)) = self.keys.split(k) else {
                continue;
            };
            if let Some(bytes) = v
                && let Some(value) = Self::parse_stored::<Value>(&escape::name(k), &bytes)?
            {
                out.push((Name::from(key), value));
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
    pub async fn get_group<T: DeserializeOwned>(&self, group: impl AsRef<[u8]>) -> Result<Vec<T>> {
        // Every key, also those that are not UTF-8: getGroup returns values, not names.
        let full = self.scan_group(group)?.collect_all().await?;
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

    /// Removes every item of a group with `UNLINK` in bounded batches; returns how many. Every
    /// key of the group goes, whatever its bytes and its Redis type.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let removed = state.clear("trace-1").await?;
    /// println!("removed {removed} items");
    /// state.clear(b"o\xff").await?;
    /// # Ok(()) }
    /// ```
    pub async fn clear(&self, group: impl AsRef<[u8]>) -> Result<u64> {
        self.ensure_writable("clear")?;
        let full = self.scan_group(group)?.collect_all().await?;
        self.unlink_keys(&full).await
    }

    /// Every group id as exact bytes, each once, in the order SCAN met them (one walk of the
    /// keyspace).
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// for trace in state.trace_ids().await? {
    ///     match trace.to_str() {
    ///         Some(id) => println!("{id}"),
    ///         None => println!("{trace} (not UTF-8)"),
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn trace_ids(&self) -> Result<Vec<Name>> {
        let mut scan = self.scan_all().allow_duplicates();
        let mut seen = HashSet::new();
        let mut ids = Vec::new();
        while let Some(page) = scan.next_page().await? {
            for k in &page {
                if let Some((group, _)) = self.keys.split(k)
                    && !seen.contains(group)
                {
                    seen.insert(group.to_vec());
                    ids.push(Name::from(group));
                }
            }
        }
        Ok(ids)
    }

    /// Every group id as exact bytes with its number of keys, sorted by bytes (one walk of the
    /// keyspace).
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// for (trace, keys) in state.trace_counts().await? {
    ///     println!("{trace}: {keys} keys");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn trace_counts(&self) -> Result<BTreeMap<Name, u64>> {
        // Counted in a hash map (a BTreeMap lookup per key was most of the walk's own work),
        // sorted once at the end; the scanner drops keys SCAN returns twice.
        let mut counts: HashMap<Vec<u8>, u64, foldhash::fast::RandomState> = HashMap::default();
        let mut scan = self.scan_all();
        while let Some(page) = scan.next_page().await? {
            for k in &page {
                if let Some((group, _)) = self.keys.split(k) {
                    match counts.get_mut(group) {
                        Some(n) => *n += 1,
                        None => {
                            counts.insert(group.to_vec(), 1);
                        }
                    }
                }
            }
        }
        Ok(counts
            .into_iter()
            .map(|(group, n)| (Name::from(group), n))
            .collect())
    }

    /// Items matching a query (Motia's `items`): one scan, values fetched with chunked MGET.
    /// Values that are not JSON are left out; [`items_with`](Self::items_with) lists them,
    /// reads raw text, reports progress.
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
        let mut with = self.items_with().filters(query.filters.iter().cloned());
        if let Some(g) = &query.group_id {
            with = with.group(g);
        }
        Ok(with.report().await?.items)
    }

    /// True when the group id (`&str` or exact bytes) is usable (not empty, no `:`).
    /// Returns [`Error::InvalidGroupId`] otherwise.
    ///
    /// ```
    /// use motia_state::RedisStateAdapter;
    /// assert!(RedisStateAdapter::check_group("trace-1").is_ok());
    /// assert!(RedisStateAdapter::check_group(b"o\xff").is_ok());
    /// assert!(RedisStateAdapter::check_group("a:b").is_err());
    /// assert!(RedisStateAdapter::check_group("").is_err());
    /// ```
    pub fn check_group(group: impl AsRef<[u8]>) -> Result<()> {
        crate::adapter::keys::validate_group(group.as_ref())
    }
}
