//! The Redis state adapter: Motia's `{prefix}{traceId}:{key}` layout, read and written the way
//! Motia's own TypeScript adapter does, with atomic deletes, bounded batches and clear errors.

pub mod connection;
pub mod hygiene;
pub mod layout;
pub mod live;
pub mod state;
pub mod traces;

// The modules' earlier flat paths, which callers and the crate root use.
pub(crate) use connection::{cluster, conn, not_redis};
pub use connection::{config, error, notouch};
pub use hygiene::{gc, stats};
pub use live::{coalesce, notify};
pub use state::{
    escape, expiry, export, filter, inspect, item, journal, json, keys, listing, name, scan,
};
pub use traces::records;

use crate::adapter::config::Config;
use crate::adapter::conn::Conn;
pub use crate::adapter::conn::Topology;
use crate::adapter::error::Result;
use crate::adapter::keys::KeySpace;

/// A connection to Motia state in one Redis database.
///
/// Cheap to clone: clones share one multiplexed connection, which is re-established with the
/// configured [`crate::ReconnectStrategy`] when it is lost.
///
/// ```no_run
/// use motia_state::{Config, RedisStateAdapter};
/// use serde_json::json;
///
/// # async fn demo() -> motia_state::Result<()> {
/// let state = RedisStateAdapter::connect(Config::from_url("redis://127.0.0.1:6379")?).await?;
/// state.set("trace-1", "order", &json!({"id": 7, "status": "paid"})).await?;
/// let order: Option<serde_json::Value> = state.get("trace-1", "order").await?;
/// assert_eq!(order.unwrap()["status"], "paid");
/// let old = state.delete("trace-1", "order").await?;
/// assert!(old.is_some());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStateAdapter {
    pub(crate) conn: Conn,
    keys: KeySpace,
    config: Config,
}

impl std::fmt::Debug for RedisStateAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStateAdapter")
            .field("url", &self.config.display_url())
            .field("prefix", &self.keys.prefix())
            .finish()
    }
}

impl RedisStateAdapter {
    /// Connects (one attempt, bounded by `config.connect_timeout`) and checks the credentials.
    ///
    /// ```no_run
    /// use motia_state::{Config, RedisStateAdapter};
    /// # async fn demo() -> motia_state::Result<()> {
    /// let mut config = Config::from_url("redis://127.0.0.1:6379/0")?;
    /// config.key_prefix = "myapp:state:".into();
    /// let state = RedisStateAdapter::connect(config).await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(config: Config) -> Result<Self> {
        let conn = Conn::open(&config).await?;
        Ok(Self {
            conn,
            keys: KeySpace::new(config.key_prefix.clone()),
            config,
        })
    }

    /// The settings this adapter was opened with.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// if state.config().read_only {
    ///     println!("browsing {} read-only", state.config().display_url());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The key layout (prefix, splitting).
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let full = state.key_space().full_key("trace-1", "order")?;
    /// assert_eq!(state.key_space().split(&full), Some((&b"trace-1"[..], &b"order"[..])));
    /// # Ok(()) }
    /// ```
    pub fn key_space(&self) -> &KeySpace {
        &self.keys
    }

    /// `host:port` of the server.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let version = state.server_version().await?;
    /// eprintln!("connected to Redis {version} at {}", state.addr());
    /// # Ok(()) }
    /// ```
    pub fn addr(&self) -> &str {
        self.conn.addr()
    }

    /// Standalone, or a cluster (and whether it was detected rather than asked for).
    ///
    /// ```no_run
    /// use motia_state::Topology;
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// if let Topology::Cluster { detected: true, .. } = state.topology() {
    ///     eprintln!("{} is a cluster node: cluster mode", state.config().addr());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn topology(&self) -> Topology {
        self.conn.topology()
    }

    /// Whether reads over this adapter leave keys' idle times alone (`CLIENT NO-TOUCH on`,
    /// sent on every connection and reconnection where the server has it).
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// if let Some(w) = state.no_touch().warning() {
    ///     eprintln!("warning: {w}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn no_touch(&self) -> notouch::NoTouch {
        self.conn.no_touch()
    }

    /// Closes this handle. The connection closes when the last clone is gone.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let ids = state.trace_ids().await?;
    /// state.cleanup().await;
    /// # Ok(()) }
    /// ```
    pub async fn cleanup(self) {
        drop(self);
    }
}
