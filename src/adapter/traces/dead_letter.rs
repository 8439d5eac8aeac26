//! The dead-letter queue: events the runtime gave up on, read from `motia:events:*.dlq:*`.

use serde_json::Value;

/// An event Motia's queue gave up on, from `motia:events:{topic}.{Step}.dlq:*`.
///
/// ```
/// use motia_state::adapter::traces::DeadLetter;
/// let d = DeadLetter::parse("motia:events:payment.requested.ProcessPayment.dlq:dlq-1",
///     br#"{"originalEvent":{"topic":"payment.requested","data":{},"traceId":"T","flows":[]},
///         "failureReason":"Card declined","failureTimestamp":9,"attemptsMade":4,"originalJobId":"7"}"#).unwrap();
/// assert_eq!((d.step.as_str(), d.topic.as_str(), d.attempts), ("ProcessPayment", "payment.requested", Some(4)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The Redis key.
    pub key: String,
    /// The flow's trace id.
    pub trace_id: String,
    /// The event's topic.
    pub topic: String,
    /// The step that failed on it.
    pub step: String,
    /// The last failure.
    pub reason: String,
    /// Epoch milliseconds.
    pub timestamp: Option<i64>,
    /// How many times the step ran.
    pub attempts: Option<u64>,
}

/// Where Motia's queue keeps dead letters.
pub(super) const DLQ_PATTERN: &str = "motia:events:*.dlq:*";

impl DeadLetter {
    /// Parses the `data` field of a dead-letter hash; `None` when it is not one.
    ///
    /// ```
    /// # use motia_state::adapter::traces::DeadLetter;
    /// assert!(DeadLetter::parse("motia:events:a.B.dlq:dlq-1", b"{}").is_none());
    /// ```
    pub fn parse(key: &str, data: &[u8]) -> Option<Self> {
        let v: Value = serde_json::from_slice(data).ok()?;
        let original = v.get("originalEvent")?;
        let trace_id = original.get("traceId")?.as_str()?.to_string();
        let queue = key.strip_prefix("motia:events:")?;
        let queue = &queue[..queue.rfind(".dlq:")?];
        let (topic_from_key, step) = queue.rsplit_once('.').unwrap_or(("", queue));
        let topic = original
            .get("topic")
            .and_then(Value::as_str)
            .unwrap_or(topic_from_key)
            .to_string();
        Some(DeadLetter {
            key: key.into(),
            trace_id,
            topic,
            step: step.into(),
            reason: v
                .get("failureReason")
                .and_then(Value::as_str)
                .unwrap_or("")
                .into(),
            timestamp: v.get("failureTimestamp").and_then(Value::as_i64),
            attempts: v.get("attemptsMade").and_then(Value::as_u64),
        })
    }
}
