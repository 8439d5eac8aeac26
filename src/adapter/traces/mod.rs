//! Motia 0.x's trace records, kept in the same Redis as the state: `{trace_prefix}default`
//! lists the flows (one `TraceGroup` per trace id) and `{trace_prefix}{traceId}` holds one
//! `Trace` document per step execution, with every event of the step (each state `set` with
//! the whole value written).
//!
//! Everything here reads; nothing writes trace records. Documents of older versions (0.12 to
//! 0.17.3 stored status and counters in the group) are used as they are, and a document that
//! is not JSON or not the expected shape comes back as an [`Unreadable`] with the reason,
//! beside the ones that could be read.
//!
//! ```no_run
//! use motia_state::adapter::traces::{Timeline, TraceLimits};
//! # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
//! let groups = state.scan_trace_groups().collect_all().await?;
//! for flow in state.flow_summaries(groups, TraceLimits::default()).await? {
//!     println!("{} {:?} {:?}", flow.trace_id, flow.flow, flow.status);
//! }
//! let records = state.read_trace("QH7KD-2104821", TraceLimits::default()).await?;
//! for row in Timeline::new(&records, &state.dead_letters().await?).rows {
//!     println!("+{} ms {} {}", row.offset_ms, row.name, row.status);
//! }
//! # Ok(()) }
//! ```

mod dead_letter;
mod fields;
mod flow_status;
mod group_scan;
mod header;
mod headers;
mod key_writes;
mod pages;
mod read;
mod record;
pub mod records;
mod search;
mod starts;
mod status;
mod timeline;

pub use dead_letter::DeadLetter;
pub use group_scan::{GroupEntry, GroupScanner};
pub use key_writes::{KeyHistory, KeyTraceEvent};
pub use pages::TracePages;
pub use read::{FlowSummary, TraceLimits, TraceRecords};
pub use record::{
    EntryPoint, EventKind, FlowStatus, GroupCounts, Trace, TraceError, TraceEvent, TraceGroup,
    Unreadable,
};
pub use search::{GroupSearch, SearchLimits};
pub use status::MissingRecords;
pub use timeline::{HistoryEntry, Timeline, TimelineRow, key_history};
