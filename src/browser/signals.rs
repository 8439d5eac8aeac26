//! SIGTERM and SIGHUP (a closed ssh session) end the browser as `q` does: the worker restores
//! what `:live on` changed and the terminal leaves the alternate screen. (Ctrl-C arrives as a
//! key in raw mode.)

/// Listened to from the start, so none is missed.
pub struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    pub fn listen() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                term: signal(SignalKind::terminate())?,
                hup: signal(SignalKind::hangup())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// The next signal; its name, for the log.
    pub async fn recv(&mut self) -> &'static str {
        #[cfg(unix)]
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.hup.recv() => "SIGHUP",
        }
        #[cfg(not(unix))]
        std::future::pending().await
    }
}
