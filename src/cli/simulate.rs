//! The demo's stand-in for a running Motia app: flows built step by step into timed Redis
//! writes in Motia's formats (state strings, the group record, one `Trace` document per step
//! execution rewritten whole on every event, dead letters), applied at once for a fixed set or
//! as their time comes while the browser is open.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

/// Motia's expiry of trace records: 3 days, renewed on each write.
const TRACE_TTL_SECS: u64 = 259_200;

/// One Redis write.
#[derive(Debug, Clone)]
pub enum Write {
    /// `SET key text [EX ttl]`.
    Set {
        key: String,
        text: String,
        ttl: Option<u64>,
    },
    /// `DEL key`.
    Del { key: String },
    /// `HSET key field value...` without expiry (stream data).
    Hash {
        key: String,
        fields: Vec<(String, String)>,
    },
    /// `HSET key field value`, then the 3-day expiry of the hash (trace records, dead letters).
    HSet {
        key: String,
        field: String,
        value: String,
    },
}

/// A write and when it happens (epoch milliseconds).
#[derive(Debug, Clone)]
pub struct Timed {
    pub at: i64,
    pub write: Write,
}

/// Deterministic pseudo-random numbers (xorshift): the fixed set looks the same every time.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// A trace id as Motia's `generateTraceId()` makes it: 5 characters of its alphabet, a
    /// dash, the last 7 digits of the clock in milliseconds.
    pub fn trace_id(&mut self, now_ms: i64) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ123456789";
        let head: String = (0..5)
            .map(|_| ALPHABET[self.below(ALPHABET.len())] as char)
            .collect();
        format!("{head}-{:07}", now_ms.rem_euclid(10_000_000))
    }

    /// A random (version 4 shaped) UUID, as Motia gives each step execution.
    pub fn uuid(&mut self) -> String {
        let a = self.next();
        let b = self.next();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        )
    }
}

/// Where the writes go.
#[derive(Debug, Clone)]
pub struct Prefixes {
    pub state: String,
    pub trace: String,
}

/// Builds one flow's writes; steps are added in order, each advancing the flow's clock.
pub struct FlowBuilder<'a> {
    prefixes: &'a Prefixes,
    rng: &'a mut Rng,
    pub trace: String,
    pub clock: i64,
    out: Vec<Timed>,
    dlq_n: &'a mut u32,
}

impl<'a> FlowBuilder<'a> {
    /// A flow started by its entry step `name` at `start`: writes the group record.
    pub fn new(
        prefixes: &'a Prefixes,
        rng: &'a mut Rng,
        dlq_n: &'a mut u32,
        trace: String,
        name: &str,
        start: i64,
    ) -> Self {
        let group = json!({"id": trace, "name": name, "startTime": start});
        let out = vec![Timed {
            at: start,
            write: Write::HSet {
                key: format!("{}default", prefixes.trace),
                field: trace.clone(),
                value: group.to_string(),
            },
        }];
        FlowBuilder {
            prefixes,
            rng,
            trace,
            clock: start,
            out,
            dlq_n,
        }
    }

    /// Starts a step execution now.
    pub fn step(&mut self, name: &str, entry: &str) -> StepBuilder<'_, 'a> {
        self.clock += 2 + self.rng.below(20) as i64;
        let id = self.rng.uuid();
        let start = self.clock;
        let mut s = StepBuilder {
            flow: self,
            id,
            name: name.into(),
            entry: entry.into(),
            start,
            events: Vec::new(),
        };
        s.rewrite(None, None, "running");
        s
    }

    /// Lets time pass between steps.
    pub fn wait(&mut self, ms: i64) {
        self.clock += ms;
    }

    /// A state write outside any traced step (nothing in the records shows it).
    pub fn untraced_set(&mut self, key: &str, text: &str, ttl: Option<u64>) {
        self.out.push(Timed {
            at: self.clock,
            write: Write::Set {
                key: format!("{}{}:{key}", self.prefixes.state, self.trace),
                text: text.into(),
                ttl,
            },
        });
    }

    /// The queue gave up on `topic` for `step` after `attempts` attempts.
    pub fn dead_letter(&mut self, topic: &str, step: &str, reason: &str, attempts: u32) {
        *self.dlq_n += 1;
        let data = json!({
            "originalEvent": {"topic": topic, "data": {"traceId": self.trace}, "traceId": self.trace, "flows": ["orders"]},
            "failureReason": reason,
            "failureTimestamp": self.clock,
            "attemptsMade": attempts,
            "originalJobId": format!("{}", 1000 + *self.dlq_n),
        });
        self.out.push(Timed {
            at: self.clock,
            write: Write::HSet {
                key: format!("motia:events:{topic}.{step}.dlq:dlq-{}", self.dlq_n),
                field: "data".into(),
                value: data.to_string(),
            },
        });
    }

    /// The writes, in time order.
    pub fn finish(mut self) -> Vec<Timed> {
        self.out.sort_by_key(|t| t.at);
        self.out
    }
}

/// One step execution: every event rewrites its whole document, as Motia does.
pub struct StepBuilder<'f, 'a> {
    flow: &'f mut FlowBuilder<'a>,
    id: String,
    name: String,
    entry: String,
    start: i64,
    events: Vec<Value>,
}

impl StepBuilder<'_, '_> {
    fn tick(&mut self) -> i64 {
        self.flow.clock += 3 + self.flow.rng.below(40) as i64;
        self.flow.clock
    }

