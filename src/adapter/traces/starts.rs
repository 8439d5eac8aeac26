//! A listing's read of step records: each record's start up to its events. A flow's hash that
//! is small is read whole with `HGETALL` and cut here; only larger ones go through the header
//! script, which moves no more than their starts. The script copies every document into Lua
//! and back (12-20 µs of server time a flow of five records, against about 3 µs for
//! `MEMORY USAGE` and `HGETALL`), and most flows are a few KB.

use crate::adapter::RedisStateAdapter;
use crate::adapter::conn::Retry;
use crate::adapter::error::Result;
use crate::adapter::traces::fields::lossy_owned;
use crate::adapter::traces::headers::{HEAD_BYTES, Head, Heads, TAIL_BYTES};

/// A flow's hash taking at most this much server memory is read whole.
const WHOLE_AT_MOST: i64 = 64 * 1024;

impl RedisStateAdapter {
    /// Each record's start up to `"events"`, as the header script cuts it (at most `budget`
    /// bytes a flow): sizes first, then the small hashes whole, then the script for the rest
    /// (large hashes, keys of another type, a user who may not run `MEMORY USAGE`).
    pub(super) async fn read_starts(&self, keys: &[Vec<u8>], budget: usize) -> Result<Vec<Heads>> {
        let mut sizes = redis::pipe();
        sizes.ignore_errors();
        for k in keys {
            sizes
                .cmd("MEMORY")
                .arg("USAGE")
                .arg(k)
                .arg("SAMPLES")
                .arg(0);
        }
        let sizes: Vec<redis::Value> = Box::pin(self.conn.query_pipe(
            &sizes,
            Retry::Safe,
            "reading trace record sizes",
        ))
        .await?;
        let mut heads: Vec<Option<Heads>> = Vec::with_capacity(keys.len());
        let mut whole = redis::pipe();
        whole.ignore_errors();
        for (k, size) in keys.iter().zip(&sizes) {
            heads.push(match size {
                redis::Value::Nil => Some(Heads::Fields(Vec::new())),
                redis::Value::Int(n) if *n <= WHOLE_AT_MOST => {
                    whole.cmd("HGETALL").arg(k);
                    None
                }
                _ => None,
            });
        }
        if !whole.is_empty() {
            let replies: Vec<redis::Value> = Box::pin(self.conn.query_pipe(
                &whole,
                Retry::Safe,
                "reading trace records",
            ))
            .await?;
            let mut replies = replies.into_iter();
            for (slot, size) in heads.iter_mut().zip(&sizes) {
                if matches!(size, redis::Value::Int(n) if *n <= WHOLE_AT_MOST) {
                    // A key of another type (an error here) is left to the script, which names it.
                    *slot = replies.next().and_then(|r| starts_of(r, budget));
                }
            }
        }
        let rest: Vec<Vec<u8>> = keys
            .iter()
            .zip(&heads)
            .filter(|(_, h)| h.is_none())
            .map(|(k, _)| k.clone())
            .collect();
        let mut scripted = if rest.is_empty() {
            Vec::new().into_iter()
        } else {
            Box::pin(self.read_heads(&rest, budget, true))
                .await?
                .into_iter()
        };
        Ok(heads
            .into_iter()
            .map(|h| {
                h.or_else(|| scripted.next())
                    .unwrap_or(Heads::Fields(Vec::new()))
            })
            .collect())
    }
}

/// A hash's fields and documents as the header script returns them in `start` mode; `None` for
/// a reply that is not a hash's.
fn starts_of(reply: redis::Value, budget: usize) -> Option<Heads> {
    let pairs: Vec<(redis::Value, redis::Value)> = match reply {
        redis::Value::Array(flat) => {
            let mut it = flat.into_iter();
            std::iter::from_fn(|| Some((it.next()?, it.next()?))).collect()
        }
        redis::Value::Map(pairs) => pairs,
        _ => return None,
    };
    let fields = pairs.len();
    let mut used = 0usize;
    let mut out = Vec::with_capacity(fields);
    for pair in pairs {
        let (redis::Value::BulkString(field), redis::Value::BulkString(mut doc)) = pair else {
            return None;
        };
        let len = doc.len() as u64;
        doc.truncate(start_len(&doc));
        used += field.len() + doc.len();
        if used > budget {
            return Some(Heads::Over(fields));
        }
        out.push(Head {
            field: lossy_owned(field),
            len,
            bytes: doc,
        });
    }
    Some(Heads::Fields(out))
}

/// How many bytes of `doc` the script keeps: its first `HEAD_BYTES + TAIL_BYTES`, up to the end
/// of the first `"events"` followed by `:` (Lua's `"events"%s*:`).
fn start_len(doc: &[u8]) -> usize {
    const KEY: &[u8] = b"\"events\"";
    let part = &doc[..doc.len().min(HEAD_BYTES + TAIL_BYTES)];
    let mut from = 0;
    while let Some(at) = part[from..].windows(KEY.len()).position(|w| w == KEY) {
        let after = from + at + KEY.len();
        let spaces = part[after..]
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
            .count();
        if part.get(after + spaces) == Some(&b':') {
            return after + spaces + 1;
        }
        from += at + 1;
    }
    part.len()
}

#[cfg(test)]
mod tests {
    use super::start_len;

    #[test]
    fn a_start_ends_where_the_script_cuts_it() {
        fn cut(d: &str) -> &str {
            &d[..start_len(d.as_bytes())]
        }
        assert_eq!(
            cut(r#"{"id":"a","status":"completed","events":[{"x":1}],"endTime":3}"#),
            r#"{"id":"a","status":"completed","events":"#
        );
        assert_eq!(cut("{\"events\" \n\t: []}"), "{\"events\" \n\t:");
        assert_eq!(
            cut(r#"{"name":"\"events\"","events":[]}"#),
            r#"{"name":"\"events\"","events":"#,
            "a quoted name is not the key"
        );
        assert_eq!(cut(r#"{"id":"a"}"#), r#"{"id":"a"}"#, "no events: whole");
        let long = format!(r#"{{"id":"{}","events":[]}}"#, "x".repeat(6000));
        assert_eq!(start_len(long.as_bytes()), HEAD_BYTES_PLUS_TAIL);
    }

    const HEAD_BYTES_PLUS_TAIL: usize = super::HEAD_BYTES + super::TAIL_BYTES;
}
