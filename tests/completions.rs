//! `completions` and `man`: the scripts parse in the shells they are for, bash registers the
//! completion, and the page renders with `man -l`. Neither needs a server.

mod common;

use std::io::Write;
use std::process::{Command as Process, Stdio};

use common::motia_state as bin;

/// True when a missing tool (zsh, man) must fail the test rather than skip it: in CI, or
/// with `MOTIA_TEST_STRICT` set, as for the Valkey suite.
fn strict() -> bool {
    ["MOTIA_TEST_STRICT", "CI"]
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|v| !v.is_empty() && v != "false" && v != "0"))
}

/// True when `tool` runs; otherwise fails (strict) or says loudly that the test is skipped.
fn have(tool: &str, test: &str) -> bool {
    let found = Process::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        let how = format!("{tool} is not installed (.ci/run installs it)");
        assert!(!strict(), "{how}");
        let _ = writeln!(std::io::stderr(), "\n*** SKIPPING {test}: {how} ***\n");
    }
    found
}

fn output_of(args: &[&str]) -> Vec<u8> {
    // A broken connection setting must not matter: nothing connects.
    let out = bin()
        .args(args)
        .env("REDIS_PORT", "not-a-port")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn script(shell: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(&output_of(&["completions", shell])).unwrap();
    f
}

/// Runs `shell` with `args`; panics with its stderr unless it succeeds. Returns stdout.
fn run(shell: &str, args: &[&str]) -> String {
    let out = Process::new(shell).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{shell} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn bash_completion_parses_and_registers() {
    let f = script("bash");
    let path = f.path().to_str().unwrap();
    run("bash", &["-n", path]);
    let registered = run(
        "bash",
        &["-c", &format!("source {path} && complete -p motia-state")],
    );
    assert!(
        registered.contains("-F _motia__state motia-state"),
        "{registered}"
    );
    // The function completes a subcommand from its first letters.
    let words = run(
        "bash",
        &[
            "-c",
            &format!(
                "source {path}; COMP_WORDS=(motia-state compl); COMP_CWORD=1; \
                 COMP_LINE='motia-state compl'; COMP_POINT=${{#COMP_LINE}}; \
                 _motia__state motia-state compl motia-state; printf '%s\\n' \"${{COMPREPLY[@]}}\""
            ),
        ],
    );
    assert_eq!(words.trim(), "completions");
}

#[test]
fn zsh_completion_parses() {
    if !have("zsh", "zsh_completion_parses") {
        return;
    }
    let f = script("zsh");
    run("zsh", &["-n", f.path().to_str().unwrap()]);
    let text = std::fs::read_to_string(f.path()).unwrap();
    assert!(text.starts_with("#compdef motia-state"), "{text}");
}

#[test]
fn every_shell_gets_a_script_naming_the_subcommands() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let text = String::from_utf8(output_of(&["completions", shell])).unwrap();
        for word in [
            "motia-state",
            "traces",
            "export",
            "completions",
            "read-only",
        ] {
            assert!(text.contains(word), "{shell}: no {word}");
        }
    }
}

#[test]
fn an_unknown_shell_is_bad_input() {
    let out = bin().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid value 'tcsh'"), "{err}");
    assert!(err.contains("bash, elvish, fish, powershell, zsh"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn the_man_page_renders_with_every_subcommand() {
    if !have("man", "the_man_page_renders_with_every_subcommand") {
        return;
    }
    let mut page = tempfile::Builder::new().suffix(".1").tempfile().unwrap();
    page.write_all(&output_of(&["man"])).unwrap();
    let out = Process::new("man")
        .args(["-l", page.path().to_str().unwrap()])
        .env("MANWIDTH", "100")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    // groff warns on stderr about roff it cannot read.
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for section in ["NAME", "SYNOPSIS", "CONNECTION", "NOTES"] {
        assert!(
            text.lines().any(|l| l == section),
            "no {section} in\n{text}"
        );
    }
    for sub in [
        "traces",
        "trace",
        "history",
        "keys",
        "get",
        "set",
        "del",
        "clear",
        "ttl",
        "expire",
        "items",
        "export",
        "import",
        "stats",
        "gc",
        "watch",
        "demo",
        "completions",
        "man",
    ] {
        let heading = format!("motia-state {sub}");
        assert!(text.lines().any(|l| l == heading), "no section {heading}");
    }
    // A subcommand's options are there, the global ones only once.
    assert!(text.contains("--older-than <DURATION>"));
    assert_eq!(text.matches("--tls-insecure\n").count(), 1, "{text}");
}
