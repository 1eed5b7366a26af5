//! VM actions: restart, reimage, redeploy and update take simulated time, change the VM while
//! they run, cure the faults they cure, and publish a [`VmEvent`] when they start and end.

use std::sync::Arc;

use nodemend_core::model::{PowerState, ProvisioningState};

use super::Shared;
use super::events::{VmEvent, VmPhase};
use super::ops::{complete, new_operation};
use super::spec::{ActivitySpec, ErrorSpec, VmOp};
use super::world::World;

fn duration(world: &World, op: VmOp) -> f64 {
    let t = &world.spec.timing;
    match op {
        VmOp::Restart => t.restart_secs,
        VmOp::Reimage => t.reimage_secs,
        VmOp::Redeploy => t.redeploy_secs,
        VmOp::Update => t.update_secs,
    }
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
        let pool = vm.pool.clone();
        // A redeploy that fails leaves the agent pool itself Failed, as AKS shows it after
        // VMRedeploymentFailed; reconciling the pool clears it.
        if op == VmOp::Redeploy
            && let Some(error) = &own_error
            && let Some(p) = world.pool(&pool)
        {
            world.pools[p].provisioning_state = ProvisioningState::Failed;
            world.pools[p].error = Some(error.clone());
        }
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
        ago: None,
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

fn publish(shared: &Shared, event: VmEvent) {
    // No subscriber is fine: nobody watches VMs in a client-only test.
    let _ = shared.events.send(event);
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use tokio::sync::broadcast;

    use super::*;
    use crate::arm::SimClock;
    use crate::arm::spec::{ArmWorldSpec, PoolSpec, VmFaultSpec, VmSpec};
    use crate::arm::world::OpStatus;

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
        assert_eq!(world.ops[&op].status, OpStatus::Failed(error.clone()));
        assert_eq!(world.vms[1].provisioning_state, ProvisioningState::Failed);
        assert_eq!(world.vms[1].boot_count, 1);
        assert_eq!(world.pools[0].provisioning_state, ProvisioningState::Failed);
        assert_eq!(world.pools[0].error.as_ref(), Some(&error));
    }

    #[tokio::test(start_paused = true)]
    async fn only_a_failed_redeploy_fails_the_pool() {
        let shared = shared(ArmWorldSpec::default());
        let mut events = shared.events.subscribe();
        let error = ErrorSpec {
            code: "VMExtensionProvisioningError".into(),
            ..ErrorSpec::default()
        };
        {
            let mut world = shared.lock();
            start_vm_action(&shared, &mut world, VmOp::Restart, vec![(0, Some(error))]);
        }
        let _started = events.recv().await.unwrap();
        let _done = events.recv().await.unwrap();
        {
            let mut world = shared.lock();
            assert_eq!(world.vms[0].provisioning_state, ProvisioningState::Failed);
            assert_eq!(
                world.pools[0].provisioning_state,
                ProvisioningState::Succeeded
            );
            start_vm_action(&shared, &mut world, VmOp::Redeploy, vec![(1, None)]);
        }
        let _started = events.recv().await.unwrap();
        let _done = events.recv().await.unwrap();
        let world = shared.lock();
        assert_eq!(
            world.pools[0].provisioning_state,
            ProvisioningState::Succeeded
        );
        assert!(world.pools[0].error.is_none());
    }
}
