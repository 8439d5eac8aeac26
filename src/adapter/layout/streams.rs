//! iii's streams: one hash `stream:{stream}:{group}` per group, field = item id, value = JSON
//! text. The engine PUBLISHes every change on `stream::events`, so subscribed UIs update; a
//! write here does the same.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::adapter::conn::Retry;
use crate::adapter::error::{Error, Result};
use crate::adapter::escape;
use crate::adapter::item::CasOutcome;
use crate::adapter::layout::IiiState;
use crate::adapter::layout::iii_scan::FieldScanner;
use crate::adapter::scan::KeyScanner;

/// The key prefix of stream group hashes.
pub const STREAM_PREFIX: &str = "stream:";
/// The channel the engine publishes stream changes on.
pub const EVENTS_CHANNEL: &str = "stream::events";

/// One stream group: `stream:{stream}:{group}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StreamGroup {
    /// The stream's name (`orderStatus`).
    pub stream: String,
    /// The group id (`orders`).
    pub group: String,
}

impl StreamGroup {
    /// From a Redis key; the stream name ends at the first `:` after `stream:`.
    ///
    /// ```
    /// use motia_state::adapter::layout::streams::StreamGroup;
    /// let g = StreamGroup::from_key(b"stream:orderStatus:orders").unwrap();
    /// assert_eq!((g.stream.as_str(), g.group.as_str()), ("orderStatus", "orders"));
    /// assert!(StreamGroup::from_key(b"stream:nogroup").is_none());
    /// ```
    pub fn from_key(key: &[u8]) -> Option<Self> {
        let rest = std::str::from_utf8(key.strip_prefix(STREAM_PREFIX.as_bytes())?).ok()?;
        let (stream, group) = rest.split_once(':')?;
        Some(Self {
            stream: stream.into(),
            group: group.into(),
        })
    }

    /// The Redis key.
    pub fn key(&self) -> String {
        format!("{STREAM_PREFIX}{}:{}", self.stream, self.group)
    }
}

/// What a stream write was, as the engine names it in its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamChange {
    /// A new item.
    Create,
    /// A changed item.
    Update,
    /// A removed item.
    Delete,
}

impl StreamChange {
    fn as_str(self) -> &'static str {
        match self {
            StreamChange::Create => "create",
            StreamChange::Update => "update",
            StreamChange::Delete => "delete",
        }
    }
}

