//! The layers stay in one direction. In the browser: app -> update, ui, worker -> model, and all
//! of them -> the shared files below (action, doc, format, keymap, pane, theme, ...). In the
//! adapter: hygiene, live -> state, traces -> connection. The library never names the browser or
//! the CLI; in the CLI only the dispatcher names `commands`; profiles never name the browser.
//! This reads the sources and fails when a file names a layer it must not use.

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

/// The source of every `.rs` file under `dir` (relative to the crate), without comment lines
/// (doc links name modules without importing them).
fn code_under(dir: &str) -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    sources(&root.join(dir), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let source = std::fs::read_to_string(&f).expect("readable source");
            let code = source
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            (
                f.strip_prefix(root).expect("in the crate").to_path_buf(),
                code,
            )
        })
        .collect()
}

/// The names that follow `prefix` in `code` (`prefix{a, b::c}` gives both a and b).
fn names_after(code: &str, prefix: &str) -> BTreeSet<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices(prefix) {
        // `foo::crate::adapter::` is not a path of this crate.
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let rest = &code[at + prefix.len()..];
        match rest.strip_prefix('{') {
            Some(group) => {
                let mut depth = 0;
                let mut start = true;
                for (i, c) in group.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => start = true,
                        c if c.is_whitespace() => {}
                        _ if start && depth == 0 => {
                            found.insert(ident(&group[i..]));
                            start = false;
                        }
                        _ => {}
                    }
                }
            }
            None => {
                found.insert(ident(rest));
            }
        }
    }
    found.remove("");
    found
}

/// The adapter's concerns from the bottom up; a file may name its own and those below.
const CONCERNS: [(&str, usize); 5] = [
    ("connection", 0),
    ("state", 1),
    ("traces", 1),
    ("live", 2),
    ("hygiene", 2),
];

/// Helpers that import nothing of the crate, usable from any concern (checked below).
const LEAVES: [&str; 1] = ["escape"];

/// Every module of the adapter (a file, or a folder's `mod.rs`) and its concern, read from
/// the folders; the concerns themselves too.
fn module_concerns() -> BTreeSet<(String, &'static str)> {
    let mut out = BTreeSet::new();
    for (concern, _) in CONCERNS {
        out.insert((concern.to_string(), concern));
        for (path, _) in code_under(&format!("src/adapter/{concern}")) {
            let rel: Vec<String> = path
                .components()
                .skip(3)
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if let Some(first) = rel.first() {
                let name = first.strip_suffix(".rs").unwrap_or(first);
                if name != "mod" {
                    out.insert((name.to_string(), concern));
                }
            }
        }
    }
    out
}

/// What a file of the adapter at `rel` (under src/adapter) names against the rules.
fn adapter_violations(
    rel: &[String],
    code: &str,
    modules: &BTreeSet<(String, &str)>,
) -> Vec<String> {
    let rank = |c: &str| CONCERNS.iter().find(|(n, _)| *n == c).map(|(_, r)| *r);
    let Some(own) = rel.first().and_then(|c| rank(c)) else {
        return Vec::new(); // adapter/mod.rs: the facade above every concern
    };
    // From src/adapter/<concern>/<file>.rs, `super::super::` is the adapter.
    let up = "super::".repeat(rel.len());
    let mut named = names_after(code, "crate::adapter::");
    named.extend(names_after(code, "crate::"));
    named.extend(names_after(code, &up));
    let mut out = Vec::new();
    for name in named {
        if LEAVES.contains(&name.as_str()) {
            continue;
        }
        for (module, concern) in modules {
            if *module == name && rank(concern).is_some_and(|r| r > own) {
                out.push(format!("{name} ({concern})"));
            }
        }
        if ["browser", "cli", "profiles"].contains(&name.as_str()) {
            out.push(name.clone());
        }
    }
    out
}

#[test]
fn adapter_concerns_point_down() {
    let modules = module_concerns();
    let mut broken = Vec::new();
    for (path, code) in code_under("src/adapter") {
        let rel: Vec<String> = path
            .components()
            .skip(2)
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        for v in adapter_violations(&rel, &code, &modules) {
            broken.push(format!("{} uses {v}", path.display()));
        }
    }
    for (path, code) in code_under("src/adapter/state") {
        if LEAVES.iter().any(|l| path.ends_with(format!("{l}.rs"))) {
            assert!(
                names_after(&code, "crate::").is_empty() && !code.contains("super::super::"),
                "{} is a leaf and must import nothing of the crate",
                path.display()
            );
        }
    }
    assert!(
        broken.is_empty(),
        "the adapter's concerns point down (hygiene, live -> state, traces -> connection):\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_library_never_names_the_programs() {
    let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs"))
        .expect("readable source");
    let mut sources = code_under("src/adapter");
    sources.push(("src/lib.rs".into(), lib));
    for (path, code) in sources {
        for name in names_after(&code, "crate::") {
            assert!(
                !["browser", "cli", "profiles", "diff"].contains(&name.as_str()),
                "{} (library) uses the program's {name}",
                path.display()
            );
        }
    }
}

#[test]
fn cli_commands_only_from_the_dispatcher_and_profiles_below_the_browser() {
    for (path, code) in code_under("src/cli") {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name == "mod.rs" || name == "commands.rs" {
            continue;
        }
        let mut named = names_after(&code, "crate::cli::");
        named.extend(names_after(&code, "super::"));
        assert!(
            !named.contains("commands"),
            "{} uses cli::commands: shared helpers belong below it (out.rs)",
            path.display()
        );
    }
    let profiles =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/profiles.rs"))
            .expect("readable source");
    assert!(
        !names_after(&profiles, "crate::").contains("browser"),
        "src/profiles.rs uses the browser"
    );
}

#[test]
fn the_adapter_check_sees_a_wrong_import() {
    let modules = module_concerns();
    let rel = |p: &str| p.split('/').map(String::from).collect::<Vec<_>>();
    let up = "use crate::adapter::stats::Stats;\nuse crate::adapter::{error::Result, notify};\n";
    assert_eq!(
        adapter_violations(&rel("state/ops.rs"), up, &modules),
        ["notify (live)", "stats (hygiene)"]
    );
    let by_super = "use super::super::keys::KeySpace;\n";
    assert_eq!(
        adapter_violations(&rel("connection/conn.rs"), by_super, &modules),
        ["keys (state)"]
    );
    let down = "use crate::adapter::conn::Conn;\nuse crate::escape;\nuse super::filter::Op;\n";
    assert!(adapter_violations(&rel("state/ops.rs"), down, &modules).is_empty());
    assert!(adapter_violations(&rel("mod.rs"), up, &modules).is_empty());
}
