//! Serving one resource request: picks the verb from method, name and subresource, runs it on
//! the store and renders the answer (object, list, table, watch stream, log text or `Status`).

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Shared;
use super::delete::{self, DeleteOptions};
use super::disruption;
use super::error::{ApiError, ApiResult};
use super::meta;
use super::patch::PatchType;
use super::read::{self, Filter};
use super::resource::ResourceType;
use super::routes::Target;
use super::table;
use super::verbs::{self, WriteOptions};
use super::watch::{self, WatchRequest};

/// Default watch length when the client gives no `timeoutSeconds` (the real server's minimum
/// request timeout).
const DEFAULT_WATCH_TIMEOUT: Duration = Duration::from_secs(1800);

fn json_response(code: StatusCode, v: &Value) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
}

fn parse_body(body: &Bytes) -> ApiResult<Value> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))
}

fn flag(query: &HashMap<String, String>, key: &str) -> bool {
    matches!(query.get(key).map(String::as_str), Some("true" | "1"))
}

fn dry_run(query: &HashMap<String, String>) -> bool {
    query.get("dryRun").is_some_and(|v| v == "All")
}

fn wants_table(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("as=Table"))
}

/// Serves a request on the resource `target` names.
pub(crate) fn handle(
    shared: &Arc<Shared>,
    method: &Method,
    target: &Target,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    body: &Bytes,
) -> ApiResult<Response> {
    let now = shared.clock.now();
    let mut store = shared.lock()?;
    let rt = store
        .registry
        .find(&target.group, &target.version, &target.plural)
        .ok_or_else(ApiError::unknown_path)?;
    let scoped_wrong = (target.namespace.is_some() && !rt.namespaced)
        || (rt.namespaced && target.namespace.is_none() && target.name.is_some());
    if scoped_wrong {
        return Err(ApiError::unknown_path());
    }
    let ns = target.namespace.as_deref().unwrap_or_default();
    let sub = target.subresource.as_deref();
    if sub == Some("status") && !rt.status {
        return Err(ApiError::unknown_path());
    }
    let status = sub == Some("status");
    let opts = WriteOptions {
        dry_run: dry_run(query),
        status,
    };
    let Some(name) = target.name.as_deref() else {
        return match *method {
            Method::GET if flag(query, "watch") => {
                drop(store);
                watch_response(shared, rt, target, query)
            }
            Method::GET => {
                let filter = filter(&rt, target, query)?;
                let limit = query.get("limit").and_then(|l| l.parse().ok());
                let page = read::list(
                    &store,
                    &rt,
                    &filter,
                    limit,
                    query.get("continue").map(String::as_str),
                )?;
                drop(store);
                Ok(render_list(&rt, page, wants_table(headers), now))
            }
            Method::POST => {
                let created =
                    verbs::create(&mut store, &rt, ns, &parse_body(body)?, opts.dry_run, now)?;
                Ok(json_response(
                    StatusCode::CREATED,
                    &meta::to_view(&rt, &created),
                ))
            }
            Method::DELETE => {
                let filter = filter(&rt, target, query)?;
                let page = read::list(&store, &rt, &filter, None, None)?;
                let mut removed = Vec::new();
                for o in &page.items {
                    let (ons, oname) = (
                        o["metadata"]["namespace"].as_str().unwrap_or_default(),
                        o["metadata"]["name"].as_str().unwrap_or_default(),
                    );
                    removed.push(delete::delete(
                        &mut store,
                        &rt,
                        ons,
                        oname,
                        &DeleteOptions {
                            dry_run: opts.dry_run,
                            graceful_pods: shared.graceful_pod_deletion,
                            ..Default::default()
                        },
                        now,
                    )?);
                }
                let page = read::Page {
                    items: removed,
                    rv: store.rv(),
                    next: None,
                    remaining: None,
                };
                Ok(render_list(&rt, page, false, now))
            }
            _ => Err(ApiError::method_not_allowed(method.as_str())),
        };
    };
    match (method.clone(), sub) {
        (Method::GET, None | Some("status")) => {
            let o = store
                .get(&rt.storage, ns, name)
                .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))?;
            drop(store);
            if wants_table(headers) {
                let page = read::Page {
                    items: vec![o],
                    rv: 0,
                    next: None,
                    remaining: None,
                };
                return Ok(render_list(&rt, page, true, now));
            }
            Ok(json_response(StatusCode::OK, &meta::to_view(&rt, &o)))
        }
        (Method::GET, Some("log")) if rt.plural == "pods" && !rt.custom => {
            let pod = store
                .get("pods", ns, name)
                .ok_or_else(|| ApiError::not_found("", "pods", name))?;
            drop(store);
            let first = pod["spec"]["containers"][0]["name"]
                .as_str()
                .unwrap_or_default();
            let container = query.get("container").map_or(first, String::as_str);
            Ok(shared
                .pod_log(
                    ns,
                    name,
                    container,
                    query.get("tailLines").and_then(|t| t.parse().ok()),
                )
                .into_response())
        }
        (Method::POST, Some("eviction")) if rt.plural == "pods" && !rt.custom => {
            let status =
                disruption::evict(&mut store, ns, name, shared.graceful_pod_deletion, now)?;
            Ok(json_response(StatusCode::CREATED, &status))
        }
        (Method::PUT, None | Some("status")) => {
            let code = if store.get(&rt.storage, ns, name).is_some() {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            let updated = verbs::update(&mut store, &rt, ns, name, &parse_body(body)?, opts, now)?;
            Ok(json_response(code, &meta::to_view(&rt, &updated)))
        }
        (Method::PATCH, None | Some("status")) => {
            let ct = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            let ty = PatchType::from_content_type(ct)?;
            let patched = verbs::patch(
                &mut store,
                &rt,
                ns,
                name,
                (ty, &parse_body(body)?),
                opts,
                now,
            )?;
            Ok(json_response(StatusCode::OK, &meta::to_view(&rt, &patched)))
        }
        (Method::DELETE, None) => {
            let options = delete_options(query, body, shared.graceful_pod_deletion)?;
            let o = delete::delete(&mut store, &rt, ns, name, &options, now)?;
            let still_there = store.get(&rt.storage, ns, name).is_some();
            Ok(delete_response(&rt, &o, still_there))
        }
        (_, None | Some("status")) => Err(ApiError::method_not_allowed(method.as_str())),
        _ => Err(ApiError::unknown_path()),
    }
}

