//! The note a Motia 0.x listing owes its user when the server also holds iii state (issue 21:
//! nothing is skipped in silence). Detection on 0.x does not look for `state:*` hashes, so that
//! a `get` never walks the keyspace; the listing commands look once their output is written.

use motia_state::RedisStateAdapter;

use crate::cli::Command;

/// The commands that show a view of the whole prefix, and so owe the note.
pub(crate) fn is_listing(command: &Command) -> bool {
    matches!(
        command,
        Command::Traces { .. }
            | Command::Items { .. }
            | Command::Stats { .. }
            | Command::Export { .. }
    )
}

/// Looks for iii state after a listing and prints the note on stderr when there is some.
/// `keys_seen`: the distinct keys under the prefix the listing counted, when it walked them
/// all (DBSIZE equal to it means nothing else is on the server, and nothing is walked).
pub(crate) async fn note_after_listing(state: &RedisStateAdapter, keys_seen: Option<u64>) {
    match state.other_layout_note(keys_seen).await {
        Ok(Some(note)) => eprintln!("motia-state: note: {note}"),
        Ok(None) if crate::cli::verbose() => {
            eprintln!("motia-state: iii state (state:* hashes): none on the server")
        }
        Ok(None) => {}
        // The listing itself succeeded; a failed look is not worth failing it for.
        Err(e) if crate::cli::verbose() => {
            eprintln!("motia-state: iii state (state:* hashes): not looked for ({e})")
        }
        Err(_) => {}
    }
}
