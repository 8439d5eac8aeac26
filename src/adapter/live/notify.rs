//! The server's `notify-keyspace-events` setting: reading it, deciding whether it is enough for
//! live updates, adding only the flags that are missing, and putting back what was there.
//!
//! Changing it is a server configuration change that other clients see, so nothing here runs
//! unless the caller asks for it explicitly, and the exact previous setting is kept to restore.

use std::collections::HashMap;

use crate::adapter::RedisStateAdapter;
use crate::adapter::conn::{Node, query_direct};
use crate::adapter::error::{Error, Result};

/// Flags live updates cannot do without: keyspace channel (`K`), string commands (`$`, the
/// `set` of a state item), generic commands (`g`: `del`, `expire`, `rename`...) and expiry (`x`).
///
/// ```
/// use motia_state::notify::{NotifySetting, REQUIRED_FLAGS};
/// assert_eq!(REQUIRED_FLAGS, "K$gx");
/// assert!(NotifySetting::new("KA").covers_live());
/// ```
pub const REQUIRED_FLAGS: &str = "K$gx";

/// Flags that enabling adds when missing: the required ones plus evictions (`e`, a key dropped
/// under `maxmemory`) and hash commands (`h`, Motia's trace records are hashes).
///
/// ```
/// use motia_state::notify::{NotifySetting, WANTED_FLAGS};
/// assert_eq!(NotifySetting::new("").missing_wanted(), WANTED_FLAGS);
/// ```
pub const WANTED_FLAGS: &str = "K$gxeh";

/// What `A` stands for (Redis 7: every class but key-miss `m` and new-key `n`).
const ALL_CLASSES: &str = "g$lshzxetd";

/// The order Redis itself prints the flags in, so a setting we compute reads like one it printed.
const CANONICAL: &str = "g$lshzxetdnKEm";

/// The name of the server setting.
const PARAM: &str = "notify-keyspace-events";

/// What each flag means, for the text shown before a user confirms enabling.
///
/// ```
/// use motia_state::notify::flag_meaning;
/// assert_eq!(flag_meaning('x'), "expired keys");
/// ```
pub fn flag_meaning(flag: char) -> &'static str {
    match flag {
        'K' => "keyspace events (__keyspace@<db>__:<key> channels)",
        'E' => "keyevent events (__keyevent@<db>__:<event> channels)",
        'g' => "generic commands (del, expire, rename, ...)",
        '$' => "string commands (set, ...)",
        'l' => "list commands",
        's' => "set commands",
        'h' => "hash commands (Motia's trace records, the iii layout's scopes)",
        'z' => "sorted set commands",
        'x' => "expired keys",
        'e' => "evicted keys (maxmemory)",
        't' => "stream commands",
        'd' => "module key types",
        'n' => "new keys",
        'm' => "key misses",
        'A' => "alias for g$lshzxetd",
        _ => "unknown flag",
    }
}

/// One value of `notify-keyspace-events`, exactly as the server reported it.
///
/// ```
/// use motia_state::notify::NotifySetting;
/// let s = NotifySetting::new("Ex");
/// assert!(!s.covers_live());
/// assert_eq!(s.missing_required(), "K$g");
/// assert_eq!(s.with_added("K$g").as_str(), "ExK$g");
/// assert!(NotifySetting::new("AK").covers_live());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NotifySetting(String);

