//! Production setups against one private redis-server: the least-privilege ACL users of docs/production.md
//! (run exactly as written there), the three kinds of refusal kept apart, and unix sockets.
//! One server for the file; every test uses its own trace ids.

mod common;

use std::sync::OnceLock;

use common::item;
use common::term::Term;
use common::{RedisServer, motia_state};
use motia_state::{Config, Error, RedisStateAdapter};

/// The server of this file, listening on TCP and on a unix socket, with docs/production.md's users.
struct Shared {
    server: RedisServer,
    socket: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("redis.sock");
        let server = RedisServer::start_with(&[
            "--unixsocket",
            socket.to_str().unwrap(),
            "--unixsocketperm",
            "700",
        ]);
        for line in documented_acl_lines() {
            let args: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(server.cli(&args), "OK", "{line}");
        }
        Shared {
            server,
            socket,
            _dir: dir,
        }
    })
}

/// The `ACL SETUSER` lines of docs/production.md, as written there.
fn documented_acl_lines() -> Vec<String> {
    let page = std::fs::read_to_string(common::root().join("docs/production.md")).unwrap();
    let lines: Vec<String> = page
        .lines()
        .filter(|l| l.starts_with("ACL SETUSER "))
        .map(str::to_string)
        .collect();
    assert_eq!(
        lines.len(),
        2,
        "docs/production.md has a reader and an editor line"
    );
    lines
}

fn as_user(user: &str, pass: &str) -> String {
    format!("redis://{user}:{pass}@127.0.0.1:{}", shared().server.port)
}

fn reader() -> String {
    as_user("motia-reader", "reader-secret")
}

fn editor() -> String {
    as_user("motia-editor", "editor-secret")
}

fn run(url: &str, args: &[&str]) -> std::process::Output {
    motia_state()
        .args(["--url", url])
        .args(args)
        .output()
        .unwrap()
}

