//! The connection: connecting, connected, lost, back.

use crate::browser::action::{Effect, ServerFacts};
use crate::browser::model::{ConnState, Model, ServerState};
use crate::browser::update::meta::request_meta;
use crate::browser::update::scan::start_scan;
use crate::browser::update::value::issue_value_load;

/// The worker tries to connect (the first time, or again after `error`).
pub fn connecting(m: &mut Model, attempt: u32, error: Option<String>) {
    if !matches!(m.conn, ConnState::Lost { .. }) {
        m.conn = ConnState::Connecting { attempt, error };
    }
}

/// Connecting cannot succeed by retrying: the status bar says so, and the whole reason stays
/// on screen as a failure notification.
pub fn gave_up(m: &mut Model, error: String) {
    m.conn = ConnState::Failed {
        error: error.clone(),
    };
    let id = m.next_write;
    m.next_write += 1;
    crate::browser::update::notifications::toast(
        m,
        id,
        format!("cannot connect: {error} (not retrying; fix the setting and start again)"),
        crate::browser::model::notifications::ToastKind::Failed,
    );
}

/// Connected, or answering again: start what waited for the server.
pub fn connected(m: &mut Model, facts: ServerFacts, fx: &mut Vec<Effect>) {
    let first = !matches!(m.conn, ConnState::Lost { .. });
    m.conn = ConnState::Connected;
    m.server = ServerState {
        version_unknown: facts.version.as_ref().err().cloned(),
        size_unknown: facts.dbsize.as_ref().err().cloned(),
        mode: facts.mode,
        unreachable: facts.unreachable,
    };
    m.server_version = facts.version.ok();
    m.scan.dbsize = facts.dbsize.ok();
    let now = m.now();
    m.next_refresh = m.settings.refresh.map(|r| now + r);
    m.next_rescan = m.settings.rescan.map(|r| now + r);
    if (first && !m.scan.completed_once && !m.scan.running) || m.scan.interrupted {
        start_scan(m, fx);
    }
    if m.value.full_key.is_some() && m.value.request.is_none() {
        m.value.due = Some(now);
        issue_value_load(m, fx);
    }
    request_meta(m, fx, true);
}

/// Cluster primaries stopped answering, or all answer again; a scan that failed for want of
/// one runs again once every primary answers.
pub fn unreachable(m: &mut Model, nodes: Vec<String>, fx: &mut Vec<Effect>) {
    let back = !m.server.unreachable.is_empty() && nodes.is_empty();
    m.server.unreachable = nodes;
    if back && m.scan.error.is_some() && !m.scan.running {
        start_scan(m, fx);
    }
}

/// The server stopped answering: the screen stays, what was in flight is asked again later.
pub fn lost(m: &mut Model, reason: String) {
    m.conn = ConnState::Lost { reason };
    m.meta_inflight.clear();
    if m.value.request.take().is_some() {
        m.value.due = Some(m.now());
    }
}
