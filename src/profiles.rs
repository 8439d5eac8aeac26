//! Saved connections: `[profiles.NAME]` tables in the same `config.toml` as the keymap, for
//! the CLI's settings and the browser's connection picker.
//!
//! A profile fills in what neither the flags nor the environment give. Secrets are not stored
//! by the program: a profile names a variable (`password_env`) or a command whose first output
//! line is the password (`password_command`); a literal `password` is read but warned about when
//! other users can read the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use motia_state::adapter::config::parse_node;
use motia_state::{Config, Error, TlsConfig};
use serde::Deserialize;

/// One saved connection.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub url: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub username: Option<String>,
    pub db: Option<i64>,
    pub prefix: Option<String>,
    pub trace_prefix: Option<String>,
    /// `motia` or `iii`; detected when absent.
    pub layout: Option<String>,
    pub tls: Option<bool>,
    pub tls_ca_cert: Option<PathBuf>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub tls_insecure: Option<bool>,
    pub cluster: Option<bool>,
    pub cluster_nodes: Option<Vec<String>>,
    pub sentinel_nodes: Option<Vec<String>>,
    pub sentinel_master: Option<String>,
    pub read_only: Option<bool>,
    /// `false`: writes are not journalled (as `--no-journal`).
    pub journal: Option<bool>,
    pub password_env: Option<String>,
    pub password_command: Option<String>,
    pub password: Option<String>,
}

/// One saved connection as the picker lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionEntry {
    pub name: String,
    /// Where it connects, without the password.
    pub place: String,
    /// "standalone", "cluster" or "sentinel".
    pub mode: String,
    pub read_only: bool,
    pub prefix: String,
}

/// The profiles of one config file.
#[derive(Debug, Clone, Default)]
pub struct Profiles {
    pub file: PathBuf,
    pub profiles: BTreeMap<String, Profile>,
}

/// Where a profile's password comes from, resolved only when nothing else gave one.
#[derive(Debug, Clone)]
pub enum PasswordSource {
    Env(String),
    Command(String),
    Literal(String),
}

fn err(name: &str, reason: impl Into<String>) -> Error {
    Error::Config {
        name: name.into(),
        reason: reason.into(),
    }
}

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    profiles: BTreeMap<String, Profile>,
}

impl Profiles {
    /// The profiles in `file` (none when the file is absent and was not asked for by name).
    pub fn load(file: Option<&Path>, explicit: bool) -> motia_state::Result<Self> {
        let Some(file) = file else {
            return Ok(Self::default());
        };
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
                return Ok(Self {
                    file: file.to_path_buf(),
                    profiles: BTreeMap::new(),
                });
            }
            Err(e) => {
                return Err(err(
                    "config file",
                    format!("cannot read {}: {e}", file.display()),
                ));
            }
        };
        Self::parse(&text, file)
    }

    pub fn parse(text: &str, file: &Path) -> motia_state::Result<Self> {
        // Only the profiles matter here; the keymap checks its own [keys] table.
        let table: toml::Table = toml::from_str(text)
            .map_err(|e| err("config file", format!("{}: {e}", file.display())))?;
        let profiles = match table.get("profiles") {
            None => BTreeMap::new(),
            Some(v) => {
                let only = toml::Table::from_iter([("profiles".to_string(), v.clone())]);
                let parsed: File = only.try_into().map_err(|e: toml::de::Error| {
                    err("config file", format!("{}: [profiles] {e}", file.display()))
                })?;
                parsed.profiles
            }
        };
        Ok(Self {
            file: file.to_path_buf(),
            profiles,
        })
    }

    pub fn get(&self, name: &str) -> motia_state::Result<&Profile> {
        self.profiles.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.profiles.keys().map(String::as_str).collect();
            err(
                "profile",
                if known.is_empty() {
                    format!(
                        "no profile {name:?}: {} has no [profiles.NAME] tables",
                        self.file.display()
                    )
                } else {
                    format!(
                        "no profile {name:?} in {} (known: {})",
                        self.file.display(),
                        known.join(", ")
                    )
                },
            )
        })
    }
}

/// Whether the chosen profile turns the write journal off (`journal = false`).
pub fn journal_off(file: Option<&Path>, profile: Option<&str>) -> motia_state::Result<bool> {
    let Some(name) = profile else {
        return Ok(false);
    };
    let profiles = Profiles::load(file, true)?;
    Ok(profiles.get(name)?.journal == Some(false))
}

impl Profiles {
    /// The demo's connections: its server, and the same read-only.
    pub fn demo(url: &str) -> Self {
        let profile = |read_only: bool| Profile {
            url: Some(url.to_string()),
            read_only: Some(read_only),
            ..Profile::default()
        };
        Self {
            file: PathBuf::from("(demo)"),
            profiles: BTreeMap::from([
                ("demo".to_string(), profile(false)),
                ("demo-read-only".to_string(), profile(true)),
            ]),
        }
    }

