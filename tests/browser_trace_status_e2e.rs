//! End-to-end in tmux: the status the Traces pane and the timeline give a flow is the truth
//! of all its records: a failure in step 4,321 of 5,000, a step that completed on its retry,
//! a flow too young to have step records, a flow whose records cannot be read.

mod common;

use common::RedisServer;
use common::term::Term;
use common::traces::*;

/// The row of `trace` on the screen.
fn row<'a>(s: &'a str, trace: &str) -> &'a str {
    s.lines().find(|l| l.contains(trace)).unwrap_or("")
}

fn write_flows(s: &RedisServer) {
    let big = "BIGFL-5000000";
    let mut f = Flow::new(big, "Bulk", T0);
    for i in 0..5_000u32 {
        let mut step = Step::new(
            i + 1,
            &format!("Step{i:04}"),
            "event",
            T0 + i64::from(i) * 10,
        );
        if i == 4_321 {
            step = step.failed("Out of stock");
        }
        f = f.step(step);
    }
    f.write(s);
    s.set_raw(&format!("motia:state:{big}:k"), "1");

    let retry = "RETRY-0000001";
    Flow::new(retry, "Checkout", T0 + 100)
        .step(Step::new(1, "Checkout", "api", T0 + 100))
        .step(Step::new(2, "Pay", "event", T0 + 200).failed("Card declined"))
        .step(Step::new(3, "Pay", "event", T0 + 2200))
        .write(s);
    s.set_raw(&format!("motia:state:{retry}:k"), "1");

    let now = chrono::Utc::now().timestamp_millis();
    Flow::new("YOUNG-0000001", "Fresh", now - 5_000).write(s);
    s.set_raw("motia:state:YOUNG-0000001:k", "1");

    let bad = "UNRDB-0000001";
    Flow::new(bad, "Garbled", T0 + 300).write(s);
    hset_raw(s, &format!("motia:trace:{bad}"), "a", "<html>");
    hset_raw(s, &format!("motia:trace:{bad}"), "b", "{\"name\":");
    s.set_raw(&format!("motia:state:{bad}:k"), "1");
}

fn open_timeline(t: &Term, trace: &str) -> String {
    t.keys(&["/"]);
    t.type_text(trace);
    t.keys(&["Enter"]);
    // The id may be cut in the title beside a note.
    t.wait_for(&format!("Keys · {}", &trace[..3]));
    t.keys(&["T"]);
    let s = t.wait_for(&format!("Timeline {trace}"));
    let s2 = t.wait("the records read", |s| {
        !s.contains("reading the trace records")
    });
    drop(s);
    s2
}

fn close_timeline(t: &Term, trace: &str) {
    t.keys(&["Escape"]);
    t.wait("the timeline closed", |s| {
        !s.contains(&format!("Timeline {trace}"))
    });
    t.keys(&["h", "/"]);
    for _ in 0..trace.len() {
        t.keys(&["BSpace"]);
    }
    t.keys(&["Enter"]);
}

#[test]
fn traces_pane_and_timeline_tell_each_flow_its_true_status() {
    let server = RedisServer::start();
    write_flows(&server);
    let t = Term::start("trace-status", &server.url(), "", None);
    t.wait_for("done");
    let s = t.wait("every status read", |s| {
        row(s, "BIGFL-5000000").contains("failed")
            && row(s, "RETRY-0000001").contains("completed · 1 retry")
            && row(s, "YOUNG-0000001").contains("no step records yet")
            && row(s, "UNRDB-0000001").contains("unreadable")
    });
    assert!(!row(&s, "YOUNG-0000001").contains("expired"), "{s}");

    let s = open_timeline(&t, "RETRY-0000001");
    assert!(
        s.contains("Timeline RETRY-0000001 Checkout completed · 1 retry"),
        "{s}"
    );
    close_timeline(&t, "RETRY-0000001");

    // Wide enough for the whole header line of the timeline.
    t.resize((250, 40));
    let s = open_timeline(&t, "BIGFL-5000000");
    assert!(s.contains("Timeline BIGFL-5000000 Bulk failed"), "{s}");
    t.wait_for("5000 steps · events of 3000 steps not read");
    close_timeline(&t, "BIGFL-5000000");
    t.resize((150, 40));

    let s = open_timeline(&t, "UNRDB-0000001");
    t.wait_for("started at an unknown time · 2 steps · 2 unreadable");
    assert!(!s.contains("1970"), "{s}");
    close_timeline(&t, "UNRDB-0000001");

    // Below 120 columns the status is a mark: an unreadable flow's is `!`, never `…`/`·`.
    t.resize((100, 40));
    let s = t.wait("the narrow rows", |s| {
        row(s, "UNRDB-0000001").contains(" ! ") && row(s, "RETRY-0000001").contains("Checkout · 1")
    });
    assert!(!row(&s, "UNRDB-0000001").contains('…'), "{s}");
    t.keys(&["q"]);
}