fn ok(url: &str, args: &[&str]) -> String {
    let out = run(url, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn fails(url: &str, args: &[&str], code: i32) -> String {
    let out = run(url, args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn the_readme_reader_browses_with_every_read_command_and_cannot_write() {
    let s = &shared().server;
    s.set_raw("motia:state:acl-r:order", r#"{"id":7,"status":"paid"}"#);
    s.set_raw("motia:state:acl-r:note", r#""hello""#);
    s.cli(&["EXPIRE", "motia:state:acl-r:note", "600"]);
    let url = reader();
    assert!(ok(&url, &["traces"]).lines().any(|l| l == "acl-r"));
    assert_eq!(ok(&url, &["keys", "acl-r"]), "note\norder\n");
    assert_eq!(
        ok(&url, &["get", "acl-r", "order"]),
        "{\"id\":7,\"status\":\"paid\"}\n"
    );
    let ttl: u64 = ok(&url, &["ttl", "acl-r", "note"]).trim().parse().unwrap();
    assert!((590..=600).contains(&ttl));
    let items = ok(
        &url,
        &["items", "--trace", "acl-r", "--filter", "status eq paid"],
    );
    assert!(items.contains("\"key\":\"order\""), "{items}");
    let export = ok(&url, &["export", "--trace", "acl-r"]);
    assert!(export.contains("\"ttlSeconds\""), "{export}");

    // A write is refused by the server's ACL: named, and not an authentication failure. The
    // journal's DUMP is refused first, with the same status.
    let err = fails(&url, &["set", "acl-r", "order", "1"], 3);
    assert!(err.contains("cannot journal the write"), "{err}");
    assert!(err.contains("--no-journal"), "{err}");
    let err = fails(&url, &["--no-journal", "set", "acl-r", "order", "1"], 3);
    assert!(err.contains("may not run SET"), "{err}");
    assert!(err.contains("NOPERM"), "{err}");
    assert!(!err.contains("authentication"), "{err}");
    let err = fails(&url, &["--no-journal", "del", "acl-r", "order"], 3);
    assert!(err.contains("may not run GETDEL"), "{err}");
    assert_eq!(
        s.cli(&["GET", "motia:state:acl-r:order"]),
        r#"{"id":7,"status":"paid"}"#
    );
}

#[test]
fn the_readme_editor_edits_but_only_under_its_prefix() {
    let s = &shared().server;
    let url = editor();
    ok(&url, &["set", "acl-e", "order", r#"{"id": 1}"#]);
    assert_eq!(s.cli(&["GET", "motia:state:acl-e:order"]), r#"{"id":1}"#);
    ok(&url, &["set", "acl-e", "other", "2"]);
    assert_eq!(ok(&url, &["expire", "acl-e", "order", "10m"]), "1\n");
    assert_eq!(ok(&url, &["expire", "acl-e", "order", "persist"]), "1\n");
    assert_eq!(ok(&url, &["del", "acl-e", "order"]), "{\"id\":1}\n");
    let export = ok(&url, &["export", "--trace", "acl-e"]);
    assert_eq!(ok(&url, &["clear", "acl-e"]).trim(), "1");
    let doc = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(doc.path(), export).unwrap();
    let imported = ok(&url, &["import", doc.path().to_str().unwrap()]);
    assert!(
        imported.starts_with("imported 1 item in 1 trace (0 replaced existing keys)"),
        "{imported}"
    );
    assert_eq!(s.cli(&["GET", "motia:state:acl-e:other"]), "2");

    // A key outside the user's patterns: a NOPERM that says so, nothing written.
    let err = fails(&url, &["--prefix", "other:", "set", "acl-e", "k", "1"], 3);
    assert!(err.contains("outside the ACL user's key patterns"), "{err}");
    let args = [
        "--no-journal",
        "--prefix",
        "other:",
        "set",
        "acl-e",
        "k",
        "1",
    ];
    let err = fails(&url, &args, 3);
    assert!(
        err.contains("other:acl-e:k is outside the ACL user's key patterns"),
        "{err}"
    );
    assert!(!err.contains("authentication"), "{err}");
    assert_eq!(s.cli(&["EXISTS", "other:acl-e:k"]), "0");
    // Motia's trace records are read-only for the editor too.
    let err = fails(
        &url,
        &["--prefix", "motia:trace:", "set", "acl-e", "k", "1"],
        3,
    );
    assert!(err.contains("outside the ACL user's key patterns"), "{err}");
}

#[test]
fn verbose_says_what_a_restricted_user_cannot_know() {
    let out = run(&reader(), &["--verbose", "traces"]);
    assert!(out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("as motia-reader: standalone"), "{err}");
    assert!(
        err.contains("version unknown") && err.contains("may not run INFO"),
        "{err}"
    );
    assert!(
        err.contains("key count unknown") && err.contains("may not run DBSIZE"),
        "{err}"
    );
    assert!(!err.contains("reader-secret"), "{err}");
}

#[test]
fn wrong_password_unknown_user_and_no_credentials_are_three_messages() {
    let s = &shared().server;
    let port = s.port.to_string();
    let wrong = fails(&as_user("motia-reader", "nope"), &["traces"], 3);
    assert!(wrong.contains("authentication to"), "{wrong}");
    assert!(
        wrong.contains("wrong password, or no such user (WRONGPASS)"),
        "{wrong}"
    );
    assert!(
        !wrong.contains("nope"),
        "the password is never shown: {wrong}"
    );
    let unknown = fails(&as_user("nobody", "x"), &["traces"], 3);
    assert!(unknown.contains("WRONGPASS"), "{unknown}");

    let protected = RedisServer::start_with(&["--requirepass", "right"]);
    let url = format!("redis://127.0.0.1:{}", protected.port);
    let none = fails(&url, &["traces"], 3);
    assert!(
        none.contains("requires authentication and no password was given"),
        "{none}"
    );
    assert!(!none.contains("failed"), "{none}");
    // The default user of the shared server has no password: NOPERM is not reached here.
    assert!(ok(&format!("redis://127.0.0.1:{port}"), &["traces"]).len() < 100_000);
}

#[tokio::test]
async fn the_library_degrades_for_a_restricted_user() {
    let mut config = Config::from_url(&reader()).unwrap();
    config.read_only = true;
    let state = RedisStateAdapter::connect(config).await.unwrap();
    let version = state.server_version().await.unwrap_err();
    assert!(version.is_permission(), "{version}");
    assert!(
        version.to_string().contains("may not run INFO"),
        "{version}"
    );
    assert!(matches!(
        state.dbsize().await.unwrap_err(),
        Error::NoPerm { .. }
    ));
    // Reading works.
    let keys = state.scan_all().collect_all().await.unwrap();
    assert!(keys.iter().all(|k| k.starts_with(b"motia:state:")));
    // Compare-and-set needs SET inside the script: refused, by name of the cause.
    let mut config = Config::from_url(&reader()).unwrap();
    config.key_prefix = "motia:state:".into();
    let state = RedisStateAdapter::connect(config).await.unwrap();
    let err = state
        .compare_and_set(item(&state, "acl-lib", "k"), None, "1")
        .await
        .unwrap_err();
    assert!(err.is_permission(), "{err}");
    let wrong = Config::from_url(&as_user("motia-editor", "bad")).unwrap();
    let err = RedisStateAdapter::connect(wrong).await.unwrap_err();
    assert!(matches!(err, Error::Auth { .. }), "{err}");
}

#[test]
fn unix_socket_urls_with_database_and_credentials_in_the_query() {
    let shared = shared();
    let path = shared.socket.display().to_string();
    let plain = format!("unix://{path}?db=2");
    ok(&plain, &["set", "sock", "k", r#"{"via":"socket"}"#]);
    assert_eq!(
        shared.server.cli(&["-n", "2", "GET", "motia:state:sock:k"]),
        r#"{"via":"socket"}"#
    );
    assert_eq!(ok(&plain, &["get", "sock", "k"]), "{\"via\":\"socket\"}\n");
    // Not in database 0.
    fails(&format!("unix://{path}"), &["get", "sock", "k"], 1);

    let as_editor = format!("redis+unix://{path}?user=motia-editor&pass=editor-secret");
    ok(&as_editor, &["set", "sock-e", "k", "3"]);
    assert_eq!(shared.server.cli(&["GET", "motia:state:sock-e:k"]), "3");
    let out = run(&as_editor, &["--verbose", "get", "sock-e", "k"]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains(&format!("unix://{path}?db=0&user=motia-editor")),
        "{err}"
    );
    assert!(!err.contains("editor-secret"), "{err}");

    let missing = fails("unix:///nonexistent/redis.sock", &["traces"], 3);
    assert!(missing.contains("/nonexistent/redis.sock"), "{missing}");
    let bad = fails("unix://host/redis.sock", &["traces"], 2);
    assert!(bad.contains("three slashes"), "{bad}");
}

#[test]
fn the_browser_starts_and_browses_as_the_readme_reader() {
    let s = &shared().server;
    s.set_raw("motia:state:acl-b:order", r#"{"id":9,"status":"sent"}"#);
    let t = Term::start("acl-reader", &reader(), "--read-only", None);
    let screen = t.wait_for("done");
    assert!(screen.contains("Redis ? (no INFO)"), "{screen}");
    assert!(screen.contains("of ? (no DBSIZE)"), "{screen}");
    assert!(screen.contains("READ-ONLY"), "{screen}");
    assert!(!screen.contains("authentication"), "{screen}");
    assert!(!screen.contains("reader-secret"), "{screen}");
    t.keys(&["/"]);
    t.type_text("acl-b");
    t.keys(&["Enter"]);
    t.wait_for("\"status\": \"sent\"");
}

#[test]
fn the_browser_saves_as_the_readme_editor() {
    let s = &shared().server;
    s.set_raw("motia:state:acl-w:order", r#"{"id":1}"#);
    let t = Term::start("acl-editor", &editor(), "", None);
    t.wait_for("done");
    t.keys(&["/"]);
    t.type_text("acl-w");
    t.keys(&["Enter"]);
    t.wait_for("\"id\": 1");
    t.keys(&["Enter"]);
    t.wait("the Keys pane focused", |s| s.contains("e edit"));
    t.keys(&["e"]);
    t.wait_for("Edit acl-w:order");
    // Line 2 is `  "id": 1`: make it 2.
    t.keys(&["Down", "End", "BSpace"]);
    t.type_text("2");
    t.keys(&["C-s"]);
    t.wait_for("save acl-w:order: done");
    assert_eq!(s.cli(&["GET", "motia:state:acl-w:order"]), r#"{"id":2}"#);
}

/// A config file with the profiles of the shared server; `mode` its permission bits.
fn profiles_file(dir: &std::path::Path, mode: u32) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let port = shared().server.port;
    let file = dir.join("config.toml");
    std::fs::write(
        &file,
        format!(
            r#"[profiles.editor]
host = "127.0.0.1"
port = {port}
username = "motia-editor"
password_command = "printf '%s-%s' editor secret"

[profiles.wrong]
url = "redis://127.0.0.1:{port}"
username = "motia-editor"
password_command = "printf 'not-the-%s' password"

[profiles.literal]
url = "redis://127.0.0.1:{port}"
username = "motia-reader"
password = "reader-secret"
read_only = true

[profiles.broken]
url = "redis://127.0.0.1:{port}"
password_command = "echo the keychain is locked >&2; exit 4"
"#
        ),
    )
    .unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
    file
}

#[test]
fn profiles_connect_and_the_password_is_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let file = profiles_file(dir.path(), 0o600);
    let config = file.to_str().unwrap();
    let run = |args: &[&str]| {
        motia_state()
            .args(["--config", config])
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["--profile", "editor", "--verbose", "set", "prof", "k", "1"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("as motia-editor"), "{err}");
    assert!(!err.contains("editor-secret"), "--verbose: {err}");
    assert_eq!(shared().server.cli(&["GET", "motia:state:prof:k"]), "1");

    let out = run(&["--profile", "wrong", "--verbose", "get", "prof", "k"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3));
    assert!(err.contains("WRONGPASS"), "{err}");
    assert!(!err.contains("not-the-password"), "error message: {err}");

    let out = run(&["--profile", "broken", "traces"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.contains("password_command") && err.contains("status 4: the keychain is locked"),
        "{err}"
    );

    // A literal password: quiet in a private file, a warning naming a readable one.
    let out = run(&["--profile", "literal", "get", "prof", "k"]);
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("warning"));
    let open = tempfile::tempdir().unwrap();
    let readable = profiles_file(open.path(), 0o644);
    let out = motia_state()
        .args([
            "--config",
            readable.to_str().unwrap(),
            "--profile",
            "literal",
        ])
        .args(["get", "prof", "k"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "warning: {} holds a password and other users can read it",
            readable.display()
        )),
        "{err}"
    );
    // MOTIA_STATE_PROFILE picks the profile too; the read-only profile refuses writes.
    let out = motia_state()
        .env("MOTIA_STATE_PROFILE", "literal")
        .args(["--config", config, "set", "prof", "k", "2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--read-only"));
}

#[test]
fn the_browser_on_a_profile_shows_neither_the_password_on_screen_nor_in_its_log() {
    let dir = tempfile::tempdir().unwrap();
    let file = profiles_file(dir.path(), 0o600);
    shared()
        .server
        .set_raw("motia:state:prof-tui:k", r#"{"seen":true}"#);
    let t = Term::start(
        "profile",
        "",
        &format!("--config {} --profile editor", file.display()),
        None,
    );
    let s = t.wait_for("done");
    assert!(s.contains("prof-tui"), "{s}");
    assert!(s.contains("editor"), "the profile's name: {s}");
    assert!(!s.contains("editor-secret"), "{s}");
    t.keys(&["q"]);
    t.wait("the browser to quit", |s| !s.contains("Traces ("));
    let mut logs = 0;
    for entry in walk(t.home()) {
        let text = std::fs::read(&entry).unwrap_or_default();
        let text = String::from_utf8_lossy(&text);
        if entry.extension().is_some_and(|e| e == "log") {
            logs += 1;
            assert!(text.contains("browser starting"), "{text}");
        }
        assert!(
            !text.contains("editor-secret"),
            "{}: {text}",
            entry.display()
        );
    }
    assert!(logs > 0, "the browser wrote its log");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn the_connection_picker_lists_profiles_and_switches() {
    let dir = tempfile::tempdir().unwrap();
    let file = profiles_file(dir.path(), 0o600);
    let s = &shared().server;
    s.set_raw("motia:state:pick:k", "1");
    let t = Term::start(
        "picker",
        "",
        &format!("--config {} --profile editor", file.display()),
        None,
    );
    t.wait_for("done");
    t.keys(&["c"]);
    let screen = t.wait_for("Connections");
    for name in ["broken", "editor", "literal", "wrong"] {
        assert!(screen.contains(name), "{screen}");
    }
    assert!(screen.contains("motia-reader@127.0.0.1"), "{screen}");
    assert!(screen.contains("read-only"), "{screen}");
    assert!(!screen.contains("reader-secret"), "{screen}");
    // A profile whose password command fails: said, and the connection stays.
    t.keys(&["Up", "Enter"]);
    t.wait_for("cannot switch to broken");
    assert!(t.screen().contains("profile editor"));
    // The read-only profile: reconnects, rescans, read-only shown.
    t.keys(&["c", "Down", "Enter"]);
    t.wait_for("switched to literal");
    let screen = t.wait("the rescan as the reader", |s| {
        s.contains("profile literal") && s.lines().any(|l| l.starts_with("│pick "))
    });
    assert!(screen.contains("READ-ONLY"), "{screen}");
    assert!(screen.contains("motia-reader@"), "{screen}");
}

#[test]
fn the_demo_offers_its_own_connections_in_the_picker() {
    let t = Term::start("demo-picker", "", "demo --static", None);
    t.wait_for("profile demo");
    t.keys(&["c"]);
    // The whole picker, not just its title: tmux may be read while the frame is half written.
    t.wait("the picker with the demo's connections", |s| {
        s.contains("Connections") && s.contains("demo-read-only")
    });
    t.keys(&["Down", "Enter"]);
    t.wait_for("switched to demo-read-only");
    t.wait("read-only", |s| {
        s.contains("READ-ONLY") && s.contains("profile demo-read-only")
    });
    t.keys(&["q"]);
    t.wait("the demo to quit", |s| !s.contains("Traces ("));
}
