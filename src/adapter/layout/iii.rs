//! The iii layout (Motia 1.x and the iii engine): one hash `state:{scope}` per scope, field =
//! key, value = JSON text as the engine wrote it. The engine has no prefix option and sets no
//! TTL; a scope disappears with its last field.

use futures::FutureExt;
use futures::stream::{self, StreamExt, TryStreamExt};
use redis::Value as RedisValue;

use crate::adapter::RedisStateAdapter;
use crate::adapter::conn::Retry;
use crate::adapter::error::{Error, Result};
use crate::adapter::escape;
use crate::adapter::expiry::{Expiry, Ttl};
use crate::adapter::item::CasOutcome;
use crate::adapter::json;
use crate::adapter::layout::FieldScanner;
use crate::adapter::notify::NotifySetting;
use crate::adapter::scan::KeyScanner;

/// The key prefix of every scope hash (fixed by the engine).
pub const SCOPE_PREFIX: &str = "state:";

/// HSCAN page size hint.
const FIELD_PAGE: usize = 1000;
/// HLENs in flight at once when counting fields of many scopes.
const CONCURRENT: usize = 128;

/// The engine's own set: the old value read and the new one written in one script. With
/// ARGV[3] = "1" it is a compare-and-set: written only if the field holds ARGV[4] (or, with
/// ARGV[5] = "0", does not exist).
const SET_SCRIPT: &str = r"
local old = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[3] == '1' then
  if ARGV[5] == '0' then
    if old then return {0, old} end
  elseif old ~= ARGV[4] then
    return {0, old}
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return {1, old}
";

/// HGET then HDEL in one step, so the value returned is the one removed.
const DELETE_SCRIPT: &str = r"
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old then redis.call('HDEL', KEYS[1], ARGV[1]) end
return old
";

/// HLEN then DEL: how many fields went with the scope.
const CLEAR_SCRIPT: &str = r"
local n = redis.call('HLEN', KEYS[1])
if n > 0 then redis.call('DEL', KEYS[1]) end
return n
";

/// iii-layout operations over an adapter's connection ([`RedisStateAdapter::iii`]).
///
/// Names are bytes (`impl AsRef<[u8]>`): `&str`, `String`, `&[u8]` and `Vec<u8>` all work.
#[derive(Clone, Debug)]
pub struct IiiState {
    adapter: RedisStateAdapter,
}

/// The Redis key of a scope's hash.
///
/// ```
/// assert_eq!(motia_state::adapter::layout::iii::scope_key("orders"), b"state:orders");
/// ```
pub fn scope_key(scope: impl AsRef<[u8]>) -> Vec<u8> {
    [SCOPE_PREFIX.as_bytes(), scope.as_ref()].concat()
}

/// The scope of a Redis key, when it is a scope hash's name.
///
/// ```
/// use motia_state::adapter::layout::iii::scope_of;
/// assert_eq!(scope_of(b"state:orders"), Some(&b"orders"[..]));
/// assert_eq!(scope_of(b"stream:a:b"), None);
/// ```
pub fn scope_of(key: &[u8]) -> Option<&[u8]> {
    key.strip_prefix(SCOPE_PREFIX.as_bytes())
}

fn check_scope(scope: &[u8]) -> Result<()> {
    if scope.is_empty() {
        return Err(Error::Config {
            name: "scope".into(),
            reason: "a scope name cannot be empty".into(),
        });
    }
    Ok(())
}

fn check_field(scope: &[u8], key: &[u8]) -> Result<()> {
    check_scope(scope)?;
    if key.is_empty() {
        return Err(Error::EmptyKey {
            group: escape::name(scope).into_owned(),
        });
    }
    Ok(())
}

/// A server without hash-field expiry answers HPTTL and friends with "unknown command".
fn field_expiry_error(e: Error) -> Error {
    match &e {
        Error::Redis { source, .. }
            if source
                .to_string()
                .to_ascii_lowercase()
                .contains("unknown command") =>
        {
            Error::Unsupported {
                what: "this layout has no expiry on this server: the iii engine sets no TTL, and \
                       per-field TTLs (HPTTL, HPEXPIRE, HPERSIST) need Redis 7.4 or Valkey 9"
                    .into(),
            }
        }
        _ => e,
    }
}

impl IiiState {
    pub(crate) fn new(adapter: RedisStateAdapter) -> Self {
        Self { adapter }
    }

    /// The adapter this works over (its connection, settings and read-only flag).
    pub fn adapter(&self) -> &RedisStateAdapter {
        &self.adapter
    }

    fn writable(&self, operation: &'static str) -> Result<()> {
        self.adapter.ensure_writable(operation)
    }

