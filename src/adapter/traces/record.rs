//! The documents Motia keeps about flows, parsed leniently: old and new shapes are both
//! accepted, and a document that cannot be used says why instead of failing its neighbours.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::adapter::traces::fields::{
    Fields, as_ms, header_end, lossy, opt_ms, opt_str, parse_object, req_str,
};
pub use crate::adapter::traces::flow_status::FlowStatus;
use crate::adapter::traces::flow_status::status_of;
use crate::adapter::traces::header::StepHeader;

/// A trace record that could not be used, and why.
///
/// ```
/// use motia_state::adapter::traces::Unreadable;
/// let u = Unreadable::new("motia:trace:default", "QH7KD-2104821", "not JSON");
/// assert_eq!(u.to_string(), "motia:trace:default field QH7KD-2104821: not JSON");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unreadable {
    /// The Redis hash it came from.
    pub key: String,
    /// The hash field (a trace id in the group hash, a step UUID in a trace hash).
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}

impl Unreadable {
    /// A record of `key`/`field` that cannot be used because of `reason`.
    ///
    /// ```
    /// use motia_state::adapter::traces::Unreadable;
    /// let u = Unreadable::new("motia:trace:AB123-1234567", "3b0f", "missing \"status\"");
    /// assert_eq!(u.field, "3b0f");
    /// ```
    pub fn new(
        key: impl Into<String>,
        field: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            key: key.into(),
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} field {}: {}", self.key, self.field, self.reason)
    }
}

/// The counters Motia 0.12 to 0.17.3 kept in the group record.
///
/// ```
/// use motia_state::adapter::traces::GroupCounts;
/// let c = GroupCounts { completed_steps: 2, active_steps: 1, total_steps: 3 };
/// assert_eq!(c.total_steps, 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupCounts {
    /// Steps that finished.
    pub completed_steps: u64,
    /// Steps still running.
    pub active_steps: u64,
    /// All steps.
    pub total_steps: u64,
}

/// One flow (`TraceGroup`), from the group hash `{trace_prefix}default`.
///
/// ```
/// use motia_state::adapter::traces::TraceGroup;
/// let g = TraceGroup::parse("QH7KD-2104821",
///     br#"{"id":"QH7KD-2104821","name":"CreateOrder","startTime":1765432104821}"#).unwrap();
/// assert_eq!((g.name.as_str(), g.start_time), ("CreateOrder", Some(1765432104821)));
/// assert_eq!(g.status, None); // only older versions stored it
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TraceGroup {
    /// The trace id (the hash field).
    pub id: String,
    /// The flow's entry step.
    pub name: String,
    /// Epoch milliseconds.
    pub start_time: Option<i64>,
    /// Stored by 0.12 to 0.17.3 only; newer versions derive it from the steps.
    pub status: Option<FlowStatus>,
    /// Stored by 0.12 to 0.17.3 only.
    pub end_time: Option<i64>,
    /// Stored by 0.12 to 0.17.3 only.
    pub last_activity: Option<i64>,
    /// Stored by 0.12 to 0.17.3 only.
    pub counts: Option<GroupCounts>,
}

