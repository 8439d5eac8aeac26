//! Honest state at the edges (issue 8): names that are not UTF-8, selection kept by identity,
//! counts equal to the index, failures shown as failures, the command line's messages; and a
//! property test that drives `update` with random keys, worker events and sizes.

use std::collections::HashSet;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use super::*;
use crate::browser::action::{WriteOp, WriteOutcome};
use crate::browser::model::keys::{RowKind, Selected};
use crate::browser::model::notifications::ToastKind;

fn ctrl_key(c: char) -> Action {
    Action::Key(KeyEvent::new_with_kind(
        KeyCode::Char(c),
        KeyModifiers::CONTROL,
        KeyEventKind::Press,
    ))
}

fn type_text(m: &mut Model, text: &str) -> Vec<Effect> {
    let mut fx = Vec::new();
    for c in text.chars() {
        fx.extend(update(m, key(c)));
    }
    fx
}

fn cursor_key(m: &Model) -> Option<String> {
    m.cursor_key().map(str::to_string)
}

#[test]
fn names_that_are_not_utf8_are_indexed_escaped_and_reach_redis_exactly() {
    let c = clock();
    let mut m = model(&c);
    let g = scan_gen(&connect(&mut m));
    // What the worker sends: every full key by its escaped name.
    let keys: Vec<String> = [&b"motia:state:o1:k\xffx"[..], b"motia:state:new\nline:k"]
        .iter()
        .map(|k| motia_state::escape::name(k).into_owned())
        .collect();
    ev(
        &mut m,
        WorkerEvent::ScanBatch {
            generation: g,
            keys,
            seen: 2,
        },
    );
    assert_eq!(m.index.total_keys, 2);
    assert_eq!(
        m.traces.view,
        vec!["new\\nline".into(), "o1".into()] as Vec<Box<str>>
    );
    update(&mut m, key('j'));
    update(&mut m, code(KeyCode::Tab));
    assert_eq!(cursor_key(&m).as_deref(), Some("k\\xffx"));
    c.advance(DEBOUNCE);
    let fx = update(&mut m, Action::Tick);
    let (_, full_key, _) = load_id(&fx).expect("a value load");
    assert_eq!(
        motia_state::escape::unescape_name(&full_key),
        b"motia:state:o1:k\xffx"
    );
    let text = screen(&m);
    assert!(
        text.contains("new\\nline") && text.contains("k\\xffx"),
        "{text}"
    );
}

#[test]
fn a_trace_hidden_by_a_filter_is_selected_again_when_the_filter_goes() {
    let c = clock();
    let mut m = loaded(&c);
    update(&mut m, key('j'));
    assert_eq!(m.traces.selected.as_deref(), Some("trace-b"));
    update(&mut m, key('/'));
    type_text(&mut m, "zzz");
    assert!(m.traces.view.is_empty());
    for _ in 0..3 {
        update(&mut m, code(KeyCode::Backspace));
    }
    assert_eq!(m.traces.selected.as_deref(), Some("trace-b"));
    // A filter that shows other traces only: back to trace-b after it too.
    type_text(&mut m, "-c");
    assert_eq!(m.traces.selected.as_deref(), Some("trace-c"));
    update(&mut m, code(KeyCode::Backspace));
    update(&mut m, code(KeyCode::Backspace));
    assert_eq!(m.traces.selected.as_deref(), Some("trace-b"));
}

#[test]
fn sorting_keys_keeps_the_selected_key() {
    let c = clock();
    let mut m = loaded(&c);
    update(&mut m, code(KeyCode::Tab));
    // order, user: (folder), 1:, name, profile...
    update(&mut m, key('G'));
    let before = cursor_key(&m).expect("a key at the bottom");
    update(&mut m, key('s'));
    assert_eq!(cursor_key(&m), Some(before.clone()), "sort by size");
    update(&mut m, key('s'));
    assert_eq!(cursor_key(&m), Some(before.clone()), "sort by TTL");
    update(&mut m, key('s'));
    assert_eq!(cursor_key(&m), Some(before), "back to names");
}

