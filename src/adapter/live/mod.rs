//! Following writes as they happen: a subscription to the server's keyspace notifications for
//! the state prefix (and Motia's trace records), yielding typed events.
//!
//! The subscription runs on its own RESP3 connection (a redis-rs `ConnectionManager` with a push
//! sender), which is re-established and re-subscribed after a disconnection. Whatever happened
//! while it was down was not seen: [`LiveMessage::Reconnected`] says so, and the caller
//! resynchronises (one scan). Notifications do not say what was written, only which key and
//! which command: read the values you need (coalescing bursts, see [`crate::coalesce`]).

pub mod coalesce;
pub mod notify;

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{PushInfo, PushKind, Value};
use tokio::sync::mpsc;

use crate::adapter::RedisStateAdapter;
use crate::adapter::config::ReconnectStrategy;
use crate::adapter::config::parse_node;
use crate::adapter::conn::{Node, Topology, build_client};
use crate::adapter::error::{Error, Result};
use crate::adapter::escape;
use crate::adapter::keys::{KeySpace, escape_glob, validate_group};
use crate::adapter::live::notify::NotifySetting;

mod event;

pub use event::{EventKind, KeyEvent, LiveMessage};

/// How often the setting is read again, so a subscription whose notifications someone turned off
/// says so instead of going quiet.
const SETTING_CHECK: Duration = Duration::from_secs(5);

/// What to follow.
///
/// ```
/// use motia_state::live::LiveOptions;
/// let only_one_trace = LiveOptions { trace: Some("t1".into()), ..LiveOptions::default() };
/// assert!(!only_one_trace.trace_records);
/// ```
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// Only this trace's keys (exact bytes, any but `:`).
    pub trace: Option<Vec<u8>>,
    /// Only keys with this name, exact bytes (in any trace, or in `trace`).
    pub key: Option<Vec<u8>>,
    /// Also follow Motia's trace records (hashes under [`crate::Config::trace_prefix`]).
    pub trace_records: bool,
    /// Notifications held while the reader is busy; beyond, they are dropped and counted.
    pub buffer: usize,
    /// Reconnect attempts after a disconnection (default: the adapter's strategy). A cluster
    /// whose nodes still answer is tried beyond it, at its last delay, until a replica has
    /// taken over from a lost primary.
    pub reconnect: Option<ReconnectStrategy>,
    /// Read the server's setting every few seconds and report changes.
    pub check_setting: bool,
}

impl Default for LiveOptions {
    fn default() -> Self {
        Self {
            trace: None,
            key: None,
            trace_records: false,
            buffer: 65_536,
            reconnect: None,
            check_setting: true,
        }
    }
}

enum Link {
    Up,
    Down { attempt: u32 },
}

/// The subscription connection of one node (`None`: the one server).
struct NodeLink {
    node: Option<Node>,
    manager: ConnectionManager,
}

/// A running subscription to keyspace notifications.
///
/// ```no_run
/// use motia_state::live::{LiveMessage, LiveOptions, LiveSubscription};
/// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
/// if !state.notify_setting().await?.covers_live() {
///     return Ok(()); // or state.enable_notifications(), with the user's consent
/// }
/// let mut live = LiveSubscription::open(&state, LiveOptions::default()).await?;
/// loop {
///     match live.next().await? {
///         LiveMessage::Event(ev) => println!("{} {}", ev.event, ev.key),
///         m if m.events_lost() => println!("missed some events: rescan"),
///         _ => {}
///     }
/// }
/// # }
/// ```
pub struct LiveSubscription {
    /// One subscription connection per node: the server, or every primary of a cluster
    /// (notifications are local to the node that holds the key; replicas would repeat them).
    links: Vec<NodeLink>,
    rx: mpsc::Receiver<PushInfo>,
    tx: mpsc::Sender<PushInfo>,
    dropped: Arc<AtomicU64>,
    channel_prefix: String,
    /// Subscribed to, exact bytes.
    patterns: Vec<Vec<u8>>,
    /// The same, as text for people.
    shown_patterns: Vec<String>,
    keys: KeySpace,
    trace: Option<Vec<u8>>,
    key: Option<Vec<u8>>,
    trace_records: bool,
    trace_prefix: String,
    link: Link,
    reconnect: ReconnectStrategy,
    adapter: RedisStateAdapter,
    check_setting: bool,
    next_check: Instant,
    covered: bool,
    /// Whether a setting sends what this subscription follows.
    covers: fn(&NotifySetting) -> bool,
    queue: VecDeque<LiveMessage>,
}

