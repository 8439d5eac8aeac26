//! A generator of Motia 0.x trace records, in the exact format of motia-format.md ("Traces"):
//! the group hash `motia:trace:default`, one hash per flow with a `Trace` per step execution,
//! dead letters under `motia:events:{topic}.{Step}.dlq:dlq-{n}`.

use serde_json::{Value, json};

use super::RedisServer;

/// A step execution, serialised in the key order Motia's objects have (fields set when the
/// step ends come after the events).
pub struct Step {
    pub id: String,
    pub name: String,
    pub entry: &'static str,
    pub status: &'static str,
    pub start: i64,
    pub end: Option<i64>,
    pub error: Option<Value>,
    pub events: Vec<Value>,
}

impl Step {
    pub fn new(n: u32, name: &str, entry: &'static str, start: i64) -> Self {
        Step {
            id: uuid(n),
            name: name.into(),
            entry,
            status: "completed",
            start,
            end: Some(start + 40),
            error: None,
            events: Vec::new(),
        }
    }

    pub fn running(mut self) -> Self {
        self.status = "running";
        self.end = None;
        self
    }

    /// Failed the way the queue's handler records it: no `Error:` header in the stack.
    pub fn failed(mut self, message: &str) -> Self {
        self.status = "failed";
        self.error = Some(json!({
            "message": message,
            "code": null,
            "stack": format!("    at handler (file://.motia/compiled/steps/{}.step.js:21:11)\n    at async run (node:internal/process:1:1)", self.name),
        }));
        self
    }

    pub fn event(mut self, e: Value) -> Self {
        self.events.push(e);
        self
    }

    pub fn to_json(&self, trace: &str) -> String {
        let mut m = serde_json::Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert("name".into(), json!(self.name));
        m.insert("parentTraceId".into(), json!(trace));
        m.insert("status".into(), json!(self.status));
        m.insert("startTime".into(), json!(self.start));
        m.insert(
            "entryPoint".into(),
            json!({"type": self.entry, "stepName": self.name}),
        );
        m.insert("events".into(), Value::Array(self.events.clone()));
        if let Some(e) = self.end {
            m.insert("endTime".into(), json!(e));
        }
        if let Some(e) = &self.error {
            m.insert("error".into(), e.clone());
        }
        Value::Object(m).to_string()
    }
}

pub fn set(ts: i64, trace: &str, key: &str, value: Value) -> Value {
    json!({"type":"state","timestamp":ts,"operation":"set","data":{"traceId":trace,"key":key,"value":value}})
}

pub fn get(ts: i64, trace: &str, key: &str) -> Value {
    json!({"type":"state","timestamp":ts,"operation":"get","data":{"traceId":trace,"key":key}})
}

pub fn delete(ts: i64, trace: &str, key: &str) -> Value {
    json!({"type":"state","timestamp":ts,"operation":"delete","data":{"traceId":trace,"key":key}})
}

pub fn clear(ts: i64, trace: &str) -> Value {
    json!({"type":"state","timestamp":ts,"operation":"clear","data":{"traceId":trace}})
}

pub fn emit(ts: i64, topic: &str) -> Value {
    json!({"type":"emit","timestamp":ts,"topic":topic,"success":true,"data":{"n":1}})
}

pub fn log(ts: i64, message: &str) -> Value {
    json!({"type":"log","timestamp":ts,"level":"info","message":message,"metadata":{}})
}

/// A UUID-shaped step id, distinct for each `n`.
pub fn uuid(n: u32) -> String {
    format!("{n:08x}-9c1e-4d8a-a7f2-5e2d0c9b1f44")
}

/// A flow: its group record and its steps.
pub struct Flow {
    pub trace: String,
    pub name: String,
    pub start: i64,
    pub steps: Vec<Step>,
    /// Write the 0.12 .. 0.17.3 group shape (status, endTime, metadata).
    pub old_group: Option<&'static str>,
}

impl Flow {
    pub fn new(trace: &str, name: &str, start: i64) -> Self {
        Flow {
            trace: trace.into(),
            name: name.into(),
            start,
            steps: Vec::new(),
            old_group: None,
        }
    }

    pub fn step(mut self, s: Step) -> Self {
        self.steps.push(s);
        self
    }

    pub fn group_json(&self) -> String {
        match self.old_group {
            None => json!({"id": self.trace, "name": self.name, "startTime": self.start}).to_string(),
            Some(status) => json!({
                "id": self.trace, "name": self.name, "status": status, "startTime": self.start,
                "endTime": self.start + 500, "lastActivity": self.start + 500,
                "metadata": {"completedSteps": self.steps.len(), "activeSteps": 0, "totalSteps": self.steps.len()},
            })
            .to_string(),
        }
    }

    /// HSETs the group record and every step, with Motia's 3-day expiry on both hashes.
    pub fn write(&self, server: &RedisServer) {
        let mut con = connection(server);
        let mut pipe = redis::pipe();
        pipe.hset("motia:trace:default", &self.trace, self.group_json())
            .ignore();
        pipe.expire("motia:trace:default", 259_200).ignore();
        let key = format!("motia:trace:{}", self.trace);
        for s in &self.steps {
            pipe.hset(&key, &s.id, s.to_json(&self.trace)).ignore();
        }
        if !self.steps.is_empty() {
            pipe.expire(&key, 259_200).ignore();
        }
        let () = pipe.query(&mut con).expect("write trace records");
    }
}

pub fn connection(server: &RedisServer) -> redis::Connection {
    redis::Client::open(server.url())
        .expect("client")
        .get_connection()
        .expect("connect")
}

