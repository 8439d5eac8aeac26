//! `motia-state gc`: a dry run by default, `--yes` to apply.

use std::time::Duration;

use motia_state::adapter::gc::{GcAction, GcFlags, GcPlan, GcSelection};
use motia_state::adapter::journal::After;
use motia_state::adapter::records::FlowStatus;
use motia_state::adapter::stats::AgeSource;
use motia_state::adapter::stats::KeySource;
use motia_state::escape::line_str;
use motia_state::{Error, format_duration};

use crate::browser::format::{human_bytes, noun};
use crate::cli::journal::before_write_confirmed;
use crate::cli::out::{Failure, Link, Out, exit, warn};
use crate::cli::progress::Progress;
use crate::journal::Planned;

type Outcome = Result<(), Failure>;

/// Checks the flags before anything connects.
fn parse(args: &GcFlags) -> Result<(GcSelection, GcAction), Failure> {
    args.parse().map_err(|e| match e {
        Error::Config { name, reason } if name == "gc" => {
            Failure::new(exit::BAD_INPUT, format!("gc {reason}"))
        }
        Error::Config { name, reason } => {
            Failure::new(exit::BAD_INPUT, format!("invalid {name}: {reason}"))
        }
        other => other.into(),
    })
}

fn status_word(s: Option<FlowStatus>) -> &'static str {
    match s {
        Some(FlowStatus::Running) => "running",
        Some(FlowStatus::Completed) => "completed",
        Some(FlowStatus::Failed) => "failed",
        Some(FlowStatus::Unknown) => "unknown",
        None => "no records",
    }
}

fn age_text(age: Option<i64>, source: AgeSource) -> String {
    match (age, source) {
        (Some(ms), AgeSource::Records) => {
            format!(
                "{} (records)",
                format_duration(Duration::from_millis(ms as u64))
            )
        }
        (Some(ms), _) => format!(
            "{} (idle)",
            format_duration(Duration::from_millis(ms as u64))
        ),
        (None, _) => "age unknown".into(),
    }
}

fn bytes_text(b: Option<u64>) -> String {
    b.map_or_else(|| "? bytes".into(), human_bytes)
}

/// "delete 3 keys (1 KiB) in 2 traces" / "give ... a TTL of 1d", in the tense asked.
fn what(action: GcAction, past: bool, keys: u64, bytes: &str, traces: &str) -> String {
    let keys = format!("{keys} {}", noun(keys, "key", "keys"));
    match (action, past) {
        (GcAction::Delete, false) => format!("delete {keys} ({bytes}) in {traces}"),
        (GcAction::Delete, true) => format!("deleted {keys} ({bytes}) in {traces}"),
        (GcAction::Expire(d), false) => format!(
            "give {keys} ({bytes}) in {traces} a TTL of {}",
            format_duration(d)
        ),
        (GcAction::Expire(d), true) => format!(
            "gave {keys} ({bytes}) in {traces} a TTL of {}",
            format_duration(d)
        ),
    }
}

fn acting_traces(plan: &GcPlan) -> usize {
    plan.traces
        .iter()
        .filter(|t| t.acting_keys().next().is_some())
        .count()
}

/// The dry run's lines: one per trace, then the total.
pub fn plan_lines(plan: &GcPlan) -> Vec<String> {
    let mut l = Vec::new();
    let (keys, bytes) = plan.totals();
    for t in &plan.traces {
        let n = t.acting_keys().count();
        if n == 0 {
            continue;
        }
        l.push(format!(
            "{}  {}  {}  {n} {}  {}",
            line_str(&t.trace_id),
            status_word(t.status),
            age_text(t.age_ms, t.age_source),
            noun(n as u64, "key", "keys"),
            bytes_text(t.bytes()),
        ));
    }
    let seen = plan.traces_seen;
    let traces = format!(
        "{} of {seen} {}",
        acting_traces(plan),
        noun(seen, "trace", "traces")
    );
    l.push(format!(
        "total: would {}",
        what(plan.action, false, keys, &bytes_text(bytes), &traces)
    ));
    l.extend(notes(plan));
    l
}

