//! What hygiene needs from Motia's trace records: a flow's last activity and status, read with
//! the trace reader ([`crate::adapter::traces`]).

use std::collections::HashMap;

use crate::adapter::RedisStateAdapter;
use crate::adapter::conn::Retry;
use crate::adapter::error::Result;
pub use crate::adapter::traces::FlowStatus;
use crate::adapter::traces::{TraceGroup, TraceLimits};

/// Step documents are small; a big one is read by its ends, which hold its times and status.
const LIMITS: TraceLimits = TraceLimits {
    bytes: 64 * 1024,
    steps: 2_000,
    header_bytes: 32 * 1024 * 1024,
    after_events: true,
};

/// What the records say about one flow.
///
/// ```
/// use motia_state::adapter::records::{FlowRecord, FlowStatus};
/// let r = FlowRecord { last_activity_ms: Some(1_765_432_105_190), status: Some(FlowStatus::Completed), steps: true };
/// assert_ne!(r.status, Some(FlowStatus::Running));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowRecord {
    /// The latest time the records mention (epoch ms): step starts and ends, events, and what
    /// the group record holds.
    pub last_activity_ms: Option<i64>,
    /// The flow's status: derived from its steps, else what an older group record stored.
    pub status: Option<FlowStatus>,
    /// The flow's step records exist. Without them (they expire 3 days after the flow's last
    /// write, while the group hash lists the flow on) the records are "gone".
    pub steps: bool,
}

impl RedisStateAdapter {
    /// The records of the given flows: their group entries (one `HMGET` per batch) and step
    /// documents. Flows with neither are absent from the map; unreadable records count as
    /// existing but tell nothing.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let records = state.flow_records(&["QH7KD-2104821".to_string()]).await?;
    /// if let Some(r) = records.get("QH7KD-2104821") {
    ///     println!("last activity {:?}, status {:?}", r.last_activity_ms, r.status);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn flow_records(&self, trace_ids: &[String]) -> Result<HashMap<String, FlowRecord>> {
        let mut out = HashMap::new();
        let groups_key = self.trace_groups_key();
        for chunk in trace_ids.chunks(1000) {
            let mut cmd = redis::cmd("HMGET");
            cmd.arg(&groups_key).arg(chunk);
            let groups: Vec<Option<Vec<u8>>> = match self
                .conn
                .query(&cmd, Retry::Safe, &format!("HMGET {groups_key}"))
                .await
            {
                Ok(g) => g,
                // Not a hash: no group records to use. A refusal is said, not taken for
                // "no records" (gc --no-records would select flows it could not read).
                Err(e) if !e.is_connection() && !e.is_permission() => vec![None; chunk.len()],
                Err(e) => return Err(e),
            };
            let steps = self.read_traces(chunk, LIMITS).await?;
            for ((id, group), rec) in chunk.iter().zip(groups).zip(steps) {
                let group = group.map(|b| TraceGroup::parse(id, &b).ok());
                if group.is_none() && !rec.exists() {
                    continue;
                }
                let group = group.flatten();
                let times = rec
                    .steps
                    .iter()
                    .flat_map(|s| {
                        [Some(s.start_time), s.end_time]
                            .into_iter()
                            .chain(s.events.iter().map(|e| e.timestamp))
                    })
                    .chain(
                        group
                            .iter()
                            .flat_map(|g| [g.start_time, g.end_time, g.last_activity]),
                    );
                out.insert(
                    id.clone(),
                    FlowRecord {
                        last_activity_ms: times.flatten().max(),
                        status: rec.status().or(group.and_then(|g| g.status)),
                        steps: rec.exists(),
                    },
                );
            }
        }
        Ok(out)
    }
}
