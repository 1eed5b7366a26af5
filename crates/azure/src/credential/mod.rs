//! Tokens for ARM: which credential, how to get a token with it, and a cache that refreshes the
//! token before it expires (one refresh at a time, however many callers wait).

mod flows;

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;
use url::Url;

use crate::secret::Secret;

/// Where tokens come from.
#[derive(Debug, Clone)]
pub enum CredentialSource {
    /// A service principal with a client secret (`AZURE_CLIENT_SECRET`).
    ClientSecret {
        /// Entra ID tenant.
        tenant_id: String,
        /// Application (client) ID.
        client_id: String,
        /// The secret.
        secret: Secret,
    },
    /// Workload identity: the federated token that AKS projects into the pod
    /// (`AZURE_FEDERATED_TOKEN_FILE`), exchanged as a client assertion. The file is re-read on
    /// every exchange because the kubelet rotates it.
    WorkloadIdentity {
        /// Entra ID tenant.
        tenant_id: String,
        /// Application (client) ID the token is federated with.
        client_id: String,
        /// Path of the projected token.
        token_file: PathBuf,
    },
    /// Managed identity, from the instance metadata service or `IDENTITY_ENDPOINT`.
    ManagedIdentity {
        /// Token endpoint.
        endpoint: Url,
        /// A user-assigned identity's client ID (`AZURE_CLIENT_ID`); none for system-assigned.
        client_id: Option<String>,
        /// `IDENTITY_HEADER`, sent as `X-IDENTITY-HEADER` where the endpoint wants it.
        identity_header: Option<Secret>,
    },
}

impl CredentialSource {
    /// The credential's name as Azure SDKs spell it; failures are reported as
    /// `<name> authentication failed`, which is the code AKS auto-repair events quote.
    pub fn name(&self) -> &'static str {
        match self {
            Self::ClientSecret { .. } => "ClientSecretCredential",
            Self::WorkloadIdentity { .. } => "WorkloadIdentityCredential",
            Self::ManagedIdentity { .. } => "ManagedIdentityCredential",
        }
    }
}

