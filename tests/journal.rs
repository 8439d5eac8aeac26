//! The write journal and undo, end to end: the binary against private redis-servers, each test
//! with a journal directory of its own.

mod common;

use assert_cmd::Command;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use common::RedisServer;
use common::motia_state as bin;
use common::traces::{Flow, Step, set};
use serde_json::Value;

struct Setup {
    server: RedisServer,
    journal: tempfile::TempDir,
}

impl Setup {
    fn new() -> Self {
        Self {
            server: RedisServer::start(),
            journal: tempfile::tempdir().unwrap(),
        }
    }

    fn cmd(&self) -> Command {
        let mut c = bin();
        c.args(["--url", &self.server.url()])
            .env("MOTIA_STATE_JOURNAL", self.journal.path());
        c
    }

    /// Runs the binary; panics unless it exits 0; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs the binary expecting exit `code`; returns stderr.
    fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.cmd().args(args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stderr).unwrap()
    }

    fn file(&self) -> std::path::PathBuf {
        self.journal.path().join("journal.jsonl")
    }

    fn lines(&self) -> Vec<Value> {
        std::fs::read_to_string(self.file())
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn redis(&self, args: &[&str]) -> String {
        self.server.cli(args)
    }

    /// DUMP of a key as exact bytes (redis-cli would mangle them).
    fn dump(&self, key: &[u8]) -> Option<Vec<u8>> {
        let mut c = redis::Client::open(self.server.url().as_str())
            .unwrap()
            .get_connection()
            .unwrap();
        redis::cmd("DUMP").arg(key).query(&mut c).unwrap()
    }

    /// Motia's records of a completed flow `trace` two hours old whose one step set `key` to
    /// `value`; returns the set's time (epoch ms). `gc --older-than 1h` takes the trace.
    fn finished_flow(&self, trace: &str, key: &str, value: Value) -> i64 {
        let start = now_ms() - 2 * 3_600_000;
        Flow::new(trace, "CreateOrder", start)
            .step(Step::new(1, "CreateOrder", "api", start).event(set(
                start + 100,
                trace,
                key,
                value,
            )))
            .write(&self.server);
        start + 100
    }

    fn pttl(&self, key: &str) -> i64 {
        self.redis(&["PTTL", key]).parse().unwrap()
    }
}

fn b64(v: &Value) -> Vec<u8> {
    BASE64.decode(v.as_str().unwrap()).unwrap()
}

