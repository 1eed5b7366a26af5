//! The caller's own permissions (`Permissions_ListForResourceGroup`, `_ListForResource`): one
//! role whose actions are the scenario's `role_actions` (`*` when they are not set), at every
//! resource group the world knows (the cluster's, the node resource group, those of its
//! subnets) and every resource in them.

use axum::http::Method;
use axum::response::Response;
use serde_json::json;

use super::diag::check_scope;
use super::http::{Req, json_response};
use super::world::World;

/// Answers `GET {resource group or resource}/providers/Microsoft.Authorization/permissions`.
pub(crate) fn route(world: &World, req: &Req) -> Option<Response> {
    let segs = req.segments();
    let [
        "subscriptions",
        sub,
        "resourcegroups",
        rg,
        ..,
        "providers",
        "microsoft.authorization",
        "permissions",
    ] = segs.as_slice()
    else {
        return None;
    };
    if req.method != Method::GET {
        return None;
    }
    // Subnets may live in a resource group of their own (a virtual network the user made).
    let holds_subnet = world.spec.subnets.iter().any(|s| {
        s.id.to_ascii_lowercase()
            .contains(&format!("/resourcegroups/{rg}/"))
    });
    let rg = (!holds_subnet).then_some(*rg);
    if let Some(missing) = check_scope(world, sub, rg) {
        return Some(missing);
    }
    let actions = world
        .spec
        .role_actions
        .clone()
        .unwrap_or_else(|| vec!["*".to_owned()]);
    Some(json_response(
        200,
        &json!({ "value": [{
            "actions": actions,
            "notActions": [],
            "dataActions": [],
            "notDataActions": [],
        }] }),
    ))
}
