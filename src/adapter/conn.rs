//! The connection layer: one multiplexed connection that reconnects with the configured
//! strategy. Operations talk to [`Conn`] only, so a cluster backend can slot in beside it.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, Cmd, FromRedisValue, IntoConnectionInfo, Pipeline};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::sync::Mutex;

use crate::adapter::config::Config;
use crate::adapter::error::{Error, Result, is_connection_error};

/// Whether a command may be sent again after its connection broke mid-flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Reads and idempotent writes: resend once on a fresh connection.
    Safe,
    /// Commands whose second run would differ (GETDEL, compare-and-set): report the error.
    Never,
}

/// A shared handle to the server; cheap to clone.
#[derive(Clone)]
pub(crate) struct Conn {
    inner: Arc<Standalone>,
}

/// The live connection and a number that changes with every reconnect, so a call that saw
/// an old connection break does not throw away a newer one.
#[derive(Default)]
struct Slot {
    generation: u64,
    conn: Option<MultiplexedConnection>,
}

struct Standalone {
    client: Client,
    addr: String,
    conn_config: AsyncConnectionConfig,
    config: Config,
    current: Mutex<Slot>,
}

impl Conn {
    /// Opens the first connection: one attempt bounded by the connect timeout, so a wrong
    /// address or password is reported at once instead of after a reconnect loop.
    pub(crate) async fn open(config: &Config) -> Result<Self> {
        config.validate()?;
        let addr = config.addr();
        let client = build_client(config, false)?;
        let conn_config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(config.connect_timeout))
            .set_response_timeout(config.command_timeout);
        let inner = Standalone {
            client,
            addr,
            conn_config,
            config: config.clone(),
            current: Mutex::new(Slot::default()),
        };
        let first = inner.connect_once().await?;
        // A protected server asked without a password only complains at the first command:
        // ask now, so connect reports it. NOPERM still proves the credentials were accepted.
        let mut probe = first.clone();
        let ping_cmd = redis::cmd("PING");
        let ping = ping_cmd.query_async::<redis::Value>(&mut probe);
        match tokio::time::timeout(config.connect_timeout, ping).await {
            Ok(Err(e)) if is_auth_error(&e) && e.code() != Some("NOPERM") => {
                return Err(inner.connect_error(e));
            }
            Ok(_) => {}
            Err(_) => {
                return Err(Error::Connect {
                    addr: inner.addr.clone(),
                    reason: format!("no answer to PING within {:?}", config.connect_timeout),
                });
            }
        }
        inner.current.lock().await.conn = Some(first);
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// `host:port` of the server.
    pub(crate) fn addr(&self) -> &str {
        &self.inner.addr
    }

    /// The live connection; for commands that must not run twice, one that has just answered a
    /// PING, so that a connection broken since its last use (a server restart) is replaced
    /// before the command is sent instead of failing it.
    async fn checked_connection(&self, retry: Retry) -> Result<(u64, MultiplexedConnection)> {
        let (generation, mut conn) = self.inner.connection().await?;
        if retry == Retry::Safe {
            return Ok((generation, conn));
        }
        match redis::cmd("PING")
            .query_async::<redis::Value>(&mut conn)
            .await
        {
            Err(e) if is_connection_error(&e) => {
                self.inner.forget(generation).await;
                self.inner.connection().await
            }
            _ => Ok((generation, conn)),
        }
    }

    /// Sends one request with `send`: on a broken connection, forgets it and, for `Retry::Safe`,
    /// sends once more on a fresh one; `context` names what it was for in errors.
    async fn run<T, F, Fut>(&self, retry: Retry, context: &str, send: F) -> Result<T>
    where
        F: Fn(MultiplexedConnection) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let (generation, conn) = self.checked_connection(retry).await?;
        match send(conn).await {
            Ok(v) => Ok(v),
            Err(e) if is_connection_error(&e) => {
                self.inner.forget(generation).await;
                if retry == Retry::Never {
                    return Err(self.inner.map_err(e, context));
                }
                let (_, conn) = self.inner.connection().await?;
                send(conn).await.map_err(|e| self.inner.map_err(e, context))
            }
            Err(e) => Err(self.inner.map_err(e, context)),
        }
    }

    /// Sends one command.
    pub(crate) async fn query<T: FromRedisValue>(
        &self,
        cmd: &Cmd,
        retry: Retry,
        context: &str,
    ) -> Result<T> {
        self.run(retry, context, |mut c| async move {
            cmd.query_async::<T>(&mut c).await
        })
        .await
    }

    /// Sends a pipeline in one round trip.
    pub(crate) async fn query_pipe<T: FromRedisValue>(
        &self,
        pipe: &Pipeline,
        retry: Retry,
        context: &str,
    ) -> Result<T> {
        self.run(retry, context, |mut c| async move {
            pipe.query_async::<T>(&mut c).await
        })
        .await
    }

    /// Sends a script invocation.
    pub(crate) async fn invoke<T: FromRedisValue>(
        &self,
        inv: &redis::ScriptInvocation<'_>,
        retry: Retry,
        context: &str,
    ) -> Result<T> {
        self.run(retry, context, |mut c| async move {
            inv.invoke_async::<T>(&mut c).await
        })
        .await
    }
}

