use super::*;

#[test]
fn coverage() {
    for (raw, live) in [
        ("", false),
        ("K$gx", true),
        ("$gxK", true),
        ("AK", true),
        ("AE", false),
        ("Kgx", false),
        ("K$g", false),
        ("KA", true),
        ("E$gx", false),
    ] {
        assert_eq!(NotifySetting::new(raw).covers_live(), live, "{raw}");
    }
}

#[test]
fn adding_keeps_what_is_there() {
    let s = NotifySetting::new("Elm");
    let c = NotifyChange::plan(&s);
    assert_eq!(c.added, "K$gxeh");
    assert_eq!(c.after.as_str(), "ElmK$gxeh");
    let a = NotifySetting::new("AE");
    assert_eq!(NotifyChange::plan(&a).after.as_str(), "AEK");
}

#[test]
fn taking_out_only_ours() {
    // We added K$g to "Ex"; someone then added "l": restoring leaves theirs.
    let found = NotifySetting::new("g$lxKE");
    assert_eq!(found.without("K$g").as_str(), "lxE");
    assert_eq!(NotifySetting::new("A").without("").as_str(), "A");
    assert_eq!(NotifySetting::new("").without("K").as_str(), "");
}

#[test]
fn explains_each_flag() {
    let text = NotifyChange::plan(&NotifySetting::new("x")).explain();
    assert!(text.contains("from \"x\" to \"xK$geh\""), "{text}");
    assert!(text.contains("$  string commands"), "{text}");
}
