//! Errors: the crate's own failures ([`Error`]) and the Kubernetes `Status` failures the API
//! server answers clients with ([`ApiError`]).

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Why starting, using or stopping the simulated API server failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The listening socket could not be opened.
    #[error("cannot bind the simulated API server to {addr}")]
    Bind {
        /// Address that was asked for.
        addr: SocketAddr,
        /// Cause reported by the OS.
        #[source]
        source: std::io::Error,
    },
    /// The kubeconfig file could not be written.
    #[error("cannot write the simulator kubeconfig to {}", path.display())]
    WriteKubeconfig {
        /// File that was being written.
        path: PathBuf,
        /// Cause reported by the OS.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP server stopped with an error.
    #[error("the simulated API server stopped serving")]
    Serve {
        /// Cause reported by the server.
        #[source]
        source: std::io::Error,
    },
}

/// A failed API request, rendered as a Kubernetes `Status` body with its HTTP code.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{reason} ({code}): {message}")]
pub struct ApiError {
    /// HTTP status code, repeated in the body's `code`.
    pub code: u16,
    /// Machine-readable `reason` (`NotFound`, `Conflict`, ...).
    pub reason: &'static str,
    /// Human-readable message, worded like the real server's.
    pub message: String,
    /// The `details` object, or `None` when the real server sends none.
    pub details: Option<Value>,
}

/// Result of an API operation.
pub type ApiResult<T> = Result<T, ApiError>;

/// Names a resource in error messages the way the real server does (`leases.coordination.k8s.io`).
pub(crate) fn qualified(group: &str, plural: &str) -> String {
    if group.is_empty() {
        plural.to_owned()
    } else {
        format!("{plural}.{group}")
    }
}

/// Names a kind in validation messages the way the real server does (`Lease.coordination.k8s.io`).
fn qualified_kind(group: &str, kind: &str) -> String {
    if group.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}.{group}")
    }
}

/// The `reason` of a field error, from the start of its message as the real server words it.
fn cause_reason(message: &str) -> &'static str {
    [
        ("Required value", "FieldValueRequired"),
        ("Unsupported value", "FieldValueNotSupported"),
        ("Forbidden", "FieldValueForbidden"),
        ("Duplicate value", "FieldValueDuplicate"),
    ]
    .iter()
    .find(|(prefix, _)| message.starts_with(prefix))
    .map_or("FieldValueInvalid", |(_, reason)| reason)
}

fn details(group: &str, kind: &str, name: &str) -> Value {
    let mut d = json!({ "name": name, "kind": kind });
    if !group.is_empty() {
        d["group"] = json!(group);
    }
    d
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: String, details: Option<Value>) -> Self {
        Self {
            code,
            reason,
            message,
            details,
        }
    }

    /// 404 for a named object that does not exist.
    pub fn not_found(group: &str, plural: &str, name: &str) -> Self {
        let msg = format!("{} \"{name}\" not found", qualified(group, plural));
        Self::new(404, "NotFound", msg, Some(details(group, plural, name)))
    }

    /// 404 for a path that names no resource.
    pub fn unknown_path() -> Self {
        let msg = "the server could not find the requested resource".to_owned();
        Self::new(404, "NotFound", msg, Some(json!({})))
    }

    /// 409 when creating an object whose name is taken.
    pub fn already_exists(group: &str, plural: &str, name: &str) -> Self {
        let msg = format!("{} \"{name}\" already exists", qualified(group, plural));
        Self::new(
            409,
            "AlreadyExists",
            msg,
            Some(details(group, plural, name)),
        )
    }

    /// 409 when an update carries a stale resourceVersion or a failed precondition.
    pub fn conflict(group: &str, plural: &str, name: &str, why: &str) -> Self {
        let msg = format!(
            "Operation cannot be fulfilled on {} \"{name}\": {why}",
            qualified(group, plural)
        );
        Self::new(409, "Conflict", msg, Some(details(group, plural, name)))
    }

    /// 409 for the usual stale-resourceVersion conflict.
    pub fn stale(group: &str, plural: &str, name: &str) -> Self {
        Self::conflict(
            group,
            plural,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// 422 for an object that fails validation; `causes` are `(field, message)` pairs.
    pub fn invalid(group: &str, kind: &str, name: &str, causes: &[(String, String)]) -> Self {
        let joined: Vec<String> = causes.iter().map(|(f, m)| format!("{f}: {m}")).collect();
        let what = format!("{} \"{name}\" is invalid", qualified_kind(group, kind));
        let msg = match joined.as_slice() {
            [one] => format!("{what}: {one}"),
            many => format!("{what}: [{}]", many.join(", ")),
        };
        let mut d = details(group, kind, name);
        if name.is_empty()
            && let Some(m) = d.as_object_mut()
        {
            m.remove("name");
        }
        d["causes"] = causes
            .iter()
            .map(|(f, m)| json!({ "reason": cause_reason(m), "message": m, "field": f }))
            .collect();
        Self::new(422, "Invalid", msg, Some(d))
    }

    /// 422 for a JSON patch that cannot be applied (a failed `test`, a missing path).
    pub fn invalid_patch() -> Self {
        let msg = "the server rejected our request due to an error in our request".to_owned();
        Self::new(422, "Invalid", msg, Some(json!({})))
    }

    /// 400 for a malformed request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message.into(), None)
    }

    /// 405 for a verb the resource does not support.
    pub fn method_not_allowed(method: &str) -> Self {
        let msg =
            format!("the server does not allow this method on the requested resource ({method})");
        Self::new(405, "MethodNotAllowed", msg, Some(json!({})))
    }

    /// 415 for a patch or body type the resource does not accept.
    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        Self::new(415, "UnsupportedMediaType", message.into(), Some(json!({})))
    }

    /// 410 when a watch or continue token asks for history that is no longer kept.
    pub fn expired(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message.into(), None)
    }

    /// 429 refusal, as the eviction subresource answers when a budget forbids it.
    pub fn too_many_requests(message: impl Into<String>, causes: Value) -> Self {
        Self::new(
            429,
            "TooManyRequests",
            message.into(),
            Some(json!({ "causes": causes })),
        )
    }

    /// 403, as for creating objects in a namespace that is being deleted.
    pub fn forbidden(group: &str, plural: &str, name: &str, why: &str) -> Self {
        let msg = format!(
            "{} \"{name}\" is forbidden: {why}",
            qualified(group, plural)
        );
        Self::new(403, "Forbidden", msg, Some(details(group, plural, name)))
    }

    /// 500 for failures the real server reports as internal errors.
    pub fn internal(message: impl Into<String>) -> Self {
        let message = message.into();
        let d = json!({ "causes": [{ "message": message }] });
        Self::new(
            500,
            "InternalError",
            format!("Internal error occurred: {message}"),
            Some(d),
        )
    }

    /// 500 without a reason, as the real server answers a create that carries a resourceVersion.
    pub fn unreasoned(message: impl Into<String>) -> Self {
        Self::new(500, "", message.into(), None)
    }

    /// The `Status` body of this error.
    pub fn status(&self) -> Value {
        let mut s = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if self.reason.is_empty()
            && let Some(m) = s.as_object_mut()
        {
            m.remove("reason");
        }
        if let Some(d) = &self.details {
            s["details"] = d.clone();
        }
        s
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = self.status().to_string();
        (
            code,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    }
}
