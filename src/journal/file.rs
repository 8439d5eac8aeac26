//! The journal file: one JSON line per entry, private to the user, capped, locked while a
//! process appends.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{DEFAULT_MAX_BYTES, Entry};

const FILE_NAME: &str = "journal.jsonl";

/// What appending did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    /// Kept under this id.
    Kept(u64),
    /// The entry alone is larger than the cap: nothing was kept.
    TooBig { size: u64, max: u64 },
}

/// The journal file and its cap.
#[derive(Debug, Clone)]
pub struct Journal {
    pub path: PathBuf,
    pub max_bytes: u64,
}

impl Journal {
    /// The journal of this user: `MOTIA_STATE_JOURNAL` (a directory) or the data directory.
    pub fn from_env() -> Result<Self, String> {
        let env = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
        let dir = match env("MOTIA_STATE_JOURNAL") {
            Some(d) => PathBuf::from(d),
            None => directories::ProjectDirs::from("dev", "motia", "motia-state")
                .map(|d| d.data_dir().to_path_buf())
                .ok_or("no home directory to keep the write journal in (set MOTIA_STATE_JOURNAL to a directory, or give --no-journal)")?,
        };
        let max_bytes = match env("MOTIA_STATE_JOURNAL_MAX") {
            None => DEFAULT_MAX_BYTES,
            Some(v) => v
                .parse()
                .map_err(|_| format!("MOTIA_STATE_JOURNAL_MAX: {v:?} is not a number of bytes"))?,
        };
        Ok(Self {
            path: dir.join(FILE_NAME),
            max_bytes,
        })
    }

    /// How large `entry` is as a line of the journal.
    pub fn size_of(entry: &Entry) -> u64 {
        entry.to_json().to_string().len() as u64 + 1
    }

    /// Appends `entry` (setting its id), dropping the oldest entries past the cap. An entry
    /// larger than the cap is not kept: [`Appended::TooBig`].
    pub fn append(&self, entry: &mut Entry) -> Result<Appended, String> {
        let size = Self::size_of(entry);
        if size > self.max_bytes {
            return Ok(Appended::TooBig {
                size,
                max: self.max_bytes,
            });
        }
        let fail = |e: std::io::Error| {
            format!(
                "cannot write the journal {}: {e} (give --no-journal to write without it)",
                self.path.display()
            )
        };
        let mut file = self.open().map_err(fail)?;
        lock(&file).map_err(fail)?;
        entry.id = last_id(&mut file).map_err(fail)? + 1;
        let mut line = entry.to_json().to_string();
        line.push('\n');
        file.seek(SeekFrom::End(0)).map_err(fail)?;
        file.write_all(line.as_bytes()).map_err(fail)?;
        file.sync_data().map_err(fail)?;
        let len = file.metadata().map_err(fail)?.len();
        if len > self.max_bytes {
            self.trim(&mut file).map_err(fail)?;
        }
        Ok(Appended::Kept(entry.id))
    }

    /// Every entry, oldest first (none when there is no journal yet).
    pub fn entries(&self) -> Result<Vec<Entry>, String> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(format!(
                    "cannot read the journal {}: {e}",
                    self.path.display()
                ));
            }
        };
        let mut out = Vec::new();
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.is_empty()) {
            let entry = serde_json::from_str::<Value>(line)
                .ok()
                .and_then(|v| Entry::from_json(&v))
                .ok_or_else(|| {
                    format!(
                        "the journal {} is damaged at line {}",
                        self.path.display(),
                        n + 1
                    )
                })?;
            out.push(entry);
        }
        Ok(out)
    }

    fn open(&self) -> std::io::Result<File> {
        if let Some(dir) = self.path.parent() {
            create_private_dir(dir)?;
        }
        let mut options = OpenOptions::new();
        options.read(true).append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        options.open(&self.path)
    }

    /// Keeps the newest entries that fit the cap, written to a new file moved into place.
    fn trim(&self, file: &mut File) -> std::io::Result<()> {
        let mut text = Vec::new();
        file.seek(SeekFrom::Start(0))?;
        file.read_to_end(&mut text)?;
        let mut start = 0;
        while (text.len() - start) as u64 > self.max_bytes {
            match text[start..].iter().position(|b| *b == b'\n') {
                Some(n) => start += n + 1,
                None => start = text.len(),
            }
        }
        let tmp = self.path.with_extension("jsonl.tmp");
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut out = options.open(&tmp)?;
        out.write_all(&text[start..])?;
        out.sync_data()?;
        std::fs::rename(&tmp, &self.path)
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// An exclusive lock for the process's lifetime of `file`, so that the browser and a CLI run
/// do not interleave ids or trims.
#[cfg(unix)]
fn lock(file: &File) -> std::io::Result<()> {
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock on a descriptor this function borrows; released when the file closes.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(unix))]
fn lock(_: &File) -> std::io::Result<()> {
    Ok(())
}

/// The id of the last line (`{"id":N,...}`), read from the end of the file; 0 when empty.
fn last_id(file: &mut File) -> std::io::Result<u64> {
    let len = file.metadata()?.len();
    let mut tail = 4096u64;
    loop {
        let from = len.saturating_sub(tail);
        file.seek(SeekFrom::Start(from))?;
        let mut buf = Vec::new();
        file.read_to_end(&mut buf)?;
        let body = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let line_start = body.iter().rposition(|b| *b == b'\n').map(|n| n + 1);
        let line = match (line_start, from) {
            (Some(n), _) => &body[n..],
            (None, 0) => body,
            (None, _) => {
                tail *= 4;
                continue;
            }
        };
        let id = line
            .strip_prefix(b"{\"id\":")
            .map(|rest| {
                rest.iter()
                    .take_while(|b| b.is_ascii_digit())
                    .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'))
            })
            .unwrap_or(0);
        return Ok(id);
    }
}
