//! The `:` command line: parsing and completion of command names (pure).

use std::path::PathBuf;

use motia_state::{Expiry, StateFilter};

/// A command typed after `:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Set the TTL of the selected key (or, on the Traces pane, of every key of the trace).
    Ttl(Expiry),
    /// Remove the TTL.
    Persist,
    /// Delete the selected key.
    Del,
    /// Clear the selected trace.
    Clear,
    /// Export to a file: the selected trace, or every trace with `all` (`:export-all`).
    Export { path: PathBuf, all: bool },
    /// Import a file written by `:export` / `motia-state export`; `overwrite` replaces keys
    /// that exist (else the import refuses, writing nothing).
    Import { path: PathBuf, overwrite: bool },
    /// Filter the selected trace's keys by their values; `None` clears the filter.
    Where(Option<StateFilter>),
    /// Open (or recompute) the stats view.
    Stats,
    /// A `gc` dry run with these flags, then a confirmation.
    Gc(String),
    /// Keep only flows with this status (`None`: all).
    Status(Option<motia_state::adapter::traces::FlowStatus>),
    /// Open or close the selected flow's timeline.
    Timeline,
    /// Open or close the selected key's history; `reads` toggles the reads in it.
    History { reads: bool },
    /// Live mode: switch keyspace notifications on (`true`) or restore them.
    Live(bool),
    /// Undo this session's last write (asks first).
    Undo,
    /// List this session's journalled writes.
    Journal,
    /// Quit the browser.
    Quit,
}

/// Name, arguments and one line of help for every command, in completion order.
pub const COMMANDS: &[(&str, &str, &str)] = &[
    (
        "ttl",
        "DURATION",
        "set the expiry: 90, 90s, 10m, 2h, 1d, persist",
    ),
    ("persist", "", "remove the expiry"),
    ("del", "", "delete the selected key"),
    ("clear", "", "delete every key of the selected trace"),
    ("export", "FILE", "write the selected trace to FILE as JSON"),
    ("export-all", "FILE", "write every trace to FILE as JSON"),
    ("import", "FILE [--overwrite]", "load items from FILE"),
    (
        "where",
        "[FIELD OP VALUE]",
        "filter keys by value; alone: clear the filter",
    ),
    (
        "stats",
        "",
        "memory and TTL stats (also S): sizes, ages, biggest traces and keys",
    ),
    (
        "gc",
        "FLAGS",
        "clean up old state: --older-than 7d --no-records --delete (dry run, then y)",
    ),
    (
        "status",
        "failed|running|completed|unknown|all",
        "keep only the traces whose flow has this status",
    ),
    (
        "timeline",
        "",
        "the selected flow's steps from Motia's trace records",
    ),
    (
        "history",
        "[reads]",
        "the selected key's history; reads: show reads too",
    ),
    (
        "live",
        "on|off",
        "switch keyspace notifications on the server on (asks) / restore them",
    ),
    (
        "undo",
        "",
        "undo this session's last write (also u; asks first)",
    ),
    (
        "journal",
        "",
        "this session's journalled writes; u undoes the selected one",
    ),
    ("q", "", "quit"),
];

/// Parses a command line (without the leading `:`); the error is a message for the status bar.
pub fn parse(input: &str) -> Result<Command, String> {
    let input = input.trim();
    let (name, rest) = match input.split_once(char::is_whitespace) {
        Some((n, r)) => (n, r.trim()),
        None => (input, ""),
    };
    let no_args = |cmd: Command| {
        if rest.is_empty() {
            Ok(cmd)
        } else {
            Err(format!(":{name} takes no arguments"))
        }
    };
    let path = |usage: &str| {
        if rest.is_empty() {
            Err(format!("usage: :{name} {usage}"))
        } else {
            Ok(PathBuf::from(expand_home(rest)))
        }
    };
    match name {
        "" => Err("empty command (try :ttl, :del, :where, :q)".into()),
        "ttl" | "expire" => {
            if rest.is_empty() {
                return Err("usage: :ttl DURATION (90, 90s, 10m, 2h, 1d, persist)".into());
            }
            rest.parse::<Expiry>()
                .map(Command::Ttl)
                .map_err(|e| e.to_string())
        }
        "persist" => no_args(Command::Persist),
        "del" | "delete" => no_args(Command::Del),
        "clear" => no_args(Command::Clear),
        "export" => path("FILE").map(|path| Command::Export { path, all: false }),
        "export-all" => path("FILE").map(|path| Command::Export { path, all: true }),
        "import" => {
            // `--overwrite` before or after the file name.
            let (file, overwrite) = match rest
                .strip_suffix("--overwrite")
                .or_else(|| rest.strip_prefix("--overwrite"))
            {
                Some(file) => (file.trim(), true),
                None => (rest, false),
            };
            if file.is_empty() {
                return Err("usage: :import FILE [--overwrite]".into());
            }
            Ok(Command::Import {
                path: PathBuf::from(expand_home(file)),
                overwrite,
            })
        }
        "where" => {
            if rest.is_empty() {
                Ok(Command::Where(None))
            } else {
                rest.parse::<StateFilter>()
                    .map(|f| Command::Where(Some(f)))
                    .map_err(|e| e.to_string())
            }
        }
        "stats" => no_args(Command::Stats),
        "undo" => no_args(Command::Undo),
        "journal" => no_args(Command::Journal),
        "gc" => {
            if rest.is_empty() {
                Err("usage: :gc --older-than DURATION|--no-records [--status S] [--no-ttl] --expire DURATION|--delete".into())
            } else {
                Ok(Command::Gc(rest.to_string()))
            }
        }
        "status" => match rest {
            "all" | "any" | "" => Ok(Command::Status(None)),
            s => s
                .parse()
                .map(|st| Command::Status(Some(st)))
                .map_err(|_| "usage: :status failed|running|completed|unknown|all".to_string()),
        },
        "timeline" => no_args(Command::Timeline),
        "history" => match rest {
            "" => Ok(Command::History { reads: false }),
            "reads" => Ok(Command::History { reads: true }),
            _ => Err("usage: :history [reads]".into()),
        },
        "live" => match rest {
            "on" => Ok(Command::Live(true)),
            "off" => Ok(Command::Live(false)),
            _ => Err("usage: :live on|off".into()),
        },
        "q" | "quit" | "q!" => no_args(Command::Quit),
        other => Err(format!(
            "unknown command :{other} (known: {})",
            names().join(" ")
        )),
    }
}