    /// Pages through the scope hashes: `SCAN MATCH state:* TYPE hash`, on every primary of a
    /// cluster. Pages hold full Redis keys (`state:orders`); [`scope_of`] strips them.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let mut scan = state.iii().scan_scopes();
    /// while let Some(page) = scan.next_page().await? {
    ///     println!("{} scopes", page.len());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn scan_scopes(&self) -> KeyScanner {
        KeyScanner::new(
            self.adapter.conn.clone(),
            format!("{SCOPE_PREFIX}*").into_bytes(),
            self.adapter.config.scan_count,
        )
        .of_type("hash")
    }

    /// Every scope, sorted.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let scopes = state.iii().scopes().await?;
    /// # Ok(()) }
    /// ```
    pub async fn scopes(&self) -> Result<Vec<Vec<u8>>> {
        let mut scopes: Vec<Vec<u8>> = self
            .scan_scopes()
            .collect_all()
            .await?
            .into_iter()
            .filter_map(|k| scope_of(&k).map(<[u8]>::to_vec))
            .collect();
        scopes.sort();
        Ok(scopes)
    }

    /// Field counts (`HLEN`) of `scopes`, in their order; a scope gone meanwhile counts 0.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let iii = state.iii();
    /// let scopes = iii.scopes().await?;
    /// for (s, n) in scopes.iter().zip(iii.field_counts(&scopes).await?) {
    ///     println!("{}\t{n}", String::from_utf8_lossy(s));
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn field_counts<S: AsRef<[u8]>>(&self, scopes: &[S]) -> Result<Vec<u64>> {
        let keys: Vec<Vec<u8>> = scopes.iter().map(scope_key).collect();
        self.field_counts_of_keys(&keys).await
    }

    /// `HLEN` of hashes named by their Redis keys, in order.
    pub(crate) async fn field_counts_of_keys(&self, keys: &[Vec<u8>]) -> Result<Vec<u64>> {
        // Each query owns its key and connection handle (boxed): a stream of borrowing async
        // blocks makes the caller's future `Send` for one lifetime only, and a spawned task
        // (the browser's stats job) needs it for all.
        let queries: Vec<_> = keys
            .iter()
            .map(|key| {
                let (conn, key) = (self.adapter.conn.clone(), key.clone());
                async move {
                    let mut cmd = redis::cmd("HLEN");
                    cmd.arg(&key);
                    conn.query::<u64>(&cmd, Retry::Safe, &format!("HLEN {}", escape::name(&key)))
                        .await
                }
                .boxed()
            })
            .collect();
        stream::iter(queries)
            .buffered(CONCURRENT)
            .try_collect()
            .await
    }

    /// Pages through one scope's fields and values with `HSCAN` (never `HGETALL`, so a scope
    /// of any size arrives in bounded pages).
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let mut fields = state.iii().scan_fields("orders")?;
    /// while let Some(page) = fields.next_page().await? {
    ///     for (field, value) in page {
    ///         println!("{} = {}", String::from_utf8_lossy(&field), String::from_utf8_lossy(&value));
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn scan_fields(&self, scope: impl AsRef<[u8]>) -> Result<FieldScanner> {
        check_scope(scope.as_ref())?;
        Ok(FieldScanner::new(
            self.adapter.conn.clone(),
            scope_key(scope),
            FIELD_PAGE,
        ))
    }

    /// A scope's field names, sorted (empty when the scope does not exist).
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let keys = state.iii().keys("orders").await?;
    /// # Ok(()) }
    /// ```
    pub async fn keys(&self, scope: impl AsRef<[u8]>) -> Result<Vec<Vec<u8>>> {
        let mut keys: Vec<Vec<u8>> = self
            .entries(scope)
            .await?
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        keys.sort();
        Ok(keys)
    }

    /// A scope's fields with their values as stored, sorted by field.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// for (k, v) in state.iii().entries("orders").await? {
    ///     println!("{}: {} bytes", String::from_utf8_lossy(&k), v.len());
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn entries(&self, scope: impl AsRef<[u8]>) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut scan = self.scan_fields(scope)?;
        let mut all = Vec::new();
        while let Some(page) = scan.next_page().await? {
            all.extend(page);
        }
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all.dedup_by(|a, b| a.0 == b.0);
        Ok(all)
    }

    /// The stored text of one field (`HGET`), `None` when it or its scope does not exist.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let v = state.iii().get("misc", "answer").await?;
    /// assert_eq!(v.as_deref(), Some(&b"42"[..]));
    /// # Ok(()) }
    /// ```
    pub async fn get(
        &self,
        scope: impl AsRef<[u8]>,
        key: impl AsRef<[u8]>,
    ) -> Result<Option<Vec<u8>>> {
        let (scope, key) = (scope.as_ref(), key.as_ref());
        check_field(scope, key)?;
        self.get_by_key(&scope_key(scope), key).await
    }

    /// [`get`](Self::get) on a hash named by its Redis key (stream groups).
    pub(crate) async fn get_by_key(&self, full: &[u8], key: &[u8]) -> Result<Option<Vec<u8>>> {
        let mut cmd = redis::cmd("HGET");
        cmd.arg(full).arg(key);
        match self
            .adapter
            .conn
            .query(&cmd, Retry::Safe, &format!("HGET {}", escape::name(full)))
            .await
        {
            Ok(v) => Ok(v),
            Err(e) => Err(self.adapter.explain(e, full).await),
        }
    }

    /// Writes a field as the engine's set does (old value read and new written in one
    /// script) and returns the old value. The JSON is validated and stored compact.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let old = state.iii().set("orders", "o-1", r#"{"status":"paid"}"#).await?;
    /// # Ok(()) }
    /// ```
    pub async fn set(
        &self,
        scope: impl AsRef<[u8]>,
        key: impl AsRef<[u8]>,
        json_text: &str,
    ) -> Result<Option<Vec<u8>>> {
        let (_, old) = self
            .write(scope.as_ref(), key.as_ref(), json_text, None)
            .await?;
        Ok(old)
    }

    /// Writes a field only if it still holds `expected` (`None`: only if it does not exist).
    ///
    /// ```no_run
    /// use motia_state::CasOutcome;
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let iii = state.iii();
    /// let loaded = iii.get("orders", "o-1").await?;
    /// match iii.compare_and_set("orders", "o-1", loaded.as_deref(), "{}").await? {
    ///     CasOutcome::Written => println!("saved"),
    ///     CasOutcome::Conflict(_) => println!("changed meanwhile"),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn compare_and_set(
        &self,
        scope: impl AsRef<[u8]>,
        key: impl AsRef<[u8]>,
        expected: Option<&[u8]>,
        json_text: &str,
    ) -> Result<CasOutcome> {
        let (written, now) = self
            .write(scope.as_ref(), key.as_ref(), json_text, Some(expected))
            .await?;
        Ok(if written {
            CasOutcome::Written
        } else {
            CasOutcome::Conflict(now)
        })
    }

    async fn write(
        &self,
        scope: &[u8],
        key: &[u8],
        json_text: &str,
        expected: Option<Option<&[u8]>>,
    ) -> Result<(bool, Option<Vec<u8>>)> {
        check_field(scope, key)?;
        let compact = json::compact(json_text)?;
        self.write_key(&scope_key(scope), key, &compact, expected)
            .await
    }

    /// The set script on a hash named by its Redis key (stream groups too), JSON already
    /// checked: `expected` as in [`compare_and_set`](Self::compare_and_set) (`None`: always
    /// written). Whether it was written, and the value before.
    pub(crate) async fn write_key(
        &self,
        full: &[u8],
        key: &[u8],
        compact: &str,
        expected: Option<Option<&[u8]>>,
    ) -> Result<(bool, Option<Vec<u8>>)> {
        self.writable("set")?;
        let script = redis::Script::new(SET_SCRIPT);
        let mut inv = script.prepare_invoke();
        inv.key(full)
            .arg(key)
            .arg(compact)
            .arg(if expected.is_some() { "1" } else { "0" })
            .arg(expected.flatten().unwrap_or(b""))
            .arg(if matches!(expected, Some(Some(_))) {
                "1"
            } else {
                "0"
            });
        let reply: Vec<RedisValue> = match self
            .adapter
            .conn
            .invoke(&inv, Retry::Never, &format!("set {}", escape::name(full)))
            .await
        {
            Ok(r) => r,
            Err(e) => return Err(self.adapter.explain(e, full).await),
        };
        let old = match reply.get(1) {
            Some(RedisValue::BulkString(b)) => Some(b.clone()),
            _ => None,
        };
        Ok((matches!(reply.first(), Some(RedisValue::Int(1))), old))
    }

    /// Deletes a field and returns its value (`None`: there was none). The scope goes with its
    /// last field, as in the engine.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let old = state.iii().delete("carts", "c-1").await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete(
        &self,
        scope: impl AsRef<[u8]>,
        key: impl AsRef<[u8]>,
    ) -> Result<Option<Vec<u8>>> {
        let (scope, key) = (scope.as_ref(), key.as_ref());
        check_field(scope, key)?;
        self.delete_by_key(&scope_key(scope), key).await
    }

    /// [`delete`](Self::delete) on a hash named by its Redis key (stream groups).
    pub(crate) async fn delete_by_key(&self, full: &[u8], key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.writable("delete")?;
        let script = redis::Script::new(DELETE_SCRIPT);
        let mut inv = script.prepare_invoke();
        inv.key(full).arg(key);
        match self
            .adapter
            .conn
            .invoke(
                &inv,
                Retry::Never,
                &format!("delete {}", escape::name(full)),
            )
            .await
        {
            Ok(v) => Ok(v),
            Err(e) => Err(self.adapter.explain(e, full).await),
        }
    }

    /// Deletes a whole scope and returns how many fields it had (0: no such scope).
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let n = state.iii().clear("carts").await?;
    /// # Ok(()) }
    /// ```
    pub async fn clear(&self, scope: impl AsRef<[u8]>) -> Result<u64> {
        let scope = scope.as_ref();
        check_scope(scope)?;
        self.writable("clear")?;
        let full = scope_key(scope);
        let script = redis::Script::new(CLEAR_SCRIPT);
        let mut inv = script.prepare_invoke();
        inv.key(&full);
        match self
            .adapter
            .conn
            .invoke(
                &inv,
                Retry::Never,
                &format!("clear {}", escape::name(&full)),
            )
            .await
        {
            Ok(v) => Ok(v),
            Err(e) => Err(self.adapter.explain(e, &full).await),
        }
    }

    /// A field's remaining lifetime (`HPTTL`); [`Error::Unsupported`] on a server without
    /// hash-field expiry (before Redis 7.4 or Valkey 9).
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let ttl = state.iii().ttl("orders", "o-1").await?;
    /// # Ok(()) }
    /// ```
    pub async fn ttl(&self, scope: impl AsRef<[u8]>, key: impl AsRef<[u8]>) -> Result<Ttl> {
        let (scope, key) = (scope.as_ref(), key.as_ref());
        check_field(scope, key)?;
        let full = scope_key(scope);
        let mut cmd = redis::cmd("HPTTL");
        cmd.arg(&full).arg("FIELDS").arg(1).arg(key);
        let reply: Vec<i64> = self
            .adapter
            .conn
            .query(&cmd, Retry::Safe, &format!("HPTTL {}", escape::name(&full)))
            .await
            .map_err(field_expiry_error)?;
        Ok(Ttl::from_pttl(reply.first().copied().unwrap_or(-2)))
    }

    /// Sets or removes the expiry of some fields of a scope (`HPEXPIRE` / `HPERSIST`) and
    /// returns how many changed. Fields that do not exist are not counted.
    ///
    /// ```no_run
    /// use motia_state::Expiry;
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let n = state.iii().expire("carts", &["c-1"], "1h".parse::<Expiry>()?).await?;
    /// # Ok(()) }
    /// ```
    pub async fn expire<K: AsRef<[u8]>>(
        &self,
        scope: impl AsRef<[u8]>,
        keys: &[K],
        expiry: Expiry,
    ) -> Result<u64> {
        let scope = scope.as_ref();
        check_scope(scope)?;
        self.writable("expire")?;
        let full = scope_key(scope);
        let mut changed = 0;
        for chunk in keys.chunks(self.adapter.config.batch_size.max(1)) {
            let mut cmd = match expiry {
                Expiry::After(d) => {
                    let mut c = redis::cmd("HPEXPIRE");
                    c.arg(&full).arg(d.as_millis().max(1) as u64);
                    c
                }
                Expiry::Persist => {
                    let mut c = redis::cmd("HPERSIST");
                    c.arg(&full);
                    c
                }
            };
            cmd.arg("FIELDS").arg(chunk.len());
            for k in chunk {
                cmd.arg(k.as_ref());
            }
            let reply: Vec<i64> = self
                .adapter
                .conn
                .query(
                    &cmd,
                    Retry::Safe,
                    &format!("expire {}", escape::name(&full)),
                )
                .await
                .map_err(field_expiry_error)?;
            changed += reply.iter().filter(|&&r| r == 1 || r == 2).count() as u64;
        }
        Ok(changed)
    }
}

/// The notification flags the iii layout's events need: keyspace channels (K) and hash
/// commands (h).
///
/// ```
/// assert_eq!(motia_state::adapter::layout::iii::HASH_FLAGS, "Kh");
/// ```
pub const HASH_FLAGS: &str = "Kh";

/// Whether a notification setting sends the events the iii layout needs ([`HASH_FLAGS`]).
///
/// ```
/// use motia_state::notify::NotifySetting;
/// use motia_state::adapter::layout::iii::covers_hashes;
/// assert!(covers_hashes(&NotifySetting::new("Kh")));
/// assert!(covers_hashes(&NotifySetting::new("KA")));
/// assert!(!covers_hashes(&NotifySetting::new("K$gx")));
/// ```
pub fn covers_hashes(setting: &NotifySetting) -> bool {
    HASH_FLAGS.chars().all(|c| setting.has(c))
}