    /// The settings of one saved connection over the defaults, password resolved: what the
    /// browser switches to.
    pub fn config_for(&self, name: &str) -> motia_state::Result<Config> {
        let mut c = Config::default();
        let source = self.get(name)?.apply(name, &mut c)?;
        if let Some(source) = source {
            let env = |v: &str| std::env::var(v).ok().filter(|v| !v.is_empty());
            c.password = Some(source.resolve(name, &self.file, &env)?);
        }
        c.validate()?;
        Ok(c)
    }

    /// Each profile as the connection picker lists it (nothing is run or read for it).
    pub fn entries(&self) -> Vec<ConnectionEntry> {
        self.profiles
            .iter()
            .map(|(name, p)| {
                let mut c = Config::default();
                let place = match p.apply(name, &mut c) {
                    Ok(_) => c.display_url(),
                    Err(e) => format!("(invalid: {e})"),
                };
                ConnectionEntry {
                    name: name.clone(),
                    place,
                    mode: p.mode().to_string(),
                    read_only: c.read_only,
                    prefix: c.key_prefix.clone(),
                }
            })
            .collect()
    }
}

impl Profile {
    /// Writes the profile's settings into `c` (over the defaults); the password is returned as a
    /// source to resolve later, so a command runs only when nothing else gives a password.
    pub fn apply(&self, name: &str, c: &mut Config) -> motia_state::Result<Option<PasswordSource>> {
        let setting = |field: &str| format!("profile {name}: {field}");
        if let Some(url) = &self.url {
            c.apply_url(url).map_err(|e| match e {
                Error::Config { reason, .. } => err(&setting("url"), reason),
                other => other,
            })?;
        }
        if let Some(h) = &self.host {
            c.host = h.clone();
        }
        if let Some(p) = self.port {
            if p == 0 {
                return Err(err(&setting("port"), "port 0 is not a usable port"));
            }
            c.port = p;
        }
        if let Some(u) = &self.username {
            c.username = Some(u.clone());
        }
        if let Some(d) = self.db {
            if d < 0 {
                return Err(err(&setting("db"), format!("{d} is not a database number")));
            }
            c.database = d;
        }
        if let Some(p) = &self.prefix {
            c.key_prefix = p.clone();
        }
        if let Some(p) = &self.trace_prefix {
            c.trace_prefix = p.clone();
        }
        if let Some(l) = &self.layout {
            c.layout = Some(motia_state::Layout::parse_setting(&setting("layout"), l)?);
        }
        let wants_tls = self.tls == Some(true)
            || self.tls_insecure == Some(true)
            || self.tls_ca_cert.is_some()
            || self.tls_cert.is_some();
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err(err(
                &setting("tls_cert"),
                "a client certificate needs its key (tls_cert and tls_key go together)",
            ));
        }
        if wants_tls {
            let tls = c.tls.get_or_insert_with(TlsConfig::default);
            if let Some(p) = &self.tls_ca_cert {
                tls.ca_cert = Some(p.clone());
            }
            if let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) {
                tls.client_cert = Some(cert.clone());
                tls.client_key = Some(key.clone());
            }
            tls.insecure |= self.tls_insecure == Some(true);
        }
        if let Some(nodes) = &self.cluster_nodes {
            for n in nodes {
                parse_node(&setting("cluster_nodes"), n)?;
            }
            c.cluster_nodes = nodes.clone();
            c.cluster = true;
        }
        if let Some(on) = self.cluster {
            c.cluster |= on;
        }
        if let Some(nodes) = &self.sentinel_nodes {
            for n in nodes {
                parse_node(&setting("sentinel_nodes"), n)?;
            }
            c.sentinel = Some(motia_state::SentinelConfig {
                nodes: nodes.clone(),
                master: self
                    .sentinel_master
                    .clone()
                    .unwrap_or_else(|| "mymaster".into()),
            });
        }
        if let Some(ro) = self.read_only {
            c.read_only |= ro;
        }
        let sources = [
            self.password_env.clone().map(PasswordSource::Env),
            self.password_command.clone().map(PasswordSource::Command),
            self.password.clone().map(PasswordSource::Literal),
        ];
        let mut given = sources.into_iter().flatten();
        let source = given.next();
        if given.next().is_some() {
            return Err(err(
                &setting("password"),
                "give one of password_env, password_command and password",
            ));
        }
        Ok(source)
    }

    /// "standalone", "cluster" or "sentinel", for the connection picker.
    pub fn mode(&self) -> &'static str {
        if self.sentinel_nodes.is_some() {
            "sentinel"
        } else if self.cluster == Some(true) || self.cluster_nodes.is_some() {
            "cluster"
        } else {
            "standalone"
        }
    }
}

