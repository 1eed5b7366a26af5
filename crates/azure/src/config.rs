//! Where ARM and the identity provider are, and which credential to use: resolved once from
//! flags and the standard Azure environment variables.

use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use crate::credential::CredentialSource;
use crate::retry::RetryPolicy;
use crate::secret::Secret;

/// Public Azure's ARM endpoint.
pub const DEFAULT_ARM_ENDPOINT: &str = "https://management.azure.com";
/// Public Azure's Microsoft Entra ID authority.
pub const DEFAULT_AUTHORITY_HOST: &str = "https://login.microsoftonline.com";
/// The instance metadata service's token endpoint (managed identity on a VM).
pub const IMDS_TOKEN_ENDPOINT: &str = "http://169.254.169.254/metadata/identity/oauth2/token";

/// Why the configuration could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// An endpoint setting is not a URL.
    #[error("{setting} is not a valid URL")]
    ParseEndpoint {
        /// The setting (`NODEMEND_ARM_ENDPOINT`, ...).
        setting: &'static str,
        /// Why.
        #[source]
        source: url::ParseError,
    },
    /// A setting that the chosen credential needs is missing.
    #[error("{setting} must be set for {credential}")]
    MissingSetting {
        /// The missing environment variable.
        setting: &'static str,
        /// The credential that needs it.
        credential: &'static str,
    },
}

/// The api-version of each resource provider nodemend calls. All GA versions; see
/// `docs/azure.md` for why these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiVersions {
    /// Microsoft.Compute (scale sets, VMs, usages).
    pub compute: String,
    /// Microsoft.ContainerService (managed clusters, agent pools).
    pub container_service: String,
    /// Microsoft.Network (subnets, usages).
    pub network: String,
    /// Microsoft.Authorization locks.
    pub locks: String,
    /// Microsoft.Authorization policy assignments.
    pub policy: String,
    /// Microsoft.Insights activity log (2015-04-01 is the only version).
    pub activity_log: String,
    /// Microsoft.Resources (subscriptions, provider registrations).
    pub resources: String,
    /// Microsoft.Authorization permissions of the caller (`nodemend doctor`).
    pub authorization: String,
}

impl Default for ApiVersions {
    fn default() -> Self {
        Self {
            compute: "2024-11-01".into(),
            container_service: "2025-10-01".into(),
            network: "2024-05-01".into(),
            locks: "2020-05-01".into(),
            policy: "2023-04-01".into(),
            activity_log: "2015-04-01".into(),
            resources: "2022-12-01".into(),
            authorization: "2022-04-01".into(),
        }
    }
}

/// Everything the client needs, resolved.
#[derive(Debug, Clone)]
pub struct ArmConfig {
    /// ARM base URL (`--arm-endpoint` / `NODEMEND_ARM_ENDPOINT`).
    pub endpoint: Url,
    /// Entra ID authority (`AZURE_AUTHORITY_HOST`).
    pub authority_host: Url,
    /// Which credential to get tokens with.
    pub credential: CredentialSource,
    /// Extra CA certificates to trust, PEM (`--ca-file` / `SSL_CERT_FILE`).
    pub ca_file: Option<PathBuf>,
    /// api-versions per resource provider.
    pub api_versions: ApiVersions,
    /// Retries, back-off, polling and deadlines.
    pub retry: RetryPolicy,
    /// Timeout of one HTTP request.
    pub request_timeout: Duration,
    /// Refresh a token this long before it expires.
    pub token_refresh_margin: Duration,
}

impl ArmConfig {
    /// Resolves the configuration from environment lookups (`env("NAME")`), so callers and tests
    /// decide where variables come from. `arm_endpoint` and `ca_file` are the command-line flags,
    /// which win over the environment.
    ///
    /// Credential choice, in order: `AZURE_CLIENT_SECRET` → client secret;
    /// `AZURE_FEDERATED_TOKEN_FILE` → workload identity; otherwise managed identity at
    /// `IDENTITY_ENDPOINT` or the instance metadata service.
    pub fn from_env(
        env: impl Fn(&str) -> Option<String>,
        arm_endpoint: Option<&str>,
        ca_file: Option<PathBuf>,
    ) -> Result<Self, ConfigError> {
        let endpoint_raw = arm_endpoint
            .map(str::to_owned)
            .or_else(|| env("NODEMEND_ARM_ENDPOINT"))
            .unwrap_or_else(|| DEFAULT_ARM_ENDPOINT.to_owned());
        let endpoint = parse_url("NODEMEND_ARM_ENDPOINT", &endpoint_raw)?;
        let authority_raw =
            env("AZURE_AUTHORITY_HOST").unwrap_or_else(|| DEFAULT_AUTHORITY_HOST.to_owned());
        let authority_host = parse_url("AZURE_AUTHORITY_HOST", &authority_raw)?;
        let credential = credential_from_env(&env)?;
        Ok(Self {
            endpoint,
            authority_host,
            credential,
            ca_file: ca_file.or_else(|| env("SSL_CERT_FILE").map(PathBuf::from)),
            api_versions: ApiVersions::default(),
            retry: RetryPolicy::default(),
            request_timeout: Duration::from_secs(60),
            token_refresh_margin: Duration::from_secs(300),
        })
    }

