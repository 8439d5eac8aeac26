//! The connection flags shared by the browser and every subcommand, and how they become a
//! [`Config`] over the environment and the defaults.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use motia_state::Config;

/// Connection options shared by the browser and every subcommand. Flags win over `REDIS_*`
/// variables, which win over `MOTIA_REDIS_*`, which win over the defaults.
// clap prints these doc comments as the --help text: they are written for a terminal
// (`[user]`, `<TAB>` as a user reads them), not as rustdoc markup.
#[allow(rustdoc::broken_intra_doc_links, rustdoc::invalid_html_tags)]
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Connection")]
pub struct GlobalArgs {
    /// Server URL, redis://[user][:password]@host[:port][/db], rediss:// for TLS,
    /// unix:///path/redis.sock?db=N; repeat for more cluster seed nodes [env: REDIS_URL]
    #[arg(long, global = true, value_name = "URL")]
    pub url: Vec<String>,
    /// Talk to a Redis Cluster (found by itself when the server is a cluster node); seed nodes
    /// from --url (repeated) [env: REDIS_CLUSTER_NODES=host:port,host:port]
    #[arg(long, global = true)]
    pub cluster: bool,
    /// A sentinel to ask for the current primary, host:port; repeat for more (or
    /// redis+sentinel://host:26379,host2:26379/mymaster in --url)
    #[arg(long = "sentinel", global = true, value_name = "HOST:PORT")]
    pub sentinels: Vec<String>,
    /// The primary's name the sentinels watch [default: mymaster]
    #[arg(long, global = true, value_name = "NAME")]
    pub sentinel_master: Option<String>,
    /// A saved connection: [profiles.NAME] in the config file; flags and the environment
    /// override its settings [env: MOTIA_STATE_PROFILE]
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// Say on stderr how the connection was made (never the password) and which layout is used, and why
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Server host [env: REDIS_HOST, MOTIA_REDIS_HOST] [default: localhost]
    #[arg(long, global = true)]
    pub host: Option<String>,
    /// Server port [env: REDIS_PORT, MOTIA_REDIS_PORT] [default: 6379]
    #[arg(long, global = true)]
    pub port: Option<String>,
    /// ACL user name [env: REDIS_USERNAME, MOTIA_REDIS_USERNAME]
    #[arg(long, global = true, value_name = "NAME")]
    pub username: Option<String>,
    /// Password [env: REDIS_PASSWORD, MOTIA_REDIS_PASSWORD]
    #[arg(long, global = true)]
    pub password: Option<String>,
    /// Database number [env: REDIS_DATABASE, MOTIA_REDIS_DB] [default: 0]
    #[arg(long, global = true, value_name = "N")]
    pub db: Option<String>,
    /// Key prefix, used verbatim [env: STATE_KEY_PREFIX] [default: motia:state:]
    #[arg(long, global = true)]
    pub prefix: Option<String>,
    /// Expiry of every write, like Motia's ttl: 90, 90s, 10m, 2h, 1d [env: STATE_TTL, seconds]
    #[arg(long, global = true, value_name = "DURATION")]
    pub ttl: Option<String>,
    /// Seconds to wait for a connection [default: 10]
    #[arg(long, global = true, value_name = "SECS")]
    pub connect_timeout: Option<String>,
    /// State layout: motia (0.x strings under the prefix) or iii (Motia 1.x / iii engine: one
    /// state:{scope} hash per scope) [env: MOTIA_STATE_LAYOUT] [default: detected]
    #[arg(long, global = true, value_name = "LAYOUT")]
    pub layout: Option<String>,
    /// Prefix of Motia's trace record hashes [default: motia:trace:]
    #[arg(long, global = true, value_name = "PREFIX")]
    pub trace_prefix: Option<String>,
    /// Refuse every write before it reaches Redis (refusals exit with status 2)
    #[arg(long, global = true)]
    pub read_only: bool,
    /// Write without journalling the keys' previous values (no undo) [config: the profile's
    /// journal = false]
    #[arg(long, global = true)]
    pub no_journal: bool,
    /// Connect with TLS, as rediss:// does; every --tls-* flag implies it
    #[arg(long, global = true)]
    pub tls: bool,
    /// PEM file of the CA that signed the server's certificate [env: REDIS_TLS_CA_CERT]
    /// [default: the system's roots]
    #[arg(long, global = true, value_name = "FILE")]
    pub tls_ca_cert: Option<PathBuf>,
    /// PEM client certificate, for servers that require one; needs --tls-key [env: REDIS_TLS_CERT]
    #[arg(long, global = true, value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of the client certificate [env: REDIS_TLS_KEY]
    #[arg(long, global = true, value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// Accept a server certificate issued for another host name (its CA is still checked)
    #[arg(long, global = true)]
    pub tls_insecure: bool,
}

