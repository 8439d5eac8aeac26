//! Connection and adapter settings: defaults, environment variables and `redis://` URLs.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::adapter::error::{Error, Result};

mod env;
mod url;

/// Motia's default key prefix; the trailing colon is part of it.
///
/// ```
/// use motia_state::{Config, DEFAULT_PREFIX};
/// assert_eq!(Config::default().key_prefix, DEFAULT_PREFIX);
/// ```
pub const DEFAULT_PREFIX: &str = "motia:state:";

/// Where Motia 0.x keeps its trace records: `{prefix}default` lists the flows,
/// `{prefix}{traceId}` holds one document per executed step.
///
/// ```
/// use motia_state::{Config, DEFAULT_TRACE_PREFIX};
/// assert_eq!(Config::default().trace_prefix, DEFAULT_TRACE_PREFIX);
/// ```
pub const DEFAULT_TRACE_PREFIX: &str = "motia:trace:";

/// How long to wait before reconnect attempt `n` (1-based), or `None` to give up.
///
/// The default mirrors the official adapter: give up after 10 retries, otherwise wait
/// `min(retries * 100 ms, 3 s)`.
///
/// ```
/// use motia_state::ReconnectStrategy;
/// use std::time::Duration;
/// let s = ReconnectStrategy::default();
/// assert_eq!(s.delay(1), Some(Duration::from_millis(100)));
/// assert_eq!(s.delay(50), None);
/// let fixed = ReconnectStrategy::new(|n| (n <= 3).then(|| Duration::from_millis(10)));
/// assert_eq!(fixed.delay(4), None);
/// ```
#[derive(Clone)]
pub struct ReconnectStrategy(Arc<dyn Fn(u32) -> Option<Duration> + Send + Sync>);

impl ReconnectStrategy {
    /// A strategy from a function of the retry number.
    ///
    /// ```
    /// use motia_state::{Config, ReconnectStrategy};
    /// use std::time::Duration;
    /// let mut config = Config::default();
    /// let linear = |n: u32| (n <= 5).then(|| Duration::from_secs(n.into()));
    /// config.reconnect = ReconnectStrategy::new(linear);
    /// assert_eq!(config.reconnect.delay(2), Some(Duration::from_secs(2)));
    /// ```
    pub fn new(f: impl Fn(u32) -> Option<Duration> + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }

    /// Never reconnect: a lost connection fails the call.
    ///
    /// ```
    /// use motia_state::{Config, ReconnectStrategy};
    /// let config = Config { reconnect: ReconnectStrategy::never(), ..Config::default() };
    /// assert_eq!(config.reconnect.delay(1), None);
    /// ```
    pub fn never() -> Self {
        Self::new(|_| None)
    }

    /// The delay before retry `retries` (1-based), or `None` to give up.
    ///
    /// ```
    /// use motia_state::ReconnectStrategy;
    /// use std::time::Duration;
    /// let s = ReconnectStrategy::default();
    /// assert_eq!(s.delay(3), Some(Duration::from_millis(300)));
    /// assert_eq!(s.delay(11), None);
    /// ```
    pub fn delay(&self, retries: u32) -> Option<Duration> {
        (self.0)(retries)
    }
}

impl Default for ReconnectStrategy {
    fn default() -> Self {
        Self::new(|retries| {
            (retries <= 10).then(|| Duration::from_millis((u64::from(retries) * 100).min(3000)))
        })
    }
}

impl fmt::Debug for ReconnectStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReconnectStrategy(..)")
    }
}

/// TLS settings for `rediss://` connections.
///
/// ```
/// use motia_state::{Config, TlsConfig};
/// let mut config = Config::from_url("rediss://cache.example.com:6380").unwrap();
/// config.tls = Some(TlsConfig {
///     ca_cert: Some("/etc/ssl/redis-ca.pem".into()),
///     ..TlsConfig::default()
/// });
/// assert_eq!(config.display_url(), "rediss://cache.example.com:6380/0");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsConfig {
    /// PEM file of the CA that signed the server's certificate (else the system roots).
    pub ca_cert: Option<PathBuf>,
    /// PEM client certificate, for servers that ask for one.
    pub client_cert: Option<PathBuf>,
    /// PEM key of the client certificate.
    pub client_key: Option<PathBuf>,
    /// Skip hostname verification (the certificate chain is still checked).
    pub insecure: bool,
}