fn notes(plan: &GcPlan) -> Vec<String> {
    let mut l = Vec::new();
    if plan.expiring_sooner() > 0 {
        let n = plan.expiring_sooner();
        l.push(format!(
            "{n} {} already {} sooner and {} {} TTL",
            noun(n, "key", "keys"),
            noun(n, "expires", "expire"),
            noun(n, "keeps", "keep"),
            noun(n, "its", "their"),
        ));
    }
    if plan.running_skipped > 0 {
        let n = plan.running_skipped;
        l.push(format!(
            "{n} running {} left alone (--status any includes {})",
            noun(n, "flow", "flows"),
            noun(n, "it", "them"),
        ));
    }
    if !plan.idle_time_available {
        l.push(
            "idle times are not available (LFU policy or OBJECT refused): traces without records have no age"
                .into(),
        );
    }
    l
}

pub async fn run(link: Link, args: GcFlags) -> Outcome {
    let (selection, action) = parse(&args)?;
    if args.yes && link.config.read_only {
        return Err(Failure::new(
            exit::BAD_INPUT,
            "refused: gc --yes writes to Redis and --read-only is given; nothing was changed (drop --yes for a dry run)",
        ));
    }
    let state = link.state()?;
    let mut progress = Progress::new("reading keys");
    let plan = state
        .gc_plan(KeySource::Scan, &selection, action, |done, total| {
            progress.update(done, total)
        })
        .await?;
    progress.finish();
    if plan.idle_time_available
        && let Some(w) = state.no_touch().warning()
    {
        warn(&w);
    }
    let mut out = Out::new();
    if !args.yes {
        for line in plan_lines(&plan) {
            out.line(&line)?;
        }
        let (keys, _) = plan.totals();
        if keys > 0 {
            out.line("dry run: nothing was changed; add --yes to apply")?;
        }
        return out.done();
    }
    let (keys, _) = plan.totals();
    let after = match action {
        GcAction::Delete => After::Absent,
        GcAction::Expire(_) => After::Same,
    };
    let changes = plan
        .traces
        .iter()
        .flat_map(|t| t.acting_keys())
        .map(|k| Planned::key(k.full_key_bytes.clone(), after.clone()))
        .collect();
    before_write_confirmed(&state, "gc", changes, true, None).await?;
    let plan = match crate::journal::current() {
        Some(_) => crate::journal::after_capture(&plan),
        None => plan,
    };
    let mut progress = Progress::new("writing");
    let report = state
        .gc_apply(&plan, |done, total| progress.update(done, total))
        .await?;
    progress.finish();
    let n = acting_traces(&plan);
    let traces = format!("{n} {}", noun(n as u64, "trace", "traces"));
    out.line(&what(
        action,
        true,
        report.written,
        &human_bytes(report.bytes),
        &traces,
    ))?;
    if report.expiring_sooner > 0 {
        let n = report.expiring_sooner;
        out.line(&format!(
            "{n} {} already {} sooner and {} {} TTL",
            noun(n, "key", "keys"),
            noun(n, "expires", "expire"),
            noun(n, "keeps", "keep"),
            noun(n, "its", "their"),
        ))?;
    }
    if report.gone > 0 {
        let n = report.gone;
        out.line(&format!(
            "{n} {} gone already",
            noun(n, "key was", "keys were")
        ))?;
    }
    if !report.changed.is_empty() {
        out.line(&format!(
            "skipped {} of {keys} {} that changed after {} selected:",
            report.changed.len(),
            noun(keys, "key", "keys"),
            noun(report.changed.len() as u64, "it was", "they were"),
        ))?;
        for k in &report.changed {
            out.line(&format!("  {}", line_str(k)))?;
        }
    }
    if plan.running_skipped > 0 {
        let n = plan.running_skipped;
        out.line(&format!(
            "{n} running {} left alone",
            noun(n, "flow", "flows")
        ))?;
    }
    out.done()
}
