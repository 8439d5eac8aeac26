//! Command-line definitions: global connection options (each falling back to the environment)
//! and the subcommands.

pub mod commands;
pub mod demo;
pub mod gc;
pub mod generate;
mod global_args;
mod iii;
mod iii_export;
mod iii_stats;
mod iii_watch;
pub mod input;
pub mod journal;
mod leftovers;
pub mod out;
pub mod progress;
pub mod restore;
#[cfg(test)]
mod screenshots;
mod seed;
mod simulate;
pub mod stats;
pub mod traces;
pub mod watch;
mod watch_args;

pub use global_args::GlobalArgs;

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

const LONG_ABOUT: &str = "\
Browse and script Motia state in Redis.

Motia keeps each trace's state as JSON strings under {prefix}{traceId}:{key}. Without a
subcommand motia-state opens a terminal browser on it; the subcommands read and write it
from scripts.";

const AFTER_LONG_HELP: &str = "\
Connection settings come from the flags, then REDIS_URL, REDIS_HOST, REDIS_PORT,
REDIS_USERNAME, REDIS_PASSWORD, REDIS_DATABASE, STATE_KEY_PREFIX, STATE_TTL, then Motia's
MOTIA_REDIS_HOST, MOTIA_REDIS_PORT, MOTIA_REDIS_USERNAME, MOTIA_REDIS_PASSWORD, MOTIA_REDIS_DB,
then the defaults (localhost:6379, database 0, prefix motia:state:). TLS: rediss:// URLs, or
--tls and the REDIS_TLS_CA_CERT, REDIS_TLS_CERT, REDIS_TLS_KEY variables.

Exit status: 0 ok, 1 not found, 2 bad input (including writes refused by --read-only),
3 connection, authentication or server error.

Examples:
  motia-state demo                              seeded private server, opens the browser
  motia-state --url redis://localhost:6379      browse
  motia-state traces --counts                   trace ids and their number of keys
  motia-state get TRACE order --pretty
  echo '{\"status\":\"paid\"}' | motia-state set TRACE payment --ttl 3600
  motia-state items --filter 'status eq paid'
  motia-state expire TRACE 2h                   every key of TRACE expires in 2 hours
  motia-state export -o state.json && motia-state --db 1 import state.json
  motia-state watch --trace TRACE --values      JSON lines as the app writes";

const NAMES_HELP: &str = "\
Names are printed so that each stays on one line: on a terminal, control characters, bytes \
that are not UTF-8 and backslashes are escaped (\\n, \\x1b, \\xff, \\\\); into a pipe or file the \
exact bytes are written except line breaks and tabs (\\n, \\r, \\t). An empty key (which \
Motia never writes but another client may) is printed \"\". --json prints every name \
exactly: a JSON string when it is UTF-8, else base64 in a field of its own (\"traceIdBase64\", \
\"keyBase64\"). Arguments are taken as bytes, so a script can pass any name back \
(bash: $'k\\xffx').";

/// Browse and script Motia state in Redis.
#[derive(Debug, Parser)]
#[command(
    name = "motia-state",
    version,
    about,
    long_about = LONG_ABOUT,
    after_long_help = AFTER_LONG_HELP,
    after_help = "Exit status: 0 ok, 1 not found, 2 bad input or refused by --read-only, 3 connection or server error.\nMore with --help."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(flatten)]
    pub browser: BrowserArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// How the browser runs (without a subcommand, and in `demo`).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Browser")]
pub struct BrowserArgs {
    /// Refresh the visible value and TTLs every SECS seconds; 0 turns it off
    #[arg(long, value_name = "SECS", default_value_t = 2)]
    pub refresh: u64,
    /// Rescan the keyspace every SECS seconds [default: off, rescan with r]
    #[arg(long, value_name = "SECS")]
    pub rescan: Option<u64>,
    /// Keymap/config file [default: config.toml in the platform's config directory]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Leave the mouse to the terminal (to select text); as mouse = false in [browser]
    #[arg(long)]
    pub no_mouse: bool,
}

