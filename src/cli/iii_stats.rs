//! `motia-state stats` on the iii layout: fields and bytes per scope, the biggest scopes and
//! fields (no ages: the layout has no records and no TTL).

use motia_state::IiiState;
use motia_state::adapter::layout::iii_stats::IiiStats;
use motia_state::escape::line_str;

use crate::browser::format::{human_bytes, noun};
use crate::cli::out::{Failure, Out, exit};
use crate::cli::progress::Progress;

pub async fn run(iii: &IiiState, json: bool) -> Result<(), Failure> {
    let mut progress = Progress::new("reading scopes");
    let stats = iii
        .stats(|done, total| progress.update(done, total))
        .await?;
    progress.finish();
    let mut out = Out::new();
    if json {
        let mut v = serde_json::to_value(&stats)
            .map_err(|e| Failure::new(exit::SERVER, format!("cannot encode the figures: {e}")))?;
        if let Some(m) = v.as_object_mut() {
            m.insert("layout".into(), "iii".into());
        }
        let text = serde_json::to_string_pretty(&v)
            .map_err(|e| Failure::new(exit::SERVER, format!("cannot encode the figures: {e}")))?;
        out.line(&text)?;
    } else {
        for line in table(&stats, iii.adapter().addr()) {
            out.line(&line)?;
        }
    }
    out.done()
}

/// The readable table.
pub fn table(s: &IiiStats, addr: &str) -> Vec<String> {
    let mut l = vec![format!(
        "Motia 1.x / iii state (state:{{scope}} hashes) on {addr}"
    )];
    l.push(format!(
        "  {:<14}{} {} in {} {}, {}",
        "state",
        s.fields,
        noun(s.fields, "key", "keys"),
        s.scopes,
        noun(s.scopes, "scope", "scopes"),
        human_bytes(s.bytes)
    ));
    l.push(format!(
        "  {:<14}{} {} in {} {}",
        "streams",
        s.stream_items,
        noun(s.stream_items, "item", "items"),
        s.stream_groups,
        noun(s.stream_groups, "group", "groups")
    ));
    l.push("  (no ages or expiries: the engine keeps no records in Redis and sets no TTL)".into());
    if !s.biggest_scopes.is_empty() {
        l.push(String::new());
        l.push("Biggest scopes".into());
        for b in &s.biggest_scopes {
            l.push(format!(
                "  {:>10}  {:>8} {}  {}",
                human_bytes(b.bytes),
                b.fields,
                noun(b.fields, "key", "keys"),
                line_str(&b.scope)
            ));
        }
    }
    if !s.biggest_fields.is_empty() {
        l.push(String::new());
        l.push("Biggest keys".into());
        for b in &s.biggest_fields {
            l.push(format!(
                "  {:>10}  {}  {}",
                human_bytes(b.bytes),
                line_str(&b.scope),
                line_str(&b.key)
            ));
        }
    }
    l
}
