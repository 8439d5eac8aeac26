//! A 0.x view of a server that also holds iii hashes says so (issue 21), and the look for
//! them waits for the index walk: never before the first frame (issue 19).

use super::*;
use crate::browser::model::other_layout::OtherLayout;

fn looks_for(fx: &[Effect]) -> Option<Option<u64>> {
    fx.iter().find_map(|f| match f {
        Effect::Worker(WorkerCmd::OtherLayout { keys_seen }) => Some(*keys_seen),
        _ => None,
    })
}

#[test]
fn the_note_is_looked_for_once_the_index_is_complete_and_shown() {
    let c = clock();
    let mut m = model(&c);
    m.other_layout = OtherLayout::Deferred;
    let g = scan_gen(&connect(&mut m));
    batch(&mut m, g, DATA);
    assert_eq!(
        m.other_layout,
        OtherLayout::Deferred,
        "not before the index"
    );
    let fx = ev(
        &mut m,
        WorkerEvent::ScanDone {
            generation: g,
            seen: 7,
        },
    );
    // The index's own count, for the worker's DBSIZE comparison.
    assert_eq!(looks_for(&fx), Some(Some(7)));
    let note = "the server also holds Motia 1.x / iii state (state:* hashes); give --layout iii \
                to see it";
    ev(&mut m, WorkerEvent::OtherLayout(Ok(Some(note.into()))));
    let s = screen(&m);
    assert!(s.contains("also holds Motia 1.x / iii state"), "{s}");
    insta::assert_snapshot!("other_layout_note", s);
    // A rescan does not look again.
    let fx = update(&mut m, key('r'));
    let g = scan_gen(&fx);
    batch(&mut m, g, DATA);
    let fx = ev(
        &mut m,
        WorkerEvent::ScanDone {
            generation: g,
            seen: 7,
        },
    );
    assert_eq!(looks_for(&fx), None);
}

#[test]
fn nothing_is_looked_for_when_detection_did_or_iii_is_browsed() {
    let c = clock();
    let mut m = loaded(&c);
    assert_eq!(m.other_layout, OtherLayout::NotNeeded);
    let g = scan_gen(&update(&mut m, key('r')));
    let fx = ev(
        &mut m,
        WorkerEvent::ScanDone {
            generation: g,
            seen: 7,
        },
    );
    assert_eq!(looks_for(&fx), None);
    // A look that found nothing leaves the status line as it was.
    m.other_layout = OtherLayout::Looking;
    let before = screen(&m);
    ev(&mut m, WorkerEvent::OtherLayout(Ok(None)));
    assert_eq!(m.other_layout, OtherLayout::Done);
    assert_eq!(screen(&m), before);
}