impl TraceGroup {
    /// Parses a group record stored under hash field `field`; the error is the reason.
    ///
    /// ```
    /// use motia_state::adapter::traces::TraceGroup;
    /// let old = br#"{"id":"A","name":"Cron","status":"failed","startTime":1,"endTime":9,
    ///   "lastActivity":9,"metadata":{"completedSteps":1,"activeSteps":0,"totalSteps":2}}"#;
    /// let g = TraceGroup::parse("A", old).unwrap();
    /// assert_eq!(g.counts.unwrap().total_steps, 2);
    /// assert!(TraceGroup::parse("A", b"{\"name\":7}").unwrap_err().contains("name"));
    /// ```
    pub fn parse(field: &str, bytes: &[u8]) -> std::result::Result<Self, String> {
        let v = parse_object(bytes)?;
        let status = match v.get("status") {
            None | Some(Value::Null) => None,
            Some(s) => Some(status_of(s)?),
        };
        let counts = match v.get("metadata") {
            Some(Value::Object(m)) => Some(GroupCounts {
                completed_steps: m.get("completedSteps").and_then(Value::as_u64).unwrap_or(0),
                active_steps: m.get("activeSteps").and_then(Value::as_u64).unwrap_or(0),
                total_steps: m.get("totalSteps").and_then(Value::as_u64).unwrap_or(0),
            }),
            _ => None,
        };
        Ok(TraceGroup {
            id: opt_str(&v, "id")?.unwrap_or_else(|| field.to_string()),
            name: req_str(&v, "name")?,
            start_time: opt_ms(&v, "startTime")?,
            status,
            end_time: opt_ms(&v, "endTime")?,
            last_activity: opt_ms(&v, "lastActivity")?,
            counts,
        })
    }
}

/// A step's error as Motia stores it (the stack may lack an `Error: message` first line).
///
/// ```
/// use motia_state::adapter::traces::TraceError;
/// let e = TraceError { message: "Card declined".into(), code: None,
///     stack: Some("    at handler (steps/pay.step.ts:21:11)".into()) };
/// assert!(e.full_text().starts_with("Card declined\n    at handler"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceError {
    /// The message.
    pub message: String,
    /// An error code, any JSON (often `null`).
    pub code: Option<Value>,
    /// The stack, as stored.
    pub stack: Option<String>,
}

impl TraceError {
    /// Message and stack as one text, with the message as first line even when the stack
    /// leaves it out.
    ///
    /// ```
    /// use motia_state::adapter::traces::TraceError;
    /// let e = TraceError { message: "boom".into(), code: None,
    ///     stack: Some("Error: boom\n    at f (a.ts:1:1)".into()) };
    /// assert_eq!(e.full_text(), "Error: boom\n    at f (a.ts:1:1)");
    /// ```
    pub fn full_text(&self) -> String {
        match self.stack.as_deref() {
            Some(s) if s.lines().next().is_some_and(|l| l.contains(&self.message)) => s.into(),
            Some(s) if !s.trim().is_empty() => format!("{}\n{s}", self.message),
            _ => self.message.clone(),
        }
    }

    /// The first line of the message.
    ///
    /// ```
    /// use motia_state::adapter::traces::TraceError;
    /// let e = TraceError { message: "a\nb".into(), code: None, stack: None };
    /// assert_eq!(e.first_line(), "a");
    /// ```
    pub fn first_line(&self) -> &str {
        self.message.lines().next().unwrap_or("")
    }
}

/// What kind of event a [`TraceEvent`] is, with the fields the browser uses.
///
/// ```
/// use motia_state::adapter::traces::{EventKind, TraceEvent};
/// let e = TraceEvent::parse(&serde_json::json!({"type":"emit","timestamp":5,
///     "topic":"order.created","success":true,"data":{}}));
/// assert!(matches!(e.kind, EventKind::Emit { success: true, .. }));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// A state operation: `get`, `getGroup`, `set`, `delete`, `clear`.
    State {
        /// The operation.
        operation: String,
        /// The state group the step used (`data.traceId`, or `data.groupId` for getGroup).
        group: Option<String>,
        /// The key, for get, set and delete.
        key: Option<String>,
    },
    /// An emitted event.
    Emit {
        /// The topic.
        topic: String,
        /// Whether the emit succeeded.
        success: bool,
    },
    /// A stream operation.
    Stream {
        /// The operation.
        operation: String,
        /// The stream.
        stream: String,
    },
    /// A log line.
    Log {
        /// Its level.
        level: String,
        /// Its message.
        message: String,
    },
    /// An event of a type this version does not know, kept as it is.
    Other {
        /// The stored `type`.
        kind: String,
    },
    /// Not the shape of an event.
    Unreadable {
        /// Why.
        reason: String,
    },
}

