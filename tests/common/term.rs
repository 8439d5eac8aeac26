//! The real binary in a tmux terminal of its own (unique socket): keys go in with
//! `tmux send-keys`, the screen comes back with `tmux capture-pane`, and every check polls with
//! a deadline. The tmux server is killed on drop.

use std::process::Command;
use std::time::{Duration, Instant};

/// How long a screen check waits before it fails: generous, for a busy machine.
pub const DEADLINE: Duration = super::POLL_LIMIT;

pub struct Term {
    socket: String,
    _home: tempfile::TempDir,
}

impl Term {
    /// Runs `motia-state --url URL ARGS` (no `--url` when `url` is empty) in a 150x40 terminal with its own config and state
    /// directories (no user keymap; logs stay in a temp dir). `editor` sets `$EDITOR`.
    pub fn start(name: &str, url: &str, args: &str, editor: Option<&str>) -> Self {
        Self::start_sized(name, url, args, editor, (150, 40))
    }

    /// [`Term::start`] in a terminal of `(columns, rows)`.
    pub fn start_sized(
        name: &str,
        url: &str,
        args: &str,
        editor: Option<&str>,
        size: (u16, u16),
    ) -> Self {
        let home = tempfile::tempdir().unwrap();
        let socket = launch(name, url, args, editor, size, home.path());
        Self {
            socket,
            _home: home,
        }
    }

    /// [`Term::start`] with its config and state directories under `home`, which the caller
    /// keeps (a later run finds what an earlier one left there).
    pub fn start_in(name: &str, url: &str, args: &str, home: &std::path::Path) -> Self {
        let own = tempfile::tempdir().unwrap();
        let socket = launch(name, url, args, None, (150, 40), home);
        Self { socket, _home: own }
    }

    /// The private home of this run (its config, state and log directories).
    pub fn home(&self) -> &std::path::Path {
        self._home.path()
    }

    pub fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-t", "t"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Sends tmux key names (`Enter`, `C-s`, `j`).
    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            let ok = Command::new("tmux")
                .args(["-L", &self.socket, "send-keys", "-t", "t", "--", k])
                .status()
                .unwrap()
                .success();
            assert!(ok, "tmux send-keys {k}");
        }
    }

    /// Types text literally (no key names).
    pub fn type_text(&self, text: &str) {
        let ok = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", "-t", "t", "-l", "--", text])
            .status()
            .unwrap()
            .success();
        assert!(ok, "tmux send-keys -l {text}");
    }

    /// Resizes the terminal to `(columns, rows)`, as a user dragging the window would.
    pub fn resize(&self, (width, height): (u16, u16)) {
        let ok = Command::new("tmux")
            .args(["-L", &self.socket, "resize-window", "-t", "t"])
            .args(["-x", &width.to_string(), "-y", &height.to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "tmux resize-window {width}x{height}");
    }

    /// Polls until `pred` holds for the screen; panics with the last screen at the deadline.
    pub fn wait(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let end = Instant::now() + DEADLINE;
        loop {
            let s = self.screen();
            // A screen is taken only when a second capture right after agrees: tmux can be
            // read half-way through a frame (the top rows new, the footer not yet).
            if pred(&s) && self.screen() == s {
                return s;
            }
            if Instant::now() > end {
                panic!("timed out waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn wait_for(&self, text: &str) -> String {
        self.wait(&format!("{text:?}"), |s| s.contains(text))
    }

    /// [`Term::wait`] with a deadline of its own (a feature promised within some seconds).
    pub fn wait_within(
        &self,
        deadline: Duration,
        what: &str,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        let end = Instant::now() + deadline;
        loop {
            let s = self.screen();
            // A screen is taken only when a second capture right after agrees: tmux can be
            // read half-way through a frame (the top rows new, the footer not yet).
            if pred(&s) && self.screen() == s {
                return s;
            }
            if Instant::now() > end {
                panic!("not within {deadline:?}: {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The process id of the binary (the child of the pane's shell).
    pub fn pid(&self) -> u32 {
        let out = Command::new("tmux")
            .args([
                "-L",
                &self.socket,
                "display",
                "-p",
                "-t",
                "t",
                "#{pane_pid}",
            ])
            .output()
            .unwrap();
        let shell: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // "pid (comm) state ppid ..."
            let Some((comm, rest)) = stat.split_once(") ") else {
                continue;
            };
            let ppid = rest.split(' ').nth(1).and_then(|p| p.parse::<u32>().ok());
            if ppid == Some(shell) && comm.ends_with("(motia-state") {
                return pid;
            }
        }
        panic!("no motia-state process under the pane's shell {shell}");
    }

    /// True while the pane shows the alternate screen.
    pub fn alternate_on(&self) -> bool {
        let out = Command::new("tmux")
            .args([
                "-L",
                &self.socket,
                "display",
                "-p",
                "-t",
                "t",
                "#{alternate_on}",
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    }

    /// Sends an SGR mouse report, as a terminal does for a click (`button` 0) or a wheel turn
    /// (64 up, 65 down) at `(column, row)`, counted from 0.
    pub fn mouse(&self, button: u8, (column, row): (u16, u16)) {
        let report = format!("\x1b[<{button};{};{}M", column + 1, row + 1);
        self.type_text(&report);
    }

    /// True while the program in the pane asks the terminal to report the mouse.
    pub fn mouse_reported(&self) -> bool {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "display", "-p", "-t", "t"])
            .arg("#{mouse_any_flag}#{mouse_button_flag}#{mouse_standard_flag}")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).contains('1')
    }

    /// The status bar (the last line but one that is not blank).
    pub fn status_line(&self) -> String {
        let s = self.screen();
        let lines: Vec<&str> = s.lines().filter(|l| !l.trim().is_empty()).collect();
        lines.iter().rev().nth(1).unwrap_or(&"").to_string()
    }
}

/// Starts tmux running the binary with `home` as its home; returns the tmux socket.
fn launch(
    name: &str,
    url: &str,
    args: &str,
    editor: Option<&str>,
    (width, height): (u16, u16),
    home: &std::path::Path,
) -> String {
    let socket = format!("motia-e2e-{name}-{}", std::process::id());
    let bin = env!("CARGO_BIN_EXE_motia-state");
    let editor = editor
        .map(|e| format!("EDITOR={e} VISUAL="))
        .unwrap_or_default();
    // The developer's own REDIS_* / STATE_* settings stay out of the run.
    let unset: String = super::MOTIA_ENV
        .iter()
        .map(|v| format!("-u {v} "))
        .collect();
    let url = if url.is_empty() {
        String::new()
    } else {
        format!("--url {url}")
    };
    let cmd = format!(
        "env {unset}XDG_CONFIG_HOME={h}/config XDG_STATE_HOME={h}/state HOME={h} {editor} {bin} {url} {args}; sleep 60",
        h = home.display()
    );
    let ok = Command::new("tmux")
        .args([
            "-L",
            &socket,
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            &cmd,
        ])
        .status()
        .expect("tmux must be installed for the browser's end-to-end tests")
        .success();
    assert!(ok, "tmux new-session failed");
    socket
}

impl Drop for Term {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}
