//! The three OAuth2 token requests as pure functions: client credentials with a secret, with a
//! client assertion (workload identity's federated token), and the managed-identity GET; plus
//! the parser of their answers.

use std::time::Duration;

use http::{Method, Request, header};
use serde::Deserialize;
use url::Url;

use crate::secret::Secret;

/// The assertion type Entra ID expects with a federated token.
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The instance metadata service's managed-identity api-version.
const IMDS_API_VERSION: &str = "2018-02-01";
/// The api-version of an `IDENTITY_ENDPOINT` that wants `X-IDENTITY-HEADER` (App Service).
const IDENTITY_HEADER_API_VERSION: &str = "2019-08-01";

/// How a client proves who it is to Entra ID.
pub(crate) enum ClientProof<'a> {
    /// A client secret.
    Secret(&'a Secret),
    /// A signed assertion (the federated token AKS projects into the pod).
    Assertion(&'a Secret),
}

/// `POST {authority}/{tenant}/oauth2/v2.0/token` with the client-credentials grant.
pub(crate) fn client_credentials(
    authority: &Url,
    tenant_id: &str,
    client_id: &str,
    scope: &str,
    proof: ClientProof<'_>,
) -> Result<Request<Vec<u8>>, http::Error> {
    let base = authority.as_str().trim_end_matches('/');
    let tenant: String = url::form_urlencoded::byte_serialize(tenant_id.as_bytes()).collect();
    let url = format!("{base}/{tenant}/oauth2/v2.0/token");
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", "client_credentials")
        .append_pair("client_id", client_id)
        .append_pair("scope", scope);
    match proof {
        ClientProof::Secret(secret) => form.append_pair("client_secret", secret.expose()),
        ClientProof::Assertion(assertion) => form
            .append_pair("client_assertion_type", JWT_BEARER)
            .append_pair("client_assertion", assertion.expose()),
    };
    Request::builder()
        .method(Method::POST)
        .uri(url)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .body(form.finish().into_bytes())
}

/// `GET {endpoint}?api-version=…&resource=…[&client_id=…]`: with `Metadata: true` for the
/// instance metadata service (2018-02-01), and with `X-IDENTITY-HEADER` (2019-08-01) when the
/// platform gave an `IDENTITY_HEADER`.
pub(crate) fn managed_identity(
    endpoint: &Url,
    resource: &str,
    client_id: Option<&str>,
    identity_header: Option<&Secret>,
) -> Result<Request<Vec<u8>>, http::Error> {
    let mut url = endpoint.clone();
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair(
                "api-version",
                match identity_header {
                    Some(_) => IDENTITY_HEADER_API_VERSION,
                    None => IMDS_API_VERSION,
                },
            )
            .append_pair("resource", resource);
        if let Some(client_id) = client_id {
            query.append_pair("client_id", client_id);
        }
    }
    let mut builder = Request::builder()
        .method(Method::GET)
        .uri(url.as_str())
        .header("Metadata", "true");
    if let Some(secret) = identity_header {
        builder = builder.header("X-IDENTITY-HEADER", secret.expose());
    }
    builder.body(Vec::new())
}