#[test]
fn an_expiring_selected_key_gives_way_to_the_row_that_took_its_place() {
    let c = clock();
    let mut m = loaded(&c);
    update(&mut m, code(KeyCode::Tab));
    update(&mut m, key('s'));
    update(&mut m, key('s'));
    // By TTL: a, b, c expire in 10, 20, 30 s.
    let ttl = |s| Ttl::Expires(Duration::from_secs(s));
    meta(&mut m, &full("trace-a", "order"), "object", 10, ttl(10));
    meta(
        &mut m,
        &full("trace-a", "user:1:name"),
        "string",
        5,
        ttl(20),
    );
    meta(
        &mut m,
        &full("trace-a", "user:1:profile"),
        "object",
        9,
        ttl(30),
    );
    meta(
        &mut m,
        &full("trace-a", "user:2:name"),
        "string",
        7,
        ttl(40),
    );
    update(&mut m, key('g'));
    let first = cursor_key(&m);
    assert_eq!(first.as_deref(), Some("order"), "{:?}", m.keys.rows);
    update(&mut m, key('j'));
    assert_eq!(cursor_key(&m).as_deref(), Some("user:1:name"));
    // It expires: shown as gone (sorted last), the selection stays on row 2.
    meta(
        &mut m,
        &full("trace-a", "user:1:name"),
        "gone",
        0,
        Ttl::Missing,
    );
    assert_eq!(cursor_key(&m).as_deref(), Some("user:1:profile"));
    c.advance(GONE_GRACE);
    update(&mut m, Action::Tick);
    assert_eq!(cursor_key(&m).as_deref(), Some("user:1:profile"));
    assert_eq!(m.index.count("trace-a"), 3);
}