#[test]
fn the_journal_keeps_exact_before_images_and_after_values() {
    let s = Setup::new();
    // A name that is not UTF-8, a value with a TTL.
    let name = b"motia:state:t\xff1:k\x01ey".to_vec();
    let mut c = redis::Client::open(s.server.url().as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    let () = redis::cmd("SET")
        .arg(&name)
        .arg(&b"{\"old\": \"v\xc3\xa9\"}"[..])
        .arg("EX")
        .arg(1000)
        .query(&mut c)
        .unwrap();
    let before = s.dump(&name).unwrap();
    use std::os::unix::ffi::OsStrExt;
    let arg = |b: &[u8]| std::ffi::OsStr::from_bytes(b).to_os_string();
    let out = s
        .cmd()
        .arg("set")
        .arg(arg(b"t\xff1"))
        .arg(arg(b"k\x01ey"))
        .arg("{ \"new\" : [1, 2] }")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = s.lines();
    assert_eq!(lines.len(), 1);
    let e = &lines[0];
    assert_eq!(e["id"], 1);
    assert_eq!(e["operation"], "set");
    assert_eq!(e["server"], s.server.url() + "/0");
    assert_eq!(e["prefix"], "motia:state:");
    let k = &e["keys"][0];
    assert_eq!(b64(&k["name"]), name);
    assert_eq!(k["before"]["type"], "string");
    assert_eq!(b64(&k["before"]["dump"]), before);
    let pttl = k["before"]["pttlMs"].as_u64().unwrap();
    assert!(pttl > 900_000 && pttl <= 1_000_000, "{pttl}");
    assert_eq!(b64(&k["after"]["value"]), b"{\"new\":[1,2]}");
    // Undo puts back the exact bytes, with the TTL it had.
    s.ok(&["undo", "--yes"]);
    assert_eq!(s.dump(&name).unwrap(), before);
    let now: i64 = redis::cmd("PTTL").arg(&name).query(&mut c).unwrap();
    assert!(now > 800_000 && now <= pttl as i64, "{now}");
}

#[test]
fn journal_file_is_private_and_holds_no_password() {
    let s = Setup {
        server: RedisServer::start_with(&["--requirepass", "s3cret-pw"]),
        journal: tempfile::tempdir().unwrap(),
    };
    s.ok(&["--password", "s3cret-pw", "set", "t", "k", "1"]);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(s.file()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let text = std::fs::read_to_string(s.file()).unwrap();
    assert!(!text.contains("s3cret-pw"), "{text}");
    // A new journal directory is created private too.
    let nested = s.journal.path().join("a/b");
    s.cmd()
        .env("MOTIA_STATE_JOURNAL", &nested)
        .args(["--password", "s3cret-pw", "set", "t", "k", "2"])
        .assert()
        .success();
    let mode = std::fs::metadata(&nested).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
}

#[test]
fn undo_of_set_del_clear_and_expire_round_trips() {
    let s = Setup::new();
    s.server.set_raw("motia:state:t1:a", "{\"a\":1}");
    s.redis(&["EXPIRE", "motia:state:t1:a", "5000"]);
    s.server.set_raw("motia:state:t1:b", "not json \u{1b}");
    s.redis(&["HSET", "motia:state:t1:h", "f", "v", "g", "w"]);
    let dumps = |keys: &[&str]| -> Vec<Option<Vec<u8>>> {
        keys.iter().map(|k| s.dump(k.as_bytes())).collect()
    };
    let keys = ["motia:state:t1:a", "motia:state:t1:b", "motia:state:t1:h"];
    let original = dumps(&keys);

    // set (replacing) and set (creating).
    s.ok(&["set", "t1", "a", "{\"a\":2}"]);
    s.ok(&["set", "t1", "new", "true"]);
    s.ok(&["undo", "--yes"]);
    assert_eq!(s.redis(&["EXISTS", "motia:state:t1:new"]), "0");
    s.ok(&["undo", "--yes"]);
    assert_eq!(dumps(&keys), original);
    let ttl = s.pttl("motia:state:t1:a");
    assert!(ttl > 4_000_000, "{ttl}");

    // del
    s.ok(&["del", "t1", "b"]);
    assert_eq!(s.redis(&["EXISTS", "motia:state:t1:b"]), "0");
    s.ok(&["undo", "--yes"]);
    assert_eq!(dumps(&keys), original);

    // clear, of every type
    assert_eq!(s.ok(&["clear", "t1"]), "3\n");
    s.ok(&["undo", "--yes"]);
    assert_eq!(dumps(&keys), original);
    assert!(s.pttl("motia:state:t1:a") > 4_000_000);
    assert_eq!(s.pttl("motia:state:t1:b"), -1);

    // expire of one key, and persist of the whole trace
    s.ok(&["expire", "t1", "b", "10m"]);
    assert!(s.pttl("motia:state:t1:b") > 0);
    s.ok(&["undo", "--yes"]);
    assert_eq!(s.pttl("motia:state:t1:b"), -1);
    s.ok(&["expire", "t1", "persist"]);
    assert_eq!(s.pttl("motia:state:t1:a"), -1);
    s.ok(&["undo", "--yes"]);
    assert!(s.pttl("motia:state:t1:a") > 4_000_000);
    assert_eq!(dumps(&keys), original);

    // Every undo is journalled, naming what it undid.
    let lines = s.lines();
    let undos: Vec<&Value> = lines.iter().filter(|l| l["operation"] == "undo").collect();
    assert_eq!(undos.len(), 6);
    assert!(undos.iter().all(|u| u["undoes"].as_u64().is_some()));
    let listed = s.ok(&["journal"]);
    // Keys in the order the scan found them.
    let clear = listed.lines().find(|l| l.contains("\tclear\t")).unwrap();
    for k in ["t1:a", "t1:b", "t1:h"] {
        assert!(clear.contains(k), "{listed}");
    }
    assert!(listed.contains("\tundo of 1\t"), "{listed}");
    let limited = s.ok(&["journal", "--json", "--limit", "2"]);
    assert_eq!(limited.lines().count(), 2);
}

#[test]
fn undo_of_an_undo_redoes() {
    let s = Setup::new();
    s.ok(&["set", "t", "k", "1"]);
    s.ok(&["set", "t", "k", "2"]);
    s.ok(&["undo", "--yes"]);
    assert_eq!(s.ok(&["get", "t", "k"]), "1\n");
    s.ok(&["undo", "3", "--yes"]);
    assert_eq!(s.ok(&["get", "t", "k"]), "2\n");
}

#[test]
fn undo_of_import_and_gc_round_trips() {
    let s = Setup::new();
    s.server.set_raw("motia:state:t1:a", "{\"a\":1}");
    s.redis(&["RPUSH", "motia:state:t1:l", "x", "y"]);
    let doc = s.journal.path().join("doc.json");
    s.ok(&["export", "-o", doc.to_str().unwrap()]);
    let before_a = s.dump(b"motia:state:t1:a");
    s.server.set_raw("motia:state:t1:a", "{\"a\":9}");
    s.redis(&["DEL", "motia:state:t1:l"]);
    let changed_a = s.dump(b"motia:state:t1:a");
    s.ok(&["import", "--overwrite", doc.to_str().unwrap()]);
    assert_eq!(s.dump(b"motia:state:t1:a"), before_a);
    s.ok(&["undo", "--yes"]);
    assert_eq!(s.dump(b"motia:state:t1:a"), changed_a);
    assert_eq!(s.redis(&["EXISTS", "motia:state:t1:l"]), "0");

    // gc of traces without records, idle two hours.
    s.redis(&["RPUSH", "motia:state:t1:l", "x", "y"]);
    s.finished_flow("t1", "a", serde_json::json!({"a": 1}));
    let dumps = (s.dump(b"motia:state:t1:a"), s.dump(b"motia:state:t1:l"));
    let out = s.ok(&["gc", "--older-than", "1h", "--delete", "--yes"]);
    assert!(out.contains("deleted 2 keys"), "{out}");
    assert_eq!(
        s.redis(&["EXISTS", "motia:state:t1:a", "motia:state:t1:l"]),
        "0"
    );
    s.ok(&["undo", "--yes"]);
    assert_eq!(
        (s.dump(b"motia:state:t1:a"), s.dump(b"motia:state:t1:l")),
        dumps
    );
}

#[test]
fn a_key_changed_since_is_a_conflict_and_the_rest_is_restored() {
    let s = Setup::new();
    s.server.set_raw("motia:state:t:a", "1");
    s.server.set_raw("motia:state:t:b", "2");
    s.ok(&["clear", "t"]);
    s.server.set_raw("motia:state:t:b", "someone else's");
    let dry = s.ok(&["undo"]);
    assert!(dry.contains("dry run: nothing was changed"), "{dry}");
    assert_eq!(s.redis(&["EXISTS", "motia:state:t:a"]), "0");
    let out = s.ok(&["undo", "--yes"]);
    assert!(out.contains("restored 1 key\n"), "{out}");
    assert!(
        out.contains("left 1 key as it is (changed since the write):\n  t:b\n"),
        "{out}"
    );
    assert_eq!(s.redis(&["GET", "motia:state:t:a"]), "1");
    assert_eq!(s.redis(&["GET", "motia:state:t:b"]), "someone else's");
}

#[test]
fn undo_is_refused_read_only_and_elsewhere() {
    let s = Setup::new();
    s.ok(&["set", "t", "k", "1"]);
    let e = s.fails(&["--read-only", "undo", "--yes"], 2);
    assert!(
        e.contains("--read-only is given; nothing was changed"),
        "{e}"
    );
    assert_eq!(s.ok(&["get", "t", "k"]), "1\n");
    let e = s.fails(&["--db", "1", "undo", "1", "--yes"], 2);
    assert!(e.contains("was written to"), "{e}");
    let e = s.fails(&["undo", "99"], 1);
    assert!(e.contains("no journal entry 99"), "{e}");
    assert_eq!(s.ok(&["get", "t", "k"]), "1\n");
}

#[test]
fn the_cap_drops_the_oldest_and_refuses_a_write_it_cannot_keep() {
    let s = Setup::new();
    let cap = 2000;
    let with_cap = |args: &[&str]| {
        let mut c = s.cmd();
        c.env("MOTIA_STATE_JOURNAL_MAX", cap.to_string()).args(args);
        c
    };
    for n in 0..20 {
        with_cap(&["set", "t", "k", &format!("{{\"n\":{n}}}")])
            .assert()
            .success();
    }
    let size = std::fs::metadata(s.file()).unwrap().len();
    assert!(size <= cap, "{size}");
    let lines = s.lines();
    assert_eq!(lines.last().unwrap()["id"], 20);
    assert!(
        lines[0]["id"].as_u64().unwrap() > 1,
        "the oldest were dropped"
    );
    // One write larger than the cap: refused, nothing changed.
    // Varied bytes: DUMP compresses a repeated one to almost nothing.
    let mut n: u32 = 7;
    let noise: String = (0..3000)
        .map(|_| {
            n = n.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            char::from(b'a' + ((n >> 16) % 26) as u8)
        })
        .collect();
    s.server
        .set_raw("motia:state:t:big", &format!("\"{noise}\""));
    let out = with_cap(&["del", "t", "big"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("the journal cannot keep the before-images of this write"),
        "{e}"
    );
    assert!(e.contains("nothing was changed"), "{e}");
    assert_eq!(s.redis(&["EXISTS", "motia:state:t:big"]), "1");
    // Under --yes, it says so and goes ahead.
    s.finished_flow("t", "k", serde_json::json!(1));
    let out = with_cap(&["gc", "--older-than", "1h", "--delete", "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("going ahead as --yes asks"), "{e}");
    assert_eq!(s.redis(&["EXISTS", "motia:state:t:big"]), "0");
}

#[test]
fn no_journal_and_a_journal_that_cannot_be_written() {
    let s = Setup::new();
    s.ok(&["--no-journal", "set", "t", "k", "1"]);
    assert!(!s.file().exists());
    let e = s.fails(&["--no-journal", "journal"], 2);
    assert!(e.contains("the journal is off"), "{e}");
    // A file where the directory should be.
    let blocked = s.journal.path().join("blocked");
    std::fs::write(&blocked, "").unwrap();
    let out = s
        .cmd()
        .env("MOTIA_STATE_JOURNAL", &blocked)
        .args(["set", "t", "k", "2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("cannot write the journal"), "{e}");
    assert!(e.contains("--no-journal"), "{e}");
    assert_eq!(s.ok(&["get", "t", "k"]), "1\n");
    // The profile setting.
    let config = s.journal.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[profiles.quiet]\nurl = \"{}\"\njournal = false\n",
            s.server.url()
        ),
    )
    .unwrap();
    bin()
        .env("MOTIA_STATE_JOURNAL", s.journal.path())
        .args(["--config", config.to_str().unwrap(), "--profile", "quiet"])
        .args(["set", "t", "k", "3"])
        .assert()
        .success();
    assert!(!s.file().exists());
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[test]
fn history_restore_writes_back_a_recorded_version() {
    let s = Setup::new();
    let at = s.finished_flow("t1", "order", serde_json::json!({"id": 7, "status": "new"}));
    s.server
        .set_raw("motia:state:t1:order", "{\"id\":7,\"status\":\"paid\"}");
    let at = at.to_string();
    let dry = s.ok(&["history", "t1", "order", "--restore", &at]);
    assert!(dry.contains("-   \"status\": \"paid\""), "{dry}");
    assert!(dry.contains("+   \"status\": \"new\""), "{dry}");
    assert!(dry.contains("dry run: nothing was changed"), "{dry}");
    assert_eq!(
        s.redis(&["GET", "motia:state:t1:order"]),
        "{\"id\":7,\"status\":\"paid\"}"
    );
    s.ok(&["history", "t1", "order", "--restore", &at, "--yes"]);
    assert_eq!(
        s.redis(&["GET", "motia:state:t1:order"]),
        "{\"id\":7,\"status\":\"new\"}"
    );
    // Journalled: undo puts the value before it back.
    let lines = s.lines();
    assert_eq!(lines.last().unwrap()["operation"], "restore");
    s.ok(&["undo", "--yes"]);
    assert_eq!(
        s.redis(&["GET", "motia:state:t1:order"]),
        "{\"id\":7,\"status\":\"paid\"}"
    );
    // No set at that time; refused read-only.
    let e = s.fails(&["history", "t1", "order", "--restore", "12345"], 1);
    assert!(e.contains("no set of"), "{e}");
    let e = s.fails(
        &[
            "--read-only",
            "history",
            "t1",
            "order",
            "--restore",
            &at,
            "--yes",
        ],
        2,
    );
    assert!(e.contains("--read-only"), "{e}");
}