    fn rewrite(&mut self, end: Option<i64>, error: Option<Value>, status: &str) {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert("name".into(), json!(self.name));
        m.insert("parentTraceId".into(), json!(self.flow.trace));
        m.insert("status".into(), json!(status));
        m.insert("startTime".into(), json!(self.start));
        m.insert(
            "entryPoint".into(),
            json!({"type": self.entry, "stepName": self.name}),
        );
        m.insert("events".into(), Value::Array(self.events.clone()));
        if let Some(e) = end {
            m.insert("endTime".into(), json!(e));
        }
        if let Some(e) = error {
            m.insert("error".into(), e);
        }
        let at = self.flow.clock;
        self.flow.out.push(Timed {
            at,
            write: Write::HSet {
                key: format!("{}{}", self.flow.prefixes.trace, self.flow.trace),
                field: self.id.clone(),
                value: Value::Object(m).to_string(),
            },
        });
    }

    fn state_data(&self, key: Option<&str>) -> Map<String, Value> {
        let mut d = Map::new();
        d.insert("traceId".into(), json!(self.flow.trace));
        if let Some(k) = key {
            d.insert("key".into(), json!(k));
        }
        d
    }

    /// `state.set`: the string written and the event carrying the whole value.
    pub fn set(&mut self, key: &str, value: Value, ttl: Option<u64>) -> &mut Self {
        let at = self.tick();
        self.flow.out.push(Timed {
            at,
            write: Write::Set {
                key: format!("{}{}:{key}", self.flow.prefixes.state, self.flow.trace),
                text: motia_state::json::to_compact(&value),
                ttl,
            },
        });
        let mut data = self.state_data(Some(key));
        data.insert("value".into(), value);
        self.events
            .push(json!({"type": "state", "timestamp": at, "operation": "set", "data": data}));
        self.rewrite(None, None, "running");
        self
    }

    /// `state.get`: an event only.
    pub fn get(&mut self, key: &str) -> &mut Self {
        let at = self.tick();
        let data = self.state_data(Some(key));
        self.events
            .push(json!({"type": "state", "timestamp": at, "operation": "get", "data": data}));
        self.rewrite(None, None, "running");
        self
    }

    /// `state.delete`.
    pub fn delete(&mut self, key: &str) -> &mut Self {
        let at = self.tick();
        self.flow.out.push(Timed {
            at,
            write: Write::Del {
                key: format!("{}{}:{key}", self.flow.prefixes.state, self.flow.trace),
            },
        });
        let data = self.state_data(Some(key));
        self.events
            .push(json!({"type": "state", "timestamp": at, "operation": "delete", "data": data}));
        self.rewrite(None, None, "running");
        self
    }

    /// `emit`.
    pub fn emit(&mut self, topic: &str, data: Value) -> &mut Self {
        let at = self.tick();
        self.events.push(
            json!({"type": "emit", "timestamp": at, "topic": topic, "success": true, "data": data}),
        );
        self.rewrite(None, None, "running");
        self
    }

    /// `logger.info` / `logger.warn` / ...
    pub fn log(&mut self, level: &str, message: &str) -> &mut Self {
        let at = self.tick();
        self.events.push(json!({"type": "log", "timestamp": at, "level": level, "message": message, "metadata": {"step": self.name}}));
        self.rewrite(None, None, "running");
        self
    }

    /// Work that takes a while.
    pub fn wait(&mut self, ms: i64) -> &mut Self {
        self.flow.clock += ms;
        self
    }

    pub fn complete(mut self) {
        let end = self.tick();
        self.rewrite(Some(end), None, "completed");
    }

    /// Fails with an error as the queue handler records it (the stack without its header).
    pub fn fail(mut self, message: &str, file: &str, line: u32) {
        let end = self.tick();
        let stack = format!(
            "    at handler (file:///app/.motia/compiled/steps/{file}.step.js:{line}:11)\n    at async \
             Object.handler (file:///app/node_modules/@motiadev/core/dist/esm/src/call-step-file.mjs:88:24)\n    \
             at async Worker.processJob (file:///app/node_modules/bullmq/dist/esm/classes/worker.js:455:28)"
        );
        let error = json!({"message": message, "code": null, "stack": stack});
        self.rewrite(Some(end), Some(error), "failed");
    }

    /// Leaves the step running (no `endTime`), as a step still at work is seen.
    pub fn leave_running(self) {}
}

/// Applies writes to Redis in pipelines of bounded size.
pub async fn apply(
    conn: &mut redis::aio::MultiplexedConnection,
    writes: &[Timed],
) -> redis::RedisResult<()> {
    // Only the last version of a step document matters when writing many at once.
    let mut last_doc: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for (i, t) in writes.iter().enumerate() {
        if let Write::HSet { key, field, .. } = &t.write {
            last_doc.insert((key, field), i);
        }
    }
    for chunk in writes.chunks(500).enumerate().map(|(n, c)| (n * 500, c)) {
        let (base, chunk) = chunk;
        let mut pipe = redis::pipe();
        for (j, t) in chunk.iter().enumerate() {
            match &t.write {
                Write::Set { key, text, ttl } => {
                    let c = pipe.cmd("SET").arg(key).arg(text);
                    if let Some(s) = ttl {
                        c.arg("EX").arg(*s);
                    }
                    c.ignore();
                }
                Write::Del { key } => {
                    pipe.cmd("DEL").arg(key).ignore();
                }
                Write::Hash { key, fields } => {
                    pipe.cmd("HSET").arg(key).arg(fields).ignore();
                }
                Write::HSet { key, field, value } => {
                    if last_doc.get(&(key.as_str(), field.as_str())) != Some(&(base + j)) {
                        continue;
                    }
                    pipe.cmd("HSET").arg(key).arg(field).arg(value).ignore();
                    pipe.cmd("EXPIRE").arg(key).arg(TRACE_TTL_SECS).ignore();
                }
            }
        }
        let () = pipe.query_async(conn).await?;
    }
    Ok(())
}
