//! What the subcommands read from their arguments and input, checked before connecting; shared
//! by both layouts' commands.

use std::borrow::Cow;
use std::ffi::OsStr;
use std::io::{IsTerminal, Read};
use std::path::Path;

use motia_state::{Config, Error, Expiry, StateFilter};

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

/// The JSON value of `set`: the argument, or stdin when it is absent or `-`. Returns the text
/// and its compact form (only whitespace between tokens removed); invalid JSON never reaches
/// Redis.
pub(crate) fn json_value(arg: Option<&str>) -> Result<(String, String), Failure> {
    let text = match arg {
        Some(t) if t != "-" => t.to_string(),
        _ => read_input(None, "the JSON value")?,
    };
    let compact = motia_state::json::compact(&text)?;
    Ok((text, compact))
}

/// What `set --if-value JSON` / `--if-absent` expects to find: `None` for a plain set,
/// `Some(None)` for "must not exist", else the value as `get` prints it (compact).
pub(crate) fn set_condition(
    if_value: Option<&str>,
    if_absent: bool,
) -> Result<Option<Option<Vec<u8>>>, Failure> {
    match (if_value, if_absent) {
        (Some(v), _) => {
            let compact = motia_state::json::compact(v)
                .map_err(|e| Failure::new(exit::BAD_INPUT, format!("invalid --if-value: {e}")))?;
            Ok(Some(Some(compact.into_bytes())))
        }
        (None, true) => Ok(Some(None)),
        (None, false) => Ok(None),
    }
}

/// `expire TRACE [KEY] DURATION`: the key (when given) and the expiry.
pub(crate) fn expire_args(
    first: &OsStr,
    duration: Option<&OsStr>,
) -> Result<(Option<Vec<u8>>, Expiry), Failure> {
    let (key, duration) = match duration {
        Some(d) => (Some(arg_bytes(first)?.into_owned()), d),
        None => (None, first),
    };
    let expiry = duration
        .to_str()
        .ok_or_else(|| {
            Failure::new(
                exit::BAD_INPUT,
                format!(
                    "invalid duration {duration:?}: not UTF-8; e.g. 90, 10m, 1h30m, 1d or persist"
                ),
            )
        })?
        .parse()?;
    Ok((key, expiry))
}
