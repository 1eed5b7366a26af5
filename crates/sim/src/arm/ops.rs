//! Long-running operations: VM actions and reconciles take simulated time, change state while
//! they run, publish [`VmEvent`]s, and answer on their `Azure-AsyncOperation` and `Location` URLs.

use std::sync::Arc;

use axum::response::Response;
use nodemend_core::model::{PowerState, ProvisioningState};
use serde_json::{Value, json};

use super::Shared;
use super::events::{VmEvent, VmPhase};
use super::http::{Req, error_response, error_value, json_response, set_header};
use super::spec::{ActivitySpec, AsyncHeaders, ErrorSpec, VmOp};
use super::world::{OpStatus, Operation, World};

/// What a reconcile re-applies.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ReconcileTarget {
    Cluster,
    Pool(usize),
}

fn duration(world: &World, op: VmOp) -> f64 {
    let t = &world.spec.timing;
    match op {
        VmOp::Restart => t.restart_secs,
        VmOp::Reimage => t.reimage_secs,
        VmOp::Redeploy => t.redeploy_secs,
        VmOp::Update => t.update_secs,
    }
}

fn new_operation(shared: &Shared, world: &mut World) -> String {
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

/// Starts `op` on the VMs given with the failure each will end with; returns the operation ID.
pub(crate) fn start_vm_action(
    shared: &Arc<Shared>,
    world: &mut World,
    op: VmOp,
    vms: Vec<(usize, Option<ErrorSpec>)>,
) -> String {
    let id = new_operation(shared, world);
    let now = shared.clock.now();
    for (i, _) in &vms {
        let vm = &mut world.vms[*i];
        vm.busy = Some(op);
        vm.provisioning_state = ProvisioningState::Updating;
        vm.power_state = match op {
            VmOp::Redeploy => PowerState::Deallocating,
            VmOp::Update => vm.power_state.clone(),
            VmOp::Restart | VmOp::Reimage => PowerState::Starting,
        };
        publish(
            shared,
            VmEvent {
                at: now,
                computer_name: vm.computer_name.clone(),
                vm_id: vm.id.clone(),
                op,
                phase: VmPhase::Started,
                healthy: vm.healthy(),
                boot_count: vm.boot_count,
            },
        );
    }
    let wait = shared.clock.real(duration(world, op));
    let (shared, op_id) = (Arc::clone(shared), id.clone());
    tokio::spawn(async move {
        tokio::time::sleep(wait).await;
        let mut world = shared.lock();
        finish_vm_action(&shared, &mut world, &op_id, op, vms);
    });
    id
}

fn finish_vm_action(
    shared: &Shared,
    world: &mut World,
    op_id: &str,
    op: VmOp,
    vms: Vec<(usize, Option<ErrorSpec>)>,
) {
    let now = shared.clock.now();
    let mut first_error = None;
    for (i, failure) in vms {
        let own_error = failure.clone();
        let vm = &mut world.vms[i];
        vm.busy = None;
        vm.power_state = PowerState::Running;
        let phase = match failure {
            Some(error) => {
                vm.provisioning_state = ProvisioningState::Failed;
                let phase = VmPhase::Failed(error.code.clone());
                vm.error = Some(error.clone());
                first_error.get_or_insert(error);
                phase
            }
            None => {
                vm.provisioning_state = ProvisioningState::Succeeded;
                vm.error = None;
                if op != VmOp::Update {
                    vm.boot_count += 1;
                }
                if op == VmOp::Update {
                    vm.latest_model_applied = true;
                }
                if vm.fault.as_ref().is_some_and(|f| f.cured_by.contains(&op)) {
                    vm.fault = None;
                }
                for ext in vm
                    .extensions
                    .iter_mut()
                    .filter(|e| e.exit_code != 0 && e.cured_by.contains(&op))
                {
                    ext.exit_code = 0;
                    ext.message = None;
                }
                VmPhase::Succeeded
            }
        };
        let event = VmEvent {
            at: now,
            computer_name: vm.computer_name.clone(),
            vm_id: vm.id.clone(),
            op,
            phase,
            healthy: vm.healthy(),
            boot_count: vm.boot_count,
        };
        let resource_id = vm.id.clone();
        record_activity(world, now, &resource_id, op_name(op), own_error);
        publish(shared, event);
    }
    complete(world, op_id, now, first_error);
}

fn op_name(op: VmOp) -> &'static str {
    match op {
        VmOp::Restart => "restart",
        VmOp::Reimage => "reimage",
        VmOp::Redeploy => "redeploy",
        VmOp::Update => "manualUpgrade",
    }
}