/// Writes raw bytes as a hash field (for unreadable records).
pub fn hset_raw(server: &RedisServer, key: &str, field: &str, value: &str) {
    let mut con = connection(server);
    let () = redis::cmd("HSET")
        .arg(key)
        .arg(field)
        .arg(value)
        .query(&mut con)
        .map(|_: i64| ())
        .expect("hset");
}

/// A dead letter as Motia's queue leaves it after the last attempt.
pub fn dead_letter(server: &RedisServer, topic: &str, step: &str, trace: &str, n: u32) {
    let data = json!({
        "originalEvent": {"topic": topic, "data": {"card": "declined"}, "traceId": trace, "flows": ["orders"]},
        "failureReason": "Card declined", "failureTimestamp": 1_765_432_200_000i64,
        "attemptsMade": 4, "originalJobId": "12",
    });
    hset_raw(
        server,
        &format!("motia:events:{topic}.{step}.dlq:dlq-{n}"),
        "data",
        &data.to_string(),
    );
}

/// The reference flows of the trace tests (times in ms after T0).
pub const T0: i64 = 1_765_432_104_821;

/// A completed order flow (api -> event), a failed payment flow with 4 attempts and a dead
/// letter, a running flow, an old-shape flow, a flow with no state, a group whose records
/// expired, unreadable records.
pub fn write_reference(server: &RedisServer) {
    // Completed: writes `order` twice, reads it, deletes `cart`.
    Flow::new("QH7KD-2104821", "CreateOrder", T0)
        .step(
            Step::new(1, "CreateOrder", "api", T0 + 2)
                .event(log(T0 + 10, "Creating order"))
                .event(set(
                    T0 + 20,
                    "QH7KD-2104821",
                    "order",
                    json!({"id":"ord_1","status":"pending"}),
                ))
                .event(set(T0 + 25, "QH7KD-2104821", "cart", json!(["sku-1"])))
                .event(emit(T0 + 30, "order.created")),
        )
        .step(
            Step::new(2, "ConfirmOrder", "event", T0 + 100)
                .event(get(T0 + 110, "QH7KD-2104821", "order"))
                .event(set(
                    T0 + 120,
                    "QH7KD-2104821",
                    "order",
                    json!({"id":"ord_1","status":"confirmed"}),
                ))
                .event(delete(T0 + 130, "QH7KD-2104821", "cart")),
        )
        .write(server);
    server.set_raw(
        "motia:state:QH7KD-2104821:order",
        r#"{"id":"ord_1","status":"confirmed"}"#,
    );

    // Failed: the payment step failed 4 times, 2 s apart, then the event was dead-lettered.
    let t = "W6SPF-3235264";
    let mut f = Flow::new(t, "CheckoutApi", T0 + 1000).step(
        Step::new(10, "CheckoutApi", "api", T0 + 1000)
            .event(set(T0 + 1010, t, "payment", json!({"status":"pending"})))
            .event(emit(T0 + 1020, "payment.requested")),
    );
    for a in 0..4 {
        let at = T0 + 1100 + a * 2000;
        f = f.step(
            Step::new(11 + a as u32, "ProcessPayment", "event", at)
                .event(get(at + 5, t, "payment"))
                .failed("Card declined"),
        );
    }
    f.write(server);
    dead_letter(server, "payment.requested", "ProcessPayment", t, 1);
    server.set_raw(
        "motia:state:W6SPF-3235264:payment",
        r#"{"status":"pending"}"#,
    );

    // Running: the second step has no endTime yet.
    let r = "RUNNG-0000001";
    Flow::new(r, "ImportCatalog", T0 + 5000)
        .step(Step::new(20, "ImportCatalog", "cron", T0 + 5000).event(set(
            T0 + 5010,
            r,
            "progress",
            json!(10),
        )))
        .step(Step::new(21, "ImportBatch", "event", T0 + 5100).running())
        .write(server);
    server.set_raw("motia:state:RUNNG-0000001:progress", "10");

    // Old group shape (0.12 .. 0.17.3), steps still there.
    let mut old = Flow::new("OLDGR-1111111", "LegacyFlow", T0 - 60_000).step(Step::new(
        30,
        "LegacyFlow",
        "api",
        T0 - 60_000,
    ));
    old.old_group = Some("completed");
    old.write(server);
    server.set_raw("motia:state:OLDGR-1111111:x", "1");

    // Records but no state: the flow cleared its state, then failed.
    let n = "NOSTA-2222222";
    Flow::new(n, "Cleanup", T0 + 7000)
        .step(
            Step::new(40, "Cleanup", "api", T0 + 7000)
                .event(clear(T0 + 7010, n))
                .failed("Disk full"),
        )
        .write(server);

    // A group whose own hash expired: only the group record is left.
    Flow::new("EXPRD-3333333", "Forgotten", T0 - 100_000).write(server);

    // Unreadable: a group that is not JSON, a step that is not JSON, a step of the wrong shape.
    hset_raw(server, "motia:trace:default", "BADGR-4444444", "{truncated");
    server.set_raw("motia:state:BADGR-4444444:k", "1");
    let b = "BADST-5555555";
    Flow::new(b, "Broken", T0 + 9000)
        .step(Step::new(50, "Broken", "api", T0 + 9000))
        .write(server);
    hset_raw(
        server,
        &format!("motia:trace:{b}"),
        "not-json-step",
        "<html>oops",
    );
    hset_raw(
        server,
        &format!("motia:trace:{b}"),
        "odd-step",
        r#"{"name":"Broken","status":"paused","startTime":1}"#,
    );
    server.set_raw("motia:state:BADST-5555555:k", "1");
}
