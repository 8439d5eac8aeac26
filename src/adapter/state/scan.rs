//! Paged, de-duplicated SCAN: of the one server, or of every primary of a cluster at once.

use std::pin::Pin;
use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};
use futures::{Future, FutureExt};
use tokio::task::{AbortHandle, JoinError};

use crate::adapter::conn::{Conn, Node};
use crate::adapter::error::{Error, Result};
use crate::adapter::state::seen::Seen;

/// Pages through the keys matching a pattern with `SCAN`.
///
/// SCAN may return a key more than once and may return empty pages before it is done; this
/// type hides both: every key comes out once (tracked by a 64-bit hash, so a million keys cost
/// about 11-21 MB), and only the server's cursor 0 ends the walk. As soon as a page arrives the
/// next SCAN is sent, so the server works while the caller processes the page.
///
/// On a Redis Cluster every primary is walked at the same time, each with its own cursor
/// (a plain SCAN would see one node's keys only). A primary that cannot be reached and has no
/// successor ends the walk with [`Error::ScanIncomplete`] naming it; such a walk is never done.
///
/// ```no_run
/// # async fn demo(adapter: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
/// let mut scan = adapter.scan_all();
/// while let Some(page) = scan.next_page().await? {
///     for key in page {
///         println!("{}", motia_state::escape::name(&key));
///     }
/// }
/// # Ok(()) }
/// ```
pub struct KeyScanner {
    conn: Conn,
    pattern: Vec<u8>,
    count: usize,
    /// `SCAN ... TYPE t`: only keys of this Redis type.
    of_type: Option<&'static str>,
    /// One walk per node; `None` until the first page lists the nodes.
    walks: Option<Vec<Walk>>,
    /// The next SCAN of every walk that is not done, already sent.
    in_flight: FuturesUnordered<InFlight>,
    failed: Option<(String, String)>,
    seen: Option<Seen>,
    returned_raw: u64,
    pages: u64,
}

/// One node's walk: its own cursor space.
struct Walk {
    node: Option<Node>,
    cursor: u64,
    done: bool,
    task: Option<AbortHandle>,
}

type ScanReply = (u64, Vec<Vec<u8>>);
type InFlight = Pin<
    Box<dyn Future<Output = (usize, std::result::Result<Result<ScanReply>, JoinError>)> + Send>,
>;

/// How long a cluster walk waits for a lost primary's successor before giving up on it.
const FAILOVER_WAIT: Duration = Duration::from_secs(10);

impl Drop for KeyScanner {
    fn drop(&mut self) {
        for w in self.walks.iter().flatten() {
            if let Some(t) = &w.task {
                t.abort();
            }
        }
    }
}

async fn scan_once(
    conn: Conn,
    node: Option<Node>,
    pattern: Vec<u8>,
    cursor: u64,
    count: usize,
    of_type: Option<&'static str>,
) -> Result<ScanReply> {
    let mut cmd = redis::cmd("SCAN");
    cmd.arg(cursor)
        .arg("MATCH")
        .arg(&pattern)
        .arg("COUNT")
        .arg(count);
    if let Some(t) = of_type {
        cmd.arg("TYPE").arg(t);
    }
    let context = format!("SCAN {}", crate::adapter::escape::text(&pattern));
    conn.query_node(node.as_ref(), &cmd, &context).await
}

fn node_label(node: &Option<Node>, conn: &Conn) -> String {
    match node {
        Some((h, p)) => format!("{h}:{p}"),
        None => conn.addr().to_string(),
    }
}

impl KeyScanner {
    pub(crate) fn new(conn: Conn, pattern: Vec<u8>, count: usize) -> Self {
        Self {
            conn,
            pattern,
            count,
            of_type: None,
            walks: None,
            in_flight: FuturesUnordered::new(),
            failed: None,
            seen: Some(Seen::default()),
            returned_raw: 0,
            pages: 0,
        }
    }

    /// Sends walk `i`'s next SCAN.
    fn send(&mut self, i: usize) {
        let Some(w) = self.walks.as_mut().and_then(|w| w.get_mut(i)) else {
            return;
        };
        let handle = tokio::spawn(scan_once(
            self.conn.clone(),
            w.node.clone(),
            self.pattern.clone(),
            w.cursor,
            self.count,
            self.of_type,
        ));
        w.task = Some(handle.abort_handle());
        self.in_flight.push(Box::pin(handle.map(move |r| (i, r))));
    }

    /// Lists the nodes and sends the first SCAN of each.
    async fn start(&mut self) -> Result<()> {
        let targets = self.conn.scan_targets().await?;
        self.walks = Some(
            targets
                .into_iter()
                .map(|node| Walk {
                    node,
                    cursor: 0,
                    done: false,
                    task: None,
                })
                .collect(),
        );
        for i in 0..self.walks.as_ref().map_or(0, Vec::len) {
            self.send(i);
        }
        Ok(())
    }

