//! The connection layer: a standalone server behind one multiplexed connection that reconnects
//! with the configured strategy, or a Redis Cluster behind redis-rs's cluster client.
//! Operations talk to [`Conn`] only and send their commands over a [`Link`].

use std::future::Future;
use std::sync::Arc;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, Cmd, FromRedisValue, Pipeline};
use tokio::sync::Mutex;

use crate::adapter::cluster::Cluster;
pub(crate) use crate::adapter::cluster::Link;
use crate::adapter::config::Config;
pub use crate::adapter::connection::client::Topology;
pub(crate) use crate::adapter::connection::client::{Node, Retry, build_client, map_err};
use crate::adapter::connection::client::{connect_error, is_credentials_error};
use crate::adapter::error::{Error, Result, is_connection_error};
use crate::adapter::not_redis;
use crate::adapter::notouch::{self, NoTouch, NoTouchState};

/// A shared handle to the server; cheap to clone.
#[derive(Clone)]
pub(crate) struct Conn {
    inner: Arc<Backend>,
}

enum Backend {
    Standalone(Box<Standalone>),
    Cluster(Box<Cluster>),
}

/// The live connection and a number that changes with every reconnect, so a call that saw
/// an old connection break does not throw away a newer one.
#[derive(Default)]
struct Slot {
    generation: u64,
    conn: Option<MultiplexedConnection>,
}

struct Standalone {
    client: Client,
    /// Asked for the current primary at every (re)connect.
    sentinel: Option<Mutex<redis::sentinel::SentinelClient>>,
    /// `host:port` of the primary the sentinels named last.
    primary: std::sync::Mutex<Option<String>>,
    addr: String,
    conn_config: AsyncConnectionConfig,
    config: Config,
    current: Mutex<Slot>,
    no_touch: NoTouchState,
}

impl Conn {
    /// Opens the first connection: one attempt bounded by the connect timeout, so a wrong
    /// address or password is reported at once instead of after a reconnect loop. A server
    /// that turns out to be a cluster node switches to cluster mode.
    pub(crate) async fn open(config: &Config) -> Result<Self> {
        config.validate()?;
        if config.is_cluster() {
            let cluster = Cluster::open(config, false).await?;
            return Ok(Self::from(Backend::Cluster(Box::new(cluster))));
        }
        let standalone = Standalone::open(config).await?;
        if config.socket.is_none()
            && config.sentinel.is_none()
            && standalone.is_cluster_node().await
        {
            tracing::info!(addr = %standalone.addr, "the server is a cluster node: cluster mode");
            let mut config = config.clone();
            config.cluster = true;
            let cluster = Cluster::open(&config, true).await?;
            return Ok(Self::from(Backend::Cluster(Box::new(cluster))));
        }
        Ok(Self::from(Backend::Standalone(Box::new(standalone))))
    }

    fn from(backend: Backend) -> Self {
        Self {
            inner: Arc::new(backend),
        }
    }

    /// `host:port` of the server (the seed list of a cluster).
    pub(crate) fn addr(&self) -> &str {
        match &*self.inner {
            Backend::Standalone(s) => &s.addr,
            Backend::Cluster(c) => c.addr(),
        }
    }

    /// What `CLIENT NO-TOUCH on` answered on the latest connection.
    pub(crate) fn no_touch(&self) -> NoTouch {
        match &*self.inner {
            Backend::Standalone(s) => s.no_touch.get(),
            Backend::Cluster(c) => c.no_touch(),
        }
    }

    pub(crate) fn topology(&self) -> Topology {
        match &*self.inner {
            Backend::Standalone(s) => match &s.config.sentinel {
                None => Topology::Standalone,
                Some(sc) => Topology::Sentinel {
                    master: sc.master.clone(),
                    primary: s.primary.lock().ok().and_then(|p| p.clone()),
                },
            },
            Backend::Cluster(c) => c.topology(),
        }
    }

