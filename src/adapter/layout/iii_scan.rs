//! Paged `HSCAN` of one hash.

use crate::adapter::conn::{Conn, Retry};
use crate::adapter::error::Result;
use crate::adapter::escape;

/// Pages through a hash's fields and values with `HSCAN`.
///
/// HSCAN may return a field twice while the hash is rehashed; a small hash (listpack) comes in
/// one page. Callers that index by field are idempotent; [`crate::IiiState::entries`] sorts and
/// keeps the last.
pub struct FieldScanner {
    conn: Conn,
    key: Vec<u8>,
    count: usize,
    cursor: u64,
    done: bool,
    fields: u64,
}

impl FieldScanner {
    pub(crate) fn new(conn: Conn, key: Vec<u8>, count: usize) -> Self {
        Self {
            conn,
            key,
            count,
            cursor: 0,
            done: false,
            fields: 0,
        }
    }

    /// The hash's Redis key.
    pub fn key(&self) -> &[u8] {
        &self.key
    }

    /// True once the server's cursor came back to 0.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Fields returned so far.
    pub fn fields_seen(&self) -> u64 {
        self.fields
    }

    /// The next page of `(field, value)` pairs; `None` when the walk is over.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let mut scan = state.iii().scan_fields("orders")?;
    /// while let Some(page) = scan.next_page().await? {
    ///     println!("{} fields", page.len());
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn next_page(&mut self) -> Result<Option<Vec<(Vec<u8>, Vec<u8>)>>> {
        if self.done {
            return Ok(None);
        }
        let mut cmd = redis::cmd("HSCAN");
        cmd.arg(&self.key)
            .arg(self.cursor)
            .arg("COUNT")
            .arg(self.count);
        let (cursor, flat): (u64, Vec<Vec<u8>>) = self
            .conn
            .query(
                &cmd,
                Retry::Safe,
                &format!("HSCAN {}", escape::name(&self.key)),
            )
            .await?;
        self.cursor = cursor;
        self.done = cursor == 0;
        let mut page = Vec::with_capacity(flat.len() / 2);
        let mut it = flat.into_iter();
        while let (Some(f), Some(v)) = (it.next(), it.next()) {
            page.push((f, v));
        }
        self.fields += page.len() as u64;
        Ok(Some(page))
    }
}
