//! Settings from the environment (`REDIS_URL`, `REDIS_HOST`, ...), over a URL's.

use crate::adapter::error::Result;

use super::{Config, parse_db, parse_node, parse_port, parse_ttl_secs, rename};

impl Config {
    /// Settings from the process environment; see [`Config::from_env_with`].
    ///
    /// ```
    /// use motia_state::Config;
    /// match Config::from_env() {
    ///     Ok(config) => println!("using {}", config.display_url()),
    ///     Err(e) => eprintln!("{e}"),
    /// }
    /// ```
    pub fn from_env() -> Result<Self> {
        Self::from_env_with(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    /// Settings from an environment lookup: `REDIS_URL`, overridden part by part by `REDIS_HOST
    /// REDIS_PORT REDIS_USERNAME REDIS_PASSWORD REDIS_DATABASE`, plus `STATE_KEY_PREFIX STATE_TTL`.
    /// Without `REDIS_URL`, Motia's `MOTIA_REDIS_HOST MOTIA_REDIS_PORT MOTIA_REDIS_USERNAME
    /// MOTIA_REDIS_PASSWORD MOTIA_REDIS_DB` fill what the `REDIS_*` variables leave out.
    ///
    /// ```
    /// use motia_state::Config;
    /// let env = |k: &str| match k {
    ///     "MOTIA_REDIS_PORT" => Some("7000".to_string()),
    ///     "STATE_TTL" => Some("60".to_string()),
    ///     _ => None,
    /// };
    /// let c = Config::from_env_with(env).unwrap();
    /// assert_eq!((c.port, c.ttl), (7000, Some(60)));
    /// assert!(Config::from_env_with(|k| (k == "REDIS_PORT").then(|| "abc".into())).is_err());
    /// ```
    pub fn from_env_with(env: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let mut c = Self::default();
        c.apply_env_with(env)?;
        Ok(c)
    }

    /// Overwrites what the environment lookup sets (see [`Config::from_env_with`]) and keeps
    /// the rest: for settings from a saved profile that the environment may override.
    ///
    /// ```
    /// use motia_state::Config;
    /// let mut c = Config { key_prefix: "profile:".into(), port: 7000, ..Config::default() };
    /// c.apply_env_with(|k| (k == "STATE_KEY_PREFIX").then(|| "env:".to_string())).unwrap();
    /// assert_eq!((c.key_prefix.as_str(), c.port), ("env:", 7000));
    /// ```
    pub fn apply_env_with(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<()> {
        let c = self;
        if let Some(url) = env("REDIS_URL") {
            c.apply_url(&url).map_err(|e| rename(e, "REDIS_URL"))?;
        }
        // Motia's own variables fill only what neither REDIS_URL nor REDIS_* gives.
        let has_url = env("REDIS_URL").is_some();
        let pick = |primary: &str, fallback: &str| {
            env(primary).map(|v| (primary.to_string(), v)).or_else(|| {
                (!has_url)
                    .then(|| env(fallback).map(|v| (fallback.to_string(), v)))
                    .flatten()
            })
        };
        if let Some((_, v)) = pick("REDIS_HOST", "MOTIA_REDIS_HOST") {
            c.host = v;
        }
        if let Some((n, v)) = pick("REDIS_PORT", "MOTIA_REDIS_PORT") {
            c.port = parse_port(&n, &v)?;
        }
        if let Some((_, v)) = pick("REDIS_USERNAME", "MOTIA_REDIS_USERNAME") {
            c.username = Some(v);
        }
        if let Some((_, v)) = pick("REDIS_PASSWORD", "MOTIA_REDIS_PASSWORD") {
            c.password = Some(v);
        }
        if let Some((n, v)) = pick("REDIS_DATABASE", "MOTIA_REDIS_DB") {
            c.database = parse_db(&n, &v)?;
        }
        if let Some(v) = env("REDIS_CLUSTER_NODES") {
            let mut nodes = Vec::new();
            for n in v.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                parse_node("REDIS_CLUSTER_NODES", n)?;
                nodes.push(n.to_string());
            }
            // The first node is the seed `host:port` unless REDIS_URL/REDIS_HOST gave one.
            if !has_url && env("REDIS_HOST").is_none() && !nodes.is_empty() {
                let (h, p) = parse_node("REDIS_CLUSTER_NODES", &nodes.remove(0))?;
                c.host = h;
                c.port = p;
            }
            c.cluster_nodes = nodes;
            c.cluster = true;
        }
        if let Some(v) = env("STATE_KEY_PREFIX") {
            c.key_prefix = v;
        }
        if let Some(v) = env("STATE_TTL") {
            c.ttl = Some(parse_ttl_secs("STATE_TTL", &v)?);
        }
        if let Some(v) = env("MOTIA_STATE_LAYOUT") {
            c.layout = Some(crate::adapter::layout::Layout::parse_setting(
                "MOTIA_STATE_LAYOUT",
                &v,
            )?);
        }
        Ok(())
    }
}
