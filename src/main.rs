//! `motia-state`: the terminal browser (no subcommand) and scriptable subcommands.

mod browser;
mod cli;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match cli.global.to_config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("motia-state: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("motia-state: cannot start the async runtime: {e}");
            return ExitCode::from(3);
        }
    };
    match cli.command {
        None => match runtime.block_on(browser::run(config, browser::BrowserOptions::default())) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("motia-state: {e:#}");
                ExitCode::from(3)
            }
        },
        Some(Command::Traces { counts }) => {
            let _ = counts;
            eprintln!("motia-state: not implemented yet");
            ExitCode::from(3)
        }
    }
}
