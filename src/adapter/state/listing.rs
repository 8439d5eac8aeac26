//! Listing items: one entry point, [`RedisStateAdapter::items_with`], whose options choose the
//! group, the filters, parsed or raw values and a progress callback.

use std::collections::VecDeque;
use std::marker::PhantomData;

use futures::{Stream, StreamExt, stream};
use serde_json::Value;
use tokio::task::JoinHandle;

use crate::adapter::RedisStateAdapter;
use crate::adapter::conn::{Conn, Retry};
use crate::adapter::error::Result;
use crate::adapter::escape;
use crate::adapter::filter::StateFilter;
use crate::adapter::item::{RawItem, StateItem, ValueType};
use crate::adapter::keys::KeySpace;
use crate::adapter::scan::KeyScanner;

/// Batches of items fetched ahead; bounds the memory of replies not yet parsed.
const MAX_MGET_IN_FLIGHT: usize = 8;

/// A progress callback: `(keys read, keys found so far)`.
type Progress<'a> = Box<dyn FnMut(u64, u64) + Send + 'a>;

/// What a listing found: the items, and the full keys left out because they hold no JSON
/// (escaped as [`crate::escape::name`] shows them).
///
/// ```no_run
/// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
/// let report = state.items_with().report().await?;
/// for key in &report.not_json {
///     eprintln!("skipped {key}: not JSON");
/// }
/// println!("{} items", report.items.len());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ItemsReport<T> {
    /// The items that passed every filter, in SCAN order.
    pub items: Vec<T>,
    /// Full keys whose values are not JSON.
    pub not_json: Vec<String>,
}

/// Options of a listing of items, made by [`RedisStateAdapter::items_with`] and run by
/// [`report`](ItemsWith::report) (everything collected) or [`stream`](ItemsWith::stream) (items
/// as their batches arrive). `T` is [`StateItem`] (values parsed) until
/// [`raw`](ItemsWith::raw) makes it [`RawItem`] (values as their stored JSON text).
///
/// ```no_run
/// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
/// let paid = state
///     .items_with()
///     .group("trace-1")
///     .filter("status eq paid".parse()?)
///     .on_progress(|done, total| eprint!("\r{done}/{total}"))
///     .report()
///     .await?;
/// # Ok(()) }
/// ```
#[must_use = "a listing does nothing until `report().await` or `stream()` is polled"]
pub struct ItemsWith<'a, T = StateItem> {
    state: &'a RedisStateAdapter,
    group: Option<Vec<u8>>,
    filters: Vec<StateFilter>,
    progress: Option<Progress<'a>>,
    kind: PhantomData<T>,
}

impl RedisStateAdapter {
    /// A listing of items: every group unless [`group`](ItemsWith::group) names one, values
    /// parsed unless [`raw`](ItemsWith::raw); one scan, values fetched with MGET batches sent
    /// while the scan goes on.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let all = state.items_with().report().await?;
    /// let raw = state.items_with().group(b"o\xff").raw().report().await?;
    /// for item in &raw.items {
    ///     println!("{} {} {}", item.group_id, item.key, item.json);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn items_with(&self) -> ItemsWith<'_> {
        ItemsWith {
            state: self,
            group: None,
            filters: Vec::new(),
            progress: None,
            kind: PhantomData,
        }
    }
}

impl<'a, T> ItemsWith<'a, T> {
    /// Only this group (its id as `&str` or exact bytes).
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let items = state.items_with().group("trace-1").report().await?.items;
    /// # Ok(()) }
    /// ```
    pub fn group(mut self, group: impl AsRef<[u8]>) -> Self {
        self.group = Some(group.as_ref().to_vec());
        self
    }

    /// Adds a condition every listed item must meet (raw listings parse values to check it).
    ///
    /// ```no_run
    /// use motia_state::{FilterOp, StateFilter};
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let big = state
    ///     .items_with()
    ///     .filter(StateFilter::new("amount", FilterOp::Gt, "100"))
    ///     .report()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn filter(mut self, filter: StateFilter) -> Self {
        self.filters.push(filter);
        self
    }

    /// Adds several conditions, as [`filter`](Self::filter) does one.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let filters = vec!["status eq paid".parse()?, "amount gt 10".parse()?];
    /// let items = state.items_with().filters(filters).report().await?.items;
    /// # Ok(()) }
    /// ```
    pub fn filters(mut self, filters: impl IntoIterator<Item = StateFilter>) -> Self {
        self.filters.extend(filters);
        self
    }

    /// Calls `progress(keys read, keys found so far)` after each MGET batch (the scan runs
    /// meanwhile, so the second number grows until it is done).
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let report = state
    ///     .items_with()
    ///     .on_progress(|done, total| eprint!("\r{done}/{total}"))
    ///     .report()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn on_progress(mut self, progress: impl FnMut(u64, u64) + Send + 'a) -> Self {
        self.progress = Some(Box::new(progress));
        self
    }

    fn scan(&self) -> Result<KeyScanner> {
        match &self.group {
            Some(g) => self.state.scan_group(g),
            None => Ok(self.state.scan_all()),
        }
    }
}

