//! `motia-state gc`: a dry run by default, `--yes` to apply.

use std::time::Duration;

use motia_state::adapter::gc::{GcAction, GcPlan, GcSelection, StatusFilter};
use motia_state::adapter::records::FlowStatus;
use motia_state::adapter::stats::AgeSource;
use motia_state::{Config, Error, Expiry, RedisStateAdapter, format_duration};

use crate::browser::format::human_bytes;
use crate::cli::commands::{Failure, Out, exit};
use crate::cli::progress::Progress;

type Outcome = Result<(), Failure>;

/// The flags of `gc`, as typed.
#[derive(Debug, Clone, Default)]
pub struct GcArgs {
    pub older_than: Option<String>,
    pub status: Option<String>,
    pub no_records: bool,
    pub no_ttl: bool,
    pub expire: Option<String>,
    pub delete: bool,
    pub yes: bool,
}

fn bad(message: impl Into<String>) -> Failure {
    Failure::new(exit::BAD_INPUT, message)
}

/// A positive duration for `flag` (`persist` makes no sense here).
fn duration(flag: &str, text: &str) -> Result<Duration, Failure> {
    match text.parse::<Expiry>() {
        Ok(Expiry::After(d)) => Ok(d),
        Ok(Expiry::Persist) => Err(bad(format!(
            "invalid {flag} {text:?}: give a duration such as 90s, 10m, 2h or 7d"
        ))),
        Err(Error::InvalidDuration { reason, .. }) => {
            Err(bad(format!("invalid {flag} {text:?}: {reason}")))
        }
        Err(e) => Err(e.into()),
    }
}

/// Checks the flags before anything connects; also what the browser's `:gc` parses.
pub fn parse(args: &GcArgs) -> Result<(GcSelection, GcAction), Failure> {
    let older_than = args
        .older_than
        .as_deref()
        .map(|t| duration("--older-than", t))
        .transpose()?;
    let status = match args.status.as_deref() {
        None => StatusFilter::Finished,
        Some(s) if args.no_records => {
            return Err(bad(format!(
                "--status {s} applies to flows with records; --no-records selects traces without them"
            )));
        }
        Some(s) => s.parse::<StatusFilter>().map_err(|e| match e {
            Error::Config { reason, .. } => bad(format!("invalid --status: {reason}")),
            other => other.into(),
        })?,
    };
    let selection = GcSelection {
        older_than,
        status,
        no_records: args.no_records,
        no_ttl: args.no_ttl,
    };
    if selection.validate().is_err() {
        return Err(bad(
            "gc needs --older-than DURATION or --no-records (or both) to know which traces",
        ));
    }
    let action = match (&args.expire, args.delete) {
        (Some(_), true) => return Err(bad("choose one of --expire DURATION and --delete")),
        (Some(d), false) => GcAction::Expire(duration("--expire", d)?),
        (None, true) => GcAction::Delete,
        (None, false) => {
            return Err(bad(
                "gc needs an action: --expire DURATION (adds a TTL) or --delete",
            ));
        }
    };
    Ok((selection, action))
}

fn status_word(s: Option<FlowStatus>) -> &'static str {
    match s {
        Some(FlowStatus::Running) => "running",
        Some(FlowStatus::Completed) => "completed",
        Some(FlowStatus::Failed) => "failed",
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
    match (action, past) {
        (GcAction::Delete, false) => format!("delete {keys} keys ({bytes}) in {traces}"),
        (GcAction::Delete, true) => format!("deleted {keys} keys ({bytes}) in {traces}"),
        (GcAction::Expire(d), false) => format!(
            "give {keys} keys ({bytes}) in {traces} a TTL of {}",
            format_duration(d)
        ),
        (GcAction::Expire(d), true) => format!(
            "gave {keys} keys ({bytes}) in {traces} a TTL of {}",
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
            "{}  {}  {}  {} keys  {}",
            t.trace_id,
            status_word(t.status),
            age_text(t.age_ms, t.age_source),
            n,
            bytes_text(t.bytes()),
        ));
    }
    let traces = format!("{} of {} traces", acting_traces(plan), plan.traces_seen);
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
        l.push(format!(
            "{} keys already expire sooner and keep their TTL",
            plan.expiring_sooner()
        ));
    }
    if plan.running_skipped > 0 {
        l.push(format!(
            "{} running flows left alone (--status any includes them)",
            plan.running_skipped
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

pub async fn run(config: Config, args: GcArgs) -> Outcome {
    let (selection, action) = parse(&args)?;
    if args.yes && config.read_only {
        return Err(bad(
            "refused: gc --yes writes to Redis and --read-only is given; nothing was changed (drop --yes for a dry run)",
        ));
    }
    let state = RedisStateAdapter::connect(config).await?;
    let mut progress = Progress::new("reading keys");
    let plan = state
        .gc_plan(&selection, action, |done, total| {
            progress.update(done, total)
        })
        .await?;
    progress.finish();
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
    let mut progress = Progress::new("writing");
    let report = state
        .gc_apply(&plan, |done, total| progress.update(done, total))
        .await?;
    progress.finish();
    let traces = format!("{} traces", acting_traces(&plan));
    out.line(&what(
        action,
        true,
        report.written,
        &human_bytes(report.bytes),
        &traces,
    ))?;
    if report.expiring_sooner > 0 {
        out.line(&format!(
            "{} keys already expire sooner and keep their TTL",
            report.expiring_sooner
        ))?;
    }
    if report.gone > 0 {
        out.line(&format!("{} keys were gone already", report.gone))?;
    }
    if !report.changed.is_empty() {
        out.line(&format!(
            "skipped {} of {keys} keys that changed after they were selected:",
            report.changed.len()
        ))?;
        for k in &report.changed {
            out.line(&format!("  {k}"))?;
        }
    }
    if plan.running_skipped > 0 {
        out.line(&format!(
            "{} running flows left alone",
            plan.running_skipped
        ))?;
    }
    out.done()
}
