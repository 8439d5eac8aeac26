//! The browser on the iii layout, end to end: the real binary in tmux against a private
//! redis-server holding state written as the iii engine writes it.

mod common;

use common::iii::{engine_fixture, engine_set};
use common::term::{DEADLINE, Term};
use common::{RedisServer, poll_for};

fn wait_redis(server: &RedisServer, args: &[&str], want: &str) {
    poll_for(&format!("redis-cli {args:?}"), DEADLINE, || {
        let out = server.try_cli(args)?;
        if out == want {
            Ok(())
        } else {
            Err(format!("the answer {out:?}"))
        }
    });
}

#[test]
fn scopes_fields_values_edit_delete_and_clear_through_the_hashes() {
    let server = RedisServer::start();
    engine_fixture(&server);
    let t = Term::start("iii", &server.url(), "", None);
    let s = t.wait("the scopes", |s| {
        s.contains("Scopes (3)") && s.contains("iii layout")
    });
    assert!(
        s.contains("misc") && s.contains("orders") && s.contains("payments"),
        "{s}"
    );
    assert!(
        !s.contains("orderStatus"),
        "stream groups are not scopes: {s}"
    );
    // orders: its one field, the value exactly as stored (`\/`, `{}`, cjson's digits).
    t.keys(&["g", "j"]);
    t.wait_for("Keys · orders (1)");
    t.wait_for(r#""note": "a\/b""#);
    t.wait_for(r#""big": 1.2345678901235e+19"#);
    t.wait_for(r#""tags": {}"#);
    // No timeline on this layout, and it says why.
    t.keys(&["T"]);
    t.wait_for("no timeline or history on the iii layout");
    // Edit the field: compare-and-set on the hash field, stored compact.
    t.keys(&["Enter", "e"]);
    t.wait_for("Edit orders:v1-ok-1");
    t.keys(&["Down", "End", "BSpace", "BSpace"]);
    t.type_text("2,");
    t.keys(&["C-s"]);
    t.wait_for("save orders:v1-ok-1: done");
    let stored = server.cli(&["HGET", "state:orders", "v1-ok-1"]);
    assert!(
        stored.starts_with(r#"{"attempts":2,"total":42.5,"#),
        "{stored}"
    );
    // Delete payments' only field: the scope goes with it.
    t.keys(&["Escape", "h", "j"]);
    t.wait_for("Keys · payments (1)");
    t.keys(&["Enter", "d"]);
    t.wait_for("Delete key v1-ok-1");
    t.keys(&["y"]);
    t.wait("payments to go", |s| {
        s.contains("Scopes (2)") && !s.contains("payments")
    });
    wait_redis(&server, &["EXISTS", "state:payments"], "0");
    // Clear misc: every field.
    t.keys(&["h", "g"]);
    t.wait_for("Keys · misc (2)");
    t.keys(&["D"]);
    t.wait_for("delete all 2 keys?");
    t.keys(&["y"]);
    t.wait("misc to go", |s| s.contains("Scopes (1)"));
    wait_redis(&server, &["EXISTS", "state:misc"], "0");
}

#[test]
fn read_only_refuses_writes_and_changes_nothing() {
    let server = RedisServer::start();
    engine_fixture(&server);
    let t = Term::start("iii-ro", &server.url(), "--read-only", None);
    t.wait("the scopes", |s| {
        s.contains("Scopes (3)") && s.contains("READ-ONLY")
    });
    t.keys(&["g", "Enter", "d"]);
    t.wait_for("read-only");
    assert_eq!(server.cli(&["HLEN", "state:misc"]), "2");
}

/// A config file with two saved connections: `iii` (the engine's server) and `old` (0.x).
fn two_profiles(dir: &std::path::Path, iii: &RedisServer, old: &RedisServer) -> std::path::PathBuf {
    let file = dir.join("config.toml");
    std::fs::write(
        &file,
        format!(
            "[profiles.iii]\nurl = \"{}\"\n\n[profiles.old]\nurl = \"{}\"\n",
            iii.url(),
            old.url()
        ),
    )
    .unwrap();
    file
}

#[test]
fn scope_with_colons_stats_export_import_and_the_layout_found_again_on_switching() {
    let iii = RedisServer::start();
    engine_fixture(&iii);
    engine_set(&iii, "orders:eu", "eu-1", r#"{"id":"eu-1","region":"eu"}"#);
    let old = RedisServer::start();
    old.set_raw("motia:state:t-old:order", r#"{"id":1}"#);
    let dir = tempfile::tempdir().unwrap();
    let config = two_profiles(dir.path(), &iii, &old);
    let t = Term::start(
        "iiirest",
        "",
        &format!("--config {} --profile iii", config.display()),
        None,
    );
    let s = t.wait("the scopes", |s| {
        s.contains("Scopes (4)") && s.contains("iii layout") && s.contains("done")
    });
    assert!(s.contains(r"orders\x3aeu"), "{s}");
    // The scope `orders:eu`: listed after orders, its field and value read from its hash.
    t.keys(&["g", "j", "j", "Enter"]);
    t.wait_for(r"Keys · orders\x3aeu (1)");
    t.wait_for(r#""region": "eu""#);
    // The stats view: scopes and fields, no age charts, and why.
    t.keys(&["S"]);
    let s = t.wait("the iii stats", |s| {
        s.contains("Stats of the iii layout") && s.contains("done · r recomputes")
    });
    for want in [
        "4 scopes · 5 fields",
        "1 stream group (1 item)",
        "No ages or TTLs",
        "Biggest scopes",
        r"orders\x3aeu",
    ] {
        assert!(s.contains(want), "{want}: {s}");
    }
    assert!(!s.contains("Traces by age"), "{s}");
    t.keys(&["Escape"]);
    // :export of the selected scope: an iii document with the exact scope name.
    let file = dir.path().join("eu.json");
    t.keys(&[":"]);
    t.type_text(&format!("export {}", file.display()));
    t.keys(&["Enter"]);
    // The notification may wrap or be gone by the time tmux is read: the file is the answer.
    poll_for(
        "the exported file",
        DEADLINE,
        || match std::fs::read_to_string(&file) {
            Ok(d) if d.ends_with("}\n") => Ok(()),
            _ => Err("not written yet".to_string()),
        },
    );
    let doc = std::fs::read_to_string(&file).unwrap();
    assert!(doc.contains(r#""layout": "iii""#), "{doc}");
    assert!(doc.contains(r#""groupId": "orders:eu""#), "{doc}");
    // :import while the field exists: refused, says how to overwrite.
    t.keys(&[":"]);
    t.type_text(&format!("import {}", file.display()));
    t.keys(&["Enter"]);
    // A failure notification wraps between words: its words are looked for one by one.
    t.wait("the refusal", |s| {
        s.contains("exists") && s.contains("--overwrite")
    });
    // Clear the scope (the hash goes), then import it back byte for byte.
    t.keys(&["x", "h", "D"]);
    t.wait_for(r"Clear scope orders\x3aeu");
    t.keys(&["y"]);
    t.wait("orders:eu to go", |s| s.contains("Scopes (3)"));
    wait_redis(&iii, &["EXISTS", "state:orders:eu"], "0");
    t.keys(&[":"]);
    t.type_text(&format!("import {}", file.display()));
    t.keys(&["Enter"]);
    t.wait("the import's rescan", |s| s.contains("Scopes (4)"));
    wait_redis(
        &iii,
        &["HGET", "state:orders:eu", "eu-1"],
        r#"{"id":"eu-1","region":"eu"}"#,
    );
    // A Motia 0.x document is refused on this layout, nothing written.
    let motia_doc = dir.path().join("motia.json");
    std::fs::write(
        &motia_doc,
        r#"{"format":"motia-state-export","version":1,"prefix":"motia:state:","items":[{"groupId":"t9","key":"k","value":1}]}"#,
    )
    .unwrap();
    t.keys(&["x", ":"]);
    t.type_text(&format!("import {}", motia_doc.display()));
    t.keys(&["Enter"]);
    t.wait("the refusal", |s| {
        s.contains("across") && s.contains("supported")
    });
    assert_eq!(iii.cli(&["EXISTS", "state:t9"]), "0");
    // Switch to the 0.x server: traces, and the status bar says which layout and why.
    t.keys(&["x", "c"]);
    t.wait("the picker", |s| {
        s.contains("Connections") && s.contains("old")
    });
    t.keys(&["Down", "Enter"]);
    let s = t.wait("the 0.x connection", |s| {
        s.contains("Traces (1)") && s.contains("t-old") && s.contains("done")
    });
    assert!(s.contains("layout motia"), "{s}");
    assert!(!s.contains("iii layout"), "{s}");
    // The iii document is refused there too.
    t.keys(&[":"]);
    t.type_text(&format!("import {}", file.display()));
    t.keys(&["Enter"]);
    t.wait("the refusal", |s| {
        s.contains("across") && s.contains("Motia 1.x")
    });
    assert_eq!(old.cli(&["KEYS", "*orders*"]), "");
    // And back: scopes again.
    t.keys(&["x", "c"]);
    t.wait("the picker", |s| {
        s.contains("Connections") && s.contains("old")
    });
    t.keys(&["Up", "Enter"]);
    t.wait("the iii connection again", |s| {
        s.contains("Scopes (4)") && s.contains("iii layout") && s.contains("done")
    });
}
