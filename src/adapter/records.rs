//! What hygiene needs from Motia's trace records: a flow's last activity and status.
//!
//! The records themselves are read by the trace reader; this is the narrow view `stats` and `gc`
//! use, so they do not depend on the shape of the records.

use std::collections::HashMap;

use super::RedisStateAdapter;
use crate::adapter::error::Result;

/// A flow's status as Motia's workbench derives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowStatus {
    /// A step is still running.
    Running,
    /// Every step completed.
    Completed,
    /// A step failed.
    Failed,
}

/// What the records say about one flow.
///
/// ```
/// use motia_state::adapter::records::{FlowRecord, FlowStatus};
/// let r = FlowRecord { last_activity_ms: Some(1_765_432_105_190), status: Some(FlowStatus::Completed) };
/// assert_ne!(r.status, Some(FlowStatus::Running));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowRecord {
    /// The latest time the records mention (epoch ms): step ends, events, starts.
    pub last_activity_ms: Option<i64>,
    /// The flow's status, when the records tell.
    pub status: Option<FlowStatus>,
}

impl RedisStateAdapter {
    /// The records of the given flows; flows without records are absent from the map.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let records = state.flow_records(&["QH7KD-2104821".to_string()]).await?;
    /// println!("{} of 1 flows have records", records.len());
    /// # Ok(()) }
    /// ```
    pub async fn flow_records(&self, trace_ids: &[String]) -> Result<HashMap<String, FlowRecord>> {
        // Filled from the trace reader once it is part of the library.
        let _ = trace_ids;
        Ok(HashMap::new())
    }
}
