//! The Keys pane: the key tree of one trace, its order and its `:where` filter.

use super::split_shown;
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use crate::browser::model::filter::Matcher;
use crate::browser::model::list::ListState;
use crate::browser::model::{Model, Pane};

/// One row of the key tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowKind {
    /// `path` ends with `:`; `count` keys below it.
    Folder {
        path: String,
        count: usize,
        open: bool,
    },
    /// A key of the trace (without prefix and trace id).
    Key { key: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub depth: usize,
    pub label: String,
    pub kind: RowKind,
}

/// What is selected in the key tree, by identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selected {
    Folder(String),
    Key(String),
}

/// The Keys pane.
#[derive(Debug, Default)]
pub struct KeysPane {
    /// The trace these rows belong to.
    pub trace: Option<Box<str>>,
    pub rows: Vec<Row>,
    pub list: ListState,
    pub filter: String,
    /// Folder paths the user closed.
    pub collapsed: HashSet<String>,
    /// Until the user opens or closes a folder of this trace, a big trace starts folded.
    pub auto_fold: bool,
    pub selected: Option<Selected>,
    /// The row the user last chose (kept across sorts and filters that hide it for a while).
    pub anchor: Option<Selected>,
    /// Tree by name, or flat by size or TTL.
    pub sort: KeySort,
    /// `:where`: only keys whose value matches.
    pub where_filter: Option<WhereFilter>,
}

/// Key order of the Keys pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeySort {
    /// A tree, by name.
    #[default]
    Name,
    /// Flat, biggest first.
    Size,
    /// Flat, soonest expiry first.
    Ttl,
}

/// A `:where` filter on the keys of one trace.
#[derive(Debug, Clone)]
pub struct WhereFilter {
    pub text: String,
    pub trace: Box<str>,
    pub request: u64,
    /// Keys (without prefix and trace) whose value matches; `None` while loading.
    pub matching: Option<HashSet<String>>,
}

/// The order of keys in the tree: segment by segment between `:` (so a folder's keys stay
/// together), digit runs by their value (`item:7` before `item:14`, `step2` before `step10`).
pub fn natural_key_cmp(a: &str, b: &str) -> Ordering {
    let (mut sa, mut sb) = (a.split(':'), b.split(':'));
    loop {
        match (sa.next(), sb.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => match natural_segment_cmp(x, y) {
                Ordering::Equal => {}
                other => return other,
            },
        }
    }
}

fn natural_segment_cmp(a: &str, b: &str) -> Ordering {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < x.len() && j < y.len() {
        if x[i].is_ascii_digit() && y[j].is_ascii_digit() {
            let (si, sj) = (i, j);
            while i < x.len() && x[i].is_ascii_digit() {
                i += 1;
            }
            while j < y.len() && y[j].is_ascii_digit() {
                j += 1;
            }
            let (na, nb) = (
                a[si..i].trim_start_matches('0'),
                b[sj..j].trim_start_matches('0'),
            );
            // Longer (without leading zeros) is larger; then digit by digit; then fewer zeros first.
            let o = na
                .len()
                .cmp(&nb.len())
                .then_with(|| na.cmp(nb))
                .then_with(|| (i - si).cmp(&(j - sj)));
            if o != Ordering::Equal {
                return o;
            }
        } else {
            // Byte order of UTF-8 is code point order.
            match x[i].cmp(&y[j]) {
                Ordering::Equal => {
                    i += 1;
                    j += 1;
                }
                other => return other,
            }
        }
    }
    (x.len() - i).cmp(&(y.len() - j))
}

/// The tree rows of a trace's keys: split on `:`, folders with counts, closed folders' contents
/// left out. With a filter, only matching keys and their folders, all open.
pub fn build_rows<'a>(
    keys: impl Iterator<Item = &'a str> + Clone,
    filter: &str,
    collapsed: &HashSet<String>,
) -> Vec<Row> {
    let m = Matcher::new(filter);
    let filtering = !filter.is_empty();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for key in keys.clone().filter(|k| m.matches(k)) {
        for (i, _) in key.match_indices(':') {
            *counts.entry(&key[..=i]).or_insert(0) += 1;
        }
    }
    let mut rows = Vec::new();
    // Open folder paths from the root down.
    let mut stack: Vec<&str> = Vec::new();
    for key in keys.filter(|k| m.matches(k)) {
        while let Some(top) = stack.last() {
            if key.starts_with(top) {
                break;
            }
            stack.pop();
        }
        // Inside a closed folder nothing below it is shown.
        if !filtering && stack.last().is_some_and(|top| collapsed.contains(*top)) {
            continue;
        }
        let mut start = stack.last().map_or(0, |s| s.len());
        let mut hidden = false;
        while let Some(rel) = key[start..].find(':') {
            let path = &key[..start + rel + 1];
            let open = filtering || !collapsed.contains(path);
            rows.push(Row {
                depth: stack.len(),
                label: format!("{}:", &key[start..start + rel]),
                kind: RowKind::Folder {
                    path: path.to_string(),
                    count: counts.get(path).copied().unwrap_or(0),
                    open,
                },
            });
            stack.push(path);
            start += rel + 1;
            if !open {
                hidden = true;
                break;
            }
        }
        if !hidden {
            rows.push(Row {
                depth: stack.len(),
                label: key[start..].to_string(),
                kind: RowKind::Key {
                    key: key.to_string(),
                },
            });
        }
    }
    rows
}