impl NotifySetting {
    /// A setting from its text (`""` is off).
    ///
    /// ```
    /// use motia_state::notify::NotifySetting;
    /// assert!(NotifySetting::new("").is_off());
    /// ```
    pub fn new(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    /// The text as the server reported it.
    ///
    /// ```
    /// use motia_state::notify::NotifySetting;
    /// assert_eq!(NotifySetting::new("xE").as_str(), "xE");
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when nothing is published.
    ///
    /// ```
    /// use motia_state::notify::NotifySetting;
    /// assert!(!NotifySetting::new("Kx").is_off());
    /// ```
    pub fn is_off(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `flag` is on, `A` counting as every class it stands for.
    ///
    /// ```
    /// use motia_state::notify::NotifySetting;
    /// assert!(NotifySetting::new("AK").has('h'));
    /// assert!(!NotifySetting::new("AK").has('E'));
    /// ```
    pub fn has(&self, flag: char) -> bool {
        self.0.contains(flag) || (ALL_CLASSES.contains(flag) && self.0.contains('A'))
    }

    /// Whether live updates work with this setting (every flag of [`REQUIRED_FLAGS`]).
    ///
    /// ```
    /// use motia_state::notify::NotifySetting;
    /// assert!(NotifySetting::new("$gxK").covers_live());
    /// assert!(!NotifySetting::new("Ex").covers_live());
    /// ```
    pub fn covers_live(&self) -> bool {
        self.missing_required().is_empty()
    }

    /// The flags of [`REQUIRED_FLAGS`] that are off.
    ///
    /// ```
    /// use motia_state::notify::NotifySetting;
    /// assert_eq!(NotifySetting::new("gE").missing_required(), "K$x");
    /// ```
    pub fn missing_required(&self) -> String {
        REQUIRED_FLAGS.chars().filter(|c| !self.has(*c)).collect()
    }

    /// The flags of [`WANTED_FLAGS`] that are off: what enabling adds.
    ///
    /// ```
    /// use motia_state::notify::NotifySetting;
    /// assert_eq!(NotifySetting::new("A").missing_wanted(), "K");
    /// ```
    pub fn missing_wanted(&self) -> String {
        WANTED_FLAGS.chars().filter(|c| !self.has(*c)).collect()
    }

    /// This setting with `flags` appended; what was there stays as it was written.
    ///
    /// ```
    /// use motia_state::notify::NotifySetting;
    /// assert_eq!(NotifySetting::new("Ex").with_added("K$g").as_str(), "ExK$g");
    /// ```
    pub fn with_added(&self, flags: &str) -> Self {
        let mut s = self.0.clone();
        s.extend(flags.chars().filter(|c| !self.has(*c)));
        Self(s)
    }

    /// This setting without `flags` (an `A` is spelled out first), in Redis's own order; for
    /// taking back the flags we added when someone else changed the setting since.
    ///
    /// ```
    /// use motia_state::notify::NotifySetting;
    /// assert_eq!(NotifySetting::new("AKE").without("Kh").as_str(), "g$lszxetdE");
    /// ```
    pub fn without(&self, flags: &str) -> Self {
        let on: Vec<char> = CANONICAL
            .chars()
            .filter(|c| self.has(*c) && !flags.contains(*c))
            .collect();
        let all = ALL_CLASSES.chars().all(|c| on.contains(&c));
        let mut out = String::new();
        if all {
            out.push('A');
        }
        for c in on {
            if !(all && ALL_CLASSES.contains(c)) {
                out.push(c);
            }
        }
        Self(out)
    }

    /// Whether two settings turn on the same flags (the server reorders what it is given).
    ///
    /// ```
    /// use motia_state::notify::NotifySetting;
    /// assert!(NotifySetting::new("ExK$g").same_flags(&NotifySetting::new("g$xKE")));
    /// ```
    pub fn same_flags(&self, other: &NotifySetting) -> bool {
        CANONICAL.chars().all(|c| self.has(c) == other.has(c))
    }
}

impl std::fmt::Display for NotifySetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// A change this process made to the setting, kept to undo it.
///
/// ```
/// use motia_state::notify::{NotifyChange, NotifySetting};
/// let change = NotifyChange::plan(&NotifySetting::new("Ex"));
/// assert_eq!(change.added, "K$geh");
/// assert_eq!(change.after.as_str(), "ExK$geh");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyChange {
    /// What the server had before.
    pub before: NotifySetting,
    /// What we set.
    pub after: NotifySetting,
    /// The flags we added (empty: nothing was changed).
    pub added: String,
}

impl NotifyChange {
    /// The change that adds the missing [`WANTED_FLAGS`] to `before`.
    ///
    /// ```
    /// use motia_state::notify::{NotifyChange, NotifySetting};
    /// assert!(NotifyChange::plan(&NotifySetting::new("AK")).is_noop());
    /// ```
    pub fn plan(before: &NotifySetting) -> Self {
        let added = before.missing_wanted();
        Self {
            before: before.clone(),
            after: before.with_added(&added),
            added,
        }
    }

