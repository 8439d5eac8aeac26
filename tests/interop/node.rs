//! The official `@motiadev/adapter-redis-state`, installed with npm into target/interop-node/
//! (once, reused) and driven by tests/interop/driver.mjs. Shared by tests/interop.rs and
//! benches/adapter.rs.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde_json::{Value, json};

/// The version the contract (docs/motia-format.md) was read from.
pub const PACKAGE: &str = "@motiadev/adapter-redis-state";
pub const VERSION: &str = "0.17.14-beta.196";

/// An installed official adapter and the node command line that runs the driver.
#[derive(Debug, Clone)]
pub struct Official {
    node_modules: PathBuf,
    node_args: Vec<String>,
    raw_json: bool,
}

fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// target/interop-node (next to target/tmp, so a custom target dir is honoured).
fn install_dir() -> PathBuf {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(&tmp).join("interop-node")
}

fn installed(dir: &Path) -> bool {
    let manifest = dir.join("node_modules/@motiadev/adapter-redis-state/package.json");
    let Ok(text) = std::fs::read_to_string(manifest) else {
        return false;
    };
    let Ok(v) = serde_json::from_str::<Value>(&text) else {
        return false;
    };
    v["version"] == VERSION && dir.join("node_modules/redis/package.json").is_file()
}

fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Flags that make `JSON.rawJSON` available (native from Node 21, behind a flag in Node 20), so
/// the driver can write integers beyond 2^53 exactly as a Motia app using it would.
fn node_args() -> (Vec<String>, bool) {
    let probe = [
        "-e",
        "process.exit(typeof JSON.rawJSON === 'function' ? 0 : 1)",
    ];
    if runs("node", &probe) {
        return (Vec::new(), true);
    }
    let flag = "--harmony-json-parse-with-source";
    if runs("node", &[flag, probe[0], probe[1]]) {
        return (vec![flag.to_string()], true);
    }
    (Vec::new(), false)
}

fn install() -> Result<Official, String> {
    if !runs("node", &["--version"]) {
        return Err("node not found: the interop test needs Node.js (20+) on PATH".into());
    }
    let dir = install_dir();
    if !installed(&dir) {
        if !runs("npm", &["--version"]) {
            return Err(
                "npm not found: the interop test installs the official adapter with npm".into(),
            );
        }
        // Install beside the final place and rename, so a concurrent run (test and bench) never
        // sees a half-written tree.
        let staging = dir.with_file_name(format!("interop-node.tmp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir_all(&staging).map_err(|e| format!("create {staging:?}: {e}"))?;
        let out = Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--ignore-scripts",
                "--prefix",
            ])
            .arg(&staging)
            .arg(format!("{PACKAGE}@{VERSION}"))
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("run npm: {e}"))?;
        if !out.status.success() {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(format!(
                "npm install {PACKAGE}@{VERSION} failed ({}):\n{}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        if !installed(&dir) {
            let _ = std::fs::remove_dir_all(&dir);
            if let Err(e) = std::fs::rename(&staging, &dir) {
                let _ = std::fs::remove_dir_all(&staging);
                if !installed(&dir) {
                    return Err(format!("move {staging:?} to {dir:?}: {e}"));
                }
            }
        } else {
            let _ = std::fs::remove_dir_all(&staging);
        }
        if !installed(&dir) {
            return Err(format!(
                "{PACKAGE}@{VERSION} is not in {dir:?} after npm install"
            ));
        }
    }
    let (node_args, raw_json) = node_args();
    Ok(Official {
        node_modules: dir.join("node_modules"),
        node_args,
        raw_json,
    })
}

impl Official {
    /// The installed package (installing it on first use in this process).
    pub fn get() -> Result<Official, String> {
        static CELL: OnceLock<Result<Official, String>> = OnceLock::new();
        CELL.get_or_init(install).clone()
    }

    /// Whether `JSON.rawJSON` works in the driver (big integers can be written exactly).
    pub fn has_raw_json(&self) -> bool {
        self.raw_json
    }

    /// Runs `ops` through the official adapter connected to `url`; one result per op.
    pub fn run(&self, url: &str, options: Value, ops: &[Value]) -> Vec<Value> {
        let mut input = json!({
            "nodeModules": self.node_modules,
            "url": url,
            "ops": ops,
        });
        if let (Some(obj), Some(extra)) = (input.as_object_mut(), options.as_object()) {
            for (k, v) in extra {
                obj.insert(k.clone(), v.clone());
            }
        }
        let driver = project_root().join("tests/interop/driver.mjs");
        let mut child = Command::new("node")
            .args(&self.node_args)
            .arg(&driver)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn node");
        let payload = serde_json::to_vec(&input).expect("encode driver input");
        child
            .stdin
            .take()
            .expect("driver stdin")
            .write_all(&payload)
            .expect("write driver input");
        let out = child.wait_with_output().expect("wait for node");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let result = stdout.lines().find_map(|l| l.strip_prefix("RESULT "));
        match (out.status.success(), result) {
            (true, Some(json)) => {
                let v: Value = serde_json::from_str(json).expect("driver output is JSON");
                v.as_array().expect("driver output is an array").clone()
            }
            _ => panic!(
                "node driver failed ({}):\nstdout:\n{stdout}\nstderr:\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }

    /// Runs one op and returns its result.
    pub fn one(&self, url: &str, op: Value) -> Value {
        self.run(url, json!({}), &[op]).remove(0)
    }
}
