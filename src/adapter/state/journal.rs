//! Before-images of keys and their compare-and-set restore: what a write journal keeps so
//! that a write can be undone without overwriting a change someone made after it.
//!
//! A before-image is `DUMP` and `PTTL` of a key (any Redis type), read right before a write.
//! Restoring puts it back with `RESTORE ... REPLACE` (or deletes a key the write created), but
//! only while the key still holds what the journalled write left ([`After`]).
//!
//! The iii layout keeps each item as a field of a hash (`state:{scope}`): a change of one field
//! is journalled as that field's value and its field TTL (where the server has hash-field
//! expiry), and restored field by field, so a neighbour written meanwhile is never touched.

use redis::Value as RedisValue;

use crate::adapter::RedisStateAdapter;
use crate::adapter::conn::Retry;
use crate::adapter::error::Result;
use crate::adapter::escape;

/// A key (or a hash field) as it was before a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// The Redis type (`string`, `hash`, ...); [`FIELD`] for a hash field.
    pub redis_type: String,
    /// The `DUMP` payload; for a hash field, its value as stored.
    pub dump: Vec<u8>,
    /// Remaining lifetime in milliseconds at the write; `None`: no expiry.
    pub pttl_ms: Option<u64>,
}

/// What a write left in a key: what an undo expects to find there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum After {
    /// The key was deleted.
    Absent,
    /// The key (or the field) holds this string value.
    Value(Vec<u8>),
    /// The value was not changed (an expiry was set or removed): the key still holds the
    /// before-image's `DUMP`.
    Same,
    /// The key holds this `DUMP` payload (a key of another type written back).
    Dump(Vec<u8>),
}

/// The [`Image::redis_type`] of a hash field's before-image.
pub const FIELD: &str = "field";

/// One key (or one field of a hash) a write changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyChange {
    /// The full Redis key, exact bytes.
    pub full_key: Vec<u8>,
    /// The hash field the write changes (the iii layout's items); `None`: the whole key.
    pub field: Option<Vec<u8>>,
    /// The key before the write; `None`: it did not exist.
    pub before: Option<Image>,
    /// What the write left.
    pub after: After,
}

impl KeyChange {
    /// What the key holds once this change is undone, as the undo's own [`After`].
    ///
    /// ```
    /// use motia_state::adapter::journal::{After, KeyChange};
    /// let c = KeyChange {
    ///     full_key: b"k".to_vec(),
    ///     field: None,
    ///     before: None,
    ///     after: After::Value(b"1".to_vec()),
    /// };
    /// assert_eq!(c.undone(), After::Absent);
    /// ```
    pub fn undone(&self) -> After {
        match (&self.before, &self.field) {
            (None, _) => After::Absent,
            (Some(image), None) => After::Dump(image.dump.clone()),
            (Some(image), Some(_)) => After::Value(image.dump.clone()),
        }
    }
}

/// Reads TYPE, DUMP and PTTL of a key.
const CAPTURE: &str = r#"
local t = redis.call('TYPE', KEYS[1]).ok
if t == 'none' then return {} end
return {t, redis.call('DUMP', KEYS[1]), redis.call('PTTL', KEYS[1])}
"#;

/// Restores a before-image when the key still holds what the write left.
/// ARGV: expected kind (absent|value|dump), expected bytes, 1 to restore or 0 to delete,
/// the DUMP payload, the TTL in ms (0: none).
const RESTORE: &str = r#"
local k = KEYS[1]
local kind = ARGV[1]
local ok
if kind == 'absent' then
  ok = redis.call('EXISTS', k) == 0
elseif kind == 'value' then
  ok = redis.call('TYPE', k).ok == 'string' and redis.call('GET', k) == ARGV[2]
else
  ok = redis.call('DUMP', k) == ARGV[2]
end
if not ok then
  -- Already as it was before (a write that was skipped, or undone by someone else).
  local now = redis.call('DUMP', k)
  if (ARGV[3] == '1' and now == ARGV[4]) or (ARGV[3] == '0' and not now) then return 1 end
  return 0
end
if ARGV[3] == '1' then
  redis.call('RESTORE', k, ARGV[5], ARGV[4], 'REPLACE')
else
  redis.call('UNLINK', k)
end
return 1
"#;

