//! The Redis Cluster backend: redis-rs's cluster client with explicit timeouts and a retry
//! budget (it has neither by default), a second client that never resends (for commands whose
//! second run would differ), and a cached slot map so errors name the primary involved.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::cluster::ClusterClientBuilder;
use redis::cluster_routing::{
    MultipleNodeRoutingInfo, Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr,
};
use redis::{Cmd, FromRedisValue, IntoConnectionInfo, Pipeline, RedisResult, Value};

use crate::adapter::config::{Config, parse_node};
use crate::adapter::connection::client::{
    Node, Retry, Topology, connect_error, map_err, tls_certificates,
};
use crate::adapter::error::{Error, Result, is_connection_error};
use crate::adapter::notouch::{NoTouch, NoTouchConnection, NoTouchState};

/// The cluster client, whose node connections send `CLIENT NO-TOUCH on` when made.
type ClusterConnection = redis::cluster_async::ClusterConnection<NoTouchConnection>;

/// Attempts the cluster client makes per command after the first (MOVED, reconnects...).
const RETRIES: u32 = 3;
/// Commands one cluster client has under way at once. Each node connection queues at most 50
/// requests (redis-rs's buffer): a multi-key split over thousands of slots stays below that,
/// with room for the client's own topology refresh.
const IN_FLIGHT: usize = 40;

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
    fn new(conn: ClusterConnection, home: Weak<SafeClient>) -> Self {
        Self {
            conn,
            limit: Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT)),
            home,
        }
    }

    /// The same client (clones share their semaphore).
    fn same(&self, other: &ClusterLink) -> bool {
        Arc::ptr_eq(&self.limit, &other.limit)
    }

    /// A turn to send: held while the command is under way. The semaphore is never closed;
    /// were it, the command would go without a turn rather than fail.
    async fn turn(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.limit.clone().acquire_owned().await.ok()
    }

    /// Sends one request over the client, in a turn.
    async fn send<T, F, Fut>(&self, request: F) -> RedisResult<T>
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
    async fn send_with<T, F, Fut>(&self, request: F) -> RedisResult<T>
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
    link: std::sync::Mutex<ClusterLink>,
    /// One replacement at a time: requests that timed out together share it.
    replacing: tokio::sync::Mutex<()>,
    config: Config,
    addr: String,
    slots: Arc<std::sync::Mutex<Vec<SlotRange>>>,
}