/// Everything needed to open a [`crate::RedisStateAdapter`].
///
/// ```
/// use motia_state::Config;
/// let c = Config::from_url("redis://:secret@cache:6380/2").unwrap();
/// assert_eq!((c.host.as_str(), c.port, c.database), ("cache", 6380, 2));
/// assert_eq!(c.display_url(), "redis://cache:6380/2");
/// assert_eq!(c.key_prefix, "motia:state:");
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    /// Server host name or address.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// ACL user name.
    pub username: Option<String>,
    /// Password (with or without a user name).
    pub password: Option<String>,
    /// Logical database number.
    pub database: i64,
    /// Prepended verbatim to `{traceId}:{key}`.
    pub key_prefix: String,
    /// Prefix of Motia's trace record hashes (see [`DEFAULT_TRACE_PREFIX`]).
    pub trace_prefix: String,
    /// Expiry applied by `set`, in seconds (`SETEX`), like the official adapter's `ttl`.
    pub ttl: Option<u64>,
    /// Limit for establishing a connection.
    pub connect_timeout: Duration,
    /// Limit for one command's answer (`None`: wait forever).
    pub command_timeout: Option<Duration>,
    /// What to do when an established connection is lost.
    pub reconnect: ReconnectStrategy,
    /// The `COUNT` hint of every SCAN.
    pub scan_count: usize,
    /// Keys per MGET / UNLINK / pipeline batch.
    pub batch_size: usize,
    /// TLS settings; `Some` means `rediss://`.
    pub tls: Option<TlsConfig>,
    /// Refuse every write before it reaches Redis.
    pub read_only: bool,
    /// A unix socket to connect to instead of `host:port` (`unix:///path/redis.sock`).
    pub socket: Option<PathBuf>,
    /// Talk to a Redis Cluster. Also switched on by itself when the server at `host:port`
    /// says `cluster_enabled:1`.
    pub cluster: bool,
    /// More cluster seed nodes (`host:port`) besides `host:port`.
    pub cluster_nodes: Vec<String>,
    /// Ask these sentinels for the current primary instead of using `host:port`.
    pub sentinel: Option<SentinelConfig>,
    /// The state layout (Motia 0.x strings or iii hashes); `None`: detected from what the
    /// server holds ([`crate::RedisStateAdapter::detect_layout`]).
    pub layout: Option<crate::adapter::layout::Layout>,
}

/// Redis Sentinel: the sentinels to ask and the name of the primary they watch.
///
/// ```
/// use motia_state::Config;
/// let c = Config::from_url("redis+sentinel://s1:26379,s2:26380/mymaster").unwrap();
/// let s = c.sentinel.unwrap();
/// assert_eq!((s.nodes.len(), s.master.as_str()), (2, "mymaster"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentinelConfig {
    /// `host:port` of each sentinel.
    pub nodes: Vec<String>,
    /// The monitored primary's name (`mymaster`).
    pub master: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            host: "localhost".into(),
            port: 6379,
            username: None,
            password: None,
            database: 0,
            key_prefix: DEFAULT_PREFIX.into(),
            trace_prefix: DEFAULT_TRACE_PREFIX.into(),
            ttl: None,
            connect_timeout: Duration::from_secs(10),
            command_timeout: Some(Duration::from_secs(60)),
            reconnect: ReconnectStrategy::default(),
            scan_count: 1000,
            batch_size: 1000,
            tls: None,
            read_only: false,
            socket: None,
            cluster: false,
            cluster_nodes: Vec::new(),
            sentinel: None,
            layout: None,
        }
    }
}

fn config_err(name: &str, reason: impl Into<String>) -> Error {
    Error::Config {
        name: name.into(),
        reason: reason.into(),
    }
}

/// Parses a port number, naming the setting in the error.
///
/// ```
/// use motia_state::adapter::config::parse_port;
/// assert_eq!(parse_port("--port", " 6380").unwrap(), 6380);
/// assert!(parse_port("--port", "0").unwrap_err().to_string().contains("--port"));
/// ```
pub fn parse_port(name: &str, value: &str) -> Result<u16> {
    match value.trim().parse::<u16>() {
        Ok(0) => Err(config_err(name, "port 0 is not a usable port")),
        Ok(p) => Ok(p),
        Err(_) => Err(config_err(
            name,
            format!("{value:?} is not a port number (1-65535)"),
        )),
    }
}