fn filter(
    rt: &ResourceType,
    target: &Target,
    query: &HashMap<String, String>,
) -> ApiResult<Filter> {
    Filter::new(
        rt,
        target.namespace.as_deref(),
        query.get("labelSelector").map(String::as_str),
        query.get("fieldSelector").map(String::as_str),
    )
}

fn delete_options(
    query: &HashMap<String, String>,
    body: &Bytes,
    graceful_pods: bool,
) -> ApiResult<DeleteOptions> {
    let parsed = if body.is_empty() {
        Value::Null
    } else {
        parse_body(body)?
    };
    let pre = &parsed["preconditions"];
    let body_dry = parsed["dryRun"]
        .as_array()
        .is_some_and(|d| d.iter().any(|v| v == "All"));
    Ok(DeleteOptions {
        uid: pre["uid"].as_str().map(str::to_owned),
        resource_version: pre["resourceVersion"].as_str().map(str::to_owned),
        dry_run: dry_run(query) || body_dry,
        grace_period: query
            .get("gracePeriodSeconds")
            .and_then(|g| g.parse().ok())
            .or_else(|| parsed["gracePeriodSeconds"].as_i64()),
        graceful_pods,
    })
}

/// The real server answers a completed delete with a success `Status`, and a delete held by
/// finalizers with the object.
fn delete_response(rt: &ResourceType, object: &Value, still_there: bool) -> Response {
    if still_there || rt.plural == "pods" || rt.custom {
        return json_response(StatusCode::OK, &meta::to_view(rt, object));
    }
    let mut details = json!({ "name": object["metadata"]["name"], "kind": rt.plural, "uid": object["metadata"]["uid"] });
    if !rt.group.is_empty() {
        details["group"] = json!(rt.group);
    }
    json_response(
        StatusCode::OK,
        &json!({ "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details }),
    )
}

fn render_list(
    rt: &ResourceType,
    page: read::Page,
    as_table: bool,
    now: jiff::Timestamp,
) -> Response {
    if as_table {
        return json_response(StatusCode::OK, &table::render(rt, &page, now));
    }
    let mut metadata = json!({ "resourceVersion": page.rv.to_string() });
    if let Some(next) = &page.next {
        metadata["continue"] = json!(next);
    }
    if let Some(n) = page.remaining {
        metadata["remainingItemCount"] = json!(n);
    }
    let items: Vec<Value> = page.items.iter().map(|o| read::list_item(rt, o)).collect();
    let list = json!({ "kind": format!("{}List", rt.kind), "apiVersion": rt.api_version(), "metadata": metadata, "items": items });
    json_response(StatusCode::OK, &list)
}

fn watch_response(
    shared: &Arc<Shared>,
    rt: Arc<ResourceType>,
    target: &Target,
    query: &HashMap<String, String>,
) -> ApiResult<Response> {
    let timeout = query
        .get("timeoutSeconds")
        .and_then(|t| t.parse().ok())
        .map_or(DEFAULT_WATCH_TIMEOUT, Duration::from_secs);
    let req = WatchRequest {
        filter: filter(&rt, target, query)?,
        rt,
        resource_version: query.get("resourceVersion").cloned(),
        bookmarks: flag(query, "allowWatchBookmarks"),
        send_initial_events: flag(query, "sendInitialEvents"),
        timeout,
        bookmark_interval: shared.bookmark_interval,
    };
    let stream = {
        let mut store = shared.lock()?;
        watch::open(&mut store, req, shared.shutdown.clone())?
    };
    let body = futures::stream::unfold(stream, |mut s| async move {
        s.next_chunk()
            .await
            .map(|chunk| (Ok::<_, Infallible>(chunk), s))
    });
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(body),
    )
        .into_response())
}
