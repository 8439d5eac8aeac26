//! `motia-state history TRACE KEY --restore TIMESTAMP [--yes]`: writes back a value Motia's
//! trace records say a step set, compare-and-set against the value now, journalled.

use motia_state::adapter::journal::After;
use motia_state::{CasOutcome, KeySpace, escape, json};

use crate::cli::journal::before_write;
use crate::cli::out::{Failure, Link, Out, exit};
use crate::cli::traces::{key_records, time_text};
use crate::diff::{self, LineKind};
use crate::journal::Planned;

/// Epoch milliseconds from a timestamp as `history` prints it (`2026-01-02 10:00:00.123
/// +01:00`), RFC 3339, or epoch milliseconds.
pub fn parse_timestamp(text: &str) -> Result<i64, Failure> {
    let text = text.trim();
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(ms);
    }
    chrono::DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f %:z")
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(text))
        .map(|t| t.timestamp_millis())
        .map_err(|_| {
            Failure::new(
                exit::BAD_INPUT,
                format!(
                    "invalid --restore {text:?}: give a timestamp as history prints it \
                     (2026-01-02 10:00:00.123 +01:00), RFC 3339, or epoch milliseconds"
                ),
            )
        })
}

pub async fn run(link: Link, trace: &[u8], key: &[u8], at: &str, yes: bool) -> Result<(), Failure> {
    let config = &link.config;
    let full = KeySpace::new(config.key_prefix.clone()).full_key(trace, key)?;
    let at_ms = parse_timestamp(at)?;
    if yes && config.read_only {
        return Err(Failure::new(
            exit::BAD_INPUT,
            "refused: history --restore --yes writes to Redis and --read-only is given; nothing \
             was changed (drop --yes for a dry run)",
        ));
    }
    let Ok(key_text) = std::str::from_utf8(key) else {
        return Err(Failure::new(
            exit::NOT_FOUND,
            "no trace record can name a key that is not UTF-8 (Motia's records are JSON text)",
        ));
    };
    let state = link.state()?;
    let (entries, _) = key_records(&state, trace, key_text, false).await?;
    let Some(version) = entries
        .iter()
        .rev()
        .find(|e| e.timestamp == at_ms && e.operation == "set")
    else {
        return Err(Failure::new(
            exit::NOT_FOUND,
            format!(
                "no set of {} at {} in the trace records (motia-state history lists them)",
                escape::name(&full),
                time_text(at_ms)
            ),
        ));
    };
    let value = version.value.clone().unwrap_or(serde_json::Value::Null);
    let text = json::to_compact(&value);
    let now = state.get_raw(&full).await?;
    let mut out = Out::new();
    if now.as_deref() == Some(text.as_bytes()) {
        out.line(&format!(
            "{} already holds the value of {}; nothing to do",
            escape::name(&full),
            time_text(at_ms)
        ))?;
        return out.done();
    }
    let diff = diff::values(now.as_deref().unwrap_or(b""), text.as_bytes());
    out.line(&format!(
        "{} {} with the value {} set at {}:",
        if yes { "replacing" } else { "would replace" },
        escape::name(&full),
        version.step,
        time_text(at_ms)
    ))?;
    for (kind, text) in diff.lines_from(0) {
        let mark = match kind {
            LineKind::Same => ' ',
            LineKind::Added => '+',
            LineKind::Removed => '-',
        };
        out.line(&format!("{mark} {text}"))?;
    }
    if !yes {
        out.line("dry run: nothing was changed; add --yes to apply")?;
        return out.done();
    }
    before_write(
        &state,
        "restore",
        vec![Planned::key(
            full.clone(),
            After::Value(text.clone().into_bytes()),
        )],
    )
    .await?;
    match state.compare_and_set(&full, now.as_deref(), &text).await? {
        CasOutcome::Written => {
            out.line("restored")?;
            out.done()
        }
        CasOutcome::Conflict(_) => {
            out.done()?;
            Err(Failure::new(
                exit::BAD_INPUT,
                format!(
                    "{} changed while restoring; nothing was written (run it again to see the \
                     new diff)",
                    escape::name(&full)
                ),
            ))
        }
    }
}
