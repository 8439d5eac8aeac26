//! Undo in the browser, end to end: the real binary in tmux against a private redis-server,
//! its journal in the run's own home (the user's data directory).

mod common;

use common::RedisServer;
use common::term::{DEADLINE, Term};

const NOTE: &str = "motia:state:trace-a:note";

fn wait_redis(server: &RedisServer, args: &[&str], want: &str) {
    common::poll_for(&format!("redis-cli {args:?}"), DEADLINE, || {
        let out = server.try_cli(args)?;
        if out == want {
            Ok(())
        } else {
            Err(format!("the answer {out:?}"))
        }
    });
}

#[test]
fn u_undoes_a_delete_and_the_journal_lists_it() {
    let server = RedisServer::start();
    server.set_raw(NOTE, "{\"text\":\"keep me\"}");
    server.cli(&["EXPIRE", NOTE, "5000"]);
    server.set_raw("motia:state:trace-a:other", "1");
    let t = Term::start("undo", &server.url(), "--refresh 0", None);
    t.wait_for("note");
    t.keys(&["Enter"]);
    t.wait("the Keys pane focused", |s| s.contains("d del"));
    // The first key of trace-a is note.
    t.keys(&["d"]);
    t.wait_for("Delete key note of trace trace-a?");
    t.keys(&["y"]);
    t.wait_for("delete trace-a:note: 1 removed");
    wait_redis(&server, &["EXISTS", NOTE], "0");
    t.keys(&["u"]);
    let screen = t.wait_for("Undo delete 1 of trace-a:note? It will:");
    assert!(
        screen.contains("restore trace-a:note (string, TTL 1h 23m"),
        "{screen}"
    );
    t.keys(&["y"]);
    t.wait_for("undo delete 1: 1 restored");
    wait_redis(&server, &["GET", NOTE], "{\"text\":\"keep me\"}");
    let ttl: i64 = server.cli(&["TTL", NOTE]).parse().unwrap();
    assert!(ttl > 4000 && ttl <= 5000, "{ttl}");
    // Nothing left to undo; :journal lists both writes.
    t.keys(&["u"]);
    t.wait_for("nothing left to undo in this session");
    t.keys(&[":"]);
    t.type_text("journal");
    t.keys(&["Enter"]);
    let screen = t.wait_for("Journal");
    assert!(screen.contains("undo 1"), "{screen}");
    assert!(screen.contains("(undone)"), "{screen}");
    // The journal file is the user's, private.
    let file = t.home().join(".local/share/motia-state/journal.jsonl");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn undo_is_refused_read_only() {
    let server = RedisServer::start();
    server.set_raw(NOTE, "1");
    let t = Term::start("undo-ro", &server.url(), "--read-only --refresh 0", None);
    t.wait_for("note");
    t.keys(&["u"]);
    t.wait_for("read-only mode: undo refused");
}

#[test]
fn u_undoes_a_delete_on_the_iii_layout_field_by_field() {
    let server = RedisServer::start();
    common::iii::engine_fixture(&server);
    let t = Term::start("undo-iii", &server.url(), "--refresh 0", None);
    t.wait("the scopes", |s| {
        s.contains("Scopes (3)") && s.contains("iii layout")
    });
    // misc's first field is answer.
    t.keys(&["g", "Enter"]);
    t.wait("the Keys pane focused", |s| {
        s.contains("Keys · misc (2)") && s.contains("d del")
    });
    t.keys(&["d"]);
    t.wait_for("Delete key answer");
    t.keys(&["y"]);
    wait_redis(&server, &["HEXISTS", "state:misc", "answer"], "0");
    // A neighbour written meanwhile is left alone by the undo.
    common::iii::engine_set(&server, "misc", "later", "1");
    t.keys(&["u"]);
    let screen = t.wait_for("It will:");
    assert!(
        screen.contains("restore misc:answer (field, no expiry)"),
        "{screen}"
    );
    t.keys(&["y"]);
    t.wait_for("1 restored");
    wait_redis(&server, &["HGET", "state:misc", "answer"], "42");
    assert_eq!(server.cli(&["HGET", "state:misc", "later"]), "1");
    assert_eq!(
        server.cli(&["HGET", "state:misc", "greeting"]),
        r#""hello""#
    );
}

/// Stream items are fields of their group's hash: a delete in the browser is journalled and
/// `u` puts the item back (compare-and-set, as for scope fields).
#[test]
fn u_undoes_a_stream_item_delete_on_the_iii_layout() {
    let server = RedisServer::start();
    common::iii::engine_fixture(&server);
    let t = Term::start("undo-stream", &server.url(), "--refresh 0", None);
    t.wait("both sections", |s| {
        s.contains("Scopes (3)") && s.contains("Streams (1)") && s.contains("orderStatus/orders")
    });
    // The last row is the stream group; its only item is v1-bad-1.
    t.keys(&["G"]);
    t.wait_for("Keys · orderStatus/orders (1)");
    t.keys(&["l"]);
    t.wait("the Keys pane focused", |s| s.contains("d del"));
    t.keys(&["d"]);
    t.wait_for("v1-bad-1");
    t.keys(&["y"]);
    wait_redis(
        &server,
        &["HEXISTS", "stream:orderStatus:orders", "v1-bad-1"],
        "0",
    );
    t.keys(&["u"]);
    let screen = t.wait_for("It will:");
    assert!(screen.contains("v1-bad-1"), "{screen}");
    t.keys(&["y"]);
    t.wait_for("1 restored");
    wait_redis(
        &server,
        &["HGET", "stream:orderStatus:orders", "v1-bad-1"],
        r#"{"id":"v1-bad-1","status":"failed"}"#,
    );
}

/// `:import` of an iii document inside the browser is journalled field by field: `u` takes the
/// imported field away again and puts back the one it replaced.
#[test]
fn u_undoes_an_iii_import_in_the_browser() {
    let server = RedisServer::start();
    common::iii::engine_fixture(&server);
    let doc = server.dir().join("import.json");
    std::fs::write(
        &doc,
        r#"{"format":"motia-state-export","version":1,"layout":"iii","prefix":"state:","items":[
{"groupId":"misc","key":"answer","value":43},
{"groupId":"misc","key":"added","value":"new"}]}"#,
    )
    .expect("document");
    let t = Term::start("undo-import", &server.url(), "--refresh 0", None);
    t.wait("the scopes", |s| {
        s.contains("Scopes (3)") && s.contains("iii layout")
    });
    t.keys(&[":"]);
    t.type_text(&format!("import {} --overwrite", doc.display()));
    t.keys(&["Enter"]);
    wait_redis(&server, &["HGET", "state:misc", "added"], r#""new""#);
    assert_eq!(server.cli(&["HGET", "state:misc", "answer"]), "43");
    t.keys(&["u"]);
    let screen = t.wait_for("It will:");
    assert!(screen.contains("misc:answer"), "{screen}");
    t.keys(&["y"]);
    t.wait_for("2 restored");
    wait_redis(&server, &["HEXISTS", "state:misc", "added"], "0");
    assert_eq!(server.cli(&["HGET", "state:misc", "answer"]), "42");
}
