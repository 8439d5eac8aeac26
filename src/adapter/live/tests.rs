use super::*;

#[test]
fn patterns_are_escaped_and_narrow() {
    let patterns = |ch: &str, ks: &KeySpace, tp: &str, o: &LiveOptions| -> Vec<String> {
        patterns(ch, ks, tp, o)
            .iter()
            .map(|p| escape::shown(p))
            .collect()
    };
    let ks = KeySpace::new("app[1]:");
    let ch = "__keyspace@2__:";
    let all = LiveOptions {
        trace_records: true,
        ..LiveOptions::default()
    };
    assert_eq!(
        patterns(ch, &ks, "motia:trace:", &all),
        [
            "__keyspace@2__:app\\[1\\]:*",
            "__keyspace@2__:motia:trace:*"
        ]
    );
    let one = LiveOptions {
        trace: Some("t*".into()),
        key: Some("k?".into()),
        ..LiveOptions::default()
    };
    assert_eq!(
        patterns(ch, &ks, "motia:trace:", &one),
        ["__keyspace@2__:app\\[1\\]:t\\*:k\\?"]
    );
    let key = LiveOptions {
        key: Some("order".into()),
        ..LiveOptions::default()
    };
    assert_eq!(
        patterns(ch, &ks, "motia:trace:", &key),
        ["__keyspace@2__:app\\[1\\]:*:order"]
    );
}

#[test]
fn patterns_keep_names_that_are_not_utf8_exact() {
    let ks = KeySpace::new("motia:state:");
    let bytes = LiveOptions {
        trace: Some(b"t\xff*".to_vec()),
        trace_records: true,
        ..LiveOptions::default()
    };
    assert_eq!(
        patterns("__keyspace@0__:", &ks, "motia:trace:", &bytes),
        [
            b"__keyspace@0__:motia:state:t\xff\\*:*".to_vec(),
            b"__keyspace@0__:motia:trace:t\xff\\*".to_vec()
        ]
    );
}

#[test]
fn kinds() {
    for (name, kind) in [
        ("set", EventKind::Set),
        ("incrby", EventKind::Set),
        ("del", EventKind::Del),
        ("expired", EventKind::Expired),
        ("evicted", EventKind::Evicted),
        ("expire", EventKind::Expire),
        ("persist", EventKind::Persist),
        ("rename_from", EventKind::RenameFrom),
        ("rename_to", EventKind::RenameTo),
        ("hset", EventKind::Other),
    ] {
        assert_eq!(EventKind::of(name), kind, "{name}");
    }
}
