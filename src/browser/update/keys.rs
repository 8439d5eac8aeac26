//! The key tree of the selected trace: rebuilding it, moving in it, its order and the
//! `:where` value filter.

use std::collections::HashSet;
use std::time::Duration;

use motia_state::{StateFilter, Ttl};

use crate::browser::action::{Effect, RowMeta, WorkerCmd};
use crate::browser::model::Model;
use crate::browser::model::filter::Matcher;
use crate::browser::model::keys::{
    AUTO_FOLD_KEYS, KeySort, Row, RowKind, Selected, WhereFilter, build_rows, folder_paths,
    natural_key_cmp, selected_key, trace_keys, visible_selection,
};
use crate::browser::model::layout::keys_height;
use crate::browser::model::meta::MetaEntry;
use crate::browser::pane::Pane;
use crate::browser::update::meta::{request_meta, request_meta_keys};
use crate::browser::update::note;
use crate::browser::update::value::set_value_target;

/// At most this many keys get their metadata fetched for a sort by size or TTL.
const SORT_META_LIMIT: usize = 20_000;

/// `y`: the full name of the selected key to the clipboard.
pub fn copy_key(m: &mut Model, fx: &mut Vec<Effect>) {
    match selected_key(m) {
        Some(k) => {
            note(m, format!("copied the key {k} to the clipboard"), false);
            fx.push(Effect::Copy(k));
        }
        None => note(m, "select a key first", false),
    }
}

/// The trace's folder paths, and how many of its keys sit in folders.
fn trace_folders(m: &Model) -> (HashSet<String>, usize) {
    match m.keys.trace.as_deref().and_then(|t| m.index.traces.get(t)) {
        Some(keys) => folder_paths(keys.keys()),
        None => Default::default(),
    }
}

/// Closes these folders (all of them for collapse-all); the selection moves to the folder
/// that now holds it.
fn fold(m: &mut Model, collapsed: HashSet<String>) {
    for sel in [&mut m.keys.anchor, &mut m.keys.selected]
        .into_iter()
        .flatten()
    {
        *sel = visible_selection(sel, &collapsed);
    }
    m.keys.collapsed = collapsed;
}

/// Collapse-all (`-`) and expand-all (`+`) in the key tree.
pub fn fold_all(m: &mut Model, close: bool, fx: &mut Vec<Effect>) {
    if m.focus == Pane::Value || m.keys.trace.is_none() {
        note(
            m,
            "collapse and expand work on the key tree (Keys pane)",
            false,
        );
        return;
    }
    m.keys.auto_fold = false;
    if close {
        let (paths, _) = trace_folders(m);
        fold(m, paths);
    } else {
        m.keys.collapsed.clear();
    }
    if !m.keys.filter.is_empty() {
        note(m, "folders stay open while a filter is set", false);
    }
    rebuild_keys(m, fx);
}

/// Recomputes the key tree of the shown trace, keeping the selected row by identity.
pub fn rebuild_keys(m: &mut Model, fx: &mut Vec<Effect>) {
    if m.keys.auto_fold {
        let (paths, inside) = trace_folders(m);
        if inside > AUTO_FOLD_KEYS {
            m.keys.auto_fold = false;
            fold(m, paths);
        }
    }
    let rows = match m.keys.trace.as_deref().and_then(|t| m.index.traces.get(t)) {
        Some(keys) => {
            let wanted = m.keys.where_filter.as_ref().map(|w| w.matching.as_ref());
            let keep = |k: &&str| match wanted {
                None => true,
                Some(None) => false,
                Some(Some(set)) => set.contains(*k),
            };
            if m.keys.sort == KeySort::Name {
                let mut names: Vec<&str> = keys.keys().filter(keep).collect();
                names.sort_by(|a, b| natural_key_cmp(a, b));
                build_rows(names.into_iter(), &m.keys.filter, &m.keys.collapsed)
            } else {
                let matcher = Matcher::new(&m.keys.filter);
                let list: Vec<&str> = keys
                    .keys()
                    .filter(keep)
                    .filter(|k| matcher.matches(k))
                    .collect();
                sorted_rows(m, list)
            }
        }
        None => Vec::new(),
    };
    m.keys.rows = rows;
    // A key that left the index is no anchor any more.
    if let Some(Selected::Key(k)) = &m.keys.anchor
        && !m
            .keys
            .trace
            .as_deref()
            .and_then(|t| m.index.traces.get(t))
            .is_some_and(|keys| keys.contains(k.as_str()))
    {
        m.keys.anchor = None;
    }
    // The same item when it is still there (a key shown as gone does not count: the row
    // that took its place is selected instead), else the cursor stays where it was.
    let gone = |k: &str| {
        m.full_key(k)
            .and_then(|f| m.meta.get(&f))
            .is_some_and(|e| e.gone_since.is_some())
    };
    let found = [&m.keys.anchor, &m.keys.selected]
        .into_iter()
        .flatten()
        .filter(|sel| !matches!(sel, Selected::Key(k) if gone(k)))
        .find_map(|sel| {
            m.keys.rows.iter().position(|r| match (&r.kind, sel) {
                (RowKind::Folder { path, .. }, Selected::Folder(p)) => path == p,
                (RowKind::Key { key }, Selected::Key(k)) => key == k,
                _ => false,
            })
        });
    if let Some(p) = found {
        m.keys.list.cursor = p;
    }
    after_key_move(m, fx);
    m.dirty = true;
}

