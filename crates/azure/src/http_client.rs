//! The one HTTP client: rustls on ring, the platform's roots plus an optional CA bundle. There
//! is no switch to accept any certificate.

use std::path::Path;
use std::time::Duration;

use crate::error::{Error, Result};

/// Installs ring as the process's rustls provider; a provider installed earlier (by kube, which
/// also uses ring) is kept.
fn install_ring() {
    // `Err` only means a provider is already installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Builds the client. `ca_file` adds PEM roots (the simulator's CA, a corporate proxy's).
/// Public so that the binary's other outbound HTTP (alert webhooks) uses the same TLS setup.
pub fn build(ca_file: Option<&Path>, timeout: Duration) -> Result<reqwest::Client> {
    install_ring();
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("nodemend/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).map_err(|source| Error::ReadCaFile {
            path: path.to_owned(),
            source,
        })?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(Error::BuildClient)?;
        builder = builder.tls_certs_merge(certs);
    }
    builder.build().map_err(Error::BuildClient)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_with_and_without_a_ca_file() {
        assert!(build(None, Duration::from_secs(1)).is_ok());
        let missing = build(
            Some(Path::new("/nonexistent/ca.pem")),
            Duration::from_secs(1),
        );
        assert!(matches!(missing, Err(Error::ReadCaFile { .. })));
    }
}