/// Parses a TTL in whole seconds (positive), naming the setting in the error.
///
/// ```
/// use motia_state::adapter::config::parse_ttl_secs;
/// assert_eq!(parse_ttl_secs("--ttl", "3600").unwrap(), 3600);
/// assert!(parse_ttl_secs("--ttl", "0").is_err());
/// assert!(parse_ttl_secs("--ttl", "1h").is_err());
/// ```
pub fn parse_ttl_secs(name: &str, value: &str) -> Result<u64> {
    match value.trim().parse::<i64>() {
        Ok(n) if n > 0 => Ok(n as u64),
        Ok(n) => Err(config_err(
            name,
            format!("{n} is not a positive number of seconds"),
        )),
        Err(_) => Err(config_err(
            name,
            format!("{value:?} is not a whole number of seconds"),
        )),
    }
}

/// Parses a database number, naming the setting in the error.
///
/// ```
/// use motia_state::adapter::config::parse_db;
/// assert_eq!(parse_db("REDIS_DATABASE", "2").unwrap(), 2);
/// assert!(parse_db("REDIS_DATABASE", "-1").is_err());
/// ```
pub fn parse_db(name: &str, value: &str) -> Result<i64> {
    match value.trim().parse::<i64>() {
        Ok(n) if n >= 0 => Ok(n),
        _ => Err(config_err(
            name,
            format!("{value:?} is not a database number (0, 1, 2, ...)"),
        )),
    }
}

impl Config {
    /// `host:port`, for messages.
    ///
    /// ```
    /// use motia_state::Config;
    /// assert_eq!(Config::default().addr(), "localhost:6379");
    /// assert_eq!(Config::from_url("redis://[::1]:7000").unwrap().addr(), "[::1]:7000");
    /// ```
    pub fn addr(&self) -> String {
        if let Some(path) = &self.socket {
            return path.display().to_string();
        }
        if let Some(s) = &self.sentinel {
            return format!("primary {} (sentinels {})", s.master, s.nodes.join(","));
        }
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The connection as a URL without the password, safe to show and log.
    ///
    /// ```
    /// use motia_state::Config;
    /// let c = Config::from_url("redis://bob:secret@cache:6380/1").unwrap();
    /// assert_eq!(c.display_url(), "redis://bob@cache:6380/1");
    /// ```
    pub fn display_url(&self) -> String {
        if let Some(s) = &self.sentinel {
            let user = self
                .username
                .as_deref()
                .map(|u| format!("{u}@"))
                .unwrap_or_default();
            return format!(
                "redis+sentinel://{user}{}/{}/{}",
                s.nodes.join(","),
                s.master,
                self.database
            );
        }
        if let Some(path) = &self.socket {
            let user = self
                .username
                .as_deref()
                .map(|u| format!("&user={u}"))
                .unwrap_or_default();
            return format!("unix://{}?db={}{user}", path.display(), self.database);
        }
        let scheme = if self.tls.is_some() {
            "rediss"
        } else {
            "redis"
        };
        let user = self
            .username
            .as_deref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        format!("{scheme}://{user}{}/{}", self.addr(), self.database)
    }

    /// Checks the settings that no parser saw (values set in code).
    ///
    /// ```
    /// use motia_state::Config;
    /// assert!(Config::default().validate().is_ok());
    /// let c = Config { batch_size: 0, ..Config::default() };
    /// assert!(c.validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<()> {
        if self.host.is_empty() {
            return Err(config_err("host", "empty host name"));
        }
        if self.port == 0 {
            return Err(config_err("port", "port 0 is not a usable port"));
        }
        if self.ttl == Some(0) {
            return Err(config_err("ttl", "0 is not a positive number of seconds"));
        }
        if self.scan_count == 0 || self.batch_size == 0 {
            return Err(config_err("scan_count/batch_size", "must be at least 1"));
        }
        if self.connect_timeout.is_zero() {
            return Err(config_err("connect_timeout", "must be longer than 0"));
        }
        if self.trace_prefix.is_empty() {
            return Err(config_err("trace_prefix", "must not be empty"));
        }
        if self.is_cluster() && self.socket.is_some() {
            return Err(config_err(
                "cluster",
                "Redis Cluster does not work over unix sockets: give host:port seed nodes",
            ));
        }
        if self.sentinel.is_some() && (self.is_cluster() || self.socket.is_some()) {
            return Err(config_err(
                "sentinel",
                "sentinel mode takes sentinel host:port pairs, not cluster nodes or a socket",
            ));
        }
        if self.sentinel.is_some() && self.tls.is_some() {
            return Err(config_err(
                "sentinel",
                "TLS through sentinels is not supported yet: connect to the primary with rediss://",
            ));
        }
        if self.is_cluster() && self.database != 0 {
            return Err(config_err("db", "Redis Cluster has only database 0"));
        }
        for node in &self.cluster_nodes {
            parse_node("cluster node", node)?;
        }
        Ok(())
    }

