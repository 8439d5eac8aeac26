//! The `:` command line: opening it and running what was typed.

use motia_state::Expiry;

use crate::browser::action::{Effect, WriteOp};
use crate::browser::keymap::Command as KeyCommand;
use crate::browser::model::Model;
use crate::browser::model::command_line::{self, Command as Cmd};
use crate::browser::model::dialog::Prompt;
use crate::browser::update::keys::{rebuild_keys, start_where};
use crate::browser::update::prompt::reprompt;
use crate::browser::update::writes::{
    refuse_read_only, send_write, start_clear, start_delete, start_ttl,
};
use crate::browser::update::{acts_here, note};

pub fn run(m: &mut Model, input: &str, fx: &mut Vec<Effect>) {
    let cmd = match command_line::parse(input) {
        Ok(c) => c,
        Err(e) => {
            let problem = format!(":{input}: {e}");
            return reprompt(m, Prompt::Command, input.to_string(), problem);
        }
    };
    // `:ttl`, `:persist`, `:del` and `:clear` follow the rule of their keys.
    let key_cmd = match cmd {
        Cmd::Ttl(_) | Cmd::Persist => Some(KeyCommand::SetTtl),
        Cmd::Del => Some(KeyCommand::Delete),
        Cmd::Clear => Some(KeyCommand::ClearTrace),
        _ => None,
    };
    if key_cmd.is_some_and(|c| !acts_here(m, c)) {
        return;
    }
    match cmd {
        Cmd::Ttl(e) => start_ttl(m, Some(e), fx),
        Cmd::Persist => start_ttl(m, Some(Expiry::Persist), fx),
        Cmd::Del => start_delete(m),
        Cmd::Clear => start_clear(m),
        Cmd::Export { path, all } => {
            let noun = m.settings.group_noun();
            let trace = if all {
                None
            } else {
                match m.traces.selected.as_deref() {
                    Some(t) => Some(t.to_string()),
                    None => {
                        let problem = format!(
                            ":export needs a selected {noun} (:export-all FILE writes every {noun})"
                        );
                        return reprompt(m, Prompt::Command, input.to_string(), problem);
                    }
                }
            };
            let what = match &trace {
                Some(t) => format!("{noun} {t}"),
                None => format!("every {noun}"),
            };
            let label = format!("export {what} to {}", path.display());
            send_write(m, WriteOp::Export { path, trace }, label, fx);
        }
        Cmd::Import { path, overwrite } => {
            if refuse_read_only(m, "import") {
                return;
            }
            let label = format!("import {}", path.display());
            let op = WriteOp::Import {
                path,
                overwrite,
                other_prefix: false,
            };
            send_write(m, op, label, fx);
        }
        Cmd::Where(None) => {
            if m.keys.where_filter.take().is_some() {
                note(m, "value filter cleared", false);
            }
            rebuild_keys(m, fx);
        }
        Cmd::Where(Some(filter)) => start_where(m, input, filter, fx),
        Cmd::Stats => crate::browser::update::stats::command(m, fx),
        Cmd::Gc(flags) => crate::browser::update::stats::start_gc(m, &flags, fx),
        Cmd::Status(status) => crate::browser::update::traces::set_status_filter(m, status, fx),
        Cmd::Timeline => crate::browser::update::timeline::toggle(m, fx),
        Cmd::History { reads: false } => crate::browser::update::history::toggle(m, fx),
        Cmd::History { reads: true } => crate::browser::update::history::toggle_reads(m, fx),
        Cmd::Live(true) => crate::browser::update::live::start_on(m),
        Cmd::Live(false) => crate::browser::update::live::start_off(m, fx),
        Cmd::Undo => crate::browser::update::journal::start_undo(m, None),
        Cmd::Journal => crate::browser::update::journal::open(m),
        Cmd::Quit => fx.push(Effect::Quit),
    }
}
