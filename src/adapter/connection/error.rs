//! The one error type of the library.

use std::time::Duration;

/// Where to turn notifications on when this connection may not, for messages.
///
/// ```
/// assert!(motia_state::notify::HOW_TO_ENABLE.contains("redis.conf"));
/// ```
pub const HOW_TO_ENABLE: &str = "enable them where the server is configured: \
`notify-keyspace-events K$gxe` in redis.conf or `CONFIG SET notify-keyspace-events K$gxe` by an \
admin (add the letters to what is set already), on managed Redis the provider's setting \
(ElastiCache: parameter group; Azure Cache: advanced settings; Memorystore: --redis-config)";

/// Everything that can go wrong talking to Motia state in Redis.
///
/// A missing key is not an error: reads return `Ok(None)`.
///
/// ```
/// use motia_state::Error;
/// let err = Error::InvalidGroupId { group: "a:b".into(), reason: "contains ':'" };
/// assert!(err.to_string().contains("a:b"));
/// ```
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting (env variable, flag, URL) has a value we cannot use.
    #[error("invalid setting {name}: {reason}")]
    Config {
        /// The setting's name, as the user wrote it (`REDIS_PORT`, `--ttl`, `url`).
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Group ids are the first segment of the key, so they can be neither empty nor hold `:`.
    #[error("invalid trace id \"{group}\": {reason}")]
    InvalidGroupId {
        /// The rejected id.
        group: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// Keys may contain anything but must not be empty.
    #[error("invalid key in trace \"{group}\": the key is empty")]
    EmptyKey {
        /// The group the empty key was asked for.
        group: String,
    },
    /// Redis holds a value under this key that is not JSON.
    #[error("value of {key} is not valid JSON ({source})")]
    InvalidStoredJson {
        /// The full Redis key.
        key: String,
        /// The parser's complaint, with line and column.
        source: serde_json::Error,
    },
    /// JSON given by the caller (argument, file, editor) does not parse.
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    InvalidJson {
        /// 1-based line of the first error.
        line: usize,
        /// 1-based column of the first error.
        column: usize,
        /// The parser's message without the position.
        message: String,
    },
    /// A value could not be turned into or out of the caller's type.
    #[error("cannot convert the value of {key}: {source}")]
    Convert {
        /// The full Redis key.
        key: String,
        /// The serde error.
        source: serde_json::Error,
    },
    /// The key exists but holds another Redis type than a string.
    #[error("{key} holds a Redis {found}, not a string")]
    WrongType {
        /// The full Redis key.
        key: String,
        /// The type Redis reported (`hash`, `list`, ...).
        found: String,
    },
    /// A duration the user typed is not one we understand.
    #[error("invalid duration {input:?}: {reason}; e.g. 90, 10m, 1h30m, 1d or persist")]
    InvalidDuration {
        /// What the user typed.
        input: String,
        /// Why it was refused.
        reason: String,
    },
    /// The server could not be reached in time.
    #[error("cannot connect to {addr}: {reason}")]
    Connect {
        /// `host:port` (never the password).
        addr: String,
        /// What happened.
        reason: String,
    },
    /// The server refused the credentials.
    #[error("authentication to {addr} failed: {reason}")]
    Auth {
        /// `host:port`.
        addr: String,
        /// The server's message.
        reason: String,
    },
    /// The server needs credentials and none were sent (`NOAUTH`).
    #[error("{addr} requires authentication and no password was given")]
    NoAuth {
        /// `host:port`.
        addr: String,
    },
    /// The credentials were accepted but the ACL user may not run a command or touch a key
    /// (`NOPERM`). Not an authentication failure.
    #[error("permission denied on {addr} during {context}: {reason}")]
    NoPerm {
        /// `host:port`.
        addr: String,
        /// What we were doing (the command and its key).
        context: String,
        /// Which command was refused, or that the key is outside the user's key patterns.
        reason: String,
    },
    /// A scan could not reach every primary of a cluster: the key list is incomplete.
    #[error("scan incomplete: {node} could not be reached ({reason}); keys on it are missing")]
    ScanIncomplete {
        /// `host:port` of the primary.
        node: String,
        /// The last failure.
        reason: String,
    },
    /// The connection was lost and could not be re-established.
    #[error(
        "lost the connection to {addr} and gave up after {retries} reconnect attempts: {reason}"
    )]
    Disconnected {
        /// `host:port`.
        addr: String,
        /// How many reconnects were tried.
        retries: u32,
        /// The last failure.
        reason: String,
    },
    /// The server took longer than the timeout to answer.
    #[error("{addr} did not answer within {0:?}", .timeout)]
    Timeout {
        /// `host:port`.
        addr: String,
        /// The limit that was reached.
        timeout: Duration,
    },
    /// Any other error the server or the client library reported.
    #[error("redis error during {context}: {source}")]
    Redis {
        /// What we were doing.
        context: String,
        /// The client library's error.
        source: redis::RedisError,
    },
    /// The adapter was opened read-only and was asked to write.
    #[error("refused: {operation} would write, and the connection is read-only")]
    ReadOnly {
        /// The refused operation.
        operation: &'static str,
    },
    /// Reading or writing a local file (export, import) failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// An export document does not have the expected shape.
    #[error("invalid export document: {0}")]
    InvalidDocument(String),
    /// The server refused a `CONFIG` command (an ACL user without `+config`, or managed Redis).
    #[error(
        "the server refused {command} ({reason}), so keyspace notifications cannot be checked \
         or changed from this connection; {how}, or grant this user +config|get (and \
         +config|set to switch them on from here)",
        how = HOW_TO_ENABLE
    )]
    ConfigRefused {
        /// `CONFIG GET` or `CONFIG SET`.
        command: String,
        /// The server's message.
        reason: String,
    },
    /// Keyspace notifications are off (or miss flags live updates need).
    #[error(
        "keyspace notifications are off on this server (notify-keyspace-events is {setting:?}; \
         live updates need K, $, g and x, missing {missing}); {how}",
        how = HOW_TO_ENABLE
    )]
    NotificationsOff {
        /// The server's setting, as it reported it.
        setting: String,
        /// The required flags that are off.
        missing: String,
    },
    /// The operation does not exist in this layout or on this server (field expiry on a
    /// server without it, `gc` or trace records on the iii layout).
    #[error("{what}")]
    Unsupported {
        /// What is not available and why.
        what: String,
    },
    /// Subscribing to keyspace notifications failed.
    #[error("cannot subscribe to keyspace notifications on {addr}: {reason}")]
    Subscribe {
        /// `host:port`.
        addr: String,
        /// Why.
        reason: String,
    },
}