impl std::fmt::Debug for LiveSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveSubscription")
            .field("patterns", &self.shown_patterns)
            .field(
                "nodes",
                &self.links.iter().map(|l| &l.node).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl LiveSubscription {
    /// Opens the subscription's own connection and subscribes. It does not check the server's
    /// setting: see [`RedisStateAdapter::notify_setting`].
    ///
    /// ```no_run
    /// use motia_state::live::{LiveOptions, LiveSubscription};
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let live = LiveSubscription::open(&state, LiveOptions::default()).await?;
    /// println!("following {:?}", live.patterns());
    /// # Ok(()) }
    /// ```
    pub async fn open(adapter: &RedisStateAdapter, options: LiveOptions) -> Result<Self> {
        let config = adapter.config();
        let addr = adapter.addr().to_string();
        let keys = adapter.key_space().clone();
        if let Some(t) = &options.trace {
            validate_group(t)?;
        }
        if options.key.as_deref() == Some(b"") {
            return Err(Error::EmptyKey {
                group: escape::name(options.trace.as_deref().unwrap_or_default()).into_owned(),
            });
        }
        let channel_prefix = format!("__keyspace@{}__:", config.database);
        let patterns = patterns(&channel_prefix, &keys, &config.trace_prefix, &options);
        let shown_patterns = patterns.iter().map(|p| escape::shown(p)).collect();

        let (tx, rx) = mpsc::channel(options.buffer.max(1));
        let mut sub = Self {
            links: Vec::new(),
            rx,
            tx,
            dropped: Arc::new(AtomicU64::new(0)),
            channel_prefix,
            patterns,
            shown_patterns,
            keys,
            trace: options.trace,
            key: options.key,
            trace_records: options.trace_records,
            trace_prefix: config.trace_prefix.clone(),
            link: Link::Up,
            reconnect: options
                .reconnect
                .unwrap_or_else(|| config.reconnect.clone()),
            adapter: adapter.clone(),
            check_setting: options.check_setting,
            next_check: Instant::now() + SETTING_CHECK,
            covered: true,
            covers: NotifySetting::covers_live,
            queue: VecDeque::new(),
        };
        sub.link_nodes().await?;
        if sub.links.is_empty() {
            return Err(Error::Subscribe {
                addr,
                reason: "no primary to subscribe to".into(),
            });
        }
        Ok(sub)
    }

    /// Subscribes on every node that should be followed and is not yet, and drops the links to
    /// nodes that no longer should be (a cluster's primaries after a failover). True when the
    /// set of nodes changed after the first time (events may have been missed).
    async fn link_nodes(&mut self) -> Result<bool> {
        let nodes = self.targets().await?;
        let before = self.links.len();
        let first = self.links.is_empty();
        self.links.retain(|l| nodes.contains(&l.node));
        let mut changed = self.links.len() != before;
        for node in nodes {
            if self.links.iter().any(|l| l.node == node) {
                continue;
            }
            let link = self.open_link(node).await?;
            self.links.push(link);
            changed = true;
        }
        Ok(changed && !first)
    }

    /// The nodes whose notifications to follow: the server, the primary the sentinels name,
    /// or every primary of a cluster.
    async fn targets(&self) -> Result<Vec<Option<Node>>> {
        if let Topology::Sentinel { primary, .. } = self.adapter.conn.topology() {
            // The sentinels are asked at every (re)connect: a PING keeps that current.
            let _ = self.adapter.dbsize().await;
            let primary = match self.adapter.conn.topology() {
                Topology::Sentinel {
                    primary: Some(p), ..
                } => Some(p),
                _ => primary,
            };
            return match primary {
                Some(p) => Ok(vec![Some(parse_node("sentinel primary", &p)?)]),
                None => Err(Error::Subscribe {
                    addr: self.adapter.addr().to_string(),
                    reason: "the sentinels have not named a primary yet".into(),
                }),
            };
        }
        self.adapter.conn.scan_targets().await
    }

    async fn open_link(&self, node: Option<Node>) -> Result<NodeLink> {
        let mut config = self.adapter.config().clone();
        if let Some((host, port)) = &node {
            config.host = host.clone();
            config.port = *port;
            config.cluster = false;
            config.cluster_nodes.clear();
            config.socket = None;
            config.sentinel = None;
        }
        let addr = match &node {
            Some((h, p)) => format!("{h}:{p}"),
            None => self.adapter.addr().to_string(),
        };
        let subscribe_err = |reason: String| Error::Subscribe {
            addr: addr.clone(),
            reason,
        };
        let client = build_client(&config, true)?;
        let tx = self.tx.clone();
        let counter = self.dropped.clone();
        // The sender runs on the connection's reader and must not block: a full buffer drops
        // the notification and counts it, which the reader reports as lost events.
        let sender = move |info: PushInfo| -> std::result::Result<(), ()> {
            match tx.try_send(info) {
                Ok(()) => Ok(()),
                Err(mpsc::error::TrySendError::Full(_)) => {
                    counter.fetch_add(1, Ordering::Relaxed);
                    Ok(())
                }
                Err(mpsc::error::TrySendError::Closed(_)) => Err(()),
            }
        };
        let manager_config = ConnectionManagerConfig::new()
            .set_push_sender(sender)
            .set_automatic_resubscription()
            .set_connection_timeout(Some(config.connect_timeout))
            .set_response_timeout(config.command_timeout)
            // Our own loop retries with the configured strategy; the manager tries briefly.
            .set_number_of_retries(1);
        let mut manager = match tokio::time::timeout(
            config.connect_timeout,
            ConnectionManager::new_with_config(client, manager_config),
        )
        .await
        {
            Ok(Ok(m)) => m,
            Ok(Err(e)) if e.to_string().contains("HELLO") => {
                return Err(subscribe_err(format!(
                    "live updates need Redis 6 or newer (RESP3): {e}"
                )));
            }
            Ok(Err(e)) => return Err(subscribe_err(e.to_string())),
            Err(_) => {
                return Err(subscribe_err(format!(
                    "no answer within {:?}",
                    config.connect_timeout
                )));
            }
        };
        for (p, shown) in self.patterns.iter().zip(&self.shown_patterns) {
            if let Err(e) = manager.psubscribe(p).await {
                let reason = if e.code() == Some("NOPERM") {
                    format!(
                        "this user may not subscribe to {shown} (its ACL channel permissions need \
                         &{}*): {e}",
                        self.channel_prefix
                    )
                } else {
                    e.to_string()
                };
                return Err(subscribe_err(reason));
            }
        }
        Ok(NodeLink { node, manager })
    }

    /// Judges the server's setting with `covers` in the periodic check (the iii layout needs
    /// other flags than 0.x's).
    pub(crate) fn covered_by(mut self, covers: fn(&NotifySetting) -> bool) -> Self {
        self.covers = covers;
        self
    }

    /// The channel patterns subscribed to, as text (names that are not UTF-8 escaped as
    /// [`crate::escape::shown`] shows them).
    ///
    /// ```no_run
    /// # async fn demo(live: motia_state::live::LiveSubscription) {
    /// assert_eq!(live.patterns()[0], "__keyspace@0__:motia:state:*");
    /// # }
    /// ```
    pub fn patterns(&self) -> &[String] {
        &self.shown_patterns
    }

    /// The next message. Errors only when the connection is lost for good (the reconnect
    /// strategy gave up).
    ///
    /// ```no_run
    /// # async fn demo(mut live: motia_state::live::LiveSubscription) -> motia_state::Result<()> {
    /// let first = live.next().await?;
    /// # Ok(()) }
    /// ```
    pub async fn next(&mut self) -> Result<LiveMessage> {
        loop {
            if let Some(m) = self.queue.pop_front() {
                return Ok(m);
            }
            let dropped = self.dropped.swap(0, Ordering::Relaxed);
            if dropped > 0 {
                return Ok(LiveMessage::Overflow { dropped });
            }
            match self.link {
                Link::Down { attempt } => {
                    if self.ping().await {
                        self.link = Link::Up;
                        self.next_check = Instant::now();
                        return Ok(LiveMessage::Reconnected);
                    }
                    let attempt = attempt + 1;
                    let Some(delay) = self.retry_delay(attempt).await else {
                        return Err(Error::Disconnected {
                            addr: self.adapter.addr().to_string(),
                            retries: attempt - 1,
                            reason: "the notification subscription could not be re-established"
                                .into(),
                        });
                    };
                    self.link = Link::Down { attempt };
                    tokio::time::sleep(delay).await;
                }
                Link::Up => {
                    let check = tokio::time::Instant::from_std(self.next_check);
                    tokio::select! {
                        push = self.rx.recv() => match push {
                            Some(p) => {
                                if let Some(m) = self.convert(p) {
                                    return Ok(m);
                                }
                            }
                            None => {
                                return Err(Error::Disconnected {
                                    addr: self.adapter.addr().to_string(),
                                    retries: 0,
                                    reason: "the notification connection closed".into(),
                                });
                            }
                        },
                        _ = tokio::time::sleep_until(check), if self.check_setting => {
                            self.next_check = Instant::now() + SETTING_CHECK;
                            if let Some(m) = self.check_setting().await {
                                return Ok(m);
                            }
                        }
                    }
                }
            }
        }
    }

    /// The next message and whatever else has arrived already, up to `max` in all: one
    /// round of work for a reader that batches (value reads, screen updates).
    ///
    /// ```no_run
    /// # async fn demo(mut live: motia_state::live::LiveSubscription) -> motia_state::Result<()> {
    /// for message in live.next_batch(1000).await? {
    ///     println!("{message:?}");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn next_batch(&mut self, max: usize) -> Result<Vec<LiveMessage>> {
        let mut out = vec![self.next().await?];
        while out.len() < max.max(1) {
            if let Some(m) = self.queue.pop_front() {
                out.push(m);
                continue;
            }
            if !matches!(self.link, Link::Up) || self.dropped.load(Ordering::Relaxed) > 0 {
                break;
            }
            match self.rx.try_recv() {
                Ok(p) => {
                    if let Some(m) = self.convert(p) {
                        out.push(m);
                    }
                }
                Err(_) => break,
            }
        }
        Ok(out)
    }

    /// How long to wait before re-subscribing again, `None` to give up. A cluster that still
    /// answers is not given up on when the strategy runs out: a primary's replica takes over
    /// only after the node timeout (15 s by default) and an election, longer than a strategy
    /// meant for one unreachable server allows; the last delay it gave is kept meanwhile.
    async fn retry_delay(&self, attempt: u32) -> Option<Duration> {
        if let Some(delay) = self.reconnect.delay(attempt) {
            return Some(delay);
        }
        let last = (1..attempt).rev().find_map(|n| self.reconnect.delay(n))?;
        let cluster = self.links.iter().any(|l| l.node.is_some());
        (cluster && self.adapter.conn.scan_targets().await.is_ok()).then_some(last)
    }

    /// True when every node's subscription answers (re-made where needed).
    async fn ping(&mut self) -> bool {
        if self.links.iter().any(|l| l.node.is_some()) && self.link_nodes().await.is_err() {
            return false;
        }
        let limit = self.adapter.config().connect_timeout;
        for l in &mut self.links {
            let cmd = redis::cmd("PING");
            let ping = cmd.query_async::<Value>(&mut l.manager);
            if !matches!(tokio::time::timeout(limit, ping).await, Ok(Ok(_))) {
                return false;
            }
        }
        true
    }

    async fn check_setting(&mut self) -> Option<LiveMessage> {
        // A cluster's primaries change with a failover: follow the new ones.
        if self.links.iter().any(|l| l.node.is_some()) {
            match self.link_nodes().await {
                Ok(true) => {
                    self.queue.push_back(LiveMessage::Reconnected);
                }
                Ok(false) => {}
                Err(e) => tracing::debug!(error = %e, "listing the primaries failed"),
            }
        }
        match self.adapter.primaries_notify_setting().await {
            Ok(s) => {
                let covered = (self.covers)(&s);
                (covered != self.covered).then(|| {
                    self.covered = covered;
                    LiveMessage::SettingChanged(s)
                })
            }
            Err(Error::ConfigRefused { .. }) => {
                self.check_setting = false;
                None
            }
            // A lost connection shows up as a disconnection push.
            Err(_) => None,
        }
    }

    fn convert(&mut self, push: PushInfo) -> Option<LiveMessage> {
        match push.kind {
            PushKind::Disconnection => {
                if matches!(self.link, Link::Up) {
                    self.link = Link::Down { attempt: 0 };
                    return Some(LiveMessage::Disconnected);
                }
                None
            }
            PushKind::PMessage | PushKind::Message => {
                // pmessage: [pattern, channel, event]; message: [channel, event].
                let n = push.data.len();
                if n < 2 {
                    return None;
                }
                let channel = bytes(&push.data[n - 2])?;
                let event = bytes(&push.data[n - 1])?;
                let key = channel.strip_prefix(self.channel_prefix.as_bytes())?;
                // Event names are Redis's own (ASCII); keys may be any bytes.
                let Ok(event) = std::str::from_utf8(event) else {
                    tracing::debug!("skipping a notification whose event name is not UTF-8");
                    return None;
                };
                let ev = KeyEvent::from_bytes(key.to_vec(), event);
                self.wanted(&ev).then_some(LiveMessage::Event(ev))
            }
            _ => None,
        }
    }

    /// Patterns are globs: keep exactly what was asked for.
    fn wanted(&self, ev: &KeyEvent) -> bool {
        if let Some((trace, key)) = ev.state_key(&self.keys) {
            return self.trace.as_deref().is_none_or(|t| t == trace)
                && self.key.as_deref().is_none_or(|k| k == key);
        }
        self.trace_records
            && ev
                .trace_record(&self.trace_prefix)
                .is_some_and(|id| self.trace.as_deref().is_none_or(|t| t == id))
    }
}

