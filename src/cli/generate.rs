//! `motia-state completions SHELL` and `motia-state man`: generated from the clap definitions,
//! so they cannot drift from the flags the binary takes.

use std::io::Write;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::cli::out::{Failure, exit};

const BIN: &str = "motia-state";

/// Writes the completion script for `shell` to stdout.
pub fn completions(shell: Shell) -> Result<(), Failure> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), BIN, &mut out);
    write_stdout(&out)
}

/// Writes one roff page to stdout: the global options, then every subcommand with its own.
pub fn man() -> Result<(), Failure> {
    let page = man_page().map_err(|e| Failure::new(exit::SERVER, e))?;
    write_stdout(page.as_bytes())
}

/// The manual page as roff text.
pub fn man_page() -> Result<String, String> {
    let failed = |e: std::io::Error| format!("cannot render the man page: {e}");
    let mut cmd = Cli::command();
    cmd.build();
    let mut out = Vec::new();
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(&mut out).map_err(failed)?;
    man.render_name_section(&mut out).map_err(failed)?;
    man.render_synopsis_section(&mut out).map_err(failed)?;
    man.render_description_section(&mut out).map_err(failed)?;
    man.render_options_section(&mut out).map_err(failed)?;
    man.render_extra_section(&mut out).map_err(failed)?;
    let globals: Vec<_> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set())
        .map(|a| a.get_id().clone())
        .collect();
    // clap_mangen gives each subcommand a page of its own; here each is a section of this page
    // (its sections become subsections), so `man motia-state` tells everything.
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        // The global options are described once, above.
        let sub = globals
            .iter()
            .fold(sub.clone(), |c, id| c.mut_arg(id, |a| a.hide(true)));
        let name = sub.get_name().to_string();
        let man = clap_mangen::Man::new(sub.clone());
        let mut part = Vec::new();
        man.render_synopsis_section(&mut part).map_err(failed)?;
        man.render_description_section(&mut part).map_err(failed)?;
        man.render_options_section(&mut part).map_err(failed)?;
        if sub.get_after_long_help().or(sub.get_after_help()).is_some() {
            man.render_extra_section(&mut part).map_err(failed)?;
        }
        writeln!(out, ".SH \"{BIN} {name}\"").map_err(failed)?;
        for line in String::from_utf8_lossy(&part).lines() {
            let line = match line.strip_prefix(".SH ") {
                Some("EXTRA") => ".SS NOTES".to_string(),
                Some(title) => format!(".SS {title}"),
                // The synopsis names the subcommand alone.
                None => line.replacen(
                    &format!("\\fB{name}\\fR"),
                    &format!("\\fB{BIN} {name}\\fR"),
                    1,
                ),
            };
            writeln!(out, "{line}").map_err(failed)?;
        }
    }
    man.render_version_section(&mut out).map_err(failed)?;
    let page = String::from_utf8(out).map_err(|e| format!("cannot render the man page: {e}"))?;
    // clap_mangen titles the text after the options EXTRA.
    Ok(page.replacen(".SH EXTRA", ".SH NOTES", 1))
}

fn write_stdout(bytes: &[u8]) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        // `motia-state man | head` closes the pipe early: not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::new(
            exit::SERVER,
            format!("cannot write to stdout: {e}"),
        )),
    }
}
