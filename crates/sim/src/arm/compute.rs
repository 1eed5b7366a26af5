//! Microsoft.Compute routes: scale sets, their VMs, standalone VMs, and actions on them.

use std::sync::Arc;

use axum::http::Method;
use axum::response::Response;
use serde_json::{Value, json};

use super::Shared;
use super::actions::start_vm_action;
use super::http::{Req, arm_error, error_response, json_response};
use super::ops::accepted;
use super::render;
use super::spec::{ErrorSpec, VmOp};
use super::world::World;

/// VMs per page of a VM list, so that clients follow `nextLink`.
const PAGE: usize = 50;

/// Routes `…/resourceGroups/{rg}/providers/Microsoft.Compute/…`.
pub(crate) fn route(shared: &Arc<Shared>, world: &mut World, req: &Req) -> Option<Response> {
    let segs = req.segments();
    let [
        "subscriptions",
        sub,
        "resourcegroups",
        rg,
        "providers",
        "microsoft.compute",
        rest @ ..,
    ] = segs.as_slice()
    else {
        return None;
    };
    if let Some(denied) = super::diag::check_scope(world, sub, Some(rg)) {
        return Some(denied);
    }
    if !rg.eq_ignore_ascii_case(&world.cluster.node_resource_group) {
        return Some(arm_error(
            404,
            "ResourceNotFound",
            "The resource was not found in this resource group.",
        ));
    }
    let name = |i: usize| req.raw.get(6 + i).cloned().unwrap_or_default();
    Some(match (&req.method, rest) {
        (&Method::GET, ["virtualmachinescalesets"]) => {
            let value: Vec<Value> = world
                .pools
                .iter()
                .filter(|p| p.spec.kind == nodemend_core::model::PoolKind::VirtualMachineScaleSets)
                .map(|p| render::scale_set(world, p))
                .collect();
            json_response(200, &json!({ "value": value }))
        }
        (&Method::GET, ["virtualmachinescalesets", _]) => match world.pool_of_scale_set(&name(1)) {
            Some(p) => read_fault(world, &[world.pools[p].spec.name.clone()])
                .unwrap_or_else(|| json_response(200, &render::scale_set(world, &world.pools[p]))),
            None => not_found(),
        },
        (&Method::POST, ["virtualmachinescalesets", _, action]) => {
            match (world.pool_of_scale_set(&name(1)), op_of(action)) {
                (Some(_), Some(op)) => batch(shared, world, req, &name(1), op),
                (None, _) => not_found(),
                (_, None) => arm_error(404, "InvalidResourceType", "Unknown scale set action."),
            }
        }
        (&Method::GET, ["virtualmachinescalesets", _, "virtualmachines"]) => {
            list_vms(shared, world, req, &name(1))
        }
        (&Method::GET, ["virtualmachinescalesets", _, "virtualmachines", id]) => {
            get_vm(world, req, world.scale_set_vm(&name(1), id), false)
        }
        (
            &Method::GET,
            [
                "virtualmachinescalesets",
                _,
                "virtualmachines",
                id,
                "instanceview",
            ],
        ) => get_vm(world, req, world.scale_set_vm(&name(1), id), true),
        (&Method::POST, ["virtualmachinescalesets", _, "virtualmachines", id, action]) => {
            match op_of(action) {
                Some(op) if op != VmOp::Update => {
                    single(shared, world, world.scale_set_vm(&name(1), id), op)
                }
                _ => arm_error(404, "InvalidResourceType", "Unknown VM action."),
            }
        }
        (&Method::GET, ["virtualmachines", _]) => {
            get_vm(world, req, world.standalone_vm(&name(1)), false)
        }
        (&Method::GET, ["virtualmachines", _, "instanceview"]) => {
            get_vm(world, req, world.standalone_vm(&name(1)), true)
        }
        (&Method::PATCH, ["virtualmachines", _]) => {
            single(shared, world, world.standalone_vm(&name(1)), VmOp::Update)
        }
        (&Method::POST, ["virtualmachines", _, action]) => match op_of(action) {
            Some(op) if op != VmOp::Update => {
                single(shared, world, world.standalone_vm(&name(1)), op)
            }
            _ => arm_error(404, "InvalidResourceType", "Unknown VM action."),
        },
        _ => arm_error(
            405,
            "MethodNotAllowed",
            "The method is not allowed on this resource.",
        ),
    })
}

fn op_of(action: &str) -> Option<VmOp> {
    match action {
        "restart" => Some(VmOp::Restart),
        "reimage" | "reimageall" => Some(VmOp::Reimage),
        "redeploy" => Some(VmOp::Redeploy),
        "manualupgrade" => Some(VmOp::Update),
        _ => None,
    }
}

fn not_found() -> Response {
    arm_error(
        404,
        "NotFound",
        "The entity was not found in this Azure location.",
    )
}

fn read_fault(world: &mut World, names: &[String]) -> Option<Response> {
    let firing = world.faults.fire("read", names)?;
    Some(error_response(
        firing.http_status.unwrap_or(500),
        &firing.error,
    ))
}