    /// True when there is nothing to add.
    ///
    /// ```
    /// use motia_state::notify::{NotifyChange, NotifySetting};
    /// assert!(!NotifyChange::plan(&NotifySetting::new("")).is_noop());
    /// ```
    pub fn is_noop(&self) -> bool {
        self.added.is_empty()
    }

    /// What will change on the server, in words, one flag a line, for a confirmation.
    ///
    /// ```
    /// use motia_state::notify::{NotifyChange, NotifySetting};
    /// let text = NotifyChange::plan(&NotifySetting::new("")).explain();
    /// assert!(text.contains("CONFIG SET notify-keyspace-events"));
    /// ```
    pub fn explain(&self) -> String {
        let mut s = format!(
            "CONFIG SET notify-keyspace-events from {} to {} (a server setting: every client \
             of this server is affected until it is restored). Adds:",
            self.before, self.after
        );
        for c in self.added.chars() {
            s.push_str(&format!("\n  {c}  {}", flag_meaning(c)));
        }
        s
    }
}

/// What restoring found and did.
///
/// ```
/// use motia_state::notify::{NotifySetting, RestoreOutcome};
/// let outcome = RestoreOutcome::Restored(NotifySetting::new(""));
/// assert!(outcome.to_string().contains("restored"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestoreOutcome {
    /// The setting was still ours and is back to what it was before.
    Restored(NotifySetting),
    /// Someone changed the setting since: only the flags we added were taken out of theirs.
    Adjusted {
        /// What the server had when restoring.
        found: NotifySetting,
        /// What it has now.
        now: NotifySetting,
    },
    /// Nothing was ours to take back.
    Unchanged(NotifySetting),
}

impl std::fmt::Display for RestoreOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RestoreOutcome::Restored(s) => write!(f, "notify-keyspace-events restored to {s}"),
            RestoreOutcome::Adjusted { found, now } => write!(
                f,
                "notify-keyspace-events was changed by someone else to {found}; took out only \
                 the flags added here, now {now}"
            ),
            RestoreOutcome::Unchanged(s) => write!(f, "notify-keyspace-events left at {s}"),
        }
    }
}

// It lives with the errors that quote it, below this module.
pub use crate::adapter::error::HOW_TO_ENABLE;

impl RedisStateAdapter {
    /// The server's `notify-keyspace-events`.
    ///
    /// A server that refuses `CONFIG GET` (an ACL user without `+config|get`, managed Redis)
    /// gives [`Error::ConfigRefused`], which says how to enable notifications there.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let setting = state.notify_setting().await?;
    /// println!("live updates possible: {}", setting.covers_live());
    /// # Ok(()) }
    /// ```
    pub async fn notify_setting(&self) -> Result<NotifySetting> {
        // Each node of a cluster has its own setting, replicas too (one that lacks flags
        // publishes nothing once promoted): report one that lacks flags, if any.
        let settings = self.notify_settings(true).await?;
        Ok(least(settings.into_iter().map(|(_, s)| s).collect()))
    }

    /// The setting of the nodes a live subscription listens to (the server, or a cluster's
    /// primaries): for the subscription's periodic check, which need not connect to replicas.
    pub(crate) async fn primaries_notify_setting(&self) -> Result<NotifySetting> {
        let settings = self.notify_settings(false).await?;
        Ok(least(settings.into_iter().map(|(_, s)| s).collect()))
    }

