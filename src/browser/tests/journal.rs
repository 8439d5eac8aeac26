//! Undo and the journal overlay: plain calls of `update`, and frame snapshots.

use super::*;
use crate::browser::action::{WriteOp, WriteOutcome};
use crate::browser::model::dialog::Dialog;
use crate::browser::model::journal::SessionEntry;

fn entry(id: u64, operation: &str, keys: &str, undoes: Option<u64>) -> SessionEntry {
    SessionEntry {
        id,
        time: format!("2026-01-02T03:0{id}:05.000Z"),
        operation: operation.into(),
        keys: keys.into(),
        undo: vec![format!("restore {keys} (string, no expiry)")],
        undoes,
        undone: false,
    }
}

fn journalled(m: &mut Model) {
    ev(
        m,
        WorkerEvent::Journalled(entry(1, "save", "t1:order", None)),
    );
    ev(
        m,
        WorkerEvent::Journalled(entry(2, "delete", "t1:note", None)),
    );
}

fn confirm_op(m: &Model) -> Option<WriteOp> {
    match &m.dialog {
        Some(Dialog::Confirm { op, .. }) => Some(op.clone()),
        _ => None,
    }
}

#[test]
fn u_undoes_the_newest_write_first_and_asks() {
    let c = clock();
    let mut m = loaded(&c);
    update(&mut m, key('u'));
    assert!(
        note_text(&m).contains("nothing to undo"),
        "{}",
        note_text(&m)
    );
    journalled(&mut m);
    update(&mut m, key('u'));
    assert_eq!(confirm_op(&m), Some(WriteOp::Undo { entry: 2 }));
    let text = screen(&m);
    assert!(text.contains("restore t1:note"), "{text}");
    insta::assert_snapshot!("undo_confirm", text);
    let fx = update(&mut m, key('y'));
    assert!(fx.iter().any(|f| matches!(
        f,
        Effect::Worker(WorkerCmd::Write {
            op: WriteOp::Undo { entry: 2 },
            ..
        })
    )));
    // The undo is journalled, naming what it undid: the next u takes the write before.
    ev(
        &mut m,
        WorkerEvent::Journalled(entry(3, "undo", "t1:note", Some(2))),
    );
    assert!(m.journal[1].undone);
    update(&mut m, key('u'));
    assert_eq!(confirm_op(&m), Some(WriteOp::Undo { entry: 1 }));
}

#[test]
fn undo_is_refused_read_only() {
    let c = clock();
    let mut m = loaded(&c);
    journalled(&mut m);
    m.settings.read_only = true;
    let fx = update(&mut m, key('u'));
    assert!(m.dialog.is_none());
    assert!(fx.is_empty());
    assert!(note_text(&m).contains("read-only"), "{}", note_text(&m));
}

#[test]
fn conflicts_of_an_undo_are_named() {
    let c = clock();
    let mut m = loaded(&c);
    journalled(&mut m);
    update(&mut m, key('u'));
    let fx = update(&mut m, key('y'));
    let id = fx
        .iter()
        .find_map(|f| match f {
            Effect::Worker(WorkerCmd::Write { id, .. }) => Some(*id),
            _ => None,
        })
        .unwrap();
    ev(
        &mut m,
        WorkerEvent::Written {
            id,
            op: WriteOp::Undo { entry: 2 },
            result: Ok(WriteOutcome::Undone {
                restored: 1,
                conflicts: vec!["t1:b".into()],
            }),
        },
    );
    let text = screen(&m);
    assert!(text.contains("1 restored"), "{text}");
    assert!(text.contains("t1:b"), "{text}");
}

#[test]
fn a_write_the_journal_cannot_keep_is_asked_about() {
    let c = clock();
    let mut m = loaded(&c);
    let op = WriteOp::Unlink {
        full_keys: vec![format!("{P}t1:order")],
    };
    let fx = ev(
        &mut m,
        WorkerEvent::Written {
            id: 9,
            op: op.clone(),
            result: Ok(WriteOutcome::NotJournalled {
                what: "the journal cannot keep the before-images of this write".into(),
            }),
        },
    );
    assert!(fx.is_empty());
    assert_eq!(confirm_op(&m), Some(WriteOp::Unjournalled(Box::new(op))));
}

#[test]
fn frame_journal_overlay() {
    let c = clock();
    let mut m = loaded(&c);
    update(&mut m, key(':'));
    for ch in "journal".chars() {
        update(&mut m, key(ch));
    }
    update(&mut m, code(KeyCode::Enter));
    assert!(
        note_text(&m).contains("no journalled write"),
        "{}",
        note_text(&m)
    );
    journalled(&mut m);
    ev(
        &mut m,
        WorkerEvent::Journalled(entry(3, "undo", "t1:note", Some(2))),
    );
    update(&mut m, key(':'));
    for ch in "journal".chars() {
        update(&mut m, key(ch));
    }
    update(&mut m, code(KeyCode::Enter));
    let text = screen(&m);
    assert!(text.contains("Journal"), "{text}");
    assert!(text.contains("(undone)"), "{text}");
    insta::assert_snapshot!("journal_overlay", text);
    // The newest is an undo; below it the undone delete; then the save, which u undoes.
    update(&mut m, key('j'));
    update(&mut m, key('j'));
    update(&mut m, key('u'));
    assert!(m.overlay.is_none());
    assert_eq!(confirm_op(&m), Some(WriteOp::Undo { entry: 1 }));
}
