//! `motia-state demo`: a private, seeded redis-server that lives exactly as long as we do.

use std::io::{IsTerminal, Read};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use motia_state::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::browser::{self, BrowserOptions};
use crate::cli::out::{Failure, exit};
use crate::cli::seed::{self, Outcome};
use crate::cli::simulate::{self, Prefixes, Rng, Timed};

/// A redis-server child process, killed and reaped on drop, whatever way we leave.
pub(super) struct DemoServer {
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
    pub(super) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts redis-server on a free port; a few tries, as another process may take the port
    /// between our probe and the server's bind.
    pub(super) async fn start() -> Result<Self, Failure> {
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
        // Our own server: keyspace notifications on, so the browser shows live mode.
        .args(["--notify-keyspace-events", "K$gxeh"])
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

/// How long before "now" the fixed set starts: its flows end in the recent past.
pub(super) const SINCE_BASE_MS: i64 = 41_400_000;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn server_err(e: redis::RedisError) -> Failure {
    Failure::new(exit::SERVER, format!("writing the demo data failed: {e}"))
}

/// Writes the fixed set: recorded flows ending `base_ms` + about 11 hours.
pub(super) async fn seed(
    conn: &mut redis::aio::MultiplexedConnection,
    prefixes: &Prefixes,
    base_ms: i64,
) -> Result<seed::Seeded, Failure> {
    let seeded = seed::fixed(prefixes, base_ms).map_err(|e| Failure::new(exit::SERVER, e))?;
    simulate::apply(conn, &seeded.writes)
        .await
        .map_err(server_err)?;
    Ok(seeded)
}

/// The running app: a new order flow every few seconds, each written as its steps happen.
/// Ends quietly when the server goes away.
async fn simulate_app(mut conn: redis::aio::MultiplexedConnection, prefixes: Prefixes) {
    let Ok(cat) = seed::catalog() else { return };
    let mut rng = Rng(now_ms() as u64 | 1);
    let mut dlq_n = 100;
    let mut pending: Vec<Timed> = Vec::new();
    let mut next_flow = now_ms() + 1_500;
    let mut i = seed::ORDER_TRACES;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tick.tick().await;
        let now = now_ms();
        if now >= next_flow {
            let outcome = match rng.below(20) {
                0..=8 => Outcome::Delivered,
                9..=11 => Outcome::Shipped,
                12..=14 => Outcome::PaymentFailed,
                15..=16 => Outcome::PendingPayment,
                _ => Outcome::Cancelled,
            };
            let (_, writes) =
                seed::order_flow(&cat, &prefixes, &mut rng, &mut dlq_n, i, outcome, now, true);
            pending.extend(writes);
            pending.sort_by_key(|t| t.at);
            i += 1;
            next_flow = now + 3_000 + rng.below(3_000) as i64;
        }
        let due = pending.partition_point(|t| t.at <= now);
        if due == 0 {
            continue;
        }
        let batch: Vec<Timed> = pending.drain(..due).collect();
        if simulate::apply(&mut conn, &batch).await.is_err() {
            return;
        }
    }
}

/// Runs the demo until the browser closes or a signal arrives.
pub async fn run(
    no_browser: bool,
    fixed: bool,
    opts: BrowserOptions,
    read_only: bool,
) -> Result<(), Failure> {
    let mut server = DemoServer::start().await?;
    let url = server.url();
    let mut config = Config::from_url(&url)?;
    config.read_only = read_only;
    let prefixes = Prefixes {
        state: config.key_prefix.clone(),
        trace: config.trace_prefix.clone(),
    };
    let client = redis::Client::open(url.as_str()).map_err(server_err)?;
    let mut conn = client
        // The demo's own private server: seeding may wait on a busy machine, never time out.
        .get_multiplexed_async_connection_with_config(
            &redis::AsyncConnectionConfig::new().set_response_timeout(None),
        )
        .await
        .map_err(server_err)?;
    // The fixed set's times are fixed; otherwise it is the recent past of the running app.
    let base = if fixed {
        seed::FIXED_BASE_MS
    } else {
        now_ms() - SINCE_BASE_MS
    };
    let seeded = seed(&mut conn, &prefixes, base).await?;
    if !fixed {
        // What a long-running app leaves behind, for the stats view and gc.
        crate::cli::leftovers::write(&mut conn, &prefixes.state)
            .await
            .map_err(server_err)?;
    }
    let app = (!fixed).then(|| tokio::spawn(simulate_app(conn, prefixes)));
    let stop_app = |app: Option<tokio::task::JoinHandle<()>>| {
        if let Some(h) = app {
            h.abort();
        }
    };

    let interactive = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    if interactive && !no_browser {
        let mut opts = opts;
        // Two saved connections to the demo server, so `c` has something to switch between.
        if opts.profiles.profiles.is_empty() {
            opts.profiles = crate::profiles::Profiles::demo(&url);
            opts.profile = Some(if read_only { "demo-read-only" } else { "demo" }.into());
        }
        if fixed {
            // The fixed set as of its own "now", as the README's screenshots show it.
            opts.wall_from = chrono::DateTime::from_timestamp_millis(base + SINCE_BASE_MS)
                .map(|t| t.with_timezone(&chrono::Local).fixed_offset());
        }
        if !fixed && opts.rescan.is_none() {
            // The simulated app keeps writing: new flows show without pressing r.
            opts.rescan = Some(Duration::from_secs(5));
        }
        let result = browser::run(config, opts).await;
        stop_app(app);
        drop(server);
        return result.map_err(|e| Failure::new(exit::SERVER, format!("{e:#}")));
    }

    let me = std::env::args()
        .next()
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| "motia-state".into());
    let pid = server.child.id();
    let example = &seeded.example;
    let failed = &seeded.failed_example;
    println!(
        "Demo redis-server on {url} (pid {pid}), seeded with {} recorded flows{}.",
        seeded.traces,
        if fixed {
            ""
        } else {
            "; a simulated app starts a new flow every few seconds"
        }
    );
    println!();
    println!("Try, in another terminal:");
    println!("  {me} --url {url}");
    println!("  {me} --url {url} traces --json --all");
    println!("  {me} --url {url} trace {failed}");
    println!("  {me} --url {url} history {example} order");
    println!("  {me} --url {url} get {example} order --pretty");
    println!("  {me} --url {url} items --filter 'status eq payment_failed'");
    println!("  {me} --url {url} export -o demo-state.json");
    println!("  {me} --url {url} stats");
    println!("  {me} --url {url} gc --no-records --older-than 7d --delete");
    println!(
        "  {me} --url {url} watch --values          (then write with set in another terminal)"
    );
    println!(
        "  redis-cli -p {} --scan --pattern 'motia:state:*'",
        server.port
    );
    println!();
    println!("Press Ctrl-C to stop the server.");
    use std::io::Write;
    let _ = std::io::stdout().flush();

    let outcome = wait_for_stop(&mut server).await;
    stop_app(app);
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
