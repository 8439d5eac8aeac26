//! A real Motia app (the `motia` CLI 0.17.6-beta.187 with `@motiadev/core` 0.17.14-beta.196
//! through npm `overrides`, installed once into target/motia-app-node) running `motia dev`
//! against a private redis-server: a three-step flow (an API step and two event steps that
//! set, read and delete state, the last one throwing for a declined card), two requests, then
//! the CLI and the browser read what Motia wrote.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::RedisServer;
use common::motia_state as bin;
use common::term::Term;
use serde_json::Value;

const MOTIA: &str = "0.17.6-beta.187";
const CORE: &str = "0.17.14-beta.196";

const CREATE_ORDER: &str = r#"export const config = {
  type: 'api',
  name: 'CreateOrder',
  path: '/orders',
  method: 'POST',
  emits: ['order.created'],
  flows: ['orders'],
}

export const handler = async (req: any, { emit, state, logger, traceId }: any) => {
  logger.info('Creating order', { id: req.body.id })
  await state.set(traceId, 'order', { id: req.body.id, status: 'pending', card: req.body.card })
  await emit({ topic: 'order.created', data: { id: req.body.id, card: req.body.card } })
  return { status: 200, body: { traceId } }
}
"#;

const RESERVE_STOCK: &str = r#"export const config = {
  type: 'event',
  name: 'ReserveStock',
  subscribes: ['order.created'],
  emits: ['payment.requested'],
  flows: ['orders'],
}

export const handler = async (input: any, { emit, state, traceId }: any) => {
  await state.get(traceId, 'order')
  await state.set(traceId, 'stock', { reserved: true })
  await emit({ topic: 'payment.requested', data: input })
}
"#;

const PROCESS_PAYMENT: &str = r#"export const config = {
  type: 'event',
  name: 'ProcessPayment',
  subscribes: ['payment.requested'],
  emits: [],
  flows: ['orders'],
}

export const handler = async (input: any, { state, traceId }: any) => {
  await state.delete(traceId, 'stock')
  if (input.card === 'declined') {
    throw new Error('Card declined')
  }
  await state.set(traceId, 'order', { id: input.id, status: 'paid' })
}
"#;

/// target/motia-app-node, next to target/tmp.
fn install_dir() -> PathBuf {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(&tmp).join("motia-app-node")
}

fn version_of(dir: &Path, package: &str) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("node_modules").join(package).join("package.json"))
        .ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    v["version"].as_str().map(str::to_string)
}

fn installed(dir: &Path) -> bool {
    version_of(dir, "motia").as_deref() == Some(MOTIA)
        && version_of(dir, "@motiadev/core").as_deref() == Some(CORE)
        && dir.join("node_modules/.bin/motia").exists()
}

