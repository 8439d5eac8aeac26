//! What the subcommands read from their arguments and input, checked before connecting; shared
//! by both layouts' commands.

use std::borrow::Cow;
use std::ffi::OsStr;
use std::io::{IsTerminal, Read};
use std::path::Path;

use motia_state::{Config, Error, StateFilter};

use crate::cli::out::{Failure, Outcome, exit, read_only_message};

pub(crate) fn refuse_if_read_only(config: &Config, operation: &str) -> Outcome {
    if config.read_only {
        Err(Failure::new(exit::BAD_INPUT, read_only_message(operation)))
    } else {
        Ok(())
    }
}

/// An argument as the exact bytes the caller passed (any bytes on Unix).
pub(crate) fn arg_bytes(arg: &OsStr) -> Result<Cow<'_, [u8]>, Failure> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Ok(Cow::Borrowed(arg.as_bytes()))
    }
    #[cfg(not(unix))]
    {
        arg.to_str()
            .map(|s| Cow::Borrowed(s.as_bytes()))
            .ok_or_else(|| Failure::new(exit::BAD_INPUT, format!("{arg:?} is not valid Unicode")))
    }
}

/// Reads FILE, or stdin for `None` and `-`, as UTF-8 text.
pub(crate) fn read_input(file: Option<&Path>, what: &str) -> Result<String, Failure> {
    let mut text = String::new();
    match file {
        Some(p) if p != Path::new("-") => {
            text = std::fs::read_to_string(p).map_err(|e| {
                Failure::new(exit::BAD_INPUT, format!("cannot read {}: {e}", p.display()))
            })?;
        }
        _ => {
            if std::io::stdin().is_terminal() {
                eprintln!("motia-state: reading {what} from stdin (end with Ctrl-D)");
            }
            std::io::stdin().read_to_string(&mut text).map_err(|e| {
                Failure::new(
                    exit::BAD_INPUT,
                    format!("cannot read {what} from stdin: {e}"),
                )
            })?;
        }
    }
    Ok(text)
}

pub(crate) fn parse_filter(text: &str) -> Result<StateFilter, Failure> {
    text.parse::<StateFilter>().map_err(|e| match e {
        Error::Config { reason, .. } => Failure::new(
            exit::BAD_INPUT,
            format!("invalid --filter {text:?}: {reason}"),
        ),
        other => other.into(),
    })
}
