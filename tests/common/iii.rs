//! Fixtures written exactly as the iii engine writes (command shapes captured with MONITOR from
//! iii 0.9.0, `shared/docs/iii-state.md`): the set script by EVALSHA after SCRIPT LOAD, delete
//! as HGET then HDEL, stream changes PUBLISHed on `stream::events`.

use super::RedisServer;

/// The engine's set: HGET then HSET in one script, returning the old value.
pub const ENGINE_SET: &str = "local old = redis.call('HGET', KEYS[1], ARGV[1]) \
     redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) return old";

/// `state.set(scope, key, json)` as the engine sends it.
pub fn engine_set(s: &RedisServer, scope: &str, key: &str, json: &str) {
    engine_set_key(s, &format!("state:{scope}"), key, json);
}

fn engine_set_key(s: &RedisServer, hash: &str, key: &str, json: &str) {
    let sha = s.cli(&["SCRIPT", "LOAD", ENGINE_SET]);
    s.cli(&["EVALSHA", &sha, "1", hash, key, json]);
}

/// `state.delete(scope, key)` as the engine sends it.
pub fn engine_delete(s: &RedisServer, scope: &str, key: &str) {
    let hash = format!("state:{scope}");
    s.cli(&["HGET", &hash, key]);
    s.cli(&["HDEL", &hash, key]);
}

/// A stream item set, with the engine's event.
pub fn engine_stream_set(s: &RedisServer, stream: &str, group: &str, id: &str, json: &str) {
    engine_set_key(s, &format!("stream:{stream}:{group}"), id, json);
    let event = format!(
        r#"{{"type":"stream","timestamp":1796647539364,"streamName":"{stream}","groupId":"{group}","id":"{id}","event":{{"type":"create","data":{json}}}}}"#
    );
    s.cli(&["PUBLISH", "stream::events", &event]);
}

/// The values of `iii-state.md`, as stored by a real engine (set, then update through cjson).
pub const ORDER_AFTER_UPDATE: &str = r#"{"attempts":1,"total":42.5,"note":"a\/b","card":"good","id":"v1-ok-1","status":"paid","tags":{},"big":1.2345678901235e+19}"#;

/// Writes the captured state: misc, payments, orders and a stream group.
pub fn engine_fixture(s: &RedisServer) {
    engine_set(s, "misc", "greeting", r#""hello""#);
    engine_set(s, "misc", "answer", "42");
    engine_set(s, "payments", "v1-ok-1", r#""card""#);
    engine_set(
        s,
        "orders",
        "v1-ok-1",
        r#"{"big":12345678901234567000,"card":"good","id":"v1-ok-1","note":"a/b","status":"pending","tags":[],"total":42.5}"#,
    );
    // The engine's update re-encodes through cjson: the stored text it leaves.
    engine_set(s, "orders", "v1-ok-1", ORDER_AFTER_UPDATE);
    engine_stream_set(
        s,
        "orderStatus",
        "orders",
        "v1-bad-1",
        r#"{"id":"v1-bad-1","status":"failed"}"#,
    );
}
