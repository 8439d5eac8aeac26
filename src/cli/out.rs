//! What every subcommand shares: exit statuses, failures, stdout, warnings and the connection.
//! It stands below the commands, so none of them imports the dispatcher.

use std::io::{IsTerminal, Write};
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use motia_state::{Config, Error, RedisStateAdapter, escape};

use crate::browser::format::noun;

/// Exit statuses of the subcommands.
pub mod exit {
    /// The trace or key does not exist.
    pub const NOT_FOUND: u8 = 1;
    /// Bad input (arguments, JSON, files, settings) or a write refused by `--read-only`.
    pub const BAD_INPUT: u8 = 2;
    /// Connection, authentication or server error.
    pub const SERVER: u8 = 3;
}

/// Why a subcommand failed: its exit status and the message for stderr.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn not_found(trace: &[u8], key: &[u8]) -> Self {
        Self::new(
            exit::NOT_FOUND,
            format!(
                "no key \"{}\" in trace \"{}\"",
                escape::name(key),
                escape::name(trace)
            ),
        )
    }

    pub(crate) fn no_trace(trace: &[u8]) -> Self {
        Self::new(
            exit::NOT_FOUND,
            format!("no trace \"{}\" (it has no keys)", escape::name(trace)),
        )
    }
}

/// The exit status that fits a library error.
pub fn exit_code(err: &Error) -> u8 {
    match err {
        Error::Config { .. }
        | Error::InvalidGroupId { .. }
        | Error::EmptyKey { .. }
        | Error::InvalidJson { .. }
        | Error::Convert { .. }
        | Error::InvalidDuration { .. }
        | Error::ReadOnly { .. }
        | Error::Io { .. }
        | Error::InvalidDocument(_)
        | Error::ConfigRefused { .. }
        | Error::NotificationsOff { .. }
        | Error::Unsupported { .. }
        // The key exists but is no state item: the request does not fit what is there.
        | Error::WrongType { .. } => exit::BAD_INPUT,
        Error::InvalidStoredJson { .. }
        | Error::Connect { .. }
        | Error::Auth { .. }
        | Error::NoAuth { .. }
        | Error::NoPerm { .. }
        | Error::ScanIncomplete { .. }
        | Error::Disconnected { .. }
        | Error::Timeout { .. }
        | Error::Redis { .. }
        | Error::Subscribe { .. } => exit::SERVER,
    }
}

impl From<Error> for Failure {
    fn from(err: Error) -> Self {
        let code = exit_code(&err);
        let message = match &err {
            Error::Connect { reason, .. }
                if reason.contains("certificate") || reason.contains("TLS") =>
            {
                format!("{err} (check --tls-ca-cert, --tls-cert/--tls-key or rediss:// in --url)")
            }
            Error::Connect { reason, .. } if reason.starts_with("not a Redis server") => {
                format!("{err} (check the host and port in --url or REDIS_URL)")
            }
            Error::Connect { .. } | Error::Timeout { .. } => {
                format!("{err} (is the server running? set --url or REDIS_URL)")
            }
            Error::Auth { .. } => {
                format!("{err} (check --username/--password or REDIS_USERNAME/REDIS_PASSWORD)")
            }
            Error::NoAuth { .. } => {
                format!("{err} (give --password or REDIS_PASSWORD, and --username for an ACL user)")
            }
            Error::ReadOnly { operation } => read_only_message(operation),
            Error::InvalidDocument(m) if m.contains("exist already") => {
                m.replace("(use overwrite", "(use --overwrite")
            }
            Error::WrongType { key, found } => {
                format!("{key} holds a Redis {found}, not a state value (a string)")
            }
            _ => err.to_string(),
        };
        Self { code, message }
    }
}

pub(crate) fn read_only_message(operation: &str) -> String {
    format!("refused: {operation} writes to Redis and --read-only is given; nothing was changed")
}

pub(crate) type Outcome = Result<(), Failure>;

/// Writes to stdout; a closed pipe (`| head`) ends the command quietly. On a terminal, text
/// from Redis is escaped so that it cannot drive the terminal.
pub(crate) struct Out {
    w: std::io::BufWriter<std::io::StdoutLock<'static>>,
    pub(crate) tty: bool,
}

impl Out {
    pub(crate) fn new() -> Self {
        Self {
            w: std::io::BufWriter::new(std::io::stdout().lock()),
            tty: std::io::stdout().is_terminal(),
        }
    }

    pub(crate) fn bytes(&mut self, b: &[u8]) -> Outcome {
        self.w.write_all(b).map_err(stdout_failure)
    }

