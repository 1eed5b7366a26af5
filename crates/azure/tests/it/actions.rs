//! VM actions: each single action over the async protocol, updates, batching, VM events, and
//! never re-sending an action blindly.

use nodemend_core::cloud::{CloudErrorKind, CloudProvider, VmAction};
use nodemend_core::model::{PoolKind, ProvisioningState};
use nodemend_sim::arm::spec::{AsyncHeaders, ErrorSpec, PoolSpec, VmFaultSpec, VmOp, VmSpec};
use nodemend_sim::arm::{ArmWorldSpec, FaultSpec, VmEvent, VmPhase};
use tokio::sync::broadcast::Receiver;
use tokio::time::{Duration, timeout};

use crate::common::{Harness, start};

async fn next_event(events: &mut Receiver<VmEvent>) -> VmEvent {
    timeout(Duration::from_secs(10), events.recv())
        .await
        .expect("an event within 10 s")
        .expect("the channel is open")
}

#[tokio::test]
async fn each_action_runs_through_the_async_protocol_and_is_published() {
    let h = start(ArmWorldSpec::default()).await;
    let name = h.names()[0].clone();
    let id = h.id(&name);
    let mut events = h.sim.subscribe();
    for (action, op, segment) in [
        (VmAction::Reboot, VmOp::Restart, "/restart"),
        (VmAction::Reimage, VmOp::Reimage, "/reimage"),
        (VmAction::Redeploy, VmOp::Redeploy, "/redeploy"),
    ] {
        let boots = h.sim.vm(&name).unwrap().boot_count;
        h.provider
            .act(action, &id)
            .await
            .unwrap_or_else(|e| panic!("{action}: {e}"));
        let started = next_event(&mut events).await;
        assert_eq!(
            (started.op, started.phase, started.computer_name.as_str()),
            (op, VmPhase::Started, name.as_str())
        );
        let done = next_event(&mut events).await;
        assert_eq!((done.op, done.phase), (op, VmPhase::Succeeded));
        assert_eq!(h.sim.vm(&name).unwrap().boot_count, boots + 1);
        assert_eq!(h.calls("POST", segment).len(), 1, "{segment}");
    }
    assert!(!h.calls("GET", "").iter().any(|c| c.status >= 400));
    assert!(
        h.sim
            .calls()
            .iter()
            .any(|c| c.path.contains("/operations/")),
        "the client polled the operation"
    );
}

#[tokio::test]
async fn the_location_protocol_alone_is_followed() {
    let spec = ArmWorldSpec {
        async_headers: AsyncHeaders::Location,
        ..ArmWorldSpec::default()
    };
    let h = start(spec).await;
    let id = h.id(&h.names()[1]);
    h.provider.act(VmAction::Reboot, &id).await.unwrap();
    let polls: Vec<_> = h
        .sim
        .calls()
        .into_iter()
        .filter(|c| {
            c.query
                .as_deref()
                .is_some_and(|q| q.contains("monitor=true"))
        })
        .collect();
    assert!(!polls.is_empty(), "polled the Location URL");
    assert_eq!(polls.last().unwrap().status, 200);
    assert_eq!(
        h.sim.vm(&h.names()[1]).unwrap().provisioning_state,
        "Succeeded"
    );
}

#[tokio::test]
async fn update_is_manual_upgrade_on_scale_sets_and_patch_on_availability_sets() {
    let spec = ArmWorldSpec {
        pools: vec![
            PoolSpec {
                vms: vec![VmSpec {
                    latest_model_applied: false,
                    provisioning_state: ProvisioningState::Failed,
                    ..VmSpec::default()
                }],
                ..PoolSpec::default()
            },
            PoolSpec {
                name: "aspool".into(),
                kind: PoolKind::AvailabilitySet,
                count: Some(2),
                ..PoolSpec::default()
            },
        ],
        ..ArmWorldSpec::default()
    };
    let h = start(spec).await;
    let names = h.names();
    h.provider
        .act(VmAction::Update, &h.id(&names[0]))
        .await
        .unwrap();
    assert_eq!(h.calls("POST", "/manualupgrade").len(), 1);
    let vm = h.provider.instance(&h.id(&names[0])).await.unwrap();
    assert_eq!(
        (vm.provisioning_state, vm.latest_model_applied),
        (ProvisioningState::Succeeded, Some(true))
    );
    let standalone = h.id(&names[1]);
    assert!(matches!(standalone, nodemend_core::ProviderId::Vm { .. }));
    h.provider.act(VmAction::Update, &standalone).await.unwrap();
    assert_eq!(h.calls("PATCH", &names[1]).len(), 1);
    for action in [VmAction::Reboot, VmAction::Reimage, VmAction::Redeploy] {
        h.provider
            .act(action, &standalone)
            .await
            .unwrap_or_else(|e| panic!("{action}: {e}"));
    }
    assert_eq!(h.calls("POST", &format!("{}/redeploy", names[1])).len(), 1);
}

