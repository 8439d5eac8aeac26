//! The two Redis layouts of Motia state, and which one a server holds.
//!
//! - [`Layout::Motia`]: Motia 0.x, one string per item under `{prefix}{traceId}:{key}`.
//! - [`Layout::Iii`]: Motia 1.x and the iii engine, one hash `state:{scope}` per scope, field =
//!   key, value = JSON text; streams as hashes `stream:{stream}:{group}`. See [`iii`].

pub mod iii;
pub mod iii_export;
pub mod iii_live;
mod iii_scan;
pub mod iii_stats;
pub mod streams;

use std::fmt;
use std::str::FromStr;

use crate::adapter::RedisStateAdapter;
use crate::adapter::error::{Error, Result};

pub use iii::{IiiState, SCOPE_PREFIX};
pub use iii_scan::FieldScanner;

/// Which layout state is kept in.
///
/// ```
/// use motia_state::Layout;
/// assert_eq!("iii".parse::<Layout>().unwrap(), Layout::Iii);
/// assert_eq!(Layout::Motia.to_string(), "motia");
/// assert!("v2".parse::<Layout>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layout {
    /// Motia 0.x: `{prefix}{traceId}:{key}` strings.
    Motia,
    /// Motia 1.x / iii: one `state:{scope}` hash per scope.
    Iii,
}

impl Layout {
    /// The name taken by `--layout`, `MOTIA_STATE_LAYOUT` and export documents.
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::Motia => "motia",
            Layout::Iii => "iii",
        }
    }

    /// Parses a setting's value, naming the setting in the error.
    ///
    /// ```
    /// use motia_state::Layout;
    /// let e = Layout::parse_setting("--layout", "x").unwrap_err().to_string();
    /// assert!(e.contains("--layout") && e.contains("motia or iii"), "{e}");
    /// ```
    pub fn parse_setting(name: &str, value: &str) -> Result<Self> {
        value.parse().map_err(|_| Error::Config {
            name: name.into(),
            reason: format!("{value:?} is not a layout; expected motia or iii"),
        })
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Layout {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "motia" | "0.x" | "strings" => Ok(Layout::Motia),
            "iii" | "1.x" | "hash" => Ok(Layout::Iii),
            _ => Err(Error::Config {
                name: "layout".into(),
                reason: format!("{s:?} is not a layout; expected motia or iii"),
            }),
        }
    }
}

/// The layout in use and why: from a setting, or detected from what the server holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    /// The layout to use.
    pub layout: Layout,
    /// Why, in a few words (for `--verbose` and the status bar).
    pub reason: String,
    /// Something the user should know: state of the other layout exists too.
    pub note: Option<String>,
    /// False when the other layout was not looked for yet: on Motia 0.x the `state:*` walk is
    /// left to [`RedisStateAdapter::other_layout_note`], called where a view of the server is
    /// shown, so that one `get` never walks a whole keyspace.
    pub other_looked_for: bool,
}

/// The note of a 0.x view of a server that also holds iii hashes.
const III_NOTE: &str = "the server also holds Motia 1.x / iii state (state:* hashes); \
                        give --layout iii to see it";

/// Whether a walk finds a key; stops at the first (a whole walk only when there is none).
async fn any_key(mut scan: crate::adapter::scan::KeyScanner) -> Result<bool> {
    while let Some(page) = scan.next_page().await? {
        if !page.is_empty() {
            return Ok(true);
        }
    }
    Ok(false)
}

impl RedisStateAdapter {
    /// The layout to use: [`crate::Config::layout`] when set, else detected with walks that
    /// stop at the first key found. Motia 0.x when keys exist under the prefix, iii when there
    /// are none and `state:*` hashes exist, 0.x on an empty server. On 0.x (set or detected)
    /// `state:*` hashes are not looked for here ([`Detection::other_looked_for`] is false):
    /// [`other_layout_note`](Self::other_layout_note) does it after a listing. iii as asked
    /// still gets a note when keys exist under the prefix.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let d = state.detect_layout().await?;
    /// eprintln!("layout {}: {}", d.layout, d.reason);
    /// # Ok(()) }
    /// ```
    pub async fn detect_layout(&self) -> Result<Detection> {
        let prefix = self.keys.prefix().to_string();
        let motia = |reason: String| Detection {
            layout: Layout::Motia,
            reason,
            note: None,
            other_looked_for: false,
        };
        match self.config.layout {
            Some(Layout::Motia) => return Ok(motia("as asked".into())),
            Some(Layout::Iii) => {
                let note = any_key(self.scan_all()).await?.then(|| {
                    format!(
                        "the server also holds Motia 0.x state under {prefix:?}; give --layout \
                         motia to see it"
                    )
                });
                return Ok(Detection {
                    layout: Layout::Iii,
                    reason: "as asked".into(),
                    note,
                    other_looked_for: true,
                });
            }
            None => {}
        }
        if any_key(self.scan_all()).await? {
            return Ok(motia(format!("detected: keys under {prefix:?}")));
        }
        Ok(if any_key(self.iii().scan_scopes()).await? {
            Detection {
                layout: Layout::Iii,
                reason: format!("detected: no keys under {prefix:?}, state:* hashes exist"),
                note: None,
                other_looked_for: true,
            }
        } else {
            Detection {
                other_looked_for: true,
                ..motia("no state of either layout yet; Motia 0.x by default".into())
            }
        })
    }

    /// The note a Motia 0.x view of the server owes its user when the server also holds iii
    /// state (`state:*` hashes), or `None`. `keys_seen` is the number of distinct keys under
    /// the prefix the caller's own walk counted, when it walked them all: when DBSIZE (summed
    /// over a cluster's primaries) is that number, nothing else is on the server and nothing
    /// is walked. Otherwise `SCAN MATCH state:* TYPE hash`, stopping at the first hash.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let counts = state.trace_counts().await?;
    /// let keys: u64 = counts.values().sum();
    /// if let Some(note) = state.other_layout_note(Some(keys)).await? {
    ///     eprintln!("note: {note}");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn other_layout_note(&self, keys_seen: Option<u64>) -> Result<Option<String>> {
        if let Some(seen) = keys_seen {
            // A user without DBSIZE (the read-only ACL user of docs/production.md) still gets
            // the answer, from the walk.
            match self.dbsize().await {
                Ok(size) if size.is_complete() && size.keys == seen => return Ok(None),
                Ok(_) => {}
                Err(e) if e.is_permission() => {}
                Err(e) => return Err(e),
            }
        }
        Ok(any_key(self.iii().scan_scopes())
            .await?
            .then(|| III_NOTE.to_string()))
    }

    /// The iii layout's operations over this adapter's connection.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// for scope in state.iii().scopes().await? {
    ///     println!("{}", String::from_utf8_lossy(&scope));
    /// }
    /// # Ok(()) }
    /// ```
    pub fn iii(&self) -> IiiState {
        IiiState::new(self.clone())
    }
}