/// After the key cursor moved: remember the row, scroll, point the value pane at it.
pub fn after_key_move(m: &mut Model, fx: &mut Vec<Effect>) {
    m.keys.list.fit(m.keys.rows.len(), keys_height(m.size));
    m.keys.selected = m.keys.rows.get(m.keys.list.cursor).map(|r| match &r.kind {
        RowKind::Folder { path, .. } => Selected::Folder(path.clone()),
        RowKind::Key { key } => Selected::Key(key.clone()),
    });
    let target = m.cursor_key().and_then(|k| m.full_key(k));
    set_value_target(m, target);
    request_meta(m, fx, false);
}

/// The Keys pane's `s`: name (tree), size, TTL.
pub fn cycle_key_sort(m: &mut Model, fx: &mut Vec<Effect>) {
    m.keys.sort = match m.keys.sort {
        KeySort::Name => KeySort::Size,
        KeySort::Size => KeySort::Ttl,
        KeySort::Ttl => KeySort::Name,
    };
    if m.keys.sort != KeySort::Name
        && let Some(trace) = m.keys.trace.clone()
    {
        let mut keys = trace_keys(m, &trace);
        keys.truncate(SORT_META_LIMIT);
        keys.retain(|k| !m.meta.contains_key(k));
        request_meta_keys(m, keys, fx);
    }
    // The selected key stays selected in the new order.
    rebuild_keys(m, fx);
}

/// Rows of the Keys pane when sorted by size or TTL: flat, keys only.
pub fn sorted_rows(m: &Model, keys: Vec<&str>) -> Vec<Row> {
    let trace = m.keys.trace.as_deref().unwrap_or("");
    let now = m.now();
    let far = Duration::from_secs(u64::MAX / 4);
    let mut rows: Vec<(&str, (u8, Duration, u64))> = keys
        .into_iter()
        .map(|k| {
            let meta = m.meta.get(&format!("{}{trace}:{k}", m.settings.prefix));
            let rank = match (m.keys.sort, meta) {
                (_, None) => (2, far, 0),
                (KeySort::Ttl, Some(e)) => match e.ttl_at(now) {
                    motia_state::Ttl::Expires(d) => (0, d, 0),
                    _ => (1, far, 0),
                },
                (_, Some(e)) => (0, Duration::ZERO, u64::MAX - e.meta.len.unwrap_or(0)),
            };
            (k, rank)
        })
        .collect();
    rows.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(b.0)));
    rows.into_iter()
        .map(|(k, _)| Row {
            depth: 0,
            label: k.to_string(),
            kind: RowKind::Key { key: k.to_string() },
        })
        .collect()
}

pub fn start_where(m: &mut Model, input: &str, filter: StateFilter, fx: &mut Vec<Effect>) {
    let Some(trace) = m.keys.trace.clone() else {
        {
            let noun = m.settings.group_noun();
            return note(m, format!("select a {noun} first"), false);
        }
    };
    let full_keys = trace_keys(m, &trace);
    m.next_request += 1;
    let id = m.next_request;
    let text = input
        .trim()
        .strip_prefix("where")
        .unwrap_or(input)
        .trim()
        .to_string();
    m.keys.where_filter = Some(WhereFilter {
        text,
        trace,
        request: id,
        matching: None,
    });
    fx.push(Effect::Worker(WorkerCmd::Where {
        id,
        full_keys,
        filter,
    }));
    rebuild_keys(m, fx);
}

/// The keys a `:where` request found.
pub fn where_result(
    m: &mut Model,
    id: u64,
    result: Result<Vec<String>, String>,
    fx: &mut Vec<Effect>,
) {
    let Some(w) = &mut m.keys.where_filter else {
        return;
    };
    if w.request != id {
        return;
    }
    match result {
        Ok(keys) => {
            let prefix_len = m.settings.prefix.len() + w.trace.len() + 1;
            w.matching = Some(
                keys.iter()
                    .filter_map(|k| k.get(prefix_len..).map(str::to_string))
                    .collect(),
            );
        }
        Err(e) => {
            m.keys.where_filter = None;
            note(m, format!(":where failed: {e}"), true);
        }
    }
    rebuild_keys(m, fx);
}

/// Metadata the worker read (a key that is gone has `ttl: Missing`); a sort by size or TTL
/// is redone with it.
pub fn meta_received(m: &mut Model, rows: Vec<(String, RowMeta)>, fx: &mut Vec<Effect>) {
    let now = m.now();
    for (key, meta) in rows {
        m.meta_inflight.remove(&key);
        let gone = meta.ttl == Ttl::Missing;
        let gone_since = if gone {
            Some(m.meta.get(&key).and_then(|e| e.gone_since).unwrap_or(now))
        } else {
            None
        };
        if gone && m.value.full_key.as_deref() == Some(&key) {
            m.value.gone = true;
        }
        m.meta.insert(
            key,
            MetaEntry {
                meta,
                at: now,
                gone_since,
            },
        );
    }
    if m.keys.sort != KeySort::Name {
        rebuild_keys(m, fx);
    }
}