/// Installs motia once (a couple of minutes), into a staging directory renamed into place.
fn install() -> PathBuf {
    let dir = install_dir();
    if installed(&dir) {
        return dir;
    }
    let staging = dir.with_file_name(format!("motia-app-node.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).unwrap();
    let package = serde_json::json!({
        "name": "motia-state-e2e", "private": true, "type": "module",
        "dependencies": {"motia": MOTIA},
        "overrides": {"@motiadev/core": CORE},
    });
    std::fs::write(staging.join("package.json"), package.to_string()).unwrap();
    let out = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--ignore-scripts"])
        .current_dir(&staging)
        // Its in-memory Redis would download a Redis build; the test brings its own server.
        .env("REDISMS_DISABLE_POSTINSTALL", "1")
        .stdin(Stdio::null())
        .output()
        .expect("npm must be installed for the Motia app test");
    assert!(
        out.status.success(),
        "npm install motia@{MOTIA} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !installed(&dir) {
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::rename(&staging, &dir);
    }
    let _ = std::fs::remove_dir_all(&staging);
    assert!(
        installed(&dir),
        "motia {MOTIA} / core {CORE} not in {dir:?} after npm install"
    );
    dir
}

/// `motia dev`, in its own process group so that it and its workers go together.
struct MotiaDev {
    child: Child,
    log: PathBuf,
    _app: tempfile::TempDir,
}

impl Drop for MotiaDev {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl MotiaDev {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// A port below 43857 (the dev server also listens on 21678 + port) that is free, with its
/// companion.
fn http_port() -> u16 {
    for p in (20_000..43_000)
        .step_by(97)
        .skip((std::process::id() % 200) as usize)
    {
        if TcpListener::bind(("127.0.0.1", p)).is_ok()
            && TcpListener::bind(("127.0.0.1", p + 21_678)).is_ok()
        {
            return p;
        }
    }
    panic!("no free port below 43857");
}

fn start_motia(node: &Path, redis_port: u16, http: u16) -> MotiaDev {
    use std::os::unix::process::CommandExt;
    let app = tempfile::tempdir().unwrap();
    let root = app.path();
    std::fs::create_dir_all(root.join("steps")).unwrap();
    for (name, text) in [
        ("create-order.step.ts", CREATE_ORDER),
        ("reserve-stock.step.ts", RESERVE_STOCK),
        ("process-payment.step.ts", PROCESS_PAYMENT),
    ] {
        std::fs::write(root.join("steps").join(name), text).unwrap();
    }
    std::fs::copy(node.join("package.json"), root.join("package.json")).unwrap();
    std::os::unix::fs::symlink(node.join("node_modules"), root.join("node_modules")).unwrap();
    // No plugins: without a config motia dev writes one and npm-installs its plugins.
    std::fs::write(
        root.join("motia.config.ts"),
        format!(
            "export default {{\n  plugins: [],\n  redis: {{ useMemoryServer: false, host: '127.0.0.1', port: {redis_port} }},\n}}\n"
        ),
    )
    .unwrap();
    let log = root.join("motia.log");
    let file = std::fs::File::create(&log).unwrap();
    let child = Command::new(node.join("node_modules/.bin/motia"))
        .args(["dev", "--port", &http.to_string()])
        .current_dir(root)
        .env("MOTIA_ANALYTICS_DISABLED", "true")
        .env("MOTIA_DISABLE_MEMORY_SERVER", "true")
        .env("MOTIA_REDIS_HOST", "127.0.0.1")
        .env("MOTIA_REDIS_PORT", redis_port.to_string())
        .stdin(Stdio::null())
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .process_group(0)
        .spawn()
        .expect("start motia dev");
    let dev = MotiaDev {
        child,
        log,
        _app: app,
    };
    wait_until(
        "motia dev to listen",
        Duration::from_secs(180),
        || dev.log().contains("Server ready and listening"),
        || dev.log(),
    );
    dev
}

fn wait_until(
    what: &str,
    limit: Duration,
    mut cond: impl FnMut() -> bool,
    context: impl Fn() -> String,
) {
    let end = Instant::now() + limit;
    while !cond() {
        assert!(
            Instant::now() < end,
            "timed out waiting for {what}:\n{}",
            context()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// POST /orders with a small hand-written HTTP/1.1 request; returns the trace id.
fn order(http: u16, id: &str, card: &str) -> String {
    let body = format!(r#"{{"id":"{id}","card":"{card}"}}"#);
    let mut s = TcpStream::connect(("127.0.0.1", http)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "POST /orders HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reply = String::new();
    let _ = s.read_to_string(&mut reply);
    let json = &reply[reply
        .find("{\"traceId\"")
        .unwrap_or_else(|| panic!("no trace id in {reply}"))..];
    let v: Value = serde_json::from_str(json.trim_end()).unwrap_or_else(|e| panic!("{json}: {e}"));
    v["traceId"].as_str().unwrap().to_string()
}

fn cli(server: &RedisServer, args: &[&str]) -> (i32, String, String) {
    let out = bin()
        .args(["--url", &server.url()])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_real_motia_app_is_read_by_the_cli_and_the_browser() {
    let node = install();
    let server = RedisServer::start();
    let http = http_port();
    let dev = start_motia(&node, server.port, http);
    let ok = order(http, "o1", "ok");
    let declined = order(http, "o2", "declined");
    assert_ne!(ok, declined);

    // The queue retries the failing step 4 times, 2 s apart, then dead-letters the event.
    wait_until(
        "the retries and the dead letter",
        Duration::from_secs(90),
        || {
            let (_, out, _) = cli(&server, &["traces", "--json", "--all"]);
            out.lines().any(|l| {
                let v: Value = serde_json::from_str(l).unwrap_or(Value::Null);
                v["traceId"] == declined.as_str() && v["steps"] == 6
            }) && !server
                .cli(&["--scan", "--pattern", "motia:events:*.dlq:dlq-*"])
                .is_empty()
        },
        || dev.log(),
    );
    let (code, out, err) = cli(&server, &["traces", "--json", "--all"]);
    assert_eq!(code, 0, "{err}");
    let flows: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let get = |id: &str| flows.iter().find(|f| f["traceId"] == id).unwrap().clone();
    assert_eq!(get(&ok)["status"], "completed");
    assert_eq!(get(&ok)["flow"], "CreateOrder");
    assert_eq!(get(&ok)["steps"], 3);
    assert_eq!(get(&declined)["status"], "failed");
    assert!(
        err.is_empty(),
        "nothing unreadable in what Motia wrote: {err}"
    );

    // The timeline: the retried step on one row, its error, the dead-letter queue.
    let (code, out, _) = cli(&server, &["trace", &declined]);
    assert_eq!(code, 0);
    let pay = out.lines().find(|l| l.contains("ProcessPayment")).unwrap();
    assert!(pay.contains("event") && pay.contains("failed"), "{out}");
    assert!(
        pay.contains("4 attempts, all failed; Card declined"),
        "{out}"
    );
    assert!(pay.contains("dead-letter queue"), "{out}");
    let (_, out, _) = cli(&server, &["trace", &declined, "--json"]);
    let steps: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let names: Vec<&str> = steps.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names[..2], ["CreateOrder", "ReserveStock"]);
    assert_eq!(steps[0]["type"], "api");
    assert_eq!(steps[5]["error"]["message"], "Card declined");

    // A key's history: the two writes of `order`, the newest equal to the value now.
    let (code, out, _) = cli(&server, &["history", &ok, "order", "--json"]);
    assert_eq!(code, 0);
    let h: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(h.len(), 2, "{out}");
    assert_eq!(
        (h[0]["step"].as_str(), h[1]["step"].as_str()),
        (Some("CreateOrder"), Some("ProcessPayment"))
    );
    let (_, now, _) = cli(&server, &["get", &ok, "order"]);
    assert_eq!(serde_json::from_str::<Value>(&now).unwrap(), h[1]["value"]);
    let (_, out, _) = cli(&server, &["history", &declined, "stock"]);
    assert_eq!(
        out.lines()
            .filter(|l| l.contains("ProcessPayment  delete"))
            .count(),
        4,
        "{out}"
    );

    // The browser: the failed flow failed with its name, its timeline with the retried step.
    let t = Term::start("motia-app", &server.url(), "", None);
    t.wait("the failed flow", |s| {
        s.lines()
            .any(|l| l.contains(&declined) && l.contains("failed") && l.contains("CreateOrder"))
    });
    t.keys(&["/"]);
    t.type_text(&declined);
    t.keys(&["Enter"]);
    t.wait_for(&format!("Keys · {declined}"));
    t.keys(&["T"]);
    t.wait_for("ProcessPayment · event");
    t.keys(&["j", "j"]);
    t.wait_for("4 attempts, all failed");
    t.wait_for("Card declined");
    t.keys(&["q"]);
}