fn get_vm(world: &mut World, req: &Req, index: Option<usize>, view_only: bool) -> Response {
    let Some(i) = index.filter(|&i| !world.vms[i].deleted) else {
        return not_found();
    };
    if let Some(failed) = read_fault(world, &world.vms[i].names()) {
        return failed;
    }
    let vm = &world.vms[i];
    if view_only {
        return json_response(200, &render::instance_view(vm));
    }
    let expand = req
        .query("$expand")
        .is_some_and(|e| e.eq_ignore_ascii_case("instanceView"));
    json_response(200, &render::vm(world, vm, expand))
}

fn list_vms(shared: &Shared, world: &mut World, req: &Req, scale_set: &str) -> Response {
    let Some(p) = world.pool_of_scale_set(scale_set) else {
        return not_found();
    };
    if let Some(failed) = read_fault(world, &[world.pools[p].spec.name.clone()]) {
        return failed;
    }
    let expand = req
        .query("$expand")
        .is_some_and(|e| e.eq_ignore_ascii_case("instanceView"));
    let skip: usize = req
        .query("$skiptoken")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let members = world.vms_of_scale_set(scale_set);
    let value: Vec<Value> = members
        .iter()
        .skip(skip)
        .take(PAGE)
        .map(|&i| render::vm(world, &world.vms[i], expand))
        .collect();
    let mut body = json!({ "value": value });
    if skip + PAGE < members.len() {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in req.query.iter().filter(|(k, _)| k != "$skiptoken") {
            query.append_pair(k, v);
        }
        query.append_pair("$skiptoken", &(skip + PAGE).to_string());
        body["nextLink"] = json!(format!("{}{}?{}", shared.base, req.path, query.finish()));
    }
    json_response(200, &body)
}

fn op_str(op: VmOp) -> &'static str {
    match op {
        VmOp::Restart => "restart",
        VmOp::Reimage => "reimage",
        VmOp::Redeploy => "redeploy",
        VmOp::Update => "update",
    }
}

/// Whether a VM's action runs (and the failure it will end with) or is refused now.
enum Admission {
    Run(Option<ErrorSpec>),
    Refuse(Response),
}

fn admit(world: &mut World, i: usize, op: VmOp) -> Admission {
    let vm = &world.vms[i];
    if vm.busy.is_some() {
        return Admission::Refuse(arm_error(
            409,
            "OperationNotAllowed",
            &format!(
                "Operation '{}' is not allowed on VM '{}' since another operation is in progress.",
                op_str(op),
                vm.name
            ),
        ));
    }
    match world.faults.fire(op_str(op), &vm.names()) {
        Some(f) => match f.http_status {
            Some(status) => Admission::Refuse(error_response(status, &f.error)),
            None => Admission::Run(Some(f.error)),
        },
        None => Admission::Run(None),
    }
}

fn single(shared: &Arc<Shared>, world: &mut World, index: Option<usize>, op: VmOp) -> Response {
    let Some(i) = index.filter(|&i| !world.vms[i].deleted) else {
        return not_found();
    };
    let failure = match admit(world, i, op) {
        Admission::Run(failure) => failure,
        Admission::Refuse(refused) => return refused,
    };
    let op_id = start_vm_action(shared, world, op, vec![(i, failure)]);
    if op == VmOp::Update {
        let body = render::vm(world, &world.vms[i], false);
        return accepted(shared, world, "Microsoft.Compute", &op_id, 200, Some(&body));
    }
    accepted(shared, world, "Microsoft.Compute", &op_id, 202, None)
}

fn batch(
    shared: &Arc<Shared>,
    world: &mut World,
    req: &Req,
    scale_set: &str,
    op: VmOp,
) -> Response {
    let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    let ids: Option<Vec<String>> = body.get("instanceIds").and_then(Value::as_array).map(|a| {
        a.iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    });
    let members = match ids {
        Some(ids) => {
            let mut members = Vec::with_capacity(ids.len());
            for id in ids {
                match world
                    .scale_set_vm(scale_set, &id)
                    .filter(|&i| !world.vms[i].deleted)
                {
                    Some(i) => members.push(i),
                    None => {
                        return error_response(
                            400,
                            &ErrorSpec {
                                code: "InvalidParameter".into(),
                                message: format!(
                                    "The provided instanceId {id} is not an active Virtual Machine Scale Set VM instanceId."
                                ),
                                details: vec![],
                            },
                        );
                    }
                }
            }
            members
        }
        None if op == VmOp::Update => {
            return arm_error(
                400,
                "InvalidParameter",
                "Required parameter 'instanceIds' is missing (null).",
            );
        }
        // ARM's own default: no list means every VM of the scale set.
        None => world.vms_of_scale_set(scale_set),
    };
    let mut planned = Vec::with_capacity(members.len());
    for i in members {
        match admit(world, i, op) {
            Admission::Run(failure) => planned.push((i, failure)),
            Admission::Refuse(refused) => return refused,
        }
    }
    let op_id = start_vm_action(shared, world, op, planned);
    accepted(shared, world, "Microsoft.Compute", &op_id, 202, None)
}
