//! Step records read in start order: every record's header first (so the status comes from all
//! of them), then whole documents, with their events, for the first records in start order
//! ([`RedisStateAdapter::read_traces`]) or page after page ([`TracePages`]).

use std::collections::HashMap;

use crate::adapter::RedisStateAdapter;
use crate::adapter::conn::Retry;
use crate::adapter::error::Result;
use crate::adapter::escape::shown;
use crate::adapter::traces::headers::{HEAD_BYTES, Heads};
use crate::adapter::traces::read::{TraceLimits, TraceRecords};
use crate::adapter::traces::record::{Trace, Unreadable};

/// A flow's records with the hash field of each step (a step's `id` need not be its field).
pub(super) struct Fielded {
    pub records: TraceRecords,
    pub fields: Vec<String>,
}

fn by_start(a: &(Trace, String), b: &(Trace, String)) -> std::cmp::Ordering {
    (a.0.start_time, &a.0.id).cmp(&(b.0.start_time, &b.0.id))
}

impl RedisStateAdapter {
    /// Headers of every record, then whole documents for the first ones in start order
    /// within `limits` (two round trips for the batch).
    pub(super) async fn read_trace_batch(
        &self,
        trace_ids: &[impl AsRef<[u8]>],
        limits: TraceLimits,
    ) -> Result<Vec<Fielded>> {
        let keys: Vec<Vec<u8>> = trace_ids
            .iter()
            .map(|id| self.trace_records_key(id.as_ref()))
            .collect();
        let start_only = !limits.after_events;
        let heads = if start_only {
            Box::pin(self.read_starts(&keys, limits.header_bytes)).await?
        } else {
            Box::pin(self.read_heads(&keys, limits.header_bytes, false)).await?
        };
        let mut out = Vec::with_capacity(keys.len());
        // Per flow: its steps with their fields, and the fields to read whole (the first in
        // start order, or records whose ends held no header).
        let mut steps_of: Vec<Vec<(Trace, String)>> = Vec::with_capacity(keys.len());
        let mut wanted: Vec<Vec<String>> = Vec::with_capacity(keys.len());
        for ((trace_id, key), heads) in trace_ids.iter().zip(&keys).zip(heads) {
            let mut rec = TraceRecords::empty(&shown(trace_id.as_ref()));
            let key = &shown(key);
            let mut read = Vec::new();
            let mut parsed: Vec<(Trace, String, u64, bool)> = Vec::new();
            match heads {
                Heads::WrongType(t) => rec.unreadable.push(Unreadable::new(
                    key,
                    "",
                    format!("a Redis {t}, not a hash of step records"),
                )),
                Heads::Over(n) => rec.not_read = n,
                Heads::Fields(fields) => {
                    let mut room = limits.header_bytes;
                    for h in fields {
                        let whole = h.is_whole();
                        let got = if whole {
                            Trace::parse(&h.field, &h.bytes)
                        } else if start_only {
                            // The whole document would not parse with bytes that are not
                            // UTF-8 in its start: it is read whole to say so exactly.
                            match std::str::from_utf8(&h.bytes) {
                                Ok(_) => Trace::parse_ends(&h.field, &h.bytes, &[], h.len),
                                Err(_) => Err("not UTF-8".into()),
                            }
                        } else {
                            let (head, tail) = h.bytes.split_at(HEAD_BYTES.min(h.bytes.len()));
                            Trace::parse_ends(&h.field, head, tail, h.len)
                        };
                        match got {
                            Ok(t) => parsed.push((t, h.field, h.len, whole)),
                            // Its ends (or start) hold no header: the whole document, if the
                            // budget allows.
                            Err(_) if !whole && (h.len as usize) <= room => {
                                room -= h.len as usize;
                                read.push(h.field);
                            }
                            Err(reason) => {
                                rec.unreadable.push(Unreadable::new(key, &h.field, reason))
                            }
                        }
                    }
                }
            }
            parsed.sort_by(|a, b| (a.0.start_time, &a.0.id).cmp(&(b.0.start_time, &b.0.id)));
            let mut steps = Vec::with_capacity(parsed.len());
            let mut used = 0usize;
            for (i, (mut t, field, len, whole)) in parsed.into_iter().enumerate() {
                let within = i < limits.steps && used + len as usize <= limits.bytes;
                if within {
                    used += len as usize;
                    if !whole {
                        read.push(field.clone());
                    }
                } else {
                    t.events = Vec::new();
                    t.omitted_bytes = Some(len);
                }
                steps.push((t, field));
            }
            steps_of.push(steps);
            wanted.push(read);
            out.push(rec);
        }

        let mut replies = Box::pin(self.hmget_each(&keys, &wanted)).await?.into_iter();
        Ok(out
            .into_iter()
            .zip(&keys)
            .zip(steps_of)
            .zip(&wanted)
            .map(|(((mut rec, key), mut steps), read)| {
                let key = &shown(key);
                if !read.is_empty() {
                    let values = replies.next().unwrap_or_default();
                    replace_whole(&mut steps, &mut rec.unreadable, key, read, values);
                }
                steps.sort_by(by_start);
                let (steps, fields) = steps.into_iter().unzip();
                rec.steps = steps;
                Fielded {
                    records: rec,
                    fields,
                }
            })
            .collect())
    }

