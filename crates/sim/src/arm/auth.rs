//! The simulator's identity side: an Entra ID token endpoint (client credentials with a secret
//! or a client assertion), a managed-identity endpoint, and the bearer check of ARM calls.

use std::sync::Arc;

use axum::http::HeaderMap;
use axum::response::Response;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use super::Shared;
use super::http::{Req, arm_error, json_response};
use super::world::World;

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn oauth_error(status: u16, error: &str, description: &str) -> Response {
    json_response(
        status,
        &json!({ "error": error, "error_description": description }),
    )
}

fn issue(shared: &Arc<Shared>, world: &mut World, now: Timestamp) -> (String, u64) {
    let token = format!("simtoken.{}.{:016x}", world.new_id(), fastrand::u64(..));
    let lifetime = world.spec.credentials.token_lifetime_secs;
    world.tokens.insert(
        token.clone(),
        now + SignedDuration::from_secs(lifetime as i64),
    );
    // The client counts real seconds; tell it the lifetime in real time.
    (token, shared.clock.real(lifetime as f64).as_secs())
}

/// `POST /{tenant}/oauth2/v2.0/token`.
pub(crate) fn token(shared: &Arc<Shared>, req: &Req) -> Response {
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&req.body)
        .into_owned()
        .collect();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let now = shared.clock.now();
    let mut world = shared.lock();
    let creds = world.spec.credentials.clone();
    let tenant = req.raw.first().map(String::as_str).unwrap_or("");
    if !tenant.eq_ignore_ascii_case(&creds.tenant_id) {
        return oauth_error(400, "invalid_request", "AADSTS90002: Tenant not found.");
    }
    if field("grant_type") != Some("client_credentials")
        || field("client_id") != Some(creds.client_id.as_str())
    {
        return oauth_error(
            400,
            "unauthorized_client",
            "AADSTS700016: Application not found in the directory.",
        );
    }
    let proof_ok = match (
        field("client_secret"),
        field("client_assertion_type"),
        field("client_assertion"),
    ) {
        (Some(secret), _, _) => secret == creds.client_secret,
        (None, Some(JWT_BEARER), Some(assertion)) => {
            creds.federated_token.as_deref() == Some(assertion)
        }
        _ => false,
    };
    if !proof_ok || !world.credentials_valid {
        return oauth_error(
            401,
            "invalid_client",
            "AADSTS7000215: Invalid client secret provided.",
        );
    }
    let (token, expires_in) = issue(shared, &mut world, now);
    json_response(
        200,
        &json!({ "token_type": "Bearer", "expires_in": expires_in, "ext_expires_in": expires_in, "access_token": token }),
    )
}

/// `GET /metadata/identity/oauth2/token` (IMDS and `IDENTITY_ENDPOINT` shape).
pub(crate) fn managed_identity(shared: &Arc<Shared>, req: &Req) -> Response {
    if req.headers.get("metadata").and_then(|v| v.to_str().ok()) != Some("true") {
        return oauth_error(
            400,
            "invalid_request",
            "Required metadata header not specified",
        );
    }
    let now = shared.clock.now();
    let mut world = shared.lock();
    let creds = world.spec.credentials.clone();
    let client_ok = req.query("client_id").is_none_or(|c| c == creds.client_id);
    if !creds.managed_identity || !client_ok || !world.credentials_valid {
        return oauth_error(400, "invalid_request", "Identity not found");
    }
    if req.query("resource").is_none_or(str::is_empty) {
        return oauth_error(
            400,
            "invalid_request",
            "Required query variable 'resource' is missing",
        );
    }
    let (token, expires_in) = issue(shared, &mut world, now);
    let expires_on = Timestamp::now().as_second() + expires_in as i64;
    json_response(
        200,
        &json!({
            "access_token": token,
            "expires_in": expires_in.to_string(),
            "expires_on": expires_on.to_string(),
            "resource": req.query("resource"),
            "token_type": "Bearer",
        }),
    )
}

/// Checks `Authorization: Bearer …` on an ARM call: the refusal, or none when the token is valid.
pub(crate) fn refuse_bearer(
    world: &World,
    now: Timestamp,
    headers: &HeaderMap,
) -> Option<Response> {
    let header = headers.get("authorization").and_then(|v| v.to_str().ok());
    let Some(token) = header.and_then(|h| h.strip_prefix("Bearer ")) else {
        return Some(arm_error(
            401,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
        ));
    };
    match world.tokens.get(token) {
        None => Some(arm_error(
            401,
            "InvalidAuthenticationToken",
            "The access token is invalid.",
        )),
        Some(expiry) if *expiry <= now => Some(arm_error(
            401,
            "ExpiredAuthenticationToken",
            &format!(
                "The access token expiry UTC time '{expiry}' is earlier than current UTC time '{now}'."
            ),
        )),
        Some(_) => None,
    }
}