/// One entry of a step's `events`, parsed, with the stored JSON kept.
///
/// ```
/// use motia_state::adapter::traces::{EventKind, TraceEvent};
/// let e = TraceEvent::parse(&serde_json::json!({"type":"state","timestamp":7,"operation":"set",
///     "data":{"traceId":"T","key":"order","value":{"id":1}}}));
/// assert_eq!(e.timestamp, Some(7));
/// assert_eq!(e.state_value().unwrap()["id"], 1);
/// assert_eq!(e.summary(), "state set order");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TraceEvent {
    /// Epoch milliseconds.
    pub timestamp: Option<i64>,
    /// What it is.
    pub kind: EventKind,
    /// The event exactly as stored.
    pub raw: Value,
}

impl TraceEvent {
    /// Parses one stored event; never fails (a bad one is [`EventKind::Unreadable`]).
    ///
    /// ```
    /// use motia_state::adapter::traces::{EventKind, TraceEvent};
    /// let e = TraceEvent::parse(&serde_json::json!(42));
    /// assert!(matches!(e.kind, EventKind::Unreadable { .. }));
    /// ```
    pub fn parse(raw: &Value) -> Self {
        let timestamp = raw.get("timestamp").and_then(as_ms);
        let kind = match Self::kind_of(raw) {
            Ok(k) => k,
            Err(reason) => EventKind::Unreadable { reason },
        };
        TraceEvent {
            timestamp,
            kind,
            raw: raw.clone(),
        }
    }

    fn kind_of(raw: &Value) -> std::result::Result<EventKind, String> {
        let obj = raw.as_object().ok_or("an event that is not an object")?;
        let text = |k: &str| obj.get(k).and_then(Value::as_str).map(str::to_string);
        let kind = text("type").ok_or("an event without \"type\"")?;
        let data = obj.get("data");
        let data_str = |k: &str| {
            data.and_then(|d| d.get(k))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        Ok(match kind.as_str() {
            "state" => {
                let operation = text("operation").ok_or("a state event without \"operation\"")?;
                let group = data_str("traceId").or_else(|| data_str("groupId"));
                EventKind::State {
                    operation,
                    group,
                    key: data_str("key"),
                }
            }
            "emit" => EventKind::Emit {
                topic: text("topic").unwrap_or_default(),
                success: obj.get("success").and_then(Value::as_bool).unwrap_or(false),
            },
            "stream" => EventKind::Stream {
                operation: text("operation").unwrap_or_default(),
                stream: text("streamName").unwrap_or_default(),
            },
            "log" => EventKind::Log {
                level: text("level").unwrap_or_default(),
                message: text("msg").or_else(|| text("message")).unwrap_or_default(),
            },
            _ => EventKind::Other { kind },
        })
    }

    /// The whole value a `set` wrote.
    ///
    /// ```
    /// use motia_state::adapter::traces::TraceEvent;
    /// let e = TraceEvent::parse(&serde_json::json!({"type":"state","timestamp":1,
    ///     "operation":"get","data":{"traceId":"T","key":"k"}}));
    /// assert_eq!(e.state_value(), None);
    /// ```
    pub fn state_value(&self) -> Option<&Value> {
        match &self.kind {
            EventKind::State { operation, .. } if operation == "set" => {
                self.raw.get("data").and_then(|d| d.get("value"))
            }
            _ => None,
        }
    }

    /// One line saying what happened.
    ///
    /// ```
    /// use motia_state::adapter::traces::TraceEvent;
    /// let e = TraceEvent::parse(&serde_json::json!({"type":"log","timestamp":1,
    ///     "level":"info","message":"Creating order"}));
    /// assert_eq!(e.summary(), "log info Creating order");
    /// ```
    pub fn summary(&self) -> String {
        match &self.kind {
            EventKind::State {
                operation,
                group,
                key,
            } => match (operation.as_str(), key) {
                (_, Some(k)) => format!("state {operation} {k}"),
                ("clear" | "getGroup", None) => {
                    format!("state {operation} {}", group.as_deref().unwrap_or(""))
                }
                _ => format!("state {operation}"),
            },
            EventKind::Emit { topic, success } => {
                format!("emit {topic}{}", if *success { "" } else { " (failed)" })
            }
            EventKind::Stream { operation, stream } => format!("stream {operation} {stream}"),
            EventKind::Log { level, message } => format!("log {level} {message}"),
            EventKind::Other { kind } => kind.clone(),
            EventKind::Unreadable { reason } => format!("unreadable: {reason}"),
        }
    }
}

/// How a step was entered.
///
/// ```
/// use motia_state::adapter::traces::EntryPoint;
/// let e = EntryPoint { kind: "api".into(), step_name: "CreateOrder".into() };
/// assert_eq!(e.kind, "api");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryPoint {
    /// `api`, `event`, `cron` or `noop`.
    pub kind: String,
    /// The step's name.
    pub step_name: String,
}