impl Standalone {
    async fn connect_once(&self) -> Result<MultiplexedConnection> {
        let attempt = self
            .client
            .get_multiplexed_async_connection_with_config(&self.conn_config);
        // The client's own timeout covers the TCP connect; this one also covers the handshake
        // (AUTH, SELECT), which a server that accepts and never answers would stall.
        match tokio::time::timeout(self.config.connect_timeout, attempt).await {
            Ok(Ok(c)) => Ok(c),
            Ok(Err(e)) => Err(self.connect_error(e)),
            Err(_) => Err(Error::Connect {
                addr: self.addr.clone(),
                reason: format!("no answer within {:?}", self.config.connect_timeout),
            }),
        }
    }

    /// The live connection, re-established with the reconnect strategy when it was lost.
    async fn connection(&self) -> Result<(u64, MultiplexedConnection)> {
        let mut slot = self.current.lock().await;
        if let Some(c) = slot.conn.as_ref() {
            return Ok((slot.generation, c.clone()));
        }
        let mut retries = 0u32;
        loop {
            match self.connect_once().await {
                Ok(c) => {
                    if retries > 0 {
                        tracing::info!(addr = %self.addr, retries, "reconnected");
                    }
                    slot.generation += 1;
                    slot.conn = Some(c.clone());
                    return Ok((slot.generation, c));
                }
                Err(e @ Error::Auth { .. }) => return Err(e),
                Err(e) => {
                    retries += 1;
                    match self.config.reconnect.delay(retries) {
                        Some(d) => {
                            tracing::debug!(addr = %self.addr, retries, error = %e, "reconnect failed");
                            tokio::time::sleep(d).await;
                        }
                        None => {
                            return Err(Error::Disconnected {
                                addr: self.addr.clone(),
                                retries: retries - 1,
                                reason: match e {
                                    Error::Connect { reason, .. } => reason,
                                    other => other.to_string(),
                                },
                            });
                        }
                    }
                }
            }
        }
    }

    /// Drops the broken connection so the next call reconnects (unless another call already did).
    async fn forget(&self, generation: u64) {
        let mut slot = self.current.lock().await;
        if slot.generation == generation {
            slot.conn = None;
        }
    }

    fn connect_error(&self, e: redis::RedisError) -> Error {
        if is_auth_error(&e) {
            Error::Auth {
                addr: self.addr.clone(),
                reason: e.to_string(),
            }
        } else {
            let reason = e.to_string();
            let reason = match tls_hint(self.config.tls.is_some(), &reason) {
                Some(hint) => format!("{reason} ({hint})"),
                None => reason,
            };
            Error::Connect {
                addr: self.addr.clone(),
                reason,
            }
        }
    }

    fn map_err(&self, e: redis::RedisError, context: &str) -> Error {
        if e.is_timeout() {
            return Error::Timeout {
                addr: self.addr.clone(),
                timeout: self.config.command_timeout.unwrap_or(Duration::ZERO),
            };
        }
        // NOPERM is a refused command, not refused credentials: the caller names the command.
        if is_auth_error(&e) && e.code() != Some("NOPERM") {
            return Error::Auth {
                addr: self.addr.clone(),
                reason: e.to_string(),
            };
        }
        Error::Redis {
            context: context.to_string(),
            source: e,
        }
    }
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

fn is_auth_error(e: &redis::RedisError) -> bool {
    matches!(e.kind(), redis::ErrorKind::AuthenticationFailed)
        || matches!(e.code(), Some("WRONGPASS" | "NOAUTH" | "NOPERM"))
        || e.to_string().contains("WRONGPASS")
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
pub(crate) fn build_client(config: &Config, resp3: bool) -> Result<Client> {
    let addr = match &config.tls {
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
        .set_redis_settings(redis_settings);
    let tls_err = |name: &str, e: redis::RedisError| Error::Config {
        name: name.into(),
        reason: e.to_string(),
    };
    let Some(tls) = &config.tls else {
        return Client::open(info).map_err(|e| tls_err("connection", e));
    };
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
    // Always through build_with_tls: it gives the address the TLS parameters that the
    // hostname switch lives in (without a CA, the system roots are used).
    let client = Client::build_with_tls(
        info,
        redis::TlsCertificates {
            client_tls,
            root_cert,
        },
    )
    .map_err(|e| tls_err("tls", e))?;
    if !tls.insecure {
        return Ok(client);
    }
    let info = client.get_connection_info().clone();
    let mut addr = info.addr().clone();
    addr.set_danger_accept_invalid_hostnames(true);
    Client::open(info.set_addr(addr)).map_err(|e| tls_err("tls", e))
}