impl<'a, T: 'a> ItemsWith<'a, T> {
    /// Collects every batch into a report.
    async fn collect<D: Send + 'static>(
        self,
        decode: fn(Vec<u8>) -> D,
        convert: Convert<D, T>,
    ) -> Result<ItemsReport<T>> {
        let scan = self.scan()?;
        let mut pages = ValuePages::new(self.state, scan, decode, self.progress);
        let mut out = ItemsReport {
            items: Vec::new(),
            not_json: Vec::new(),
        };
        while let Some((batch, values)) = pages.next().await? {
            let items = convert(
                &self.state.keys,
                &self.filters,
                &batch,
                values,
                &mut out.not_json,
            );
            out.items.extend(items);
        }
        Ok(out)
    }

    /// Yields every batch's items as it arrives; the first error ends the stream.
    fn items_stream<D: Send + 'static>(
        self,
        decode: fn(Vec<u8>) -> D,
        convert: Convert<D, T>,
    ) -> impl Stream<Item = Result<T>> + 'a {
        let scan = self.scan();
        let ItemsWith {
            state,
            filters,
            progress,
            ..
        } = self;
        let pages = scan.map(|scan| ValuePages::new(state, scan, decode, progress));
        stream::unfold(Some((pages, filters)), move |next| async move {
            let (pages, filters) = next?;
            let mut pages = match pages {
                Ok(pages) => pages,
                Err(e) => return Some((vec![Err(e)], None)),
            };
            match pages.next().await {
                Ok(Some((batch, values))) => {
                    // A stream has nowhere to put keys without JSON: they are skipped.
                    let items = convert(&state.keys, &filters, &batch, values, &mut Vec::new());
                    let items = items.into_iter().map(Ok).collect::<Vec<_>>();
                    Some((items, Some((Ok(pages), filters))))
                }
                Ok(None) => None,
                Err(e) => Some((vec![Err(e)], None)),
            }
        })
        .flat_map(stream::iter)
    }
}

impl<'a> ItemsWith<'a, StateItem> {
    /// Lists values as their stored JSON text, validated but not parsed into a tree: the fast
    /// path for printing items as they are.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// for item in state.items_with().raw().report().await?.items {
    ///     println!("{} {} {}", item.group_id, item.key, item.json);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn raw(self) -> ItemsWith<'a, RawItem> {
        ItemsWith {
            state: self.state,
            group: self.group,
            filters: self.filters,
            progress: self.progress,
            kind: PhantomData,
        }
    }

    /// Runs the listing with values parsed, collecting every item.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let report = state.items_with().group("trace-1").report().await?;
    /// for item in &report.items {
    ///     println!("{} = {}", item.key, item.value);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn report(self) -> Result<ItemsReport<StateItem>> {
        self.collect(parse_value, parsed_items).await
    }

    /// Runs the listing with values parsed, yielding items batch by batch as the scan and its
    /// MGETs go on, so memory holds a few batches rather than every item. Keys whose values
    /// are not JSON are skipped ([`report`](Self::report) lists them); the first error ends
    /// the stream.
    ///
    /// ```no_run
    /// use futures::TryStreamExt;
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let items = state.items_with().group("trace-1").stream();
    /// futures::pin_mut!(items);
    /// while let Some(item) = items.try_next().await? {
    ///     println!("{} = {}", item.key, item.value);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn stream(self) -> impl Stream<Item = Result<StateItem>> + 'a {
        self.items_stream(parse_value, parsed_items)
    }
}

impl<'a> ItemsWith<'a, RawItem> {
    /// Runs the listing with values as their stored JSON text, collecting every item.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let report = state.items_with().raw().report().await?;
    /// println!("{} items, {} not JSON", report.items.len(), report.not_json.len());
    /// # Ok(()) }
    /// ```
    pub async fn report(self) -> Result<ItemsReport<RawItem>> {
        self.collect(RawItem::validate, raw_items).await
    }

    /// Runs the listing with values as their stored JSON text, batch by batch, as
    /// [`ItemsWith::stream`] does for parsed values.
    ///
    /// ```no_run
    /// use futures::StreamExt;
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let mut items = Box::pin(state.items_with().raw().stream());
    /// while let Some(item) = items.next().await {
    ///     let item = item?;
    ///     println!("{} {} {}", item.group_id, item.key, item.json);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn stream(self) -> impl Stream<Item = Result<RawItem>> + 'a {
        self.items_stream(RawItem::validate, raw_items)
    }
}

