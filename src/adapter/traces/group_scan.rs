//! The group hash streamed with HSCAN: one page of trace groups at a time.

use std::collections::HashSet;

use crate::adapter::conn::{Conn, Retry};
use crate::adapter::error::Result;
use crate::adapter::escape::shown;
use crate::adapter::traces::record::{TraceGroup, Unreadable};

/// One entry of the group hash: a flow's trace id and its group record.
///
/// Trace ids are bytes: join and read by [`GroupEntry::trace_id_bytes`]; `trace_id` is for
/// showing (itself when UTF-8, else escaped as [`crate::escape::shown`] does).
///
/// ```
/// use motia_state::adapter::traces::GroupEntry;
/// # fn show(e: GroupEntry) {
/// match &e.group {
///     Ok(g) => println!("{} {}", e.trace_id, g.name),
///     Err(why) => eprintln!("{why}"),
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GroupEntry {
    /// The trace id (the field), as [`crate::escape::shown`] gives it.
    pub trace_id: String,
    /// The field's exact bytes.
    pub trace_id_bytes: Vec<u8>,
    /// The record, or why it cannot be used.
    pub group: std::result::Result<TraceGroup, Unreadable>,
}

/// Pages through the group hash with `HSCAN`, like [`crate::KeyScanner`] does with SCAN:
/// each field once, only cursor 0 ends it.
///
/// ```no_run
/// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
/// let mut groups = state.scan_trace_groups();
/// while let Some(page) = groups.next_page().await? {
///     for entry in page {
///         if let Ok(g) = &entry.group {
///             println!("{} started by {}", entry.trace_id, g.name);
///         }
///     }
/// }
/// # Ok(()) }
/// ```
pub struct GroupScanner {
    pub(super) conn: Conn,
    pub(super) key: String,
    pub(super) count: usize,
    pub(super) cursor: u64,
    pub(super) done: bool,
    pub(super) seen: HashSet<Vec<u8>>,
}

impl GroupScanner {
    /// The group hash's key.
    ///
    /// ```no_run
    /// # fn demo(state: motia_state::RedisStateAdapter) {
    /// assert_eq!(state.scan_trace_groups().key(), "motia:trace:default");
    /// # }
    /// ```
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The next page (possibly empty), `None` when done. A missing hash is an empty walk.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let mut groups = state.scan_trace_groups();
    /// let mut n = 0;
    /// while let Some(page) = groups.next_page().await? {
    ///     n += page.len();
    /// }
    /// println!("{n} flows");
    /// # Ok(()) }
    /// ```
    pub async fn next_page(&mut self) -> Result<Option<Vec<GroupEntry>>> {
        if self.done {
            return Ok(None);
        }
        let mut cmd = redis::cmd("HSCAN");
        cmd.arg(&self.key)
            .arg(self.cursor)
            .arg("COUNT")
            .arg(self.count);
        let (next, flat): (u64, Vec<Vec<u8>>) = Box::pin(self.conn.query(
            &cmd,
            Retry::Safe,
            &format!("HSCAN {}", self.key),
        ))
        .await?;
        self.cursor = next;
        self.done = next == 0;
        let mut page = Vec::with_capacity(flat.len() / 2);
        for pair in flat.chunks_exact(2) {
            if !self.seen.insert(pair[0].clone()) {
                continue;
            }
            let field = shown(&pair[0]);
            let group = TraceGroup::parse(&field, &pair[1])
                .map_err(|reason| Unreadable::new(&self.key, &field, reason));
            page.push(GroupEntry {
                trace_id: field,
                trace_id_bytes: pair[0].clone(),
                group,
            });
        }
        Ok(Some(page))
    }

    /// Every remaining entry.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let all = state.scan_trace_groups().collect_all().await?;
    /// # Ok(()) }
    /// ```
    pub async fn collect_all(mut self) -> Result<Vec<GroupEntry>> {
        let mut all = Vec::new();
        while let Some(page) = self.next_page().await? {
            all.extend(page);
        }
        Ok(all)
    }
}
