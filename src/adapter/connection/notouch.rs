//! Reading without resetting idle times: `CLIENT NO-TOUCH on` (Redis 7.2+, Valkey) on every
//! connection this library opens, re-sent after each reconnect, so that looking at a key never
//! makes it look young to `stats` and `gc`, which age state by `OBJECT IDLETIME`.

use std::sync::atomic::{AtomicU8, Ordering};

use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::cluster_async::Connect;
use redis::{AsyncConnectionConfig, Cmd, IntoConnectionInfo, Pipeline, RedisFuture, Value};

/// Whether this adapter's reads leave keys' idle times alone.
///
/// ```
/// use motia_state::adapter::notouch::NoTouch;
/// assert!(NoTouch::On.keeps_idle_times());
/// assert!(NoTouch::Unsupported.warning().unwrap().contains("reset by reads"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum NoTouch {
    /// Not asked yet.
    Unknown,
    /// `CLIENT NO-TOUCH on` is set on the connections: reads do not touch.
    On,
    /// The server has no `CLIENT NO-TOUCH` (Redis before 7.2): every read resets idle time.
    Unsupported,
    /// The ACL user may not run `CLIENT NO-TOUCH`.
    Refused,
}

impl NoTouch {
    fn from_u8(v: u8) -> Self {
        match v {
            1 => NoTouch::On,
            2 => NoTouch::Unsupported,
            3 => NoTouch::Refused,
            _ => NoTouch::Unknown,
        }
    }

    fn as_u8(self) -> u8 {
        match self {
            NoTouch::Unknown => 0,
            NoTouch::On => 1,
            NoTouch::Unsupported => 2,
            NoTouch::Refused => 3,
        }
    }

    /// True when reads over this adapter do not reset idle times.
    ///
    /// ```
    /// # use motia_state::adapter::notouch::NoTouch;
    /// assert!(!NoTouch::Refused.keeps_idle_times());
    /// ```
    pub fn keeps_idle_times(self) -> bool {
        self == NoTouch::On
    }

    /// What to tell a user of ages from idle times, when reads reset them.
    ///
    /// ```
    /// # use motia_state::adapter::notouch::NoTouch;
    /// assert_eq!(NoTouch::On.warning(), None);
    /// assert!(NoTouch::Refused.warning().unwrap().contains("+client|no-touch"));
    /// ```
    pub fn warning(self) -> Option<String> {
        let why = match self {
            NoTouch::On | NoTouch::Unknown => return None,
            NoTouch::Unsupported => {
                "this server has no CLIENT NO-TOUCH; Redis 7.2+ and Valkey have it"
            }
            NoTouch::Refused => "the ACL user may not run CLIENT NO-TOUCH; grant +client|no-touch",
        };
        Some(format!(
            "ages from idle times are reset by reads, the motia-state browser's included ({why})"
        ))
    }

    /// The answer to `CLIENT NO-TOUCH on`.
    pub(crate) fn of(reply: &redis::RedisResult<Value>) -> Self {
        match reply {
            Ok(_) => NoTouch::On,
            Err(e) if e.code() == Some("NOPERM") => NoTouch::Refused,
            Err(e) if e.is_io_error() || e.is_timeout() || e.is_connection_dropped() => {
                NoTouch::Unknown
            }
            Err(_) => NoTouch::Unsupported,
        }
    }
}

/// The last answer seen on a backend's connections.
#[derive(Debug, Default)]
pub(crate) struct NoTouchState(AtomicU8);

impl NoTouchState {
    pub(crate) fn get(&self) -> NoTouch {
        NoTouch::from_u8(self.0.load(Ordering::Relaxed))
    }

    pub(crate) fn set(&self, v: NoTouch) {
        if v != NoTouch::Unknown {
            self.0.store(v.as_u8(), Ordering::Relaxed);
        }
    }
}

/// Sends `CLIENT NO-TOUCH on` over a fresh connection. A refusal or an older server leaves
/// the connection as it is (reads then touch, and the figures say so).
pub(crate) async fn enable(conn: &mut impl ConnectionLike) -> NoTouch {
    let reply = redis::cmd("CLIENT")
        .arg("NO-TOUCH")
        .arg("ON")
        .query_async::<Value>(conn)
        .await;
    NoTouch::of(&reply)
}

/// A cluster node's connection: redis-rs's own, with `CLIENT NO-TOUCH on` sent whenever the
/// cluster client (re)connects to a node (it has no setup hook of its own).
#[derive(Clone)]
pub(crate) struct NoTouchConnection(MultiplexedConnection);

impl ConnectionLike for NoTouchConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        self.0.req_packed_command(cmd)
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        self.0.req_packed_commands(pipeline, offset, count)
    }

    fn get_db(&self) -> i64 {
        self.0.get_db()
    }
}

impl Connect for NoTouchConnection {
    fn connect_with_config<'a, T>(info: T, config: AsyncConnectionConfig) -> RedisFuture<'a, Self>
    where
        T: IntoConnectionInfo + Send + 'a,
    {
        Box::pin(async move {
            let mut conn =
                <MultiplexedConnection as Connect>::connect_with_config(info, config).await?;
            enable(&mut conn).await;
            Ok(NoTouchConnection(conn))
        })
    }
}
