//! Interop with the official `@motiadev/adapter-redis-state` (pinned to the version the contract
//! was read from): values written by one adapter read back identically by the other, and the
//! listings (keys, traceIds, items with filters) agree. Needs node and npm on PATH; the package is
//! installed once into target/interop-node/.

mod common;
#[path = "interop/node.rs"]
mod node;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{RedisServer, item};
use motia_state::{FilterOp, ItemsQuery, RedisStateAdapter, StateFilter, StateItem, Ttl};
use node::Official;
use serde_json::{Value, json};

fn official() -> Official {
    match Official::get() {
        Ok(o) => o,
        Err(e) => panic!("interop test cannot run: {e}"),
    }
}

async fn ours(server: &RedisServer) -> RedisStateAdapter {
    RedisStateAdapter::connect(server.config()).await.unwrap()
}

/// The stored bytes, read with a plain Redis connection (neither adapter involved).
async fn plain_get(server: &RedisServer, key: &str) -> Option<Vec<u8>> {
    let client = redis::Client::open(server.url()).unwrap();
    let mut con = client
        .get_multiplexed_async_connection_with_config(
            &redis::AsyncConnectionConfig::new().set_response_timeout(None),
        )
        .await
        .unwrap();
    redis::cmd("GET")
        .arg(key)
        .query_async(&mut con)
        .await
        .unwrap()
}

fn text(v: &Value) -> String {
    serde_json::to_string(v).unwrap()
}