/// Turns one batch of keys and decoded values into items; keys without JSON go to the list.
type Convert<D, T> =
    fn(&KeySpace, &[StateFilter], &[Vec<u8>], Vec<Option<D>>, &mut Vec<String>) -> Vec<T>;

fn parsed_items(
    keys: &KeySpace,
    filters: &[StateFilter],
    batch: &[Vec<u8>],
    values: Vec<Option<Option<Value>>>,
    not_json: &mut Vec<String>,
) -> Vec<StateItem> {
    let mut items = Vec::new();
    for (k, v) in batch.iter().zip(values) {
        let (Some((group, key)), Some(parsed)) = (keys.split(k), v) else {
            continue;
        };
        let Some(value) = parsed else {
            not_json.push(escape::name(k).into_owned());
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
    items
}

fn raw_items(
    keys: &KeySpace,
    filters: &[StateFilter],
    batch: &[Vec<u8>],
    values: Vec<Option<Option<(ValueType, String)>>>,
    not_json: &mut Vec<String>,
) -> Vec<RawItem> {
    let mut items = Vec::new();
    for (k, v) in batch.iter().zip(values) {
        let (Some((group, key)), Some(checked)) = (keys.split(k), v) else {
            continue;
        };
        let Some((kind, json)) = checked else {
            not_json.push(escape::name(k).into_owned());
            continue;
        };
        if !filters.is_empty() {
            // Filters read fields: only a listing that has them parses values.
            let Ok(value) = serde_json::from_str::<Value>(&json) else {
                continue;
            };
            if !filters.iter().all(|f| f.matches(&value)) {
                continue;
            }
        }
        items.push(RawItem {
            group_id: escape::shown(group),
            key: escape::shown(key),
            group_id_bytes: group.to_vec(),
            key_bytes: key.to_vec(),
            kind,
            json,
        });
    }
    items
}

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

type InFlight<T> = VecDeque<(Vec<Vec<u8>>, JoinHandle<Result<Vec<Option<T>>>>)>;

/// The values of the keys a scan finds, batch by batch: MGETs sent while the scan goes on and
/// decoded in their own tasks, at most [`MAX_MGET_IN_FLIGHT`] ahead of the reader.
struct ValuePages<'a, T> {
    state: &'a RedisStateAdapter,
    scan: KeyScanner,
    decode: fn(Vec<u8>) -> T,
    progress: Option<Progress<'a>>,
    in_flight: InFlight<T>,
    buffer: Vec<Vec<u8>>,
    done: u64,
    scan_done: bool,
}

impl<'a, T: Send + 'static> ValuePages<'a, T> {
    fn new(
        state: &'a RedisStateAdapter,
        scan: KeyScanner,
        decode: fn(Vec<u8>) -> T,
        progress: Option<Progress<'a>>,
    ) -> Self {
        Self {
            state,
            scan,
            decode,
            progress,
            in_flight: VecDeque::new(),
            buffer: Vec::new(),
            done: 0,
            scan_done: false,
        }
    }

    /// The next batch of full keys with their decoded values, in scan order; `None` at the end.
    async fn next(&mut self) -> Result<Option<(Vec<Vec<u8>>, Vec<Option<T>>)>> {
        let batch_size = self.state.config.batch_size;
        loop {
            // A batch already fetched (or one that must be awaited: the scan is over, or too
            // many are ahead) is handed out before the scan reads on.
            let ready = self.in_flight.front().is_some_and(|(_, task)| {
                self.scan_done || task.is_finished() || self.in_flight.len() > MAX_MGET_IN_FLIGHT
            });
            if ready && let Some((batch, task)) = self.in_flight.pop_front() {
                let values = match task.await {
                    Ok(reply) => reply?,
                    Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                    Err(_) => {
                        let conn = self.state.conn.clone();
                        mget_batch(conn, batch.clone(), self.decode).await?
                    }
                };
                self.done += batch.len() as u64;
                if let Some(p) = self.progress.as_mut() {
                    p(self.done, self.scan.keys_seen().max(self.done));
                }
                return Ok(Some((batch, values)));
            }
            if self.scan_done {
                return Ok(None);
            }
            // Exact bytes: a name that is not UTF-8 is an item like any other.
            let page = self.scan.next_page().await?;
            self.scan_done = page.is_none();
            self.buffer.extend(page.unwrap_or_default());
            while self.buffer.len() >= batch_size || (self.scan_done && !self.buffer.is_empty()) {
                let rest = self.buffer.split_off(self.buffer.len().min(batch_size));
                let batch = std::mem::replace(&mut self.buffer, rest);
                let conn = self.state.conn.clone();
                let task = tokio::spawn(mget_batch(conn, batch.clone(), self.decode));
                self.in_flight.push_back((batch, task));
            }
        }
    }
}
