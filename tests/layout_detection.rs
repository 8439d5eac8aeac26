//! What choosing the layout costs (issues 19 and 21): on Motia 0.x no command walks for iii
//! hashes before it runs; the listing commands look after their output (no walk at all when
//! DBSIZE equals the keys they counted), and still say when iii state exists beside 0.x.
//! Each command's traffic is read from MONITOR on a private redis-server.

mod common;

use common::run_on as run;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use common::RedisServer;
use common::iii::engine_fixture;
use common::term::DEADLINE;

/// `redis-cli MONITOR` on a server: every command it runs, one line each.
struct Monitor {
    child: Child,
    lines: mpsc::Receiver<String>,
    marks: u32,
}

impl Monitor {
    fn start(s: &RedisServer) -> Self {
        let mut child = Command::new("redis-cli")
            .args(["-p", &s.port.to_string(), "MONITOR"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("run redis-cli MONITOR");
        let out = child.stdout.take().expect("MONITOR's stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let mut m = Monitor {
            child,
            lines,
            marks: 0,
        };
        // Listening once its own marker comes back.
        m.commands_until_mark(s);
        m
    }

    /// The commands the server ran since the last call: a marker is sent and lines are read
    /// until it shows, so nothing that came before it is missed.
    fn commands_until_mark(&mut self, s: &RedisServer) -> Vec<String> {
        self.marks += 1;
        let mark = format!("detect-cost-mark-{}", self.marks);
        let deadline = std::time::Instant::now() + DEADLINE;
        let mut seen = Vec::new();
        s.cli(&["ECHO", &mark]);
        loop {
            match self.lines.recv_timeout(std::time::Duration::from_secs(1)) {
                Ok(line) if line.contains(&mark) => return seen,
                // Markers of earlier calls, sent again while MONITOR was starting.
                Ok(line) if line.contains("detect-cost-mark") => {}
                Ok(line) => seen.push(line),
                // MONITOR may not have been listening yet: the marker again.
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    assert!(
                        std::time::Instant::now() < deadline,
                        "MONITOR never showed {mark}"
                    );
                    s.cli(&["ECHO", &mark]);
                }
                Err(e) => panic!("MONITOR stopped: {e}"),
            }
        }
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn walks_for_hashes(commands: &[String]) -> Vec<&String> {
    commands
        .iter()
        .filter(|l| l.contains(r#""SCAN""#) && l.contains(r#""state:*""#))
        .collect()
}

fn ran(commands: &[String], name: &str) -> bool {
    commands.iter().any(|l| l.contains(&format!(r#""{name}""#)))
}

/// 0.x state of two traces, Motia's trace records beside it, and iii hashes.
fn both_layouts(s: &RedisServer) {
    engine_fixture(s);
    let mut script = String::new();
    for t in ["t1", "t2"] {
        script.push_str(&format!("SET motia:state:{t}:order {{\"id\":1}}\n"));
    }
    for i in 0..300 {
        script.push_str(&format!("SET motia:trace:r{i} x\n"));
    }
    s.load(&script);
}

#[test]
fn get_on_a_0x_server_walks_for_no_hashes_and_verbose_says_so() {
    let s = RedisServer::start();
    both_layouts(&s);
    let mut m = Monitor::start(&s);
    let (code, out, err) = run(&s, &["-v", "get", "t1", "order"]);
    assert_eq!((code, out.as_str()), (0, "{\"id\":1}\n"), "{err}");
    assert!(
        err.contains("iii state (state:* hashes): not looked for"),
        "{err}"
    );
    assert!(!err.contains("give --layout iii"), "{err}");
    let commands = m.commands_until_mark(&s);
    assert!(walks_for_hashes(&commands).is_empty(), "{commands:#?}");
    // The 0.x probe stopped at its first page.
    let probes = commands
        .iter()
        .filter(|l| l.contains(r#""SCAN""#) && l.contains(r#""motia:state:*""#))
        .count();
    assert_eq!(probes, 1, "{commands:#?}");
    // Asked for 0.x: no walk of any kind.
    let (code, out, _) = run(&s, &["--layout", "motia", "get", "t2", "order"]);
    assert_eq!((code, out.as_str()), (0, "{\"id\":1}\n"));
    let commands = m.commands_until_mark(&s);
    assert!(!ran(&commands, "SCAN"), "{commands:#?}");
}

#[test]
fn listings_on_0x_still_note_iii_state_beside_it() {
    let s = RedisServer::start();
    both_layouts(&s);
    let mut m = Monitor::start(&s);
    for args in [
        &["traces"][..],
        &["traces", "--counts"],
        &["--layout", "motia", "traces"],
        &["items"],
        &["stats"],
        &["export"],
    ] {
        let (code, out, err) = run(&s, args);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(err.contains("give --layout iii"), "{args:?}: {err}");
        if args.contains(&"traces") {
            assert!(out.starts_with("t1"), "{args:?}: {out}");
        }
        // Looked for after the listing, with a walk that stopped at the first hash.
        let commands = m.commands_until_mark(&s);
        assert_eq!(
            walks_for_hashes(&commands).len(),
            1,
            "{args:?}: {commands:#?}"
        );
    }
}

#[test]
fn dbsize_equal_to_the_keys_listed_means_no_walk() {
    let s = RedisServer::start();
    let mut script = String::new();
    for i in 0..500 {
        script.push_str(&format!("SET motia:state:t{}:k{i} 1\n", i % 7));
    }
    s.load(&script);
    let mut m = Monitor::start(&s);
    let (code, out, err) = run(&s, &["-v", "traces"]);
    assert_eq!((code, out.lines().count()), (0, 7), "{err}");
    assert!(
        err.contains("iii state (state:* hashes): none on the server"),
        "{err}"
    );
    let commands = m.commands_until_mark(&s);
    assert!(ran(&commands, "DBSIZE"), "{commands:#?}");
    assert!(walks_for_hashes(&commands).is_empty(), "{commands:#?}");
    // One key outside the prefix: DBSIZE no longer matches, so the hashes are walked for
    // (none found, no note).
    s.cli(&["SET", "elsewhere", "1"]);
    let (code, _, err) = run(&s, &["traces", "--counts"]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("note"), "{err}");
    let commands = m.commands_until_mark(&s);
    assert_eq!(walks_for_hashes(&commands).len(), 1, "{commands:#?}");
    // And an iii hash among them is found.
    s.cli(&["HSET", "state:orders", "o-1", "{}"]);
    let (_, _, err) = run(&s, &["traces"]);
    assert!(err.contains("give --layout iii"), "{err}");
}