    /// Text that may hold bytes from Redis (values, documents): escaped on a terminal.
    pub(crate) fn text(&mut self, b: &[u8]) -> Outcome {
        if self.tty {
            let shown = escape::text(b);
            self.bytes(shown.as_bytes())
        } else {
            self.bytes(b)
        }
    }

    /// A trace id or key, kept on one line (see the `keys` help); an empty name is `""`, so
    /// that it is not taken for an empty line.
    pub(crate) fn name(&mut self, b: &[u8]) -> Outcome {
        if b.is_empty() {
            self.bytes(b"\"\"")
        } else if self.tty {
            let shown = escape::name(b);
            self.bytes(shown.as_bytes())
        } else {
            let shown = escape::line(b);
            self.bytes(&shown)
        }
    }

    pub(crate) fn line(&mut self, s: &str) -> Outcome {
        self.text(s.as_bytes())?;
        self.bytes(b"\n")
    }

    pub(crate) fn done(mut self) -> Outcome {
        self.w.flush().map_err(stdout_failure)
    }
}

/// A name as JSON: `"field": "text"` when it is UTF-8, else `"fieldBase64": "..."`, so a script
/// gets the exact bytes.
pub(crate) fn json_name(
    map: &mut serde_json::Map<String, serde_json::Value>,
    field: &str,
    bytes: &[u8],
) {
    match std::str::from_utf8(bytes) {
        Ok(s) => map.insert(field.to_string(), s.into()),
        Err(_) => map.insert(format!("{field}Base64"), BASE64.encode(bytes).into()),
    };
}

fn stdout_failure(e: std::io::Error) -> Failure {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        // Exit 0 like other filters when the reader stops early.
        std::process::exit(0);
    }
    Failure::new(exit::SERVER, format!("cannot write to stdout: {e}"))
}

pub(crate) fn warn(message: &str) {
    eprintln!("motia-state: warning: {message}");
}

/// The one connection of a subcommand: opened once, before the layout is chosen, and reused
/// by the command; or why it could not be opened, reported only once the command has checked
/// its input (bad input is status 2 even with the server down).
pub(crate) struct Link {
    pub(crate) config: Config,
    opened: Result<RedisStateAdapter, Error>,
}

impl Link {
    /// Connects (and with `--verbose` says where to).
    pub(crate) async fn open(config: Config) -> Self {
        let opened = RedisStateAdapter::connect(config.clone()).await;
        if let (Ok(state), true) = (&opened, crate::cli::verbose()) {
            eprintln!("motia-state: {}", describe(state).await);
        }
        Self { config, opened }
    }

    /// A connection already open (handed on by a command that used it first).
    pub(crate) fn from_state(config: Config, state: RedisStateAdapter) -> Self {
        Self {
            config,
            opened: Ok(state),
        }
    }

    /// The connection when it is open.
    pub(crate) fn adapter(&self) -> Option<&RedisStateAdapter> {
        self.opened.as_ref().ok()
    }

    /// The connection, or the failure to open it.
    pub(crate) fn state(self) -> Result<RedisStateAdapter, Failure> {
        self.opened.map_err(Failure::from)
    }
}

/// One line on the connection for `--verbose`: where, which mode, the server's version and
/// size, or why they are unknown (a restricted ACL user may run neither INFO nor DBSIZE).
pub async fn describe(state: &RedisStateAdapter) -> String {
    let mode = match state.topology() {
        motia_state::Topology::Standalone => "standalone".to_string(),
        motia_state::Topology::Cluster { detected, seeds } => format!(
            "Redis Cluster ({}; seeds {})",
            if detected {
                "detected: the server says cluster_enabled:1"
            } else {
                "as asked"
            },
            seeds.join(",")
        ),
        motia_state::Topology::Sentinel { master, primary } => format!(
            "Redis Sentinel (primary {master} at {})",
            primary.as_deref().unwrap_or("unknown")
        ),
    };
    let unknown = |e: &Error| {
        if e.is_permission() {
            format!("unknown ({e})")
        } else {
            format!("unknown: {e}")
        }
    };
    let version = match state.server_version().await {
        Ok(v) => format!("Redis {v}"),
        Err(e) => format!("version {}", unknown(&e)),
    };
    let size = match state.dbsize().await {
        Ok(s) if s.is_complete() => format!("{} {}", s.keys, noun(s.keys, "key", "keys")),
        Ok(s) => format!(
            "{} {} on {} {} (no answer from {})",
            s.keys,
            noun(s.keys, "key", "keys"),
            s.nodes,
            noun(s.nodes as u64, "node", "nodes"),
            s.unreachable.join(", ")
        ),
        Err(e) => format!("key count {}", unknown(&e)),
    };
    format!(
        "connected to {} as {}: {mode}; {version}; {size}",
        state.config().display_url(),
        state.config().username.as_deref().unwrap_or("default"),
    )
}

