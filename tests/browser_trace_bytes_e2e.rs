//! End-to-end in tmux: trace records of trace ids that are not UTF-8 or hold control
//! characters joined with their state, a step error holding ESC, and the history of a key of
//! a state group that is not a trace id.

mod common;

use common::RedisServer;
use common::term::Term;
use common::traces::*;
use serde_json::json;

/// A flow under the exact bytes `trace` with a state key `order` its one step set; the step's
/// events name the trace as JSON text (lossily where it is not UTF-8).
fn write_flow(server: &RedisServer, trace: &[u8], name: &str, start: i64, n: u32) {
    let text = String::from_utf8_lossy(trace);
    let step = Step::new(n, name, "api", start + 2)
        .event(set(start + 10, &text, "order", json!({"n": n})))
        .failed("Card \u{1b}[31mdeclined");
    let group = json!({"id": text, "name": name, "startTime": start}).to_string();
    let key = |prefix: &[u8], rest: &[u8]| [prefix, trace, rest].concat();
    let mut con = connection(server);
    let () = redis::pipe()
        .cmd("HSET")
        .arg("motia:trace:default")
        .arg(trace)
        .arg(group)
        .ignore()
        .cmd("HSET")
        .arg(key(b"motia:trace:", b""))
        .arg(&step.id)
        .arg(step.to_json(&text))
        .ignore()
        .cmd("SET")
        .arg(key(b"motia:state:", b":order"))
        .arg(json!({"n": n}).to_string())
        .ignore()
        .query(&mut con)
        .unwrap();
}

/// The rightmost pane's text, line by line.
fn value_pane(screen: &str) -> String {
    screen
        .lines()
        .filter_map(|l| l.rsplit_once("││").map(|(_, r)| r))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn trace_ids_of_any_bytes_join_their_state_and_a_group_is_searched_in_every_flow() {
    let server = RedisServer::start();
    write_flow(&server, b"o\xff1", "BytesFlow", T0, 1);
    write_flow(&server, b"a\x1bb", "ControlFlow", T0 + 1000, 2);
    // A flow whose step writes to the group `orders`, which has state but no records.
    Flow::new("FLOW1-0000001", "PlaceOrder", T0 + 2000)
        .step(Step::new(3, "PlaceOrder", "api", T0 + 2001).event(set(
            T0 + 2010,
            "orders",
            "ord_1",
            json!({"status": "paid"}),
        )))
        .write(&server);
    server.set_raw("motia:state:orders:ord_1", r#"{"status":"paid"}"#);

    let t = Term::start("trace-bytes", &server.url(), "", None);
    t.wait_for("done");
    // One row per trace, with its flow and status, and its key count (not ∅).
    let s = t.wait("both flows with their records", |s| {
        s.lines()
            .any(|l| l.contains("o\\xff1") && l.contains("BytesFlow") && l.contains("failed"))
            && s.lines()
                .any(|l| l.contains("a\\x1bb") && l.contains("ControlFlow"))
    });
    assert_eq!(s.matches("o\\xff1").count(), 1, "{s}");
    assert_eq!(s.matches("a\\x1bb").count(), 1, "{s}");
    assert!(!s.contains('\u{fffd}'), "{s}");
    for id in ["o\\xff1", "a\\x1bb"] {
        let row = s.lines().find(|l| l.contains(id)).unwrap();
        assert!(row.contains("1/1"), "1 step, 1 key: {row}");
    }

    // The control-character flow: its key in the Keys pane, the jump from its state event.
    t.keys(&["/"]);
    t.type_text("x1bb");
    t.keys(&["Enter"]);
    let s = t.wait_for("Keys · a\\x1bb");
    assert!(!s.contains("no state"), "{s}");
    t.wait_for("order");
    t.keys(&["T"]);
    t.wait_for("Timeline a\\x1bb");
    // The step's error in the Value pane (the right one) as stored, its ESC shown escaped.
    t.wait("the error in the step's detail", |s| {
        value_pane(s).contains("Card \\x1b[31mdeclined")
    });
    t.keys(&["Enter"]);
    t.wait_for("state set order");
    t.keys(&["j", "j"]);
    t.wait_for("Enter: go to the key order");
    t.keys(&["Enter"]);
    let s = t.wait("the Keys pane back", |s| s.contains("Keys · a\\x1bb"));
    assert!(!s.contains("no longer exists"), "{s}");
    t.wait_for("\"n\": 2");
    // Its history, read from the records that name the group as JSON text.
    t.keys(&["H"]);
    t.wait_for("set      ControlFlow {\"n\":2}");
    t.wait_for("newest set = the value now");
    t.keys(&["Escape"]);
    t.wait("the history closed", |s| !s.contains("History order"));

    // `orders` has no records of its own: H finds the write in FLOW1's records.
    t.keys(&["h", "/"]);
    t.keys(&["BSpace", "BSpace", "BSpace", "BSpace"]);
    t.type_text("orders");
    t.keys(&["Enter"]);
    t.wait_for("Keys · orders");
    t.keys(&["Enter"]);
    t.wait_for("\"status\": \"paid\"");
    t.keys(&["H"]);
    t.wait_for("History ord_1");
    let s = t.wait_for("set      PlaceOrder in FLOW1-0000001");
    assert!(!s.contains("no trace record touches"), "{s}");
    t.wait_for("newest set = the value now");
    t.wait_for("orders: no trace records of its own;");
    t.wait_for("found in other flows' records");
    t.wait_for("(searched all 3 flows listed)");
    t.keys(&["Escape"]);
    t.wait("the history closed", |s| !s.contains("History ord_1"));

    // The trace id that is not UTF-8: its events name it lossily, the jump still finds it.
    t.keys(&["h", "/"]);
    t.keys(&["BSpace", "BSpace", "BSpace", "BSpace", "BSpace", "BSpace"]);
    t.type_text("xff1");
    t.keys(&["Enter"]);
    t.wait_for("Keys · o\\xff1");
    t.keys(&["T"]);
    t.wait_for("Timeline o\\xff1");
    t.keys(&["Enter"]);
    t.wait_for("state set order");
    t.keys(&["j", "j"]);
    t.wait_for("Enter: go to the key order");
    t.keys(&["Enter"]);
    let s = t.wait("the Keys pane back", |s| {
        s.contains("Keys · o\\xff1") && !s.contains("Timeline")
    });
    assert!(!s.contains("no longer exists"), "{s}");
    t.wait_for("\"n\": 1");
    t.keys(&["H"]);
    t.wait_for("set      BytesFlow {\"n\":1}");
    t.wait_for("newest set = the value now");
    t.keys(&["q"]);
}
