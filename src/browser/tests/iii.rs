//! The browser on the iii layout (names `state:{scope}:{field}`): frames with the Scopes pane,
//! the status bar's layout, and T/H explained; scopes with `:`, the stats view, `:export` /
//! `:import`, the layout found again on switching, and the help and hints on this layout.

use motia_state::adapter::layout::iii_stats::{FieldSize, IiiStats, ScopeSize};

use super::*;
use crate::browser::action::WriteOp;
use crate::browser::model::keys::Selected;

/// Connected on the iii layout in a `size` terminal; the generation of the scan it started.
pub(super) fn iii_connected(clock: &Arc<ManualClock>, size: (u16, u16)) -> (Model, u64) {
    let mut config = motia_state::Config::from_url("redis://127.0.0.1:6390").unwrap();
    config.layout = Some(motia_state::Layout::Iii);
    config.key_prefix = "state:".into();
    let mut m = initial_model(
        &config,
        &BrowserOptions::default(),
        Keymap::default(),
        clock.clone(),
    );
    update(&mut m, Action::Resize(size.0, size.1));
    let g = scan_gen(&connect(&mut m));
    (m, g)
}

/// Connected on the iii layout, one complete scan of scopes as the engine writes them.
pub(super) fn iii_loaded(clock: &Arc<ManualClock>) -> Model {
    let (mut m, g) = iii_connected(clock, (100, 16));
    scan_fixture(&mut m, g);
    m
}

/// The fields of the fixture, as scan `g` finds them.
pub(super) fn scan_fixture(m: &mut Model, g: u64) {
    scan_names(
        m,
        g,
        &[
            "state:misc:answer",
            "state:misc:greeting",
            "state:orders:v1-ok-1",
            "state:payments:v1-ok-1",
        ],
    );
}

/// One complete scan of these model names.
pub(super) fn scan_names(m: &mut Model, generation: u64, names: &[&str]) {
    let keys: Vec<String> = names.iter().map(|k| k.to_string()).collect();
    let seen = keys.len() as u64;
    ev(
        m,
        WorkerEvent::ScanBatch {
            generation,
            keys,
            seen,
        },
    );
    ev(m, WorkerEvent::ScanDone { generation, seen });
}

/// The engine's scopes with two whose names hold `:` (`orders:eu`, `a:b:c`), as the worker
/// names them.
fn iii_with_colons(clock: &Arc<ManualClock>) -> Model {
    let mut m = iii_loaded(clock);
    let g = scan_gen(&update(&mut m, key('r')));
    scan_names(
        &mut m,
        g,
        &[
            "state:misc:answer",
            "state:orders:v1-ok-1",
            "state:orders\\x3aeu:o:1",
            "state:orders\\x3aeu:o:2",
            "state:a\\x3ab\\x3ac:k",
        ],
    );
    m
}

fn sample_stats() -> IiiStats {
    let scope = |name: &str, fields, bytes| ScopeSize {
        scope: name.into(),
        fields,
        bytes,
        scope_bytes: Vec::new(),
    };
    let field = |scope: &str, key: &str, bytes| FieldSize {
        scope: scope.into(),
        key: key.into(),
        bytes,
        scope_bytes: Vec::new(),
        key_bytes: Vec::new(),
    };
    IiiStats {
        scopes: 3,
        fields: 5,
        bytes: 420,
        biggest_scopes: vec![
            scope("orders\\x3aeu", 2, 240),
            scope("orders", 1, 130),
            scope("misc", 2, 50),
        ],
        biggest_fields: vec![
            field("orders", "v1-ok-1", 122),
            field("orders\\x3aeu", "o:1", 118),
            field("misc", "greeting", 7),
        ],
        stream_groups: 1,
        stream_items: 2,
    }
}

