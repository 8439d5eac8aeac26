//! The status Motia records for a step or a flow.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use serde_json::Value;

use crate::adapter::error::{Error, Result};
use crate::adapter::traces::fields::json_kind;

/// A step's or a flow's status, as Motia records it.
///
/// ```
/// use motia_state::adapter::traces::FlowStatus;
/// let s: FlowStatus = "failed".parse().unwrap();
/// assert_eq!(s, FlowStatus::Failed);
/// assert_eq!(s.to_string(), "failed");
/// assert!("done".parse::<FlowStatus>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FlowStatus {
    /// At least one step failed (listed first when sorting by status).
    Failed,
    /// Still going.
    Running,
    /// Done without failure.
    Completed,
    /// A flow's records could not all be read (over the read budget, or unreadable ones): no
    /// status can be derived from part of them. Never a step's status.
    Unknown,
}

impl FlowStatus {
    /// The word Motia stores.
    ///
    /// ```
    /// use motia_state::adapter::traces::FlowStatus;
    /// assert_eq!(FlowStatus::Running.as_str(), "running");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            FlowStatus::Failed => "failed",
            FlowStatus::Running => "running",
            FlowStatus::Completed => "completed",
            FlowStatus::Unknown => "unknown",
        }
    }

    /// A flow's status as Motia's workbench derives it from its steps: failed if any step
    /// failed, else running if any runs, else completed; `None` without steps.
    ///
    /// ```
    /// use motia_state::adapter::traces::FlowStatus::{self, *};
    /// assert_eq!(FlowStatus::derive([Completed, Running, Failed]), Some(Failed));
    /// assert_eq!(FlowStatus::derive([Completed, Running]), Some(Running));
    /// assert_eq!(FlowStatus::derive([Completed]), Some(Completed));
    /// assert_eq!(FlowStatus::derive([]), None);
    /// ```
    pub fn derive(steps: impl IntoIterator<Item = FlowStatus>) -> Option<FlowStatus> {
        steps.into_iter().min()
    }
}

impl fmt::Display for FlowStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FlowStatus {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "failed" => Ok(FlowStatus::Failed),
            "running" => Ok(FlowStatus::Running),
            "completed" => Ok(FlowStatus::Completed),
            "unknown" => Ok(FlowStatus::Unknown),
            other => Err(Error::Config {
                name: "status".into(),
                reason: format!("{other:?} is not one of failed, running, completed, unknown"),
            }),
        }
    }
}

pub(super) fn status_of(v: &Value) -> std::result::Result<FlowStatus, String> {
    match v {
        Value::String(s) => s.parse().map_err(|_| format!("unknown status {s:?}")),
        other => Err(format!(
            "\"status\" is a {}, not a string",
            json_kind(other)
        )),
    }
}
