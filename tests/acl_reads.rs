//! The least-privilege ACL lines of docs/production.md, parsed out of it (so this fails when the
//! page drifts), applied to a private server with Motia trace records, then every read
//! feature run as each user: `traces`, `trace`, `history`, `stats`, `gc`'s dry run, and the
//! browser's Traces pane, timeline (T) and history (H). A refused command is named as a
//! refusal, never as expired or missing records.

mod common;

use common::term::Term;
use common::traces::write_reference;
use common::{RedisServer, motia_state};

/// The `ACL SETUSER` lines of docs/production.md, exactly as written there.
fn documented_acl_lines() -> Vec<String> {
    let page = std::fs::read_to_string(common::root().join("docs/production.md")).unwrap();
    let lines: Vec<String> = page
        .lines()
        .filter(|l| l.starts_with("ACL SETUSER "))
        .map(str::to_string)
        .collect();
    assert_eq!(
        lines.len(),
        2,
        "docs/production.md has a reader and an editor line"
    );
    lines
}

/// A server with the reference flows and docs/production.md's users.
fn server() -> RedisServer {
    let s = RedisServer::start();
    write_reference(&s);
    // A flow whose records key holds another type: reported, and the others still read.
    common::traces::hset_raw(
        &s,
        "motia:trace:default",
        "WRTYP-6666666",
        r#"{"id":"WRTYP-6666666","name":"Odd","startTime":1765432104821}"#,
    );
    s.set_raw("motia:trace:WRTYP-6666666", "not a hash");
    s.set_raw("motia:state:WRTYP-6666666:k", "1");
    for line in documented_acl_lines() {
        let args: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(s.cli(&args), "OK", "{line}");
    }
    s
}

fn url(s: &RedisServer, user: &str, pass: &str) -> String {
    format!("redis://{user}:{pass}@127.0.0.1:{}", s.port)
}