    /// Sends one request with `send`: on a broken connection, forgets it and, for `Retry::Safe`,
    /// sends once more on a fresh one; `context` names what it was for in errors.
    async fn run<T, F, Fut>(&self, retry: Retry, context: &str, send: F) -> Result<T>
    where
        F: Fn(Link) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        // Boxed: every operation's future holds this one, and unboxed the nesting grows past
        // the compiler's layout depth limit in callers' async fns.
        match &*self.inner {
            Backend::Standalone(s) => Box::pin(s.run(retry, context, send)).await,
            Backend::Cluster(c) => Box::pin(c.run(retry, context, send)).await,
        }
    }

    /// Sends one command.
    pub(crate) async fn query<T: FromRedisValue>(
        &self,
        cmd: &Cmd,
        retry: Retry,
        context: &str,
    ) -> Result<T> {
        self.run(retry, context, |mut c| async move {
            cmd.query_async::<T>(&mut c).await
        })
        .await
    }

    /// Sends a pipeline in one round trip (one per slot in a cluster).
    pub(crate) async fn query_pipe<T: FromRedisValue>(
        &self,
        pipe: &Pipeline,
        retry: Retry,
        context: &str,
    ) -> Result<T> {
        self.run(retry, context, |mut c| async move {
            pipe.query_async::<T>(&mut c).await
        })
        .await
    }

    /// Sends a script invocation.
    pub(crate) async fn invoke<T: FromRedisValue>(
        &self,
        inv: &redis::ScriptInvocation<'_>,
        retry: Retry,
        context: &str,
    ) -> Result<T> {
        self.run(retry, context, |mut c| async move {
            inv.invoke_async::<T>(&mut c).await
        })
        .await
    }

    /// The nodes a keyspace walk must visit: the server itself (`None`), or every primary.
    pub(crate) async fn scan_targets(&self) -> Result<Vec<Option<Node>>> {
        match &*self.inner {
            Backend::Standalone(_) => Ok(vec![None]),
            Backend::Cluster(c) => Ok(c.primaries().await?.into_iter().map(Some).collect()),
        }
    }

    /// A cluster's replicas (none for one server): they are no keyspace walk's targets, but
    /// have settings of their own that matter once one of them is promoted.
    pub(crate) async fn replicas(&self) -> Result<Vec<Node>> {
        match &*self.inner {
            Backend::Standalone(_) => Ok(Vec::new()),
            Backend::Cluster(c) => c.replicas().await,
        }
    }

    /// One command to one node (`None`: wherever the command routes).
    pub(crate) async fn query_node<T: FromRedisValue>(
        &self,
        node: Option<&Node>,
        cmd: &Cmd,
        context: &str,
    ) -> Result<T> {
        match (&*self.inner, node) {
            (Backend::Cluster(c), Some(node)) => c.query_node(node, cmd, context).await,
            _ => self.query(cmd, Retry::Safe, context).await,
        }
    }
}

/// One command to one node over a connection of its own: for a cluster's replicas, which
/// the cluster client does not send commands to.
pub(crate) async fn query_direct<T: FromRedisValue>(
    config: &Config,
    node: &Node,
    cmd: &Cmd,
    context: &str,
) -> Result<T> {
    let mut config = config.clone();
    config.host = node.0.clone();
    config.port = node.1;
    config.cluster = false;
    config.cluster_nodes.clear();
    config.socket = None;
    config.sentinel = None;
    let addr = if node.0.contains(':') {
        format!("[{}]:{}", node.0, node.1)
    } else {
        format!("{}:{}", node.0, node.1)
    };
    let client = build_client(&config, false)?;
    let conn_config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(config.connect_timeout))
        .set_response_timeout(config.command_timeout);
    let mut conn = client
        .get_multiplexed_async_connection_with_config(&conn_config)
        .await
        .map_err(|e| connect_error(&addr, config.tls.is_some(), e))?;
    cmd.query_async::<T>(&mut conn)
        .await
        .map_err(|e| map_err(&addr, &config, e, context))
}

