//! The stats view and `:gc`: plain calls of `update`, and frame snapshots.

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::KeyCode;
use motia_state::adapter::gc::{GcAction, GcPlan, PlannedKey, PlannedTrace};
use motia_state::adapter::records::FlowStatus;
use motia_state::adapter::stats::{
    AgeBucket, AgeSource, KeyTtl, ServerMemory, Stats, TopKey, TopTrace, TtlBucket,
};

use super::*;
use crate::browser::action::WriteOp;
use crate::browser::model::dialog::Dialog;
use crate::browser::model::keys::Selected;

fn sample(complete: bool) -> Stats {
    let age = |label: &str, traces, keys, bytes| AgeBucket {
        label: label.into(),
        traces,
        keys,
        bytes: Some(bytes),
    };
    let ttl = |label: &str, keys, bytes| TtlBucket {
        label: label.into(),
        keys,
        bytes: Some(bytes),
    };
    Stats {
        keys: 7,
        traces: 3,
        bytes: Some(6_400),
        keys_without_ttl: Some(5),
        bytes_without_ttl: Some(5_100),
        share_of_server_memory: Some(0.0042),
        age_buckets: vec![
            age("under 1 h", 1, 1, 100),
            age("1 h to 1 d", 0, 0, 0),
            age("1 to 3 d", 0, 0, 0),
            age("3 to 7 d", 1, 2, 1_300),
            age("older", 1, 4, 5_000),
            age("unknown", 0, 0, 0),
        ],
        ttl_buckets: vec![
            ttl("none", 5, 5_100),
            ttl("under 1 h", 1, 100),
            ttl("1 h to 1 d", 0, 0),
            ttl("1 to 3 d", 1, 1_200),
            ttl("3 to 7 d", 0, 0),
            ttl("longer", 0, 0),
        ],
        top_traces: vec![
            TopTrace {
                trace_id: "trace-a".into(),
                trace_id_base64: None,
                keys: 4,
                bytes: Some(5_000),
            },
            TopTrace {
                trace_id: "trace-b".into(),
                trace_id_base64: None,
                keys: 2,
                bytes: Some(1_300),
            },
            TopTrace {
                trace_id: "trace-c".into(),
                trace_id_base64: None,
                keys: 1,
                bytes: Some(100),
            },
        ],
        top_keys: vec![
            TopKey {
                trace_id: "trace-a".into(),
                trace_id_base64: None,
                key_base64: None,
                key: "user:1:profile".into(),
                bytes: Some(4_000),
            },
            TopKey {
                trace_id: "trace-b".into(),
                trace_id_base64: None,
                key_base64: None,
                key: "payment".into(),
                bytes: Some(1_200),
            },
        ],
        server: ServerMemory {
            used_memory: Some(1_500_000),
            peak_memory: Some(1_700_000),
            maxmemory: Some(1_800_000),
            policy: Some("noeviction".into()),
        },
        traces_with_records: 1,
        traces_by_idle_time: 2,
        idle_time_available: true,
        no_touch: motia_state::adapter::notouch::NoTouch::On,
        warnings: vec![
            "memory is 83% of maxmemory under noeviction: writes will fail once it is full".into(),
        ],
        complete,
    }
}

fn stats_request(fx: &[Effect]) -> (u64, Option<Vec<String>>) {
    fx.iter()
        .find_map(|f| match f {
            Effect::Worker(WorkerCmd::Stats { id, keys }) => Some((*id, keys.clone())),
            _ => None,
        })
        .expect("stats were asked for")
}

/// The loaded browser with the stats view open and its figures in.
fn with_stats(c: &Arc<ManualClock>) -> Model {
    let mut m = loaded(c);
    let (id, _) = stats_request(&update(&mut m, key('S')));
    ev(
        &mut m,
        WorkerEvent::Stats {
            id,
            result: Ok(Arc::new(sample(true))),
        },
    );
    m
}