impl SafeClient {
    fn link(&self) -> ClusterLink {
        match self.link.lock() {
            Ok(link) => link.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Waits for a turn on the current client and sends over it; returns the link it went on.
    async fn send_on_current<T, F, Fut>(&self, request: F) -> (ClusterLink, RedisResult<T>)
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
    async fn replace(self: Arc<Self>, stale: &ClusterLink) -> ClusterLink {
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
fn known_nodes(slots: &std::sync::Mutex<Vec<SlotRange>>, config: &Config) -> Vec<Node> {
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
const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);

/// One slot range, the primary serving it and its replicas.
struct SlotRange {
    first: u16,
    last: u16,
    primary: Node,
    replicas: Vec<Node>,
}

pub(crate) struct Cluster {
    /// Retries within the budget: reads and idempotent writes.
    safe: Arc<SafeClient>,
    /// Never resends on its own (GETDEL, compare-and-set); redirects are retried by hand.
    /// Replaced by a new client after a node was lost (see `once_suspect`).
    once: std::sync::Mutex<ClusterLink>,
    addr: String,
    seeds: Vec<String>,
    detected: bool,
    config: Config,
    slots: Arc<std::sync::Mutex<Vec<SlotRange>>>,
    /// Set when a command found a node gone: `once` may still hold a connection to a primary
    /// that died and a slot map naming it (it never resends, so its next command would fail on
    /// that connection), and is replaced by a new client before that command.
    once_suspect: Arc<AtomicBool>,
    /// What the primaries answered to `CLIENT NO-TOUCH on` at open.
    no_touch: NoTouchState,
}

fn node_name((host, port): &Node) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

impl Cluster {
    pub(crate) async fn open(config: &Config, detected: bool) -> Result<Self> {
        let seeds = config.cluster_seeds()?;
        let names: Vec<String> = seeds.iter().map(node_name).collect();
        let addr = format!("cluster {}", names.join(","));
        let safe = connect(config, &seeds, &addr, RETRIES).await?;
        let once = ClusterLink::new(connect(config, &seeds, &addr, 0).await?, Weak::new());
        let slots: Arc<std::sync::Mutex<Vec<SlotRange>>> = Arc::default();
        let safe = Arc::new_cyclic(|home| SafeClient {
            link: std::sync::Mutex::new(ClusterLink::new(safe, home.clone())),
            replacing: tokio::sync::Mutex::new(()),
            config: config.clone(),
            addr: addr.clone(),
            slots: slots.clone(),
        });
        let cluster = Self {
            safe,
            once: std::sync::Mutex::new(once),
            addr,
            seeds: names,
            detected,
            config: config.clone(),
            slots,
            once_suspect: Arc::default(),
            no_touch: NoTouchState::default(),
        };
        // Credentials are checked at connect; NOPERM proves them accepted.
        if let Err(e @ (Error::Auth { .. } | Error::NoAuth { .. })) = cluster
            .query_safe::<Value>(&redis::cmd("PING"), "PING")
            .await
        {
            return Err(e);
        }
        if let Err(e) = cluster.refresh_slots().await {
            tracing::debug!(error = %e, "no slot map (CLUSTER SLOTS refused?)");
        }
        // The node connections sent it themselves; asked again here only to know the answer.
        let all = RoutingInfo::MultiNode((MultipleNodeRoutingInfo::AllMasters, None));
        let reply = cluster
            .safe
            .link()
            .send(|mut c| {
                let all = all.clone();
                async move {
                    let mut cmd = redis::cmd("CLIENT");
                    cmd.arg("NO-TOUCH").arg("ON");
                    c.route_command(cmd, all).await
                }
            })
            .await;
        cluster.no_touch.set(NoTouch::of(&reply));
        Ok(cluster)
    }

    pub(crate) fn no_touch(&self) -> NoTouch {
        self.no_touch.get()
    }

    pub(crate) fn addr(&self) -> &str {
        &self.addr
    }

    pub(crate) fn topology(&self) -> Topology {
        Topology::Cluster {
            detected: self.detected,
            seeds: self.seeds.clone(),
        }
    }

    async fn query_safe<T: FromRedisValue>(&self, cmd: &Cmd, context: &str) -> Result<T> {
        self.run(Retry::Safe, context, |mut c| async move {
            cmd.query_async::<T>(&mut c).await
        })
        .await
    }

    pub(crate) async fn run<T, F, Fut>(&self, retry: Retry, context: &str, send: F) -> Result<T>
    where
        F: Fn(Link) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        if retry == Retry::Safe {
            return send(Link::Cluster(self.safe.link()))
                .await
                .map_err(|e| self.map_err(e, context));
        }
        if self.once_suspect.swap(false, Ordering::Relaxed) {
            self.renew_once().await;
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            match send(Link::Cluster(self.once_link())).await {
                Ok(v) => return Ok(v),
                // The command was not executed (redirected, refused, or no connection to send
                // it on): sending it again cannot run it twice.
                Err(e) if attempt <= RETRIES && not_executed(&e) => {
                    tracing::debug!(error = %e, attempt, context, "resending a command that did not run");
                    tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
                }
                Err(e) => return Err(self.map_err(e, context)),
            }
        }
    }

    /// Names the primary that serves the key of `context` ("GET key") when the error is about
    /// reaching it, so a status says which node is gone.
    fn map_err(&self, e: redis::RedisError, context: &str) -> Error {
        let node = context
            .split_once(' ')
            .and_then(|(_, key)| self.primary_of(key.as_bytes()))
            .map(|n| node_name(&n));
        // A redirect that outlived the retries points at a primary the client cannot reach
        // (dead, its replica not yet promoted): the same as not reaching it.
        let redirect = e.redirect_node().map(|(addr, _)| addr.to_string());
        let changing = redirect.is_some()
            || matches!(e.code(), Some("CLUSTERDOWN" | "TRYAGAIN" | "MASTERDOWN"));
        if is_connection_error(&e) || changing {
            self.refresh_later();
            if let Some(node) = redirect.or_else(|| node.clone()) {
                if e.is_timeout() {
                    return Error::Timeout {
                        addr: format!("cluster primary {node}"),
                        timeout: self.response_timeout(),
                    };
                }
                return Error::Connect {
                    addr: format!("cluster primary {node}"),
                    reason: format!(
                        "{e} (the cluster client reconnects, or follows a replica that takes over)"
                    ),
                };
            }
        }
        let addr = node.unwrap_or_else(|| self.addr.clone());
        map_err(&addr, &self.config, e, context)
    }

    fn response_timeout(&self) -> Duration {
        self.config
            .command_timeout
            .unwrap_or(DEFAULT_RESPONSE_TIMEOUT)
    }

    fn primary_of(&self, key: &[u8]) -> Option<Node> {
        let slot = slot_of(key);
        let slots = self.slots.lock().ok()?;
        slots
            .iter()
            .find(|r| r.first <= slot && slot <= r.last)
            .map(|r| r.primary.clone())
    }

    fn once_link(&self) -> ClusterLink {
        match self.once.lock() {
            Ok(link) => link.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// A new never-resending client, seeded with the nodes of the last slot map and the
    /// configured ones: it connects only to nodes that answer and maps the slots afresh, so
    /// its next command neither goes over a connection to a primary that died nor to a
    /// primary it no longer has (probing the old client's connections was not enough: its
    /// slot map kept naming the dead primary). The old client stays when no node answers.
    async fn renew_once(&self) {
        let seeds = known_nodes(&self.slots, &self.config);
        match connect(&self.config, &seeds, &self.addr, 0).await {
            Ok(conn) => {
                let link = ClusterLink::new(conn, Weak::new());
                match self.once.lock() {
                    Ok(mut once) => *once = link,
                    Err(poisoned) => *poisoned.into_inner() = link,
                }
            }
            Err(e) => tracing::debug!(error = %e, "the never-resending client was kept"),
        }
    }

    fn refresh_later(&self) {
        self.once_suspect.store(true, Ordering::Relaxed);
        let link = self.safe.link();
        // Weak: a refresh must not keep a dropped connection's state alive.
        let slots = Arc::downgrade(&self.slots);
        tokio::spawn(async move {
            if let Ok(map) = link.send(fetch_slots).await
                && let Some(slots) = slots.upgrade()
                && let Ok(mut s) = slots.lock()
            {
                *s = map;
            }
        });
    }

    async fn refresh_slots(&self) -> Result<Vec<Node>> {
        let map = self
            .safe
            .link()
            .send(fetch_slots)
            .await
            .map_err(|e| self.map_err(e, "CLUSTER SLOTS"))?;
        let mut primaries: Vec<Node> = Vec::new();
        for r in &map {
            if !primaries.contains(&r.primary) {
                primaries.push(r.primary.clone());
            }
        }
        if let Ok(mut s) = self.slots.lock() {
            *s = map;
        }
        Ok(primaries)
    }

    /// Every primary, from a fresh `CLUSTER SLOTS` (which still lists a primary that stopped
    /// answering, so a walk cannot silently skip it); from a PING to all primaries when the
    /// user may not run CLUSTER SLOTS.
    pub(crate) async fn primaries(&self) -> Result<Vec<Node>> {
        match self.refresh_slots().await {
            Ok(p) if !p.is_empty() => Ok(p),
            _ => {
                let all = RoutingInfo::MultiNode((MultipleNodeRoutingInfo::AllMasters, None));
                let reply = self
                    .safe
                    .link()
                    .send(|mut c| {
                        let all = all.clone();
                        async move { c.route_command(redis::cmd("PING"), all).await }
                    })
                    .await
                    .map_err(|e| self.map_err(e, "PING"))?;
                let mut out = Vec::new();
                if let Value::Map(pairs) = reply {
                    for (k, _) in pairs {
                        if let Ok(name) = String::from_redis_value(k)
                            && let Ok(node) = parse_node("cluster node", &name)
                        {
                            out.push(node);
                        }
                    }
                }
                out.sort();
                Ok(out)
            }
        }
    }

    /// Every replica: those `CLUSTER SLOTS` lists (it leaves out those that failed) and those
    /// each primary says are attached to it (`INFO replication`), since the node answering
    /// `CLUSTER SLOTS` may not have heard of a replica yet (gossip takes a while).
    pub(crate) async fn replicas(&self) -> Result<Vec<Node>> {
        let map = self
            .safe
            .link()
            .send(fetch_slots)
            .await
            .map_err(|e| self.map_err(e, "CLUSTER SLOTS"))?;
        let mut primaries: Vec<Node> = map.iter().map(|r| r.primary.clone()).collect();
        primaries.sort();
        primaries.dedup();
        let mut out: Vec<Node> = map.into_iter().flat_map(|r| r.replicas).collect();
        let info = redis::cmd("INFO").arg("replication").clone();
        for p in &primaries {
            match self
                .query_node::<String>(p, &info, "INFO replication")
                .await
            {
                Ok(text) => out.extend(attached_replicas(&text)),
                Err(e) => tracing::debug!(error = %e, node = %node_name(p), "no replica list"),
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Makes the cluster client connect to `node`, a primary it may not know yet (a replica
    /// just promoted, while the client's own slot map still names the dead primary): a read of
    /// a key in one of its slots is redirected there, and following the redirect connects.
    async fn introduce(&self, node: &Node) {
        let slot = self
            .slots
            .lock()
            .ok()
            .and_then(|slots| slots.iter().find(|r| &r.primary == node).map(|r| r.first));
        let Some(key) = slot.and_then(|s| key_in_slot(&self.config.key_prefix, s)) else {
            return;
        };
        let probe = redis::cmd("EXISTS").arg(key).clone();
        let reply = self
            .safe
            .link()
            .send(|mut c| {
                let probe = probe.clone();
                async move { probe.query_async::<Value>(&mut c).await }
            })
            .await;
        if let Err(e) = reply {
            tracing::debug!(error = %e, node = %node_name(node), "no way to the node found");
        }
    }

    /// One command to one node, as the cluster advertises it.
    pub(crate) async fn query_node<T: FromRedisValue>(
        &self,
        node: &Node,
        cmd: &Cmd,
        context: &str,
    ) -> Result<T> {
        let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress {
            host: node.0.clone(),
            port: node.1,
        });
        let name = node_name(node);
        let send = || {
            let link = self.safe.link();
            let (cmd, routing) = (cmd.clone(), routing.clone());
            async move {
                link.send(|mut c| {
                    let (cmd, routing) = (cmd.clone(), routing.clone());
                    async move { c.route_command(cmd, routing).await }
                })
                .await
            }
        };
        let mut reply = send().await;
        if matches!(&reply, Err(e) if e.kind() == redis::ErrorKind::ClusterConnectionNotFound) {
            self.introduce(node).await;
            reply = send().await;
        }
        let value = reply.map_err(|e| {
            if is_connection_error(&e) || e.to_string().contains("connection not found") {
                self.refresh_later();
                Error::Connect {
                    addr: format!("cluster primary {name}"),
                    reason: e.to_string(),
                }
            } else {
                map_err(&name, &self.config, e, context)
            }
        })?;
        T::from_redis_value(value).map_err(|e| Error::Redis {
            context: format!("{context} on {name}"),
            source: e.into(),
        })
    }
}

/// The cluster slot of a key (CRC16 of the key, or of its `{hash tag}`, modulo 16384).
pub(crate) fn slot_of(key: &[u8]) -> u16 {
    let tagged = key
        .iter()
        .position(|&b| b == b'{')
        .and_then(|open| {
            let rest = &key[open + 1..];
            let close = rest.iter().position(|&b| b == b'}')?;
            (close > 0).then(|| &rest[..close])
        })
        .unwrap_or(key);
    crc16::State::<crc16::XMODEM>::calculate(tagged) % 16384
}

/// A key under `prefix` in `slot` (its hash tag chosen for the slot), for reaching the node
/// that serves the slot; under the prefix, so an ACL limited to it allows the read.
fn key_in_slot(prefix: &str, slot: u16) -> Option<String> {
    // About 16384 tags are tried on average (CRC16 spreads them evenly).
    (0u32..1 << 20)
        .map(|i| format!("{prefix}{{{i}}}"))
        .find(|key| slot_of(key.as_bytes()) == slot)
}

/// The replicas in a primary's `INFO replication`: `slave0:ip=10.0.0.2,port=6380,state=online,...`.
fn attached_replicas(info: &str) -> Vec<Node> {
    info.lines()
        .filter(|l| l.starts_with("slave") && l.contains("ip="))
        .filter_map(|l| {
            let (_, fields) = l.split_once(':')?;
            let field = |name: &str| {
                fields
                    .split(',')
                    .find_map(|f| f.trim().strip_prefix(name)?.strip_prefix('='))
            };
            Some((field("ip")?.to_string(), field("port")?.parse().ok()?))
        })
        .collect()
}

/// True when the server did not run the command: a redirect, a cluster that is changing, or
/// no connection to send it on.
fn not_executed(e: &redis::RedisError) -> bool {
    matches!(
        e.code(),
        Some("MOVED" | "ASK" | "TRYAGAIN" | "CLUSTERDOWN" | "LOADING" | "MASTERDOWN")
    ) || e.is_connection_refusal()
}

async fn connect(
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
async fn fetch_slots(mut conn: ClusterConnection) -> RedisResult<Vec<SlotRange>> {
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

/// Sends a command; `MGET`, `UNLINK`, `DEL` and `EXISTS` with keys of several slots as one
/// command per slot, each routed to the slot's primary (redirects and reconnects as for any
/// keyed command), the replies put together: values in key order, counts summed.
pub(crate) async fn command_by_slot(link: ClusterLink, cmd: &Cmd) -> RedisResult<Value> {
    let whole = || {
        link.send(|mut c| async move {
            redis::aio::ConnectionLike::req_packed_command(&mut c, cmd).await
        })
    };
    let mut args = cmd.args_iter();
    let name = match args.next() {
        Some(redis::Arg::Simple(n)) => n.to_ascii_uppercase(),
        _ => Vec::new(),
    };
    // Any other command goes whole, without hashing its arguments (a SET's value may be big).
    if !matches!(name.as_slice(), b"MGET" | b"UNLINK" | b"DEL" | b"EXISTS") {
        return whole().await;
    }
    let mut keys: Vec<&[u8]> = Vec::new();
    for a in args {
        match a {
            redis::Arg::Simple(k) => keys.push(k),
            _ => return whole().await,
        }
    }
    let mut by_slot: BTreeMap<u16, Vec<usize>> = BTreeMap::new();
    for (i, k) in keys.iter().enumerate() {
        by_slot.entry(slot_of(k)).or_default().push(i);
    }
    let deletes = matches!(name.as_slice(), b"UNLINK" | b"DEL");
    if by_slot.len() <= 1 && !deletes {
        return whole().await;
    }
    let sends = by_slot.into_iter().map(|(slot, indices)| {
        let slot_keys: Vec<&[u8]> = indices.iter().map(|&i| keys[i]).collect();
        let mut sub = redis::Cmd::new();
        sub.arg(name.as_slice()).arg(&slot_keys);
        let link = link.clone();
        async move {
            let route = SingleNodeRoutingInfo::SpecificNode(Route::new(slot, SlotAddr::Master));
            let route = RoutingInfo::SingleNode(route);
            let reply = if deletes {
                delete_counted(&link, &sub, &slot_keys, &route).await?
            } else {
                link.send(|mut c| {
                    let (sub, route) = (sub.clone(), route.clone());
                    async move { c.route_command(sub, route).await }
                })
                .await?
            };
            Ok::<_, redis::RedisError>((indices, reply))
        }
    });
    let replies = futures::future::try_join_all(sends).await?;
    if name == b"MGET" {
        let mut out = vec![Value::Nil; keys.len()];
        for (indices, reply) in replies {
            let Value::Array(values) = reply else {
                return Err((redis::ErrorKind::Parse, "MGET answered without an array").into());
            };
            for (i, v) in indices.into_iter().zip(values) {
                out[i] = v;
            }
        }
        return Ok(Value::Array(out));
    }
    let mut sum = 0;
    for (_, reply) in replies {
        sum += i64::from_redis_value(reply)?;
    }
    Ok(Value::Int(sum))
}

/// Sends `delete`, an `UNLINK` or `DEL` of `keys` (all of one slot), and answers how many it
/// removed. Sent again after a timeout, the first attempt's reply is lost, and that attempt
/// may have run, or run later (queued at a slow server). The keys still there before the
/// second attempt are all gone after it, by one attempt or the other: they are the count. If
/// none is left, the first attempt ran (a command runs whole) and removed them all; they were
/// there, the caller just listed them.
async fn delete_counted(
    link: &ClusterLink,
    delete: &Cmd,
    keys: &[&[u8]],
    route: &RoutingInfo,
) -> RedisResult<Value> {
    link.send_with(|mut c, again| {
        let (delete, route) = (delete.clone(), route.clone());
        let distinct = again.then(|| {
            let mut distinct = keys.to_vec();
            distinct.sort_unstable();
            distinct.dedup();
            distinct
        });
        async move {
            let Some(distinct) = distinct else {
                return c.route_command(delete, route).await;
            };
            let exists = redis::cmd("EXISTS").arg(&distinct).clone();
            let left = i64::from_redis_value(c.route_command(exists, route.clone()).await?)?;
            c.route_command(delete, route).await?;
            Ok(Value::Int(if left > 0 {
                left
            } else {
                distinct.len() as i64
            }))
        }
    })
    .await
}

/// Where a command of a pipeline goes in a cluster.
#[derive(Debug, PartialEq, Eq)]
enum Place<'a> {
    /// With its key's slot.
    Key(&'a [u8]),
    /// In every slot's part, the first reply standing for it: `SCRIPT LOAD` (each node needs
    /// the script its part's `EVALSHA` runs), `TIME`, `PING`.
    Everywhere,
    /// Any node: a keyless command not safe to run twice.
    Anywhere,
}

/// Where `cmd` goes: its key is after the subcommand in `MEMORY USAGE` and `OBJECT ...`, after
/// the key count in `EVALSHA sha n key...`, else first.
fn place_of(cmd: &Cmd) -> Place<'_> {
    let mut args = cmd.args_iter().filter_map(|a| match a {
        redis::Arg::Simple(b) => Some(b),
        _ => None,
    });
    let Some(name) = args.next().map(|n| n.to_ascii_uppercase()) else {
        return Place::Anywhere;
    };
    let key = match name.as_slice() {
        b"SCRIPT" | b"TIME" | b"PING" => return Place::Everywhere,
        b"MEMORY" | b"OBJECT" => args.nth(1),
        b"EVAL" | b"EVALSHA" | b"EVAL_RO" | b"EVALSHA_RO" | b"FCALL" | b"FCALL_RO" => {
            let keys = args
                .nth(1)
                .and_then(|n| std::str::from_utf8(n).ok()?.parse::<u64>().ok());
            if keys.is_some_and(|n| n > 0) {
                args.next()
            } else {
                None
            }
        }
        _ => args.next(),
    };
    key.map_or(Place::Anywhere, Place::Key)
}

/// Sends a pipeline whose commands may touch keys of several slots: one sub-pipeline per
/// slot, all at once, the replies put back in the pipeline's order (see [`Place`]).
pub(crate) async fn pipeline_by_slot(
    link: ClusterLink,
    pipeline: &Pipeline,
    offset: usize,
    count: usize,
) -> RedisResult<Vec<Value>> {
    let mut by_slot: BTreeMap<u16, Vec<usize>> = BTreeMap::new();
    let mut everywhere = Vec::new();
    let cmds: Vec<&Cmd> = pipeline.cmd_iter().collect();
    for (i, cmd) in cmds.iter().enumerate() {
        match place_of(cmd) {
            Place::Key(key) => by_slot.entry(slot_of(key)).or_default().push(i),
            Place::Everywhere => everywhere.push(i),
            Place::Anywhere => by_slot.entry(0).or_default().push(i),
        }
    }
    if by_slot.len() <= 1 || offset != 0 || count != cmds.len() {
        return link
            .send(|mut c| async move {
                redis::aio::ConnectionLike::req_packed_commands(&mut c, pipeline, offset, count)
                    .await
            })
            .await;
    }
    let sends = by_slot.into_iter().map(|(slot, mut indices)| {
        indices.extend(&everywhere);
        indices.sort_unstable();
        let mut sub = redis::pipe();
        for &i in &indices {
            sub.add_command(cmds[i].clone());
        }
        let link = link.clone();
        async move {
            let n = indices.len();
            let route = SingleNodeRoutingInfo::SpecificNode(Route::new(slot, SlotAddr::Master));
            let values = link
                .send(|mut c| {
                    let (sub, route) = (sub.clone(), route.clone());
                    async move { c.route_pipeline(sub, 0, n, route).await }
                })
                .await?;
            Ok::<_, redis::RedisError>((indices, values))
        }
    });
    let mut out: Vec<Option<Value>> = vec![None; cmds.len()];
    for reply in futures::future::join_all(sends).await {
        let (indices, values) = reply?;
        for (i, v) in indices.into_iter().zip(values) {
            out[i].get_or_insert(v);
        }
    }
    Ok(out.into_iter().map(|v| v.unwrap_or(Value::Nil)).collect())
}

/// One connection to send commands over: a standalone server's, or the cluster client's,
/// which routes each command by its key's slot.
#[derive(Clone)]
pub(crate) enum Link {
    Single(MultiplexedConnection),
    Cluster(ClusterLink),
}

impl redis::aio::ConnectionLike for Link {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> redis::RedisFuture<'a, redis::Value> {
        match self {
            Link::Single(c) => c.req_packed_command(cmd),
            // Multi-key commands are split by slot here: redis-rs's own split skips a slot whose
            // primary has no connection and answers for the rest (a silently short count).
            Link::Cluster(c) => Box::pin(command_by_slot(c.clone(), cmd)),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        match self {
            Link::Single(c) => c.req_packed_commands(pipeline, offset, count),
            // A pipeline may only hold one slot's keys in a cluster: split it.
            Link::Cluster(c) => Box::pin(pipeline_by_slot(c.clone(), pipeline, offset, count)),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Link::Single(c) => c.get_db(),
            Link::Cluster(c) => c.conn.get_db(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_of_a_pipeline_goes_with_its_key() {
        let key = |c: &mut Cmd| place_of(c).eq(&Place::Key(b"k"));
        assert!(key(redis::cmd("PTTL").arg("k")));
        assert!(key(redis::cmd("MEMORY")
            .arg("USAGE")
            .arg("k")
            .arg("SAMPLES")
            .arg(0)));
        assert!(key(redis::cmd("OBJECT").arg("IDLETIME").arg("k")));
        assert!(key(redis::cmd("EVALSHA")
            .arg("abc")
            .arg(1)
            .arg("k")
            .arg("v")));
        assert_eq!(place_of(&redis::cmd("TIME")), Place::Everywhere);
        let load = redis::cmd("SCRIPT").arg("LOAD").arg("return 1").clone();
        assert_eq!(place_of(&load), Place::Everywhere);
        let keyless = redis::cmd("EVALSHA").arg("abc").arg(0).clone();
        assert_eq!(place_of(&keyless), Place::Anywhere);
    }

    #[test]
    fn replicas_from_info() {
        let info = "# Replication\r\nrole:master\r\nconnected_slaves:2\r\n\
                    slave0:ip=127.0.0.1,port=7004,state=online,offset=42,lag=0\r\n\
                    slave1:ip=::1,port=7005,state=wait_bgsave,offset=0,lag=1\r\n\
                    master_repl_offset:42\r\n";
        assert_eq!(
            attached_replicas(info),
            vec![("127.0.0.1".into(), 7004), ("::1".into(), 7005)]
        );
        assert!(attached_replicas("role:slave\r\nslave_read_only:1\r\n").is_empty());
    }
}
