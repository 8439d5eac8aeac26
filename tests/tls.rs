//! TLS end to end: a throwaway CA and certificates made with `openssl`, a redis-server that
//! listens only on a TLS port, and the library and the binary connecting to it.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{TlsFiles, TlsRedisServer, free_port, motia_state as bin};
use motia_state::{Config, Error, RedisStateAdapter, TlsConfig};
use predicates::prelude::*;
use serde_json::{Value, json};

fn config(url: &str, tls: TlsConfig) -> Config {
    let mut c = Config::from_url(url).unwrap();
    c.tls = Some(tls);
    c.connect_timeout = Duration::from_secs(5);
    c
}

fn with_ca(files: &TlsFiles) -> TlsConfig {
    TlsConfig {
        ca_cert: Some(files.ca()),
        ..TlsConfig::default()
    }
}

fn with_client_cert(files: &TlsFiles) -> TlsConfig {
    TlsConfig {
        client_cert: Some(files.client_cert()),
        client_key: Some(files.client_key()),
        ..with_ca(files)
    }
}

/// Connects, and on success proves the connection carries commands.
async fn round_trip(config: Config) -> Result<(), Error> {
    let adapter = RedisStateAdapter::connect(config).await?;
    adapter.set("t", "k", &json!({"a": 1})).await?;
    assert_eq!(adapter.get::<Value>("t", "k").await?, Some(json!({"a": 1})));
    Ok(())
}

fn connect_reason(err: Error) -> String {
    match err {
        Error::Connect { reason, .. } => reason,
        other => panic!("expected Error::Connect, got {other:?}: {other}"),
    }
}

#[tokio::test]
async fn set_and_get_over_tls_with_the_ca() {
    let files = TlsFiles::generate();
    let server = TlsRedisServer::start(&files, false);
    round_trip(config(&server.url(), with_ca(&files)))
        .await
        .unwrap();
    // The address the certificate names as an IP works too.
    let url = format!("rediss://127.0.0.1:{}", server.port);
    round_trip(config(&url, with_ca(&files))).await.unwrap();
}

#[tokio::test]
async fn client_certificate_required_by_the_server() {
    let files = TlsFiles::generate();
    let server = TlsRedisServer::start(&files, true);
    round_trip(config(&server.url(), with_client_cert(&files)))
        .await
        .unwrap();

    let err = round_trip(config(&server.url(), with_ca(&files)))
        .await
        .unwrap_err();
    let reason = connect_reason(err);
    assert!(
        reason.contains("requires a client certificate"),
        "no word on the certificate: {reason}"
    );
}

#[tokio::test]
async fn a_server_signed_by_an_unknown_ca_is_refused() {
    let files = TlsFiles::generate();
    let server = TlsRedisServer::start(&files, false);
    // No CA given: the system roots, which do not know the test CA.
    let err = round_trip(config(&server.url(), TlsConfig::default()))
        .await
        .unwrap_err();
    let reason = connect_reason(err);
    assert!(
        reason.contains("UnknownIssuer") && reason.contains("not signed by a trusted CA"),
        "unclear refusal: {reason}"
    );
}

#[tokio::test]
async fn insecure_skips_the_hostname_but_not_the_ca() {
    let files = TlsFiles::generate();
    let server = TlsRedisServer::start(&files, false);
    // 127.0.0.2 reaches the same server, but the certificate does not name it.
    let other_name = format!("rediss://127.0.0.2:{}", server.port);
    let err = round_trip(config(&other_name, with_ca(&files)))
        .await
        .unwrap_err();
    let reason = connect_reason(err);
    assert!(
        reason.contains("certificate not valid for name"),
        "unclear refusal: {reason}"
    );

    let insecure = TlsConfig {
        insecure: true,
        ..with_ca(&files)
    };
    round_trip(config(&other_name, insecure)).await.unwrap();

    // The `#insecure` URL fragment means the same.
    let mut from_url = Config::from_url(&format!("{other_name}#insecure")).unwrap();
    from_url.tls.as_mut().unwrap().ca_cert = Some(files.ca());
    round_trip(from_url).await.unwrap();

    let untrusted = TlsConfig {
        insecure: true,
        ..TlsConfig::default()
    };
    let err = round_trip(config(&other_name, untrusted))
        .await
        .unwrap_err();
    assert!(connect_reason(err).contains("UnknownIssuer"));
}

#[tokio::test]
async fn plain_redis_to_the_tls_port_fails_within_the_connect_timeout() {
    let files = TlsFiles::generate();
    let server = TlsRedisServer::start(&files, false);
    let mut plain = Config::from_url(&format!("redis://localhost:{}", server.port)).unwrap();
    plain.connect_timeout = Duration::from_secs(3);
    // The guard only turns a hang into a failure; the adapter must give up by itself first.
    let result = tokio::time::timeout(Duration::from_secs(20), RedisStateAdapter::connect(plain))
        .await
        .expect("connect hung past its timeout");
    let Err(err) = result else {
        panic!("a plain connection to a TLS port worked");
    };
    assert!(err.is_connection(), "{err:?}");
    assert!(err.to_string().contains("rediss://"), "{err}");
}