#[test]
fn copy_right_after_moving_copies_when_the_value_arrives() {
    let c = clock();
    let mut m = loaded(&c);
    update(&mut m, code(KeyCode::Tab));
    let fx = update(&mut m, key('y'));
    assert!(!fx.iter().any(|f| matches!(f, Effect::Copy(_))));
    assert!(
        m.note.as_ref().is_some_and(|n| n.text.contains("loading")),
        "{:?}",
        m.note
    );
    c.advance(DEBOUNCE);
    let fx = update(&mut m, Action::Tick);
    let (id, full_key, _) = load_id(&fx).expect("a value load");
    let doc = ValueDoc::build(br#"{"id":7}"#, 8);
    let fx = ev(
        &mut m,
        WorkerEvent::Value {
            id,
            full_key,
            result: Ok(Some(Arc::new(doc))),
        },
    );
    assert!(fx.contains(&Effect::Copy(r#"{"id":7}"#.into())), "{fx:?}");
}

#[test]
fn a_refused_save_is_a_failure() {
    let c = clock();
    let mut m = loaded(&c);
    let id = 41;
    m.write_labels.insert(id, "save trace-a:order".into());
    ev(
        &mut m,
        WorkerEvent::Written {
            id,
            op: WriteOp::Save {
                full_key: full("trace-a", "order"),
                expected: Some(b"{}".to_vec()),
                text: "{}".into(),
            },
            result: Ok(WriteOutcome::Conflict(Some(b"[1]".to_vec()))),
        },
    );
    let t = m
        .toasts
        .iter()
        .find(|t| t.id == id)
        .expect("a notification");
    assert_eq!(t.kind, ToastKind::Failed, "{}", t.text);
    assert!(t.text.contains("not written"));
    assert!(!screen(&m).contains('✓'));
}

#[test]
fn every_invalid_command_says_what_is_wrong_and_the_line_edits_like_a_shell() {
    let c = clock();
    let mut m = loaded(&c);
    for (line, says) in [
        ("frobnicate", "unknown command"),
        ("ttl abc", "invalid duration"),
        ("ttl", "usage: :ttl"),
        ("export", "usage: :export FILE"),
        ("where status bogus paid", "unknown operator"),
        ("import", "usage: :import FILE [--overwrite]"),
    ] {
        update(&mut m, key(':'));
        type_text(&mut m, line);
        update(&mut m, code(KeyCode::Enter));
        let note = m.note.clone().expect("a message");
        assert!(note.error && note.text.contains(says), ":{line}: {note:?}");
        let shown = screen(&m);
        assert!(shown.contains(says), ":{line} shows its message:\n{shown}");
        update(&mut m, code(KeyCode::Esc));
    }
    update(&mut m, key(':'));
    type_text(&mut m, "import some file.json");
    update(&mut m, ctrl_key('w'));
    let input = |m: &Model| match &m.dialog {
        Some(crate::browser::model::dialog::Dialog::Prompt { input, .. }) => Some(input.clone()),
        _ => None,
    };
    assert_eq!(input(&m).as_deref(), Some("import some "));
    update(&mut m, ctrl_key('u'));
    assert_eq!(input(&m).as_deref(), Some(""));
    type_text(&mut m, "ex");
    update(&mut m, code(KeyCode::Tab));
    assert!(matches!(
        &m.dialog,
        Some(crate::browser::model::dialog::Dialog::Prompt { input, fits, .. })
            if input == "export" && fits == &["export", "export-all"]
    ));
    update(&mut m, ctrl_key('c'));
    assert!(m.dialog.is_none(), "Ctrl-C leaves the line");
    update(&mut m, key(':'));
    let fx = type_text(&mut m, "import dump.json --overwrite");
    assert!(fx.is_empty());
    let fx = update(&mut m, code(KeyCode::Enter));
    assert!(
        fx.iter().any(|f| matches!(
            f,
            Effect::Worker(WorkerCmd::Write {
                op: WriteOp::Import { overwrite: true, path, .. },
                ..
            }) if path.as_os_str() == "dump.json"
        )),
        "{fx:?}"
    );
}

#[test]
fn a_refused_password_stops_the_retries_and_says_why() {
    let c = clock();
    let mut m = model(&c);
    let error = "authentication to 127.0.0.1:6390 failed: WRONGPASS invalid username-password pair or user is disabled.".to_string();
    ev(
        &mut m,
        WorkerEvent::GaveUp {
            error: error.clone(),
        },
    );
    assert_eq!(
        m.conn,
        ConnState::Failed {
            error: error.clone()
        }
    );
    let t = m.toasts.last().expect("a notification");
    assert_eq!(t.kind, ToastKind::Failed);
    assert!(t.text.contains(&error), "the whole message: {}", t.text);
    let shown = screen(&m);
    // Whole, wrapped between words.
    assert!(
        shown.contains("retrying; fix the setting and start again)"),
        "{shown}"
    );
}

#[test]
fn the_status_bar_counts_are_the_index() {
    let c = clock();
    let mut m = loaded(&c);
    let deleted = vec![full("trace-c", "x"), full("trace-a", "order")];
    m.write_labels.insert(7, "delete".into());
    ev(
        &mut m,
        WorkerEvent::Written {
            id: 7,
            op: WriteOp::Unlink { full_keys: deleted },
            result: Ok(WriteOutcome::Unlinked(2)),
        },
    );
    ev(&mut m, WorkerEvent::DbSize(5));
    let text = screen(&m);
    assert!(text.contains("keys 5 · traces 2"), "{text}");
    assert!(text.contains("Traces (2)"), "{text}");
}

// ---- property: random keys, worker events and sizes never break the model ----

#[derive(Debug, Clone)]
enum Step {
    Key(char),
    Code(u8),
    Resize(u16, u16),
    Tick(u64),
    Batch { stale: bool, keys: Vec<(u8, u8)> },
    ScanDone { stale: bool },
    Meta { key: (u8, u8), gone: bool },
    DeleteSelected,
    Lost,
    Restored,
    Value { stale: bool },
}

fn step() -> impl Strategy<Value = Step> {
    let name = || (0u8..4, 0u8..6);
    prop_oneof![
        6 => prop::sample::select(&b"jkgGhlsrw/:yx?LnbtdDe"[..]).prop_map(|b| Step::Key(b as char)),
        3 => (0u8..6).prop_map(Step::Code),
        2 => (1u16..120, 1u16..40).prop_map(|(w, h)| Step::Resize(w, h)),
        2 => (0u64..3000).prop_map(Step::Tick),
        3 => (any::<bool>(), prop::collection::vec(name(), 0..6))
            .prop_map(|(stale, keys)| Step::Batch { stale, keys }),
        1 => any::<bool>().prop_map(|stale| Step::ScanDone { stale }),
        2 => (name(), any::<bool>()).prop_map(|(key, gone)| Step::Meta { key, gone }),
        1 => Just(Step::DeleteSelected),
        1 => Just(Step::Lost),
        1 => Just(Step::Restored),
        2 => any::<bool>().prop_map(|stale| Step::Value { stale }),
    ]
}

fn name_of((t, k): (u8, u8)) -> String {
    // Escaped names, glob characters and folders among them.
    let trace = ["t0", "t\\xff", "a*b", "z"][t as usize % 4];
    let key = ["k", "user:1", "user:2", "x\\n", "", "deep:a:b"][k as usize % 6];
    full(trace, key)
}

fn apply(m: &mut Model, c: &ManualClock, s: &Step) {
    let generation = m.scan.generation;
    match s {
        Step::Key(ch) => {
            update(m, key(*ch));
        }
        Step::Code(n) => {
            let code_of = [
                KeyCode::Tab,
                KeyCode::Esc,
                KeyCode::Enter,
                KeyCode::Backspace,
                KeyCode::Down,
                KeyCode::PageUp,
            ];
            update(m, code(code_of[*n as usize % code_of.len()]));
        }
        Step::Resize(w, h) => {
            update(m, Action::Resize(*w, *h));
        }
        Step::Tick(ms) => {
            c.advance(Duration::from_millis(*ms));
            update(m, Action::Tick);
        }
        Step::Batch { stale, keys } => {
            let keys: Vec<String> = keys.iter().map(|k| name_of(*k)).collect();
            let seen = m.scan.seen + keys.len() as u64;
            let generation = if *stale {
                generation.saturating_sub(1)
            } else {
                generation
            };
            ev(
                m,
                WorkerEvent::ScanBatch {
                    generation,
                    keys,
                    seen,
                },
            );
        }
        Step::ScanDone { stale } => {
            let generation = if *stale {
                generation.saturating_sub(1)
            } else {
                generation
            };
            let seen = m.scan.seen;
            ev(m, WorkerEvent::ScanDone { generation, seen });
        }
        Step::Meta { key, gone } => {
            let (kind, ttl) = if *gone {
                ("gone", Ttl::Missing)
            } else {
                ("object", Ttl::Expires(Duration::from_secs(3)))
            };
            meta(m, &name_of(*key), kind, 3, ttl);
        }
        Step::DeleteSelected => {
            if let Some(full_key) = m.cursor_key().and_then(|k| m.full_key(k)) {
                m.write_labels.insert(999, "delete".into());
                ev(
                    m,
                    WorkerEvent::Written {
                        id: 999,
                        op: WriteOp::Unlink {
                            full_keys: vec![full_key],
                        },
                        result: Ok(WriteOutcome::Unlinked(1)),
                    },
                );
            }
        }
        Step::Lost => {
            ev(
                m,
                WorkerEvent::Lost {
                    reason: "connection reset".into(),
                },
            );
        }
        Step::Restored => {
            ev(m, WorkerEvent::Restored(ServerFacts::plain("7.2.4", 9)));
        }
        Step::Value { stale } => {
            if let Some(full_key) = m.value.full_key.clone() {
                let id = m.value.request.unwrap_or(0) + u64::from(*stale);
                ev(
                    m,
                    WorkerEvent::Value {
                        id,
                        full_key,
                        result: Ok(Some(Arc::new(ValueDoc::build(b"[1,2]", 5)))),
                    },
                );
            }
        }
    }
}

fn check(m: &Model) -> Result<(), TestCaseError> {
    let keys: usize = m.index.traces.values().map(|k| k.len()).sum();
    prop_assert_eq!(keys, m.index.total_keys, "key count equals the index");
    prop_assert!(m.index.traces.values().all(|k| !k.is_empty()));
    let in_index: HashSet<&str> = m.index.traces.keys().map(|t| &**t).collect();
    prop_assert!(m.traces.view.iter().all(|t| in_index.contains(&**t)));
    prop_assert!(m.traces.view.len() <= in_index.len());
    if !m.traces.view.is_empty() {
        prop_assert!(m.traces.list.cursor < m.traces.view.len());
    }
    if !m.keys.rows.is_empty() {
        prop_assert!(m.keys.list.cursor < m.keys.rows.len());
    }
    if let (Some(sel), false) = (&m.traces.selected, m.traces.view.is_empty()) {
        prop_assert_eq!(&m.traces.view[m.traces.list.cursor], sel);
    }
    if let Some(trace) = m.keys.trace.as_deref()
        && let Some(keys) = m.index.traces.get(trace)
    {
        for r in &m.keys.rows {
            if let RowKind::Key { key } = &r.kind {
                prop_assert!(keys.contains(key.as_str()), "row {} not in the index", key);
            }
        }
    }
    if let Some(Selected::Key(k)) = &m.keys.selected {
        let shown = m
            .keys
            .rows
            .iter()
            .any(|r| matches!(&r.kind, RowKind::Key { key } if key == k));
        prop_assert!(shown, "the selected key {} is a row", k);
    }
    Ok(())
}

#[test]
fn random_keys_events_and_sizes_keep_the_model_consistent() {
    let mut runner = TestRunner::new(Config {
        cases: 100,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&prop::collection::vec(step(), 1..60), |steps| {
            let c = clock();
            let mut m = model(&c);
            connect(&mut m);
            for s in &steps {
                apply(&mut m, &c, s);
                check(&m)?;
                // Every frame draws, down to 1x1.
                let _ = screen(&m);
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn the_inline_editor_refuses_values_over_its_limit_and_points_to_e() {
    use crate::browser::update::editor::INLINE_EDIT_LIMIT;
    let c = clock();
    let mut m = loaded(&c);
    update(&mut m, code(KeyCode::Tab));
    let big = vec![b'1'; INLINE_EDIT_LIMIT as usize + 1];
    answer_value(&mut m, &c, &big, big.len() as u64);
    update(&mut m, key('e'));
    assert!(m.editor.is_none());
    let note = m.note.clone().expect("a message");
    assert!(
        note.error && note.text.contains("up to 1.0 MiB") && note.text.contains("E edits it"),
        "{note:?}"
    );
    // `E` takes it.
    let fx = update(&mut m, key('E'));
    assert!(m.editor.is_some());
    assert!(fx.iter().any(|f| matches!(f, Effect::ExternalEdit { .. })));
}

/// The write effect of `fx`.
fn write_of(fx: &[Effect]) -> Option<(u64, WriteOp)> {
    fx.iter().find_map(|f| match f {
        Effect::Worker(WorkerCmd::Write { id, op }) => Some((*id, op.clone())),
        _ => None,
    })
}

#[test]
fn an_import_from_another_prefix_asks_first() {
    let c = clock();
    let mut m = loaded(&c);
    update(&mut m, key(':'));
    type_text(&mut m, "import other.json");
    let (id, op) = write_of(&update(&mut m, code(KeyCode::Enter))).expect("an import");
    assert!(matches!(
        &op,
        WriteOp::Import {
            other_prefix: false,
            ..
        }
    ));
    // The worker read the file: exported under another prefix, nothing written.
    let outcome = WriteOutcome::ImportPrefix {
        from: "app:".into(),
        to: P.into(),
    };
    let fx = ev(
        &mut m,
        WorkerEvent::Written {
            id,
            op: op.clone(),
            result: Ok(outcome.clone()),
        },
    );
    assert!(write_of(&fx).is_none());
    let s = screen(&m);
    assert!(s.contains("exported under the prefix \"app:\""), "{s}");
    assert!(!s.contains("import other.json…"), "no pending toast: {s}");
    // n: nothing is written.
    assert!(write_of(&update(&mut m, key('n'))).is_none());
    assert!(m.dialog.is_none());
    // Again, and y: the import goes out with the other prefix accepted.
    ev(
        &mut m,
        WorkerEvent::Written {
            id,
            op,
            result: Ok(outcome),
        },
    );
    let (_, op) = write_of(&update(&mut m, key('y'))).expect("the import, confirmed");
    assert!(
        matches!(&op, WriteOp::Import { other_prefix: true, overwrite: false, path } if path.as_os_str() == "other.json"),
        "{op:?}"
    );
}
