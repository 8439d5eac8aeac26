//! What both backends share: node addresses, the retry rule, the topology, making a redis-rs
//! client (TLS included) and turning its errors into ours. It stands below `conn` and
//! `cluster`, so neither imports the other back.

use std::time::Duration;

use redis::{Client, IntoConnectionInfo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::adapter::config::Config;
use crate::adapter::error::{Error, Result, noperm_reason};
use crate::adapter::not_redis;

/// Whether a command may be sent again after its connection broke mid-flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Reads and idempotent writes: resend once on a fresh connection.
    Safe,
    /// Commands whose second run would differ (GETDEL, compare-and-set): report the error.
    Never,
}

/// A server node: `(host, port)` exactly as the cluster advertises it.
pub(crate) type Node = (String, u16);

/// How the connection was made, for `--verbose` and the status bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topology {
    /// One server (TCP or unix socket).
    Standalone,
    /// A Redis Cluster; `detected` when the settings did not ask for it and the server said
    /// `cluster_enabled:1`.
    Cluster {
        /// Switched to cluster mode by itself.
        detected: bool,
        /// The seed nodes, `host:port`.
        seeds: Vec<String>,
    },
    /// The primary that Redis Sentinel names, followed through failovers.
    Sentinel {
        /// The monitored primary's name.
        master: String,
        /// `host:port` of the primary now (as last asked).
        primary: Option<String>,
    },
}

/// An error of the first connection: credentials, or why the server could not be reached.
pub(crate) fn connect_error(addr: &str, tls: bool, e: redis::RedisError) -> Error {
    if let Some(err) = credentials_error(addr, &e) {
        return err;
    }
    if not_redis::is_not_redis(&e) {
        return not_redis::error(addr);
    }
    let reason = e.to_string();
    let reason = match tls_hint(tls, &reason) {
        Some(hint) => format!("{reason} ({hint})"),
        None => reason,
    };
    Error::Connect {
        addr: addr.to_string(),
        reason,
    }
}

/// The library's error for a failed command: a timeout, one of the three ACL refusals (each
/// its own variant), or the server's error with what we were doing.
pub(crate) fn map_err(addr: &str, config: &Config, e: redis::RedisError, context: &str) -> Error {
    if e.is_timeout() {
        return Error::Timeout {
            addr: addr.to_string(),
            timeout: config.command_timeout.unwrap_or(Duration::ZERO),
        };
    }
    if let Some(err) = credentials_error(addr, &e) {
        return err;
    }
    let text = e.to_string();
    if e.code() == Some("NOPERM")
        // A command inside a script that the user may not run comes back as a plain ERR.
        || text.contains("user executing the script can't")
    {
        return Error::NoPerm {
            addr: addr.to_string(),
            context: context.to_string(),
            reason: noperm_reason(&text, context),
        };
    }
    if e.code() == Some("MOVED") && !config.is_cluster() {
        return Error::Config {
            name: "url".into(),
            reason: format!(
                "{addr} is a Redis Cluster node (it answered MOVED to {context}): connect with --cluster"
            ),
        };
    }
    Error::Redis {
        context: context.to_string(),
        source: e,
    }
}

/// WRONGPASS (or a refused AUTH) and NOAUTH: problems of the credentials, not of rights.
fn credentials_error(addr: &str, e: &redis::RedisError) -> Option<Error> {
    let text = e.to_string();
    if e.code() == Some("NOAUTH") || text.contains("NOAUTH") {
        return Some(Error::NoAuth {
            addr: addr.to_string(),
        });
    }
    if matches!(e.kind(), redis::ErrorKind::AuthenticationFailed)
        || e.code() == Some("WRONGPASS")
        || text.contains("WRONGPASS")
    {
        return Some(Error::Auth {
            addr: addr.to_string(),
            reason: "wrong password, or no such user (WRONGPASS)".into(),
        });
    }
    None
}

pub(crate) fn is_credentials_error(e: &redis::RedisError) -> bool {
    credentials_error("", e).is_some()
}

/// Plain words for the TLS failures whose rustls names say little to most users.
fn tls_hint(tls: bool, reason: &str) -> Option<&'static str> {
    if !tls {
        return reason
            .contains("reset by peer")
            .then_some("if this port expects TLS, connect with rediss://");
    }
    if reason.contains("CertificateRequired") {
        Some("the server requires a client certificate and its key")
    } else if reason.contains("UnknownIssuer") {
        Some("the server's certificate is not signed by a trusted CA: give the CA certificate")
    } else if reason.contains("timed out") || reason.contains("InvalidContentType") {
        Some("does this port speak TLS?")
    } else {
        None
    }
}