fn bytes(v: &Value) -> Option<&[u8]> {
    match v {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.as_bytes()),
        _ => None,
    }
}

/// The narrowest channel patterns for `options`, as exact bytes; the prefix and names
/// glob-escaped.
fn patterns(
    channel_prefix: &str,
    keys: &KeySpace,
    trace_prefix: &str,
    options: &LiveOptions,
) -> Vec<Vec<u8>> {
    let pattern = |parts: &[&[u8]]| {
        let mut p = channel_prefix.as_bytes().to_vec();
        for part in parts {
            p.extend_from_slice(part);
        }
        p
    };
    let prefix = escape_glob(keys.prefix().as_bytes());
    let trace = options.trace.as_deref().map(escape_glob);
    let key = options.key.as_deref().map(escape_glob);
    let mut out = vec![match (&trace, &key) {
        (Some(t), Some(k)) => pattern(&[&prefix, t, b":", k]),
        (Some(t), None) => pattern(&[&prefix, t, b":*"]),
        (None, Some(k)) => pattern(&[&prefix, b"*:", k]),
        (None, None) => pattern(&[&prefix, b"*"]),
    }];
    if options.trace_records {
        let records = escape_glob(trace_prefix.as_bytes());
        out.push(match &trace {
            Some(t) => pattern(&[&records, t]),
            None => pattern(&[&records, b"*"]),
        });
    }
    out
}

#[cfg(test)]
mod tests;
