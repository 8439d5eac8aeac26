//! Listing items: one entry point, [`RedisStateAdapter::items_with`], whose options choose the
//! group, the filters, parsed or raw values and a progress callback.

use std::collections::VecDeque;
use std::marker::PhantomData;

use serde_json::Value;
use tokio::task::JoinHandle;

use crate::adapter::RedisStateAdapter;
use crate::adapter::conn::{Conn, Retry};
use crate::adapter::error::Result;
use crate::adapter::escape;
use crate::adapter::filter::StateFilter;
use crate::adapter::item::{RawItem, StateItem, ValueType};
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
/// [`report`](ItemsWith::report). `T` is [`StateItem`] (values parsed) until
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
#[must_use = "a listing does nothing until `report().await`"]
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

    /// Runs the listing with values parsed.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let report = state.items_with().group("trace-1").report().await?;
    /// for item in &report.items {
    ///     println!("{} = {}", item.key, item.value);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn report(mut self) -> Result<ItemsReport<StateItem>> {
        let scan = self.scan()?;
        let mut out = ItemsReport {
            items: Vec::new(),
            not_json: Vec::new(),
        };
        let (state, filters) = (self.state, &self.filters);
        let progress = self.progress.as_mut();
        state
            .scan_values(scan, parse_value, progress, |batch, values| {
                for (k, v) in batch.iter().zip(values) {
                    let (Some((group, key)), Some(parsed)) = (state.keys.split(k), v) else {
                        continue;
                    };
                    let Some(value) = parsed else {
                        out.not_json.push(escape::name(k).into_owned());
                        continue;
                    };
                    if filters.iter().all(|f| f.matches(&value)) {
                        out.items.push(StateItem {
                            group_id: escape::shown(group),
                            key: escape::shown(key),
                            group_id_bytes: group.to_vec(),
                            key_bytes: key.to_vec(),
                            kind: ValueType::of(&value),
                            value,
                        });
                    }
                }
            })
            .await?;
        Ok(out)
    }
}

impl ItemsWith<'_, RawItem> {
    /// Runs the listing with values as their stored JSON text.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let report = state.items_with().raw().report().await?;
    /// println!("{} items, {} not JSON", report.items.len(), report.not_json.len());
    /// # Ok(()) }
    /// ```
    pub async fn report(mut self) -> Result<ItemsReport<RawItem>> {
        let scan = self.scan()?;
        let mut out = ItemsReport {
            items: Vec::new(),
            not_json: Vec::new(),
        };
        let (state, filters) = (self.state, &self.filters);
        let progress = self.progress.as_mut();
        state
            .scan_values(scan, RawItem::validate, progress, |batch, values| {
                for (k, v) in batch.iter().zip(values) {
                    let (Some((group, key)), Some(checked)) = (state.keys.split(k), v) else {
                        continue;
                    };
                    let Some((kind, json)) = checked else {
                        out.not_json.push(escape::name(k).into_owned());
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
                    out.items.push(RawItem {
                        group_id: escape::shown(group),
                        key: escape::shown(key),
                        group_id_bytes: group.to_vec(),
                        key_bytes: key.to_vec(),
                        kind,
                        json,
                    });
                }
            })
            .await?;
        Ok(out)
    }
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

impl RedisStateAdapter {
    /// Walks `scan`, fetching values with MGET batches sent while the scan goes on and decoded
    /// in their own tasks; `each` gets every batch with its decoded values, in scan order.
    async fn scan_values<T: Send + 'static>(
        &self,
        mut scan: KeyScanner,
        decode: fn(Vec<u8>) -> T,
        mut progress: Option<&mut Progress<'_>>,
        mut each: impl FnMut(&[Vec<u8>], Vec<Option<T>>),
    ) -> Result<()> {
        type InFlight<T> = VecDeque<(Vec<Vec<u8>>, JoinHandle<Result<Vec<Option<T>>>>)>;
        let mut in_flight: InFlight<T> = VecDeque::new();
        let mut buffer: Vec<Vec<u8>> = Vec::new();
        let mut done = 0u64;
        loop {
            // Exact bytes: a name that is not UTF-8 is an item like any other.
            let page = scan.next_page().await?;
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
                if let Some(p) = progress.as_mut() {
                    p(done, scan.keys_seen().max(done));
                }
                each(&batch, values);
            }
            if scan_done && in_flight.is_empty() {
                return Ok(());
            }
        }
    }
}
