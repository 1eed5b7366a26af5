//! Microsoft.ContainerService routes: the managed cluster and its agent pools, read and
//! reconciled (PUT of the current model).

use std::sync::Arc;

use axum::http::Method;
use axum::response::Response;
use serde_json::json;

use super::Shared;
use super::http::{Req, arm_error, error_response, json_response};
use super::ops::{ReconcileTarget, accepted, start_reconcile};
use super::render;
use super::world::World;

/// Routes `…/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/…`.
pub(crate) fn route(shared: &Arc<Shared>, world: &mut World, req: &Req) -> Option<Response> {
    let segs = req.segments();
    let [
        "subscriptions",
        sub,
        "resourcegroups",
        rg,
        "providers",
        "microsoft.containerservice",
        "managedclusters",
        rest @ ..,
    ] = segs.as_slice()
    else {
        return None;
    };
    if let Some(denied) = super::diag::check_scope(world, sub, Some(rg)) {
        return Some(denied);
    }
    let in_cluster_rg = rg.eq_ignore_ascii_case(&world.spec.cluster.resource_group);
    let cluster_matches =
        |name: &str| in_cluster_rg && name.eq_ignore_ascii_case(&world.spec.cluster.name);
    Some(match (&req.method, rest) {
        (&Method::GET, []) => {
            let value = if in_cluster_rg {
                vec![render::cluster(world)]
            } else {
                vec![]
            };
            json_response(200, &json!({ "value": value }))
        }
        (_, [name, ..]) if !cluster_matches(name) => arm_error(
            404,
            "ResourceNotFound",
            "The Resource 'Microsoft.ContainerService/managedClusters' under the resource group was not found.",
        ),
        (&Method::GET, [_]) => read(world, &world.spec.cluster.name.clone())
            .unwrap_or_else(|| json_response(200, &render::cluster(world))),
        (&Method::PUT, [_]) => reconcile(shared, world, req, None),
        (&Method::GET, [_, "agentpools"]) => {
            let value: Vec<_> = world.pools.iter().map(|p| render::pool(world, p)).collect();
            json_response(200, &json!({ "value": value }))
        }
        (method, [_, "agentpools", pool]) => match world.pool(pool) {
            None => arm_error(404, "NotFound", "The agent pool was not found."),
            Some(p) if method == Method::GET => read(world, &world.pools[p].spec.name.clone())
                .unwrap_or_else(|| json_response(200, &render::pool(world, &world.pools[p]))),
            Some(p) if method == Method::PUT => reconcile(shared, world, req, Some(p)),
            Some(_) => arm_error(
                405,
                "MethodNotAllowed",
                "The method is not allowed on this resource.",
            ),
        },
        _ => arm_error(
            405,
            "MethodNotAllowed",
            "The method is not allowed on this resource.",
        ),
    })
}

fn read(world: &mut World, name: &str) -> Option<Response> {
    let f = world.faults.fire("read", &[name.to_owned()])?;
    Some(error_response(f.http_status.unwrap_or(500), &f.error))
}

fn reconcile(shared: &Arc<Shared>, world: &mut World, req: &Req, pool: Option<usize>) -> Response {
    let (state, etag, name) = match pool {
        Some(p) => {
            let p = &world.pools[p];
            (
                p.provisioning_state.clone(),
                format!("pool-etag-{}", p.etag),
                p.spec.name.clone(),
            )
        }
        None => (
            world.cluster.provisioning_state.clone(),
            format!("cluster-etag-{}", world.cluster.etag),
            world.spec.cluster.name.clone(),
        ),
    };
    if serde_json::from_slice::<serde_json::Value>(&req.body).is_err() {
        return arm_error(
            400,
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized.",
        );
    }
    if let Some(wanted) = req.headers.get("if-match").and_then(|v| v.to_str().ok())
        && wanted != etag
        && wanted != "*"
    {
        return arm_error(
            412,
            "PreconditionFailed",
            "Operation is not allowed since the eTag does not match.",
        );
    }
    if !state.is_terminal() {
        return arm_error(
            409,
            "OperationNotAllowed",
            "Operation is not allowed because there's an in progress operation on the resource. See aka.ms/aks-pending-operation.",
        );
    }
    let failure = match world.faults.fire("reconcile", &[name]) {
        Some(f) => match f.http_status {
            Some(status) => return error_response(status, &f.error),
            None => Some(f.error),
        },
        None => None,
    };
    let target = pool.map_or(ReconcileTarget::Cluster, ReconcileTarget::Pool);
    let op_id = start_reconcile(shared, world, target, failure);
    let body = match pool {
        Some(p) => render::pool(world, &world.pools[p]),
        None => render::cluster(world),
    };
    accepted(
        shared,
        world,
        "Microsoft.ContainerService",
        &op_id,
        200,
        Some(&body),
    )
}
