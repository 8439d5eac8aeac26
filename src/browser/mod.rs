//! The terminal state browser (placeholder until the browser lands).

use std::path::PathBuf;
use std::time::Duration;

/// How the browser was asked to run.
#[derive(Debug, Clone, Default)]
pub struct BrowserOptions {
    /// Refresh interval of the visible value and TTLs (`None`: off).
    pub refresh: Option<Duration>,
    /// Automatic rescan interval (`None`: only on `r`).
    pub rescan: Option<Duration>,
    /// Keymap/config file overriding the platform's config directory.
    pub config_file: Option<PathBuf>,
}

/// Runs the browser until the user quits.
pub async fn run(config: motia_state::Config, opts: BrowserOptions) -> anyhow::Result<()> {
    let _ = (config, opts);
    anyhow::bail!("the browser is not built yet")
}
