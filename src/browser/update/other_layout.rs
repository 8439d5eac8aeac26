//! The look for iii state beside the 0.x keys: asked of the worker when the index walk
//! completes (its key count lets the worker skip the walk when DBSIZE says nothing else is
//! on the server), its note shown when it comes back.

use crate::browser::action::{Effect, WorkerCmd};
use crate::browser::model::Model;
use crate::browser::model::other_layout::OtherLayout;
use crate::browser::update::notifications::note;

/// The index walk completed: look, once, when detection left it for now.
pub fn index_complete(m: &mut Model, fx: &mut Vec<Effect>) {
    if m.other_layout != OtherLayout::Deferred || m.settings.iii {
        return;
    }
    m.other_layout = OtherLayout::Looking;
    fx.push(Effect::Worker(WorkerCmd::OtherLayout {
        keys_seen: Some(m.index.total_keys as u64),
    }));
}

/// The worker's answer: the note when iii state exists, or why it could not look.
pub fn answered(m: &mut Model, result: Result<Option<String>, String>) {
    if m.other_layout != OtherLayout::Looking {
        return;
    }
    m.other_layout = OtherLayout::Done;
    match result {
        Ok(Some(text)) => note(m, text, false),
        Ok(None) => {}
        Err(e) => note(
            m,
            format!("could not look for iii state (state:* hashes): {e}"),
            false,
        ),
    }
}
