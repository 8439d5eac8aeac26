//! The mouse, end to end: the real binary in tmux receives SGR mouse reports as a terminal
//! sends them, and tmux says whether the program asked for mouse reporting, so that the
//! terminal is given back without it (on quit, for `$EDITOR`), and `--no-mouse` and the
//! config setting leave the mouse to the terminal.

mod common;

use common::RedisServer;
use common::term::Term;

const CLICK: u8 = 0;
const WHEEL_UP: u8 = 64;
const WHEEL_DOWN: u8 = 65;

fn seed(server: &RedisServer) {
    server.set_raw("motia:state:trace-a:order", r#"{"id":7}"#);
    server.set_raw("motia:state:trace-a:user:1:name", r#""Ada""#);
    server.set_raw("motia:state:trace-a:user:2:name", r#""Grace""#);
    server.set_raw("motia:state:trace-b:note", r#""b""#);
    server.set_raw("motia:state:trace-c:count", "42");
}

/// The first line: the panes' titles, the focused one marked.
fn titles(t: &Term) -> String {
    t.screen().lines().next().unwrap_or_default().to_string()
}

#[test]
fn clicks_and_the_wheel_move_the_focus_and_the_selection() {
    let server = RedisServer::start();
    seed(&server);
    // 100x24: Traces from column 0, Keys from 22, Value from 60 (as in the frame tests).
    let t = Term::start_sized("mouse", &server.url(), "", None, (100, 24));
    t.wait_for("done");
    t.wait("mouse reporting on", |_| t.mouse_reported());
    // A click on the third trace selects it.
    t.mouse(CLICK, (5, 3));
    t.wait_for("Keys · trace-c (1)");
    // The wheel over the Traces pane scrolls it; the focus stays.
    t.mouse(WHEEL_UP, (5, 2));
    t.wait_for("Keys · trace-a (3)");
    assert!(titles(&t).contains("▶Traces"), "{}", titles(&t));
    // A click on the Keys pane's folder row focuses the pane and closes the folder.
    t.wait_for("▾ user: (2)");
    t.mouse(CLICK, (30, 3));
    t.wait_for("▸ user: (2)");
    assert!(titles(&t).contains("▶Keys"), "{}", titles(&t));
    t.mouse(CLICK, (30, 3));
    t.wait_for("▾ user: (2)");
    // The wheel over the keys moves down them: the last name's value shows.
    t.mouse(WHEEL_DOWN, (30, 5));
    t.mouse(WHEEL_DOWN, (30, 5));
    t.wait_for("\"Grace\"");
    // A click on the Value pane focuses it.
    t.mouse(CLICK, (70, 5));
    t.wait("the Value pane focused", |_| titles(&t).contains("▶Value"));
    // Quitting gives the terminal back without mouse reporting.
    t.keys(&["q"]);
    t.wait("the browser to quit", |s| !s.contains("Traces ("));
    assert!(!t.mouse_reported());
}

#[test]
fn no_mouse_and_the_config_setting_leave_the_mouse_to_the_terminal() {
    let server = RedisServer::start();
    seed(&server);
    let t = Term::start_sized("nomouse", &server.url(), "--no-mouse", None, (100, 24));
    t.wait_for("done");
    assert!(!t.mouse_reported());
    t.keys(&["q"]);
    drop(t);
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("config/motia-state");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.toml"), "[browser]\nmouse = false\n").unwrap();
    let t = Term::start_in("mousecfg", &server.url(), "", home.path());
    t.wait_for("done");
    assert!(!t.mouse_reported());
    // The browser works as before, by keys.
    t.keys(&["j"]);
    t.wait_for("Keys · trace-b (1)");
}

#[test]
fn the_editor_runs_without_mouse_reporting_and_the_browser_gets_it_back() {
    let server = RedisServer::start();
    seed(&server);
    // The "editor" writes down what tmux says of the mouse while it runs, and edits nothing.
    let dir = tempfile::tempdir().unwrap();
    let seen = dir.path().join("seen");
    let editor = dir.path().join("editor.sh");
    std::fs::write(
        &editor,
        format!(
            "#!/bin/sh\ntmux display -p '#{{mouse_any_flag}}#{{mouse_button_flag}}#{{mouse_standard_flag}}' > {}\n",
            seen.display()
        ),
    )
    .unwrap();
    let mut perms = std::fs::metadata(&editor).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&editor, perms).unwrap();
    let t = Term::start_sized(
        "mouseeditor",
        &server.url(),
        "",
        Some(editor.to_str().unwrap()),
        (100, 24),
    );
    t.wait_for("done");
    t.wait("mouse reporting on", |_| t.mouse_reported());
    // The value must be loaded before it can be edited.
    t.wait_for("\"id\": 7");
    t.keys(&["Tab"]);
    t.wait("the Keys pane focused", |_| titles(&t).contains("▶Keys"));
    t.keys(&["E"]);
    let flags = common::poll_for("the editor to run", common::POLL_LIMIT, || {
        match std::fs::read_to_string(&seen) {
            // The shell creates the file before tmux answers.
            Ok(s) if s.ends_with('\n') => Ok(s),
            Ok(s) => Err(format!("{s:?} so far")),
            Err(e) => Err(e.to_string()),
        }
    });
    assert_eq!(flags.trim(), "000", "mouse reporting while $EDITOR ran");
    t.wait_for("no changes; nothing was written");
    t.wait("mouse reporting back on", |_| t.mouse_reported());
    t.mouse(CLICK, (5, 3));
    t.wait_for("Keys · trace-c (1)");
}