fn run(url: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let out = motia_state()
        .args(["--url", url])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(url: &str, args: &[&str]) -> String {
    let (code, out, err) = run(url, args);
    assert_eq!(code, Some(0), "{args:?}: {err}");
    // The only flow whose records are gone is the one written without them.
    for l in err.lines().filter(|l| l.contains("expired")) {
        assert!(l.contains("EXPRD-3333333"), "{args:?}: {err}");
    }
    assert!(!err.contains("permission"), "{args:?}: {err}");
    out
}

/// Every CLI read feature over trace records, as one user: the same answers as the server's
/// default user gets.
fn cli_reads(url: &str, admin: &str) {
    for args in [
        &["traces", "--json"][..],
        &["trace", "W6SPF-3235264"],
        &["trace", "QH7KD-2104821", "--json"],
        &["history", "QH7KD-2104821", "order"],
    ] {
        assert_eq!(ok(url, args), ok(admin, args), "{args:?}");
    }
    let listing = ok(url, &["traces", "--json"]);
    assert!(listing.contains(r#""status":"failed""#), "{listing}");

    let stats = |u: &str| -> serde_json::Value {
        serde_json::from_str(&ok(u, &["stats", "--json"])).unwrap()
    };
    let (mine, theirs) = (stats(url), stats(admin));
    assert!(theirs["tracesWithRecords"].as_u64() > Some(0), "{theirs}");
    assert_eq!(
        mine["tracesWithRecords"], theirs["tracesWithRecords"],
        "{mine}"
    );
    // The dry run selects completed flows by their records' last activity (a year ago).
    let gc = ok(url, &["gc", "--older-than", "7d", "--delete"]);
    assert!(gc.contains("QH7KD-2104821"), "{gc}");
}

#[test]
fn the_readme_reader_and_editor_read_every_flow_feature() {
    let s = server();
    cli_reads(&url(&s, "motia-reader", "reader-secret"), &s.url());
    cli_reads(&url(&s, "motia-editor", "editor-secret"), &s.url());
}

#[test]
fn the_browser_reads_flows_timeline_and_history_as_the_readme_reader() {
    let s = server();
    let t = Term::start(
        "acl-flows",
        &url(&s, "motia-reader", "reader-secret"),
        "--read-only",
        None,
    );
    t.wait_for("done");
    let screen = t.wait("the failed flow's status", |s| {
        s.lines().any(|l| {
            l.contains("W6SPF-3235264") && l.contains("failed") && l.contains("CheckoutApi")
        })
    });
    for id in [
        "QH7KD-2104821",
        "RUNNG-0000001",
        "NOSTA-2222222",
        "OLDGR-1111111",
    ] {
        assert!(
            screen
                .lines()
                .any(|l| l.contains(id) && !l.contains("expired")),
            "{screen}"
        );
    }
    assert!(!screen.contains("permission"), "{screen}");

    t.keys(&["/"]);
    t.type_text("W6SPF");
    t.keys(&["Enter"]);
    t.wait_for("Keys · W6SPF-3235264");
    t.keys(&["T"]);
    t.wait_for("ProcessPayment · event · 6s · 4 attempts");
    t.keys(&["j"]);
    t.wait_for("Card declined");
    t.wait_for("dead-letter queue");
    t.keys(&["Escape"]);
    t.wait_for("Keys · W6SPF-3235264");

    t.keys(&["h", "/"]);
    t.keys(&["BSpace", "BSpace", "BSpace", "BSpace", "BSpace"]);
    t.type_text("QH7KD");
    t.keys(&["Enter"]);
    t.wait_for("Keys · QH7KD-2104821");
    t.keys(&["Enter"]);
    t.wait_for("\"status\": \"confirmed\"");
    t.keys(&["H"]);
    t.wait_for("History order");
    t.wait("two versions", |s| {
        s.contains("set      CreateOrder") && s.contains("set      ConfirmOrder")
    });
}

#[test]
fn a_refused_read_of_trace_records_is_named_never_called_expiry() {
    let s = server();
    // The reader without HKEYS (docs/production.md's line before this was fixed).
    let reader = documented_acl_lines()
        .into_iter()
        .find(|l| l.contains("motia-reader"))
        .unwrap()
        .replace("motia-reader", "motia-nohkeys");
    let args: Vec<&str> = reader.split_whitespace().collect();
    assert_eq!(s.cli(&args), "OK");
    assert_eq!(s.cli(&["ACL", "SETUSER", "motia-nohkeys", "-hkeys"]), "OK");
    let u = url(&s, "motia-nohkeys", "reader-secret");
    let refused = |u: &str, needs: &str| {
        for args in [
            &["trace", "W6SPF-3235264"][..],
            &["history", "QH7KD-2104821", "order"],
            &["traces", "--json"],
            &["stats"],
            // Never a selection of flows whose records could not be read.
            &["gc", "--no-records", "--delete"],
        ] {
            let (code, _, err) = run(u, args);
            assert_ne!(code, Some(0), "{args:?}: {err}");
            assert!(err.contains("permission denied"), "{args:?}: {err}");
            assert!(err.contains(needs), "{args:?}: {err}");
            assert!(!err.contains("expired"), "{args:?}: {err}");
        }
    };
    refused(&u, "the user needs +hkeys");
    let no_hmget = reader.replace("motia-nohkeys", "motia-nohmget");
    let args: Vec<&str> = no_hmget.split_whitespace().collect();
    assert_eq!(s.cli(&args), "OK");
    assert_eq!(s.cli(&["ACL", "SETUSER", "motia-nohmget", "-hmget"]), "OK");
    refused(
        &url(&s, "motia-nohmget", "reader-secret"),
        "the user needs +hmget",
    );

    let t = Term::start("acl-nohkeys", &u, "--read-only", None);
    let screen = t.wait_for("permission denied");
    assert!(!screen.contains("records expired"), "{screen}");
}

/// The README's reader may not run DBSIZE: the look for iii state beside the 0.x keys walks
/// instead of failing, and the note still comes.
#[test]
fn the_readme_reader_is_told_of_iii_state_beside_the_keys() {
    let s = server();
    s.cli(&["HSET", "state:orders", "o-1", r#"{"id":1}"#]);
    let (code, out, err) = run(&url(&s, "motia-reader", "reader-secret"), &["traces"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("W6SPF-3235264"), "{out}");
    assert!(err.contains("--layout iii"), "{err}");
    assert!(!err.contains("permission"), "{err}");
}
