//! Restores of `notify-keyspace-events` this program owes servers. A run that switches
//! notifications on (`:live on`, `watch --enable-notifications`) notes the change in a small
//! file in the user's state directory and removes the note once it has put the setting back;
//! a note left by a run that no longer exists (killed with SIGKILL, a crash) is found by the
//! next run against the same server, which offers the restore.

use std::path::PathBuf;

use motia_state::notify::{NotifyChange, NotifySetting};
use serde::{Deserialize, Serialize};

const FILE: &str = "owed-restores.json";

/// One change a run made and has not taken back yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owed {
    /// The server, as `Config::display_url` names it (no password).
    pub server: String,
    pub before: String,
    pub after: String,
    pub added: String,
    /// The run that made the change.
    pub pid: u32,
}

impl Owed {
    /// The change, to give to `restore_notifications`.
    pub fn change(&self) -> NotifyChange {
        NotifyChange {
            before: NotifySetting::new(self.before.clone()),
            after: NotifySetting::new(self.after.clone()),
            added: self.added.clone(),
        }
    }

    /// True while the server still has every flag the run added (else someone restored it).
    pub fn still_applies(&self, now: &NotifySetting) -> bool {
        self.added.chars().all(|c| now.has(c))
    }
}

fn path() -> Option<PathBuf> {
    let dirs = directories::ProjectDirs::from("dev", "motia", "motia-state")?;
    Some(dirs.state_dir().unwrap_or(dirs.data_dir()).join(FILE))
}

fn load() -> Vec<Owed> {
    path()
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// Writes the notes (a temporary file renamed over the old one: never half a file).
fn store(all: &[Owed]) {
    let Some(p) = path() else { return };
    let write = || -> std::io::Result<()> {
        if let Some(dir) = p.parent() {
            std::fs::create_dir_all(dir)?;
        }
        if all.is_empty() {
            return match std::fs::remove_file(&p) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            };
        }
        let tmp = p.with_extension(format!("{}.tmp", std::process::id()));
        std::fs::write(&tmp, serde_json::to_vec_pretty(all)?)?;
        std::fs::rename(&tmp, &p)
    };
    if let Err(e) = write() {
        tracing::warn!(error = %e, file = %p.display(), "cannot write the note of owed restores");
    }
}

/// This run changed `server`'s setting: noted until [`settled`].
pub fn record(server: &str, change: &NotifyChange) {
    if change.is_noop() {
        return;
    }
    let mut all = load();
    let pid = std::process::id();
    all.retain(|o| !(o.server == server && o.pid == pid));
    all.push(Owed {
        server: server.to_string(),
        before: change.before.as_str().to_string(),
        after: change.after.as_str().to_string(),
        added: change.added.clone(),
        pid,
    });
    store(&all);
}

/// This run put `server`'s setting back (or another run did `owed`'s restore).
pub fn settled(server: &str, pid: u32) {
    let mut all = load();
    let before = all.len();
    all.retain(|o| !(o.server == server && o.pid == pid));
    if all.len() != before {
        store(&all);
    }
}

/// A restore owed to `server` by a run that no longer exists.
pub fn abandoned(server: &str) -> Option<Owed> {
    let me = std::process::id();
    load()
        .into_iter()
        .find(|o| o.server == server && o.pid != me && !alive(o.pid))
}

/// Whether process `pid` still runs (a live run restores its own change).
fn alive(pid: u32) -> bool {
    #[cfg(target_os = "linux")]
    {
        // A killed process stays a zombie until its parent reaps it: that is not running.
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            stat.rsplit_once(") ")
                .is_some_and(|(_, rest)| !rest.starts_with(['Z', 'X']))
        })
    }
    #[cfg(not(target_os = "linux"))]
    {
        // SAFETY: signal 0 only checks that the process exists.
        unsafe { libc::kill(pid as libc::pid_t, 0) == 0 }
    }
}