#[tokio::test]
async fn batches_are_one_call_per_scale_set_and_keep_the_order() {
    let spec = ArmWorldSpec {
        pools: vec![
            PoolSpec {
                count: Some(4),
                ..PoolSpec::default()
            },
            PoolSpec {
                name: "user1".into(),
                count: Some(4),
                ..PoolSpec::default()
            },
        ],
        ..ArmWorldSpec::default()
    };
    let h = start(spec).await;
    let ids: Vec<_> = h.names().iter().rev().take(6).map(|n| h.id(n)).collect();
    let results = h.provider.act_many(VmAction::Reboot, &ids).await;
    assert_eq!(
        results.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(),
        ids
    );
    assert!(results.iter().all(|(_, r)| r.is_ok()), "{results:?}");
    assert_eq!(
        h.calls("POST", "/restart").len(),
        2,
        "one batched call per scale set"
    );
    assert!(
        h.calls("POST", "/restart")
            .iter()
            .all(|c| !c.path.contains("/virtualMachines/"))
    );
}

#[tokio::test]
async fn a_vanished_vm_fails_its_batch_with_invalid_parameter_and_alone_with_not_found() {
    let h = start(ArmWorldSpec::default()).await;
    let names = h.names();
    let ids: Vec<_> = names.iter().map(|n| h.id(n)).collect();
    assert!(h.sim.delete_vm(&names[2]));
    let results = h.provider.act_many(VmAction::Reboot, &ids).await;
    for (_, result) in &results {
        let err = result.as_ref().unwrap_err();
        assert_eq!(err.failure_code(), "InvalidParameter", "{err}");
        assert_eq!(err.kind, CloudErrorKind::Rejected);
    }
    let err = h.provider.act(VmAction::Reboot, &ids[2]).await.unwrap_err();
    assert_eq!(
        (err.kind.clone(), err.failure_code()),
        (CloudErrorKind::NotFound, "NotFound")
    );
    assert!(
        err.resource.ends_with("/virtualMachines/2"),
        "{}",
        err.resource
    );
    assert_eq!(err.operation, "restart VM");
}

#[tokio::test]
async fn an_action_with_a_lost_answer_is_resent_once_only_after_checking_the_vm() {
    let h = start(ArmWorldSpec::default()).await;
    let name = h.names()[0].clone();
    let fault = |times| FaultSpec {
        operation: "restart".into(),
        target: name.clone(),
        http_status: Some(500),
        times,
        error: ErrorSpec {
            code: "InternalServerError".into(),
            ..ErrorSpec::default()
        },
        ..FaultSpec::default()
    };
    h.sim.add_fault(fault(Some(1)));
    h.provider
        .act(VmAction::Reboot, &h.id(&name))
        .await
        .unwrap();
    let posts = h.calls("POST", "/restart");
    assert_eq!(
        posts.iter().map(|c| c.status).collect::<Vec<_>>(),
        vec![500, 202]
    );
    let vm_reads = h.calls("GET", "/virtualMachines/0");
    assert!(
        vm_reads
            .iter()
            .any(|r| r.at >= posts[0].at && r.at <= posts[1].at),
        "the VM was read between the two POSTs"
    );

    let h = start(ArmWorldSpec::default()).await;
    h.sim.add_fault(fault(None));
    let err = h
        .provider
        .act(VmAction::Reboot, &h.id(&name))
        .await
        .unwrap_err();
    assert_eq!(err.kind, CloudErrorKind::OutcomeUnknown);
    assert_eq!(
        h.calls("POST", "/restart").len(),
        2,
        "never more than one re-send"
    );
}

#[tokio::test]
async fn events_say_whether_the_action_cured_the_vm() {
    let fault = VmFaultSpec {
        description: "disk corrupt".into(),
        cured_by: vec![VmOp::Reimage],
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
    let h: Harness = start(spec).await;
    let name = h.names()[0].clone();
    let mut events = h.sim.subscribe();
    h.provider
        .act(VmAction::Reboot, &h.id(&name))
        .await
        .unwrap();
    let _started = next_event(&mut events).await;
    let rebooted = next_event(&mut events).await;
    assert_eq!(
        (rebooted.phase, rebooted.healthy),
        (VmPhase::Succeeded, false),
        "a reboot does not cure it"
    );
    h.provider
        .act(VmAction::Reimage, &h.id(&name))
        .await
        .unwrap();
    let started = next_event(&mut events).await;
    assert_eq!(started.phase, VmPhase::Started);
    let reimaged = next_event(&mut events).await;
    assert_eq!((reimaged.op, reimaged.healthy), (VmOp::Reimage, true));
    assert!(h.sim.vm(&name).unwrap().healthy);
}