    /// A cluster primary stopped answering: wait for a node that took over its slots (a
    /// promoted replica) and walk that one from the start; the de-duplication hides what was
    /// seen already. `false` when none appeared in time.
    async fn replace(&mut self, i: usize) -> bool {
        let deadline = tokio::time::Instant::now() + FAILOVER_WAIT;
        while tokio::time::Instant::now() < deadline {
            if let Ok(targets) = self.conn.scan_targets().await {
                let walks = self.walks.as_deref().unwrap_or_default();
                let known: Vec<&Option<Node>> = walks.iter().map(|w| &w.node).collect();
                let lost = &walks[i].node;
                if targets.contains(lost) && !targets.is_empty() {
                    // Still listed: it may be back (a restart); retry where it was.
                    if let Ok(reply) = scan_once(
                        self.conn.clone(),
                        lost.clone(),
                        self.pattern.clone(),
                        0,
                        1,
                        self.of_type,
                    )
                    .await
                    {
                        // A restarted node has a new cursor space: walk it again.
                        drop(reply);
                        if let Some(w) = self.walks.as_mut().and_then(|w| w.get_mut(i)) {
                            w.cursor = 0;
                        }
                        self.send(i);
                        return true;
                    }
                } else if let Some(new) = targets.into_iter().find(|t| !known.contains(&t)) {
                    tracing::info!(lost = %node_label(lost, &self.conn), new = %node_label(&new, &self.conn), "a primary was replaced: walking its successor");
                    if let Some(w) = self.walks.as_mut().and_then(|w| w.get_mut(i)) {
                        w.node = new;
                        w.cursor = 0;
                    }
                    self.send(i);
                    return true;
                }
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        false
    }

    /// Only keys of one Redis type (`SCAN ... TYPE`).
    pub(crate) fn of_type(mut self, t: &'static str) -> Self {
        self.of_type = Some(t);
        self
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
        self.failed.is_none()
            && self
                .walks
                .as_ref()
                .is_some_and(|w| w.iter().all(|w| w.done))
    }

    /// Keys the server returned so far, duplicates included (progress against DBSIZE).
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let total = state.dbsize().await?.keys;
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

    /// The next page of new keys as their exact bytes (possibly empty), or `None` when the walk
    /// is complete.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let mut scan = state.scan_group("trace-1")?;
    /// while let Some(page) = scan.next_page().await? {
    ///     for key in &page {
    ///         println!("{}", motia_state::escape::name(key));
    ///     }
    ///     let values = state.get_raw_many(&page).await?;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn next_page(&mut self) -> Result<Option<Vec<Vec<u8>>>> {
        if let Some((node, reason)) = &self.failed {
            return Err(Error::ScanIncomplete {
                node: node.clone(),
                reason: reason.clone(),
            });
        }
        if self.walks.is_none() {
            self.start().await?;
        }
        if self.is_done() {
            return Ok(None);
        }
        let Some((i, joined)) = self.in_flight.next().await else {
            return Ok(None);
        };
        let Some(walk) = self.walks.as_ref().and_then(|w| w.get(i)) else {
            return Ok(None);
        };
        let (node, cursor) = (walk.node.clone(), walk.cursor);
        let reply = match joined {
            Ok(reply) => reply,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // Cancelled by the runtime shutting down: ask again in this task.
            Err(_) => {
                scan_once(
                    self.conn.clone(),
                    node.clone(),
                    self.pattern.clone(),
                    cursor,
                    self.count,
                    self.of_type,
                )
                .await
            }
        };
        let (next, raw) = match reply {
            Ok(r) => r,
            Err(e) if node.is_some() && e.is_connection() => {
                let label = node_label(&node, &self.conn);
                tracing::warn!(node = %label, error = %e, "a primary did not answer the scan");
                if self.replace(i).await {
                    return Ok(Some(Vec::new()));
                }
                self.failed = Some((label.clone(), e.to_string()));
                return Err(Error::ScanIncomplete {
                    node: label,
                    reason: e.to_string(),
                });
            }
            Err(e) => return Err(e),
        };
        self.pages += 1;
        if let Some(w) = self.walks.as_mut().and_then(|w| w.get_mut(i)) {
            w.cursor = next;
            w.done = next == 0;
            w.task = None;
        }
        if next != 0 {
            self.send(i);
        }
        self.returned_raw += raw.len() as u64;
        let page = match self.seen.as_mut() {
            Some(seen) => seen.keep_new(raw),
            None => raw,
        };
        Ok(Some(page))
    }

    /// Every remaining key as exact bytes, in SCAN order.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let mut keys = state.scan_group("trace-1")?.collect_all().await?;
    /// keys.sort();
    /// println!("{} keys in the group", keys.len());
    /// # Ok(()) }
    /// ```
    pub async fn collect_all(mut self) -> Result<Vec<Vec<u8>>> {
        let mut all = Vec::new();
        while let Some(page) = self.next_page().await? {
            all.extend(page);
        }
        Ok(all)
    }
}