fn record_activity(
    world: &mut World,
    now: jiff::Timestamp,
    resource_id: &str,
    action: &str,
    error: Option<ErrorSpec>,
) {
    let kind = if resource_id.contains("/virtualMachineScaleSets/") {
        "Microsoft.Compute/virtualMachineScaleSets/virtualMachines"
    } else {
        "Microsoft.Compute/virtualMachines"
    };
    let correlation_id = world.new_id();
    world.spec.activity_log.push(ActivitySpec {
        time: now,
        operation: format!("{kind}/{action}/action"),
        status: if error.is_some() {
            "Failed"
        } else {
            "Succeeded"
        }
        .into(),
        resource_id: resource_id.to_owned(),
        caller: world.spec.credentials.client_id.clone(),
        correlation_id,
        error,
    });
}

fn complete(world: &mut World, op_id: &str, now: jiff::Timestamp, error: Option<ErrorSpec>) {
    if let Some(op) = world.ops.get_mut(op_id) {
        op.end = Some(now);
        op.status = error.map_or(OpStatus::Succeeded, OpStatus::Failed);
    }
}

fn publish(shared: &Shared, event: VmEvent) {
    // No subscriber is fine: nobody watches VMs in a client-only test.
    let _ = shared.events.send(event);
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use tokio::sync::broadcast;

    use super::*;
    use crate::arm::SimClock;
    use crate::arm::spec::{ArmWorldSpec, PoolSpec, VmFaultSpec, VmSpec};

    fn shared(spec: ArmWorldSpec) -> Arc<Shared> {
        let (events, _) = broadcast::channel(16);
        Arc::new(Shared {
            world: Mutex::new(World::new(spec)),
            clock: SimClock::new("2026-11-21T10:00:00Z".parse().unwrap(), 10.0),
            events,
            base: "http://sim".into(),
        })
    }

    #[tokio::test(start_paused = true)]
    async fn an_action_takes_simulated_time_and_is_published_at_both_ends() {
        let fault = VmFaultSpec {
            description: "kubelet stopped".into(),
            cured_by: vec![VmOp::Restart],
        };
        let spec = ArmWorldSpec {
            pools: vec![PoolSpec {
                vms: vec![VmSpec {
                    fault: Some(fault),
                    ..VmSpec::default()
                }],
                ..PoolSpec::default()
            }],
            ..ArmWorldSpec::default()
        };
        let shared = shared(spec);
        let mut events = shared.events.subscribe();
        let op = {
            let mut world = shared.lock();
            start_vm_action(&shared, &mut world, VmOp::Restart, vec![(0, None)])
        };
        let started = events.recv().await.unwrap();
        assert_eq!((started.phase, started.healthy), (VmPhase::Started, false));
        assert_eq!(
            shared.lock().vms[0].provisioning_state,
            ProvisioningState::Updating
        );
        assert_eq!(shared.lock().ops[&op].status, OpStatus::Running);
        // 60 simulated seconds at scale 10: done after 6 s of (paused) time, not before.
        tokio::time::sleep(Duration::from_millis(5900)).await;
        assert_eq!(shared.lock().ops[&op].status, OpStatus::Running);
        let done = events.recv().await.unwrap();
        assert_eq!(
            (done.phase, done.healthy, done.boot_count),
            (VmPhase::Succeeded, true, 2)
        );
        assert_eq!(
            done.at,
            "2026-11-21T10:01:00Z".parse::<jiff::Timestamp>().unwrap()
        );
        let world = shared.lock();
        assert_eq!(world.ops[&op].status, OpStatus::Succeeded);
        assert_eq!(
            world.vms[0].provisioning_state,
            ProvisioningState::Succeeded
        );
        assert!(
            world
                .spec
                .activity_log
                .iter()
                .any(|a| a.operation.ends_with("/restart/action"))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_action_leaves_the_vm_failed_with_its_code() {
        let shared = shared(ArmWorldSpec::default());
        let mut events = shared.events.subscribe();
        let error = ErrorSpec {
            code: "VMRedeploymentFailed".into(),
            ..ErrorSpec::default()
        };
        let op = {
            let mut world = shared.lock();
            start_vm_action(
                &shared,
                &mut world,
                VmOp::Redeploy,
                vec![(1, Some(error.clone()))],
            )
        };
        let _started = events.recv().await.unwrap();
        let done = events.recv().await.unwrap();
        assert_eq!(done.phase, VmPhase::Failed("VMRedeploymentFailed".into()));
        let world = shared.lock();
        assert_eq!(world.ops[&op].status, OpStatus::Failed(error));
        assert_eq!(world.vms[1].provisioning_state, ProvisioningState::Failed);
        assert_eq!(world.vms[1].boot_count, 1);
    }
}
