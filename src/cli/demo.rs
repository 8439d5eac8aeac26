//! `motia-state demo`: a private, seeded redis-server that lives exactly as long as we do.

use std::io::{IsTerminal, Read};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use motia_state::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::browser::{self, BrowserOptions};
use crate::cli::commands::{Failure, exit};
use crate::cli::seed::{self, Entry};

/// A redis-server child process, killed and reaped on drop, whatever way we leave.
struct DemoServer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl DemoServer {
    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts redis-server on a free port; a few tries, as another process may take the port
    /// between our probe and the server's bind.
    async fn start() -> Result<Self, Failure> {
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port()?;
            let dir = tempfile::tempdir().map_err(|e| {
                Failure::new(
                    exit::SERVER,
                    format!("cannot create a temporary directory: {e}"),
                )
            })?;
            let child = spawn_server(port, dir.path())?;
            let mut server = DemoServer { child, port, dir };
            match server.wait_ready().await {
                Ok(()) => return Ok(server),
                Err(e) => last = e,
            }
        }
        Err(Failure::new(
            exit::SERVER,
            format!("could not start redis-server for the demo: {last}"),
        ))
    }

    /// Polls PING until the server answers, it exits, or 10 s pass.
    async fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "redis-server exited ({status}): {}",
                    self.log_tail()
                ));
            }
            if ping(self.port).await {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err("redis-server did not answer within 10 s".into())
    }

    fn log_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(self.dir.path().join("redis.log")) {
            let _ = f.read_to_string(&mut text);
        }
        let lines: Vec<&str> = text.lines().rev().take(3).collect();
        lines.into_iter().rev().collect::<Vec<_>>().join(" / ")
    }
}

fn free_port() -> Result<u16, Failure> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| Failure::new(exit::SERVER, format!("cannot find a free port: {e}")))
}

fn spawn_server(port: u16, dir: &Path) -> Result<Child, Failure> {
    let log = std::fs::File::create(dir.join("redis.log"))
        .map_err(|e| Failure::new(exit::SERVER, format!("cannot create the server log: {e}")))?;
    let mut cmd = Command::new("redis-server");
    cmd.arg("--port")
        .arg(port.to_string())
        .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .arg("--dir")
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_or_else(|_| Stdio::null(), Stdio::from))
        .stderr(Stdio::from(log));
    die_with_parent(&mut cmd);
    cmd.spawn().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Failure::new(
                exit::SERVER,
                "the demo needs redis-server, which is not installed or not on PATH \
                 (Debian/Ubuntu: sudo apt install redis-server; macOS: brew install redis)",
            )
        } else {
            Failure::new(exit::SERVER, format!("cannot start redis-server: {e}"))
        }
    })
}

/// Even a `kill -9` of the demo must not leave its server behind: ask Linux to kill the
/// child when we die (the Drop guard covers every orderly exit).
#[cfg(target_os = "linux")]
fn die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: between fork and exec only async-signal-safe calls (prctl, getppid).
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent may have died before prctl took effect.
            if libc::getppid() != parent {
                return Err(std::io::Error::other("the demo process is gone"));
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_cmd: &mut Command) {}

async fn ping(port: u16) -> bool {
    let attempt = async {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .ok()?;
        s.write_all(b"PING\r\n").await.ok()?;
        let mut buf = [0u8; 16];
        let n = s.read(&mut buf).await.ok()?;
        Some(buf[..n].starts_with(b"+PONG"))
    };
    tokio::time::timeout(Duration::from_millis(500), attempt)
        .await
        .ok()
        .flatten()
        .unwrap_or(false)
}

