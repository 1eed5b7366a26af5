//! TLS: the client trusts a CA bundle it is given, and nothing else it has not been told to.

use std::sync::Arc;

use nodemend_azure::{AzureProvider, parse};
use nodemend_core::cloud::CloudError;
use nodemend_sim::arm::ArmWorldSpec;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::common::{config, start};

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// An HTTPS server with a certificate for 127.0.0.1 signed by the test CA, answering every
/// request with a subscription body.
async fn https_server() -> std::net::SocketAddr {
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(fixture("test-server.pem"))
            .expect("server certificate")
            .collect::<Result<_, _>>()
            .expect("server certificate parses");
    let key = PrivateKeyDer::from_pem_file(fixture("test-server.key")).expect("server key");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .expect("server config");
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = vec![0u8; 8192];
                let _ = tls.read(&mut buf).await;
                let body = r#"{"id":"/subscriptions/s","state":"Enabled"}"#;
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn an_https_endpoint_is_trusted_only_with_its_ca_bundle() {
    let h = start(ArmWorldSpec::default()).await;
    let addr = https_server().await;
    let mut env: std::collections::HashMap<String, String> = h.sim.env().into_iter().collect();
    env.insert("NODEMEND_ARM_ENDPOINT".into(), format!("https://{addr}"));

    let untrusting = AzureProvider::new(&config(&env)).unwrap();
    let exec = untrusting.executor();
    let err = exec
        .get(
            exec.requests().get_subscription("s"),
            parse::subscription_state,
        )
        .await
        .unwrap_err();
    assert!(
        format!("{:?}", err).to_lowercase().contains("certificate"),
        "{err:?}"
    );
    assert_eq!(
        CloudError::from(err).kind,
        nodemend_core::cloud::CloudErrorKind::Unavailable
    );

    env.insert("SSL_CERT_FILE".into(), fixture("test-ca.pem"));
    let trusting = AzureProvider::new(&config(&env)).unwrap();
    let exec = trusting.executor();
    let state = exec
        .get(
            exec.requests().get_subscription("s"),
            parse::subscription_state,
        )
        .await
        .unwrap();
    assert_eq!(state, "Enabled");
}