/// The engine's event text for a change of one stream item.
///
/// ```
/// use motia_state::adapter::layout::streams::{StreamChange, StreamGroup, event_message};
/// let g = StreamGroup { stream: "orderStatus".into(), group: "orders".into() };
/// let m = event_message(&g, "v1", StreamChange::Create, r#"{"id":"v1"}"#, 1796647539364);
/// assert_eq!(m, r#"{"type":"stream","timestamp":1796647539364,"streamName":"orderStatus","groupId":"orders","id":"v1","event":{"type":"create","data":{"id":"v1"}}}"#);
/// ```
pub fn event_message(
    group: &StreamGroup,
    id: &str,
    change: StreamChange,
    data_json: &str,
    timestamp_ms: u64,
) -> String {
    let s = |v: &str| serde_json::Value::from(v).to_string();
    format!(
        r#"{{"type":"stream","timestamp":{timestamp_ms},"streamName":{},"groupId":{},"id":{},"event":{{"type":"{}","data":{data_json}}}}}"#,
        s(&group.stream),
        s(&group.group),
        s(id),
        change.as_str()
    )
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl IiiState {
    /// Pages through the stream group hashes (`SCAN MATCH stream:* TYPE hash`).
    pub fn scan_stream_groups(&self) -> KeyScanner {
        KeyScanner::new(
            self.adapter().conn.clone(),
            format!("{STREAM_PREFIX}*").into_bytes(),
            self.adapter().config.scan_count,
        )
        .of_type("hash")
    }

    /// Every stream group, sorted.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// for g in state.iii().stream_groups().await? {
    ///     println!("{} / {}", g.stream, g.group);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn stream_groups(&self) -> Result<Vec<StreamGroup>> {
        let mut groups: Vec<StreamGroup> = self
            .scan_stream_groups()
            .collect_all()
            .await?
            .iter()
            .filter_map(|k| StreamGroup::from_key(k))
            .collect();
        groups.sort();
        Ok(groups)
    }

    /// Pages through a stream group's items.
    pub fn scan_stream_items(&self, group: &StreamGroup) -> FieldScanner {
        FieldScanner::new(self.adapter().conn.clone(), group.key().into_bytes(), 1000)
    }

    /// One stream item's stored text (`HGET`), `None` when it or its group does not exist.
    ///
    /// ```no_run
    /// use motia_state::adapter::layout::streams::StreamGroup;
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let g = StreamGroup { stream: "orderStatus".into(), group: "orders".into() };
    /// let item = state.iii().get_stream_item(&g, "v1").await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_stream_item(&self, group: &StreamGroup, id: &str) -> Result<Option<Vec<u8>>> {
        self.get_by_key(group.key().as_bytes(), id.as_bytes()).await
    }

    /// Writes a stream item (read-old-and-write in one script, as the engine does) and
    /// PUBLISHes the engine's `create`/`update` event on [`EVENTS_CHANNEL`].
    ///
    /// ```no_run
    /// use motia_state::adapter::layout::streams::StreamGroup;
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let g = StreamGroup { stream: "orderStatus".into(), group: "orders".into() };
    /// state.iii().set_stream_item(&g, "v1", r#"{"id":"v1","status":"paid"}"#).await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_stream_item(
        &self,
        group: &StreamGroup,
        id: &str,
        json_text: &str,
    ) -> Result<Option<Vec<u8>>> {
        Ok(self.write_stream_item(group, id, json_text, None).await?.1)
    }

    /// Writes a stream item only if it still holds `expected` (`None`: only if it does not
    /// exist), and then PUBLISHes the engine's `create`/`update` event; nothing is published
    /// when the item changed meanwhile.
    ///
    /// ```no_run
    /// use motia_state::CasOutcome;
    /// use motia_state::adapter::layout::streams::StreamGroup;
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let iii = state.iii();
    /// let g = StreamGroup { stream: "orderStatus".into(), group: "orders".into() };
    /// let loaded = iii.get_stream_item(&g, "v1").await?;
    /// match iii.compare_and_set_stream_item(&g, "v1", loaded.as_deref(), r#"{"id":"v1"}"#).await? {
    ///     CasOutcome::Written => println!("saved and published"),
    ///     CasOutcome::Conflict(_) => println!("changed meanwhile"),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn compare_and_set_stream_item(
        &self,
        group: &StreamGroup,
        id: &str,
        expected: Option<&[u8]>,
        json_text: &str,
    ) -> Result<CasOutcome> {
        let (written, now) = self
            .write_stream_item(group, id, json_text, Some(expected))
            .await?;
        Ok(if written {
            CasOutcome::Written
        } else {
            CasOutcome::Conflict(now)
        })
    }

    async fn write_stream_item(
        &self,
        group: &StreamGroup,
        id: &str,
        json_text: &str,
        expected: Option<Option<&[u8]>>,
    ) -> Result<(bool, Option<Vec<u8>>)> {
        let compact = crate::adapter::json::compact(json_text)?;
        // The scope helpers prepend `state:`; a stream hash is written by its own key.
        let (written, old) = self
            .write_key(group.key().as_bytes(), id.as_bytes(), &compact, expected)
            .await?;
        if written {
            let change = if old.is_some() {
                StreamChange::Update
            } else {
                StreamChange::Create
            };
            self.publish(&event_message(group, id, change, &compact, now_ms()))
                .await?;
        }
        Ok((written, old))
    }

    /// Deletes a stream item and PUBLISHes the engine's `delete` event (data: the old value).
    pub async fn delete_stream_item(
        &self,
        group: &StreamGroup,
        id: &str,
    ) -> Result<Option<Vec<u8>>> {
        let old = self
            .delete_by_key(group.key().as_bytes(), id.as_bytes())
            .await?;
        if let Some(old) = &old {
            let data = std::str::from_utf8(old)
                .ok()
                .filter(|t| crate::adapter::json::is_json(t.as_bytes()))
                .unwrap_or("null");
            self.publish(&event_message(
                group,
                id,
                StreamChange::Delete,
                data,
                now_ms(),
            ))
            .await?;
        }
        Ok(old)
    }

    async fn publish(&self, message: &str) -> Result<()> {
        let mut cmd = redis::cmd("PUBLISH");
        cmd.arg(EVENTS_CHANNEL).arg(message);
        let _: i64 = self
            .adapter()
            .conn
            .query(&cmd, Retry::Never, &format!("PUBLISH {EVENTS_CHANNEL}"))
            .await?;
        Ok(())
    }
}

/// A stream item id must be text: the engine's events carry it in JSON.
pub fn check_item_id(id: &[u8]) -> Result<&str> {
    std::str::from_utf8(id).map_err(|_| Error::Config {
        name: "id".into(),
        reason: format!("stream item id {} is not UTF-8", escape::name(id)),
    })
}