/// One step execution (`Trace`), a field of `{trace_prefix}{traceId}`. A retried step has
/// one per attempt.
///
/// ```
/// use motia_state::adapter::traces::{FlowStatus, Trace};
/// let t = Trace::parse("u1", br#"{"id":"u1","name":"Pay","parentTraceId":"T","status":"running",
///     "startTime":10,"entryPoint":{"type":"event","stepName":"Pay"},"events":[]}"#).unwrap();
/// assert_eq!((t.status, t.end_time), (FlowStatus::Running, None));
/// assert_eq!(t.entry_type(), Some("event"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    /// The step execution's UUID (the hash field).
    pub id: String,
    /// The step's name.
    pub name: String,
    /// The flow's trace id.
    pub parent_trace_id: Option<String>,
    /// The step's status.
    pub status: FlowStatus,
    /// Epoch milliseconds.
    pub start_time: i64,
    /// Epoch milliseconds; absent while running.
    pub end_time: Option<i64>,
    /// Set when the step failed.
    pub error: Option<TraceError>,
    /// How the step was entered.
    pub entry_point: Option<EntryPoint>,
    /// Events in stored order.
    pub events: Vec<TraceEvent>,
    /// Set when only the document's header was read (it was over the read budget, or past the
    /// records read whole): its size in bytes; `events` is empty.
    pub omitted_bytes: Option<u64>,
}

impl Trace {
    /// Parses a step document stored under hash field `field`; the error is the reason.
    ///
    /// ```
    /// use motia_state::adapter::traces::Trace;
    /// assert!(Trace::parse("u", b"not json").unwrap_err().starts_with("not JSON"));
    /// let r = Trace::parse("u", br#"{"name":"A","status":"paused","startTime":1}"#);
    /// assert!(r.unwrap_err().contains("paused"));
    /// ```
    pub fn parse(field: &str, bytes: &[u8]) -> std::result::Result<Self, String> {
        let v = parse_object(bytes)?;
        Self::from_object(field, &v)
    }

