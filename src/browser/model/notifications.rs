//! The status-bar note and the notifications that report writes.

use std::time::{Duration, Instant};

use crate::browser::model::Model;

/// A short message in the status bar (errors stay until the next key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub text: String,
    pub error: bool,
}

/// Successful notifications disappear after this long; failures stay until dismissed.
pub const TOAST_TIME: Duration = Duration::from_secs(4);

/// How a notification ended (or not yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToastKind {
    Pending,
    Done,
    Failed,
}

/// One write and its result.
#[derive(Debug, Clone)]
pub struct Toast {
    pub id: u64,
    pub text: String,
    pub kind: ToastKind,
    pub at: Instant,
}

/// When the next successful notification should go.
pub fn next_toast_expiry(m: &Model) -> Option<Instant> {
    m.toasts
        .iter()
        .filter(|t| t.kind == ToastKind::Done)
        .map(|t| t.at + TOAST_TIME)
        .min()
}