    /// Adds the missing [`WANTED_FLAGS`] to the setting (never replacing what is there) and
    /// returns the change, to give to [`RedisStateAdapter::restore_notifications`] later. A
    /// setting that has them all is left alone (`is_noop()`). Refused on a read-only adapter.
    /// In a cluster every primary gets the change; their settings must be alike. Replicas get
    /// the primaries' setting too (changed or not) when theirs differs, since a replica that
    /// takes over publishes by its own setting: one without the flags would end live updates
    /// for its slots at a failover. When the primaries needed no change, a replica aligned
    /// with them stays so (restoring has nothing to take back).
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let change = state.enable_notifications().await?;
    /// // ... follow the changes ...
    /// let outcome = state.restore_notifications(&change).await?;
    /// eprintln!("{outcome}");
    /// # Ok(()) }
    /// ```
    pub async fn enable_notifications(&self) -> Result<NotifyChange> {
        if self.config().read_only {
            return Err(Error::ReadOnly {
                operation: "enabling keyspace notifications",
            });
        }
        let settings = self.notify_settings(true).await?;
        let primaries: Vec<&NotifySetting> = settings
            .iter()
            .filter(|(t, _)| !matches!(t, NotifyTarget::Replica(_)))
            .map(|(_, s)| s)
            .collect();
        let first = primaries.first().map(|s| (*s).clone()).unwrap_or_default();
        if let Some(other) = primaries.iter().find(|s| !s.same_flags(&first)) {
            return Err(Error::Config {
                name: PARAM.into(),
                reason: format!(
                    "the cluster's primaries have different settings ({first} and {other}): \
                     make them alike first"
                ),
            });
        }
        let change = NotifyChange::plan(&first);
        let mut done: Vec<(&NotifyTarget, &NotifySetting)> = Vec::new();
        for (target, before) in &settings {
            if before.same_flags(&change.after) {
                continue;
            }
            if let Err(e) = self.set_notify_at(target, &change.after).await {
                // Take back what was set on the nodes before this one.
                for (t, b) in done {
                    let _ = self.set_notify_at(t, b).await;
                }
                return Err(e);
            }
            done.push((target, before));
        }
        if !done.is_empty() {
            tracing::info!(before = %change.before, after = %change.after, nodes = done.len(), "keyspace notifications enabled");
        }
        Ok(change)
    }

    /// Undoes `change`: the previous setting exactly when the server still has ours; when
    /// someone changed it since, only the flags we added are taken out of theirs (node by node
    /// in a cluster, replicas included).
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let change = state.enable_notifications().await?;
    /// state.restore_notifications(&change).await?;
    /// # Ok(()) }
    /// ```
    pub async fn restore_notifications(&self, change: &NotifyChange) -> Result<RestoreOutcome> {
        if change.is_noop() {
            return Ok(RestoreOutcome::Unchanged(change.before.clone()));
        }
        let mut outcome: Option<RestoreOutcome> = None;
        for (target, found) in self.notify_settings(true).await? {
            let this = if found.same_flags(&change.after) {
                self.set_notify_at(&target, &change.before).await?;
                RestoreOutcome::Restored(change.before.clone())
            } else {
                let now = found.without(&change.added);
                if now.same_flags(&found) {
                    RestoreOutcome::Unchanged(found)
                } else {
                    self.set_notify_at(&target, &now).await?;
                    RestoreOutcome::Adjusted { found, now }
                }
            };
            // Report the most telling: someone else's change over ours restored.
            outcome = match (outcome, this) {
                (Some(a @ RestoreOutcome::Adjusted { .. }), _) => Some(a),
                (_, t @ RestoreOutcome::Adjusted { .. }) => Some(t),
                (Some(a @ RestoreOutcome::Restored(_)), _) => Some(a),
                (_, t) => Some(t),
            };
        }
        let outcome = outcome.unwrap_or(RestoreOutcome::Unchanged(change.before.clone()));
        tracing::info!(%outcome, "keyspace notifications restored");
        Ok(outcome)
    }