/// A trace with more keys than this inside folders starts with every folder closed, so the
/// top level fits on the screen first.
pub const AUTO_FOLD_KEYS: usize = 50;

/// Every folder path of these keys (`a:`, `a:b:` for `a:b:c`), and how many keys sit in folders.
pub fn folder_paths<'a>(keys: impl Iterator<Item = &'a str>) -> (HashSet<String>, usize) {
    let mut paths = HashSet::new();
    let mut inside = 0;
    for key in keys {
        let mut any = false;
        for (i, _) in key.match_indices(':') {
            any = true;
            if !paths.contains(&key[..=i]) {
                paths.insert(key[..=i].to_string());
            }
        }
        inside += usize::from(any);
    }
    (paths, inside)
}

/// The outermost closed folder holding a selection, or the selection itself when none does.
pub fn visible_selection(sel: &Selected, collapsed: &HashSet<String>) -> Selected {
    let name = match sel {
        Selected::Folder(p) => p,
        Selected::Key(k) => k,
    };
    name.match_indices(':')
        .map(|(i, _)| &name[..=i])
        // A closed folder shows itself; only what is below it disappears.
        .filter(|p| p.len() < name.len() || matches!(sel, Selected::Key(_)))
        .find(|p| collapsed.contains(*p))
        .map_or_else(|| sel.clone(), |p| Selected::Folder(p.to_string()))
}

/// The key the user means: the key row on the Keys pane, the shown key on the Value pane.
pub fn selected_key(m: &Model) -> Option<String> {
    match m.focus {
        Pane::Traces => None,
        Pane::Keys => m.cursor_key().and_then(|k| m.full_key(k)),
        Pane::Value => m.value.full_key.clone(),
    }
}

pub fn trace_keys(m: &Model, trace: &str) -> Vec<String> {
    m.index
        .traces
        .get(trace)
        .map(|keys| {
            keys.keys()
                .map(|k| format!("{}{trace}:{k}", m.settings.prefix))
                .collect()
        })
        .unwrap_or_default()
}

pub fn label_of(m: &Model, full: &str) -> String {
    match split_shown(&m.keyspace, full) {
        Some((t, k)) => format!("{}:{k}", crate::browser::model::streams::shown(t)),
        None => full.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_key_order_keeps_folders_together() {
        let mut keys = vec![
            "item:14",
            "item:7",
            "item:7:note",
            "item",
            "step10",
            "step2",
            "a:b",
            "a-b",
            "x:007",
            "x:7",
            "éclair",
        ];
        keys.sort_by(|a, b| natural_key_cmp(a, b));
        assert_eq!(
            keys,
            [
                "a:b",
                "a-b",
                "item",
                "item:7",
                "item:7:note",
                "item:14",
                "step2",
                "step10",
                "x:7",
                "x:007",
                "éclair"
            ]
        );
    }

    #[test]
    fn tree_rows_with_counts_and_collapse() {
        let keys = ["a", "user:1:name", "user:1:profile", "user:2:name", "z"];
        let rows = build_rows(keys.iter().copied(), "", &HashSet::new());
        let labels: Vec<_> = rows
            .iter()
            .map(|r| format!("{}{}", "  ".repeat(r.depth), r.label))
            .collect();
        assert_eq!(
            labels,
            [
                "a",
                "user:",
                "  1:",
                "    name",
                "    profile",
                "  2:",
                "    name",
                "z"
            ]
        );
        assert!(matches!(rows[1].kind, RowKind::Folder { count: 3, .. }));
        let collapsed: HashSet<String> = ["user:1:".to_string()].into();
        let rows = build_rows(keys.iter().copied(), "", &collapsed);
        assert_eq!(rows.len(), 6);
        assert!(matches!(
            rows[2].kind,
            RowKind::Folder {
                open: false,
                count: 2,
                ..
            }
        ));
        let rows = build_rows(keys.iter().copied(), "prof", &collapsed);
        assert_eq!(rows.len(), 3);
    }
}
