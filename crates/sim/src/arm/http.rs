//! The HTTP front: one handler that logs every call, answers the token endpoints, and for ARM
//! paths checks `api-version`, the bearer token and the throttling budgets before routing.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};

use super::Shared;
use super::calllog::CallRecord;
use super::spec::ErrorSpec;

/// A request, split the way the routes want it.
pub(crate) struct Req {
    pub(crate) method: Method,
    pub(crate) path: String,
    /// Path segments, lower-cased (ARM paths are case-insensitive).
    pub(crate) segs: Vec<String>,
    /// Path segments as sent.
    pub(crate) raw: Vec<String>,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Req {
    /// A query parameter, by case-insensitive name.
    pub(crate) fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The lower-cased segments as `&str`s, for slice patterns.
    pub(crate) fn segments(&self) -> Vec<&str> {
        self.segs.iter().map(String::as_str).collect()
    }
}

/// A JSON answer.
pub(crate) fn json_response(status: u16, body: &Value) -> Response {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

/// An ARM error body as JSON.
pub(crate) fn error_value(error: &ErrorSpec) -> Value {
    json!({
        "code": error.code,
        "message": error.message,
        "details": error.details.iter().map(error_value).collect::<Vec<_>>(),
    })
}

/// An ARM error answer.
pub(crate) fn arm_error(status: u16, code: &str, message: &str) -> Response {
    error_response(
        status,
        &ErrorSpec {
            code: code.into(),
            message: message.into(),
            details: vec![],
        },
    )
}

/// An ARM error answer from a spec'd error.
pub(crate) fn error_response(status: u16, error: &ErrorSpec) -> Response {
    json_response(status, &json!({ "error": error_value(error) }))
}

/// Sets a header, ignoring values that cannot be header values.
pub(crate) fn set_header(response: &mut Response, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
}

fn split(uri: &Uri) -> (Vec<String>, Vec<(String, String)>) {
    let raw: Vec<String> = uri
        .path()
        .trim_matches('/')
        .split('/')
        .map(percent_decode)
        .collect();
    let query = url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    (raw, query)
}

/// Decodes `%XX` escapes in a path segment (invalid escapes are kept as they are).
fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The one handler.
pub(crate) async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (raw, query) = split(&uri);
    let req = Req {
        method,
        path: uri.path().to_owned(),
        segs: raw.iter().map(|s| s.to_ascii_lowercase()).collect(),
        raw,
        query,
        headers,
        body,
    };
    let response = route(&shared, &req);
    let record = CallRecord {
        at: shared.clock.now(),
        method: req.method.to_string(),
        path: req.path.clone(),
        query: uri.query().map(str::to_owned),
        status: response.status().as_u16(),
    };
    tracing::debug!(method = %record.method, path = %record.path, status = record.status, "ARM simulator call");
    shared.lock().calls.push(record);
    response
}

fn route(shared: &Arc<Shared>, req: &Req) -> Response {
    let segs = req.segments();
    match segs.as_slice() {
        ["metadata", "identity", "oauth2", "token"] => super::auth::managed_identity(shared, req),
        [_tenant, "oauth2", "v2.0", "token"] => super::auth::token(shared, req),
        ["subscriptions", ..] => arm(shared, req),
        _ => arm_error(404, "NotFound", "No route for this path."),
    }
}

/// Which ARM operation a request is, for faults and budgets.
pub(crate) fn operation(req: &Req) -> &'static str {
    let last = req.segs.last().map(String::as_str).unwrap_or("");
    match (&req.method, last) {
        (&Method::POST, "restart") => "restart",
        (&Method::POST, "reimage" | "reimageall") => "reimage",
        (&Method::POST, "redeploy") => "redeploy",
        (&Method::POST, "manualupgrade") | (&Method::PATCH, _) => "update",
        (&Method::PUT, _) => "reconcile",
        (&Method::GET, _) => "read",
        _ => "other",
    }
}

fn arm(shared: &Arc<Shared>, req: &Req) -> Response {
    if req.query("api-version").is_none_or(str::is_empty) {
        return arm_error(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        );
    }
    let now = shared.clock.now();
    let mut world = shared.lock();
    if let Some(response) = super::auth::refuse_bearer(&world, now, &req.headers) {
        return response;
    }
    if let Some(allowed) = &world.spec.role_actions {
        let action = super::authz::action(&req.method, &req.raw);
        if !super::authz::allows(allowed, &action) {
            let client = &world.spec.credentials.client_id;
            return arm_error(
                403,
                "AuthorizationFailed",
                &format!(
                    "The client '{client}' with object id '{client}' does not have authorization to perform action '{action}' over scope '{}' or the scope is invalid. If access was recently granted, please refresh your credentials.",
                    super::authz::scope(&req.method, &req.raw)
                ),
            );
        }
    }
    let state = world.spec.subscription_state.clone();
    if req.method != Method::GET
        && (state.eq_ignore_ascii_case("Disabled") || state.eq_ignore_ascii_case("Deleted"))
    {
        return arm_error(
            409,
            "ReadOnlyDisabledSubscription",
            &format!("The subscription is {state} and therefore marked as read only."),
        );
    }
    let class = if req.method == Method::GET {
        "reads"
    } else {
        "writes"
    };
    let remaining = match world.faults.spend(class, operation(req), now) {
        Ok(remaining) => remaining,
        Err(over) => {
            let mut response = arm_error(
                429,
                "TooManyRequests",
                &format!(
                    "The request is being throttled: the subscription's {class} budget is used up."
                ),
            );
            set_header(
                &mut response,
                "retry-after",
                &shared
                    .clock
                    .throttle_retry_after(over.retry_after_secs)
                    .to_string(),
            );
            set_header(&mut response, header_for(class), "0");
            return response;
        }
    };
    let mut response = super::permissions::route(&world, req)
        .or_else(|| super::compute::route(shared, &mut world, req))
        .or_else(|| super::aks::route(shared, &mut world, req))
        .or_else(|| super::diag::route(shared, &mut world, req))
        .or_else(|| super::ops::route(shared, &world, req))
        .unwrap_or_else(|| {
            arm_error(
                404,
                "InvalidResourceType",
                "The resource type could not be found in the namespace for api version.",
            )
        });
    let default = if class == "reads" { 11_999 } else { 1_199 };
    set_header(
        &mut response,
        header_for(class),
        &remaining.unwrap_or(default).to_string(),
    );
    response
}

fn header_for(class: &str) -> &'static str {
    if class == "reads" {
        "x-ms-ratelimit-remaining-subscription-reads"
    } else {
        "x-ms-ratelimit-remaining-subscription-writes"
    }
}