#[test]
fn stats_read_the_complete_index_and_update_as_they_go() {
    let c = clock();
    let mut m = loaded(&c);
    let (id, keys) = stats_request(&update(&mut m, key('S')));
    let mut keys = keys.expect("the complete index's keys, no scan of its own");
    keys.sort();
    assert_eq!(keys.len(), 7);
    assert_eq!(keys[0], full("trace-a", "order"));
    let view = m.stats.as_ref().unwrap();
    assert!(view.running && view.from_index);

    // A snapshot while the walk goes on is shown; a stale request's answers are not.
    let mut partial = sample(false);
    partial.keys = 3;
    ev(
        &mut m,
        WorkerEvent::StatsProgress {
            id,
            done: 3,
            total: 7,
            stats: Some(Arc::new(partial)),
        },
    );
    assert_eq!(m.stats.as_ref().unwrap().stats.as_ref().unwrap().keys, 3);
    insta::assert_snapshot!("stats_running", screen(&m));
    ev(
        &mut m,
        WorkerEvent::Stats {
            id: id + 100,
            result: Err("old".into()),
        },
    );
    assert!(m.stats.as_ref().unwrap().running);
    ev(
        &mut m,
        WorkerEvent::Stats {
            id,
            result: Ok(Arc::new(sample(true))),
        },
    );
    let view = m.stats.as_ref().unwrap();
    assert!(!view.running && view.error.is_none());
    assert_eq!(view.rows().len(), 5);

    // While a scan runs, the view asks for a scan of its own.
    update(&mut m, key('S'));
    assert!(m.stats.is_none());
    update(&mut m, key('r'));
    let (_, keys) = stats_request(&update(&mut m, key('S')));
    assert!(keys.is_none());
}

#[test]
fn stats_frames() {
    let c = clock();
    let mut m = with_stats(&c);
    update(&mut m, Action::Resize(100, 30));
    insta::assert_snapshot!("stats_done", screen(&m));
    update(&mut m, Action::Resize(80, 24));
    update(&mut m, code(KeyCode::Down));
    insta::assert_snapshot!("stats_80x24", screen(&m));
    // Narrower, the totals shed the memory share (the gauge has it) rather than cut a figure.
    update(&mut m, Action::Resize(66, 24));
    let narrow = screen(&m);
    let totals = narrow.lines().nth(1).unwrap_or_default();
    assert!(
        totals.contains("7 keys · 3 traces · 6.2 KiB · no TTL: 5 keys, 5.0 KiB"),
        "{narrow}"
    );
    assert!(!narrow.contains("of used memory"), "{narrow}");
}

#[test]
fn enter_on_a_biggest_key_jumps_to_it() {
    let c = clock();
    let mut m = with_stats(&c);
    // Rows: trace-a, trace-b, trace-c, then the keys.
    for _ in 0..3 {
        update(&mut m, key('j'));
    }
    update(&mut m, code(KeyCode::Enter));
    assert!(m.stats.is_none(), "the view closes");
    assert_eq!(m.traces.selected.as_deref(), Some("trace-a"));
    assert_eq!(
        m.keys.selected,
        Some(Selected::Key("user:1:profile".into()))
    );
    assert_eq!(m.focus, Pane::Keys);

    let mut m = with_stats(&c);
    update(&mut m, key('j'));
    update(&mut m, code(KeyCode::Enter));
    assert_eq!(m.traces.selected.as_deref(), Some("trace-b"));
    assert_eq!(m.focus, Pane::Traces);
    // `:stats` opens it again; Esc closes it.
    update(&mut m, key(':'));
    typed(&mut m, "stats");
    let fx = update(&mut m, code(KeyCode::Enter));
    stats_request(&fx);
    update(&mut m, code(KeyCode::Esc));
    assert!(m.stats.is_none());
}

fn plan() -> GcPlan {
    let key = |k: &str, bytes| PlannedKey {
        full_key: full("trace-a", k),
        full_key_bytes: full("trace-a", k).into_bytes(),
        bytes: Some(bytes),
        ttl: KeyTtl::Persistent,
        idle_secs: Some(900_000),
        read_at_ms: 1,
        value: None,
        expires_sooner: false,
    };
    GcPlan {
        action: GcAction::Delete,
        traces: vec![PlannedTrace {
            trace_id: "trace-a".into(),
            status: None,
            age_ms: Some(10 * 86_400_000),
            age_source: AgeSource::IdleTime,
            keys: vec![key("order", 120), key("user:1:profile", 4_000)],
        }],
        traces_seen: 3,
        running_skipped: 0,
        idle_time_available: true,
    }
}

