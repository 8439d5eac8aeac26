//! What a browser needs beyond Motia's operations: TTLs, bounded windows of big values,
//! per-key metadata in one pipeline, compare-and-set, server facts.

use redis::Value as RedisValue;

use crate::adapter::RedisStateAdapter;
use crate::adapter::conn::Retry;
use crate::adapter::error::{Error, Result};
use crate::adapter::escape;
use crate::adapter::expiry::{Expiry, Ttl};
use crate::adapter::item::{CasOutcome, KeyMeta, RawWindow};
use crate::adapter::json;

/// Replace the value only if it still is what the caller loaded; keep the TTL.
/// ARGV: 1 = '1' when a value is expected ('0': the key must not exist), 2 = expected bytes,
/// 3 = new value, 4 = seconds of expiry for a created key ('' for none).
const CAS_SCRIPT: &str = r"
local cur = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if cur ~= ARGV[2] then return {0, cur} end
  redis.call('SET', KEYS[1], ARGV[3], 'KEEPTTL')
else
  if cur then return {0, cur} end
  if ARGV[4] ~= '' then
    redis.call('SET', KEYS[1], ARGV[3], 'EX', ARGV[4])
  else
    redis.call('SET', KEYS[1], ARGV[3])
  end
end
return {1}";

/// Type, length and a bounded first window of a value, in one atomic step.
const WINDOW_SCRIPT: &str = r"
local t = redis.call('TYPE', KEYS[1])['ok']
if t ~= 'string' then return {t} end
return {t, redis.call('STRLEN', KEYS[1]), redis.call('GETRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)}";

/// Number of keys, summed over the nodes that answered.
///
/// ```
/// let size = motia_state::DbSize { keys: 10, nodes: 2, unreachable: vec!["10.0.0.3:7002".into()] };
/// assert!(!size.is_complete());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbSize {
    /// Keys on the nodes heard from.
    pub keys: u64,
    /// Nodes heard from (1 for a standalone server).
    pub nodes: usize,
    /// `host:port` of the primaries that did not answer.
    pub unreachable: Vec<String>,
}

impl DbSize {
    /// True when every node answered.
    ///
    /// ```
    /// let size = motia_state::DbSize { keys: 10, nodes: 1, unreachable: vec![] };
    /// assert!(size.is_complete());
    /// ```
    pub fn is_complete(&self) -> bool {
        self.unreachable.is_empty()
    }
}

impl RedisStateAdapter {
    /// Remaining lifetime of a full Redis key (exact bytes).
    ///
    /// ```no_run
    /// use motia_state::{Ttl, format_duration};
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let full = state.key_space().full_key("trace-1", "order")?;
    /// match state.ttl(&full).await? {
    ///     Ttl::Expires(left) => println!("expires in {}", format_duration(left)),
    ///     Ttl::Persistent => println!("never expires"),
    ///     Ttl::Missing => println!("no such item"),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn ttl(&self, full: impl AsRef<[u8]>) -> Result<Ttl> {
        let full = full.as_ref();
        let ms: i64 = self
            .conn
            .query(
                redis::cmd("PTTL").arg(full),
                Retry::Safe,
                &format!("PTTL {}", escape::name(full)),
            )
            .await?;
        Ok(Ttl::from_pttl(ms))
    }

    fn expiry_cmd(full: &[u8], expiry: Expiry) -> redis::Cmd {
        match expiry {
            Expiry::Persist => {
                let mut c = redis::cmd("PERSIST");
                c.arg(full);
                c
            }
            Expiry::After(d) => {
                let mut c = redis::cmd("PEXPIRE");
                c.arg(full).arg(d.as_millis() as u64);
                c
            }
        }
    }

    /// Sets or removes ([`Expiry::Persist`]) the expiry of a full Redis key (exact bytes);
    /// `false` when the key is missing (or, for `Persist`, had no expiry).
    ///
    /// ```no_run
    /// use motia_state::Expiry;
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let full = state.key_space().full_key("trace-1", "order")?;
    /// if !state.expire(&full, "10m".parse()?).await? {
    ///     println!("no such item");
    /// }
    /// if state.expire(&full, Expiry::Persist).await? {
    ///     println!("the order no longer expires");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn expire(&self, full: impl AsRef<[u8]>, expiry: Expiry) -> Result<bool> {
        let full = full.as_ref();
        self.ensure_writable("expire")?;
        let n: i64 = self
            .conn
            .query(
                &Self::expiry_cmd(full, expiry),
                Retry::Safe,
                &format!("expire {}", escape::name(full)),
            )
            .await?;
        Ok(n == 1)
    }

    /// Applies an expiry to full keys in pipelined batches; returns how many changed.
    ///
    /// ```no_run
    /// use motia_state::Expiry;
    /// use std::time::Duration;
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let keys = state.scan_group("trace-1")?.collect_all().await?;
    /// let changed = state.expire_keys(&keys, Expiry::After(Duration::from_secs(3600))).await?;
    /// # Ok(()) }
    /// ```
    pub async fn expire_keys<K: AsRef<[u8]>>(
        &self,
        full_keys: &[K],
        expiry: Expiry,
    ) -> Result<u64> {
        self.ensure_writable("expire")?;
        let mut changed = 0;
        for chunk in full_keys.chunks(self.config.batch_size) {
            let mut pipe = redis::pipe();
            for k in chunk {
                pipe.add_command(Self::expiry_cmd(k.as_ref(), expiry));
            }
            let results: Vec<i64> = self.conn.query_pipe(&pipe, Retry::Safe, "expire").await?;
            changed += results.iter().filter(|&&n| n == 1).count() as u64;
        }
        Ok(changed)
    }

    /// Applies an expiry to every key of a group (its id as `&str` or exact bytes), whatever
    /// their bytes and Redis type; returns how many changed.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let changed = state.expire_group("trace-1", "1d".parse()?).await?;
    /// println!("{changed} items now expire in a day");
    /// # Ok(()) }
    /// ```
    pub async fn expire_group(&self, group: impl AsRef<[u8]>, expiry: Expiry) -> Result<u64> {
        self.ensure_writable("expire")?;
        let full = self.scan_group(group)?.collect_all().await?;
        self.expire_keys(&full, expiry).await
    }

    /// The first `max_bytes` of the value of a full Redis key (exact bytes) and its full
    /// length, atomically; `None` when missing, [`Error::WrongType`] when the key holds no
    /// string.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let full = state.key_space().full_key("trace-1", "report")?;
    /// if let Some(window) = state.get_window(&full, 4096).await? {
    ///     if !window.is_complete() {
    ///         println!("showing 4096 of {} bytes", window.total_len);
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn get_window(
        &self,
        full: impl AsRef<[u8]>,
        max_bytes: usize,
    ) -> Result<Option<RawWindow>> {
        let full = full.as_ref();
        let script = redis::Script::new(WINDOW_SCRIPT);
        let mut inv = script.prepare_invoke();
        inv.key(full).arg(max_bytes.max(1));
        let reply: Vec<RedisValue> = self
            .conn
            .invoke(&inv, Retry::Safe, &format!("read {}", escape::name(full)))
            .await?;
        let mut it = reply.into_iter();
        let kind = match it.next() {
            Some(RedisValue::SimpleString(s)) => s,
            Some(RedisValue::BulkString(b)) => String::from_utf8_lossy(&b).into_owned(),
            _ => String::new(),
        };
        match kind.as_str() {
            "none" => Ok(None),
            "string" => {
                let total_len = match it.next() {
                    Some(RedisValue::Int(n)) => n.max(0) as u64,
                    _ => 0,
                };
                let bytes = match it.next() {
                    Some(RedisValue::BulkString(b)) => b,
                    _ => Vec::new(),
                };
                Ok(Some(RawWindow { bytes, total_len }))
            }
            other => Err(Error::WrongType {
                key: escape::name(full).into_owned(),
                found: other.to_string(),
            }),
        }
    }

    /// The exact stored bytes of a full Redis key, `None` when missing.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let full = state.key_space().full_key("trace-1", "order")?;
    /// let bytes = state.get_raw(&full).await?;
    /// let text = bytes.as_deref().and_then(motia_state::json::pretty);
    /// # Ok(()) }
    /// ```
    pub async fn get_raw(&self, full: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        let full = full.as_ref();
        match self
            .conn
            .query(
                redis::cmd("GET").arg(full),
                Retry::Safe,
                &format!("GET {}", escape::name(full)),
            )
            .await
        {
            Ok(v) => Ok(v),
            Err(e) => Err(self.explain(e, full).await),
        }
    }

    /// Type, length and TTL of full keys, pipelined in batches, in the order given. With
    /// `head: Some(n)`, each string's first `n` bytes come too ([`KeyMeta::head`]), in the same
    /// round trips: a browser tells JSON types from raw text with them without loading values.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let keys = state.scan_group("trace-1")?.collect_all().await?;
    /// for meta in state.key_meta(&keys, None).await? {
    ///     println!("{} {} {:?}", meta.full_key, meta.redis_type, meta.ttl);
    /// }
    /// for meta in state.key_meta(&keys, Some(64)).await? {
    ///     println!("{} {:?}", meta.full_key, meta.head);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn key_meta<K: AsRef<[u8]>>(
        &self,
        full_keys: &[K],
        head: Option<usize>,
    ) -> Result<Vec<KeyMeta>> {
        self.meta_batch(full_keys, head.map(|n| n.max(1))).await
    }

    async fn meta_batch<K: AsRef<[u8]>>(
        &self,
        full_keys: &[K],
        head: Option<usize>,
    ) -> Result<Vec<KeyMeta>> {
        let per_key = if head.is_some() { 4 } else { 3 };
        let mut out = Vec::with_capacity(full_keys.len());
        for chunk in full_keys.chunks(self.config.batch_size) {
            let mut pipe = redis::pipe();
            pipe.ignore_errors();
            for k in chunk {
                let k = k.as_ref();
                pipe.cmd("TYPE")
                    .arg(k)
                    .cmd("PTTL")
                    .arg(k)
                    .cmd("STRLEN")
                    .arg(k);
                if let Some(n) = head {
                    pipe.cmd("GETRANGE").arg(k).arg(0).arg(n as i64 - 1);
                }
            }
            let replies: Vec<redis::RedisResult<RedisValue>> = self
                .conn
                .query_pipe(&pipe, Retry::Safe, "key metadata")
                .await?;
            for (k, r) in chunk.iter().zip(replies.chunks(per_key)) {
                let redis_type = match r.first() {
                    Some(Ok(RedisValue::SimpleString(s))) => s.clone(),
                    Some(Ok(RedisValue::BulkString(b))) => String::from_utf8_lossy(b).into_owned(),
                    _ => "unknown".into(),
                };
                let pttl = match r.get(1) {
                    Some(Ok(RedisValue::Int(n))) => *n,
                    _ => -2,
                };
                let len = match (redis_type.as_str(), r.get(2)) {
                    ("string", Some(Ok(RedisValue::Int(n)))) => Some(*n as u64),
                    _ => None,
                };
                let head = match (redis_type.as_str(), r.get(3)) {
                    ("string", Some(Ok(RedisValue::BulkString(b)))) => Some(b.clone()),
                    _ => None,
                };
                out.push(KeyMeta {
                    full_key: escape::name(k.as_ref()).into_owned(),
                    redis_type,
                    len,
                    ttl: Ttl::from_pttl(pttl),
                    head,
                });
            }
        }
        Ok(out)
    }

    /// Replaces the value of a full Redis key (exact bytes) only if it still holds `expected`
    /// (the bytes the caller loaded), keeping its TTL; with `expected = None` the key must not
    /// exist and is created (with the configured TTL). The new value is validated and stored
    /// compact.
    ///
    /// ```no_run
    /// use motia_state::CasOutcome;
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let full = state.key_space().full_key("trace-1", "order")?;
    /// let loaded = state.get_raw(&full).await?;
    /// let new = r#"{"id":7,"status":"paid"}"#;
    /// match state.compare_and_set(&full, loaded.as_deref(), new).await? {
    ///     CasOutcome::Written => println!("saved"),
    ///     CasOutcome::Conflict(_) => println!("changed meanwhile; reload and retry"),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn compare_and_set(
        &self,
        full: impl AsRef<[u8]>,
        expected: Option<&[u8]>,
        new_json: &str,
    ) -> Result<CasOutcome> {
        let full = full.as_ref();
        let compact = json::compact(new_json)?;
        self.ensure_writable("save")?;
        let script = redis::Script::new(CAS_SCRIPT);
        let mut inv = script.prepare_invoke();
        inv.key(full)
            .arg(if expected.is_some() { "1" } else { "0" })
            .arg(expected.unwrap_or(b""))
            .arg(&compact)
            .arg(self.config.ttl.map(|t| t.to_string()).unwrap_or_default());
        let reply: Vec<RedisValue> = match self
            .conn
            .invoke(&inv, Retry::Never, &format!("save {}", escape::name(full)))
            .await
        {
            Ok(r) => r,
            Err(e) => return Err(self.explain(e, full).await),
        };
        match reply.as_slice() {
            [RedisValue::Int(1), ..] => Ok(CasOutcome::Written),
            [_, RedisValue::BulkString(b)] => Ok(CasOutcome::Conflict(Some(b.clone()))),
            _ => Ok(CasOutcome::Conflict(None)),
        }
    }

    /// Number of keys in the database (all of them, not only Motia's): `DBSIZE` of every node
    /// (each primary of a cluster, concurrently), summed over the nodes that answered; the
    /// others are named. An error only when no node answered.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let size = state.dbsize().await?;
    /// println!("{} keys in the database", size.keys);
    /// if !size.is_complete() {
    ///     eprintln!("without {}", size.unreachable.join(", "));
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn dbsize(&self) -> Result<DbSize> {
        let targets = self.conn.scan_targets().await?;
        let asks = targets.iter().map(|node| async move {
            let r: Result<u64> = self
                .conn
                .query_node(node.as_ref(), &redis::cmd("DBSIZE"), "DBSIZE")
                .await;
            (node, r)
        });
        let mut report = DbSize {
            keys: 0,
            nodes: 0,
            unreachable: Vec::new(),
        };
        let mut first_error = None;
        for (node, r) in futures::future::join_all(asks).await {
            match r {
                Ok(n) => {
                    report.keys += n;
                    report.nodes += 1;
                }
                Err(e) => {
                    report.unreachable.push(match node {
                        Some((h, p)) => format!("{h}:{p}"),
                        None => self.addr().to_string(),
                    });
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) if report.nodes == 0 => Err(e),
            _ => Ok(report),
        }
    }

    /// Checks that the server answers (`PING`, which every user may be allowed).
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// state.ping().await?;
    /// # Ok(()) }
    /// ```
    pub async fn ping(&self) -> Result<()> {
        let _: RedisValue = self
            .conn
            .query(&redis::cmd("PING"), Retry::Safe, "PING")
            .await?;
        Ok(())
    }

    /// The server's `redis_version`.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let version = state.server_version().await?;
    /// println!("Redis {version}");
    /// # Ok(()) }
    /// ```
    pub async fn server_version(&self) -> Result<String> {
        // A cluster answers INFO per node: ask the first primary.
        let targets = self.conn.scan_targets().await?;
        let node = targets.first().cloned().flatten();
        let info: String = self
            .conn
            .query_node(node.as_ref(), redis::cmd("INFO").arg("server"), "INFO")
            .await?;
        Ok(info
            .lines()
            .find_map(|l| l.strip_prefix("redis_version:"))
            .unwrap_or("unknown")
            .trim()
            .to_string())
    }
}
