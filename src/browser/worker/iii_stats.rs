//! The stats job on the iii layout: every scope's fields read once (`IiiState::stats`), with
//! its progress in scopes, the names of the biggest scopes and fields given as the model
//! names them so `Enter` reaches them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use motia_state::IiiState;
use motia_state::adapter::layout::iii_stats::IiiStats;

use crate::browser::action::WorkerEvent;
use crate::browser::worker::Events;
use crate::browser::worker::iii::group;

/// How often the progress is sent while the walk goes on.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

pub async fn run_stats(iii: IiiState, id: u64, events: Events) {
    let mut last = Instant::now();
    // Owned captures and a boxed `Send` future: rustc cannot otherwise prove the walk `Send`
    // for every lifetime, which a spawned task needs.
    let tx = events.clone();
    let walk: std::pin::Pin<Box<dyn Future<Output = motia_state::Result<IiiStats>> + Send + '_>> =
        Box::pin(iii.stats(move |done, total| {
            if last.elapsed() >= PROGRESS_EVERY {
                last = Instant::now();
                // A full queue drops a progress report; the next one or the result follows.
                let _ = tx.try_send(WorkerEvent::StatsProgress {
                    id,
                    done,
                    total,
                    stats: None,
                });
            }
        }));
    let result = walk.await;
    if let Err(e) = &result {
        tracing::warn!(error = %e, "iii stats failed");
    }
    let result = result
        .map(|s| Arc::new(model_names(s)))
        .map_err(|e| e.to_string());
    let _ = events.send(WorkerEvent::IiiStats { id, result }).await;
}

/// The figures with each scope and field named as in the model (exact, escaped).
fn model_names(mut s: IiiStats) -> IiiStats {
    for b in &mut s.biggest_scopes {
        b.scope = group(&b.scope_bytes);
    }
    for b in &mut s.biggest_fields {
        b.scope = group(&b.scope_bytes);
        b.key = motia_state::escape::name(&b.key_bytes).into_owned();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use motia_state::adapter::layout::iii_stats::{FieldSize, ScopeSize};

    #[test]
    fn names_are_the_models_exact_ones() {
        let s = IiiStats {
            biggest_scopes: vec![ScopeSize {
                scope: "orders:eu\u{fffd}".into(),
                fields: 1,
                bytes: 9,
                scope_bytes: b"orders:eu\xff".to_vec(),
            }],
            biggest_fields: vec![FieldSize {
                scope: "orders:eu".into(),
                key: "k\u{fffd}".into(),
                bytes: 3,
                scope_bytes: b"orders:eu".to_vec(),
                key_bytes: b"k\xff".to_vec(),
            }],
            ..IiiStats::default()
        };
        let s = model_names(s);
        assert_eq!(s.biggest_scopes[0].scope, "orders\\x3aeu\\xff");
        assert_eq!(
            (
                s.biggest_fields[0].scope.as_str(),
                s.biggest_fields[0].key.as_str()
            ),
            ("orders\\x3aeu", "k\\xff")
        );
    }
}