impl BrowserArgs {
    /// The options the browser takes.
    pub fn options(&self) -> crate::browser::BrowserOptions {
        let secs = |s: u64| (s > 0).then(|| Duration::from_secs(s));
        crate::browser::BrowserOptions {
            refresh: secs(self.refresh),
            rescan: self.rescan.and_then(secs),
            config_file: self.config.clone(),
            mouse: !self.no_mouse,
            ..crate::browser::BrowserOptions::default()
        }
    }
}

// clap prints these doc comments as the --help text: they are written for a terminal
// (`[user]`, `<TAB>` as a user reads them), not as rustdoc markup.
#[allow(rustdoc::broken_intra_doc_links, rustdoc::invalid_html_tags)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List trace ids (scopes on the iii layout), one a line, sorted
    #[command(
        visible_alias = "scopes",
        after_help = "With --json, one line per trace with state: \
{\"traceId\",\"keys\",\"flow\",\"status\",\"startTime\",\"steps\"} from Motia's trace records \
(the last four null when the trace has none). The status is derived as Motia does: failed if \
any step failed, else running if any step runs, else completed. Records that cannot be read \
are named on stderr."
    )]
    Traces {
        /// Print TRACE<TAB>NUMBER_OF_KEYS
        #[arg(long, conflicts_with_all = ["json", "all", "status"])]
        counts: bool,
        /// One JSON line per trace, with its flow, status, start time and steps
        #[arg(long)]
        json: bool,
        /// Also list traces that have trace records but no state ("keys":0)
        #[arg(long)]
        all: bool,
        /// Only traces with this status: failed, running, completed, unknown or all (or any)
        #[arg(long, value_name = "STATUS")]
        status: Option<String>,
    },
    /// Print a trace's timeline from Motia's trace records (status 1 when it has none)
    #[command(
        after_help = "On a terminal, a table: one row per step in start order, retried \
attempts of a step on one row, the first line of a failed step's error, and whether the event \
went to the dead-letter queue. With --json, one line per step execution in start order: \
{\"id\",\"name\",\"type\",\"status\",\"startTime\",\"endTime\",\"error\",\"events\"}, \
the events as stored."
    )]
    Trace {
        /// Trace id (any bytes)
        trace: OsString,
        /// One JSON line per step execution
        #[arg(long)]
        json: bool,
    },
    /// Print what Motia's trace records say happened to a key, oldest first
    #[command(
        after_help = "One line per set, delete or clear (and get with --reads). With --json: \
{\"timestamp\",\"step\",\"operation\",\"value\"}, value only for set (the whole value written). \
A group without step records of its own (such as orders, written by steps of other flows) is \
searched for in the records of every flow (the newest 5000; progress on stderr): each line then \
names its flow (\"traceId\" in JSON). Times are local with their UTC offset. Motia keeps trace \
records 3 days; writes made outside traced steps do not appear. Status 1 when no record touches \
the key."
    )]
    History {
        /// Trace (group) id (any bytes)
        trace: OsString,
        /// Key inside the trace (any bytes)
        key: OsString,
        /// One JSON line per operation
        #[arg(long)]
        json: bool,
        /// Include reads (get, getGroup)
        #[arg(long)]
        reads: bool,
        /// Write back the value the set at TIMESTAMP wrote (as printed, or epoch milliseconds);
        /// a dry run showing the diff without --yes
        #[arg(long, value_name = "TIMESTAMP", conflicts_with_all = ["json", "reads"])]
        restore: Option<String>,
        /// Apply --restore
        #[arg(long, requires = "restore")]
        yes: bool,
    },
    /// List the keys of a trace, one a line, sorted (status 1 when it has none)
    #[command(after_help = NAMES_HELP)]
    Keys {
        /// Trace id
        trace: OsString,
        /// Print JSON lines {"key"}, exact bytes
        #[arg(long)]
        json: bool,
    },
    /// Print a value exactly as stored, on one line
    #[command(
        after_help = "A missing key exits with status 1. A stored value that is not JSON \
is printed as stored, with a warning on stderr (also with --pretty)."
    )]
    Get {
        /// Trace id
        trace: OsString,
        /// Key inside the trace
        key: OsString,
        /// Indent the JSON
        #[arg(long)]
        pretty: bool,
    },
    /// Store a JSON value (compact, as Motia does)
    #[command(
        after_help = "JSON comes from the argument, or from stdin when it is absent or -. \
Invalid JSON exits with status 2, naming line and column, and writes nothing.
The JSON is stored as written, only whitespace between tokens removed (1.5e10 stays 1.5e10).
--ttl DURATION (90, 90s, 10m, 2h, 1d; or STATE_TTL in seconds) makes this write expire; \
without it the key gets no expiry, as a plain SET does.
--if-value and --if-absent make it a compare-and-set for scripts that read, then write: the \
check and the write are one step in Redis. A key that holds something else is printed on \
stdout (nothing when it is gone) and the command exits with status 2, writing nothing. With \
--if-value the key keeps its TTL.

