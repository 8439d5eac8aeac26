//! End-to-end in tmux: Motia's trace records beside the state (written in the exact format by
//! the generator in tests/common/traces.rs), in the real binary against a private server.

mod common;

use common::RedisServer;
use common::term::Term;
use common::traces::write_reference;

#[test]
fn failed_flow_timeline_history_and_jump() {
    let server = RedisServer::start();
    write_reference(&server);
    let t = Term::start("traces", &server.url(), "", None);
    t.wait_for("done");
    // A failed flow is shown failed with its flow name (the terminal is 150 wide: words).
    let s = t.wait("the failed flow's status", |s| {
        s.lines().any(|l| {
            l.contains("W6SPF-3235264") && l.contains("failed") && l.contains("CheckoutApi")
        })
    });
    assert!(s.contains("newest"), "records sort newest first: {s}");
    // A flow with records but no state is listed, marked.
    assert!(
        s.lines()
            .any(|l| l.contains("NOSTA-2222222") && l.contains("/∅")),
        "{s}"
    );

    // The timeline of the failed flow: the failing step, its attempts and its error.
    t.keys(&["/"]);
    t.type_text("W6SPF");
    t.keys(&["Enter"]);
    t.wait_for("Keys · W6SPF-3235264");
    t.keys(&["T"]);
    t.wait_for("ProcessPayment · event · 6s · 4 attempts");
    let s = t.wait_for("Timeline W6SPF-3235264");
    assert!(s.contains("CheckoutApi"), "{s}");
    t.keys(&["j"]);
    t.wait_for("Step ProcessPayment");
    t.wait_for("4 attempts, all failed");
    t.wait_for("Card declined");
    // The whole stack, wrapped in the pane.
    t.wait_for("    at handler");
    t.wait_for("at async run (node:internal/process:1:1)");
    t.wait_for("dead-letter queue");
    t.keys(&["Escape"]);
    t.wait_for("Keys · W6SPF-3235264");

    // A key's history: both versions of `order`, compared with the value now.
    t.keys(&["h", "/"]);
    t.keys(&["BSpace", "BSpace", "BSpace", "BSpace", "BSpace"]);
    t.type_text("QH7KD");
    t.keys(&["Enter"]);
    t.wait_for("Keys · QH7KD-2104821");
    t.keys(&["Enter"]);
    t.wait_for("\"status\": \"confirmed\"");
    t.keys(&["H"]);
    let s = t.wait_for("History order");
    t.wait_for("newest set = the value now");
    let s2 = t.wait("two versions", |s| {
        s.contains("set      CreateOrder") && s.contains("set      ConfirmOrder")
    });
    assert!(s.contains("Motia trace records") || s2.contains("Motia trace records"));
    t.keys(&["="]);
    t.wait_for("the version before → this one: +1 -1");
    t.wait_for("+   \"status\": \"confirmed\"");
    // Esc alone (a key right after it would read as Alt-key).
    t.keys(&["Escape"]);
    t.wait("the history closed", |s| !s.contains("History order"));

    // From a state event of the timeline straight to the key.
    t.keys(&["T"]);
    t.wait_for("ConfirmOrder · event");
    t.keys(&["Enter"]); // CreateOrder's events
    t.wait_for("state set order");
    t.keys(&["j", "j"]);
    t.wait_for("Enter: go to the key order");
    t.keys(&["Enter"]);
    let s = t.wait("the Keys pane back", |s| s.contains("Keys · QH7KD-2104821"));
    assert!(!s.contains("Timeline"), "{s}");
    t.wait_for("\"status\": \"confirmed\"");
    // `cart` was deleted by the flow: the jump says so.
    t.keys(&["T"]);
    t.wait_for("ConfirmOrder · event");
    t.keys(&["j", "Enter"]); // ConfirmOrder's events
    t.wait_for("state delete cart");
    t.keys(&["j", "j", "j", "Enter"]);
    t.wait_for("cart no longer exists in trace QH7KD-2104821");

    // `:status failed` keeps the failed flows only.
    t.keys(&["Escape"]);
    t.wait("the timeline closed", |s| !s.contains("Timeline QH7KD"));
    t.keys(&["h", "/"]);
    t.keys(&["BSpace", "BSpace", "BSpace", "BSpace", "BSpace", "Enter"]);
    t.keys(&[":"]);
    t.type_text("status failed");
    t.keys(&["Enter"]);
    let s = t.wait_for("failed only");
    assert!(!s.contains("QH7KD-2104821"), "{s}");
    assert!(
        s.contains("W6SPF-3235264") && s.contains("NOSTA-2222222"),
        "{s}"
    );
    t.keys(&["q"]);
}