    fn from_object(field: &str, v: &impl Fields) -> std::result::Result<Self, String> {
        let status = status_of(v.field("status").ok_or("missing \"status\"")?)?;
        let start_time = opt_ms(v, "startTime")?.ok_or("missing \"startTime\"")?;
        let error = match v.field("error") {
            None | Some(Value::Null) => None,
            Some(Value::Object(e)) => Some(TraceError {
                message: match e.get("message") {
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => String::new(),
                },
                code: e.get("code").filter(|c| !c.is_null()).cloned(),
                stack: e.get("stack").and_then(Value::as_str).map(str::to_string),
            }),
            Some(Value::String(s)) => Some(TraceError {
                message: s.clone(),
                code: None,
                stack: None,
            }),
            Some(_) => return Err("\"error\" is neither an object nor a string".into()),
        };
        let entry_point = match v.field("entryPoint") {
            Some(Value::Object(e)) => Some(EntryPoint {
                kind: e
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                step_name: e
                    .get("stepName")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            }),
            _ => None,
        };
        let events = match v.field("events") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a.iter().map(TraceEvent::parse).collect(),
            Some(_) => return Err("\"events\" is not an array".into()),
        };
        Ok(Trace {
            id: opt_str(v, "id")?.unwrap_or_else(|| field.to_string()),
            name: req_str(v, "name")?,
            parent_trace_id: opt_str(v, "parentTraceId")?,
            status,
            start_time,
            end_time: opt_ms(v, "endTime")?,
            error,
            entry_point,
            events,
            omitted_bytes: None,
        })
    }

    /// Parses what could be read of a document larger than the budget: its first and last
    /// bytes. Motia writes `events` between the step's header (status, times, entry) and the
    /// fields added when it ends (`endTime`, `error`), so both ends together still give
    /// everything but the events.
    ///
    /// ```
    /// use motia_state::adapter::traces::{FlowStatus, Trace};
    /// let head = br#"{"id":"u","name":"Big","status":"failed","startTime":1,"events":[{"type":"log","#;
    /// let tail = br#""level":"info"}],"endTime":9,"error":{"message":"boom"}}"#;
    /// let t = Trace::parse_ends("u", head, tail, 5_000_000).unwrap();
    /// assert_eq!((t.status, t.end_time, t.omitted_bytes), (FlowStatus::Failed, Some(9), Some(5_000_000)));
    /// assert_eq!(t.error.unwrap().message, "boom");
    /// ```
    pub fn parse_ends(
        field: &str,
        head: &[u8],
        tail: &[u8],
        total: u64,
    ) -> std::result::Result<Self, String> {
        let head = lossy(head);
        let cut =
            header_end(&head).ok_or("too large to read, and its start holds no step header")?;
        let start = format!("{}}}", &head[..cut]);
        if tail.is_empty()
            && let Some(h) = StepHeader::parse(&start)
        {
            let mut t = Self::from_object(field, &h)?;
            t.omitted_bytes = Some(total);
            return Ok(t);
        }
        let mut obj = parse_object(start.as_bytes())?;
        let tail = lossy(tail);
        // The fields after the events: the longest suffix starting at `],"` (whitespace
        // allowed between, as in pretty-printed JSON) that parses.
        let after_events = tail.match_indices(']').filter_map(|(i, _)| {
            let rest = tail[i + 1..].trim_start().strip_prefix(',')?.trim_start();
            rest.starts_with('"').then_some(rest)
        });
        for rest in after_events.take(64) {
            if let Ok(Value::Object(rest)) = serde_json::from_str(&format!("{{{rest}")) {
                obj.extend(rest);
                break;
            }
        }
        let mut t = Self::from_object(field, &obj)?;
        t.omitted_bytes = Some(total);
        Ok(t)
    }

    /// The entry type (`api`, `event`, `cron`, `noop`), if recorded.
    ///
    /// ```
    /// # use motia_state::adapter::traces::Trace;
    /// let t = Trace::parse("u", br#"{"name":"A","status":"completed","startTime":1}"#).unwrap();
    /// assert_eq!(t.entry_type(), None);
    /// ```
    pub fn entry_type(&self) -> Option<&str> {
        self.entry_point
            .as_ref()
            .map(|e| e.kind.as_str())
            .filter(|k| !k.is_empty())
    }

    /// Milliseconds from start to end, `None` while running.
    ///
    /// ```
    /// # use motia_state::adapter::traces::Trace;
    /// let t = Trace::parse("u", br#"{"name":"A","status":"completed","startTime":1,"endTime":41}"#).unwrap();
    /// assert_eq!(t.duration_ms(), Some(40));
    /// ```
    pub fn duration_ms(&self) -> Option<i64> {
        self.end_time.map(|e| (e - self.start_time).max(0))
    }
}