#[test]
fn scopes_pane_and_the_layout_in_the_status_bar() {
    let c = clock();
    let mut m = iii_loaded(&c);
    update(&mut m, key('g'));
    update(&mut m, key('j'));
    meta(
        &mut m,
        "state:orders:v1-ok-1",
        "object",
        122,
        Ttl::Persistent,
    );
    let value = br#"{"attempts":1,"total":42.5,"note":"a\/b","tags":{},"big":1.2345678901235e+19}"#;
    answer_value(&mut m, &c, value, value.len() as u64);
    let s = screen(&m);
    assert!(s.contains("Scopes (3)"), "{s}");
    assert!(s.contains("iii layout"), "{s}");
    assert!(s.contains(r#""note": "a\/b""#), "values as stored: {s}");
    insta::assert_snapshot!("iii_scopes_100x16", s);
}

#[test]
fn timeline_and_history_say_why_they_are_unavailable() {
    let c = clock();
    let mut m = iii_loaded(&c);
    let fx = update(&mut m, key('T'));
    assert!(
        !fx.iter()
            .any(|f| matches!(f, Effect::Worker(WorkerCmd::TraceRecords { .. }))),
        "no records are read"
    );
    let s = screen(&m);
    assert!(
        s.contains("no timeline or history on the iii layout"),
        "{s}"
    );
    insta::assert_snapshot!("iii_no_timeline_100x16", s);
}

#[test]
fn delete_and_clear_questions_name_a_scope_not_a_trace() {
    let c = clock();
    let mut m = iii_loaded(&c);
    update(&mut m, key('g'));
    update(&mut m, code(KeyCode::Tab));
    update(&mut m, key('d'));
    let s = screen(&m);
    assert!(s.contains("of scope misc?"), "{s}");
    update(&mut m, code(KeyCode::Esc));
    update(&mut m, code(KeyCode::BackTab));
    update(&mut m, key('D'));
    let s = screen(&m);
    assert!(s.contains("Clear scope misc"), "{s}");
    assert!(!s.contains("trace"), "{s}");
}

#[test]
fn scopes_with_colons_are_listed_opened_and_acted_on_exactly() {
    let c = clock();
    let mut m = iii_with_colons(&c);
    update(&mut m, key('g'));
    let s = screen(&m);
    assert!(s.contains("Scopes (4)"), "{s}");
    assert!(
        s.contains("orders\\x3aeu") && s.contains("a\\x3ab\\x3ac"),
        "{s}"
    );
    // orders:eu sorts after orders; its two fields, the `:` in a field kept as a folder.
    update(&mut m, key('j'));
    update(&mut m, key('j'));
    update(&mut m, key('j'));
    assert_eq!(m.traces.selected.as_deref(), Some("orders\\x3aeu"));
    let fx = update(&mut m, code(KeyCode::Enter));
    let s = screen(&m);
    assert!(s.contains("Keys · orders\\x3aeu (2)"), "{s}");
    insta::assert_snapshot!("iii_scope_with_colon_100x16", s);
    let _ = fx;
    // Delete and clear name the scope and send the exact model names (the worker splits them).
    update(&mut m, code(KeyCode::BackTab));
    update(&mut m, key('D'));
    assert!(screen(&m).contains("Clear scope orders\\x3aeu"));
    let fx = update(&mut m, key('y'));
    let sent = writes(&fx);
    assert!(
        matches!(&sent[..], [(_, WriteOp::Unlink { full_keys })]
            if full_keys == &["state:orders\\x3aeu:o:1", "state:orders\\x3aeu:o:2"]),
        "{sent:?}"
    );
}

#[test]
fn stats_view_on_iii_shows_scopes_fields_and_says_why_there_are_no_ages() {
    let c = clock();
    let mut m = iii_loaded(&c);
    let fx = update(&mut m, key('S'));
    let id = match fx.as_slice() {
        [Effect::Worker(WorkerCmd::Stats { id, keys: None })] => *id,
        other => panic!("the worker reads the scopes itself: {other:?}"),
    };
    assert!(screen(&m).contains("reading the scopes"));
    ev(
        &mut m,
        WorkerEvent::StatsProgress {
            id,
            done: 1,
            total: 3,
            stats: None,
        },
    );
    assert!(screen(&m).contains("33% (1 of 3 scopes)"), "{}", screen(&m));
    ev(
        &mut m,
        WorkerEvent::IiiStats {
            id,
            result: Ok(Arc::new(sample_stats())),
        },
    );
    update(&mut m, Action::Resize(100, 20));
    let s = screen(&m);
    for want in [
        "Stats of the iii layout",
        "3 scopes · 5 fields · 420 B · 1 stream group (2 items)",
        "No ages or TTLs",
        "Biggest scopes",
        "Biggest fields",
        "orders\\x3aeu o:1",
    ] {
        assert!(s.contains(want), "{want} in {s}");
    }
    assert!(!s.contains("by age") && !s.contains("remaining TTL"), "{s}");
    insta::assert_snapshot!("iii_stats_100x20", s);
    // The fourth row is the biggest field: Enter shows it in the panes.
    for _ in 0..3 {
        update(&mut m, key('j'));
    }
    update(&mut m, code(KeyCode::Enter));
    assert!(m.stats.is_none());
    assert_eq!(m.traces.selected.as_deref(), Some("orders"));
    assert_eq!(m.keys.selected, Some(Selected::Key("v1-ok-1".into())));
    // :gc does not apply here and says why; nothing goes to the worker.
    let fx = typed(&mut m, ":gc --older-than 7d");
    let fx2 = update(&mut m, code(KeyCode::Enter));
    assert!(
        fx.iter()
            .chain(&fx2)
            .all(|f| !matches!(f, Effect::Worker(WorkerCmd::GcPlan { .. })))
    );
    assert!(
        note_text(&m).contains(":gc does not apply to the iii layout"),
        "{}",
        note_text(&m)
    );
}

#[test]
fn export_and_import_name_scopes_and_go_to_the_worker() {
    let c = clock();
    let mut m = iii_with_colons(&c);
    update(&mut m, key('g'));
    update(&mut m, key('G'));
    assert_eq!(m.traces.selected.as_deref(), Some("orders\\x3aeu"));
    typed(&mut m, ":export /tmp/eu.json");
    let w = writes(&update(&mut m, code(KeyCode::Enter)));
    assert!(
        matches!(&w[..], [(_, WriteOp::Export { trace: Some(t), .. })] if t == "orders\\x3aeu"),
        "{w:?}"
    );
    assert_eq!(
        m.write_labels.values().next().map(String::as_str),
        Some("export scope orders\\x3aeu to /tmp/eu.json")
    );
    typed(&mut m, ":import /tmp/eu.json");
    let w = writes(&update(&mut m, code(KeyCode::Enter)));
    assert!(
        matches!(
            &w[..],
            [(
                _,
                WriteOp::Import {
                    overwrite: false,
                    ..
                }
            )]
        ),
        "{w:?}"
    );
}

#[test]
fn switching_finds_the_layout_again_and_the_status_bar_says_which_and_why() {
    let c = clock();
    let mut m = model(&c);
    assert!(!m.settings.iii);
    ev(
        &mut m,
        WorkerEvent::Layout {
            label: "layout iii (detected: no keys under \"motia:state:\", state:* hashes exist)"
                .into(),
            iii: true,
            prefix: "state:".into(),
            look: false,
        },
    );
    assert!(m.settings.iii && m.settings.prefix == "state:");
    update(&mut m, Action::Resize(160, 16));
    let g = scan_gen(&connect(&mut m));
    scan_names(&mut m, g, &["state:orders:v1"]);
    let s = screen(&m);
    assert!(s.contains("Scopes (1)") && s.contains("iii layout"), "{s}");
    assert!(s.contains("detected: no keys under"), "{s}");
    // And back to a 0.x server: traces again, under that connection's prefix.
    ev(
        &mut m,
        WorkerEvent::Layout {
            label: "layout motia (detected: keys under \"motia:state:\")".into(),
            iii: false,
            prefix: "motia:state:".into(),
            look: true,
        },
    );
    assert!(!m.settings.iii && m.index.traces.is_empty());
    let g = scan_gen(&connect(&mut m));
    batch(&mut m, g, &[("t1", "order")]);
    let s = screen(&m);
    assert!(s.contains("Traces (1)") && !s.contains("iii layout"), "{s}");
    assert!(s.contains("layout motia: detected: keys under"), "{s}");
}

#[test]
fn help_and_hints_on_iii_say_only_what_works() {
    let c = clock();
    let mut m = iii_loaded(&c);
    update(&mut m, Action::Resize(160, 60));
    let s = screen(&m);
    let footer = s.lines().last().unwrap_or_default();
    assert!(footer.contains("S stats"), "{footer}");
    assert!(
        !footer.contains("timeline") && !footer.contains("history"),
        "{footer}"
    );
    let help: Vec<String> = crate::browser::model::help::lines(&m)
        .iter()
        .map(|l| format!("{}{}", l.keys, l.text))
        .collect();
    let help = help.join("\n");
    for gone in [
        ":gc",
        ":timeline",
        ":status",
        "a trace",
        "the trace",
        "trace's",
        "traces:",
    ] {
        assert!(!help.contains(gone), "{gone} in the iii help:\n{help}");
    }
    // Writes here are journalled: undo and the journal work; past versions do not exist.
    assert!(
        help.contains(":undo") && help.contains(":journal"),
        "{help}"
    );
    assert!(
        help.contains("not on the iii layout: no trace records hold past versions"),
        "{help}"
    );
    assert!(help.contains("fields and bytes per scope"), "{help}");
}
