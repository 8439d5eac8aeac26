//! The Redis Cluster backend: redis-rs's cluster client with explicit timeouts and a retry
//! budget (it has neither by default), a second client that never resends (for commands whose
//! second run would differ), and a cached slot map so errors name the primary involved.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::cluster_routing::{MultipleNodeRoutingInfo, RoutingInfo, SingleNodeRoutingInfo};
use redis::{Cmd, FromRedisValue, Pipeline, RedisResult, Value};

use crate::adapter::config::{Config, parse_node};
use crate::adapter::connection::client::{Node, Retry, Topology, map_err};
use crate::adapter::error::{Error, Result, is_connection_error};
use crate::adapter::notouch::{NoTouch, NoTouchState};

mod link;
mod routing;

pub(crate) use link::{ClusterLink, SafeClient};
use link::{
    DEFAULT_RESPONSE_TIMEOUT, RETRIES, SlotRange, connect, fetch_slots, known_nodes, not_executed,
};
pub(crate) use routing::{command_by_slot, pipeline_by_slot, slot_of};

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
