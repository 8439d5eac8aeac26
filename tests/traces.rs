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
    // The two bad ones are named with their field and reason; either may be a step's last
    // attempt, so the flow's status is unknown, never the readable step's.
    assert_eq!(
        (broken.status, broken.steps),
        (Some(FlowStatus::Unknown), 3)
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
        ..TraceLimits::default()
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

/// The light read of a key's history (values as text, a page of documents at a time) finds
/// what key_history finds in the records parsed whole, for every key and with reads.
#[tokio::test]
async fn read_key_history_matches_key_history_of_the_whole_records() {
    let s = RedisServer::start();
    write_reference(&s);
    let state = RedisStateAdapter::connect(s.config()).await.unwrap();
    let t = "QH7KD-2104821";
    let records = state.read_trace(t, TraceLimits::default()).await.unwrap();
    for key in ["order", "cart", "missing"] {
        for reads in [false, true] {
            let light = state
                .read_key_history(t, t, key, reads, TraceLimits::default())
                .await
                .unwrap();
            assert!(light.records.exists());
            assert_eq!(light.records.steps.len(), records.steps.len());
            let got: Vec<_> = light
                .events
                .iter()
                .map(|e| {
                    let v = e
                        .value
                        .as_deref()
                        .map(|v| serde_json::from_str::<Value>(v).unwrap());
                    (
                        e.timestamp,
                        e.step.clone(),
                        e.step_index,
                        e.operation.clone(),
                        v,
                    )
                })
                .collect();
            let want: Vec<_> = key_history(&records, t, key, reads)
                .into_iter()
                .map(|e| (e.timestamp, e.step, e.step_index, e.operation, e.value))
                .collect();
            assert_eq!(got, want, "{key} reads={reads}");
        }
    }
    let none = state
        .read_key_history(
            "no-such-trace",
            "no-such-trace",
            "order",
            false,
            TraceLimits::default(),
        )
        .await
        .unwrap();
    assert!(!none.records.exists() && none.events.is_empty());
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
        json!({"traceId":"W6SPF-3235264","keys":1,"flow":"CheckoutApi","status":"failed","startTime":T0 + 1000,"steps":5,"failedAttempts":4})
    );
    assert_eq!(
        m["plain-trace"],
        json!({"traceId":"plain-trace","keys":1,"flow":null,"status":null,"startTime":null,"steps":null,"failedAttempts":null})
    );
    // The fields in their order, the new one last.
    let line = r
        .stdout
        .lines()
        .find(|l| l.contains("QH7KD-2104821"))
        .unwrap();
    assert_eq!(
        line,
        format!(
            r#"{{"traceId":"QH7KD-2104821","keys":1,"flow":"CreateOrder","status":"completed","startTime":{T0},"steps":2,"failedAttempts":0}}"#
        )
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

/// `demo --static --no-browser`: the fixed set, its URL read from stdout; killed on drop.
struct StaticDemo {
    child: std::process::Child,
    url: String,
}

impl Drop for StaticDemo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn static_demo() -> StaticDemo {
    use std::io::{BufRead, BufReader};
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("motia-state"));
    for v in common::MOTIA_ENV {
        cmd.env_remove(v);
    }
    let mut child = cmd
        .args(["demo", "--static", "--no-browser"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut url = None;
    // The first line names the URL once the set is written; reading blocks until then.
    for line in lines.by_ref().map_while(Result::ok) {
        if let Some(i) = line.find("redis://") {
            url = Some(line[i..].split_whitespace().next().unwrap().to_string());
            break;
        }
    }
    // Keep reading, so the demo never writes to a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    StaticDemo {
        child,
        url: url.expect("the demo printed its URL"),
    }
}

#[test]
fn the_static_demo_writes_flows_whose_records_match_the_state() {
    let demo = static_demo();
    let cli = |args: &[&str]| {
        let mut c = bin();
        c.args(["--url", &demo.url]).args(args);
        run(&mut c)
    };
    let r = cli(&["traces", "--json", "--all"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let flows = json_lines(&r.stdout);
    assert_eq!(flows.len(), 41);
    let count = |s: &str| flows.iter().filter(|f| f["status"] == s).count();
    // 4 payments failed for good; 10 more failed once and completed on the retry, so their
    // flows go on (2 of them shipping, running, beside 2 more shipments).
    assert_eq!(
        (count("failed"), count("running"), count("completed")),
        (4, 4, 33)
    );
    let attempts = |n: u64| flows.iter().filter(|f| f["failedAttempts"] == n).count();
    assert_eq!((attempts(4), attempts(1), attempts(0)), (4, 10, 27));
    assert!(flows.iter().all(|f| {
        let id = f["traceId"].as_str().unwrap();
        id.len() == 13 && id.as_bytes()[5] == b'-' && id[6..].bytes().all(|b| b.is_ascii_digit())
    }));
    // The same ids every run.
    assert_eq!(flows[0]["traceId"], "18ZYB-1560967");

    let payments: Vec<String> = flows
        .iter()
        .filter(|f| f["failedAttempts"].as_u64() > Some(0))
        .map(|f| {
            let r = cli(&["trace", f["traceId"].as_str().unwrap()]);
            r.stdout
                .lines()
                .find(|l| l.contains("ProcessPayment"))
                .unwrap()
                .to_string()
        })
        .collect();
    let given_up: Vec<&String> = payments
        .iter()
        .filter(|l| l.contains("4 attempts, all failed"))
        .collect();
    assert_eq!(given_up.len(), 4);
    assert!(
        given_up.iter().all(|l| l.contains("dead-letter queue")),
        "{given_up:?}"
    );
    let retried = payments
        .iter()
        .filter(|l| l.contains("2 attempts, last completed"));
    assert_eq!(retried.count(), 10);

    // Every set event carries exactly what was written: the newest set of each key is its value.
    for f in flows.iter().take(12) {
        let id = f["traceId"].as_str().unwrap();
        let keys = cli(&["keys", id]).stdout;
        for key in keys.lines().filter(|k| *k != "legacy:note") {
            let r = cli(&["history", id, key, "--json"]);
            assert_eq!(r.code, 0, "{id} {key}: {}", r.stderr);
            let last = json_lines(&r.stdout).pop().unwrap();
            let now: Value = serde_json::from_str(&cli(&["get", id, key]).stdout).unwrap();
            assert_eq!(last["value"], now, "{id} {key}");
        }
    }
    // The large value's step is read whole by `trace`, and by its ends in the listing.
    let sync = flows.iter().find(|f| f["flow"] == "SyncCatalog").unwrap();
    assert_eq!(sync["status"], "completed");
    let r = cli(&["trace", sync["traceId"].as_str().unwrap(), "--json"]);
    assert!(r.stdout.len() > 2_000_000);
}