/// A token as an identity endpoint returns it: Entra ID gives `expires_in` as a number, IMDS
/// as a string, App Service only `expires_on` (Unix seconds).
#[derive(Deserialize)]
struct TokenBody {
    access_token: String,
    #[serde(default)]
    expires_in: Option<NumberOrString>,
    #[serde(default)]
    expires_on: Option<NumberOrString>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NumberOrString {
    Number(u64),
    String(String),
}

/// An OAuth2 error answer (`{"error","error_description"}`).
#[derive(Debug, Deserialize, Default)]
pub(crate) struct OAuthError {
    /// Error code, e.g. `invalid_client`.
    #[serde(default)]
    pub(crate) error: String,
    /// Description (Entra ID's starts with an `AADSTS` code). Never contains the secret.
    #[serde(default)]
    pub(crate) error_description: String,
}

impl NumberOrString {
    fn value(&self) -> Result<u64, serde_json::Error> {
        match self {
            Self::Number(n) => Ok(*n),
            Self::String(s) => s.trim().parse().map_err(serde::de::Error::custom),
        }
    }
}

/// Reads a successful token answer: the token and how long it lives. `now_unix` (seconds) turns
/// an absolute `expires_on` into a lifetime.
pub(crate) fn parse_token(
    body: &[u8],
    now_unix: u64,
) -> Result<(Secret, Duration), serde_json::Error> {
    let token: TokenBody = serde_json::from_slice(body)?;
    let secs = match (&token.expires_in, &token.expires_on) {
        (Some(relative), _) => relative.value()?,
        (None, Some(absolute)) => absolute.value()?.saturating_sub(now_unix),
        (None, None) => return Err(serde::de::Error::missing_field("expires_in")),
    };
    Ok((Secret::new(token.access_token), Duration::from_secs(secs)))
}

/// Reads an error answer; an unreadable body gives empty fields.
pub(crate) fn parse_oauth_error(body: &[u8]) -> OAuthError {
    serde_json::from_slice(body).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(req: &Request<Vec<u8>>) -> Vec<(String, String)> {
        url::form_urlencoded::parse(req.body())
            .into_owned()
            .collect()
    }

    #[test]
    fn client_secret_request_is_a_form_post_to_the_tenant() {
        let authority = Url::parse("https://login.microsoftonline.com").unwrap();
        let secret = Secret::new("p@ss&word");
        let req = client_credentials(
            &authority,
            "tenant-1",
            "client-1",
            "https://management.azure.com/.default",
            ClientProof::Secret(&secret),
        )
        .unwrap();
        assert_eq!(req.method(), Method::POST);
        assert_eq!(
            req.uri().to_string(),
            "https://login.microsoftonline.com/tenant-1/oauth2/v2.0/token"
        );
        let form = form(&req);
        assert!(form.contains(&("grant_type".into(), "client_credentials".into())));
        assert!(form.contains(&("client_secret".into(), "p@ss&word".into())));
        assert!(form.contains(&(
            "scope".into(),
            "https://management.azure.com/.default".into()
        )));
    }

    #[test]
    fn assertion_request_carries_the_federated_token() {
        let authority = Url::parse("http://127.0.0.1:8080/login/").unwrap();
        let token = Secret::new("eyJ.fed.token");
        let req =
            client_credentials(&authority, "t", "c", "s", ClientProof::Assertion(&token)).unwrap();
        assert_eq!(req.uri().path(), "/login/t/oauth2/v2.0/token");
        let form = form(&req);
        assert!(form.contains(&("client_assertion_type".into(), JWT_BEARER.into())));
        assert!(form.contains(&("client_assertion".into(), "eyJ.fed.token".into())));
        assert!(!form.iter().any(|(k, _)| k == "client_secret"));
    }

    #[test]
    fn managed_identity_request_is_a_get_with_metadata_header() {
        let endpoint = Url::parse("http://169.254.169.254/metadata/identity/oauth2/token").unwrap();
        let req = managed_identity(
            &endpoint,
            "https://management.azure.com/",
            Some("cid"),
            None,
        )
        .unwrap();
        assert_eq!(req.method(), Method::GET);
        assert_eq!(req.headers()["Metadata"], "true");
        let query: Vec<(String, String)> =
            url::form_urlencoded::parse(req.uri().query().unwrap().as_bytes())
                .into_owned()
                .collect();
        assert!(query.contains(&("api-version".into(), "2018-02-01".into())));
        assert!(query.contains(&("resource".into(), "https://management.azure.com/".into())));
        assert!(query.contains(&("client_id".into(), "cid".into())));
        assert!(req.headers().get("X-IDENTITY-HEADER").is_none());
        let header = Secret::new("h3ader");
        let req = managed_identity(&endpoint, "r", None, Some(&header)).unwrap();
        assert_eq!(req.headers()["X-IDENTITY-HEADER"], "h3ader");
        assert!(
            req.uri()
                .query()
                .unwrap()
                .contains("api-version=2019-08-01")
        );
    }

    #[test]
    fn parses_numeric_and_string_lifetimes() {
        let (token, ttl) = parse_token(
            br#"{"token_type":"Bearer","expires_in":3599,"access_token":"abc"}"#,
            0,
        )
        .unwrap();
        assert_eq!(token.expose(), "abc");
        assert_eq!(ttl, Duration::from_secs(3599));
        let (_, ttl) = parse_token(
            br#"{"access_token":"x","expires_in":"86399","expires_on":"1700000000","resource":"r","token_type":"Bearer"}"#,
            0,
        )
        .unwrap();
        assert_eq!(ttl, Duration::from_secs(86399));
        let (_, ttl) = parse_token(
            br#"{"access_token":"x","expires_on":"1700003600","resource":"r","token_type":"Bearer","client_id":"c"}"#,
            1_700_000_000,
        )
        .unwrap();
        assert_eq!(
            ttl,
            Duration::from_secs(3600),
            "App Service gives only expires_on"
        );
        assert!(parse_token(br#"{"access_token":"x"}"#, 0).is_err());
    }

    #[test]
    fn parses_oauth_errors_leniently() {
        let err = parse_oauth_error(
            br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}"#,
        );
        assert_eq!(err.error, "invalid_client");
        assert!(err.error_description.starts_with("AADSTS7000215"));
        assert_eq!(parse_oauth_error(b"<html>").error, "");
    }
}