    /// `HMGET key fields..` for each key with fields, pipelined: the values of each, in order.
    pub(super) async fn hmget_each(
        &self,
        keys: &[Vec<u8>],
        fields: &[Vec<String>],
    ) -> Result<Vec<Vec<redis::Value>>> {
        let mut pipe = redis::pipe();
        for (key, fields) in keys.iter().zip(fields) {
            if !fields.is_empty() {
                pipe.cmd("HMGET").arg(key).arg(fields);
            }
        }
        if pipe.is_empty() {
            return Ok(Vec::new());
        }
        let replies: Vec<redis::Value> = Box::pin(self.conn.query_pipe(
            &pipe,
            Retry::Safe,
            "reading trace records",
        ))
        .await?;
        Ok(replies
            .into_iter()
            .map(|r| match r {
                redis::Value::Array(v) => v,
                _ => Vec::new(),
            })
            .collect())
    }

    /// Pages through one flow's records in start order (see [`TracePages`]): reads every
    /// record's header now, whole documents page by page.
    ///
    /// ```no_run
    /// use motia_state::adapter::traces::TraceLimits;
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let mut pages = state.trace_pages("QH7KD-2104821", TraceLimits::default()).await?;
    /// println!("{:?}, {} steps", pages.headers().status(), pages.headers().step_count());
    /// while let Some(page) = pages.next_page(&state).await? {
    ///     for step in &page.steps {
    ///         println!("{} {} events", step.name, step.events.len());
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn trace_pages(
        &self,
        trace_id: impl AsRef<[u8]>,
        limits: TraceLimits,
    ) -> Result<TracePages> {
        let trace_id = trace_id.as_ref();
        let headers_only = TraceLimits { steps: 0, ..limits };
        let mut batch = self.read_trace_batch(&[trace_id], headers_only).await?;
        let f = batch.pop().unwrap_or_else(|| Fielded {
            records: TraceRecords::empty(&shown(trace_id)),
            fields: Vec::new(),
        });
        Ok(TracePages {
            key: self.trace_records_key(trace_id),
            headers: f.records,
            fields: f.fields,
            next: 0,
            limits,
        })
    }
}

/// Puts the whole documents read for `read` in place of their headers in `steps` (a record
/// that no longer parses is moved to `unreadable`; one deleted meanwhile keeps its header).
fn replace_whole(
    steps: &mut Vec<(Trace, String)>,
    unreadable: &mut Vec<Unreadable>,
    key: &str,
    read: &[String],
    values: Vec<redis::Value>,
) {
    let index: HashMap<String, usize> = steps
        .iter()
        .enumerate()
        .map(|(i, (_, f))| (f.clone(), i))
        .collect();
    let mut gone = Vec::new();
    for (field, v) in read.iter().zip(values) {
        let redis::Value::BulkString(b) = v else {
            continue;
        };
        let at = index.get(field).copied();
        match (Trace::parse(field, &b), at) {
            (Ok(t), Some(i)) => steps[i].0 = t,
            (Ok(t), None) => steps.push((t, field.clone())),
            (Err(reason), at) => {
                gone.extend(at);
                unreadable.push(Unreadable::new(key, field, reason));
            }
        }
    }
    gone.sort_unstable();
    for i in gone.into_iter().rev() {
        steps.remove(i);
    }
}

/// One flow's records in start order, a page at a time: every record's header is read first
/// (so [`headers`](Self::headers) has the flow's status from all of them), then each
/// [`next_page`](Self::next_page) reads the whole documents of the next records, at most
/// [`TraceLimits::steps`] of them and [`TraceLimits::bytes`] (a document larger than that on
/// its own comes back as its header, [`Trace::omitted_bytes`] set).
pub struct TracePages {
    key: Vec<u8>,
    headers: TraceRecords,
    fields: Vec<String>,
    next: usize,
    limits: TraceLimits,
}

impl TracePages {
    /// Every record by its header (events not read), in start order.
    pub fn headers(&self) -> &TraceRecords {
        &self.headers
    }

    /// The next records in start order with their events; `None` after the last.
    pub async fn next_page(&mut self, state: &RedisStateAdapter) -> Result<Option<TraceRecords>> {
        let steps = &self.headers.steps;
        if self.next >= steps.len() {
            return Ok(None);
        }
        let mut end = self.next;
        let mut used = 0u64;
        while end < steps.len() && end - self.next < self.limits.steps.max(1) {
            let len = steps[end].omitted_bytes.unwrap_or(0);
            if end > self.next && used + len > self.limits.bytes as u64 {
                break;
            }
            used += len;
            end += 1;
        }
        let range = self.next..end;
        self.next = end;
        let mut page: Vec<(Trace, String)> = steps[range.clone()]
            .iter()
            .cloned()
            .zip(self.fields[range].iter().cloned())
            .collect();
        // A document larger than a page's budget on its own keeps its header.
        let read: Vec<String> = page
            .iter()
            .filter(|(t, _)| t.omitted_bytes.unwrap_or(0) <= self.limits.bytes as u64)
            .map(|(_, f)| f.clone())
            .collect();
        let mut out = TraceRecords::empty(&self.headers.trace_id);
        let values = Box::pin(
            state.hmget_each(std::slice::from_ref(&self.key), std::slice::from_ref(&read)),
        )
        .await?
        .pop()
        .unwrap_or_default();
        replace_whole(
            &mut page,
            &mut out.unreadable,
            &shown(&self.key),
            &read,
            values,
        );
        out.steps = page.into_iter().map(|(t, _)| t).collect();
        Ok(Some(out))
    }
}
