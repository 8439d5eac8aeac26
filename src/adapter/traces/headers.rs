//! Every step record's header in one round trip per batch of flows: a flow's status needs each
//! record's status and start time, never its events. A small Lua script returns each document
//! whole when it is small, else its first and last bytes (the header before the events, the
//! end time and error after them), or, for a listing, only its start up to `"events"`; a user
//! who may not run scripts gets whole documents with plain commands as long as they fit the
//! budget.

use crate::adapter::RedisStateAdapter;
use crate::adapter::conn::Retry;
use crate::adapter::error::Result;
use crate::adapter::traces::fields::lossy_owned;

/// Each field of a hash with its size and its document, or only its ends (ARGV[1] bytes of the
/// start, ARGV[2] of the end) when larger than both; with ARGV[4] = `start`, its first
/// ARGV[1] + ARGV[2] bytes up to the first `"events":` in them (the client checks that it is
/// the top-level key). `{'over', n}` as soon as the bytes to return pass ARGV[3] (so a huge flow
/// never moves more than the budget); `{type}` for a key of another type. One key, so it
/// routes like any single-key command; `no-writes` lets it run as `EVALSHA_RO`, under
/// maxmemory and on replicas.
const FIELD_HEADS: &str = r#"#!lua flags=no-writes
local t = redis.call('TYPE', KEYS[1]).ok
if t ~= 'hash' and t ~= 'none' then return {t} end
local head, tail, budget = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local start_only = ARGV[4] == 'start'
local f = redis.call('HKEYS', KEYS[1])
local out, used = {}, 0
for _, k in ipairs(f) do
  local v = redis.call('HGET', KEYS[1], k)
  if v then
    local part = v
    if start_only then
      part = string.sub(v, 1, head + tail)
      local _, e = string.find(part, '"events"%s*:')
      if e then part = string.sub(part, 1, e) end
    elseif #v > head + tail then part = string.sub(v, 1, head) .. string.sub(v, -tail) end
    used = used + #k + #part
    if used > budget then return {'over', #f} end
    out[#out + 1] = k
    out[#out + 1] = #v
    out[#out + 1] = part
  end
end
return out"#;

/// Bytes of a document's start read for its header (Motia writes id, name, status, start time
/// and entry point before the events).
pub(super) const HEAD_BYTES: usize = 1024;
/// Bytes of a document's end (end time and error, with its stack, follow the events).
pub(super) const TAIL_BYTES: usize = 4096;

/// One step record as the header read found it.
pub(super) struct Head {
    pub field: String,
    /// The document's size.
    pub len: u64,
    /// The whole document when `len` bytes, else its first `HEAD_BYTES` and last `TAIL_BYTES`,
    /// or (start only) its start up to `"events":`.
    pub bytes: Vec<u8>,
}

impl Head {
    pub fn is_whole(&self) -> bool {
        self.bytes.len() as u64 == self.len
    }
}

/// What the header read found in one flow's hash.
pub(super) enum Heads {
    /// A key of another type (its type).
    WrongType(String),
    /// The headers of this many records are more than the budget.
    Over(usize),
    /// Every record (none when the hash does not exist).
    Fields(Vec<Head>),
}

impl RedisStateAdapter {
    /// The headers of every record of each key, at most `budget` bytes per key; with
    /// `start_only`, each record's start up to its events (see [`FIELD_HEADS`]).
    pub(super) async fn read_heads(
        &self,
        keys: &[Vec<u8>],
        budget: usize,
        start_only: bool,
    ) -> Result<Vec<Heads>> {
        let script = redis::Script::new(FIELD_HEADS);
        let mut pipe = redis::pipe();
        // Loaded ahead in the same pipeline, so EVALSHA finds it even after a restart.
        pipe.cmd("SCRIPT").arg("LOAD").arg(FIELD_HEADS).ignore();
        for k in keys {
            // The read-only form: a user with read-only key permissions (`%R~`) may run it.
            pipe.cmd("EVALSHA_RO")
                .arg(script.get_hash())
                .arg(1)
                .arg(k)
                .arg(HEAD_BYTES)
                .arg(TAIL_BYTES)
                .arg(budget)
                .arg(if start_only { "start" } else { "ends" });
        }
        let scripted: Result<Vec<Vec<redis::Value>>> = Box::pin(self.conn.query_pipe(
            &pipe,
            Retry::Safe,
            "reading trace record headers",
        ))
        .await;
        match scripted {
            Ok(replies) => Ok(replies.into_iter().map(heads_of).collect()),
            // A user without the right to run scripts, or a Redis before 7 (which knows neither
            // the flags line nor EVALSHA_RO), reads whole documents instead; a permission the plain commands
            // need too is refused there, by name.
            Err(e) if !e.is_connection() => Box::pin(self.read_heads_plain(keys, budget)).await,
            Err(e) => Err(e),
        }
    }

    /// [`read_heads`](Self::read_heads) in plain commands: sizes first, then every document of
    /// each flow whose sizes add up to at most `budget`.
    async fn read_heads_plain(&self, keys: &[Vec<u8>], budget: usize) -> Result<Vec<Heads>> {
        let lengths = Box::pin(self.field_lengths_plain(keys)).await?;
        let mut plans = Vec::with_capacity(keys.len());
        let mut pipe = redis::pipe();
        for (key, flat) in keys.iter().zip(lengths) {
            if let [t] = flat.as_slice() {
                plans.push(Err(Heads::WrongType(text_of(t))));
                continue;
            }
            let fields: Vec<(Vec<u8>, u64)> = flat
                .chunks_exact(2)
                .filter_map(|p| match (&p[0], &p[1]) {
                    (redis::Value::BulkString(name), redis::Value::Int(n)) => {
                        Some((name.clone(), (*n).max(0) as u64))
                    }
                    _ => None,
                })
                .collect();
            let total: u64 = fields.iter().map(|(f, n)| f.len() as u64 + n).sum();
            if total > budget as u64 {
                plans.push(Err(Heads::Over(fields.len())));
                continue;
            }
            if !fields.is_empty() {
                pipe.cmd("HMGET")
                    .arg(key)
                    .arg(fields.iter().map(|(f, _)| f.as_slice()).collect::<Vec<_>>());
            }
            plans.push(Ok(fields));
        }
        let mut replies = if pipe.is_empty() {
            Vec::new().into_iter()
        } else {
            Box::pin(self.conn.query_pipe::<Vec<redis::Value>>(
                &pipe,
                Retry::Safe,
                "reading trace records",
            ))
            .await?
            .into_iter()
        };
        Ok(plans
            .into_iter()
            .map(|plan| match plan {
                Err(h) => h,
                Ok(fields) if fields.is_empty() => Heads::Fields(Vec::new()),
                Ok(fields) => {
                    let values = match replies.next() {
                        Some(redis::Value::Array(v)) => v,
                        _ => Vec::new(),
                    };
                    Heads::Fields(
                        fields
                            .into_iter()
                            .zip(values)
                            .filter_map(|((field, _), v)| match v {
                                // A field deleted between the two round trips is simply gone.
                                redis::Value::BulkString(b) => Some(Head {
                                    field: String::from_utf8_lossy(&field).into_owned(),
                                    len: b.len() as u64,
                                    bytes: b,
                                }),
                                _ => None,
                            })
                            .collect(),
                    )
                }
            })
            .collect())
    }
}

fn text_of(v: &redis::Value) -> String {
    match v {
        redis::Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        redis::Value::SimpleString(s) => s.clone(),
        other => format!("{other:?}"),
    }
}

fn heads_of(flat: Vec<redis::Value>) -> Heads {
    match flat.as_slice() {
        [t] => return Heads::WrongType(text_of(t)),
        [redis::Value::BulkString(over), redis::Value::Int(n)] if over == b"over" => {
            return Heads::Over((*n).max(0) as usize);
        }
        _ => {}
    }
    let mut out = Vec::with_capacity(flat.len() / 3);
    let mut it = flat.into_iter();
    while let (Some(field), Some(len), Some(bytes)) = (it.next(), it.next(), it.next()) {
        if let (
            redis::Value::BulkString(field),
            redis::Value::Int(len),
            redis::Value::BulkString(bytes),
        ) = (field, len, bytes)
        {
            out.push(Head {
                field: lossy_owned(field),
                len: len.max(0) as u64,
                bytes,
            });
        }
    }
    Heads::Fields(out)
}
