//! Long-running operations: their table, reconciles, the first answer with its status URLs,
//! and the `Azure-AsyncOperation` and `Location` status endpoints. VM actions are in
//! [`super::actions`].

use std::sync::Arc;

use axum::response::Response;
use nodemend_core::model::ProvisioningState;
use serde_json::{Value, json};

use super::Shared;
use super::http::{Req, error_response, error_value, json_response, set_header};
use super::spec::{AsyncHeaders, ErrorSpec};
use super::world::{OpStatus, Operation, World};

/// What a reconcile re-applies.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ReconcileTarget {
    Cluster,
    Pool(usize),
}

pub(crate) fn new_operation(shared: &Shared, world: &mut World) -> String {
    let id = world.new_id();
    world.ops.insert(
        id.clone(),
        Operation {
            status: OpStatus::Running,
            start: shared.clock.now(),
            end: None,
        },
    );
    id
}

pub(crate) fn complete(
    world: &mut World,
    op_id: &str,
    now: jiff::Timestamp,
    error: Option<ErrorSpec>,
) {
    if let Some(op) = world.ops.get_mut(op_id) {
        op.end = Some(now);
        op.status = error.map_or(OpStatus::Succeeded, OpStatus::Failed);
    }
}

/// Starts a reconcile; returns the operation ID.
pub(crate) fn start_reconcile(
    shared: &Arc<Shared>,
    world: &mut World,
    target: ReconcileTarget,
    failure: Option<ErrorSpec>,
) -> String {
    let id = new_operation(shared, world);
    match target {
        ReconcileTarget::Cluster => world.cluster.provisioning_state = ProvisioningState::Updating,
        ReconcileTarget::Pool(p) => world.pools[p].provisioning_state = ProvisioningState::Updating,
    }
    let wait = shared.clock.real(world.spec.timing.reconcile_secs);
    let (shared, op_id) = (Arc::clone(shared), id.clone());
    tokio::spawn(async move {
        tokio::time::sleep(wait).await;
        let mut world = shared.lock();
        let now = shared.clock.now();
        let state = if failure.is_some() {
            ProvisioningState::Failed
        } else {
            ProvisioningState::Succeeded
        };
        match target {
            ReconcileTarget::Cluster => {
                world.cluster.provisioning_state = state.clone();
                world.cluster.error = failure.clone();
                world.cluster.etag += 1;
                for pool in world
                    .pools
                    .iter_mut()
                    .filter(|p| p.provisioning_state.is_failed() || failure.is_none())
                {
                    pool.provisioning_state = state.clone();
                    pool.error = failure.clone();
                }
            }
            ReconcileTarget::Pool(p) => {
                let pool = &mut world.pools[p];
                pool.provisioning_state = state;
                pool.error = failure.clone();
                pool.etag += 1;
            }
        }
        complete(&mut world, &op_id, now, failure);
    });
    id
}

/// The first answer to a long-running operation: `status` with `body`, and the status URLs.
pub(crate) fn accepted(
    shared: &Shared,
    world: &World,
    namespace: &str,
    op_id: &str,
    status: u16,
    body: Option<&Value>,
) -> Response {
    let base = format!(
        "{}/subscriptions/{}/providers/{namespace}/locations/{}/operations/{op_id}",
        shared.base, world.spec.subscription, world.spec.location
    );
    let mut response = match body {
        Some(body) => json_response(status, body),
        None => empty(status),
    };
    let mode = world.spec.async_headers;
    if matches!(mode, AsyncHeaders::Both | AsyncHeaders::AzureAsyncOperation) {
        set_header(
            &mut response,
            "azure-asyncoperation",
            &format!("{base}?api-version=sim"),
        );
    }
    if matches!(mode, AsyncHeaders::Both | AsyncHeaders::Location) {
        set_header(
            &mut response,
            "location",
            &format!("{base}?monitor=true&api-version=sim"),
        );
    }
    let retry = shared
        .clock
        .poll_retry_after(world.spec.timing.poll_retry_after_secs);
    set_header(&mut response, "retry-after", &retry.to_string());
    response
}

/// An answer without a body.
pub(crate) fn empty(status: u16) -> Response {
    let mut response = Response::new(axum::body::Body::empty());
    *response.status_mut() =
        axum::http::StatusCode::from_u16(status).unwrap_or(axum::http::StatusCode::OK);
    response
}

/// `GET …/providers/{ns}/locations/{loc}/operations/{id}`: the operation's status
/// (`Azure-AsyncOperation`), or with `monitor=true` the `Location` protocol.
pub(crate) fn route(shared: &Shared, world: &World, req: &Req) -> Option<Response> {
    let segs = req.segments();
    let [
        "subscriptions",
        _,
        "providers",
        _,
        "locations",
        _,
        "operations",
        _,
    ] = segs.as_slice()
    else {
        return None;
    };
    let id = req.raw.get(7).map(String::as_str).unwrap_or("");
    let Some(op) = world.ops.get(id) else {
        return Some(super::http::arm_error(
            404,
            "OperationNotFound",
            &format!("Operation {id} was not found."),
        ));
    };
    let retry = shared
        .clock
        .poll_retry_after(world.spec.timing.poll_retry_after_secs)
        .to_string();
    if req.query("monitor") == Some("true") {
        let mut response = match &op.status {
            OpStatus::Running => empty(202),
            OpStatus::Succeeded => empty(200),
            OpStatus::Failed(error) => error_response(400, error),
        };
        if op.status == OpStatus::Running {
            set_header(&mut response, "retry-after", &retry);
        }
        return Some(response);
    }
    let (status, error) = match &op.status {
        OpStatus::Running => ("InProgress", None),
        OpStatus::Succeeded => ("Succeeded", None),
        OpStatus::Failed(e) => ("Failed", Some(error_value(e))),
    };
    let mut body = json!({ "name": id, "status": status, "startTime": op.start.to_string() });
    if let Some(end) = op.end {
        body["endTime"] = json!(end.to_string());
    }
    if let Some(error) = error {
        body["error"] = error;
    }
    let mut response = json_response(200, &body);
    if op.status == OpStatus::Running {
        set_header(&mut response, "retry-after", &retry);
    }
    Some(response)
}
