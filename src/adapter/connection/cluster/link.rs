//! The cluster client and its settings: the retrying client, the one that never resends, the slot
//! map they read, and the connection with its timeouts and retry budget.

use crate::adapter::config::Config;
use crate::adapter::connection::client::{Node, connect_error, tls_certificates};
use crate::adapter::error::{Error, Result};
use crate::adapter::notouch::NoTouchConnection;
use redis::cluster::ClusterClientBuilder;
use redis::{FromRedisValue, IntoConnectionInfo, RedisResult, Value};
use std::future::Future;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// The cluster client, whose node connections send `CLIENT NO-TOUCH on` when made.
pub(super) type ClusterConnection = redis::cluster_async::ClusterConnection<NoTouchConnection>;

/// Attempts the cluster client makes per command after the first (MOVED, reconnects...).
pub(super) const RETRIES: u32 = 3;
/// Commands one cluster client has under way at once. Each node connection queues at most 50
/// requests (redis-rs's buffer): a multi-key split over thousands of slots stays below that,
/// with room for the client's own topology refresh.
pub(super) const IN_FLIGHT: usize = 40;

/// The cluster client to send one command over, and the bound on its commands under way.
#[derive(Clone)]
pub(crate) struct ClusterLink {
    pub(crate) conn: ClusterConnection,
    limit: Arc<tokio::sync::Semaphore>,
    /// The retrying client this link is the current one of (none for the never-resending one,
    /// which `renew_once` replaces instead).
    home: Weak<SafeClient>,
}

impl ClusterLink {
    pub(super) fn new(conn: ClusterConnection, home: Weak<SafeClient>) -> Self {
        Self {
            conn,
            limit: Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT)),
            home,
        }
    }

    /// The same client (clones share their semaphore).
    pub(super) fn same(&self, other: &ClusterLink) -> bool {
        Arc::ptr_eq(&self.limit, &other.limit)
    }

    /// A turn to send: held while the command is under way. The semaphore is never closed;
    /// were it, the command would go without a turn rather than fail.
    pub(super) async fn turn(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.limit.clone().acquire_owned().await.ok()
    }

    /// Sends one request over the client, in a turn.
    pub(super) async fn send<T, F, Fut>(&self, request: F) -> RedisResult<T>
    where
        F: Fn(ClusterConnection) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        self.send_with(|c, _| request(c)).await
    }

    /// [`send`](Self::send), for the retrying client over its current link (a request that
    /// waited for its turn while the client was replaced goes over the new one). A request
    /// that timed out goes once more over a replacement (see [`SafeClient`]); `request` is told
    /// when it is that second attempt, the first of which may or may not have run. Requests
    /// on the retrying client are all safe to send twice.
    pub(super) async fn send_with<T, F, Fut>(&self, request: F) -> RedisResult<T>
    where
        F: Fn(ClusterConnection, bool) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let Some(home) = self.home.upgrade() else {
            let _turn = self.turn().await;
            return request(self.conn.clone(), false).await;
        };
        let (link, reply) = home.send_on_current(|c| request(c, false)).await;
        match reply {
            // Within one more timeout: a primary that hangs (not a wedged client) costs at
            // most twice the wait, then the first error stands.
            Err(e) if e.is_timeout() => {
                tracing::warn!(error = %e, "a cluster request timed out: sending it again over a new client");
                let again = async {
                    home.clone().replace(&link).await;
                    home.send_on_current(|c| request(c, true)).await.1
                };
                let limit = home
                    .config
                    .command_timeout
                    .unwrap_or(DEFAULT_RESPONSE_TIMEOUT);
                tokio::time::timeout(limit, again).await.unwrap_or(Err(e))
            }
            reply => reply,
        }
    }
}

/// The retrying cluster client, replaced when a request on it times out. redis-rs's client
/// (1.8) can wedge for good: when it starts a slot refresh, requests it no longer polls may
/// hold places in the queue for its connection map's lock, which the refresh waits for, and
/// every later command times out (seen after a failover, with a `clear` under way). A new
/// client starts from a fresh slot map; the wedged one goes when its last request does.
pub(crate) struct SafeClient {
    pub(super) link: std::sync::Mutex<ClusterLink>,
    /// One replacement at a time: requests that timed out together share it.
    pub(super) replacing: tokio::sync::Mutex<()>,
    pub(super) config: Config,
    pub(super) addr: String,
    pub(super) slots: Arc<std::sync::Mutex<Vec<SlotRange>>>,
}

