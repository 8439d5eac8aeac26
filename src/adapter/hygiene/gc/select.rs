//! What a gc takes: which traces (by age, status, id), what to do with them, and the CLI-style
//! flags that say both.

use std::time::Duration;

use crate::adapter::error::{Error, Result};
use crate::adapter::records::FlowStatus;

/// Which flows by the status their records give.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StatusFilter {
    /// Completed or failed flows (the default; never running ones, never unknown ones).
    #[default]
    Finished,
    /// Completed flows.
    Completed,
    /// Failed flows.
    Failed,
    /// Any status, running flows included.
    Any,
}

impl StatusFilter {
    /// Whether a flow with this status (`None`: the records do not say) is selected.
    ///
    /// ```
    /// use motia_state::adapter::gc::StatusFilter;
    /// use motia_state::adapter::records::FlowStatus;
    /// assert!(!StatusFilter::Finished.admits(Some(FlowStatus::Running)));
    /// assert!(!StatusFilter::Finished.admits(None));
    /// assert!(StatusFilter::Any.admits(Some(FlowStatus::Running)));
    /// ```
    pub fn admits(self, status: Option<FlowStatus>) -> bool {
        match self {
            StatusFilter::Any => true,
            StatusFilter::Finished => {
                matches!(status, Some(FlowStatus::Completed | FlowStatus::Failed))
            }
            StatusFilter::Completed => status == Some(FlowStatus::Completed),
            StatusFilter::Failed => status == Some(FlowStatus::Failed),
        }
    }
}

impl std::str::FromStr for StatusFilter {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "completed" => Ok(StatusFilter::Completed),
            "failed" => Ok(StatusFilter::Failed),
            // `all`, as `traces --status` says it, too.
            "any" | "all" => Ok(StatusFilter::Any),
            other => Err(flag_error(
                "--status",
                format!("{other:?} is not a status (completed, failed, or any/all)"),
            )),
        }
    }
}

/// What to do with the selected keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GcAction {
    /// Give them this TTL; a key that already expires sooner keeps its own.
    Expire(Duration),
    /// Delete them.
    Delete,
}

/// Which traces and keys to clean up.
///
/// ```
/// use motia_state::adapter::gc::{GcSelection, StatusFilter};
/// use std::time::Duration;
/// let sel = GcSelection { older_than: Some(Duration::from_secs(7 * 86400)), no_records: true, ..Default::default() };
/// assert!(sel.validate().is_ok());
/// assert!(GcSelection::default().validate().is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcSelection {
    /// Only traces older than this (their records' last activity, else their idle time).
    pub older_than: Option<Duration>,
    /// Status of flows with records.
    pub status: StatusFilter,
    /// Traces without records (gone or never written) instead of flows with records, aged by
    /// idle time.
    pub no_records: bool,
    /// Only keys without an expiry.
    pub no_ttl: bool,
}

impl GcSelection {
    /// At least one of `older_than` or `no_records` is required.
    ///
    /// ```
    /// use motia_state::adapter::gc::GcSelection;
    /// assert!(GcSelection { no_records: true, ..Default::default() }.validate().is_ok());
    /// ```
    pub fn validate(&self) -> Result<()> {
        if self.older_than.is_none() && !self.no_records {
            return Err(Error::Config {
                name: "gc".into(),
                reason: "say which traces: --older-than DURATION, --no-records, or both".into(),
            });
        }
        Ok(())
    }
}

/// The flags of `gc` as typed (`motia-state gc ...`, the browser's `:gc ...`), checked by
/// [`parse`](Self::parse).
///
/// ```
/// use motia_state::adapter::gc::{GcAction, GcFlags};
/// let flags = GcFlags::from_words(&["--no-records", "--older-than", "7d", "--delete"]).unwrap();
/// let (selection, action) = flags.parse().unwrap();
/// assert!(selection.no_records && action == GcAction::Delete && !flags.yes);
/// assert!(GcFlags::from_words(&["--older-than"]).is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcFlags {
    /// `--older-than DURATION`.
    pub older_than: Option<String>,
    /// `--status completed|failed|any` (`all` is `any`).
    pub status: Option<String>,
    /// `--no-records`.
    pub no_records: bool,
    /// `--no-ttl`.
    pub no_ttl: bool,
    /// `--expire DURATION`.
    pub expire: Option<String>,
    /// `--delete`.
    pub delete: bool,
    /// `--yes`.
    pub yes: bool,
}