/// Reads a hash field's value and its TTL in ms (HPTTL; -1 where the server has no
/// hash-field expiry, whose fields then have none).
const CAPTURE_FIELD: &str = r#"
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return {} end
local t = redis.pcall('HPTTL', KEYS[1], 'FIELDS', 1, ARGV[1])
if type(t) ~= 'table' or t.err then t = {-1} end
return {v, t[1]}
"#;

/// Restores a hash field when it still holds what the write left.
/// ARGV: field, expected kind (absent|value), expected value, 1 to restore or 0 to delete,
/// the value, the TTL in ms (0: none).
const RESTORE_FIELD: &str = r#"
local k, f = KEYS[1], ARGV[1]
local now = redis.call('HGET', k, f)
local ok
if ARGV[2] == 'absent' then ok = not now else ok = now == ARGV[3] end
if not ok then
  -- Already as it was before (a write that was skipped, or undone by someone else).
  if (ARGV[4] == '1' and now == ARGV[5]) or (ARGV[4] == '0' and not now) then return 1 end
  return 0
end
if ARGV[4] == '0' then
  if now then redis.call('HDEL', k, f) end
  return 1
end
redis.call('HSET', k, f, ARGV[5])
if ARGV[6] ~= '0' then
  redis.call('HPEXPIRE', k, ARGV[6], 'FIELDS', 1, f)
else
  -- No TTL at the write; a server without hash-field expiry has none to remove.
  redis.pcall('HPERSIST', k, 'FIELDS', 1, f)
end
return 1
"#;

impl RedisStateAdapter {
    /// The before-images of keys, in order (`None` for a key that does not exist). Each key is
    /// read atomically (type, payload and TTL agree); batches are pipelined.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let images = state.before_images(&[b"motia:state:t1:order".to_vec()]).await?;
    /// if let Some(image) = &images[0] {
    ///     println!("{} of {} bytes", image.redis_type, image.dump.len());
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn before_images<K: AsRef<[u8]>>(
        &self,
        full_keys: &[K],
    ) -> Result<Vec<Option<Image>>> {
        let replies = self
            .capture(CAPTURE, full_keys, "DUMP", |k| vec![k.as_ref()])
            .await?;
        Ok(replies
            .into_iter()
            .map(|reply| match reply.as_slice() {
                [t, RedisValue::BulkString(dump), RedisValue::Int(pttl)] => Some(Image {
                    redis_type: match t {
                        RedisValue::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
                        RedisValue::SimpleString(s) => s.clone(),
                        _ => "unknown".into(),
                    },
                    dump: dump.clone(),
                    pttl_ms: u64::try_from(*pttl).ok(),
                }),
                _ => None,
            })
            .collect())
    }