impl PasswordSource {
    /// The password: the variable's value, or the command's first output line. Errors never
    /// contain the password.
    pub fn resolve(
        &self,
        profile: &str,
        file: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> motia_state::Result<String> {
        match self {
            PasswordSource::Env(var) => env(var).ok_or_else(|| {
                err(
                    &format!("profile {profile}: password_env"),
                    format!("the variable {var} is not set"),
                )
            }),
            PasswordSource::Command(cmd) => run_password_command(profile, cmd),
            PasswordSource::Literal(p) => {
                warn_if_readable(file);
                Ok(p.clone())
            }
        }
    }
}

fn run_password_command(profile: &str, cmd: &str) -> motia_state::Result<String> {
    let name = format!("profile {profile}: password_command");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .output()
        .map_err(|e| err(&name, format!("cannot run `sh -c {cmd}`: {e}")))?;
    if !out.status.success() {
        // Its stderr may say why (a locked keychain); its stdout is never shown.
        let why = String::from_utf8_lossy(&out.stderr)
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        let status = out
            .status
            .code()
            .map_or("a signal".to_string(), |c| format!("status {c}"));
        return Err(err(
            &name,
            if why.is_empty() {
                format!("`{cmd}` failed with {status}")
            } else {
                format!("`{cmd}` failed with {status}: {why}")
            },
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    match text.lines().next().map(str::trim_end) {
        Some(line) if !line.is_empty() => Ok(line.to_string()),
        _ => Err(err(&name, format!("`{cmd}` printed no password"))),
    }
}

/// A password written in a file other users can read is no secret: say so, naming the file.
fn warn_if_readable(file: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(file)
        && meta.permissions().mode() & 0o044 != 0
    {
        let msg = format!(
            "warning: {} holds a password and other users can read it (chmod 600 {0}, or use password_env or password_command)",
            file.display()
        );
        tracing::warn!("{msg}");
        eprintln!("motia-state: {msg}");
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const FILE: &str = r#"
[keys]
quit = ["q"]

[profiles.staging]
url = "redis://cache.internal:6380/2"
username = "motia-reader"
prefix = "app:state:"
read_only = true
password_env = "STAGING_PW"

[profiles.prod]
cluster_nodes = ["10.0.0.1:7000", "10.0.0.2:7000"]
host = "10.0.0.1"
port = 7000
password_command = "printf 'from-command\nsecond line'"
"#;

    fn profiles() -> Profiles {
        Profiles::parse(FILE, Path::new("/x/config.toml")).unwrap()
    }

    #[test]
    fn a_profile_fills_the_settings() {
        let p = profiles();
        let mut c = Config::default();
        let source = p.get("staging").unwrap().apply("staging", &mut c).unwrap();
        assert_eq!(
            c.display_url(),
            "redis://motia-reader@cache.internal:6380/2"
        );
        assert_eq!(c.key_prefix, "app:state:");
        assert!(c.read_only);
        assert!(matches!(source, Some(PasswordSource::Env(v)) if v == "STAGING_PW"));
        let mut c = Config::default();
        let source = p.get("prod").unwrap().apply("prod", &mut c).unwrap();
        assert!(c.is_cluster());
        assert_eq!(
            source.unwrap().resolve("prod", &p.file, &|_| None).unwrap(),
            "from-command"
        );
    }

    #[test]
    fn unknown_names_fields_and_failing_commands_are_clear_errors() {
        let p = profiles();
        let e = p.get("nope").unwrap_err().to_string();
        assert!(e.contains("known: prod, staging"), "{e}");
        let bad = Profiles::parse("[profiles.x]\nhots = \"h\"\n", Path::new("c.toml"));
        assert!(bad.unwrap_err().to_string().contains("hots"));
        let e = PasswordSource::Command("printf 'secret-%s' out; echo locked >&2; exit 3".into())
            .resolve("x", Path::new("c.toml"), &|_| None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("failed with status 3: locked"), "{e}");
        assert!(!e.contains("secret-out"), "{e}");
        let e = PasswordSource::Env("MOTIA_STATE_TEST_UNSET_VARIABLE".into())
            .resolve("x", Path::new("c.toml"), &|_| None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("MOTIA_STATE_TEST_UNSET_VARIABLE is not set"),
            "{e}"
        );
        let two = Profiles::parse(
            "[profiles.x]\npassword = \"a\"\npassword_env = \"B\"\n",
            Path::new("c.toml"),
        )
        .unwrap();
        let e = two.get("x").unwrap().apply("x", &mut Config::default());
        assert!(e.unwrap_err().to_string().contains("give one of"));
    }
}
