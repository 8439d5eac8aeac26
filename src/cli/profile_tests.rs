//! How the binary resolves its settings: flags, then the environment, then a profile.

use super::*;
use motia_state::Config;

/// Settings as the binary computes them from these arguments and variables.
fn resolve(args: &[&str], vars: &[(&str, &str)]) -> motia_state::Result<Config> {
    use clap::Parser;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(&file, crate::profiles::tests::FILE).unwrap();
    let cli =
        Cli::try_parse_from(std::iter::once("motia-state").chain(args.iter().copied())).unwrap();
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let env = move |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    cli.global.to_config_with(&env, Some(&file)).map(|(c, _)| c)
}

#[test]
fn precedence_flags_then_environment_then_profile_then_defaults() {
    // Defaults.
    let c = resolve(&[], &[]).unwrap();
    assert_eq!((c.key_prefix.as_str(), c.port), ("motia:state:", 6379));
    assert!(!c.read_only);
    // The profile over the defaults (chosen by flag or by variable).
    for (args, vars) in [
        (&["--profile", "staging"][..], &[][..]),
        (&[][..], &[("MOTIA_STATE_PROFILE", "staging")][..]),
    ] {
        let mut vars = vars.to_vec();
        vars.push(("STAGING_PW", "pw-from-env"));
        let c = resolve(args, &vars).unwrap();
        assert_eq!(c.key_prefix, "app:state:");
        assert_eq!((c.host.as_str(), c.port), ("cache.internal", 6380));
        assert!(c.read_only);
    }
    let e = resolve(&["--profile", "staging"], &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("the variable STAGING_PW is not set"), "{e}");
    let c = resolve(&["--profile", "staging"], &[("STAGING_PW", "pw-from-env")]).unwrap();
    assert_eq!(c.password.as_deref(), Some("pw-from-env"));
    // The environment over the profile.
    let env = [
        ("MOTIA_STATE_PROFILE", "staging"),
        ("STATE_KEY_PREFIX", "env:"),
        ("REDIS_PORT", "7001"),
        ("REDIS_PASSWORD", "env-pw"),
        ("STAGING_PW", "unused"),
    ];
    let c = resolve(&[], &env).unwrap();
    assert_eq!((c.key_prefix.as_str(), c.port), ("env:", 7001));
    assert_eq!(
        c.host, "cache.internal",
        "what the environment leaves is the profile's"
    );
    assert_eq!(c.password.as_deref(), Some("env-pw"));
    // Flags over the environment.
    let c = resolve(
        &[
            "--prefix",
            "flag:",
            "--port",
            "7002",
            "--password",
            "flag-pw",
        ],
        &env,
    )
    .unwrap();
    assert_eq!((c.key_prefix.as_str(), c.port), ("flag:", 7002));
    assert_eq!(c.password.as_deref(), Some("flag-pw"));
    // A profile's password command runs only when nothing else gives one.
    let c = resolve(&["--profile", "prod", "--password", "flag-pw"], &[]).unwrap();
    assert_eq!(c.password.as_deref(), Some("flag-pw"));
    let c = resolve(&["--profile", "prod"], &[]).unwrap();
    assert_eq!(c.password.as_deref(), Some("from-command"));
    let e = resolve(&["--profile", "nope"], &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("no profile \"nope\""), "{e}");
}