fn json_string(out: &mut Vec<u8>, s: &str) {
    // Writing a str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// [`json_name`] written straight into a line: `"field":"text"` or `"fieldBase64":"..."`.
pub(crate) fn json_name_bytes(out: &mut Vec<u8>, field: &str, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(s) => {
            json_string(out, field);
            out.push(b':');
            json_string(out, s);
        }
        Err(_) => {
            json_string(out, &format!("{field}Base64"));
            out.push(b':');
            json_string(out, &BASE64.encode(bytes));
        }
    }
}

/// Writes an export document to `output` (a file; `None` or `-`: stdout), saying on a
/// terminal how many items went where.
pub fn write_document(output: Option<&Path>, text: &str, items: u64) -> Outcome {
    match output {
        Some(p) if p != Path::new("-") => {
            std::fs::write(p, text).map_err(|e| {
                Failure::new(
                    exit::BAD_INPUT,
                    format!("cannot write {}: {e}", p.display()),
                )
            })?;
            if std::io::stderr().is_terminal() {
                eprintln!(
                    "motia-state: exported {items} {} to {}",
                    noun(items, "item", "items"),
                    p.display()
                );
            }
            Ok(())
        }
        _ => {
            let mut out = Out::new();
            out.text(text.as_bytes())?;
            out.done()
        }
    }
}

/// Names one a line, sorted as given (`--json`: `{"key"}` lines, exact bytes): `keys` on both
/// layouts.
pub(crate) fn print_names<N: AsRef<[u8]>>(names: &[N], json: bool) -> Outcome {
    let mut out = Out::new();
    for k in names {
        if json {
            let mut map = serde_json::Map::new();
            json_name(&mut map, "key", k.as_ref());
            out.line(&serde_json::Value::Object(map).to_string())?;
        } else {
            out.name(k.as_ref())?;
            out.bytes(b"\n")?;
        }
    }
    out.done()
}

/// A stored value as `get` prints it: exactly as stored on one line, or indented with
/// `pretty`; a value that is not JSON as stored, with a warning naming `what`.
pub(crate) fn print_value(bytes: &[u8], pretty: bool, what: &str) -> Outcome {
    let mut out = Out::new();
    if !motia_state::json::is_json(bytes) {
        warn(&format!(
            "the value of {what} is not JSON; printed as stored{}",
            if out.tty {
                ", control characters and bytes that are not UTF-8 escaped"
            } else {
                ""
            }
        ));
    } else if pretty {
        out.line(&motia_state::json::pretty(bytes).unwrap_or_default())?;
        return out.done();
    }
    out.text(bytes)?;
    out.bytes(b"\n")?;
    out.done()
}

/// One line on stdout: a count, a TTL, a message.
pub(crate) fn print_line(s: &str) -> Outcome {
    let mut out = Out::new();
    out.line(s)?;
    out.done()
}

/// A value as stored on one line (the old value `del` removed).
pub(crate) fn print_stored(bytes: &[u8]) -> Outcome {
    let mut out = Out::new();
    out.text(bytes)?;
    out.bytes(b"\n")?;
    out.done()
}

/// `set --if-value`/`--if-absent` found something else: what is there now goes to stdout
/// (nothing when it is gone), and the refusal is status 2.
pub(crate) fn set_conflict(now: Option<&[u8]>, what: &str) -> Outcome {
    if let Some(now) = now {
        print_stored(now)?;
    }
    Err(Failure::new(
        exit::BAD_INPUT,
        format!(
            "refused: {what} {}; nothing was written",
            if now.is_some() {
                "holds another value (printed on stdout)"
            } else {
                "does not exist"
            }
        ),
    ))
}

/// One `items` line, `{"groupId","key","type","value"}`, the value written through as stored.
pub(crate) fn item_line(line: &mut Vec<u8>, group: &[u8], key: &[u8], kind: &str, json: &str) {
    line.clear();
    line.push(b'{');
    json_name_bytes(line, "groupId", group);
    line.push(b',');
    json_name_bytes(line, "key", key);
    line.extend_from_slice(b",\"type\":\"");
    line.extend_from_slice(kind.as_bytes());
    line.extend_from_slice(b"\",\"value\":");
    line.extend_from_slice(json.as_bytes());
    line.extend_from_slice(b"}\n");
}