impl Standalone {
    async fn open(config: &Config) -> Result<Self> {
        let client = build_client(config, false)?;
        let conn_config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(config.connect_timeout))
            .set_response_timeout(config.command_timeout);
        let sentinel = match &config.sentinel {
            None => None,
            Some(s) => Some(Mutex::new(sentinel_client(config, s)?)),
        };
        let inner = Standalone {
            client,
            sentinel,
            primary: std::sync::Mutex::new(None),
            addr: config.addr(),
            conn_config,
            config: config.clone(),
            current: Mutex::new(Slot::default()),
            no_touch: NoTouchState::default(),
        };
        let first = inner.connect_once().await?;
        // A protected server asked without a password only complains at the first command:
        // ask now, so connect reports it. NOPERM still proves the credentials were accepted.
        let mut probe = first.clone();
        let ping_cmd = redis::cmd("PING");
        let ping = ping_cmd.query_async::<redis::Value>(&mut probe);
        match tokio::time::timeout(config.connect_timeout, ping).await {
            Ok(Err(e)) if is_credentials_error(&e) => return Err(inner.connect_error(e)),
            Ok(_) => {}
            Err(_) => {
                return Err(Error::Connect {
                    addr: inner.addr.clone(),
                    reason: format!("no answer to PING within {:?}", config.connect_timeout),
                });
            }
        }
        inner.current.lock().await.conn = Some(first);
        Ok(inner)
    }

    /// `cluster_enabled:1` in `INFO cluster`, else `CLUSTER INFO` for users without INFO; a
    /// user allowed neither stays standalone (and a MOVED reply says why).
    async fn is_cluster_node(&self) -> bool {
        let info: Result<String> = self
            .run(Retry::Safe, "INFO cluster", |mut c| async move {
                redis::cmd("INFO").arg("cluster").query_async(&mut c).await
            })
            .await;
        match info {
            Ok(text) => text.lines().any(|l| l.trim() == "cluster_enabled:1"),
            Err(_) => {
                let cluster_info: Result<String> = self
                    .run(Retry::Safe, "CLUSTER INFO", |mut c| async move {
                        redis::cmd("CLUSTER").arg("INFO").query_async(&mut c).await
                    })
                    .await;
                cluster_info.is_ok_and(|t| t.contains("cluster_state:"))
            }
        }
    }

    /// The live connection; for commands that must not run twice, one that has just answered a
    /// PING, so that a connection broken since its last use (a server restart) is replaced
    /// before the command is sent instead of failing it.
    async fn checked_connection(&self, retry: Retry) -> Result<(u64, MultiplexedConnection)> {
        let (generation, mut conn) = self.connection().await?;
        if retry == Retry::Safe {
            return Ok((generation, conn));
        }
        match redis::cmd("PING")
            .query_async::<redis::Value>(&mut conn)
            .await
        {
            Err(e) if is_connection_error(&e) => {
                self.forget(generation).await;
                self.connection().await
            }
            _ => Ok((generation, conn)),
        }
    }

    async fn run<T, F, Fut>(&self, retry: Retry, context: &str, send: F) -> Result<T>
    where
        F: Fn(Link) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let (generation, conn) = self.checked_connection(retry).await?;
        match send(Link::Single(conn)).await {
            Ok(v) => Ok(v),
            // A primary demoted by a failover refuses writes: ask the sentinels again and
            // resend, which is safe as the write did not happen.
            Err(e) if self.sentinel.is_some() && e.code() == Some("READONLY") => {
                tracing::info!(addr = %self.addr, "the primary became a replica: asking the sentinels");
                self.forget(generation).await;
                let (_, conn) = self.connection().await?;
                send(Link::Single(conn))
                    .await
                    .map_err(|e| self.map_err(e, context))
            }
            Err(e) if is_connection_error(&e) => {
                self.forget(generation).await;
                if retry == Retry::Never {
                    return Err(self.map_err(e, context));
                }
                let (_, conn) = self.connection().await?;
                send(Link::Single(conn))
                    .await
                    .map_err(|e| self.map_err(e, context))
            }
            Err(e) => Err(self.map_err(e, context)),
        }
    }

    /// The client of the server to talk to: the configured one, or the primary the sentinels
    /// name now.
    async fn current_client(&self) -> Result<Client> {
        let Some(sentinel) = &self.sentinel else {
            return Ok(self.client.clone());
        };
        let mut sentinel = sentinel.lock().await;
        let asked = tokio::time::timeout(self.config.connect_timeout, sentinel.async_get_client());
        let client = match asked.await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => {
                return Err(Error::Connect {
                    addr: self.addr.clone(),
                    reason: format!("no sentinel named a reachable primary: {e}"),
                });
            }
            Err(_) => {
                return Err(Error::Connect {
                    addr: self.addr.clone(),
                    reason: format!(
                        "no sentinel answered within {:?}",
                        self.config.connect_timeout
                    ),
                });
            }
        };
        let now = match client.get_connection_info().addr() {
            redis::ConnectionAddr::Tcp(h, p) => format!("{h}:{p}"),
            other => other.to_string(),
        };
        if let Ok(mut primary) = self.primary.lock()
            && primary.as_deref() != Some(now.as_str())
        {
            if let Some(before) = primary.as_deref() {
                tracing::info!(from = %before, to = %now, "the sentinels name a new primary");
            }
            *primary = Some(now);
        }
        Ok(client)
    }

    async fn connect_once(&self) -> Result<MultiplexedConnection> {
        let client = self.current_client().await?;
        let attempt = client.get_multiplexed_async_connection_with_config(&self.conn_config);
        // The client's own timeout covers the TCP connect; this one also covers the handshake
        // (AUTH, SELECT), which a server that accepts and never answers would stall.
        match tokio::time::timeout(self.config.connect_timeout, attempt).await {
            Ok(Ok(mut c)) => {
                // Every (re)connection: a new connection starts touching keys again.
                let set = notouch::enable(&mut c);
                if let Ok(v) = tokio::time::timeout(self.config.connect_timeout, set).await {
                    self.no_touch.set(v);
                }
                Ok(c)
            }
            Ok(Err(e)) if not_redis::is_not_redis(&e) => Err(not_redis::error_quoting(
                &self.addr,
                // Over TLS the handshake fails before any answer; a sentinel's primary may
                // not be `addr`.
                self.config.tls.is_none() && self.config.sentinel.is_none(),
                self.config.connect_timeout,
            )
            .await),
            Ok(Err(e)) => Err(self.connect_error(e)),
            Err(_) => Err(Error::Connect {
                addr: self.addr.clone(),
                reason: format!("no answer within {:?}", self.config.connect_timeout),
            }),
        }
    }

    /// The live connection, re-established with the reconnect strategy when it was lost.
    async fn connection(&self) -> Result<(u64, MultiplexedConnection)> {
        let mut slot = self.current.lock().await;
        if let Some(c) = slot.conn.as_ref() {
            return Ok((slot.generation, c.clone()));
        }
        let mut retries = 0u32;
        loop {
            match self.connect_once().await {
                Ok(c) => {
                    if retries > 0 {
                        tracing::info!(addr = %self.addr, retries, "reconnected");
                    }
                    slot.generation += 1;
                    slot.conn = Some(c.clone());
                    return Ok((slot.generation, c));
                }
                Err(e @ (Error::Auth { .. } | Error::NoAuth { .. })) => return Err(e),
                Err(e) => {
                    retries += 1;
                    match self.config.reconnect.delay(retries) {
                        Some(d) => {
                            tracing::debug!(addr = %self.addr, retries, error = %e, "reconnect failed");
                            tokio::time::sleep(d).await;
                        }
                        None => {
                            return Err(Error::Disconnected {
                                addr: self.addr.clone(),
                                retries: retries - 1,
                                reason: match e {
                                    Error::Connect { reason, .. } => reason,
                                    other => other.to_string(),
                                },
                            });
                        }
                    }
                }
            }
        }
    }

    /// Drops the broken connection so the next call reconnects (unless another call already did).
    async fn forget(&self, generation: u64) {
        let mut slot = self.current.lock().await;
        if slot.generation == generation {
            slot.conn = None;
        }
    }

    fn connect_error(&self, e: redis::RedisError) -> Error {
        if e.to_string().contains("DB index is out of range") {
            // The server is there and answered: the setting is what is wrong.
            return Error::Config {
                name: "database".into(),
                reason: format!(
                    "database {} does not exist on {} (it has fewer databases; see its `databases` setting)",
                    self.config.database, self.addr
                ),
            };
        }
        connect_error(&self.addr, self.config.tls.is_some(), e)
    }

    fn map_err(&self, e: redis::RedisError, context: &str) -> Error {
        map_err(&self.addr, &self.config, e, context)
    }
}

/// The sentinels, and how to log in to the primary they name.
fn sentinel_client(
    config: &Config,
    s: &crate::adapter::config::SentinelConfig,
) -> Result<redis::sentinel::SentinelClient> {
    let mut nodes = Vec::new();
    for n in &s.nodes {
        let (h, p) = crate::adapter::config::parse_node("sentinel", n)?;
        nodes.push(redis::ConnectionAddr::Tcp(h, p));
    }
    let mut settings = redis::RedisConnectionInfo::default().set_db(config.database);
    if let Some(u) = &config.username {
        settings = settings.set_username(u);
    }
    if let Some(p) = &config.password {
        settings = settings.set_password(p);
    }
    let node_info =
        redis::sentinel::SentinelNodeConnectionInfo::default().set_redis_connection_info(settings);
    redis::sentinel::SentinelClient::build(
        nodes,
        s.master.clone(),
        Some(node_info),
        redis::sentinel::SentinelServerType::Master,
    )
    .map_err(|e| Error::Config {
        name: "sentinel".into(),
        reason: e.to_string(),
    })
}