impl GlobalArgs {
    /// Settings from flags over environment over defaults; errors name the flag or variable.
    pub fn to_config(
        &self,
        config_file: Option<&Path>,
    ) -> motia_state::Result<(Config, Option<String>)> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        self.to_config_with(&env, config_file)
    }

    /// Settings from flags, over the environment (`env`), over the profile (`--profile` or
    /// `MOTIA_STATE_PROFILE`, from `config_file`), over the defaults; also the profile's name.
    pub fn to_config_with(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
        config_file: Option<&Path>,
    ) -> motia_state::Result<(Config, Option<String>)> {
        use motia_state::adapter::config::{parse_db, parse_port, parse_ttl_secs};
        let mut c = Config::default();
        let profile_name = self.profile.clone().or_else(|| env("MOTIA_STATE_PROFILE"));
        let mut password_source = None;
        let mut profiles = crate::profiles::Profiles::default();
        if let Some(name) = &profile_name {
            let Some(file) = config_file else {
                return Err(motia_state::Error::Config {
                    name: "--profile".into(),
                    reason: "no config file to read profiles from (give --config FILE)".into(),
                });
            };
            profiles = crate::profiles::Profiles::load(Some(file), true)?;
            password_source = profiles.get(name)?.apply(name, &mut c)?;
        }
        c.apply_env_with(env)?;
        let url_err = |e| match e {
            motia_state::Error::Config { reason, .. } => motia_state::Error::Config {
                name: "--url".into(),
                reason,
            },
            other => other,
        };
        if let Some((first, more)) = self.url.split_first() {
            c.apply_url(first).map_err(url_err)?;
            if !more.is_empty() {
                c.cluster = true;
                c.cluster_nodes.clear();
            }
            for url in more {
                let mut node = Config::default();
                node.apply_url(url).map_err(url_err)?;
                c.cluster_nodes.push(node.addr());
            }
        }
        c.cluster |= self.cluster;
        if !self.sentinels.is_empty() {
            for n in &self.sentinels {
                motia_state::adapter::config::parse_node("--sentinel", n)?;
            }
            c.sentinel = Some(motia_state::SentinelConfig {
                nodes: self.sentinels.clone(),
                master: self
                    .sentinel_master
                    .clone()
                    .or_else(|| c.sentinel.as_ref().map(|s| s.master.clone()))
                    .unwrap_or_else(|| "mymaster".into()),
            });
        } else if let (Some(name), Some(s)) = (&self.sentinel_master, c.sentinel.as_mut()) {
            s.master = name.clone();
        }
        if let Some(h) = &self.host {
            c.host = h.clone();
        }
        if let Some(p) = &self.port {
            c.port = parse_port("--port", p)?;
        }
        if let Some(u) = &self.username {
            c.username = Some(u.clone());
        }
        if let Some(p) = &self.password {
            c.password = Some(p.clone());
        }
        if let Some(d) = &self.db {
            c.database = parse_db("--db", d)?;
        }
        if let Some(p) = &self.prefix {
            c.key_prefix = p.clone();
        }
        if let Some(p) = &self.trace_prefix {
            c.trace_prefix = p.clone();
        }
        if let Some(l) = &self.layout {
            c.layout = Some(motia_state::Layout::parse_setting("--layout", l)?);
        }
        if let Some(t) = &self.ttl {
            c.ttl = Some(parse_ttl_flag(t)?);
        }
        if let Some(t) = &self.connect_timeout {
            c.connect_timeout = Duration::from_secs(parse_ttl_secs("--connect-timeout", t)?);
        }
        c.read_only |= self.read_only;
        self.apply_tls(&mut c, env)?;
        // The profile's password only when neither a flag nor the environment gave one, so a
        // password command does not run for nothing.
        if c.password.is_none()
            && let (Some(source), Some(name)) = (password_source, &profile_name)
        {
            c.password = Some(source.resolve(name, &profiles.file, env)?);
        }
        c.validate()?;
        Ok((c, profile_name))
    }

    /// TLS from flags over `REDIS_TLS_*`; any of them turns TLS on. Certificate files are
    /// read here so that a wrong path is named with its flag before anything connects.
    fn apply_tls(
        &self,
        c: &mut Config,
        env: impl Fn(&str) -> Option<String>,
    ) -> motia_state::Result<()> {
        let pick = |flag: &Option<PathBuf>, flag_name: &'static str, var: &'static str| match flag {
            Some(p) => Some((flag_name, p.clone())),
            None => env(var).map(|v| (var, PathBuf::from(v))),
        };
        let ca = pick(&self.tls_ca_cert, "--tls-ca-cert", "REDIS_TLS_CA_CERT");
        let cert = pick(&self.tls_cert, "--tls-cert", "REDIS_TLS_CERT");
        let key = pick(&self.tls_key, "--tls-key", "REDIS_TLS_KEY");
        let config_err = |name: &str, reason: String| motia_state::Error::Config {
            name: name.into(),
            reason,
        };
        match (&cert, &key) {
            (Some((name, _)), None) => {
                return Err(config_err(
                    name,
                    "a client certificate needs its private key too (--tls-key or REDIS_TLS_KEY)"
                        .into(),
                ));
            }
            (None, Some((name, _))) => {
                return Err(config_err(
                    name,
                    "a private key needs its client certificate too (--tls-cert or REDIS_TLS_CERT)"
                        .into(),
                ));
            }
            _ => {}
        }
        for (name, path) in [&ca, &cert, &key].into_iter().flatten() {
            if let Err(e) = std::fs::read(path) {
                return Err(config_err(
                    name,
                    format!("cannot read {}: {e}", path.display()),
                ));
            }
        }
        let wanted = self.tls || self.tls_insecure || ca.is_some() || cert.is_some();
        if !wanted {
            return Ok(());
        }
        let tls = c.tls.get_or_insert_with(Default::default);
        if let Some((_, p)) = ca {
            tls.ca_cert = Some(p);
        }
        if let (Some((_, cert)), Some((_, key))) = (cert, key) {
            tls.client_cert = Some(cert);
            tls.client_key = Some(key);
        }
        tls.insecure |= self.tls_insecure;
        Ok(())
    }
}

/// `--ttl` takes the durations `expire` takes (`90`, `10m`, `1h30m`), in whole seconds.
fn parse_ttl_flag(value: &str) -> motia_state::Result<u64> {
    let bad = |reason: String| motia_state::Error::Config {
        name: "--ttl".into(),
        reason,
    };
    match value.parse::<motia_state::Expiry>() {
        Ok(motia_state::Expiry::After(d)) if d.subsec_nanos() == 0 && d.as_secs() > 0 => {
            Ok(d.as_secs())
        }
        Ok(motia_state::Expiry::After(_)) => Err(bad(format!(
            "{value:?} is not a whole number of seconds of at least 1"
        ))),
        Ok(motia_state::Expiry::Persist) => Err(bad(format!(
            "{value:?} is not a duration; leave --ttl out for no expiry"
        ))),
        Err(e) => Err(bad(e.to_string())),
    }
}