fn gc_request(fx: &[Effect]) -> u64 {
    fx.iter()
        .find_map(|f| match f {
            Effect::Worker(WorkerCmd::GcPlan { id, .. }) => Some(*id),
            _ => None,
        })
        .expect("a dry run was asked for")
}

#[test]
fn gc_shows_the_dry_run_then_asks_with_the_totals() {
    let c = clock();
    let mut m = with_stats(&c);
    update(&mut m, key(':'));
    typed(&mut m, "gc --no-records --older-than 7d --delete");
    let id = gc_request(&update(&mut m, code(KeyCode::Enter)));
    assert!(m.dialog.is_none(), "nothing to confirm before the dry run");
    ev(
        &mut m,
        WorkerEvent::GcPlanned {
            id,
            result: Ok(Arc::new(plan())),
        },
    );
    match &m.dialog {
        Some(Dialog::Confirm { text, .. }) => {
            assert!(
                text.starts_with("Delete 2 keys (4.0 KiB) in 1 trace?"),
                "{text}"
            )
        }
        _ => panic!("a confirmation"),
    }
    update(&mut m, Action::Resize(100, 30));
    insta::assert_snapshot!("stats_gc_confirm", screen(&m));
    let fx = update(&mut m, key('y'));
    let op = fx.iter().find_map(|f| match f {
        Effect::Worker(WorkerCmd::Write {
            op: WriteOp::Gc { plan },
            ..
        }) => Some(plan.clone()),
        _ => None,
    });
    assert_eq!(op.as_deref(), Some(&plan()));

    // Anything but y cancels; nothing is written.
    let mut m = with_stats(&c);
    update(&mut m, key(':'));
    typed(&mut m, "gc --no-records --delete");
    let id = gc_request(&update(&mut m, code(KeyCode::Enter)));
    ev(
        &mut m,
        WorkerEvent::GcPlanned {
            id,
            result: Ok(Arc::new(plan())),
        },
    );
    let fx = update(&mut m, key('n'));
    assert!(
        !fx.iter()
            .any(|f| matches!(f, Effect::Worker(WorkerCmd::Write { .. })))
    );
}

#[test]
fn gc_refuses_bad_flags_and_read_only_confirmations() {
    let c = clock();
    let mut m = with_stats(&c);
    update(&mut m, key(':'));
    typed(&mut m, "gc --delete");
    let fx = update(&mut m, code(KeyCode::Enter));
    assert!(!fx.iter().any(|f| matches!(f, Effect::Worker(_))));
    assert!(note_text(&m).contains("--older-than"), "{}", note_text(&m));

    let mut m = with_stats(&c);
    m.settings.read_only = true;
    update(&mut m, key(':'));
    typed(&mut m, "gc --older-than 1d --status any --expire 1h");
    let id = gc_request(&update(&mut m, code(KeyCode::Enter)));
    let mut p = plan();
    p.action = GcAction::Expire(Duration::from_secs(3600));
    p.traces[0].status = Some(FlowStatus::Running);
    ev(
        &mut m,
        WorkerEvent::GcPlanned {
            id,
            result: Ok(Arc::new(p)),
        },
    );
    assert!(m.dialog.is_none());
    assert!(note_text(&m).contains("dry run only"), "{}", note_text(&m));
}

#[test]
fn stats_bars_show_counts_unrounded_and_label_age_buckets_truthfully() {
    let c = clock();
    let mut m = loaded(&c);
    let (id, _) = stats_request(&update(&mut m, key('S')));
    let mut s = sample(true);
    s.age_buckets[1].traces = 1_740;
    s.ttl_buckets[2].keys = 12_345;
    ev(
        &mut m,
        WorkerEvent::Stats {
            id,
            result: Ok(Arc::new(s)),
        },
    );
    update(&mut m, Action::Resize(100, 30));
    let shown = screen(&m);
    // 1,740 traces of 1 h to 1 d: neither "1k" nor "<1d" (which would include the first hour).
    assert!(shown.contains("1h-1d 1,740"), "{shown}");
    assert!(shown.contains("1h-1d 12.3k"), "{shown}");
    assert!(!shown.contains("<1d") && !shown.contains(" 1k "), "{shown}");
}