fn flag_error(name: &str, reason: impl Into<String>) -> Error {
    Error::Config {
        name: name.into(),
        reason: reason.into(),
    }
}

/// A positive duration for `flag` (`persist` makes no sense here).
fn positive_duration(flag: &str, text: &str) -> Result<Duration> {
    match text.parse::<crate::adapter::expiry::Expiry>() {
        Ok(crate::adapter::expiry::Expiry::After(d)) => Ok(d),
        Ok(crate::adapter::expiry::Expiry::Persist) => Err(flag_error(
            flag,
            format!("{text:?} is not a duration (give one such as 90s, 10m, 2h or 7d)"),
        )),
        Err(Error::InvalidDuration { reason, .. }) => {
            Err(flag_error(flag, format!("{text:?}: {reason}")))
        }
        Err(e) => Err(e),
    }
}

impl GcFlags {
    /// Reads flags from words (`--older-than 7d` or `--older-than=7d`).
    ///
    /// ```
    /// use motia_state::adapter::gc::GcFlags;
    /// let f = GcFlags::from_words(&["--older-than=3d", "--expire", "1d", "--no-ttl"]).unwrap();
    /// assert_eq!((f.older_than.as_deref(), f.expire.as_deref(), f.no_ttl), (Some("3d"), Some("1d"), true));
    /// assert!(GcFlags::from_words(&["--frobnicate"]).is_err());
    /// ```
    pub fn from_words(words: &[&str]) -> Result<Self> {
        let mut f = GcFlags::default();
        let mut it = words.iter();
        while let Some(word) = it.next() {
            let (name, inline) = match word.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (*word, None),
            };
            let mut value = |flag: &str| -> Result<String> {
                match &inline {
                    Some(v) => Ok(v.clone()),
                    None => it
                        .next()
                        .map(|v| v.to_string())
                        .ok_or_else(|| flag_error(flag, "needs a value")),
                }
            };
            match name {
                "--older-than" => f.older_than = Some(value(name)?),
                "--status" => f.status = Some(value(name)?),
                "--expire" => f.expire = Some(value(name)?),
                "--no-records" => f.no_records = true,
                "--no-ttl" => f.no_ttl = true,
                "--delete" => f.delete = true,
                "--yes" => f.yes = true,
                other => {
                    return Err(flag_error(
                        "gc",
                        format!(
                            "unknown flag {other:?} (--older-than, --status, --no-records, --no-ttl, --expire, --delete, --yes)"
                        ),
                    ));
                }
            }
        }
        Ok(f)
    }

    /// Checks the flags: the selection and the action, or an error naming the flag.
    ///
    /// ```
    /// use motia_state::adapter::gc::GcFlags;
    /// let none = GcFlags { delete: true, ..Default::default() };
    /// assert!(none.parse().unwrap_err().to_string().contains("--older-than"));
    /// ```
    pub fn parse(&self) -> Result<(GcSelection, GcAction)> {
        let older_than = self
            .older_than
            .as_deref()
            .map(|t| positive_duration("--older-than", t))
            .transpose()?;
        let status = match self.status.as_deref() {
            None => StatusFilter::Finished,
            Some(s) if self.no_records => {
                return Err(flag_error(
                    "--status",
                    format!(
                        "{s} applies to flows with records; --no-records selects traces without them"
                    ),
                ));
            }
            Some(s) => s.parse::<StatusFilter>()?,
        };
        let selection = GcSelection {
            older_than,
            status,
            no_records: self.no_records,
            no_ttl: self.no_ttl,
        };
        if selection.validate().is_err() {
            return Err(flag_error(
                "gc",
                "needs --older-than DURATION or --no-records (or both) to know which traces",
            ));
        }
        let action = match (&self.expire, self.delete) {
            (Some(_), true) => {
                return Err(flag_error(
                    "gc",
                    "choose one of --expire DURATION and --delete",
                ));
            }
            (Some(d), false) => GcAction::Expire(positive_duration("--expire", d)?),
            (None, true) => GcAction::Delete,
            (None, false) => {
                return Err(flag_error(
                    "gc",
                    "needs an action: --expire DURATION (adds a TTL) or --delete",
                ));
            }
        };
        Ok((selection, action))
    }
}
