//! The status-bar note and the notifications of writes.

use crate::browser::model::Model;
use crate::browser::model::notifications::{Note, TOAST_TIME, Toast, ToastKind};

/// `x`: drops finished notifications and the note.
pub fn dismiss(m: &mut Model) {
    m.toasts.retain(|t| t.kind == ToastKind::Pending);
    m.note = None;
}

pub fn note(m: &mut Model, text: impl Into<String>, error: bool) {
    m.note = Some(Note {
        text: text.into(),
        error,
    });
}

pub fn toast(m: &mut Model, id: u64, text: String, kind: ToastKind) {
    let at = m.now();
    match m.toasts.iter_mut().find(|t| t.id == id) {
        Some(t) => {
            t.text = text;
            t.kind = kind;
            t.at = at;
        }
        None => m.toasts.push(Toast { id, text, kind, at }),
    }
    // Old successes make room; failures stay.
    while m.toasts.len() > 6 {
        match m.toasts.iter().position(|t| t.kind != ToastKind::Failed) {
            Some(i) => {
                m.toasts.remove(i);
            }
            None => break,
        }
    }
}

/// Drops finished notifications whose time is up; true when any went.
pub fn expire_toasts(m: &mut Model) -> bool {
    let now = m.now();
    let before = m.toasts.len();
    m.toasts
        .retain(|t| t.kind != ToastKind::Done || now.saturating_duration_since(t.at) < TOAST_TIME);
    before != m.toasts.len()
}

/// True (and says so) when the browser runs read-only: nothing is sent.
pub fn refuse_read_only(m: &mut Model, what: &str) -> bool {
    if m.settings.read_only {
        note(
            m,
            format!("read-only mode: {what} refused, nothing was sent to Redis"),
            true,
        );
    }
    m.settings.read_only
}