fn names() -> Vec<&'static str> {
    COMMANDS.iter().map(|(n, _, _)| *n).collect()
}

fn expand_home(path: &str) -> String {
    match (path.strip_prefix("~/"), std::env::var("HOME")) {
        (Some(rest), Ok(home)) => format!("{home}/{rest}"),
        _ => path.to_string(),
    }
}

/// Completes the command name being typed: the new input when exactly one name fits (or the
/// longest common prefix when several do), plus every name that fits, for display.
pub fn complete(input: &str) -> (String, Vec<&'static str>) {
    if input.contains(char::is_whitespace) {
        return (input.to_string(), Vec::new());
    }
    let fits: Vec<&'static str> = names()
        .into_iter()
        .filter(|n| n.starts_with(input))
        .collect();
    let completed = match fits.as_slice() {
        [] => input.to_string(),
        [one] => format!("{one} "),
        many => {
            let first = many[0];
            let len = (input.len()..=first.len())
                .take_while(|&l| many.iter().all(|n| n.len() >= l && n[..l] == first[..l]))
                .last()
                .unwrap_or(input.len());
            first[..len].to_string()
        }
    };
    (completed, fits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn parses_commands() {
        assert_eq!(
            parse("ttl 10m"),
            Ok(Command::Ttl(Expiry::After(Duration::from_secs(600))))
        );
        assert_eq!(parse("ttl persist"), Ok(Command::Ttl(Expiry::Persist)));
        assert_eq!(parse(" persist "), Ok(Command::Persist));
        assert_eq!(parse("q"), Ok(Command::Quit));
        assert_eq!(
            parse("export /tmp/x.json"),
            Ok(Command::Export {
                path: "/tmp/x.json".into(),
                all: false
            })
        );
        assert_eq!(
            parse("export-all all.json"),
            Ok(Command::Export {
                path: "all.json".into(),
                all: true
            })
        );
        assert_eq!(parse("where"), Ok(Command::Where(None)));
        assert_eq!(
            parse("import dump.json --overwrite"),
            Ok(Command::Import {
                path: "dump.json".into(),
                overwrite: true
            })
        );
        assert_eq!(
            parse("import dump.json"),
            Ok(Command::Import {
                path: "dump.json".into(),
                overwrite: false
            })
        );
        assert!(matches!(
            parse("where status eq paid"),
            Ok(Command::Where(Some(_)))
        ));
    }

    #[test]
    fn rejects_bad_input() {
        assert!(parse("ttl soon").unwrap_err().contains("invalid duration"));
        assert!(
            parse("ttl 3 fortnights")
                .unwrap_err()
                .contains("(units: ms, s, m")
        );
        assert_eq!(
            parse("status any"),
            parse("status all"),
            "gc's word for every status works here too"
        );
        assert!(parse("ttl").unwrap_err().contains("usage"));
        assert!(parse("del now").unwrap_err().contains("no arguments"));
        assert!(parse("frobnicate").unwrap_err().contains("unknown command"));
        assert!(parse("where a between 1").is_err());
        assert!(parse("export").unwrap_err().contains("usage"));
        assert!(parse("export-all").unwrap_err().contains("usage"));
        assert!(parse("import --overwrite").unwrap_err().contains("usage"));
        assert!(
            parse("where status bogus paid")
                .unwrap_err()
                .contains("unknown operator")
        );
        assert!(parse("ttl abc").unwrap_err().contains("invalid duration"));
    }

    #[test]
    fn completes_names() {
        assert_eq!(complete("pe"), ("persist ".to_string(), vec!["persist"]));
        assert_eq!(complete("x").1, Vec::<&str>::new());
        let (line, fits) = complete("");
        assert_eq!(line, "");
        assert_eq!(fits.len(), COMMANDS.len());
        assert_eq!(complete("ttl 1").0, "ttl 1");
        assert_eq!(
            complete("ex"),
            ("export".to_string(), vec!["export", "export-all"])
        );
    }
}