    /// The setting of the server, or of a cluster's primaries and (with `replicas`) of the
    /// replicas that answer: one that does not cannot be read or set now, and is left out
    /// rather than failing the whole call.
    async fn notify_settings(&self, replicas: bool) -> Result<Vec<(NotifyTarget, NotifySetting)>> {
        let mut out = Vec::new();
        for node in self.conn.scan_targets().await? {
            let target = NotifyTarget::Primary(node);
            let setting = self.notify_setting_at(&target).await?;
            out.push((target, setting));
        }
        if !replicas {
            return Ok(out);
        }
        let listed = match self.conn.replicas().await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "the cluster's replicas could not be listed");
                Vec::new()
            }
        };
        for node in listed {
            let target = NotifyTarget::Replica(node);
            match self.notify_setting_at(&target).await {
                Ok(setting) => out.push((target, setting)),
                Err(e) => tracing::warn!(error = %e, "a replica's setting could not be read"),
            }
        }
        Ok(out)
    }

    async fn notify_setting_at(&self, target: &NotifyTarget) -> Result<NotifySetting> {
        match target {
            NotifyTarget::Primary(node) => self.notify_setting_of(node.as_ref()).await,
            NotifyTarget::Replica(node) => {
                let mut cmd = redis::cmd("CONFIG");
                cmd.arg("GET").arg(PARAM);
                let map: HashMap<String, String> =
                    query_direct(self.config(), node, &cmd, "CONFIG GET")
                        .await
                        .map_err(|e| refused(e, "CONFIG GET"))?;
                Ok(NotifySetting::new(
                    map.get(PARAM).cloned().unwrap_or_default(),
                ))
            }
        }
    }

    async fn set_notify_at(&self, target: &NotifyTarget, setting: &NotifySetting) -> Result<()> {
        match target {
            NotifyTarget::Primary(node) => self.set_notify(node.as_ref(), setting).await,
            NotifyTarget::Replica(node) => {
                let mut cmd = redis::cmd("CONFIG");
                cmd.arg("SET").arg(PARAM).arg(setting.as_str());
                query_direct::<()>(self.config(), node, &cmd, "CONFIG SET")
                    .await
                    .map_err(|e| refused(e, "CONFIG SET"))
            }
        }
    }

    async fn notify_setting_of(&self, node: Option<&Node>) -> Result<NotifySetting> {
        let mut cmd = redis::cmd("CONFIG");
        cmd.arg("GET").arg(PARAM);
        let map: HashMap<String, String> = self
            .conn
            .query_node(node, &cmd, "CONFIG GET")
            .await
            .map_err(|e| refused(e, "CONFIG GET"))?;
        Ok(NotifySetting::new(
            map.get(PARAM).cloned().unwrap_or_default(),
        ))
    }

    async fn set_notify(&self, node: Option<&Node>, setting: &NotifySetting) -> Result<()> {
        let mut cmd = redis::cmd("CONFIG");
        cmd.arg("SET").arg(PARAM).arg(setting.as_str());
        self.conn
            .query_node::<()>(node, &cmd, "CONFIG SET")
            .await
            .map_err(|e| refused(e, "CONFIG SET"))
    }
}

/// A node whose setting counts: the server or a cluster primary (reached as the cluster
/// client routes), or a cluster replica (over a connection of its own).
enum NotifyTarget {
    Primary(Option<Node>),
    Replica(Node),
}

/// The first setting that does not cover live updates, else the first.
fn least(settings: Vec<NotifySetting>) -> NotifySetting {
    let lacking = settings.iter().position(|s| !s.covers_live());
    settings
        .into_iter()
        .nth(lacking.unwrap_or(0))
        .unwrap_or_default()
}

/// A refused CONFIG (ACL, or renamed away on managed Redis) as [`Error::ConfigRefused`].
fn refused(e: Error, command: &str) -> Error {
    match e {
        Error::NoPerm { reason, .. } => Error::ConfigRefused {
            command: command.into(),
            reason,
        },
        Error::Redis { source, .. }
            if source.code() == Some("NOPERM")
                || source
                    .to_string()
                    .to_ascii_lowercase()
                    .contains("unknown command") =>
        {
            Error::ConfigRefused {
                command: command.into(),
                reason: source.detail().unwrap_or("refused").to_string(),
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests;
