//! Motia's trace records (written by the generator in tests/common/traces.rs, in the exact
//! format) read by the library and by the `traces --json`, `trace` and `history` commands.

mod common;

use std::collections::BTreeMap;

use common::RedisServer;
use common::motia_state as bin;
use common::traces::*;
use motia_state::RedisStateAdapter;
use motia_state::adapter::traces::{FlowStatus, Timeline, TraceLimits, key_history};
use serde_json::{Value, json};

fn on(server: &RedisServer) -> assert_cmd::Command {
    let mut c = bin();
    c.args(["--url", &server.url()]);
    c
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(c: &mut assert_cmd::Command) -> Run {
    let out = c.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

fn by_id(lines: &[Value]) -> BTreeMap<String, Value> {
    lines
        .iter()
        .map(|v| (v["traceId"].as_str().unwrap().to_string(), v.clone()))
        .collect()
}

#[tokio::test]
async fn the_library_reads_flows_in_both_shapes_and_names_what_it_cannot_read() {
    let s = RedisServer::start();
    write_reference(&s);
    let state = RedisStateAdapter::connect(s.config()).await.unwrap();
    let groups = state.scan_trace_groups().collect_all().await.unwrap();
    assert_eq!(groups.len(), 8);
    let summaries = state
        .flow_summaries(groups, TraceLimits::default())
        .await
        .unwrap();
    let get = |id: &str| summaries.iter().find(|s| s.trace_id == id).unwrap();
    let done = get("QH7KD-2104821");
    assert_eq!(
        (
            done.flow.as_deref(),
            done.status,
            done.start_time,
            done.steps
        ),
        (
            Some("CreateOrder"),
            Some(FlowStatus::Completed),
            Some(T0),
            2
        )
    );
    assert_eq!(get("W6SPF-3235264").status, Some(FlowStatus::Failed));
    assert_eq!(get("W6SPF-3235264").steps, 5);
    assert_eq!(get("RUNNG-0000001").status, Some(FlowStatus::Running));
    assert_eq!(get("OLDGR-1111111").status, Some(FlowStatus::Completed));
    let expired = get("EXPRD-3333333");
    assert!(expired.records_expired);
    assert_eq!((expired.status, expired.steps), (None, 0));
    let bad_group = get("BADGR-4444444");
    assert_eq!(bad_group.flow, None);
    assert!(
        bad_group.unreadable[0].reason.starts_with("not JSON"),
        "{:?}",
        bad_group.unreadable
    );
    assert_eq!(bad_group.unreadable[0].key, "motia:trace:default");
    let broken = get("BADST-5555555");
    // The readable step still counts; the two bad ones are named with their field and reason.
    assert_eq!(
        (broken.status, broken.steps),
        (Some(FlowStatus::Completed), 3)
    );
    let mut reasons: Vec<(String, String)> = broken
        .unreadable
        .iter()
        .map(|u| (u.field.clone(), u.reason.clone()))
        .collect();
    reasons.sort();
    assert_eq!(reasons[0].0, "not-json-step");
    assert!(reasons[0].1.starts_with("not JSON"));
    assert_eq!(
        reasons[1],
        ("odd-step".into(), "unknown status \"paused\"".into())
    );
}

#[tokio::test]
async fn the_timeline_folds_retries_and_finds_the_dead_letter() {
    let s = RedisServer::start();
    write_reference(&s);
    let state = RedisStateAdapter::connect(s.config()).await.unwrap();
    let records = state
        .read_trace("W6SPF-3235264", TraceLimits::default())
        .await
        .unwrap();
    let dead = state.dead_letters().await.unwrap();
    assert_eq!(dead.len(), 1);
    let tl = Timeline::new(&records, &dead);
    assert_eq!(tl.rows.len(), 2);
    let pay = &tl.rows[1];
    assert_eq!(pay.name, "ProcessPayment");
    assert_eq!(pay.attempts.len(), 4);
    assert_eq!(
        pay.attempts_text().as_deref(),
        Some("4 attempts, all failed")
    );
    assert_eq!(pay.error_line.as_deref(), Some("Card declined"));
    assert_eq!(pay.entry_type.as_deref(), Some("event"));
    assert_eq!(pay.offset_ms, 100);
    assert_eq!(pay.dead_letter.as_ref().unwrap().attempts, Some(4));
    // The stack has no header line: the full text puts the message first.
    let err = records.steps[pay.attempts[3]].error.as_ref().unwrap();
    assert!(err.full_text().starts_with("Card declined\n    at handler"));

    // A running step has no end.
    let running = state
        .read_trace("RUNNG-0000001", TraceLimits::default())
        .await
        .unwrap();
    let tl = Timeline::new(&running, &[]);
    assert_eq!(tl.rows[1].duration_ms, None);
    assert_eq!(tl.rows[1].status, FlowStatus::Running);
}

#[tokio::test]
async fn a_step_over_the_budget_is_read_by_its_ends_only() {
    let s = RedisServer::start();
    let t = "LARGE-0000001";
    let mut step = Step::new(1, "Bulk", "event", T0).failed("Too much");
    for i in 0..10_000 {
        step = step.event(log(
            T0 + i,
            &format!("event number {i} with some padding text"),
        ));
    }
    Flow::new(t, "Bulk", T0)
        .step(step)
        .step(Step::new(2, "Small", "event", T0 + 1))
        .write(&s);
    let state = RedisStateAdapter::connect(s.config()).await.unwrap();
    let limits = TraceLimits {
        bytes: 64 * 1024,
        steps: 100,
    };
    let records = state.read_trace(t, limits).await.unwrap();
    assert!(records.unreadable.is_empty(), "{:?}", records.unreadable);
    let big = records.steps.iter().find(|s| s.name == "Bulk").unwrap();
    assert!(big.omitted_bytes.unwrap() > 64 * 1024);
    assert!(big.events.is_empty());
    assert_eq!(big.status, FlowStatus::Failed);
    assert_eq!(big.error.as_ref().unwrap().message, "Too much");
    assert_eq!(big.end_time, Some(T0 + 40));
    let small = records.steps.iter().find(|s| s.name == "Small").unwrap();
    assert_eq!(small.omitted_bytes, None);
    assert_eq!(records.status(), Some(FlowStatus::Failed));

    // With room, everything is read.
    let all = state.read_trace(t, TraceLimits::default()).await.unwrap();
    assert_eq!(all.steps[0].events.len(), 10_000);
}

#[tokio::test]
async fn a_key_history_lists_sets_with_values_and_deletes() {
    let s = RedisServer::start();
    write_reference(&s);
    let state = RedisStateAdapter::connect(s.config()).await.unwrap();
    let records = state
        .read_trace("QH7KD-2104821", TraceLimits::default())
        .await
        .unwrap();
    let h = key_history(&records, "QH7KD-2104821", "order", false);
    let ops: Vec<(&str, &str)> = h
        .iter()
        .map(|e| (e.step.as_str(), e.operation.as_str()))
        .collect();
    assert_eq!(ops, [("CreateOrder", "set"), ("ConfirmOrder", "set")]);
    assert_eq!(h[1].value, Some(json!({"id":"ord_1","status":"confirmed"})));
    assert_eq!(
        key_history(&records, "QH7KD-2104821", "order", true).len(),
        3
    );
    let cart = key_history(&records, "QH7KD-2104821", "cart", false);
    assert_eq!(cart.last().unwrap().operation, "delete");
}

#[test]
fn traces_json_joins_state_and_records() {
    let s = RedisServer::start();
    write_reference(&s);
    s.set_raw("motia:state:plain-trace:k", "1");
    let r = run(on(&s).args(["traces", "--json"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines = json_lines(&r.stdout);
    let ids: Vec<&str> = lines
        .iter()
        .map(|v| v["traceId"].as_str().unwrap())
        .collect();
    // Traces with state only, sorted; no NOSTA/EXPRD (no state).
    assert_eq!(
        ids,
        [
            "BADGR-4444444",
            "BADST-5555555",
            "OLDGR-1111111",
            "QH7KD-2104821",
            "RUNNG-0000001",
            "W6SPF-3235264",
            "plain-trace"
        ]
    );
    let m = by_id(&lines);
    assert_eq!(
        m["W6SPF-3235264"],
        json!({"traceId":"W6SPF-3235264","keys":1,"flow":"CheckoutApi","status":"failed","startTime":T0 + 1000,"steps":5})
    );
    assert_eq!(
        m["plain-trace"],
        json!({"traceId":"plain-trace","keys":1,"flow":null,"status":null,"startTime":null,"steps":null})
    );
    assert_eq!(m["RUNNG-0000001"]["status"], "running");
    assert_eq!(m["OLDGR-1111111"]["status"], "completed");
    // Unreadable records are named on stderr with trace, field and reason; the rest printed.
    assert!(r.stderr.contains("trace BADGR-4444444: unreadable record motia:trace:default field BADGR-4444444: not JSON"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("field odd-step: unknown status \"paused\""),
        "{}",
        r.stderr
    );

    let r = run(on(&s).args(["traces", "--json", "--all"]));
    let m = by_id(&json_lines(&r.stdout));
    assert_eq!(m.len(), 9);
    assert_eq!(m["NOSTA-2222222"]["keys"], 0);
    assert_eq!(m["NOSTA-2222222"]["status"], "failed");
    assert_eq!(m["EXPRD-3333333"]["flow"], "Forgotten");
    assert_eq!(m["EXPRD-3333333"]["status"], Value::Null);
    assert!(
        r.stderr.contains(
            "EXPRD-3333333: the group record lists it, but its step records have expired"
        )
    );

    let r = run(on(&s).args(["traces", "--json", "--all", "--status", "failed"]));
    let ids: Vec<String> = json_lines(&r.stdout)
        .iter()
        .map(|v| v["traceId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["NOSTA-2222222", "W6SPF-3235264"]);

    // Plain `traces` is unchanged.
    let r = run(on(&s).arg("traces"));
    assert_eq!(r.stdout.lines().count(), 7);
    assert!(!r.stdout.contains('{'));

    // A bad status is refused before connecting.
    let r = run(bin().args(["--port", "1", "traces", "--status", "done"]));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("invalid --status \"done\""),
        "{}",
        r.stderr
    );
}

#[test]
fn trace_prints_the_timeline_and_exits_1_without_records() {
    let s = RedisServer::start();
    write_reference(&s);
    let r = run(on(&s).args(["trace", "W6SPF-3235264"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .starts_with("trace W6SPF-3235264  flow CheckoutApi  failed"),
        "{}",
        r.stdout
    );
    let pay = r
        .stdout
        .lines()
        .find(|l| l.contains("ProcessPayment"))
        .unwrap();
    assert!(pay.contains("event") && pay.contains("failed"), "{pay}");
    assert!(
        pay.contains("4 attempts, all failed; Card declined; sent to the dead-letter queue"),
        "{pay}"
    );

    let r = run(on(&s).args(["trace", "W6SPF-3235264", "--json"]));
    let steps = json_lines(&r.stdout);
    assert_eq!(steps.len(), 5);
    assert_eq!(steps[0]["name"], "CheckoutApi");
    assert_eq!(steps[0]["type"], "api");
    assert_eq!(
        steps[0]["events"][0]["data"]["value"],
        json!({"status":"pending"})
    );
    assert_eq!(steps[4]["status"], "failed");
    assert_eq!(steps[4]["error"]["message"], "Card declined");
    let keys: Vec<&String> = steps[0].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "id",
            "name",
            "type",
            "status",
            "startTime",
            "endTime",
            "error",
            "events"
        ]
    );
    let r = run(on(&s).args(["trace", "RUNNG-0000001", "--json"]));
    assert_eq!(json_lines(&r.stdout)[1]["endTime"], Value::Null);

    let r = run(on(&s).args(["trace", "NOPE0-0000000"]));
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("has no step records"), "{}", r.stderr);
    let r = run(on(&s).args(["trace", "EXPRD-3333333"]));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("step records have expired"),
        "{}",
        r.stderr
    );

    // Unreadable steps are reported, the readable one printed.
    let r = run(on(&s).args(["trace", "BADST-5555555", "--json"]));
    assert_eq!(r.code, 0);
    assert_eq!(json_lines(&r.stdout).len(), 1);
    assert!(
        r.stderr.contains("field not-json-step: not JSON"),
        "{}",
        r.stderr
    );

    // Another trace prefix.
    let r = run(on(&s).args(["--trace-prefix", "other:", "trace", "W6SPF-3235264"]));
    assert_eq!(r.code, 1);
}

#[test]
fn history_lists_operations_oldest_first() {
    let s = RedisServer::start();
    write_reference(&s);
    let r = run(on(&s).args(["history", "QH7KD-2104821", "order", "--json"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        json_lines(&r.stdout),
        [
            json!({"timestamp":T0 + 20,"step":"CreateOrder","operation":"set","value":{"id":"ord_1","status":"pending"}}),
            json!({"timestamp":T0 + 120,"step":"ConfirmOrder","operation":"set","value":{"id":"ord_1","status":"confirmed"}}),
        ]
    );
    let r = run(on(&s).args(["history", "QH7KD-2104821", "order", "--json", "--reads"]));
    let ops: Vec<Value> = json_lines(&r.stdout)
        .iter()
        .map(|v| v["operation"].clone())
        .collect();
    assert_eq!(ops, [json!("set"), json!("get"), json!("set")]);
    assert!(
        !json_lines(&r.stdout)[1]
            .as_object()
            .unwrap()
            .contains_key("value")
    );

    let r = run(on(&s).args(["history", "QH7KD-2104821", "cart"]));
    let last = r.stdout.lines().last().unwrap();
    assert!(last.contains("ConfirmOrder  delete"), "{last}");

    // A clear counts for every key of the group.
    let r = run(on(&s).args(["history", "NOSTA-2222222", "anything", "--json"]));
    assert_eq!(json_lines(&r.stdout)[0]["operation"], "clear");

    let r = run(on(&s).args(["history", "QH7KD-2104821", "never-touched"]));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("touches key \"never-touched\""),
        "{}",
        r.stderr
    );
}