/// Writes the demo data in one pipeline; returns (traces, state keys, first trace id).
async fn seed(url: &str, prefix: &str) -> Result<(usize, usize, String), Failure> {
    let server_err = |e: redis::RedisError| {
        Failure::new(exit::SERVER, format!("seeding the demo server failed: {e}"))
    };
    let entries = seed::entries().map_err(|e| Failure::new(exit::SERVER, e))?;
    let client = redis::Client::open(url).map_err(server_err)?;
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .map_err(server_err)?;
    let mut pipe = redis::pipe();
    let mut traces = std::collections::BTreeSet::new();
    let mut keys = 0;
    let mut first = None;
    for e in &entries {
        match e {
            Entry::State {
                trace,
                key,
                text,
                ttl_secs,
            } => {
                let cmd = pipe
                    .cmd("SET")
                    .arg(format!("{prefix}{trace}:{key}"))
                    .arg(text);
                if let Some(t) = ttl_secs {
                    cmd.arg("EX").arg(*t);
                }
                cmd.ignore();
                traces.insert(trace.as_str());
                first.get_or_insert_with(|| trace.clone());
                keys += 1;
            }
            Entry::Hash { key, fields } => {
                pipe.cmd("HSET").arg(key).arg(fields).ignore();
            }
        }
    }
    let () = pipe.query_async(&mut conn).await.map_err(server_err)?;
    Ok((traces.len(), keys, first.unwrap_or_default()))
}

/// Runs the demo until the browser closes or a signal arrives.
pub async fn run(no_browser: bool, opts: BrowserOptions, read_only: bool) -> Result<(), Failure> {
    let mut server = DemoServer::start().await?;
    let url = server.url();
    let mut config = Config::from_url(&url)?;
    config.read_only = read_only;
    let (traces, keys, example) = seed(&url, &config.key_prefix).await?;

    let interactive = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    if interactive && !no_browser {
        let result = browser::run(config, opts).await;
        drop(server);
        return result.map_err(|e| Failure::new(exit::SERVER, format!("{e:#}")));
    }

    let me = std::env::args()
        .next()
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| "motia-state".into());
    let pid = server.child.id();
    println!(
        "Demo redis-server on {url} (pid {pid}), seeded with {traces} traces and {keys} state keys."
    );
    println!();
    println!("Try, in another terminal:");
    println!("  {me} --url {url}");
    println!("  {me} --url {url} traces --counts");
    println!("  {me} --url {url} keys {example}");
    println!("  {me} --url {url} get {example} order --pretty");
    println!("  {me} --url {url} items --filter 'status eq payment_failed'");
    println!("  {me} --url {url} export -o demo-state.json");
    println!(
        "  redis-cli -p {} --scan --pattern 'motia:state:*'",
        server.port
    );
    println!();
    println!("Press Ctrl-C to stop the server.");
    use std::io::Write;
    let _ = std::io::stdout().flush();

    let outcome = wait_for_stop(&mut server).await;
    drop(server);
    eprintln!("motia-state: demo server stopped");
    outcome
}

/// Returns on Ctrl-C, SIGTERM or SIGHUP; fails if the server dies under us.
async fn wait_for_stop(server: &mut DemoServer) -> Result<(), Failure> {
    let signal_err =
        |e: std::io::Error| Failure::new(exit::SERVER, format!("cannot listen for signals: {e}"));
    #[cfg(unix)]
    let (mut term, mut hup) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()).map_err(signal_err)?,
            signal(SignalKind::hangup()).map_err(signal_err)?,
        )
    };
    let mut check = tokio::time::interval(Duration::from_millis(500));
    loop {
        #[cfg(unix)]
        let stop = async {
            tokio::select! {
                r = tokio::signal::ctrl_c() => r,
                _ = term.recv() => Ok(()),
                _ = hup.recv() => Ok(()),
            }
        };
        #[cfg(not(unix))]
        let stop = tokio::signal::ctrl_c();
        tokio::select! {
            r = stop => return r.map_err(signal_err),
            _ = check.tick() => {
                if let Ok(Some(status)) = server.child.try_wait() {
                    return Err(Failure::new(
                        exit::SERVER,
                        format!("the demo redis-server exited ({status}): {}", server.log_tail()),
                    ));
                }
            }
        }
    }
}