    /// True when the settings ask for a cluster (the flag, or more than one seed node).
    ///
    /// ```
    /// use motia_state::Config;
    /// let mut c = Config::from_url("redis://10.0.0.1:7000").unwrap();
    /// assert!(!c.is_cluster());
    /// c.cluster_nodes.push("10.0.0.2:7000".into());
    /// assert!(c.is_cluster());
    /// ```
    pub fn is_cluster(&self) -> bool {
        self.cluster || !self.cluster_nodes.is_empty()
    }

    /// Every cluster seed: `host:port` first, then `cluster_nodes`, each once.
    ///
    /// ```
    /// use motia_state::Config;
    /// let mut c = Config::from_url("redis://10.0.0.1:7000").unwrap();
    /// c.cluster_nodes = vec!["10.0.0.2:7000".into(), "10.0.0.1:7000".into()];
    /// let seeds = c.cluster_seeds().unwrap();
    /// assert_eq!(seeds, vec![("10.0.0.1".to_string(), 7000), ("10.0.0.2".to_string(), 7000)]);
    /// ```
    pub fn cluster_seeds(&self) -> Result<Vec<(String, u16)>> {
        let mut seeds = vec![(self.host.clone(), self.port)];
        for node in &self.cluster_nodes {
            let n = parse_node("cluster node", node)?;
            if !seeds.contains(&n) {
                seeds.push(n);
            }
        }
        Ok(seeds)
    }
}

/// Parses `host:port` (`[v6]:port` for IPv6), naming the setting in the error.
///
/// ```
/// use motia_state::adapter::config::parse_node;
/// assert_eq!(parse_node("REDIS_CLUSTER_NODES", "10.0.0.1:7000").unwrap(), ("10.0.0.1".into(), 7000));
/// assert_eq!(parse_node("x", "[::1]:7001").unwrap(), ("::1".into(), 7001));
/// assert!(parse_node("REDIS_CLUSTER_NODES", "10.0.0.1").is_err());
/// ```
pub fn parse_node(name: &str, value: &str) -> Result<(String, u16)> {
    let value = value.trim();
    let value = value
        .strip_prefix("redis://")
        .or_else(|| value.strip_prefix("rediss://"))
        .unwrap_or(value)
        .trim_end_matches('/');
    let Some((host, port)) = value.rsplit_once(':') else {
        return Err(config_err(name, format!("{value:?} is not host:port")));
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(config_err(name, format!("{value:?} has no host")));
    }
    Ok((host.to_string(), parse_port(name, port)?))
}

fn rename(err: Error, name: &str) -> Error {
    match err {
        Error::Config { reason, .. } => config_err(name, reason),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_forms() {
        let c = Config::from_url("rediss://alice:p%40ss@10.0.0.1:7000/3").unwrap();
        assert_eq!(c.username.as_deref(), Some("alice"));
        assert_eq!(c.password.as_deref(), Some("p@ss"));
        assert_eq!(c.database, 3);
        assert!(c.tls.is_some());
        assert_eq!(c.display_url(), "rediss://alice@10.0.0.1:7000/3");
        assert!(
            Config::from_url("http://x")
                .unwrap_err()
                .to_string()
                .contains("unknown scheme")
        );
        assert!(Config::from_url("redis://h/abc").is_err());
    }

    #[test]
    fn env_precedence_and_errors() {
        let env = |k: &str| match k {
            "REDIS_URL" => Some("redis://u:p@h:1/1".to_string()),
            "REDIS_PORT" => Some("2".to_string()),
            "MOTIA_REDIS_HOST" => Some("ignored".to_string()),
            _ => None,
        };
        let c = Config::from_env_with(env).unwrap();
        assert_eq!((c.host.as_str(), c.port, c.database), ("h", 2, 1));
        let bad = Config::from_env_with(|k| (k == "STATE_TTL").then(|| "-5".into())).unwrap_err();
        assert_eq!(
            bad.to_string(),
            "invalid setting STATE_TTL: -5 is not a positive number of seconds"
        );
        let bad =
            Config::from_env_with(|k| (k == "MOTIA_REDIS_PORT").then(|| "abc".into())).unwrap_err();
        assert!(bad.to_string().contains("MOTIA_REDIS_PORT"));
    }

    #[test]
    fn default_strategy() {
        let s = ReconnectStrategy::default();
        assert_eq!(s.delay(5), Some(Duration::from_millis(500)));
        assert_eq!(s.delay(10), Some(Duration::from_millis(1000)));
        assert_eq!(s.delay(11), None);
    }
}
