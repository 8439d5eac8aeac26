//! The browser's layers stay in one direction: app -> update, ui, worker -> model, and all of
//! them -> the shared files below (action, doc, format, keymap, pane, theme, ...). This reads
//! the sources and fails when a file names a layer it must not use.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The layers a file of `layer` must not name.
fn forbidden(layer: &str) -> &'static [&'static str] {
    match layer {
        "model" => &["update", "ui", "app", "worker"],
        "worker" => &["model", "update", "ui", "app"],
        "ui" => &["update", "app", "worker"],
        "update" => &["ui", "app", "worker"],
        "app" | "mod" | "tests" => &[],
        // The shared files below every layer.
        _ => &["model", "update", "ui", "app", "worker"],
    }
}

/// The layer of a file, from its path under src/browser: its folder, or its own name.
fn layer_of(rel: &Path) -> String {
    let first = rel
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned());
    let first = first.unwrap_or_default();
    first.strip_suffix(".rs").unwrap_or(&first).to_string()
}

/// The browser modules a source names through `crate::browser::` (grouped imports too), or
/// through `super::` from a file directly in a layer's folder.
fn named_modules(source: &str, in_folder: bool) -> BTreeSet<String> {
    let code: String = source
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::browser::") {
        let rest = &code[at + "crate::browser::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level names of `crate::browser::{a, b::c, d::{e}}`.
            let mut depth = 0;
            let mut name = String::new();
            let mut at_start = true;
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => at_start = true,
                    c if at_start && depth == 0 && (c.is_alphanumeric() || c == '_') => {
                        name.push(c)
                    }
                    _ if !name.is_empty() => {
                        found.insert(std::mem::take(&mut name));
                        at_start = false;
                    }
                    _ => {}
                }
            }
            if !name.is_empty() {
                found.insert(name);
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.insert(name);
        }
    }
    if in_folder {
        for (at, _) in code.match_indices("super::super::") {
            let rest = &code[at + "super::super::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.insert(name);
        }
    }
    found
}

/// Every rule broken in `source`, a file of `layer`.
fn violations(layer: &str, source: &str, in_folder: bool) -> Vec<String> {
    named_modules(source, in_folder)
        .into_iter()
        .filter(|m| forbidden(layer).contains(&m.as_str()))
        .collect()
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn browser_layers_point_one_way() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/browser");
    let mut files = Vec::new();
    sources(&root, &mut files);
    let layers: BTreeSet<String> = files
        .iter()
        .map(|f| layer_of(f.strip_prefix(&root).expect("under src/browser")))
        .collect();
    for layer in ["model", "update", "ui", "worker", "app", "action"] {
        assert!(
            layers.contains(layer),
            "src/browser has no {layer}: {layers:?}"
        );
    }
    let mut broken = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&root).expect("under src/browser");
        let layer = layer_of(rel);
        let source = std::fs::read_to_string(file).expect("readable source");
        let in_folder = rel.components().count() > 1;
        for m in violations(&layer, &source, in_folder) {
            broken.push(format!("src/browser/{} uses {m}", rel.display()));
        }
    }
    assert!(
        broken.is_empty(),
        "layers must point one way (app -> update, ui, worker -> model):\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_check_sees_a_wrong_import() {
    let model_using_ui = "use crate::browser::ui::keys_height;\n";
    assert_eq!(violations("model", model_using_ui, true), ["ui"]);
    let grouped = "use crate::browser::{action::Effect, update::{note, keys}};\n";
    assert_eq!(violations("worker", grouped, true), ["update"]);
    assert_eq!(
        violations("ui", "use super::super::update::note;\n", true),
        ["update"]
    );
    let fine = "// crate::browser::update is only mentioned\nuse crate::browser::model::Model;\n";
    assert!(violations("ui", fine, true).is_empty());
    assert!(violations("update", fine, true).is_empty());
}