    /// The OAuth2 scope of ARM tokens: the endpoint's origin with `/.default`.
    pub fn scope(&self) -> String {
        format!("{}/.default", self.endpoint.origin().ascii_serialization())
    }
}

fn parse_url(setting: &'static str, raw: &str) -> Result<Url, ConfigError> {
    Url::parse(raw.trim_end_matches('/'))
        .map_err(|source| ConfigError::ParseEndpoint { setting, source })
}

fn require(
    env: &impl Fn(&str) -> Option<String>,
    setting: &'static str,
    credential: &'static str,
) -> Result<String, ConfigError> {
    env(setting)
        .filter(|v| !v.is_empty())
        .ok_or(ConfigError::MissingSetting {
            setting,
            credential,
        })
}

fn credential_from_env(
    env: &impl Fn(&str) -> Option<String>,
) -> Result<CredentialSource, ConfigError> {
    if let Some(secret) = env("AZURE_CLIENT_SECRET").filter(|v| !v.is_empty()) {
        const NAME: &str = "ClientSecretCredential";
        return Ok(CredentialSource::ClientSecret {
            tenant_id: require(env, "AZURE_TENANT_ID", NAME)?,
            client_id: require(env, "AZURE_CLIENT_ID", NAME)?,
            secret: Secret::new(secret),
        });
    }
    if let Some(file) = env("AZURE_FEDERATED_TOKEN_FILE").filter(|v| !v.is_empty()) {
        const NAME: &str = "WorkloadIdentityCredential";
        return Ok(CredentialSource::WorkloadIdentity {
            tenant_id: require(env, "AZURE_TENANT_ID", NAME)?,
            client_id: require(env, "AZURE_CLIENT_ID", NAME)?,
            token_file: PathBuf::from(file),
        });
    }
    let endpoint_raw = env("IDENTITY_ENDPOINT").unwrap_or_else(|| IMDS_TOKEN_ENDPOINT.to_owned());
    Ok(CredentialSource::ManagedIdentity {
        endpoint: parse_url("IDENTITY_ENDPOINT", &endpoint_raw)?,
        client_id: env("AZURE_CLIENT_ID").filter(|v| !v.is_empty()),
        identity_header: env("IDENTITY_HEADER").map(Secret::new),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn defaults_to_public_azure_and_managed_identity() {
        let config = ArmConfig::from_env(env_of(&[]), None, None).unwrap();
        assert_eq!(config.endpoint.as_str(), "https://management.azure.com/");
        assert_eq!(
            config.authority_host.as_str(),
            "https://login.microsoftonline.com/"
        );
        assert_eq!(config.scope(), "https://management.azure.com/.default");
        assert!(matches!(
            &config.credential,
            CredentialSource::ManagedIdentity { endpoint, client_id: None, .. }
                if endpoint.as_str() == IMDS_TOKEN_ENDPOINT
        ));
    }

    #[test]
    fn flag_wins_over_env_and_secret_wins_over_federation() {
        let env = env_of(&[
            ("NODEMEND_ARM_ENDPOINT", "http://127.0.0.1:1"),
            ("AZURE_CLIENT_SECRET", "s3cret"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token"),
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_CLIENT_ID", "c"),
            ("SSL_CERT_FILE", "/etc/ca.pem"),
        ]);
        let config = ArmConfig::from_env(env, Some("http://127.0.0.1:2/"), None).unwrap();
        assert_eq!(config.endpoint.as_str(), "http://127.0.0.1:2/");
        assert_eq!(config.scope(), "http://127.0.0.1:2/.default");
        assert_eq!(config.ca_file, Some(PathBuf::from("/etc/ca.pem")));
        assert!(matches!(
            config.credential,
            CredentialSource::ClientSecret { .. }
        ));
        assert!(!format!("{config:?}").contains("s3cret"));
    }

    #[test]
    fn workload_identity_needs_tenant_and_client() {
        let env = env_of(&[
            ("AZURE_FEDERATED_TOKEN_FILE", "/t"),
            ("AZURE_TENANT_ID", "t"),
        ]);
        let err = ArmConfig::from_env(env, None, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "AZURE_CLIENT_ID must be set for WorkloadIdentityCredential"
        );
    }

    #[test]
    fn identity_endpoint_overrides_imds() {
        let env = env_of(&[
            ("IDENTITY_ENDPOINT", "http://127.0.0.1:9/msi/token"),
            ("AZURE_CLIENT_ID", "c"),
        ]);
        let config = ArmConfig::from_env(env, None, None).unwrap();
        assert!(matches!(
            &config.credential,
            CredentialSource::ManagedIdentity { endpoint, client_id: Some(c), .. }
                if endpoint.as_str() == "http://127.0.0.1:9/msi/token" && c == "c"
        ));
    }
}
