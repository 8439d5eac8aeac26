//! The timeline of the selected flow: its steps in start order, a retried step's attempts on
//! one row, a step's events below it when opened.

use std::collections::HashSet;
use std::sync::Arc;

use motia_state::adapter::traces::{Timeline, TraceRecords};

use crate::browser::model::list::ListState;

/// One line of the timeline list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlLine {
    /// A step (index into `Timeline::rows`).
    Row(usize),
    /// One attempt of a retried step (index into `TraceRecords::steps`).
    Attempt { row: usize, step: usize },
    /// An event of a step execution.
    Event { step: usize, event: usize },
}

/// The Timeline view (in place of the keys).
#[derive(Debug, Default)]
pub struct TimelineView {
    pub trace: Box<str>,
    /// The read in flight; answers with another id are stale.
    pub request: Option<u64>,
    pub records: Option<Arc<TraceRecords>>,
    pub timeline: Timeline,
    pub error: Option<String>,
    pub lines: Vec<TlLine>,
    pub list: ListState,
    /// Retried steps whose attempts are listed, by their first attempt's id.
    pub open_rows: HashSet<String>,
    /// Step executions whose events are listed, by id.
    pub open_steps: HashSet<String>,
    /// Scroll of the detail in the Value pane.
    pub detail_scroll: usize,
}

impl TimelineView {
    pub fn new(trace: &str) -> Self {
        Self {
            trace: trace.into(),
            ..Self::default()
        }
    }

    /// The lines, from the rows and what is open.
    pub fn build_lines(&mut self) {
        let mut lines = Vec::new();
        if let Some(records) = &self.records {
            let events = |lines: &mut Vec<TlLine>, step: usize| {
                let s = &records.steps[step];
                if self.open_steps.contains(&s.id) {
                    lines.extend((0..s.events.len()).map(|event| TlLine::Event { step, event }));
                }
            };
            for (r, row) in self.timeline.rows.iter().enumerate() {
                lines.push(TlLine::Row(r));
                if row.attempts.len() > 1 {
                    let first = &records.steps[row.attempts[0]].id;
                    if self.open_rows.contains(first) {
                        for &step in &row.attempts {
                            lines.push(TlLine::Attempt { row: r, step });
                            events(&mut lines, step);
                        }
                    }
                } else if let Some(&step) = row.attempts.first() {
                    events(&mut lines, step);
                }
            }
        }
        self.lines = lines;
    }

    /// The step execution a line is about (a row: its last attempt).
    pub fn step_of(&self, line: TlLine) -> Option<usize> {
        match line {
            TlLine::Row(r) => self.timeline.rows.get(r)?.attempts.last().copied(),
            TlLine::Attempt { step, .. } | TlLine::Event { step, .. } => Some(step),
        }
    }

    pub fn cursor_line(&self) -> Option<TlLine> {
        self.lines.get(self.list.cursor).copied()
    }
}