impl SafeClient {
    pub(super) fn link(&self) -> ClusterLink {
        match self.link.lock() {
            Ok(link) => link.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Waits for a turn on the current client and sends over it; returns the link it went on.
    pub(super) async fn send_on_current<T, F, Fut>(
        &self,
        request: F,
    ) -> (ClusterLink, RedisResult<T>)
    where
        F: Fn(ClusterConnection) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let mut link = self.link();
        loop {
            let turn = link.turn().await;
            let now = self.link();
            if now.same(&link) {
                let reply = request(link.conn.clone()).await;
                drop(turn);
                return (link, reply);
            }
            link = now;
        }
    }

    /// The client to send on after a request on `stale` timed out: a new one, unless another
    /// request replaced `stale` already. `stale` stays when no node answers.
    pub(super) async fn replace(self: Arc<Self>, stale: &ClusterLink) -> ClusterLink {
        let _one = self.replacing.lock().await;
        let current = self.link();
        if !current.same(stale) {
            return current;
        }
        let seeds = known_nodes(&self.slots, &self.config);
        match connect(&self.config, &seeds, &self.addr, RETRIES).await {
            Ok(conn) => {
                let fresh = ClusterLink::new(conn, Arc::downgrade(&self));
                match self.link.lock() {
                    Ok(mut link) => *link = fresh.clone(),
                    Err(poisoned) => *poisoned.into_inner() = fresh.clone(),
                }
                fresh
            }
            Err(e) => {
                tracing::debug!(error = %e, "the retrying cluster client was kept");
                current
            }
        }
    }
}

/// The nodes of the last slot map, primaries and replicas (a replica may have been promoted
/// since), and the configured ones: seeds for a new client when some of them are gone.
pub(super) fn known_nodes(slots: &std::sync::Mutex<Vec<SlotRange>>, config: &Config) -> Vec<Node> {
    let mut seeds: Vec<Node> = slots
        .lock()
        .map(|s| {
            s.iter()
                .flat_map(|r| std::iter::once(&r.primary).chain(&r.replicas))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    if let Ok(configured) = config.cluster_seeds() {
        seeds.extend(configured);
    }
    seeds.sort();
    seeds.dedup();
    seeds
}

/// Per-command limit when the settings give none: a dead primary must not hang a call.
pub(super) const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);

/// One slot range, the primary serving it and its replicas.
pub(super) struct SlotRange {
    pub(super) first: u16,
    pub(super) last: u16,
    pub(super) primary: Node,
    pub(super) replicas: Vec<Node>,
}

/// True when the server did not run the command: a redirect, a cluster that is changing, or
/// no connection to send it on.
pub(super) fn not_executed(e: &redis::RedisError) -> bool {
    matches!(
        e.code(),
        Some("MOVED" | "ASK" | "TRYAGAIN" | "CLUSTERDOWN" | "LOADING" | "MASTERDOWN")
    ) || e.is_connection_refusal()
}

pub(super) async fn connect(
    config: &Config,
    seeds: &[Node],
    addr: &str,
    retries: u32,
) -> Result<ClusterConnection> {
    let nodes: Vec<redis::ConnectionInfo> = seeds
        .iter()
        .map(|(h, p)| redis::ConnectionAddr::Tcp(h.clone(), *p).into_connection_info())
        .collect::<RedisResult<_>>()
        .map_err(|e| Error::Config {
            name: "cluster node".into(),
            reason: e.to_string(),
        })?;
    let mut builder = ClusterClientBuilder::new(nodes)
        .connection_timeout(config.connect_timeout)
        .response_timeout(config.command_timeout.unwrap_or(DEFAULT_RESPONSE_TIMEOUT))
        .retries(retries)
        .min_retry_wait(100)
        .max_retry_wait(1000);
    if let Some(u) = &config.username {
        builder = builder.username(u);
    }
    if let Some(p) = &config.password {
        builder = builder.password(p);
    }
    if let Some(tls) = &config.tls {
        builder = builder
            .tls(redis::TlsMode::Secure)
            .certs(tls_certificates(tls)?)
            .danger_accept_invalid_hostnames(tls.insecure);
    }
    let client = builder.build().map_err(|e| Error::Config {
        name: "cluster".into(),
        reason: e.to_string(),
    })?;
    match tokio::time::timeout(
        config.connect_timeout * 2,
        client.get_async_generic_connection::<NoTouchConnection>(),
    )
    .await
    {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(connect_error(addr, config.tls.is_some(), e)),
        Err(_) => Err(Error::Connect {
            addr: addr.to_string(),
            reason: format!(
                "no cluster node answered within {:?}",
                config.connect_timeout * 2
            ),
        }),
    }
}

/// `CLUSTER SLOTS`: `[first, last, [host, port, id], replicas...]` per range.
pub(super) async fn fetch_slots(mut conn: ClusterConnection) -> RedisResult<Vec<SlotRange>> {
    let reply: Vec<Value> = redis::cmd("CLUSTER")
        .arg("SLOTS")
        .query_async(&mut conn)
        .await?;
    let mut out = Vec::new();
    for range in reply {
        let Value::Array(parts) = range else { continue };
        let mut it = parts.into_iter();
        let (Some(Value::Int(first)), Some(Value::Int(last)), Some(Value::Array(primary))) =
            (it.next(), it.next(), it.next())
        else {
            continue;
        };
        let node = |parts: Vec<Value>| {
            let mut p = parts.into_iter();
            let host = p.next().and_then(|v| String::from_redis_value(v).ok());
            let port = p.next().and_then(|v| i64::from_redis_value(v).ok());
            Some((host?, u16::try_from(port?).ok()?))
        };
        let replicas = it
            .filter_map(|r| match r {
                Value::Array(parts) => node(parts),
                _ => None,
            })
            .collect();
        if let Some(primary) = node(primary) {
            out.push(SlotRange {
                first: first as u16,
                last: last as u16,
                primary,
                replicas,
            });
        }
    }
    Ok(out)
}
