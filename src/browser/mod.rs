//! The terminal state browser: Traces, Keys and Value panes over one prefix scan.
//!
//! Shape (see "How it works" in docs/browser.md): terminal and worker events become
//! [`action::Action`]s, the pure [`update::update`] changes the [`model::Model`] and returns
//! effects, the [`worker`] owns the Redis connection and is the only code that awaits Redis,
//! and [`ui`] draws the model. A concern has a file of the same name in `model/`, `update/`
//! and `ui/` (plus its job in `worker/` if it reads Redis).

pub mod action;
pub mod app;
pub mod clipboard;
pub mod config;
pub mod doc;
pub mod external_editor;
pub mod format;
pub mod keymap;
pub mod model;
pub mod owed;
pub mod pane;
mod signals;
pub mod stream_name;
#[cfg(test)]
pub mod svg;
pub mod terminal;
pub mod text;
pub mod theme;
pub mod ui;
pub mod update;
pub mod worker;

#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::profiles::Profiles;

use crate::browser::app::WorkerLink;
use crate::browser::keymap::Keymap;
use crate::browser::model::clock::ShiftedClock;
use crate::browser::model::{Clock, Model, Settings, SystemClock};

/// Scan batches waiting for the UI; a slow UI slows the scan instead of filling memory.
pub const EVENT_QUEUE: usize = 8;

/// How long quitting waits for the worker to finish (a write, restoring notifications).
const SHUTDOWN_WAIT: Duration = Duration::from_secs(3);

/// How the browser was asked to run.
#[derive(Debug, Clone)]
pub struct BrowserOptions {
    /// Refresh interval of the visible value and TTLs (`None`: off). Default 2 s.
    pub refresh: Option<Duration>,
    /// Automatic rescan interval (`None`: only on `r`).
    pub rescan: Option<Duration>,
    /// Keymap/config file overriding the platform's config directory.
    pub config_file: Option<PathBuf>,
    /// The saved connection in use (`--profile`), shown in the status bar.
    pub profile: Option<String>,
    /// The saved connections the picker (`c`) offers.
    pub profiles: Profiles,
    /// Take the mouse (wheel, clicks); `--no-mouse` or `mouse = false` in `[browser]` leave
    /// it to the terminal, for selecting text.
    pub mouse: bool,
    /// Start the wall clock at this moment instead of now (`demo --static`).
    pub wall_from: Option<chrono::DateTime<chrono::FixedOffset>>,
}

impl Default for BrowserOptions {
    fn default() -> Self {
        Self {
            refresh: Some(Duration::from_secs(2)),
            rescan: None,
            config_file: None,
            profile: None,
            profiles: Profiles::default(),
            mouse: true,
            wall_from: None,
        }
    }
}

/// The model for a connection, before anything is drawn.
pub fn initial_model(
    config: &motia_state::Config,
    opts: &BrowserOptions,
    keymap: Keymap,
    clock: Arc<dyn model::Clock>,
) -> Model {
    let settings = Settings {
        url: config.display_url(),
        // Escaped as every name in the model is (see worker::raw_key).
        prefix: motia_state::escape::name_str(&config.key_prefix).into_owned(),
        read_only: config.read_only,
        layout: String::new(),
        iii: config.layout == Some(motia_state::Layout::Iii),
        profile: opts.profile.clone(),
        refresh: opts.refresh.filter(|d| !d.is_zero()),
        rescan: opts.rescan.filter(|d| !d.is_zero()),
    };
    let mut m = Model::new(settings, keymap, clock);
    m.connections = opts.profiles.entries();
    m
}

/// Starts the worker on the current runtime.
#[allow(dead_code)] // the benchmark and the tests start a worker without saved connections
pub fn spawn_worker(config: motia_state::Config) -> (WorkerLink, tokio::task::JoinHandle<()>) {
    spawn_worker_with(config, Profiles::default())
}

/// Starts the worker, able to switch to the saved connections of `profiles`.
pub fn spawn_worker_with(
    config: motia_state::Config,
    profiles: Profiles,
) -> (WorkerLink, tokio::task::JoinHandle<()>) {
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let (ev_tx, ev_rx) = mpsc::channel(EVENT_QUEUE);
    let handle = tokio::spawn(worker::run(config, profiles, cmd_rx, ev_tx));
    (
        WorkerLink {
            cmds: cmd_tx,
            events: ev_rx,
        },
        handle,
    )
}

/// Runs the browser until the user quits.
pub async fn run(config: motia_state::Config, opts: BrowserOptions) -> anyhow::Result<()> {
    // Everything that can fail on bad input fails here, before the screen is taken over.
    let (keymap, config_path) = Keymap::load(opts.config_file.as_deref())?;
    let mouse = opts.mouse && config::load(config_path.as_deref())?.mouse != Some(false);
    let log = init_logging();
    app::tune_allocator();
    tracing::info!(url = %config.display_url(), log = ?log, "browser starting");
    let (config, layout) = worker::iii::choose_layout(config).await;
    let clock: Arc<dyn Clock> = match opts.wall_from {
        Some(wall0) => Arc::new(ShiftedClock::new(wall0)),
        None => Arc::new(SystemClock),
    };
    let mut model = initial_model(&config, &opts, keymap, clock);
    if let Some((_, note)) = layout.split_once("; ") {
        // Both layouts on the server: the one not shown is named, never skipped in silence.
        update::notifications::note(&mut model, note.to_string(), false);
    }
    model.settings.layout = layout;
    let mut signals = signals::Signals::listen()
        .map_err(|e| anyhow::anyhow!("cannot listen for signals: {e}"))?;
    let (mut terminal, guard) = terminal::TerminalGuard::enter(mouse)
        .map_err(|e| anyhow::anyhow!("cannot take over the terminal: {e}"))?;
    let (mut link, worker) = spawn_worker_with(config, opts.profiles.clone());
    let (mut input, mut host) = app::forward_terminal_input();
    let result = tokio::select! {
        r = app::event_loop_with(
            &mut terminal,
            &mut model,
            &mut input,
            &mut link,
            &mut host,
            |_, _| {},
        ) => r,
        // Ends the browser as quitting does (below): settings restored, terminal given back.
        name = signals.recv() => {
            tracing::info!(signal = name, "stopping on a signal");
            Ok(())
        }
    };
    let _ = link.cmds.send(action::WorkerCmd::Shutdown);
    // The worker finishes a write in flight and restores what `:live on` changed; the UI no
    // longer reads its events, so they must not hold it up.
    drop(link.events);
    if tokio::time::timeout(SHUTDOWN_WAIT, worker).await.is_err() {
        tracing::warn!("the worker did not stop in time");
    }
    drop(terminal);
    drop(guard);
    if let Err(e) = &result {
        tracing::error!(error = %e, "browser stopped");
    }
    result
}

/// Logs go to `motia-state.log` in the platform's state (or cache) directory, never to the
/// screen. `MOTIA_STATE_LOG` sets the filter (default `info`). Returns the file, if any.
fn init_logging() -> Option<PathBuf> {
    let dirs = directories::ProjectDirs::from("dev", "motia", "motia-state")?;
    let dir = dirs.state_dir().unwrap_or(dirs.cache_dir()).to_path_buf();
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join("motia-state.log");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .ok()?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("MOTIA_STATE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .try_init()
        .ok()?;
    Some(path)
}