fn read_pem(path: &std::path::Path, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::Config {
        name: what.into(),
        reason: format!("cannot read {}: {e}", path.display()),
    })
}

/// Reads a PEM file and checks that it holds at least one object of the wanted kind, so a
/// wrong file is named here instead of surfacing as a handshake failure.
fn read_pem_of<T: PemObject>(path: &std::path::Path, what: &str, kind: &str) -> Result<Vec<u8>> {
    let bytes = read_pem(path, what)?;
    if T::from_pem_slice(&bytes).is_err() {
        return Err(Error::Config {
            name: what.into(),
            reason: format!("{} holds no PEM {kind}", path.display()),
        });
    }
    Ok(bytes)
}

/// redis-rs builds its rustls config with the process-wide crypto provider and compiles none
/// in itself; install ring unless the application installed a provider already.
fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race to another installer is fine: any provider will do.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// A client for `config`; `resp3` for connections that receive pushes (subscriptions).
/// The TCP options of a connection to one server: one small command waits for its answer, so
/// Nagle's algorithm would only hold it back (every Redis client turns it off; redis-rs leaves
/// it on). The cluster client keeps redis-rs's default: with it on, the failover test's `clear`
/// once timed out after a promotion (the hang behind redis-rs's per-node queue), and there was
/// no time to show the two unrelated.
pub(crate) fn tcp_settings() -> redis::io::tcp::TcpSettings {
    redis::io::tcp::TcpSettings::default().set_nodelay(true)
}

pub(crate) fn build_client(config: &Config, resp3: bool) -> Result<Client> {
    let addr = match &config.tls {
        _ if config.socket.is_some() => {
            redis::ConnectionAddr::Unix(config.socket.clone().unwrap_or_default())
        }
        None => redis::ConnectionAddr::Tcp(config.host.clone(), config.port),
        // redis-rs's own `insecure` turns off every check; ours only skips the hostname,
        // which is set below through `set_danger_accept_invalid_hostnames`.
        Some(_) => redis::ConnectionAddr::TcpTls {
            host: config.host.clone(),
            port: config.port,
            insecure: false,
            tls_params: None,
        },
    };
    let mut redis_settings = redis::RedisConnectionInfo::default().set_db(config.database);
    if resp3 {
        redis_settings = redis_settings.set_protocol(redis::ProtocolVersion::RESP3);
    }
    if let Some(u) = &config.username {
        redis_settings = redis_settings.set_username(u);
    }
    if let Some(p) = &config.password {
        redis_settings = redis_settings.set_password(p);
    }
    let info = addr
        .into_connection_info()
        .map_err(|e| Error::Config {
            name: "address".into(),
            reason: e.to_string(),
        })?
        .set_redis_settings(redis_settings)
        .set_tcp_settings(tcp_settings());
    let tls_err = |name: &str, e: redis::RedisError| Error::Config {
        name: name.into(),
        reason: e.to_string(),
    };
    let Some(tls) = &config.tls else {
        return Client::open(info).map_err(|e| tls_err("connection", e));
    };
    let certificates = tls_certificates(tls)?;
    // Always through build_with_tls: it gives the address the TLS parameters that the
    // hostname switch lives in (without a CA, the system roots are used).
    let client = Client::build_with_tls(info, certificates).map_err(|e| tls_err("tls", e))?;
    if !tls.insecure {
        return Ok(client);
    }
    let info = client.get_connection_info().clone();
    let mut addr = info.addr().clone();
    addr.set_danger_accept_invalid_hostnames(true);
    Client::open(info.set_addr(addr)).map_err(|e| tls_err("tls", e))
}

/// The CA and client certificate files, read and checked (installs the crypto provider).
pub(crate) fn tls_certificates(
    tls: &crate::adapter::config::TlsConfig,
) -> Result<redis::TlsCertificates> {
    install_crypto_provider();
    let root_cert = tls
        .ca_cert
        .as_deref()
        .map(|p| read_pem_of::<CertificateDer>(p, "tls ca cert", "certificate"))
        .transpose()?;
    let client_tls = match (&tls.client_cert, &tls.client_key) {
        (Some(c), Some(k)) => Some(redis::ClientTlsConfig {
            client_cert: read_pem_of::<CertificateDer>(c, "tls client cert", "certificate")?,
            client_key: read_pem_of::<PrivateKeyDer>(k, "tls client key", "private key")?,
        }),
        (None, None) => None,
        _ => {
            return Err(Error::Config {
                name: "tls".into(),
                reason: "a client certificate needs both the cert and the key file".into(),
            });
        }
    };
    Ok(redis::TlsCertificates {
        client_tls,
        root_cert,
    })
}