Example:
  old=$(motia-state get TRACE order) && motia-state set TRACE order '{\"paid\":true}' --if-value \"$old\""
    )]
    Set {
        /// Trace id
        trace: OsString,
        /// Key inside the trace
        key: OsString,
        /// The value as JSON text, or - for stdin (values beginning with - such as -7 are values)
        #[arg(allow_hyphen_values = true)]
        json: Option<String>,
        /// Write only if the key still holds this JSON (as get prints it; whitespace between
        /// tokens aside); else print what it holds, change nothing, exit 2
        #[arg(long, value_name = "JSON", allow_hyphen_values = true)]
        if_value: Option<String>,
        /// Write only if the key does not exist; else print what it holds, exit 2
        #[arg(long, conflicts_with = "if_value")]
        if_absent: bool,
    },
    /// Delete a key and print its old value
    #[command(
        after_help = "A key of another Redis type (hash, list, ...) is deleted too, as `clear` \
and the browser do; its type is named on stderr instead of printing a value."
    )]
    Del {
        /// Trace id
        trace: OsString,
        /// Key inside the trace
        key: OsString,
    },
    /// Delete every key of a trace (of any Redis type) and print how many were removed
    #[command(after_help = "A trace without keys exits with status 1.")]
    Clear {
        /// Trace id
        trace: OsString,
    },
    /// Print a key's remaining lifetime in seconds, -1 when it has no expiry
    Ttl {
        /// Trace id
        trace: OsString,
        /// Key inside the trace
        key: OsString,
    },
    /// Set or remove the expiry of a key, or of every key of a trace
    #[command(
        override_usage = "motia-state expire [OPTIONS] <TRACE> [KEY] <DURATION>",
        after_help = "DURATION is 90 (seconds), 90s, 10m, 2h, 1d (or combinations like 1h30m; the \
units are ms, s, m, h, d, w, y), or persist to remove the expiry. Prints how many keys changed. A missing key, or a trace \
without keys, exits with status 1.

Examples:
  motia-state expire TRACE order 10m
  motia-state expire TRACE persist"
    )]
    Expire {
        /// Trace id
        trace: OsString,
        /// KEY, or DURATION for every key of the trace
        // Hyphen values are taken, so that `-5` gets the duration's own error; two single
        // positionals (not one of 1..=2 values) so that flags after them still parse as flags.
        #[arg(value_name = "KEY|DURATION", allow_hyphen_values = true)]
        first: OsString,
        /// DURATION, when KEY is given
        #[arg(value_name = "DURATION", allow_hyphen_values = true)]
        duration: Option<OsString>,
    },
    /// Print items as JSON lines {"groupId","key","type","value"}
    #[command(
        after_help = "FILTER is FIELD OP VALUE with Motia's operators: eq neq gt gte lt lte \
contains notContains startsWith endsWith isNull isNotNull (no VALUE for the last two). All filters \
must match. Values that are not JSON are skipped and named on stderr.

