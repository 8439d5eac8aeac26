//! Command-line definitions: global connection options (each falling back to the environment)
//! and the subcommands.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use motia_state::Config;

/// Browse and script Motia state in Redis.
#[derive(Debug, Parser)]
#[command(name = "motia-state", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Connection options shared by the browser and every subcommand. Flags win over `REDIS_*`
/// variables, which win over `MOTIA_REDIS_*`, which win over the defaults.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Server URL, redis://[user][:password]@host[:port][/db] or rediss:// for TLS
    #[arg(long, global = true, env = "REDIS_URL", hide_env_values = true)]
    pub url: Option<String>,
    /// Server host [env: REDIS_HOST, MOTIA_REDIS_HOST] [default: localhost]
    #[arg(long, global = true)]
    pub host: Option<String>,
    /// Server port [env: REDIS_PORT, MOTIA_REDIS_PORT] [default: 6379]
    #[arg(long, global = true)]
    pub port: Option<String>,
    /// ACL user name [env: REDIS_USERNAME, MOTIA_REDIS_USERNAME]
    #[arg(long, global = true)]
    pub username: Option<String>,
    /// Password [env: REDIS_PASSWORD, MOTIA_REDIS_PASSWORD]
    #[arg(long, global = true)]
    pub password: Option<String>,
    /// Database number [env: REDIS_DATABASE, MOTIA_REDIS_DB] [default: 0]
    #[arg(long, global = true)]
    pub db: Option<String>,
    /// Key prefix, used verbatim [env: STATE_KEY_PREFIX] [default: motia:state:]
    #[arg(long, global = true)]
    pub prefix: Option<String>,
    /// Expiry in seconds applied to every write, like Motia's ttl [env: STATE_TTL]
    #[arg(long, global = true)]
    pub ttl: Option<String>,
    /// Seconds to wait for a connection [default: 10]
    #[arg(long, global = true, value_name = "SECS")]
    pub connect_timeout: Option<String>,
    /// Refuse every write before it reaches Redis
    #[arg(long, global = true)]
    pub read_only: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List trace ids, one a line, sorted
    Traces {
        /// Print TRACE<TAB>NUMBER_OF_KEYS
        #[arg(long)]
        counts: bool,
    },
}

impl GlobalArgs {
    /// Settings from flags over environment over defaults; errors name the flag or variable.
    pub fn to_config(&self) -> motia_state::Result<Config> {
        use motia_state::adapter::config::{parse_db, parse_port, parse_ttl_secs};
        let mut c = Config::from_env()?;
        if let Some(url) = &self.url {
            c.apply_url(url).map_err(|e| match e {
                motia_state::Error::Config { reason, .. } => motia_state::Error::Config {
                    name: "--url".into(),
                    reason,
                },
                other => other,
            })?;
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
        if let Some(t) = &self.ttl {
            c.ttl = Some(parse_ttl_secs("--ttl", t)?);
        }
        if let Some(t) = &self.connect_timeout {
            c.connect_timeout = Duration::from_secs(parse_ttl_secs("--connect-timeout", t)?);
        }
        c.read_only = self.read_only;
        c.validate()?;
        Ok(c)
    }
}

/// Where the browser's keymap file lives unless `--config` says otherwise.
pub fn default_config_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("dev", "motia", "motia-state")
        .map(|d| d.config_dir().to_path_buf())
}
