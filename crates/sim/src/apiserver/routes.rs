//! HTTP routing: discovery endpoints, and the parsing of resource paths
//! (`/api/v1/...`, `/apis/<group>/<version>/...`) that [`super::handlers`] serves.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;

use super::Shared;
use super::discovery;
use super::error::{ApiError, ApiResult};
use super::handlers;
use super::openapi;

/// What a resource path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) group: String,
    pub(crate) version: String,
    pub(crate) namespace: Option<String>,
    pub(crate) plural: String,
    pub(crate) name: Option<String>,
    pub(crate) subresource: Option<String>,
}

/// Parses a resource path; `None` when it is not one.
pub(crate) fn parse_path(path: &str) -> Option<Target> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest) = match segs.as_slice() {
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return None,
    };
    let namespace_subresource =
        group.is_empty() && rest.len() == 3 && matches!(rest[2], "status" | "finalize");
    let (namespace, rest) = match rest {
        ["namespaces", ns, tail @ ..] if !tail.is_empty() && !namespace_subresource => {
            (Some((*ns).to_owned()), tail)
        }
        _ => (None, rest),
    };
    let (plural, name, subresource) = match rest {
        [p] => (*p, None, None),
        [p, n] => (*p, Some(*n), None),
        [p, n, s] => (*p, Some(*n), Some(*s)),
        _ => return None,
    };
    if plural.is_empty() || name.is_some_and(str::is_empty) {
        return None;
    }
    Some(Target {
        group: group.to_owned(),
        version: version.to_owned(),
        namespace,
        plural: plural.to_owned(),
        name: name.map(str::to_owned),
        subresource: subresource.map(str::to_owned),
    })
}

fn json(v: Value) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
}

async fn version() -> Response {
    json(discovery::version())
}

fn aggregated_asked(headers: &HeaderMap) -> bool {
    headers
        .get(axum::http::header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .is_some_and(discovery::wants_aggregated)
}

fn aggregated(v: Value) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, discovery::AGGREGATED_V2)],
        v.to_string(),
    )
        .into_response()
}

async fn core_versions(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    if aggregated_asked(&headers) {
        let store = shared.lock()?;
        return Ok(aggregated(discovery::aggregated(&store.registry, true)));
    }
    Ok(json(discovery::core_versions(&shared.authority)))
}

async fn groups(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> ApiResult<Response> {
    let store = shared.lock()?;
    if aggregated_asked(&headers) {
        return Ok(aggregated(discovery::aggregated(&store.registry, false)));
    }
    Ok(json(discovery::groups(&store.registry)))
}

async fn core_resources(State(shared): State<Arc<Shared>>) -> ApiResult<Response> {
    let store = shared.lock()?;
    discovery::resources(&store.registry, "", "v1")
        .map(json)
        .ok_or_else(ApiError::unknown_path)
}

async fn group(State(shared): State<Arc<Shared>>, Path(name): Path<String>) -> ApiResult<Response> {
    let store = shared.lock()?;
    discovery::group(&store.registry, &name)
        .map(json)
        .ok_or_else(ApiError::unknown_path)
}

async fn group_resources(
    State(shared): State<Arc<Shared>>,
    Path((g, v)): Path<(String, String)>,
) -> ApiResult<Response> {
    let store = shared.lock()?;
    discovery::resources(&store.registry, &g, &v)
        .map(json)
        .ok_or_else(ApiError::unknown_path)
}

async fn openapi_index(State(shared): State<Arc<Shared>>) -> ApiResult<Response> {
    let store = shared.lock()?;
    Ok(json(openapi::index(&store.registry)))
}

async fn openapi_core(
    State(shared): State<Arc<Shared>>,
    Path(v): Path<String>,
) -> ApiResult<Response> {
    let store = shared.lock()?;
    openapi::group_version(&store.registry, "", &v)
        .map(json)
        .ok_or_else(ApiError::unknown_path)
}

async fn openapi_group(
    State(shared): State<Arc<Shared>>,
    Path((g, v)): Path<(String, String)>,
) -> ApiResult<Response> {
    let store = shared.lock()?;
    openapi::group_version(&store.registry, &g, &v)
        .map(json)
        .ok_or_else(ApiError::unknown_path)
}

async fn ok() -> &'static str {
    "ok"
}

async fn resource(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(target) = parse_path(uri.path()) else {
        return ApiError::unknown_path().into_response();
    };
    let started = std::time::Instant::now();
    let response = handlers::handle(&shared, &method, &target, &query, &headers, &body)
        .unwrap_or_else(IntoResponse::into_response);
    tracing::debug!(
        method = %method,
        path = uri.path(),
        status = response.status().as_u16(),
        micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        "request"
    );
    response
}

/// The router of the whole server.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/version", get(version))
        .route("/api", get(core_versions))
        .route("/api/v1", get(core_resources))
        .route("/apis", get(groups))
        .route("/apis/{group}", get(group))
        .route("/apis/{group}/{version}", get(group_resources))
        .route("/openapi/v3", get(openapi_index))
        .route("/openapi/v3/api/{version}", get(openapi_core))
        .route("/openapi/v3/apis/{group}/{version}", get(openapi_group))
        .route("/healthz", get(ok))
        .route("/readyz", get(ok))
        .route("/livez", get(ok))
        .fallback(resource)
        .with_state(shared)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ns: Option<&str>, plural: &str, name: Option<&str>, sub: Option<&str>) -> Target {
        Target {
            group: String::new(),
            version: "v1".into(),
            namespace: ns.map(Into::into),
            plural: plural.into(),
            name: name.map(Into::into),
            subresource: sub.map(Into::into),
        }
    }

    #[test]
    fn paths_name_resources() {
        assert_eq!(
            parse_path("/api/v1/nodes"),
            Some(t(None, "nodes", None, None))
        );
        assert_eq!(
            parse_path("/api/v1/namespaces/a"),
            Some(t(None, "namespaces", Some("a"), None))
        );
        assert_eq!(
            parse_path("/api/v1/namespaces/a/status"),
            Some(t(None, "namespaces", Some("a"), Some("status")))
        );
        assert_eq!(
            parse_path("/api/v1/namespaces/a/pods"),
            Some(t(Some("a"), "pods", None, None))
        );
        assert_eq!(
            parse_path("/api/v1/namespaces/a/pods/p/eviction"),
            Some(t(Some("a"), "pods", Some("p"), Some("eviction")))
        );
        let lease = parse_path("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1")
            .expect("parsed");
        assert_eq!(
            (lease.group.as_str(), lease.name.as_deref()),
            ("coordination.k8s.io", Some("n1"))
        );
        assert_eq!(parse_path("/api/v1/namespaces/a/pods/p/log/extra"), None);
        assert_eq!(parse_path("/metrics"), None);
    }
}