Example:
  motia-state items --trace TRACE --filter 'status eq paid' --filter 'total gt 100'"
    )]
    Items {
        /// Only this trace (exact bytes)
        #[arg(long, value_name = "TRACE")]
        trace: Option<OsString>,
        /// A condition FIELD OP VALUE, OP one of eq neq gt gte lt lte contains notContains
        /// startsWith endsWith isNull isNotNull; repeat for more
        #[arg(long = "filter", value_name = "FILTER")]
        filters: Vec<String>,
    },
    /// Write every key under the prefix with its TTL as one JSON document
    #[command(
        after_help = "Stored JSON is written through as it is (\"value\"); other text goes in \
\"raw\", bytes that are not UTF-8 in \"rawBase64\", names that are not UTF-8 in \"groupIdBase64\" / \
\"keyBase64\". Keys of other Redis types (hash, list, set, zset, stream) are named on stderr \
and carried with their type and DUMP serialization, which import restores exactly (on a \
server of the same or a newer version)."
    )]
    Export {
        /// Only this trace
        #[arg(long, value_name = "TRACE")]
        trace: Option<OsString>,
        /// Write to FILE instead of stdout
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Write the items of an export document
    #[command(
        after_help = "Refuses, writing nothing, when any of the keys exists already, \
unless --overwrite is given. Writes under this connection's prefix; a document exported under \
another prefix is named on stderr before anything is written. Prints how many items it wrote."
    )]
    Import {
        /// The export document, or - for stdin [default: stdin]
        file: Option<PathBuf>,
        /// Replace keys that exist already
        #[arg(long)]
        overwrite: bool,
    },
    /// Memory and TTL figures of the state: sizes, ages, expiries, the biggest traces and keys
    #[command(
        after_help = "Reads every state key once (MEMORY USAGE, PTTL and, unless the eviction \
policy is LFU, OBJECT IDLETIME; none of them changes a key's access time). A trace's age is \
its records' last activity, else the smallest idle time of its keys. Figures the server or \
your rights do not give are shown as ? (null with --json). Progress goes to stderr on a terminal."
    )]
    Stats {
        /// One JSON document instead of the table
        #[arg(long)]
        json: bool,
    },
    /// Expire or delete the state of traces that outlived their flow (a dry run without --yes)
    #[command(
        after_help = "Selection: --older-than DURATION takes flows whose records' last activity \
is older (completed or failed ones; --status completed|failed narrows, --status any (or all) \
adds running ones); \
--no-records takes traces without records instead (gone after Motia's 3 days, or never \
written), aged by the smallest idle time of their keys; --no-ttl keeps only keys without an \
expiry. Action: --expire DURATION (a key that expires sooner keeps its TTL) or --delete.

Without --yes it prints, per trace, what it would do and a total, and changes nothing. With \
--yes it applies in batches; each key is checked right before the write and skipped if it \
changed after it was selected. Running it again finishes an interrupted run.

Examples:
  motia-state gc --older-than 1d --delete                  completed/failed flows idle a day
  motia-state gc --no-records --older-than 7d --expire 1d  orphaned state, 1 more day to live
  motia-state gc --no-records --older-than 7d --delete --yes"
    )]
    Gc {
        /// Only traces older than DURATION (7d, 12h, ...)
        #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
        older_than: Option<String>,
        /// completed, failed or any (running flows are only touched with any)
        #[arg(long, value_name = "STATUS")]
        status: Option<String>,
        /// Traces whose records are gone or never existed (aged by idle time)
        #[arg(long)]
        no_records: bool,
        /// Only keys without an expiry
        #[arg(long)]
        no_ttl: bool,
        /// Give the keys this TTL
        #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
        expire: Option<String>,
        /// Delete the keys
        #[arg(long)]
        delete: bool,
        /// Apply (without it, a dry run)
        #[arg(long)]
        yes: bool,
    },
    /// Print one JSON line per change of state as it happens, until interrupted
    #[command(
        after_help = "Each line is {\"time\",\"traceId\",\"key\",\"event\"}: time is when the \
change was received (UTC), event the Redis command class: set, del (also UNLINK), expired, \
evicted, expire, persist, rename_from, rename_to, ... With --values each line also has \"value\": \
the JSON read right after the event arrived, so it can be newer than the event (a later write \
may already have happened); null when the key no longer exists; \"raw\" instead for a value that \
is not JSON. A line {\"event\":\"lost\",\"reason\":...} (traceId and key null) says changes were \
missed: after a lost connection (watch reconnects) or when the output is read too slowly.

Needs keyspace notifications on the server: notify-keyspace-events with K, $, g and x (or K \
and A). Without them watch exits with status 2 and says how to enable them. \
--enable-notifications adds the missing flags (K$gxeh: keyspace channel, strings, generic \
commands, expired, evicted, hashes) to what is set, for this run: the previous setting is \
restored at exit, also on Ctrl-C, SIGTERM and SIGHUP. Refused with --read-only. A server that \
refuses CONFIG (ACL, managed Redis) exits with status 2, saying how to enable them there.

