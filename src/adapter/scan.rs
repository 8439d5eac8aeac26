//! Paged, de-duplicated SCAN.

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};

use tokio::task::JoinHandle;

use crate::adapter::conn::{Conn, Retry};
use crate::adapter::error::Result;

/// Pages through the keys matching a pattern with `SCAN`.
///
/// SCAN may return a key more than once and may return empty pages before it is done; this
/// type hides both: every key comes out once (tracked by a 64-bit hash, so a million keys cost
/// about 16 MB), and only the server's cursor 0 ends the walk. As soon as a page arrives the
/// next SCAN is sent, so the server works while the caller processes the page.
///
/// ```no_run
/// # async fn demo(adapter: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
/// let mut scan = adapter.scan_all();
/// while let Some(page) = scan.next_page().await? {
///     for key in page {
///         println!("{key}");
///     }
/// }
/// # Ok(()) }
/// ```
pub struct KeyScanner {
    conn: Conn,
    pattern: Vec<u8>,
    count: usize,
    cursor: u64,
    done: bool,
    seen: Option<(RandomState, HashSet<u64>)>,
    returned_raw: u64,
    pages: u64,
    /// The SCAN for `cursor`, already in flight.
    prefetch: Option<JoinHandle<Result<ScanReply>>>,
}

type ScanReply = (u64, Vec<Vec<u8>>);

impl Drop for KeyScanner {
    fn drop(&mut self) {
        if let Some(h) = self.prefetch.take() {
            h.abort();
        }
    }
}

async fn scan_once(conn: Conn, pattern: Vec<u8>, cursor: u64, count: usize) -> Result<ScanReply> {
    let mut cmd = redis::cmd("SCAN");
    cmd.arg(cursor)
        .arg("MATCH")
        .arg(&pattern)
        .arg("COUNT")
        .arg(count);
    let context = format!("SCAN {}", crate::adapter::escape::text(&pattern));
    conn.query(&cmd, Retry::Safe, &context).await
}

impl KeyScanner {
    pub(crate) fn new(conn: Conn, pattern: Vec<u8>, count: usize) -> Self {
        Self {
            conn,
            pattern,
            count,
            cursor: 0,
            done: false,
            seen: Some((RandomState::new(), HashSet::new())),
            returned_raw: 0,
            pages: 0,
            prefetch: None,
        }
    }

    /// Skips the de-duplication, for callers whose own index is idempotent.
    ///
    /// ```no_run
    /// use std::collections::HashSet;
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let mut index = HashSet::new();
    /// let mut scan = state.scan_all().allow_duplicates();
    /// while let Some(page) = scan.next_page().await? {
    ///     index.extend(page);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn allow_duplicates(mut self) -> Self {
        self.seen = None;
        self
    }

    /// The SCAN pattern.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let scan = state.scan_group("trace-1")?;
    /// println!("scanning {}", scan.pattern());
    /// # Ok(()) }
    /// ```
    pub fn pattern(&self) -> std::borrow::Cow<'_, str> {
        crate::adapter::escape::text(&self.pattern)
    }

    /// True once the server returned cursor 0.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let mut scan = state.scan_all();
    /// let first = scan.next_page().await?.unwrap_or_default();
    /// if !scan.is_done() {
    ///     println!("{} keys so far, more to come", first.len());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Keys the server returned so far, duplicates included (progress against DBSIZE).
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let total = state.dbsize().await?;
    /// let mut scan = state.scan_all();
    /// while scan.next_page().await?.is_some() {
    ///     eprint!("\r{}/{total} keys", scan.keys_seen());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn keys_seen(&self) -> u64 {
        self.returned_raw
    }

    /// SCAN round trips so far.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let mut scan = state.scan_all();
    /// while scan.next_page().await?.is_some() {}
    /// println!("{} SCAN round trips", scan.pages());
    /// # Ok(()) }
    /// ```
    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// The next page of new keys (possibly empty), or `None` when the walk is complete.
    ///
    /// Keys that are not UTF-8 are left out of these `String` pages (logged); use
    /// [`next_page_bytes`](Self::next_page_bytes) to see every key as its exact bytes.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let mut scan = state.scan_group("trace-1")?;
    /// while let Some(page) = scan.next_page().await? {
    ///     let values = state.get_raw_many_full(&page).await?;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn next_page(&mut self) -> Result<Option<Vec<String>>> {
        let Some(page) = self.next_page_bytes().await? else {
            return Ok(None);
        };
        let mut out = Vec::with_capacity(page.len());
        for bytes in page {
            match String::from_utf8(bytes) {
                Ok(k) => out.push(k),
                Err(e) => {
                    tracing::warn!(key = %crate::adapter::escape::name(e.as_bytes()), "skipping a key that is not UTF-8");
                }
            }
        }
        Ok(Some(out))
    }

    /// The next page of new keys as their exact bytes (possibly empty), or `None` when the walk
    /// is complete.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let mut scan = state.scan_all();
    /// while let Some(page) = scan.next_page_bytes().await? {
    ///     for key in page {
    ///         println!("{}", motia_state::escape::name(&key));
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn next_page_bytes(&mut self) -> Result<Option<Vec<Vec<u8>>>> {
        if self.done {
            return Ok(None);
        }
        let fetch = || {
            scan_once(
                self.conn.clone(),
                self.pattern.clone(),
                self.cursor,
                self.count,
            )
        };
        let (next, raw) = match self.prefetch.take() {
            Some(handle) => match handle.await {
                Ok(reply) => reply?,
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                // Cancelled by the runtime shutting down: ask again in this task.
                Err(_) => fetch().await?,
            },
            None => fetch().await?,
        };
        self.pages += 1;
        self.cursor = next;
        self.done = next == 0;
        if !self.done {
            self.prefetch = Some(tokio::spawn(scan_once(
                self.conn.clone(),
                self.pattern.clone(),
                next,
                self.count,
            )));
        }
        self.returned_raw += raw.len() as u64;
        let page = match self.seen.as_mut() {
            Some((hasher, seen)) => raw
                .into_iter()
                .filter(|key| seen.insert(hasher.hash_one(key)))
                .collect(),
            None => raw,
        };
        Ok(Some(page))
    }

    /// Every remaining key as exact bytes, in SCAN order.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let keys = state.scan_all().collect_all_bytes().await?;
    /// println!("{} keys under the prefix", keys.len());
    /// # Ok(()) }
    /// ```
    pub async fn collect_all_bytes(mut self) -> Result<Vec<Vec<u8>>> {
        let mut all = Vec::new();
        while let Some(page) = self.next_page_bytes().await? {
            all.extend(page);
        }
        Ok(all)
    }

    /// Every remaining key, in SCAN order.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let mut keys = state.scan_group("trace-1")?.collect_all().await?;
    /// keys.sort();
    /// # Ok(()) }
    /// ```
    pub async fn collect_all(mut self) -> Result<Vec<String>> {
        let mut all = Vec::new();
        while let Some(page) = self.next_page().await? {
            all.extend(page);
        }
        Ok(all)
    }
}
