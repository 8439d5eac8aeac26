//! A flow's status told truthfully: from every step record (not the first 2,000), from each
//! step's final attempt, `unknown` when records could not be read, and "no step records yet"
//! for a flow too young to have lost them.

mod common;

use common::RedisServer;
use common::motia_state as bin;
use common::traces::*;
use motia_state::RedisStateAdapter;
use motia_state::adapter::traces::{FlowStatus, TraceLimits};
use serde_json::{Value, json};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(server: &RedisServer, args: &[&str]) -> Run {
    run_as(&server.url(), args)
}

fn run_as(url: &str, args: &[&str]) -> Run {
    let out = bin().args(["--url", url]).args(args).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

fn flow_line(r: &Run, trace: &str) -> Value {
    lines(&r.stdout)
        .into_iter()
        .find(|v| v["traceId"] == trace)
        .unwrap_or_else(|| panic!("{trace} not listed: {}", r.stdout))
}

const BIG: &str = "BIGFL-5000000";
const STEPS: u32 = 5_000;

/// 5,000 steps with distinct names; step 4,321 failed; step 4,500 is the largest record and
/// the only one that writes key `deep`.
fn write_big_flow(s: &RedisServer) {
    let mut f = Flow::new(BIG, "Bulk", T0);
    for i in 0..STEPS {
        let at = T0 + i64::from(i) * 10;
        let mut step = Step::new(i + 1, &format!("Step{i:04}"), "event", at);
        if i == 4_321 {
            step = step.failed("Out of stock");
        }
        if i == 4_500 {
            step = step.event(set(at + 1, BIG, "deep", json!({"n": 4500})));
            for e in 0..50 {
                step = step.event(log(at + 2, &format!("padding {e}")));
            }
        }
        f = f.step(step);
    }
    f.write(s);
    s.set_raw(&format!("motia:state:{BIG}:deep"), r#"{"n":4500}"#);
}

#[test]
fn a_failure_deep_in_a_flow_of_5000_steps_makes_it_failed_and_every_record_is_read() {
    let s = RedisServer::start();
    write_big_flow(&s);
    let r = run(&s, &["traces", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = flow_line(&r, BIG);
    assert_eq!(
        (&v["status"], &v["steps"]),
        (&json!("failed"), &json!(5000))
    );
    assert_eq!(v["failedAttempts"], 1);

    // `trace --json` pages through every record, in start order.
    let r = run(&s, &["trace", BIG, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let steps = lines(&r.stdout);
    assert_eq!(steps.len(), STEPS as usize);
    assert!(
        steps
            .windows(2)
            .all(|w| w[0]["startTime"].as_i64() < w[1]["startTime"].as_i64())
    );
    assert_eq!(steps[4_321]["status"], "failed");
    assert_eq!(steps[4_500]["events"].as_array().unwrap().len(), 51);
    let r = run(&s, &["trace", BIG]);
    assert!(
        r.stdout
            .starts_with(&format!("trace {BIG}  flow Bulk  failed")),
        "{}",
        r.stdout.lines().next().unwrap_or("")
    );
    assert!(r.stdout.contains("Out of stock"));

    // `history` finds the write in step 4,500, past any first 2,000.
    let r = run(&s, &["history", BIG, "deep", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(lines(&r.stdout)[0]["value"], json!({"n": 4500}));
}

#[test]
fn without_the_right_to_run_scripts_every_record_is_still_read() {
    let s = RedisServer::start();
    write_big_flow(&s);
    s.cli(&[
        "ACL",
        "SETUSER",
        "noscript",
        "on",
        ">pw",
        "~*",
        "&*",
        "+@all",
        "-@scripting",
    ]);
    let url = format!("redis://noscript:pw@127.0.0.1:{}", s.port);
    let r = run_as(&url, &["traces", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = flow_line(&r, BIG);
    assert_eq!(
        (&v["status"], &v["steps"]),
        (&json!("failed"), &json!(5000))
    );
}

#[test]
fn read_only_key_permissions_read_headers_with_the_read_only_script() {
    let s = RedisServer::start();
    write_big_flow(&s);
    s.cli(&["ACL", "SETUSER", "ro", "on", ">pw", "%R~*", "&*", "+@all"]);
    s.cli(&["CONFIG", "RESETSTAT"]);
    let url = format!("redis://ro:pw@127.0.0.1:{}", s.port);
    let r = run_as(&url, &["traces", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = flow_line(&r, BIG);
    assert_eq!(
        (&v["status"], &v["steps"]),
        (&json!("failed"), &json!(5000))
    );
    let stats = s.cli(&["INFO", "commandstats"]);
    assert!(stats.contains("cmdstat_evalsha_ro:calls="), "{stats}");
}

#[tokio::test]
async fn over_the_header_budget_the_status_is_unknown_never_a_guess() {
    let s = RedisServer::start();
    let mut f = Flow::new("SMALL-0000001", "Few", T0);
    for i in 0..100 {
        f = f.step(Step::new(
            i + 1,
            &format!("S{i}"),
            "event",
            T0 + i64::from(i),
        ));
    }
    f.write(&s);
    let state = RedisStateAdapter::connect(s.config()).await.unwrap();
    let tight = TraceLimits {
        header_bytes: 10_000,
        ..TraceLimits::default()
    };
    let r = state.read_trace("SMALL-0000001", tight).await.unwrap();
    assert_eq!((r.status(), r.not_read), (Some(FlowStatus::Unknown), 100));
    assert_eq!(r.failed_attempts(), None);
    let r = state
        .read_trace("SMALL-0000001", TraceLimits::default())
        .await
        .unwrap();
    assert_eq!(
        (r.status(), r.steps.len()),
        (Some(FlowStatus::Completed), 100)
    );
}

#[tokio::test]
async fn a_pretty_printed_record_over_the_budget_is_read_by_its_ends() {
    let s = RedisServer::start();
    let t = "PRETT-0000001";
    let mut step = Step::new(1, "Bulk", "event", T0).failed("Too much");
    for i in 0..5_000 {
        step = step.event(log(T0 + i, &format!("event number {i}")));
    }
    let doc: Value = serde_json::from_str(&step.to_json(t)).unwrap();
    hset_raw(
        &s,
        &format!("motia:trace:{t}"),
        &step.id,
        &serde_json::to_string_pretty(&doc).unwrap(),
    );
    let state = RedisStateAdapter::connect(s.config()).await.unwrap();
    let limits = TraceLimits {
        bytes: 64 * 1024,
        ..TraceLimits::default()
    };
    let r = state.read_trace(t, limits).await.unwrap();
    assert!(r.unreadable.is_empty(), "{:?}", r.unreadable);
    let big = &r.steps[0];
    assert_eq!(
        (big.status, big.end_time),
        (FlowStatus::Failed, Some(T0 + 40))
    );
    assert_eq!(big.error.as_ref().unwrap().message, "Too much");
    assert!(big.omitted_bytes.is_some());
}

#[test]
fn a_step_that_completed_on_a_retry_leaves_its_flow_completed_with_the_failure_counted() {
    let s = RedisServer::start();
    let t = "RETRY-0000001";
    Flow::new(t, "Checkout", T0)
        .step(Step::new(1, "Checkout", "api", T0))
        .step(Step::new(2, "Pay", "event", T0 + 100).failed("Card declined"))
        .step(Step::new(3, "Pay", "event", T0 + 2100))
        .write(&s);
    s.set_raw(&format!("motia:state:{t}:order"), "1");
    let r = run(&s, &["traces", "--json"]);
    let v = flow_line(&r, t);
    assert_eq!(
        (&v["status"], &v["failedAttempts"]),
        (&json!("completed"), &json!(1))
    );
    let r = run(&s, &["trace", t]);
    assert!(
        r.stdout
            .starts_with(&format!("trace {t}  flow Checkout  completed")),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("2 attempts, last completed"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_flow_that_just_started_has_no_step_records_yet_and_an_old_one_expired_records() {
    let s = RedisServer::start();
    let now = chrono::Utc::now().timestamp_millis();
    Flow::new("YOUNG-0000001", "Fresh", now - 5_000).write(&s);
    Flow::new("OLDER-0000001", "Stale", now - 4 * 86_400_000).write(&s);
    hset_raw(
        &s,
        "motia:trace:default",
        "NOTIM-0000001",
        r#"{"name":"Timeless"}"#,
    );
    let r = run(&s, &["traces", "--json", "--all"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("YOUNG-0000001: the group record lists it, but it has no step records yet (it started 5s ago)"),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains(
            "YOUNG-0000001: the group record lists it, but its step records have expired"
        )
    );
    assert!(
        r.stderr.contains(
            "OLDER-0000001: the group record lists it, but its step records have expired"
        )
    );
    assert!(
        r.stderr
            .contains("NOTIM-0000001: the group record lists it without a start time")
    );

    let r = run(&s, &["trace", "YOUNG-0000001"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("trace \"YOUNG-0000001\" has no step records yet (it started"),
        "{}",
        r.stderr
    );
    let r = run(&s, &["trace", "OLDER-0000001"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("trace \"OLDER-0000001\": its step records have expired"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_flow_of_one_step_says_1_step() {
    let s = RedisServer::start();
    Flow::new("ONEST-0000001", "Solo", T0)
        .step(Step::new(1, "Solo", "api", T0))
        .write(&s);
    let r = run(&s, &["trace", "ONEST-0000001"]);
    assert!(
        r.stdout.lines().next().unwrap().ends_with("  1 step"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_start_time_out_of_range_is_named_never_printed_as_i64_max() {
    let s = RedisServer::start();
    // A start time no clock can show is named, never printed as i64::MAX.
    hset_raw(
        &s,
        "motia:trace:default",
        "HUGET-0000001",
        r#"{"name":"Far","startTime":1e20}"#,
    );
    s.set_raw("motia:state:HUGET-0000001:k", "1");
    let r = run(&s, &["traces", "--json"]);
    assert!(!r.stdout.contains("9223372036854775807"), "{}", r.stdout);
    assert!(
        r.stderr
            .contains("\"startTime\" 1e+20 is out of the range of times"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_group_hash_of_another_type_still_lists_the_traces_with_state() {
    // The group hash as a string: the traces with state are still listed, with a warning.
    let s = RedisServer::start();
    s.set_raw("motia:trace:default", "oops");
    s.set_raw("motia:state:STATE-0000001:k", "1");
    let r = run(&s, &["traces", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(flow_line(&r, "STATE-0000001")["keys"], 1);
    assert!(
        r.stderr
            .contains("motia:trace:default is not a hash of trace groups"),
        "{}",
        r.stderr
    );
}

#[test]
fn flows_of_unknown_status_are_chosen_by_the_word_unknown() {
    let s = RedisServer::start();
    Flow::new("GOODF-0000001", "Fine", T0)
        .step(Step::new(1, "Fine", "api", T0))
        .write(&s);
    Flow::new("BADRC-0000001", "Odd", T0)
        .step(Step::new(1, "Odd", "api", T0))
        .write(&s);
    hset_raw(&s, "motia:trace:BADRC-0000001", "torn", "{\"id\":\"torn\",");
    let r = run(&s, &["traces", "--json", "--all", "--status", "unknown"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let listed: Vec<Value> = lines(&r.stdout)
        .into_iter()
        .map(|v| v["traceId"].clone())
        .collect();
    assert_eq!(listed, [json!("BADRC-0000001")], "{}", r.stdout);
    let r = run(&s, &["traces", "--json", "--all", "--status", "completed"]);
    assert!(!r.stdout.contains("BADRC"), "{}", r.stdout);
    let r = run(&s, &["traces", "--status", "paused"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("failed, running, completed, unknown or all"),
        "{}",
        r.stderr
    );
}