/// Shorthand for results of this library.
///
/// ```
/// use motia_state::{Config, Result};
/// fn settings(url: &str) -> Result<Config> {
///     let config = Config::from_url(url)?;
///     config.validate()?;
///     Ok(config)
/// }
/// assert!(settings("redis://cache:6379").is_ok());
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Turns a serde_json parse error of caller-supplied text into [`Error::InvalidJson`].
    ///
    /// ```
    /// use motia_state::Error;
    /// let err = serde_json::from_str::<serde_json::Value>("{\"a\": }").unwrap_err();
    /// let Error::InvalidJson { line, column, message } = Error::invalid_json(&err) else {
    ///     unreachable!()
    /// };
    /// assert_eq!((line, column, message.as_str()), (1, 7, "expected value"));
    /// ```
    pub fn invalid_json(err: &serde_json::Error) -> Self {
        let full = err.to_string();
        // serde_json appends " at line L column C"; the position has its own fields.
        let message = match full.rfind(" at line ") {
            Some(i) => full[..i].to_string(),
            None => full,
        };
        Error::InvalidJson {
            line: err.line(),
            column: err.column(),
            message,
        }
    }

    /// True for errors that mean the server is not reachable right now.
    ///
    /// ```
    /// use motia_state::Error;
    /// use std::time::Duration;
    /// let timeout = Error::Timeout {
    ///     addr: "cache:6379".into(),
    ///     timeout: Duration::from_secs(60),
    /// };
    /// assert!(timeout.is_connection());
    /// assert!(!Error::ReadOnly { operation: "set" }.is_connection());
    /// ```
    pub fn is_connection(&self) -> bool {
        matches!(
            self,
            Error::Connect { .. } | Error::Disconnected { .. } | Error::Timeout { .. }
        ) || matches!(self, Error::Redis { source, .. } if is_connection_error(source))
    }

    /// True when the ACL user lacks the right (`NOPERM`): a feature that needs it is off,
    /// the connection itself is fine.
    ///
    /// ```
    /// use motia_state::Error;
    /// let refused = Error::NoPerm {
    ///     addr: "cache:6379".into(),
    ///     context: "INFO".into(),
    ///     reason: "the user may not run INFO".into(),
    /// };
    /// assert!(refused.is_permission());
    /// assert!(!refused.is_connection());
    /// ```
    pub fn is_permission(&self) -> bool {
        matches!(self, Error::NoPerm { .. })
    }

    /// True when a key holds another Redis type than the command needs (`WRONGTYPE`).
    ///
    /// ```
    /// use motia_state::Error;
    /// let e = Error::WrongType { key: "k".into(), found: "hash".into() };
    /// assert!(e.is_wrong_type());
    /// assert!(!Error::ReadOnly { operation: "set" }.is_wrong_type());
    /// ```
    pub fn is_wrong_type(&self) -> bool {
        matches!(self, Error::WrongType { .. })
            || matches!(self, Error::Redis { source, .. } if source.code() == Some("WRONGTYPE"))
    }
}

/// Words for a `NOPERM` message: the refused command by name, or that a key is outside the
/// user's patterns (Redis names neither the user nor the key).
pub(crate) fn noperm_reason(server_message: &str, context: &str) -> String {
    let lower = server_message.to_ascii_lowercase();
    if let Some(rest) = lower.split("to run the '").nth(1)
        && let Some(cmd) = rest.split('\'').next()
    {
        return format!(
            "the ACL user may not run {} (NOPERM): the user needs +{cmd}",
            cmd.to_ascii_uppercase()
        );
    }
    if lower.contains("key") {
        // A context names its key after the command (`HGET key`), not after a description.
        let key = match context.split_once(' ') {
            Some((c, k)) if c.bytes().all(|b| b.is_ascii_uppercase()) => k,
            _ => "",
        };
        return if key.is_empty() {
            "a key is outside the ACL user's key patterns (NOPERM)".into()
        } else {
            format!("{key} is outside the ACL user's key patterns (NOPERM)")
        };
    }
    if lower.contains("channel") {
        return "the ACL user may not use this channel (NOPERM)".into();
    }
    format!("refused by the server's ACL: {}", server_message.trim())
}

/// True when the error means the socket is gone (so a reconnect may help). A reply of another
/// shape than the command's (redis-rs's parse errors) is not: the server answered.
pub(crate) fn is_connection_error(err: &redis::RedisError) -> bool {
    err.is_io_error()
        || err.is_connection_dropped()
        || err.is_connection_refusal()
        || err.is_timeout()
        || (err.is_unrecoverable_error() && err.kind() != redis::ErrorKind::Parse)
}