    /// The before-images of hash fields, `(hash key, field)` in order (`None` for a field that
    /// does not exist): the value as stored and the field's TTL where the server has
    /// hash-field expiry. Each field is read atomically; batches are pipelined.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let images = state.field_images(&[(b"state:orders".to_vec(), b"o-1".to_vec())]).await?;
    /// if let Some(image) = &images[0] {
    ///     println!("{} bytes, TTL {:?} ms", image.dump.len(), image.pttl_ms);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn field_images<K: AsRef<[u8]>, F: AsRef<[u8]>>(
        &self,
        fields: &[(K, F)],
    ) -> Result<Vec<Option<Image>>> {
        let replies = self
            .capture(CAPTURE_FIELD, fields, "HGET", |(k, f)| {
                vec![k.as_ref(), f.as_ref()]
            })
            .await?;
        Ok(replies
            .into_iter()
            .map(|reply| match reply.as_slice() {
                [RedisValue::BulkString(value), RedisValue::Int(pttl)] => Some(Image {
                    redis_type: FIELD.into(),
                    dump: value.clone(),
                    pttl_ms: u64::try_from(*pttl).ok(),
                }),
                _ => None,
            })
            .collect())
    }

    /// Runs a capture script once per item (its key first in `args`), in pipelined batches of
    /// `batch_size`; the script is loaded in each round trip, so EVALSHA finds it even after a
    /// restart. The context names the command and, for a batch of one, its key: a key whose
    /// primary cannot be reached is named (a cluster's batch goes to several primaries).
    async fn capture<T>(
        &self,
        source: &str,
        items: &[T],
        command: &str,
        args: impl Fn(&T) -> Vec<&[u8]>,
    ) -> Result<Vec<Vec<RedisValue>>> {
        let script = redis::Script::new(source);
        let mut out = Vec::with_capacity(items.len());
        for chunk in items.chunks(self.config().batch_size.max(1)) {
            let mut pipe = redis::pipe();
            pipe.cmd("SCRIPT").arg("LOAD").arg(source).ignore();
            for item in chunk {
                let args = args(item);
                pipe.cmd("EVALSHA")
                    .arg(script.get_hash())
                    .arg(1)
                    .arg(args.as_slice());
            }
            let context = match chunk {
                [item] => format!(
                    "{command} {}",
                    String::from_utf8_lossy(args(item).first().copied().unwrap_or_default())
                ),
                _ => command.to_string(),
            };
            let replies: Vec<Vec<RedisValue>> =
                self.conn.query_pipe(&pipe, Retry::Safe, &context).await?;
            out.extend(replies);
        }
        Ok(out)
    }

    /// Undoes one change when the key still holds what the change left: restores the
    /// before-image (its value and its TTL at the write) or deletes a key the write created.
    /// `true` also when the key is already as it was before. `false`: the key changed since,
    /// and is left as it is. Refused with `read_only`.
    ///
    /// ```no_run
    /// use motia_state::adapter::journal::{After, KeyChange};
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let full = b"motia:state:t1:order".to_vec();
    /// let before = state.before_images(&[&full]).await?.remove(0);
    /// state.set_json(&full, "{\"id\":8}", None).await?;
    /// let after = After::Value(b"{\"id\":8}".to_vec());
    /// let change = KeyChange { full_key: full, field: None, before, after };
    /// assert!(state.undo_change(&change).await?);
    /// # Ok(()) }
    /// ```
    pub async fn undo_change(&self, change: &KeyChange) -> Result<bool> {
        self.ensure_writable("undo")?;
        if let Some(field) = &change.field {
            return self.undo_field(change, field).await;
        }
        let (kind, expected): (&str, &[u8]) = match (&change.after, &change.before) {
            (After::Absent, _) => ("absent", b""),
            (After::Value(v), _) => ("value", v),
            (After::Dump(d), _) => ("dump", d),
            (After::Same, Some(image)) => ("dump", &image.dump),
            // Nothing was there and the write changed no value: nothing to undo.
            (After::Same, None) => return Ok(true),
        };
        let script = redis::Script::new(RESTORE);
        let mut inv = script.prepare_invoke();
        inv.key(change.full_key.as_slice()).arg(kind).arg(expected);
        before_args(&mut inv, change);
        let done: i64 = self
            .conn
            .invoke(
                &inv,
                Retry::Never,
                &format!("undo {}", escape::name(&change.full_key)),
            )
            .await?;
        Ok(done == 1)
    }

    /// [`undo_change`](Self::undo_change) of one hash field.
    async fn undo_field(&self, change: &KeyChange, field: &[u8]) -> Result<bool> {
        let (kind, expected): (&str, &[u8]) = match (&change.after, &change.before) {
            (After::Absent, _) => ("absent", b""),
            (After::Value(v) | After::Dump(v), _) => ("value", v),
            (After::Same, Some(image)) => ("value", &image.dump),
            (After::Same, None) => return Ok(true),
        };
        let script = redis::Script::new(RESTORE_FIELD);
        let mut inv = script.prepare_invoke();
        inv.key(change.full_key.as_slice())
            .arg(field)
            .arg(kind)
            .arg(expected);
        before_args(&mut inv, change);
        let done: i64 = self
            .conn
            .invoke(
                &inv,
                Retry::Never,
                &format!(
                    "undo {} field {}",
                    escape::name(&change.full_key),
                    escape::name(field)
                ),
            )
            .await?;
        Ok(done == 1)
    }
}

/// The restore scripts' last three arguments: whether a before-image exists, its DUMP bytes
/// (or the field's value) and its remaining TTL in ms (0: none).
fn before_args(inv: &mut redis::ScriptInvocation<'_>, change: &KeyChange) {
    match &change.before {
        Some(image) => inv
            .arg("1")
            .arg(image.dump.as_slice())
            .arg(image.pttl_ms.map_or(0, |t| t.max(1)).to_string()),
        None => inv.arg("0").arg("").arg("0"),
    };
}
