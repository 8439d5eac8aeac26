//! Whether the browser still owes a look for iii state (`state:*` hashes) beside the Motia 0.x
//! keys it shows. Detection on 0.x does not walk for them before the first frame; the look is
//! made once the index walk is complete, off the critical path (issue 21: nothing is skipped
//! in silence).

/// Where the look for the other layout stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OtherLayout {
    /// Nothing to look for: iii is browsed, or detection looked already.
    #[default]
    NotNeeded,
    /// To look for once the index walk completes.
    Deferred,
    /// The worker is looking.
    Looking,
    /// Looked (the note, if any, was shown).
    Done,
}