/// What the official adapter is asked to write: a JSON value or a JavaScript expression.
enum Src {
    Json(Value),
    Js(&'static str),
}

/// Values a Motia app may hand to `state.set`, with keys that stress the key layout.
fn node_cases(raw_json: bool) -> Vec<(&'static str, &'static str, Src)> {
    let mut cases = vec![
        ("node-w", "string", Src::Json(json!("hello"))),
        ("node-w", "empty-string", Src::Json(json!(""))),
        ("node-w", "int", Src::Json(json!(42))),
        ("node-w", "negative", Src::Json(json!(-17))),
        ("node-w", "float", Src::Json(json!(1234.5678))),
        ("node-w", "max-safe", Src::Js("Number.MAX_SAFE_INTEGER")),
        ("node-w", "exp-big", Src::Js("1e21")),
        ("node-w", "exp-small", Src::Js("5e-324")),
        ("node-w", "neg-zero", Src::Js("-0")),
        ("node-w", "true", Src::Json(json!(true))),
        ("node-w", "false", Src::Json(json!(false))),
        ("node-w", "null", Src::Json(Value::Null)),
        (
            "node-w",
            "array",
            Src::Json(json!([1, "two", null, true, [3.5], {"a": []}])),
        ),
        ("node-w", "empty-object", Src::Json(json!({}))),
        ("node-w", "empty-array", Src::Json(json!([]))),
        (
            "node-w",
            "nested",
            Src::Js(r#"{z: 1, a: {y: [{x: null, w: "é"}], b: false}, m: [[], {}], "k:v": 2}"#),
        ),
        (
            "node-w",
            "unicode",
            Src::Json(json!("héllo wörld — 日本語 — Ελληνικά — עברית")),
        ),
        ("node-w", "emoji", Src::Json(json!("🦀 🚀 👩‍👩‍👧 🇫🇷"))),
        (
            "node-w",
            "escapes",
            Src::Json(json!(
                "quote \" backslash \\ slash / newline \n tab \t cr \r"
            )),
        ),
        (
            "node-w",
            "control-chars",
            Src::Js(
                "Array.from({length: 32}, (_, i) => String.fromCharCode(i)).join('') + '\\x7f \\u2028 \\u2029'",
            ),
        ),
        (
            "node-w",
            "js-specials",
            Src::Js(
                "{a: undefined, b: NaN, c: Infinity, d: new Date(0), e: [undefined, () => 1], f: -Infinity}",
            ),
        ),
        (
            "node-w",
            "user:1:profile",
            Src::Json(json!({"name": "Ada"})),
        ),
        ("node-w", "a:b:c:", Src::Json(json!("trailing colon"))),
        ("node-w", "::", Src::Json(json!("only colons"))),
        ("node-w", "ключ:🔑", Src::Json(json!({"ключ": "значение"}))),
        ("node-w", "he said \"hi\"\\ and\nleft", Src::Json(json!(1))),
        ("node-w", "glob*?[x]", Src::Json(json!("glob chars in key"))),
        ("трасса-1", "unicode-group", Src::Json(json!({"ok": true}))),
    ];
    if raw_json {
        cases.extend([
            ("node-w", "bigint", Src::Js("JSON.rawJSON('12345678901234567890')")),
            (
                "node-w",
                "bigint-neg",
                Src::Js("JSON.rawJSON('-98765432109876543210123')"),
            ),
            (
                "node-w",
                "bigint-nested",
                Src::Js("{id: JSON.rawJSON('9007199254740993'), amount: JSON.rawJSON('0.1000000000000000055511151231257827')}"),
            ),
        ]);
    }
    cases
}

fn set_op(g: &str, k: &str, src: &Src) -> Value {
    match src {
        Src::Json(v) => json!({"op": "set", "g": g, "k": k, "v": v}),
        Src::Js(e) => json!({"op": "set", "g": g, "k": k, "js": e}),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_writes_are_read_exactly() {
    let node = official();
    assert!(
        node.has_raw_json(),
        "node cannot write big integers (JSON.rawJSON missing even with --harmony-json-parse-with-source)"
    );
    let server = RedisServer::start();
    let cases = node_cases(true);
    let ops: Vec<Value> = cases.iter().map(|(g, k, s)| set_op(g, k, s)).collect();
    let results = node.run(&server.url(), json!({}), &ops);
    let state = ours(&server).await;

    for ((g, k, _), res) in cases.iter().zip(&results) {
        let stored = res["stored"].as_str().unwrap();
        let full = format!("motia:state:{g}:{k}");
        assert_eq!(
            plain_get(&server, &full).await.as_deref(),
            Some(stored.as_bytes()),
            "the official adapter stores JSON.stringify(value) at {full}"
        );
        let raw = state.get_raw(item(&state, g, k)).await.unwrap();
        assert_eq!(raw.as_deref(), Some(stored.as_bytes()), "get_raw of {full}");
        let value: Value = state
            .get(g, k)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{full} missing"));
        let expected: Value = serde_json::from_str(stored).unwrap();
        assert_eq!(value, expected, "get of {full}");
        assert_eq!(text(&value), stored, "{full} re-serialised byte for byte");
    }

    // Spot checks that the cases mean what they claim.
    let stored = |k: &str| {
        let i = cases.iter().position(|(_, key, _)| *key == k).unwrap();
        results[i]["stored"].as_str().unwrap().to_string()
    };
    assert_eq!(stored("exp-big"), "1e+21");
    assert_eq!(stored("neg-zero"), "0");
    assert_eq!(stored("bigint"), "12345678901234567890");
    assert_eq!(
        stored("js-specials"),
        r#"{"b":null,"c":null,"d":"1970-01-01T00:00:00.000Z","e":[null,null],"f":null}"#
    );
    assert!(stored("control-chars").starts_with(r#""\u0000\u0001"#));
    let big: Value = state.get("node-w", "bigint-nested").await.unwrap().unwrap();
    assert_eq!(
        big["id"].to_string(),
        "9007199254740993",
        "no rounding past 2^53"
    );

    // Our typed access agrees with the JSON types Node wrote.
    assert_eq!(state.get::<i64>("node-w", "int").await.unwrap(), Some(42));
    assert_eq!(
        state.get::<u64>("node-w", "bigint").await.unwrap(),
        Some(12345678901234567890)
    );
    assert_eq!(
        state
            .get::<String>("node-w", "escapes")
            .await
            .unwrap()
            .as_deref(),
        Some("quote \" backslash \\ slash / newline \n tab \t cr \r")
    );
    assert_eq!(
        state.get::<Option<i32>>("node-w", "null").await.unwrap(),
        Some(None)
    );

    // Every group the official adapter wrote is listed, keys with colons intact.
    let keys: BTreeSet<String> = state
        .keys("node-w")
        .await
        .unwrap()
        .iter()
        .map(name)
        .collect();
    let expected: BTreeSet<String> = cases
        .iter()
        .filter(|(g, _, _)| *g == "node-w")
        .map(|(_, k, _)| k.to_string())
        .collect();
    assert_eq!(keys, expected);
}

/// What we write, and what the official adapter's `get` is expected to return (as JSON text):
/// `None` when it reads back exactly what we stored.
fn rust_cases() -> Vec<(&'static str, Value, Option<&'static str>)> {
    vec![
        ("string", json!("hello"), None),
        ("empty-string", json!(""), None),
        ("int", json!(-42), None),
        ("float", json!(0.1), None),
        ("whole-float", json!(20.0), Some("20")),
        ("exp-float", json!(1e300), Some("1e+300")),
        ("true", json!(true), None),
        ("null", Value::Null, None),
        ("array", json!([1, "two", null, false, [2.5, []], {}]), None),
        (
            "nested",
            json!({"z": 1, "a": {"y": [{"x": null}]}, "m": {"deep": {"deeper": [true]}}}),
            None,
        ),
        ("order:1:lines", json!({"b": 1, "a": 2, "c": 3}), None),
        ("unicode", json!("日本語 Ελληνικά 🦀 👩‍👩‍👧"), None),
        (
            "escapes",
            json!("\" \\ / \n \r \t \u{0} \u{1f} \u{7f} \u{2028} é"),
            None,
        ),
        ("key with spaces \"and quotes\"", json!({"k": "v"}), None),
        (
            "bigint",
            serde_json::from_str("12345678901234567890").unwrap(),
            Some("12345678901234567000"),
        ),
        (
            "bigint-nested",
            serde_json::from_str(r#"{"id":9007199254740993,"n":"x"}"#).unwrap(),
            Some(r#"{"id":9007199254740992,"n":"x"}"#),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_writes_are_read_by_the_official_adapter() {
    let node = official();
    let server = RedisServer::start();
    let state = ours(&server).await;
    let g = "rust-w";
    let cases = rust_cases();
    let mut stored = Vec::new();
    for (k, v, _) in &cases {
        state.set(g, k, v).await.unwrap();
        stored.push(
            String::from_utf8(state.get_raw(item(&state, g, k)).await.unwrap().unwrap()).unwrap(),
        );
    }
    // set_json: validated, stored as written minus the whitespace between tokens (escapes kept);
    // the official adapter reads the same value.
    let pretty = "{\n  \"b\" : [ 1 , 2 ],\n  \"a\" : { \"é\" : \"\\u00e9\" }\n}";
    let compact = state
        .set_json(item(&state, g, "from-json"), pretty, None)
        .await
        .unwrap();
    assert_eq!(compact, r#"{"b":[1,2],"a":{"é":"\u00e9"}}"#);
    state
        .set_json(
            item(&state, g, "with-ttl"),
            r#"{"ttl":true}"#,
            Some(Duration::from_secs(300)),
        )
        .await
        .unwrap();
    #[derive(serde::Serialize)]
    struct Order<'a> {
        id: u64,
        status: &'a str,
        lines: Vec<(String, f64)>,
    }
    let order = Order {
        id: 7,
        status: "paid",
        lines: vec![("book".into(), 12.5)],
    };
    state.set(g, "typed", &order).await.unwrap();

    let mut ops: Vec<Value> = cases
        .iter()
        .map(|(k, _, _)| json!({"op": "get", "g": g, "k": k}))
        .collect();
    for k in ["from-json", "with-ttl", "typed", "missing"] {
        ops.push(json!({"op": "get", "g": g, "k": k}));
    }
    ops.push(json!({"op": "keys", "g": g}));
    ops.push(json!({"op": "getGroup", "g": g}));
    let res = node.run(&server.url(), json!({}), &ops);

    for (i, (k, _, js_text)) in cases.iter().enumerate() {
        let got = res[i]["text"].as_str().unwrap();
        let want = js_text.unwrap_or(&stored[i]);
        assert_eq!(
            got, want,
            "official get of {g}:{k} (we stored {})",
            stored[i]
        );
    }
    let n = cases.len();
    assert_eq!(res[n]["text"], r#"{"b":[1,2],"a":{"é":"é"}}"#);
    assert_eq!(res[n + 1]["text"], r#"{"ttl":true}"#);
    assert_eq!(
        res[n + 2]["text"],
        r#"{"id":7,"status":"paid","lines":[["book",12.5]]}"#
    );
    assert_eq!(res[n + 3]["text"], "null", "missing reads as null");
    assert!(matches!(
        state.ttl(item(&state, g, "with-ttl")).await.unwrap(),
        Ttl::Expires(_)
    ));

    let node_keys: BTreeSet<String> = serde_json::from_value(res[n + 4]["keys"].clone()).unwrap();
    let our_keys: BTreeSet<String> = state.keys(g).await.unwrap().iter().map(name).collect();
    assert_eq!(node_keys, our_keys);
    assert_eq!(our_keys.len(), cases.len() + 3);

    // getGroup: the same values (as a multiset; both come in SCAN order).
    let mut node_group: Vec<String> = serde_json::from_value(res[n + 5]["texts"].clone()).unwrap();
    let mut our_group: Vec<String> = state
        .get_group::<Value>(g)
        .await
        .unwrap()
        .iter()
        .map(|v| js_roundtrip(&text(v)))
        .collect();
    node_group.sort();
    our_group.sort();
    assert_eq!(node_group, our_group);
}

/// What `JSON.stringify(JSON.parse(text))` gives for the values of these tests: only integers
/// beyond 2^53 differ, and the cases above list those explicitly.
fn js_roundtrip(text: &str) -> String {
    text.replace("12345678901234567890", "12345678901234567000")
        .replace("9007199254740993", "9007199254740992")
        .replace("20.0", "20")
        .replace("1e300", "1e+300")
}

type ItemKey = (String, String, String, String);

fn our_item(i: &StateItem) -> ItemKey {
    (
        i.group_id.clone(),
        i.key.clone(),
        i.kind.as_str().to_string(),
        text(&i.value),
    )
}

fn node_items(res: &Value) -> BTreeSet<ItemKey> {
    res["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["groupId"].as_str().unwrap().to_string(),
                i["key"].as_str().unwrap().to_string(),
                i["type"].as_str().unwrap().to_string(),
                i["text"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A small order/payment state, half written by each adapter.
fn seed_values() -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    let statuses = ["paid", "pending", "shipped", "Paid", "refunded"];
    for t in 0..6 {
        let g = format!("trace-{t}");
        for i in 0..5 {
            let n = t * 5 + i;
            // Whole amounts as integers: a Rust f64 20.0 is written "20.0", which Node reads as 20
            // and would write "20" (rust_cases covers that), so texts would differ needlessly.
            let amount = (n as f64) * 7.5 - 20.0;
            let amount = if amount.fract() == 0.0 {
                json!(amount as i64)
            } else {
                json!(amount)
            };
            let mut order = json!({
                "status": statuses[n % statuses.len()],
                "amount": amount,
                "count": n,
                "label": format!("order #{n} ✓"),
                "tags": ["a", n.to_string()],
                "nested": {"level": n % 3},
            });
            if n % 4 == 0 {
                order["note"] = Value::Null;
            } else if n % 4 == 1 {
                order["note"] = json!("fragile");
            }
            out.push((g.clone(), format!("order:{n}"), order));
        }
        out.push((g.clone(), "flag".into(), json!(t % 2 == 0)));
        out.push((g.clone(), "total".into(), json!(t * 100)));
        out.push((g.clone(), "name".into(), json!(format!("customer {t}"))));
        out.push((g.clone(), "nothing".into(), Value::Null));
        out.push((g.clone(), "list:items".into(), json!([t, "x", null])));
        out.push((
            g.clone(),
            "numeric-text".into(),
            json!(format!("{}", t * 3)),
        ));
    }
    out
}

fn filters() -> Vec<Vec<StateFilter>> {
    let f = |k: &str, op: &str, v: &str| StateFilter::new(k, FilterOp::from(op.to_string()), v);
    let mut all = vec![];
    for (k, ops_values) in [
        (
            "status",
            vec![
                ("eq", "paid"),
                ("neq", "paid"),
                ("contains", "aid"),
                ("notContains", "p"),
                ("startsWith", "p"),
                ("endsWith", "ed"),
                ("gt", "pending"),
                ("lte", "Paid"),
            ],
        ),
        (
            "amount",
            vec![
                ("gt", "10"),
                ("gte", "25"),
                ("lt", "0"),
                ("lte", "-5"),
                ("eq", "25"),
                ("neq", "25"),
                ("gt", "abc"),
                ("gt", ""),
                ("gt", " 40 "),
                ("lt", "1e2"),
            ],
        ),
        ("count", vec![("gte", "12"), ("lt", "3"), ("contains", "1")]),
        (
            "label",
            vec![
                ("contains", "#1"),
                ("startsWith", "order #2"),
                ("endsWith", "✓"),
            ],
        ),
        (
            "note",
            vec![("isNull", ""), ("isNotNull", ""), ("eq", "fragile")],
        ),
        (
            "missing",
            vec![("isNull", ""), ("isNotNull", ""), ("gt", "0")],
        ),
        (
            "anything",
            vec![
                ("gt", "50"),
                ("lte", "1"),
                ("eq", "customer 3"),
                ("startsWith", "cust"),
            ],
        ),
        (
            "whatever",
            vec![("isNull", ""), ("isNotNull", ""), ("eq", "true")],
        ),
        (
            "total",
            vec![
                ("gt", "Infinity"),
                ("lt", "inf"),
                ("gt", "0x40"),
                ("lte", "-Infinity"),
            ],
        ),
        // Arrays are objects in JavaScript: indexes and length; objects compare as strings.
        ("1", vec![("eq", "x"), ("neq", "x"), ("isNull", "")]),
        ("length", vec![("gt", "2"), ("isNotNull", "")]),
        ("tags", vec![("gt", "a"), ("lt", "a,2"), ("gte", "a,10")]),
        (
            "nested",
            vec![
                ("gt", "0"),
                ("lt", "[object Object]"),
                ("lte", "[object Object]"),
            ],
        ),
        ("status", vec![("between", "a")]),
    ] {
        for (op, v) in ops_values {
            all.push(vec![f(k, op, v)]);
        }
    }
    all.push(vec![f("status", "eq", "paid"), f("amount", "gt", "50")]);
    all.push(vec![
        f("note", "isNotNull", ""),
        f("label", "contains", "1"),
    ]);
    all
}

fn js_filter(filters: &[StateFilter]) -> Value {
    Value::Array(
        filters
            .iter()
            .map(|f| json!({"valueKey": f.value_key, "operation": f.operation.name(), "value": f.value}))
            .collect(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_and_filtered_items_agree() {
    let node = official();
    let server = RedisServer::start();
    let state = ours(&server).await;
    let seed = seed_values();
    let mut node_writes = Vec::new();
    for (i, (g, k, v)) in seed.iter().enumerate() {
        if i % 2 == 0 {
            state.set(g, k, v).await.unwrap();
        } else {
            node_writes.push(json!({"op": "set", "g": g, "k": k, "v": v}));
        }
    }
    node.run(&server.url(), json!({}), &node_writes);
    let groups: BTreeSet<String> = seed.iter().map(|(g, _, _)| g.clone()).collect();

    let mut ops = vec![
        json!({"op": "traceIds"}),
        json!({"op": "items", "input": {}}),
    ];
    for g in &groups {
        ops.push(json!({"op": "keys", "g": g}));
        ops.push(json!({"op": "items", "input": {"groupId": g}}));
    }
    let filter_sets = filters();
    for fs in &filter_sets {
        ops.push(json!({"op": "items", "input": {"filter": js_filter(fs)}}));
        ops.push(json!({"op": "items", "input": {"groupId": "trace-2", "filter": js_filter(fs)}}));
    }
    let res = node.run(&server.url(), json!({}), &ops);
    let mut res = res.iter();

    let node_ids: BTreeSet<String> =
        serde_json::from_value(res.next().unwrap()["ids"].clone()).unwrap();
    let our_ids_vec = state.trace_ids().await.unwrap();
    let our_ids: BTreeSet<String> = our_ids_vec.iter().map(name).collect();
    assert_eq!(our_ids.len(), our_ids_vec.len(), "trace ids are unique");
    assert_eq!(node_ids, our_ids);
    assert_eq!(our_ids, groups);

    let node_all = node_items(res.next().unwrap());
    let ours_all: Vec<ItemKey> = state
        .items(&ItemsQuery::all())
        .await
        .unwrap()
        .iter()
        .map(our_item)
        .collect();
    assert_eq!(ours_all.len(), seed.len(), "each item once");
    assert_eq!(node_all, ours_all.into_iter().collect::<BTreeSet<_>>());

    for g in &groups {
        let node_keys: BTreeSet<String> =
            serde_json::from_value(res.next().unwrap()["keys"].clone()).unwrap();
        let our_keys: BTreeSet<String> = state.keys(g).await.unwrap().iter().map(name).collect();
        assert_eq!(node_keys, our_keys, "keys of {g}");
        let node_group = node_items(res.next().unwrap());
        let ours: BTreeSet<ItemKey> = state
            .items(&ItemsQuery::group(g))
            .await
            .unwrap()
            .iter()
            .map(our_item)
            .collect();
        assert_eq!(node_group, ours, "items of {g}");
    }

    let mut non_trivial = 0;
    for fs in &filter_sets {
        for group in [None, Some("trace-2")] {
            let node_set = node_items(res.next().unwrap());
            let query = ItemsQuery {
                group_id: group.map(str::to_string),
                filters: fs.clone(),
            };
            let ours: BTreeSet<ItemKey> = state
                .items(&query)
                .await
                .unwrap()
                .iter()
                .map(our_item)
                .collect();
            assert_eq!(node_set, ours, "items with filters {fs:?} in {group:?}");
            if !ours.is_empty() && ours.len() < seed.len() {
                non_trivial += 1;
            }
        }
    }
    assert!(
        non_trivial > filter_sets.len(),
        "the filters select something"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_clears_prefix_and_ttl_cross_over() {
    let node = official();
    let server = RedisServer::start();
    let mut config = server.config();
    config.key_prefix = "app:state:".into();
    let state = RedisStateAdapter::connect(config).await.unwrap();
    let opts = json!({"keyPrefix": "app:state:", "ttl": 300});

    state
        .set("g1", "ours", &json!({"by": "rust"}))
        .await
        .unwrap();
    state.set("g2", "a", &json!(1)).await.unwrap();
    state.set("g2", "b:c", &json!(2)).await.unwrap();
    let res = node.run(
        &server.url(),
        opts.clone(),
        &[
            json!({"op": "set", "g": "g1", "k": "node", "v": {"by": "node"}}),
            json!({"op": "set", "g": "g3", "k": "x", "v": [1]}),
            json!({"op": "delete", "g": "g1", "k": "ours"}),
            json!({"op": "clear", "g": "g2"}),
            json!({"op": "traceIds"}),
        ],
    );
    assert_eq!(
        res[2]["text"], r#"{"by":"rust"}"#,
        "official delete returns our value"
    );
    assert_eq!(state.get::<Value>("g1", "ours").await.unwrap(), None);
    assert!(
        state.keys("g2").await.unwrap().is_empty(),
        "official clear removed our keys"
    );
    let node_ids: BTreeSet<String> = serde_json::from_value(res[4]["ids"].clone()).unwrap();
    let our_ids: BTreeSet<String> = state.trace_ids().await.unwrap().iter().map(name).collect();
    assert_eq!(node_ids, our_ids);
    assert_eq!(
        our_ids,
        BTreeSet::from(["g1".to_string(), "g3".to_string()])
    );

    // The official ttl option is a native expiry (SETEX) we see.
    match state.ttl(item(&state, "g1", "node")).await.unwrap() {
        Ttl::Expires(left) => assert!(left <= Duration::from_secs(300) && left > Duration::ZERO),
        other => panic!("expected an expiry, got {other:?}"),
    }
    assert_eq!(
        state.delete("g1", "node").await.unwrap(),
        Some(json!({"by": "node"})),
        "our delete returns the official adapter's value"
    );
    assert_eq!(state.clear("g3").await.unwrap(), 1);

    let res = node.run(
        &server.url(),
        opts,
        &[
            json!({"op": "get", "g": "g1", "k": "node"}),
            json!({"op": "keys", "g": "g3"}),
            json!({"op": "traceIds"}),
        ],
    );
    assert_eq!(res[0]["text"], "null");
    assert_eq!(res[1]["keys"], json!([]));
    assert_eq!(res[2]["ids"], json!([]));
    // Nothing leaked outside the custom prefix.
    assert_eq!(server.cli(&["DBSIZE"]), "0");
}

/// A name the official adapter wrote, as its text (it only writes UTF-8).
fn name(n: &motia_state::Name) -> String {
    n.to_str().expect("a UTF-8 name").to_owned()
}
