//! The stats view (`S`, `:stats`): memory and TTL figures the worker computes in the
//! background, and a `:gc` dry run shown in it before anything is confirmed. On the iii layout
//! it holds that layout's figures (scopes, fields, bytes; no ages, no TTLs) instead.

use std::sync::Arc;

use motia_state::adapter::gc::{GcAction, GcPlan};
use motia_state::adapter::layout::iii_stats::IiiStats;
use motia_state::format_duration;

use crate::browser::format::{human_bytes, noun, thousands};
use motia_state::adapter::stats::Stats;

/// The open stats view.
#[derive(Debug, Clone, Default)]
pub struct StatsView {
    /// The request whose answers count (a newer one replaces it).
    pub request: u64,
    pub running: bool,
    /// Keys read and keys known so far.
    pub done: u64,
    pub total: u64,
    /// The figures: a snapshot while running, final when done.
    pub stats: Option<Arc<Stats>>,
    /// The iii layout's figures (names as the model's), when that layout is browsed.
    pub iii: Option<Arc<IiiStats>>,
    pub error: Option<String>,
    /// Read from the complete index's keys (no scan of its own).
    pub from_index: bool,
    /// The selected row of the top lists (traces first, then keys).
    pub cursor: usize,
    /// A `:gc` dry run, when one was asked for.
    pub gc: Option<GcRun>,
}

/// A `:gc` dry run.
#[derive(Debug, Clone, Default)]
pub struct GcRun {
    pub request: u64,
    /// The flags as typed.
    pub flags: String,
    pub running: bool,
    pub done: u64,
    pub total: u64,
    pub plan: Option<Arc<GcPlan>>,
    pub error: Option<String>,
}

/// A row of the top lists, to jump to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopRow {
    Trace(String),
    Key { trace: String, key: String },
}

impl StatsView {
    /// The selectable rows: the biggest traces (scopes), then the biggest keys (fields).
    pub fn rows(&self) -> Vec<TopRow> {
        if let Some(s) = &self.iii {
            return s
                .biggest_scopes
                .iter()
                .map(|b| TopRow::Trace(b.scope.clone()))
                .chain(s.biggest_fields.iter().map(|b| TopRow::Key {
                    trace: b.scope.clone(),
                    key: b.key.clone(),
                }))
                .collect();
        }
        let Some(s) = &self.stats else {
            return Vec::new();
        };
        s.top_traces
            .iter()
            .map(|t| TopRow::Trace(t.trace_id.clone()))
            .chain(s.top_keys.iter().map(|k| TopRow::Key {
                trace: k.trace_id.clone(),
                key: k.key.clone(),
            }))
            .collect()
    }
}

/// `delete 3 keys (1.0 KiB) in 2 traces` / `give ... a TTL of 1d`.
pub fn summary(plan: &GcPlan) -> String {
    let (keys, bytes) = plan.totals();
    let traces = plan
        .traces
        .iter()
        .filter(|t| t.acting_keys().next().is_some())
        .count();
    let bytes = bytes.map_or_else(|| "? bytes".into(), human_bytes);
    let what = format!(
        "{} {} ({bytes}) in {} {}",
        thousands(keys),
        noun(keys, "key", "keys"),
        thousands(traces as u64),
        noun(traces as u64, "trace", "traces")
    );
    match plan.action {
        GcAction::Delete => format!("delete {what}"),
        GcAction::Expire(d) => format!("give {what} a TTL of {}", format_duration(d)),
    }
}