#[tokio::test]
async fn unusable_certificate_files_are_named_before_connecting() {
    let files = TlsFiles::generate();
    // Nobody listens here: an error about the files proves they were checked first.
    let url = format!("rediss://localhost:{}", free_port());
    let missing = files.path("nope.pem");
    let err = RedisStateAdapter::connect(config(
        &url,
        TlsConfig {
            ca_cert: Some(missing.clone()),
            ..TlsConfig::default()
        },
    ))
    .await
    .err()
    .unwrap();
    assert!(matches!(err, Error::Config { .. }), "{err:?}");
    assert!(err.to_string().contains(&missing.display().to_string()));

    // A key where the CA should be: no certificate in it.
    let err = RedisStateAdapter::connect(config(
        &url,
        TlsConfig {
            ca_cert: Some(files.client_key()),
            ..TlsConfig::default()
        },
    ))
    .await
    .err()
    .unwrap();
    assert!(matches!(err, Error::Config { .. }), "{err:?}");
    assert!(err.to_string().contains("no PEM certificate"), "{err}");

    let err = RedisStateAdapter::connect(config(
        &url,
        TlsConfig {
            client_cert: Some(files.client_cert()),
            ..with_ca(&files)
        },
    ))
    .await
    .err()
    .unwrap();
    assert!(matches!(err, Error::Config { .. }), "{err:?}");
}

// The binary.

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn cli_set_and_get_over_tls() {
    let files = TlsFiles::generate();
    let server = TlsRedisServer::start(&files, false);
    let url = server.url();
    let ca = files.ca();
    bin()
        .args(["--url", &url, "--tls-ca-cert", s(&ca)])
        .args(["set", "t", "k", r#"{"a":1}"#])
        .assert()
        .success();
    bin()
        .args(["--url", &url, "--tls-ca-cert", s(&ca), "get", "t", "k"])
        .assert()
        .success()
        .stdout("{\"a\":1}\n");

    // --tls without a rediss:// URL, the CA from the environment.
    bin()
        .args(["--tls", "--host", "localhost", "--port"])
        .arg(server.port.to_string())
        .env("REDIS_TLS_CA_CERT", &ca)
        .args(["get", "t", "k"])
        .assert()
        .success()
        .stdout("{\"a\":1}\n");

    // Without TLS the same port does not answer.
    bin()
        .args(["--host", "localhost", "--port"])
        .arg(server.port.to_string())
        .args(["--connect-timeout", "3", "get", "t", "k"])
        .assert()
        .code(3);
}

#[test]
fn cli_client_certificate_and_insecure() {
    let files = TlsFiles::generate();
    let server = TlsRedisServer::start(&files, true);
    let (ca, cert, key) = (files.ca(), files.client_cert(), files.client_key());
    bin()
        .args(["--url", &server.url(), "--tls-ca-cert", s(&ca)])
        .args(["--tls-cert", s(&cert), "--tls-key", s(&key)])
        .args(["set", "t", "k", "1"])
        .assert()
        .success();
    bin()
        .args([
            "--url",
            &server.url(),
            "--tls-ca-cert",
            s(&ca),
            "get",
            "t",
            "k",
        ])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("requires a client certificate"));
    // A name the certificate does not cover, certificates from the environment.
    let other_name = format!("rediss://127.0.0.2:{}", server.port);
    bin()
        .args(["--url", &other_name, "--tls-insecure", "get", "t", "k"])
        .env("REDIS_TLS_CA_CERT", &ca)
        .env("REDIS_TLS_CERT", &cert)
        .env("REDIS_TLS_KEY", &key)
        .assert()
        .success()
        .stdout("1\n");
}

#[test]
fn cli_cert_without_key_is_bad_input() {
    let files = TlsFiles::generate();
    let port = free_port().to_string();
    bin()
        .args(["--port", &port, "--tls-cert", s(&files.client_cert())])
        .args(["get", "t", "k"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--tls-cert").and(predicate::str::contains("--tls-key")));
    bin()
        .args(["--port", &port, "get", "t", "k"])
        .env("REDIS_TLS_KEY", files.client_key())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("REDIS_TLS_KEY"));
}

#[test]
fn cli_missing_ca_file_is_named_before_connecting() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing-ca.pem");
    // Nobody listens on the port: exit 2 (not 3) shows the file was checked first.
    bin()
        .args(["--port", &free_port().to_string()])
        .args(["--tls-ca-cert", s(&missing), "get", "t", "k"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("--tls-ca-cert").and(predicate::str::contains(s(&missing))),
        );
}
