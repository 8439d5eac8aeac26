//! Finding a state group's writes in the records of every flow: a step writes to any group
//! (`state.set('orders', id, ..)`), and its events are kept under the flow's own trace id, so
//! a group that is not a trace id is found only by reading the other flows' records.

use crate::adapter::RedisStateAdapter;
use crate::adapter::error::Result;
use crate::adapter::traces::read::{TraceLimits, TraceRecords};
use crate::adapter::traces::record::{EventKind, Trace};

/// How much a search may read.
///
/// ```
/// use motia_state::adapter::traces::SearchLimits;
/// assert!(SearchLimits::default().flows >= 1_000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchLimits {
    /// Flows read at most, the newest first (by the group's start time).
    pub flows: usize,
    /// The budget of each flow's read.
    pub per_flow: TraceLimits,
}

impl Default for SearchLimits {
    fn default() -> Self {
        Self {
            flows: 5_000,
            per_flow: TraceLimits {
                bytes: 1024 * 1024,
                steps: 2_000,
                header_bytes: 4 * 1024 * 1024,
                after_events: true,
            },
        }
    }
}

/// What a search of the flows' records for one group found, and what it read.
///
/// ```
/// use motia_state::adapter::traces::GroupSearch;
/// let s = GroupSearch::default();
/// assert_eq!((s.searched, s.listed), (0, 0));
/// assert!(s.is_complete());
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GroupSearch {
    /// The steps (of any flow) with a state event of the group, in start order: pass to
    /// [`crate::adapter::traces::key_history`] with the group.
    pub records: TraceRecords,
    /// The trace id of each step of `records` (as [`crate::escape::shown`] gives it).
    pub flows: Vec<String>,
    /// Flows whose records were read.
    pub searched: usize,
    /// Flows the group hash lists (all a search could read).
    pub listed: usize,
    /// Step documents left unread or unreadable in the flows searched.
    pub not_read: usize,
}

impl GroupSearch {
    /// True when every listed flow was searched.
    ///
    /// ```
    /// use motia_state::adapter::traces::GroupSearch;
    /// let s = GroupSearch { searched: 10, listed: 12, ..Default::default() };
    /// assert!(!s.is_complete());
    /// ```
    pub fn is_complete(&self) -> bool {
        self.searched >= self.listed
    }

    /// The trace id of the flow whose records hold `records.steps[step_index]`.
    ///
    /// ```
    /// use motia_state::adapter::traces::GroupSearch;
    /// assert_eq!(GroupSearch::default().flow_of(0), None);
    /// ```
    pub fn flow_of(&self, step_index: usize) -> Option<&str> {
        self.flows.get(step_index).map(String::as_str)
    }
}

fn touches(step: &Trace, group: &str) -> bool {
    step.events
        .iter()
        .any(|e| matches!(&e.kind, EventKind::State { group: Some(g), .. } if g == group))
}

impl RedisStateAdapter {
    /// Reads the records of the flows the group hash lists (the newest first, within
    /// `limits`) and keeps the steps with a state event of `group`. `skip` (a flow already
    /// read, exact bytes) is left out. `progress(done, total)` follows each batch of flows.
    ///
    /// ```no_run
    /// use motia_state::adapter::traces::{SearchLimits, key_history};
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let found = state
    ///     .search_group_records("orders", None, SearchLimits::default(), |done, total| {
    ///         eprintln!("{done}/{total} flows");
    ///     })
    ///     .await?;
    /// for e in key_history(&found.records, "orders", "ord_1", false) {
    ///     println!("{} {} in {:?}", e.operation, e.step, found.flow_of(e.step_index));
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn search_group_records(
        &self,
        group: &str,
        skip: Option<&[u8]>,
        limits: SearchLimits,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<GroupSearch> {
        let mut groups = self.scan_trace_groups().collect_all().await?;
        groups.retain(|g| Some(g.trace_id_bytes.as_slice()) != skip);
        // Newest first; flows without a readable start last, then by id for a stable order.
        groups.sort_by(|a, b| {
            let start = |g: &crate::adapter::traces::GroupEntry| {
                g.group.as_ref().ok().and_then(|g| g.start_time)
            };
            (start(b).is_some(), start(b))
                .cmp(&(start(a).is_some(), start(a)))
                .then_with(|| a.trace_id_bytes.cmp(&b.trace_id_bytes))
        });
        let mut out = GroupSearch {
            listed: groups.len(),
            ..GroupSearch::default()
        };
        out.records.trace_id = group.to_string();
        let ids: Vec<Vec<u8>> = groups
            .into_iter()
            .take(limits.flows)
            .map(|g| g.trace_id_bytes)
            .collect();
        let total = ids.len();
        progress(0, total);
        for chunk in ids.chunks(100) {
            for rec in Box::pin(self.read_traces(chunk, limits.per_flow)).await? {
                out.not_read += rec.not_read + rec.unreadable.len();
                for step in rec.steps.into_iter().filter(|s| touches(s, group)) {
                    out.records.steps.push(step);
                    out.flows.push(rec.trace_id.clone());
                }
            }
            out.searched += chunk.len();
            progress(out.searched, total);
        }
        // Start order across flows, each step's flow kept beside it.
        let mut order: Vec<usize> = (0..out.records.steps.len()).collect();
        order.sort_by(|&a, &b| {
            let (x, y) = (&out.records.steps[a], &out.records.steps[b]);
            (x.start_time, &x.id).cmp(&(y.start_time, &y.id))
        });
        let mut steps: Vec<Option<Trace>> = std::mem::take(&mut out.records.steps)
            .into_iter()
            .map(Some)
            .collect();
        let flows = std::mem::take(&mut out.flows);
        for i in order {
            if let Some(s) = steps[i].take() {
                out.records.steps.push(s);
                out.flows.push(flows[i].clone());
            }
        }
        Ok(out)
    }
}
