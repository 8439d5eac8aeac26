//! The adapter against real, private redis-server processes: values, groups, items, TTLs,
//! prefixes, errors, windows, compare-and-set, export/import and read-only mode.
//!
//! Every test starts its own server (a few milliseconds), so tests run in parallel and no
//! server outlives the test process; groups are still distinct per test for readable failures.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{RedisServer, item};
use motia_state::export::{self, ExportData, ExportDocument};
use motia_state::{
    CasOutcome, Config, Error, Expiry, ItemsQuery, RedisStateAdapter, StateFilter, Ttl, ValueType,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

const P: &str = "motia:state:";

async fn open(server: &RedisServer) -> RedisStateAdapter {
    open_with(server, |_| {}).await
}

async fn open_with(server: &RedisServer, edit: impl FnOnce(&mut Config)) -> RedisStateAdapter {
    let mut config = server.config();
    edit(&mut config);
    RedisStateAdapter::connect(config).await.unwrap()
}

/// Parses JSON text keeping every digit (the crate enables `arbitrary_precision`).
fn v(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

fn full(group: &str, key: &str) -> String {
    format!("{P}{group}:{key}")
}

fn sorted<T: Ord>(mut items: Vec<T>) -> Vec<T> {
    items.sort();
    items
}

fn secs_left(ttl: Ttl) -> u64 {
    match ttl {
        Ttl::Expires(d) => d.as_secs(),
        other => panic!("expected an expiry, got {other:?}"),
    }
}

// ---------------------------------------------------------------- values

/// (value as JSON text a Motia app would produce, the text `JSON.stringify` stores).
const ROUND_TRIP: &[(&str, &str)] = &[
    (r#""hello""#, r#""hello""#),
    (r#""""#, r#""""#),
    ("42", "42"),
    ("-7", "-7"),
    ("0", "0"),
    // 2^53 + 1: a JS number would round it, but what a JS app stores survives our round trip.
    ("9007199254740993", "9007199254740993"),
    ("18446744073709551616", "18446744073709551616"),
    (
        "-123456789012345678901234567890",
        "-123456789012345678901234567890",
    ),
    ("3.14", "3.14"),
    ("-0.5", "-0.5"),
    ("0.30000000000000004", "0.30000000000000004"),
    ("1e+21", "1e+21"),
    ("1.5e-7", "1.5e-7"),
    ("true", "true"),
    ("false", "false"),
    ("null", "null"),
    ("{}", "{}"),
    ("[]", "[]"),
    (
        r#"{ "zeta": 1, "alpha": {"y": [1, 2], "b": null}, "mid": "x" }"#,
        r#"{"zeta":1,"alpha":{"y":[1,2],"b":null},"mid":"x"}"#,
    ),
    (
        r#"[1, "two", null, true, {"x": []}, [[]]]"#,
        r#"[1,"two",null,true,{"x":[]},[[]]]"#,
    ),
    (
        r#""héllo wörld 世界 🎉 \u00e9""#,
        r#""héllo wörld 世界 🎉 é""#,
    ),
    (
        r#""q\" b\\ n\n r\r t\t bs\b ff\f c\u0001 us\u001f del\u007f slash\/ ls\u2028""#,
        "\"q\\\" b\\\\ n\\n r\\r t\\t bs\\b ff\\f c\\u0001 us\\u001f del\u{7f} slash/ ls\u{2028}\"",
    ),
    (
        r#"{"user:1:profile": {"name": "Zoë", "tags": ["a", "b"]}, "n": 12345678901234567890123}"#,
        r#"{"user:1:profile":{"name":"Zoë","tags":["a","b"]},"n":12345678901234567890123}"#,
    ),
];

#[tokio::test]
async fn every_json_type_round_trips_and_is_stored_as_json_stringify_would() {
    let server = RedisServer::start();
    let state = open(&server).await;
    for (i, (input, stored)) in ROUND_TRIP.iter().enumerate() {
        let key = format!("k{i}");
        let value = v(input);
        state.set("types", &key, &value).await.unwrap();
        assert_eq!(
            server.cli(&["GET", &full("types", &key)]),
            *stored,
            "stored text of {input}"
        );
        let raw = state
            .get_raw(item(&state, "types", &key))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(raw, stored.as_bytes(), "get_raw of {input}");
        let back: Value = state.get("types", &key).await.unwrap().unwrap();
        assert_eq!(back, value, "get of {input}");
        // Through set_json (the CLI's and the editor's path) the text is kept as written, only
        // whitespace between tokens removed: a JSON string keeps its escapes (`\u00e9`).
        let key2 = format!("j{i}");
        let as_written = if input.starts_with('"') {
            input
        } else {
            stored
        };
        let compact = state
            .set_json(item(&state, "types", &key2), input, None)
            .await
            .unwrap();
        assert_eq!(compact, *as_written);
        assert_eq!(server.cli(&["GET", &full("types", &key2)]), *as_written);
    }
}

#[tokio::test]
async fn rust_values_are_stored_compact() {
    let server = RedisServer::start();
    let state = open(&server).await;
    state.set("rs", "s", "hello").await.unwrap();
    state.set("rs", "n", &42u64).await.unwrap();
    state.set("rs", "big", &u64::MAX).await.unwrap();
    state.set("rs", "neg", &i64::MIN).await.unwrap();
    state
        .set("rs", "i128", &(u64::MAX as i128 * 4))
        .await
        .unwrap();
    state.set("rs", "f", &3.25f64).await.unwrap();
    state.set("rs", "b", &true).await.unwrap();
    state.set("rs", "none", &Option::<u8>::None).await.unwrap();
    state
        .set("rs", "obj", &json!({"b": 1, "a": [1.5, "x"]}))
        .await
        .unwrap();
    let get = |k: &str| server.cli(&["GET", &full("rs", k)]);
    assert_eq!(get("s"), r#""hello""#);
    assert_eq!(get("n"), "42");
    assert_eq!(get("big"), "18446744073709551615");
    assert_eq!(get("neg"), "-9223372036854775808");
    assert_eq!(get("i128"), "73786976294838206460");
    assert_eq!(get("f"), "3.25");
    assert_eq!(get("b"), "true");
    assert_eq!(get("none"), "null");
    assert_eq!(get("obj"), r#"{"b":1,"a":[1.5,"x"]}"#);
    // Rust floats are spelled as JSON.stringify spells the same JS number.
    let floats = [1.0, 120.0, -0.0, 1e21, 1e-7, 1e-6, 0.1 + 0.2];
    state.set("rs", "floats", &floats).await.unwrap();
    assert_eq!(
        get("floats"),
        "[1,120,0,1e+21,1e-7,0.000001,0.30000000000000004]"
    );
    let back: Vec<f64> = state.get("rs", "floats").await.unwrap().unwrap();
    assert_eq!(back, floats);
    let big: u64 = state.get("rs", "big").await.unwrap().unwrap();
    assert_eq!(big, u64::MAX);
    let huge: i128 = state.get("rs", "i128").await.unwrap().unwrap();
    assert_eq!(huge, u64::MAX as i128 * 4);
}

#[tokio::test]
async fn a_value_read_and_written_back_is_byte_identical() {
    let server = RedisServer::start();
    let state = open(&server).await;
    // What Motia's JSON.stringify writes: compact, unescaped unicode, JS number spellings.
    let stored = r#"{"z":1,"a":{"big":123456789012345678901234567890,"e":1e+21,"small":1.5e-7,"f":0.30000000000000004},"s":"Zoë \"q\" \\ \n 🎉","l":[null,true,false,-0.25]}"#;
    server.set_raw(&full("rt", "doc"), stored);

    let raw = state
        .get_raw(item(&state, "rt", "doc"))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8(raw.clone()).unwrap();
    state
        .set_json(item(&state, "rt", "doc"), &text, None)
        .await
        .unwrap();
    assert_eq!(
        state
            .get_raw(item(&state, "rt", "doc"))
            .await
            .unwrap()
            .unwrap(),
        raw
    );

    let value: Value = state.get("rt", "doc").await.unwrap().unwrap();
    state.set("rt", "doc", &value).await.unwrap();
    assert_eq!(
        state
            .get_raw(item(&state, "rt", "doc"))
            .await
            .unwrap()
            .unwrap(),
        raw
    );
    assert_eq!(server.cli(&["GET", &full("rt", "doc")]), stored);
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Line {
    sku: String,
    qty: u32,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Order {
    id: u64,
    status: String,
    lines: Vec<Line>,
    note: Option<String>,
}

#[tokio::test]
async fn typed_access_with_serde() {
    let server = RedisServer::start();
    let state = open(&server).await;
    let order = Order {
        id: 7,
        status: "paid".into(),
        lines: vec![Line {
            sku: "A-1".into(),
            qty: 2,
        }],
        note: None,
    };
    state.set("typed", "order", &order).await.unwrap();
    assert_eq!(
        server.cli(&["GET", &full("typed", "order")]),
        r#"{"id":7,"status":"paid","lines":[{"sku":"A-1","qty":2}],"note":null}"#
    );
    let back: Order = state.get("typed", "order").await.unwrap().unwrap();
    assert_eq!(back, order);

    // Written by a Motia app without the optional field.
    server.set_raw(
        &full("typed", "other"),
        r#"{"id":8,"status":"open","lines":[]}"#,
    );
    let other: Order = state.get("typed", "other").await.unwrap().unwrap();
    assert_eq!(other.note, None);

    // Wrong shape: a conversion error naming the key, not a JSON error.
    server.set_raw(&full("typed", "bad"), r#"{"id":"seven"}"#);
    let err = state.get::<Order>("typed", "bad").await.unwrap_err();
    assert!(matches!(err, Error::Convert { .. }), "{err:?}");
    assert!(err.to_string().contains(&full("typed", "bad")), "{err}");
    let err = state.get_group::<Order>("typed").await.unwrap_err();
    assert!(matches!(err, Error::Convert { .. }), "{err:?}");
    assert!(err.to_string().contains(&full("typed", "bad")), "{err}");
}

// ---------------------------------------------------------------- missing keys, bad ids

#[tokio::test]
async fn missing_keys_are_none() {
    let server = RedisServer::start();
    let state = open(&server).await;
    assert_eq!(state.get::<Value>("nope", "k").await.unwrap(), None);
    assert_eq!(
        state.get_raw(item(&state, "nope", "k")).await.unwrap(),
        None
    );
    assert_eq!(state.delete("nope", "k").await.unwrap(), None);
    assert_eq!(
        state.ttl(item(&state, "nope", "k")).await.unwrap(),
        Ttl::Missing
    );
    assert!(
        !state
            .expire(item(&state, "nope", "k"), Expiry::Persist)
            .await
            .unwrap()
    );
    assert!(state.keys("nope").await.unwrap().is_empty());
    assert!(state.get_group::<Value>("nope").await.unwrap().is_empty());
    assert_eq!(state.clear("nope").await.unwrap(), 0);
    assert!(state.trace_ids().await.unwrap().is_empty());
    // Motia treats an empty stored string as missing.
    server.set_raw(&full("empty", "k"), "");
    assert_eq!(state.get::<Value>("empty", "k").await.unwrap(), None);
    assert_eq!(server.cli(&["DBSIZE"]), "1");
}

#[tokio::test]
async fn bad_group_ids_and_empty_keys_are_refused_and_write_nothing() {
    let server = RedisServer::start();
    let state = open(&server).await;
    for group in ["", "a:b", ":", "trace:"] {
        let err = state.set(group, "k", &1).await.unwrap_err();
        assert!(
            matches!(&err, Error::InvalidGroupId { group: g, .. } if g == group),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains(&format!("\"{group}\"")), "{msg}");
        if group.is_empty() {
            assert!(msg.contains("empty"), "{msg}");
        } else {
            assert!(msg.contains("':'"), "{msg}");
        }
        assert!(state.get::<Value>(group, "k").await.is_err());
        assert!(state.key_space().full_key(group, "k").is_err());
        assert!(state.delete(group, "k").await.is_err());
        assert!(state.keys(group).await.is_err());
        assert!(state.clear(group).await.is_err());
        assert!(state.get_group::<Value>(group).await.is_err());
        assert!(state.items(&ItemsQuery::group(group)).await.is_err());
        assert!(state.expire_group(group, Expiry::Persist).await.is_err());
    }
    let err = state.set("g", "", &1).await.unwrap_err();
    assert!(matches!(err, Error::EmptyKey { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "invalid key in trace \"g\": the key is empty"
    );
    assert!(state.get::<Value>("g", "").await.is_err());
    assert!(state.delete("g", "").await.is_err());
    assert_eq!(server.cli(&["DBSIZE"]), "0");
}

// ---------------------------------------------------------------- delete

#[tokio::test]
async fn delete_returns_the_old_value_and_removes_the_key() {
    let server = RedisServer::start();
    let state = open(&server).await;
    state
        .set(
            "del",
            "order",
            &json!({"id": 1, "n": 12345678901234567890u64}),
        )
        .await
        .unwrap();
    let old = state.delete("del", "order").await.unwrap();
    assert_eq!(old, Some(v(r#"{"id":1,"n":12345678901234567890}"#)));
    assert_eq!(server.cli(&["EXISTS", &full("del", "order")]), "0");
    assert_eq!(state.delete("del", "order").await.unwrap(), None);

    state.set("del", "s", "text").await.unwrap();
    assert_eq!(
        state
            .delete_raw(item(&state, "del", "s"))
            .await
            .unwrap()
            .unwrap(),
        br#""text""#
    );
    // A value that is not JSON comes back as its text.
    server.set_raw(&full("del", "raw"), "not json");
    assert_eq!(
        state.delete("del", "raw").await.unwrap(),
        Some(json!("not json"))
    );
    assert_eq!(server.cli(&["DBSIZE"]), "0");
}

// ---------------------------------------------------------------- groups

#[tokio::test]
async fn group_operations_are_scoped_to_one_group() {
    let server = RedisServer::start();
    let state = open(&server).await;
    state.set("a", "x", &1).await.unwrap();
    state
        .set("a", "user:1:profile", &json!({"name": "ann"}))
        .await
        .unwrap();
    state.set("ab", "x", &2).await.unwrap();
    state.set("b", "a:x", &3).await.unwrap();
    server.set_raw("motia:state:a", "\"no group separator\"");
    server.set_raw("other:a:x", "4");

    assert_eq!(
        sorted(state.keys("a").await.unwrap()),
        vec!["user:1:profile", "x"]
    );
    assert_eq!(state.keys("ab").await.unwrap(), vec!["x"]);
    assert_eq!(state.keys("b").await.unwrap(), vec!["a:x"]);
    let profile: Value = state.get("a", "user:1:profile").await.unwrap().unwrap();
    assert_eq!(profile, json!({"name": "ann"}));

    let entries: BTreeMap<String, Value> = state
        .get_group_entries("a")
        .await
        .unwrap()
        .into_iter()
        .map(|(k, v)| (k.to_str().unwrap().to_owned(), v))
        .collect();
    assert_eq!(
        entries,
        BTreeMap::from([
            ("user:1:profile".to_string(), json!({"name": "ann"})),
            ("x".to_string(), json!(1)),
        ])
    );
    let mut values = state.get_group::<Value>("a").await.unwrap();
    values.sort_by_key(|v| v.to_string());
    assert_eq!(values, vec![json!(1), json!({"name": "ann"})]);

    assert_eq!(
        sorted(state.trace_ids().await.unwrap()),
        vec!["a", "ab", "b"]
    );
    assert_eq!(
        state.trace_counts().await.unwrap(),
        BTreeMap::from([("a".into(), 2), ("ab".into(), 1), ("b".into(), 1)])
    );

    assert_eq!(state.clear("a").await.unwrap(), 2);
    assert!(state.keys("a").await.unwrap().is_empty());
    assert_eq!(state.keys("ab").await.unwrap(), vec!["x"]);
    assert_eq!(state.keys("b").await.unwrap(), vec!["a:x"]);
    assert_eq!(server.cli(&["GET", "other:a:x"]), "4");
    assert_eq!(server.cli(&["EXISTS", "motia:state:a"]), "1");
    assert_eq!(sorted(state.trace_ids().await.unwrap()), vec!["ab", "b"]);
}

#[tokio::test]
async fn glob_characters_in_group_ids_match_only_that_group() {
    let server = RedisServer::start();
    let state = open(&server).await;
    let groups = [
        "a", "ab", "abc", "ax", "a*", "a?", "a[b]", "a[", "a]", "a\\", "a^", "a-b", "[ab]", "*",
    ];
    for g in groups {
        state.set(g, "k", &g).await.unwrap();
        state.set(g, "k:*", &g).await.unwrap();
    }
    for g in groups {
        assert_eq!(
            sorted(state.keys(g).await.unwrap()),
            vec!["k", "k:*"],
            "keys of {g:?}"
        );
        let values = state.get_group::<String>(g).await.unwrap();
        assert_eq!(values, vec![g.to_string(); 2], "group {g:?}");
        let items = state.items(&ItemsQuery::group(g)).await.unwrap();
        assert!(items.iter().all(|i| i.group_id == g), "items of {g:?}");
        assert_eq!(items.len(), 2);
    }
    let mut expected: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
    expected.sort();
    assert_eq!(sorted(state.trace_ids().await.unwrap()), expected);
    let counts = state.trace_counts().await.unwrap();
    assert!(counts.values().all(|&n| n == 2), "{counts:?}");

    for g in ["a*", "a?", "a[b]", "*"] {
        assert_eq!(state.clear(g).await.unwrap(), 2, "clear {g:?}");
    }
    assert_eq!(
        server.cli(&["DBSIZE"]),
        ((groups.len() - 4) * 2).to_string()
    );
    assert_eq!(state.keys("ab").await.unwrap().len(), 2);
    assert_eq!(state.keys("a").await.unwrap().len(), 2);
}

#[tokio::test]
async fn trace_ids_each_once_over_many_pages() {
    let server = RedisServer::start();
    let state = open_with(&server, |c| c.scan_count = 7).await;
    for t in 0..40 {
        for k in 0..(t % 5 + 1) {
            state
                .set(&format!("t{t}"), &format!("k{k}"), &k)
                .await
                .unwrap();
        }
    }
    let ids = state.trace_ids().await.unwrap();
    assert_eq!(ids.len(), 40);
    let expected: Vec<String> = sorted((0..40).map(|t| format!("t{t}")).collect());
    assert_eq!(sorted(ids), expected);
    let counts = state.trace_counts().await.unwrap();
    for t in 0..40u64 {
        assert_eq!(counts[format!("t{t}").as_bytes()], t % 5 + 1);
    }
}

// ---------------------------------------------------------------- items and filters

fn item_keys(items: &[motia_state::StateItem]) -> Vec<String> {
    sorted(
        items
            .iter()
            .map(|i| format!("{}/{}", i.group_id, i.key))
            .collect(),
    )
}

async fn filtered(state: &RedisStateAdapter, group: Option<&str>, filters: &[&str]) -> Vec<String> {
    let mut q = match group {
        Some(g) => ItemsQuery::group(g),
        None => ItemsQuery::all(),
    };
    for f in filters {
        q = q.filter(f.parse::<StateFilter>().unwrap());
    }
    item_keys(&state.items(&q).await.unwrap())
}

#[tokio::test]
async fn items_carry_type_tags() {
    let server = RedisServer::start();
    let state = open(&server).await;
    let cases = [
        ("s", "\"x\"", ValueType::String),
        ("n", "1.5", ValueType::Number),
        ("big", "123456789012345678901234567890", ValueType::Number),
        ("b", "false", ValueType::Boolean),
        ("o", "{\"a\":1}", ValueType::Object),
        ("a", "[1]", ValueType::Array),
        ("z", "null", ValueType::Null),
    ];
    for (k, text, _) in cases {
        server.set_raw(&full("ty", k), text);
    }
    state.set("other", "k", &1).await.unwrap();
    let items = state.items(&ItemsQuery::group("ty")).await.unwrap();
    assert_eq!(items.len(), cases.len());
    for (k, text, kind) in cases {
        let item = items.iter().find(|i| i.key == k).unwrap();
        assert_eq!(item.group_id, "ty");
        assert_eq!(item.kind, kind, "{k}");
        assert_eq!(item.value, v(text));
        let line = serde_json::to_string(item).unwrap();
        assert!(
            line.contains(&format!("\"type\":\"{}\"", kind.as_str())),
            "{line}"
        );
        assert!(line.contains("\"groupId\":\"ty\""), "{line}");
    }
    assert_eq!(
        state.items(&ItemsQuery::all()).await.unwrap().len(),
        cases.len() + 1
    );
}

#[tokio::test]
async fn every_filter_operator_against_stored_data() {
    let server = RedisServer::start();
    let state = open(&server).await;
    let orders = [
        (
            "o1",
            json!({"status": "paid", "amount": 120, "name": "alice", "note": null}),
        ),
        ("o2", json!({"status": "open", "amount": 5, "name": "bob"})),
        (
            "o3",
            json!({"status": "paid", "amount": 30, "name": "carol smith", "note": "vip"}),
        ),
    ];
    for (k, val) in &orders {
        state.set("f", k, val).await.unwrap();
    }
    state
        .set("g2", "o9", &json!({"status": "paid", "amount": 1}))
        .await
        .unwrap();
    state.set("prim", "s", "hello").await.unwrap();
    state.set("prim", "n", &42).await.unwrap();

    let f = |filters: &'static [&'static str]| filtered(&state, Some("f"), filters);
    assert_eq!(f(&["status eq paid"]).await, ["f/o1", "f/o3"]);
    assert_eq!(f(&["status neq paid"]).await, ["f/o2"]);
    assert_eq!(f(&["amount gt 30"]).await, ["f/o1"]);
    assert_eq!(f(&["amount gte 30"]).await, ["f/o1", "f/o3"]);
    assert_eq!(f(&["amount lt 30"]).await, ["f/o2"]);
    assert_eq!(f(&["amount lte 30"]).await, ["f/o2", "f/o3"]);
    assert_eq!(f(&["name contains o"]).await, ["f/o2", "f/o3"]);
    assert_eq!(f(&["name notContains o"]).await, ["f/o1"]);
    assert_eq!(f(&["name startsWith car"]).await, ["f/o3"]);
    assert_eq!(f(&["name endsWith ce"]).await, ["f/o1"]);
    assert_eq!(f(&["note isNull"]).await, ["f/o1", "f/o2"]);
    assert_eq!(f(&["note isNotNull"]).await, ["f/o3"]);
    assert_eq!(f(&["status eq paid", "amount gt 100"]).await, ["f/o1"]);
    assert_eq!(
        f(&["amount eq 120"]).await,
        Vec::<String>::new(),
        "eq is strict"
    );
    assert_eq!(f(&["name eq carol smith"]).await, ["f/o3"]);

    // Without a group, every group is searched.
    assert_eq!(
        filtered(&state, None, &["status eq paid"]).await,
        ["f/o1", "f/o3", "g2/o9"]
    );
    // Primitive values compare themselves; string operators apply to strings only.
    assert_eq!(
        filtered(&state, Some("prim"), &["x contains ell"]).await,
        ["prim/s"]
    );
    assert_eq!(
        filtered(&state, Some("prim"), &["x contains 4"]).await,
        Vec::<String>::new()
    );
    // JavaScript's `"hello" > "41"` compares strings: true.
    assert_eq!(
        filtered(&state, Some("prim"), &["x gt 41"]).await,
        ["prim/n", "prim/s"]
    );
    assert_eq!(
        filtered(&state, Some("prim"), &["x lt 43"]).await,
        ["prim/n"]
    );
    assert_eq!(
        filtered(&state, Some("prim"), &["x eq hello"]).await,
        ["prim/s"]
    );
}

#[tokio::test]
async fn items_report_lists_values_that_are_not_json() {
    let server = RedisServer::start();
    let state = open(&server).await;
    state.set("r", "good", &json!({"ok": true})).await.unwrap();
    server.set_raw(&full("r", "bad"), "{not json");
    server.set_raw(&full("r", "empty"), "");
    server.cli(&["HSET", &full("r", "hash"), "f", "v"]);
    let report = state.items_with().group("r").report().await.unwrap();
    assert_eq!(item_keys(&report.items), ["r/good"]);
    assert_eq!(report.not_json, vec![full("r", "bad")]);
    assert_eq!(
        item_keys(&state.items(&ItemsQuery::all()).await.unwrap()),
        ["r/good"]
    );
}

#[tokio::test]
async fn items_with_lists_a_group_by_its_bytes_parsed_or_raw_filtered_with_progress() {
    let server = RedisServer::start();
    let state = open(&server).await;
    let odd = &b"o\xff"[..];
    state.set(odd, "a", &json!({"n": 1})).await.unwrap();
    state.set(odd, "b", &json!({"n": 5})).await.unwrap();
    state.set("plain", "c", &json!({"n": 9})).await.unwrap();
    server.set_raw(&full("plain", "bad"), "{not json");

    let big = state
        .items_with()
        .group(odd)
        .filter("n gt 2".parse().unwrap())
        .report()
        .await
        .unwrap();
    assert_eq!(big.items.len(), 1, "{big:?}");
    assert_eq!(big.items[0].group_id_bytes, odd);
    assert_eq!(big.items[0].group_id, "o\\xff");
    assert_eq!(big.items[0].value, json!({"n": 5}));

    // Raw: the stored text, the same filter, the keys without JSON reported, progress told.
    let mut calls = Vec::new();
    let raw = state
        .items_with()
        .filter("n gt 2".parse().unwrap())
        .raw()
        .on_progress(|done, total| calls.push((done, total)))
        .report()
        .await
        .unwrap();
    let mut got: Vec<(String, String)> = raw
        .items
        .iter()
        .map(|i| (format!("{}/{}", i.group_id, i.key), i.json.clone()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("o\\xff/b".to_string(), r#"{"n":5}"#.to_string()),
            ("plain/c".to_string(), r#"{"n":9}"#.to_string()),
        ]
    );
    assert_eq!(raw.not_json, vec![full("plain", "bad")]);
    assert_eq!(calls.last(), Some(&(4, 4)), "every key read: {calls:?}");

    let err = state.items_with().group("a:b").report().await.unwrap_err();
    assert!(matches!(err, Error::InvalidGroupId { .. }), "{err:?}");
}

#[tokio::test]
async fn items_with_streams_items_batch_by_batch_as_the_report_lists_them() {
    use futures::{StreamExt, TryStreamExt};
    let server = RedisServer::start();
    // Batches of 3 over 10 items: the stream crosses several MGET batches.
    let state = open_with(&server, |c| c.batch_size = 3).await;
    for i in 0..10 {
        state
            .set("s", format!("k{i}"), &json!({"n": i}))
            .await
            .unwrap();
    }
    server.set_raw(&full("s", "bad"), "{not json");

    let mut calls = Vec::new();
    let streamed: Vec<_> = state
        .items_with()
        .group("s")
        .filter("n gt 4".parse().unwrap())
        .on_progress(|done, total| calls.push((done, total)))
        .stream()
        .try_collect()
        .await
        .unwrap();
    let report = state
        .items_with()
        .group("s")
        .filter("n gt 4".parse().unwrap())
        .report()
        .await
        .unwrap();
    assert_eq!(item_keys(&streamed), item_keys(&report.items));
    assert_eq!(streamed.len(), 5, "{streamed:?}");
    assert_eq!(calls.last(), Some(&(11, 11)), "every key read: {calls:?}");
    assert!(calls.len() >= 4, "read in batches of 3: {calls:?}");

    // Raw values stream too, as their stored text.
    let raw: Vec<_> = state
        .items_with()
        .group("s")
        .raw()
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(raw.len(), 10);
    assert!(
        raw.iter().all(|i| i.json.starts_with(r#"{"n":"#)),
        "{raw:?}"
    );

    // Bad input: one error, then the stream ends, and nothing was read.
    let mut bad = Box::pin(state.items_with().group("a:b").stream());
    let first = bad.next().await.expect("an error item");
    assert!(
        matches!(first, Err(Error::InvalidGroupId { .. })),
        "{first:?}"
    );
    assert!(bad.next().await.is_none());
}

// ---------------------------------------------------------------- TTL

#[tokio::test]
async fn configured_ttl_is_set_and_refreshed_by_set() {
    let server = RedisServer::start();
    let state = open_with(&server, |c| c.ttl = Some(1000)).await;
    state.set("ttl", "k", &1).await.unwrap();
    let left = secs_left(state.ttl(item(&state, "ttl", "k")).await.unwrap());
    assert!((900..=1000).contains(&left), "{left}");
    let cli_ttl: u64 = server.cli(&["TTL", &full("ttl", "k")]).parse().unwrap();
    assert!((900..=1000).contains(&cli_ttl), "{cli_ttl}");

    assert!(
        state
            .expire(
                item(&state, "ttl", "k"),
                Expiry::After(Duration::from_secs(50))
            )
            .await
            .unwrap()
    );
    assert!(secs_left(state.ttl(item(&state, "ttl", "k")).await.unwrap()) <= 50);
    state.set("ttl", "k", &2).await.unwrap();
    let left = secs_left(state.ttl(item(&state, "ttl", "k")).await.unwrap());
    assert!(left > 900, "set refreshes the TTL: {left}");
    // A per-call TTL wins over the configured one.
    state
        .set_with_ttl("ttl", "k", &3, Some(Duration::from_secs(20)))
        .await
        .unwrap();
    assert!(secs_left(state.ttl(item(&state, "ttl", "k")).await.unwrap()) <= 20);
    // compare_and_set creating a key uses the configured TTL.
    state
        .compare_and_set(item(&state, "ttl", "new"), None, "1")
        .await
        .unwrap();
    assert!(secs_left(state.ttl(item(&state, "ttl", "new")).await.unwrap()) > 900);
}

#[tokio::test]
async fn plain_set_drops_an_existing_ttl() {
    let server = RedisServer::start();
    let state = open(&server).await;
    state
        .set_with_ttl("ttl", "k", &1, Some(Duration::from_secs(100)))
        .await
        .unwrap();
    assert!(secs_left(state.ttl(item(&state, "ttl", "k")).await.unwrap()) <= 100);
    assert_eq!(state.get::<i32>("ttl", "k").await.unwrap(), Some(1));
    state.set("ttl", "k", &2).await.unwrap();
    assert_eq!(
        state.ttl(item(&state, "ttl", "k")).await.unwrap(),
        Ttl::Persistent
    );
    assert_eq!(server.cli(&["TTL", &full("ttl", "k")]), "-1");
    assert_eq!(
        state
            .ttl(item(&state, "ttl", "k"))
            .await
            .unwrap()
            .as_redis_secs(),
        -1
    );

    // Sub-second TTLs go out as PX.
    state
        .set_with_ttl("ttl", "ms", &1, Some(Duration::from_millis(90_500)))
        .await
        .unwrap();
    let pttl: u64 = server.cli(&["PTTL", &full("ttl", "ms")]).parse().unwrap();
    assert!(pttl > 80_000 && pttl <= 90_500, "{pttl}");
    state
        .set_json(
            item(&state, "ttl", "j"),
            "[1]",
            Some(Duration::from_secs(30)),
        )
        .await
        .unwrap();
    assert!(secs_left(state.ttl(item(&state, "ttl", "j")).await.unwrap()) <= 30);
}

#[tokio::test]
async fn expire_persist_and_expire_group() {
    let server = RedisServer::start();
    let state = open(&server).await;
    for k in ["a", "b", "c"] {
        state.set("eg", k, &k).await.unwrap();
    }
    state.set("eg2", "a", &1).await.unwrap();
    state.set("egg", "a", &1).await.unwrap();

    assert!(
        state
            .expire(
                item(&state, "eg", "a"),
                Expiry::After(Duration::from_secs(60))
            )
            .await
            .unwrap()
    );
    assert!(secs_left(state.ttl(item(&state, "eg", "a")).await.unwrap()) <= 60);
    assert!(
        state
            .expire(item(&state, "eg", "a"), Expiry::Persist)
            .await
            .unwrap()
    );
    assert_eq!(
        state.ttl(item(&state, "eg", "a")).await.unwrap(),
        Ttl::Persistent
    );
    assert!(
        !state
            .expire(item(&state, "eg", "a"), Expiry::Persist)
            .await
            .unwrap(),
        "nothing to persist"
    );
    assert!(
        !state
            .expire(
                item(&state, "eg", "missing"),
                Expiry::After(Duration::from_secs(5))
            )
            .await
            .unwrap()
    );

    assert_eq!(
        state
            .expire_group("eg", Expiry::After(Duration::from_secs(600)))
            .await
            .unwrap(),
        3
    );
    for k in ["a", "b", "c"] {
        assert!(secs_left(state.ttl(item(&state, "eg", k)).await.unwrap()) <= 600);
    }
    assert_eq!(
        state.ttl(item(&state, "eg2", "a")).await.unwrap(),
        Ttl::Persistent
    );
    assert_eq!(
        state.ttl(item(&state, "egg", "a")).await.unwrap(),
        Ttl::Persistent
    );
    assert_eq!(state.expire_group("eg", Expiry::Persist).await.unwrap(), 3);
    assert_eq!(state.expire_group("eg", Expiry::Persist).await.unwrap(), 0);
    assert_eq!(server.cli(&["TTL", &full("eg", "b")]), "-1");
    assert_eq!(
        state.expire_group("none", Expiry::Persist).await.unwrap(),
        0
    );
}

// ---------------------------------------------------------------- prefixes

#[tokio::test]
async fn custom_prefixes_are_honoured_and_kept_apart() {
    let server = RedisServer::start();
    let default = open(&server).await;
    let app = open_with(&server, |c| c.key_prefix = "app:".into()).await;
    let globby = open_with(&server, |c| c.key_prefix = "st[1]:".into()).await;
    for (state, n) in [(&default, 1), (&app, 2), (&globby, 3)] {
        state.set("t1", "k", &n).await.unwrap();
        state.set("t1", "x:y", &n).await.unwrap();
        state.set(&format!("only{n}"), "k", &n).await.unwrap();
    }
    // Keys a pattern `st[1]:*` would match if the prefix were not escaped.
    server.set_raw("st1:t1:k", "0");
    server.set_raw("st1:t9:k", "0");

    assert_eq!(server.cli(&["GET", "app:t1:k"]), "2");
    assert_eq!(server.cli(&["GET", "st[1]:t1:x:y"]), "3");
    assert_eq!(server.cli(&["GET", "motia:state:t1:k"]), "1");
    for (state, n) in [(&default, 1), (&app, 2), (&globby, 3)] {
        assert_eq!(state.get::<i32>("t1", "k").await.unwrap(), Some(n));
        assert_eq!(sorted(state.keys("t1").await.unwrap()), ["k", "x:y"]);
        assert_eq!(
            sorted(state.trace_ids().await.unwrap()),
            [format!("only{n}"), "t1".to_string()]
        );
        let items = state.items(&ItemsQuery::all()).await.unwrap();
        assert_eq!(items.len(), 3);
        assert!(items.iter().all(|i| i.value == json!(n)));
    }
    assert_eq!(globby.clear("t1").await.unwrap(), 2);
    assert_eq!(app.keys("t1").await.unwrap().len(), 2);
    assert_eq!(default.keys("t1").await.unwrap().len(), 2);
    assert_eq!(server.cli(&["GET", "st1:t1:k"]), "0");
    assert_eq!(server.cli(&["DBSIZE"]), "9");
}

// ---------------------------------------------------------------- stored data errors

#[tokio::test]
async fn invalid_stored_json_and_wrong_types_name_the_key() {
    let server = RedisServer::start();
    let state = open(&server).await;
    server.set_raw(&full("bad", "json"), "{\"a\": ");
    let err = state.get::<Value>("bad", "json").await.unwrap_err();
    assert!(matches!(&err, Error::InvalidStoredJson { key, .. } if key == &full("bad", "json")));
    let msg = err.to_string();
    assert!(
        msg.starts_with("value of motia:state:bad:json is not valid JSON"),
        "{msg}"
    );
    assert!(msg.contains("line 1"), "{msg}");
    // get_raw still shows what is there.
    assert_eq!(
        state
            .get_raw(item(&state, "bad", "json"))
            .await
            .unwrap()
            .unwrap(),
        b"{\"a\": "
    );
    let err = state.get_group::<Value>("bad").await.unwrap_err();
    assert!(matches!(err, Error::InvalidStoredJson { .. }), "{err:?}");

    server.cli(&["HSET", &full("wt", "h"), "field", "1"]);
    server.cli(&["RPUSH", &full("wt", "l"), "1"]);
    for (key, found) in [("h", "hash"), ("l", "list")] {
        let err = state.get::<Value>("wt", key).await.unwrap_err();
        assert!(
            matches!(&err, Error::WrongType { key: k, found: f } if k == &full("wt", key) && f == found),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!("{} holds a Redis {found}, not a string", full("wt", key))
        );
        let err = state.get_raw(item(&state, "wt", key)).await.unwrap_err();
        assert!(matches!(err, Error::WrongType { .. }), "{err:?}");
        let err = state.delete("wt", key).await.unwrap_err();
        assert!(matches!(err, Error::WrongType { .. }), "{err:?}");
    }
    assert_eq!(server.cli(&["TYPE", &full("wt", "h")]), "hash");
    assert_eq!(server.cli(&["DBSIZE"]), "3");
}

// ---------------------------------------------------------------- SCAN

#[tokio::test]
async fn scan_pages_return_every_key_once_and_end_only_at_cursor_zero() {
    let server = RedisServer::start();
    let state = open_with(&server, |c| c.scan_count = 5).await;
    let n = 3000;
    // Bulk load through one pipe of redis-cli, plus keys outside the prefix.
    let mut script = String::new();
    for i in 0..n {
        script.push_str(&format!("SET {P}g{}:k{i} {i}\n", i % 17));
        script.push_str(&format!("SET other:g:k{i} {i}\n"));
    }
    server.load(&script);
    assert_eq!(server.cli(&["DBSIZE"]), (2 * n).to_string());

    let mut dedup = state.scan_all();
    let mut raw = state.scan_all().allow_duplicates();
    assert_eq!(dedup.pattern(), "motia:state:*");
    let mut seen = std::collections::HashMap::<String, u32>::new();
    let mut raw_seen = std::collections::HashMap::<String, u32>::new();
    let mut empty_pages = 0;
    loop {
        let (a, b) = (
            dedup.next_page().await.unwrap(),
            raw.next_page().await.unwrap(),
        );
        match (a, b) {
            (Some(a), Some(b)) => {
                if a.is_empty() {
                    empty_pages += 1;
                }
                for k in a {
                    *seen.entry(String::from_utf8(k).unwrap()).or_default() += 1;
                }
                for k in b {
                    *raw_seen.entry(String::from_utf8(k).unwrap()).or_default() += 1;
                }
                // Both walks issue the same SCANs, so they end together, at cursor 0 only.
                assert_eq!(dedup.is_done(), raw.is_done());
            }
            (None, None) => break,
            other => panic!("the two scans ended apart: {other:?}"),
        }
    }
    assert!(dedup.pages() > 100, "pages: {}", dedup.pages());
    assert!(
        empty_pages > 0,
        "MATCH leaves empty pages that must not end the walk"
    );
    assert_eq!(seen.len(), n);
    assert!(seen.values().all(|&c| c == 1));
    assert!(seen.keys().all(|k| k.starts_with(P)));
    assert_eq!(
        raw_seen.keys().collect::<std::collections::HashSet<_>>(),
        seen.keys().collect()
    );
    assert!(dedup.keys_seen() >= n as u64);
    assert_eq!(dedup.next_page().await.unwrap(), None, "stays done");

    let group = state.scan_group("g3").unwrap().collect_all().await.unwrap();
    assert_eq!(group.len(), (0..n).filter(|i| i % 17 == 3).count());
    assert_eq!(state.keys("g3").await.unwrap().len(), group.len());
    assert_eq!(state.trace_ids().await.unwrap().len(), 17);
    assert_eq!(
        state.trace_counts().await.unwrap().values().sum::<u64>(),
        n as u64
    );
    assert_eq!(state.items(&ItemsQuery::all()).await.unwrap().len(), n);
    assert_eq!(state.clear("g3").await.unwrap(), group.len() as u64);
}

// ---------------------------------------------------------------- browser reads

#[tokio::test]
async fn get_window_is_bounded_and_typed() {
    let server = RedisServer::start();
    let state = open(&server).await;
    let big: String = "x".repeat(10_000);
    state.set("w", "big", &big).await.unwrap();
    let w = state
        .get_window(item(&state, "w", "big"), 100)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(w.total_len, 10_002);
    assert_eq!(w.bytes.len(), 100);
    assert_eq!(&w.bytes[..3], b"\"xx");
    assert!(!w.is_complete());
    let w = state
        .get_window(item(&state, "w", "big"), 1 << 20)
        .await
        .unwrap()
        .unwrap();
    assert!(w.is_complete());
    assert_eq!(
        w.bytes,
        state
            .get_raw(item(&state, "w", "big"))
            .await
            .unwrap()
            .unwrap()
    );

    assert_eq!(
        state
            .get_window(item(&state, "w", "missing"), 10)
            .await
            .unwrap(),
        None
    );
    server.cli(&["RPUSH", &full("w", "list"), "a"]);
    let err = state
        .get_window(item(&state, "w", "list"), 10)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::WrongType { found, .. } if found == "list"),
        "{err:?}"
    );
    let w = state
        .get_window(&full("w", "big"), 0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(w.bytes.len(), 1, "a zero window still shows a byte");
}

#[tokio::test]
async fn key_meta_reports_type_length_and_ttl() {
    let server = RedisServer::start();
    let state = open(&server).await;
    state
        .set_with_ttl("m", "s", "hello", Some(Duration::from_secs(500)))
        .await
        .unwrap();
    state.set("m", "p", &[1, 2, 3]).await.unwrap();
    server.cli(&["HSET", &full("m", "h"), "a", "1"]);
    let keys: Vec<String> = ["s", "p", "h", "gone"]
        .iter()
        .map(|k| full("m", k))
        .collect();
    let meta = state.key_meta(&keys, None).await.unwrap();
    assert_eq!(meta.len(), 4);
    assert_eq!(
        meta.iter().map(|m| m.full_key.as_str()).collect::<Vec<_>>(),
        keys.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(meta[0].redis_type, "string");
    assert_eq!(meta[0].len, Some(7));
    assert!(secs_left(meta[0].ttl) <= 500);
    assert_eq!(
        (meta[1].redis_type.as_str(), meta[1].len, meta[1].ttl),
        ("string", Some(7), Ttl::Persistent)
    );
    assert_eq!(
        (meta[2].redis_type.as_str(), meta[2].len, meta[2].ttl),
        ("hash", None, Ttl::Persistent)
    );
    assert_eq!(
        (meta[3].redis_type.as_str(), meta[3].len, meta[3].ttl),
        ("none", None, Ttl::Missing)
    );
}

#[tokio::test]
async fn compare_and_set_writes_only_over_what_was_loaded() {
    let server = RedisServer::start();
    let state = open(&server).await;
    state
        .set_with_ttl("cas", "k", &json!({"a": 1}), Some(Duration::from_secs(500)))
        .await
        .unwrap();
    let loaded = state
        .get_raw(item(&state, "cas", "k"))
        .await
        .unwrap()
        .unwrap();

    let out = state
        .compare_and_set(
            item(&state, "cas", "k"),
            Some(&loaded),
            "{\n  \"a\": 2,\n  \"b\": [1, 2]\n}",
        )
        .await
        .unwrap();
    assert_eq!(out, CasOutcome::Written);
    assert_eq!(
        server.cli(&["GET", &full("cas", "k")]),
        r#"{"a":2,"b":[1,2]}"#
    );
    assert!(
        secs_left(state.ttl(item(&state, "cas", "k")).await.unwrap()) <= 500,
        "KEEPTTL"
    );

    // The old bytes no longer match: nothing written, the current bytes come back.
    let out = state
        .compare_and_set(item(&state, "cas", "k"), Some(&loaded), "3")
        .await
        .unwrap();
    assert_eq!(
        out,
        CasOutcome::Conflict(Some(br#"{"a":2,"b":[1,2]}"#.to_vec()))
    );
    assert_eq!(
        server.cli(&["GET", &full("cas", "k")]),
        r#"{"a":2,"b":[1,2]}"#
    );

    // expected = None: create only.
    let out = state
        .compare_and_set(item(&state, "cas", "k"), None, "4")
        .await
        .unwrap();
    assert!(matches!(out, CasOutcome::Conflict(Some(_))), "{out:?}");
    assert_eq!(
        server.cli(&["GET", &full("cas", "k")]),
        r#"{"a":2,"b":[1,2]}"#
    );
    let out = state
        .compare_and_set(item(&state, "cas", "new"), None, " \"fresh\" ")
        .await
        .unwrap();
    assert_eq!(out, CasOutcome::Written);
    assert_eq!(server.cli(&["GET", &full("cas", "new")]), r#""fresh""#);
    assert_eq!(
        state.ttl(item(&state, "cas", "new")).await.unwrap(),
        Ttl::Persistent
    );

    // Expected a value, but the key is gone.
    let out = state
        .compare_and_set(item(&state, "cas", "gone"), Some(b"1"), "2")
        .await
        .unwrap();
    assert_eq!(out, CasOutcome::Conflict(None));
    assert_eq!(server.cli(&["EXISTS", &full("cas", "gone")]), "0");

    // Invalid JSON: line and column, nothing written.
    let current = state
        .get_raw(item(&state, "cas", "k"))
        .await
        .unwrap()
        .unwrap();
    let err = state
        .compare_and_set(item(&state, "cas", "k"), Some(&current), "{\n  \"a\": ,\n}")
        .await
        .unwrap_err();
    match &err {
        Error::InvalidJson { line, column, .. } => assert_eq!((*line, *column), (2, 8)),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "invalid JSON at line 2, column 8: expected value"
    );
    assert_eq!(
        state
            .get_raw(item(&state, "cas", "k"))
            .await
            .unwrap()
            .unwrap(),
        current
    );
    assert!(
        state
            .compare_and_set(item(&state, "cas", "x"), None, "nope")
            .await
            .is_err()
    );
    assert_eq!(server.cli(&["EXISTS", &full("cas", "x")]), "0");
    assert!(
        state
            .set_json(item(&state, "cas", "x"), "[1,", None)
            .await
            .is_err()
    );
    assert_eq!(server.cli(&["EXISTS", &full("cas", "x")]), "0");

    // A hash under the key is named, not overwritten.
    server.cli(&["HSET", &full("cas", "h"), "f", "v"]);
    let err = state
        .compare_and_set(item(&state, "cas", "h"), Some(b"1"), "2")
        .await;
    match err {
        Err(Error::WrongType { found, .. }) => assert_eq!(found, "hash"),
        Ok(CasOutcome::Conflict(_)) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(server.cli(&["TYPE", &full("cas", "h")]), "hash");
}

// ---------------------------------------------------------------- export / import

#[tokio::test]
async fn export_import_round_trip_with_raw_values_and_ttls() {
    let server = RedisServer::start();
    let src = open(&server).await;
    let dst = open_with(&server, |c| c.key_prefix = "copy:".into()).await;
    src.set_json(
        item(&src, "ex", "order"),
        r#"{"z":1,"a":123456789012345678901234567890,"s":"Zoë\n"}"#,
        None,
    )
    .await
    .unwrap();
    src.set_with_ttl(
        "ex",
        "user:1",
        &json!([1, null]),
        Some(Duration::from_secs(900)),
    )
    .await
    .unwrap();
    server.set_raw(&full("ex", "raw"), "plain text, not JSON");
    src.set("other", "k", &true).await.unwrap();

    let mut calls = Vec::new();
    let doc = export::export(&src, Some(b"ex"), |done, total| calls.push((done, total)))
        .await
        .unwrap();
    assert_eq!(calls.last(), Some(&(3, 3)));
    assert_eq!(doc.prefix, P);
    let keys: Vec<&[u8]> = doc.items.iter().filter_map(|i| i.key()).collect();
    assert_eq!(keys, [&b"order"[..], b"raw", b"user:1"]);
    let raw = doc.items.iter().find(|i| i.key() == Some(b"raw")).unwrap();
    assert!(matches!(&raw.data, ExportData::Text(t) if t == "plain text, not JSON"));
    let ttl = doc
        .items
        .iter()
        .find(|i| i.key() == Some(b"user:1"))
        .unwrap()
        .ttl_seconds;
    assert!(matches!(ttl, Some(s) if s <= 900 && s > 800), "{ttl:?}");

    // Through text, as the CLI does it.
    let doc = ExportDocument::parse(&doc.to_pretty_string()).unwrap();
    let report = export::import(&dst, &doc, false, |_, _| {}).await.unwrap();
    assert_eq!((report.written, report.overwritten), (3, 0));
    for k in ["order", "raw", "user:1"] {
        assert_eq!(
            server.cli(&["GET", &format!("copy:ex:{k}")]),
            server.cli(&["GET", &full("ex", k)]),
            "{k}"
        );
    }
    let ttl: i64 = server.cli(&["TTL", "copy:ex:user:1"]).parse().unwrap();
    assert!(ttl > 800 && ttl <= 900, "{ttl}");
    assert_eq!(server.cli(&["TTL", "copy:ex:order"]), "-1");

    // Whole-database export covers every group.
    let all = export::export(&src, None, |_, _| {}).await.unwrap();
    assert_eq!(all.items.len(), 4);
}

#[tokio::test]
async fn import_refuses_existing_keys_unless_overwriting() {
    let server = RedisServer::start();
    let state = open(&server).await;
    state.set("im", "old", &"before").await.unwrap();
    let doc = ExportDocument::parse(
        r#"{"format":"motia-state-export","version":1,"prefix":"x:","items":[
            {"groupId":"im","key":"new","value":{"n":1},"ttlSeconds":300},
            {"groupId":"im","key":"old","value":"after"},
            {"groupId":"im","key":"raw","raw":"<xml/>"}]}"#,
    )
    .unwrap();
    let err = export::import(&state, &doc, false, |_, _| {})
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("1 key(s) exist already"), "{msg}");
    assert!(msg.contains(&full("im", "old")), "{msg}");
    assert!(msg.contains("nothing was written"), "{msg}");
    assert_eq!(server.cli(&["DBSIZE"]), "1");
    assert_eq!(server.cli(&["GET", &full("im", "old")]), r#""before""#);

    let report = export::import(&state, &doc, true, |_, _| {}).await.unwrap();
    assert_eq!((report.written, report.overwritten), (3, 1));
    assert_eq!(server.cli(&["GET", &full("im", "old")]), r#""after""#);
    assert_eq!(server.cli(&["GET", &full("im", "new")]), r#"{"n":1}"#);
    assert_eq!(server.cli(&["GET", &full("im", "raw")]), "<xml/>");
    let ttl: u64 = server.cli(&["TTL", &full("im", "new")]).parse().unwrap();
    assert!(ttl <= 300 && ttl > 200);

    // Bad documents are refused before anything is written.
    for bad in [
        r#"{"format":"motia-state-export","version":1,"prefix":"","items":[{"groupId":"a:b","key":"k","value":1}]}"#,
        r#"{"format":"motia-state-export","version":1,"prefix":"","items":[{"groupId":"a","key":"k"}]}"#,
        r#"{"format":"motia-state-export","version":3,"prefix":"","items":[]}"#,
        r#"{"format":"motia-state-export","version":2,"prefix":"","items":[{"groupId":"a","keyBase64":"%%%","value":1}]}"#,
        r#"{"format":"motia-state-export","version":2,"prefix":"","items":[{"groupId":"a","key":"k","value":1,"raw":"1"}]}"#,
        r#"{"items":[]}"#,
    ] {
        let err = ExportDocument::parse(bad).unwrap_err();
        assert!(matches!(err, Error::InvalidDocument(_)), "{bad}: {err:?}");
    }
    let err = ExportDocument::parse("{\"format\":").unwrap_err();
    assert!(matches!(err, Error::InvalidJson { line: 1, .. }), "{err:?}");
}

// ---------------------------------------------------------------- read-only

#[tokio::test]
async fn read_only_refuses_every_write_and_changes_nothing() {
    let server = RedisServer::start();
    let rw = open(&server).await;
    rw.set_with_ttl("ro", "k", &json!({"a": 1}), Some(Duration::from_secs(700)))
        .await
        .unwrap();
    rw.set("ro", "p", &2).await.unwrap();
    let ro = open_with(&server, |c| c.read_only = true).await;
    let before = (
        server.cli(&["DBSIZE"]),
        server.cli(&["GET", &full("ro", "k")]),
        server.cli(&["GET", &full("ro", "p")]),
        server.cli(&["TTL", &full("ro", "p")]),
    );
    let loaded = ro.get_raw(item(&ro, "ro", "k")).await.unwrap().unwrap();
    let doc = export::export(&ro, None, |_, _| {}).await.unwrap();

    let refusals: Vec<(&str, Error)> = vec![
        ("set", ro.set("ro", "k", &1).await.unwrap_err()),
        ("set new", ro.set("ro", "new", &1).await.unwrap_err()),
        (
            "set_with_ttl",
            ro.set_with_ttl("ro", "k", &1, Some(Duration::from_secs(1)))
                .await
                .unwrap_err(),
        ),
        (
            "set_json",
            ro.set_json(item(&ro, "ro", "k"), "1", None)
                .await
                .unwrap_err(),
        ),
        ("delete", ro.delete("ro", "k").await.unwrap_err()),
        (
            "delete_raw",
            ro.delete_raw(item(&ro, "ro", "k")).await.unwrap_err(),
        ),
        ("clear", ro.clear("ro").await.unwrap_err()),
        (
            "expire",
            ro.expire(item(&ro, "ro", "k"), Expiry::After(Duration::from_secs(5)))
                .await
                .unwrap_err(),
        ),
        (
            "persist",
            ro.expire(item(&ro, "ro", "k"), Expiry::Persist)
                .await
                .unwrap_err(),
        ),
        (
            "expire_group",
            ro.expire_group("ro", Expiry::Persist).await.unwrap_err(),
        ),
        (
            "expire_keys",
            ro.expire_keys(&[full("ro", "p")], Expiry::After(Duration::from_secs(5)))
                .await
                .unwrap_err(),
        ),
        (
            "compare_and_set",
            ro.compare_and_set(item(&ro, "ro", "k"), Some(&loaded), "5")
                .await
                .unwrap_err(),
        ),
        (
            "compare_and_set create",
            ro.compare_and_set(item(&ro, "ro", "new"), None, "5")
                .await
                .unwrap_err(),
        ),
        (
            "unlink_keys",
            ro.unlink_keys(&[full("ro", "k")]).await.unwrap_err(),
        ),
        (
            "import",
            export::import(&ro, &doc, true, |_, _| {})
                .await
                .unwrap_err(),
        ),
    ];
    for (what, err) in &refusals {
        assert!(matches!(err, Error::ReadOnly { .. }), "{what}: {err:?}");
        assert!(err.to_string().contains("read-only"), "{what}: {err}");
    }
    let after = (
        server.cli(&["DBSIZE"]),
        server.cli(&["GET", &full("ro", "k")]),
        server.cli(&["GET", &full("ro", "p")]),
        server.cli(&["TTL", &full("ro", "p")]),
    );
    assert_eq!(before, after);
    let ttl: u64 = server.cli(&["TTL", &full("ro", "k")]).parse().unwrap();
    assert!(ttl > 600 && ttl <= 700);
    // Reads still work.
    assert_eq!(ro.keys("ro").await.unwrap().len(), 2);
    assert_eq!(ro.items(&ItemsQuery::all()).await.unwrap().len(), 2);
}
