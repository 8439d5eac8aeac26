//! What a flow's records say about its status as a whole: the final attempt of each step
//! decides, and a flow without step records is either too young to have them or expired.

use std::collections::HashMap;
use std::fmt;

use crate::adapter::traces::record::{FlowStatus, Trace};

impl FlowStatus {
    /// A flow's status from each step's final attempt: step records are grouped by step name
    /// and the latest by start time (the last given, at equal times) decides for its step. A
    /// step that failed and then completed on a retry counts completed; then failed if any
    /// step's last attempt failed, else running if any runs, else completed. `None` without
    /// steps.
    ///
    /// ```
    /// use motia_state::adapter::traces::{FlowStatus, Trace};
    /// let step = |id: &str, start: i64, status: &str| Trace::parse(id, format!(
    ///     r#"{{"name":"Pay","status":"{status}","startTime":{start}}}"#).as_bytes()).unwrap();
    /// let retried = [step("a", 1, "failed"), step("b", 9, "completed")];
    /// assert_eq!(FlowStatus::of_final_attempts(&retried), Some(FlowStatus::Completed));
    /// assert_eq!(FlowStatus::derive(retried.iter().map(|s| s.status)), Some(FlowStatus::Failed));
    /// ```
    pub fn of_final_attempts<'a>(steps: impl IntoIterator<Item = &'a Trace>) -> Option<FlowStatus> {
        let mut last: HashMap<&str, (i64, FlowStatus)> = HashMap::new();
        for s in steps {
            let e = last
                .entry(s.name.as_str())
                .or_insert((s.start_time, s.status));
            if s.start_time >= e.0 {
                *e = (s.start_time, s.status);
            }
        }
        Self::derive(last.into_values().map(|(_, s)| s))
    }
}

/// Why a flow the group hash lists has no step records. Motia keeps both hashes 3 days after
/// their last write, so a flow that started more recently cannot have lost its records: its
/// steps have not written any yet.
///
/// ```
/// use motia_state::adapter::traces::MissingRecords;
/// let now = 1_765_432_104_821;
/// assert_eq!(MissingRecords::of(Some(now - 5_000), now), MissingRecords::NotYet);
/// assert_eq!(MissingRecords::of(Some(now - 4 * 86_400_000), now), MissingRecords::Expired);
/// assert_eq!(MissingRecords::of(None, now).to_string(), "no step records");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingRecords {
    /// It started within the retention: no step has written its record yet.
    NotYet,
    /// It started longer ago than the retention: the records expired.
    Expired,
    /// The group record has no (valid) start time: either may be true.
    Unknown,
}

impl MissingRecords {
    /// How long Motia keeps trace records after their last write: 3 days.
    pub const RETENTION_MS: i64 = 3 * 24 * 3600 * 1000;

    /// Which, for a flow whose group record says it started at `start_time` (epoch ms).
    ///
    /// ```
    /// use motia_state::adapter::traces::MissingRecords;
    /// assert_eq!(MissingRecords::of(Some(0), 1), MissingRecords::NotYet);
    /// ```
    pub fn of(start_time: Option<i64>, now_ms: i64) -> Self {
        match start_time {
            None => MissingRecords::Unknown,
            Some(t) if now_ms.saturating_sub(t) > Self::RETENTION_MS => MissingRecords::Expired,
            Some(_) => MissingRecords::NotYet,
        }
    }
}

impl fmt::Display for MissingRecords {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MissingRecords::NotYet => "no step records yet",
            MissingRecords::Expired => "step records expired",
            MissingRecords::Unknown => "no step records",
        })
    }
}
