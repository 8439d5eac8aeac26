//! The browser on the iii layout, end to end: the real binary in tmux against a private
//! redis-server holding state written as the iii engine writes it.

mod common;

use common::iii::engine_fixture;
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

#[test]
fn a_0x_view_names_the_iii_state_beside_it_once_its_index_is_complete() {
    let server = RedisServer::start();
    engine_fixture(&server);
    server.load("SET motia:state:t1:order {\"id\":1}\nSET motia:state:t2:order {\"id\":2}\n");
    let t = Term::start("other-layout", &server.url(), "", None);
    let s = t.wait("the 0.x traces and the note", |s| {
        s.contains("Traces (2)") && s.contains("also holds Motia 1.x / iii state")
    });
    assert!(!s.contains("iii layout"), "0.x is browsed: {s}");
}
