//! Settings from a URL: `redis://`, `rediss://`, `redis+sentinel://` and `unix://`.

use crate::adapter::error::Result;

use std::path::PathBuf;

use super::{Config, SentinelConfig, TlsConfig, config_err, parse_db, parse_node};

impl Config {
    /// Settings from a `redis://` or `rediss://` URL: `redis://[user][:password]@host[:port][/db]`.
    ///
    /// ```
    /// use motia_state::Config;
    /// let c = Config::from_url("rediss://alice:p%40ss@10.0.0.1:7000/3").unwrap();
    /// assert_eq!((c.username.as_deref(), c.password.as_deref()), (Some("alice"), Some("p@ss")));
    /// assert!(c.tls.is_some());
    /// ```
    pub fn from_url(url: &str) -> Result<Self> {
        let mut config = Self::default();
        config.apply_url(url)?;
        Ok(config)
    }

    /// Overwrites host, port, credentials, database and TLS from a URL.
    ///
    /// ```
    /// use motia_state::Config;
    /// let mut c = Config { key_prefix: "app:".into(), ..Config::default() };
    /// c.apply_url("redis://cache:6380/1").unwrap();
    /// assert_eq!((c.host.as_str(), c.port, c.key_prefix.as_str()), ("cache", 6380, "app:"));
    /// ```
    pub fn apply_url(&mut self, raw: &str) -> Result<()> {
        if let Some(rest) = raw.strip_prefix("redis+sentinel://") {
            return self.apply_sentinel_url(rest);
        }
        let parsed = url::Url::parse(raw).map_err(|e| config_err("url", format!("{e}")))?;
        let tls = match parsed.scheme() {
            "redis" => false,
            "rediss" => true,
            "unix" | "redis+unix" => return self.apply_unix_url(&parsed),
            other => {
                return Err(config_err(
                    "url",
                    format!(
                        "unknown scheme {other:?} (use redis://, rediss://, unix:// or redis+unix://)"
                    ),
                ));
            }
        };
        self.socket = None;
        self.sentinel = None;
        let host = parsed
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| config_err("url", "no host name"))?;
        self.host = host.trim_start_matches('[').trim_end_matches(']').into();
        self.port = parsed.port().unwrap_or(6379);
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        if !parsed.username().is_empty() {
            self.username = Some(decode(parsed.username()));
        }
        if let Some(p) = parsed.password() {
            self.password = Some(decode(p));
        }
        let path = parsed.path().trim_matches('/');
        if !path.is_empty() {
            self.database = parse_db("url", path)?;
        }
        if tls {
            self.tls.get_or_insert_with(TlsConfig::default);
            if parsed.fragment() == Some("insecure")
                && let Some(t) = self.tls.as_mut()
            {
                t.insecure = true;
            }
        } else {
            self.tls = None;
        }
        Ok(())
    }

    /// `redis+sentinel://[user[:pass]@]host:26379,host2:26379/mymaster[/db]`: several hosts, so
    /// not a URL the `url` crate takes.
    fn apply_sentinel_url(&mut self, rest: &str) -> Result<()> {
        let (auth, rest) = match rest.rsplit_once('@') {
            Some((a, r)) => (Some(a), r),
            None => (None, rest),
        };
        let (hosts, path) = rest.split_once('/').unwrap_or((rest, ""));
        let mut parts = path.split('/').filter(|p| !p.is_empty());
        let Some(master) = parts.next() else {
            return Err(config_err(
                "url",
                "a sentinel URL names the primary after the hosts: redis+sentinel://host:26379/mymaster",
            ));
        };
        if let Some(db) = parts.next() {
            self.database = parse_db("url", db)?;
        }
        let mut nodes = Vec::new();
        for h in hosts.split(',').filter(|h| !h.is_empty()) {
            let h = if h.contains(':') && !h.ends_with(']') {
                h.to_string()
            } else {
                format!("{h}:26379")
            };
            parse_node("url", &h)?;
            nodes.push(h);
        }
        if nodes.is_empty() {
            return Err(config_err(
                "url",
                "a sentinel URL needs at least one sentinel host",
            ));
        }
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        if let Some(auth) = auth {
            let (user, pass) = match auth.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (auth, None),
            };
            if !user.is_empty() {
                self.username = Some(decode(user));
            }
            if let Some(p) = pass {
                self.password = Some(decode(p));
            }
        }
        self.sentinel = Some(SentinelConfig {
            nodes,
            master: decode(master),
        });
        self.socket = None;
        self.tls = None;
        Ok(())
    }

    /// `unix:///path/redis.sock?db=2&user=u&pass=p`: the database and credentials are in the
    /// query, as redis-rs and redis-cli take them.
    fn apply_unix_url(&mut self, parsed: &url::Url) -> Result<()> {
        let path = parsed.path();
        if path.is_empty() || path == "/" {
            return Err(config_err(
                "url",
                "a unix socket URL needs a path, as in unix:///run/redis.sock",
            ));
        }
        if parsed.host_str().is_some_and(|h| !h.is_empty()) {
            return Err(config_err(
                "url",
                "a unix socket URL takes an absolute path after three slashes: unix:///run/redis.sock",
            ));
        }
        for (name, value) in parsed.query_pairs() {
            match name.as_ref() {
                "db" => self.database = parse_db("url", &value)?,
                "user" => self.username = Some(value.into_owned()),
                "pass" | "password" => self.password = Some(value.into_owned()),
                other => {
                    return Err(config_err(
                        "url",
                        format!(
                            "unknown parameter {other:?} (unix socket URLs take db, user and pass)"
                        ),
                    ));
                }
            }
        }
        let path = url::form_urlencoded::parse(format!("x={path}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        self.socket = Some(PathBuf::from(path));
        self.tls = None;
        Ok(())
    }
}