Runs until interrupted (exit status 0).

Examples:
  motia-state watch --trace TRACE
  motia-state watch --key order --values | jq -c .value"
    )]
    Watch {
        /// Only this trace (exact bytes)
        #[arg(long, value_name = "TRACE")]
        trace: Option<OsString>,
        /// Only keys with this name (in every trace, or in --trace; exact bytes)
        #[arg(long, value_name = "KEY")]
        key: Option<OsString>,
        /// Add each key's value, read right after the event (it can be newer than the event);
        /// a key of another Redis type gets "redisType" instead
        #[arg(long)]
        values: bool,
        /// Add the missing notification flags for this run, restored at exit
        #[arg(long)]
        enable_notifications: bool,
    },
    /// List the write journal: the previous values of the keys each write changed
    #[command(
        after_help = "Before every write (set, del, clear, expire, import, gc --yes, undo, \
history --restore and the browser's), the keys' previous values are appended to a journal \
in the user's data directory (MOTIA_STATE_JOURNAL names another directory), readable only by \
the user, without passwords, capped at MOTIA_STATE_JOURNAL_MAX bytes (default 64 MiB; the \
oldest entries are dropped). One line per write: ID, time (UTC), server, operation, keys. \
With --json: {\"id\",\"time\",\"server\",\"db\",\"prefix\",\"operation\",\"undoes\",\"keys\"}."
    )]
    Journal {
        /// One JSON line per entry
        #[arg(long)]
        json: bool,
        /// Only the newest N entries
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
    },
    /// Undo a journalled write (a dry run without --yes)
    #[command(
        after_help = "Without ID, the newest write to this server that is not an undo and was \
not undone. Each key gets back its value and its TTL at the write (a deleted key is recreated, \
a created one deleted), but only while it still holds what the write left: a key changed since \
is listed and left as it is, and the rest is restored. The undo is journalled too, so it can be \
undone. Refused with --read-only."
    )]
    Undo {
        /// The journal entry (motia-state journal lists them)
        id: Option<u64>,
        /// Apply (without it, a dry run)
        #[arg(long)]
        yes: bool,
    },
    /// Start a private redis-server with a simulated Motia app writing to it
    #[command(
        after_help = "Needs redis-server on PATH. The server runs on a free port of \
127.0.0.1 without persistence, in a temporary directory, and is stopped when the browser \
closes or on Ctrl-C. It starts with 40 recorded order flows and a catalog sync (state and \
Motia's trace records: completed, failed after retries, still running, an old record shape), \
then a simulated app starts a new flow every few seconds, writing state step by step and its \
trace records as Motia does. Without a terminal (or with --no-browser) it prints the URL and \
example commands and simulates until Ctrl-C; --static writes the fixed set only."
    )]
    Demo {
        /// Print the URL and wait instead of opening the browser
        #[arg(long)]
        no_browser: bool,
        /// Write the fixed set (same ids and times every run) and nothing after it
        #[arg(long = "static")]
        fixed: bool,
        #[command(flatten)]
        browser: BrowserArgs,
    },
    /// Print a shell completion script
    #[command(after_help = "Examples:
  motia-state completions bash > ~/.local/share/bash-completion/completions/motia-state
  motia-state completions zsh > \"${fpath[1]}/_motia-state\"
  motia-state completions fish > ~/.config/fish/completions/motia-state.fish")]
    Completions {
        /// bash, zsh, fish, elvish or powershell
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff, every subcommand on one page)
    #[command(after_help = "Examples:
  motia-state man | man -l -
  motia-state man > ~/.local/share/man/man1/motia-state.1")]
    Man,
}

static VERBOSE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Turns `--verbose` reports on.
pub fn set_verbose(on: bool) {
    VERBOSE.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// True with `--verbose`.
pub fn verbose() -> bool {
    VERBOSE.load(std::sync::atomic::Ordering::Relaxed)
}

/// Where the browser's keymap file lives unless `--config` says otherwise.
#[allow(dead_code)] // for the browser, which resolves its default config file
pub fn default_config_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("dev", "motia", "motia-state")
        .map(|d| d.config_dir().to_path_buf())
}

#[cfg(test)]
mod profile_tests;
