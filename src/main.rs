//! `motia-state`: the terminal browser (no subcommand) and scriptable subcommands.

mod browser;
mod cli;
#[allow(dead_code)] // used by the history and live panes
mod diff;
mod journal;
mod profiles;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::commands;
use crate::cli::out::{Failure, exit};
use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    cli::set_verbose(cli.global.verbose);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            return fail(Failure::new(
                exit::SERVER,
                format!("cannot start the async runtime: {e}"),
            ));
        }
    };
    // Keymap and saved connections share one file.
    let config_file = cli
        .browser
        .config
        .clone()
        .or_else(browser::keymap::default_config_file);
    if cli.global.verbose {
        // Every other subcommand says which layout it uses and why once it has connected.
        let no_layout = match &cli.command {
            Some(Command::Demo { .. }) => {
                Some("Motia 0.x (demo writes its own state to a private redis-server)")
            }
            Some(Command::Completions { .. } | Command::Man) => {
                Some("none needed (generated text, no connection)")
            }
            _ => None,
        };
        if let Some(why) = no_layout {
            eprintln!("motia-state: layout: {why}");
        }
    }
    let result = match cli.command {
        Some(Command::Demo {
            no_browser,
            fixed,
            browser,
        }) => cli::journal::configure(!cli.global.no_journal).and_then(|()| {
            runtime.block_on(cli::demo::run(
                no_browser,
                fixed,
                browser.options(),
                cli.global.read_only,
            ))
        }),
        // Neither needs a connection, nor settings that could fail to parse.
        Some(Command::Completions { shell }) => cli::generate::completions(shell),
        Some(Command::Man) => cli::generate::man(),
        command => match cli
            .global
            .to_config(config_file.as_deref())
            .and_then(|(c, p)| {
                let off = cli.global.no_journal
                    || profiles::journal_off(config_file.as_deref(), p.as_deref())?;
                Ok((c, p, !off))
            }) {
            Err(e) => Err(e.into()),
            Ok((config, profile, journal)) => match cli::journal::configure(journal) {
                Err(f) => Err(f),
                Ok(()) => match command {
                    // A bad keymap file is bad input (status 2), reported before the screen is taken.
                    None => match (
                        browser::keymap::Keymap::load(cli.browser.config.as_deref()),
                        profiles::Profiles::load(config_file.as_deref(), false),
                    ) {
                        (Err(e), _) => Err(Failure::new(exit::BAD_INPUT, format!("{e:#}"))),
                        (_, Err(e)) => Err(e.into()),
                        (Ok(_), Ok(profiles)) => runtime
                            .block_on(browser::run(
                                config,
                                browser::BrowserOptions {
                                    profile,
                                    profiles,
                                    ..cli.browser.options()
                                },
                            ))
                            .map_err(|e| Failure::new(exit::SERVER, format!("{e:#}"))),
                    },
                    Some(cmd) => runtime.block_on(commands::run(cmd, config)),
                },
            },
        },
    };
    // Do not wait for blocking stdin readers or idle connections.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => fail(f),
    }
}

fn fail(f: Failure) -> ExitCode {
    // Messages quote names and server replies: never let their control characters through.
    eprintln!("motia-state: {}", motia_state::escape::text_str(&f.message));
    ExitCode::from(f.code)
}