/// Why no token could be had. Every message starts with `<credential> authentication failed`
/// and never contains a secret or a token.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// The token request could not be built (an invalid endpoint).
    #[error("{credential} authentication failed: invalid token request")]
    BuildRequest {
        /// Credential name.
        credential: &'static str,
        /// Why.
        #[source]
        source: http::Error,
    },
    /// The token endpoint could not be reached.
    #[error("{credential} authentication failed: the token endpoint could not be reached")]
    RequestToken {
        /// Credential name.
        credential: &'static str,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
    /// The token endpoint refused.
    #[error("{credential} authentication failed: {status} {error}: {description}")]
    Rejected {
        /// Credential name.
        credential: &'static str,
        /// HTTP status.
        status: u16,
        /// OAuth2 error code, e.g. `invalid_client`.
        error: String,
        /// The endpoint's description (Entra ID's starts with an `AADSTS` code).
        description: String,
    },
    /// The token endpoint answered something that is not a token.
    #[error("{credential} authentication failed: unreadable token response")]
    ParseToken {
        /// Credential name.
        credential: &'static str,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// The federated token file could not be read.
    #[error("WorkloadIdentityCredential authentication failed: cannot read {path}")]
    ReadTokenFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl CredentialError {
    /// The credential that failed.
    pub fn credential(&self) -> &'static str {
        match self {
            Self::BuildRequest { credential, .. }
            | Self::RequestToken { credential, .. }
            | Self::Rejected { credential, .. }
            | Self::ParseToken { credential, .. } => credential,
            Self::ReadTokenFile { .. } => "WorkloadIdentityCredential",
        }
    }

    /// The code that reports carry: `<credential> authentication failed`.
    pub fn code(&self) -> String {
        format!("{} authentication failed", self.credential())
    }
}

struct CachedToken {
    token: Secret,
    expires_at: Instant,
}

/// A credential with its token cache.
pub struct Credential {
    source: CredentialSource,
    authority: Url,
    scope: String,
    refresh_margin: Duration,
    http: reqwest::Client,
    cache: Mutex<Option<CachedToken>>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("source", &self.source)
            .field("authority", &self.authority.as_str())
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl Credential {
    /// A credential that asks `authority` (or the managed-identity endpoint) for tokens of
    /// `scope`, refreshing `refresh_margin` before they expire.
    pub fn new(
        source: CredentialSource,
        authority: Url,
        scope: String,
        refresh_margin: Duration,
        http: reqwest::Client,
    ) -> Self {
        Self {
            source,
            authority,
            scope,
            refresh_margin,
            http,
            cache: Mutex::new(None),
        }
    }

    /// Which credential this is.
    pub fn source(&self) -> &CredentialSource {
        &self.source
    }

    /// A valid token: the cached one unless it expires within the refresh margin.
    pub async fn token(&self) -> Result<Secret, CredentialError> {
        let mut cache = self.cache.lock().await;
        if let Some(cached) = cache.as_ref()
            && fresh(Instant::now(), cached.expires_at, self.refresh_margin)
        {
            return Ok(cached.token.clone());
        }
        let (token, lifetime) = self.fetch().await?;
        tracing::debug!(
            credential = self.source.name(),
            lifetime_secs = lifetime.as_secs(),
            "got a token"
        );
        *cache = Some(CachedToken {
            token: token.clone(),
            expires_at: Instant::now() + lifetime,
        });
        Ok(token)
    }

    /// Drops `rejected` from the cache (ARM said it expired or is invalid), so the next call
    /// fetches a new one. A newer token that another caller already fetched is kept.
    pub async fn invalidate(&self, rejected: &Secret) {
        let mut cache = self.cache.lock().await;
        if cache.as_ref().is_some_and(|c| &c.token == rejected) {
            *cache = None;
        }
    }

    async fn fetch(&self) -> Result<(Secret, Duration), CredentialError> {
        let credential = self.source.name();
        let request = match &self.source {
            CredentialSource::ClientSecret {
                tenant_id,
                client_id,
                secret,
            } => flows::client_credentials(
                &self.authority,
                tenant_id,
                client_id,
                &self.scope,
                flows::ClientProof::Secret(secret),
            ),
            CredentialSource::WorkloadIdentity {
                tenant_id,
                client_id,
                token_file,
            } => {
                let assertion = tokio::fs::read_to_string(token_file)
                    .await
                    .map_err(|source| CredentialError::ReadTokenFile {
                        path: token_file.clone(),
                        source,
                    })?;
                let assertion = Secret::new(assertion.trim());
                flows::client_credentials(
                    &self.authority,
                    tenant_id,
                    client_id,
                    &self.scope,
                    flows::ClientProof::Assertion(&assertion),
                )
            }
            CredentialSource::ManagedIdentity {
                endpoint,
                client_id,
                identity_header,
            } => flows::managed_identity(
                endpoint,
                self.scope.trim_end_matches(".default"),
                client_id.as_deref(),
                identity_header.as_ref(),
            ),
        }
        .map_err(|source| CredentialError::BuildRequest { credential, source })?;
        let request = reqwest::Request::try_from(request)
            .map_err(|source| CredentialError::RequestToken { credential, source })?;
        let response = self
            .http
            .execute(request)
            .await
            .map_err(|source| CredentialError::RequestToken { credential, source })?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|source| CredentialError::RequestToken { credential, source })?;
        if !status.is_success() {
            let err = flows::parse_oauth_error(&body);
            tracing::warn!(credential, status = status.as_u16(), error = %err.error, "token request refused");
            return Err(CredentialError::Rejected {
                credential,
                status: status.as_u16(),
                error: err.error,
                description: err.error_description,
            });
        }
        // The wall clock only matters for an absolute `expires_on` (App Service).
        let now_unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        flows::parse_token(&body, now_unix)
            .map_err(|source| CredentialError::ParseToken { credential, source })
    }
}

/// Whether a token that expires at `expires_at` may still be used at `now`.
fn fresh(now: Instant, expires_at: Instant, margin: Duration) -> bool {
    now + margin < expires_at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_refreshed_within_the_margin() {
        let now = Instant::now();
        let margin = Duration::from_secs(300);
        assert!(fresh(now, now + Duration::from_secs(301), margin));
        assert!(!fresh(now, now + Duration::from_secs(300), margin));
        assert!(!fresh(now, now, margin));
    }

    #[test]
    fn credential_errors_name_the_credential_and_hide_secrets() {
        let err = CredentialError::Rejected {
            credential: "ManagedIdentityCredential",
            status: 400,
            error: "invalid_request".into(),
            description: "Identity not found".into(),
        };
        assert_eq!(
            err.code(),
            "ManagedIdentityCredential authentication failed"
        );
        assert!(
            err.to_string()
                .starts_with("ManagedIdentityCredential authentication failed")
        );
        let source = CredentialSource::ClientSecret {
            tenant_id: "t".into(),
            client_id: "c".into(),
            secret: Secret::new("top-secret"),
        };
        assert!(!format!("{source:?}").contains("top-secret"));
    }
}
