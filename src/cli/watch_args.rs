//! What `watch` was asked for and what it listens to, shared by the 0.x and iii followers.

use crate::cli::out::{Failure, exit};

/// What `watch` was asked for.
pub struct WatchArgs {
    /// Exact bytes, as every subcommand takes names.
    pub trace: Option<Vec<u8>>,
    pub key: Option<Vec<u8>>,
    pub values: bool,
    pub enable_notifications: bool,
    /// Follow the iii layout's scope hashes instead of 0.x keys.
    pub iii: bool,
}

/// Ctrl-C, SIGTERM and SIGHUP, listened to from the start so none is missed.
pub(crate) struct Signals {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    pub(crate) fn listen() -> Result<Self, Failure> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let err = |e: std::io::Error| {
                Failure::new(exit::SERVER, format!("cannot listen for signals: {e}"))
            };
            Ok(Self {
                int: signal(SignalKind::interrupt()).map_err(err)?,
                term: signal(SignalKind::terminate()).map_err(err)?,
                hup: signal(SignalKind::hangup()).map_err(err)?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    pub(crate) async fn recv(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {}
            _ = self.hup.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// A change's time as printed on each line.
pub(crate) fn time(t: std::time::SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
