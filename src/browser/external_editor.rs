//! Editing a value in the user's `$VISUAL` / `$EDITOR`.

use std::io::Write;
use std::process::Command;

/// The editor command line: `$VISUAL`, else `$EDITOR`, else `vi`.
pub fn editor_command() -> String {
    std::env::var("VISUAL")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .or_else(|| {
            std::env::var("EDITOR")
                .ok()
                .filter(|v| !v.trim().is_empty())
        })
        .unwrap_or_else(|| "vi".to_string())
}

/// Writes `text` to a temporary `.json` file, runs the editor on it and returns what it left.
/// The caller must have given the terminal back (left the alternate screen, stopped reading
/// input) before calling this. The editor runs through `sh -c`, so `EDITOR="code --wait"` works.
pub fn edit(text: &str) -> Result<String, String> {
    let mut file = tempfile::Builder::new()
        .prefix("motia-state-")
        .suffix(".json")
        .tempfile()
        .map_err(|e| format!("cannot create a temporary file: {e}"))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.flush())
        .map_err(|e| format!("cannot write the temporary file: {e}"))?;
    let editor = editor_command();
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("motia-state-editor")
        .arg(file.path())
        .status()
        .map_err(|e| format!("cannot run {editor}: {e}"))?;
    if !status.success() {
        return Err(format!("{editor} exited with {status}; nothing saved"));
    }
    std::fs::read_to_string(file.path()).map_err(|e| format!("cannot read the edited file: {e}"))
}
