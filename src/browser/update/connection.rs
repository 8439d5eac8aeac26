//! The connection: connecting, connected, lost, back.

use crate::browser::action::Effect;
use crate::browser::model::{ConnState, Model};
use crate::browser::update::meta::request_meta;
use crate::browser::update::scan::start_scan;
use crate::browser::update::value::issue_value_load;

/// The worker tries to connect (the first time, or again after `error`).
pub fn connecting(m: &mut Model, attempt: u32, error: Option<String>) {
    if !matches!(m.conn, ConnState::Lost { .. }) {
        m.conn = ConnState::Connecting { attempt, error };
    }
}

/// Connected, or answering again: start what waited for the server.
pub fn connected(m: &mut Model, version: String, dbsize: u64, fx: &mut Vec<Effect>) {
    let first = !matches!(m.conn, ConnState::Lost { .. });
    m.conn = ConnState::Connected;
    m.server_version = Some(version);
    m.scan.dbsize = Some(dbsize);
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

/// The server stopped answering: the screen stays, what was in flight is asked again later.
pub fn lost(m: &mut Model, reason: String) {
    m.conn = ConnState::Lost { reason };
    m.meta_inflight.clear();
    if m.value.request.take().is_some() {
        m.value.due = Some(m.now());
    }
}
