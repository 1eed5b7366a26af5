//! Role assignments in the simulator: with exactly the actions of `deploy/azure-role.json` the
//! client's actions and reads succeed; without one action, the call needing it fails with ARM's
//! `AuthorizationFailed` naming that action.

use nodemend_core::cloud::{CloudProvider, VmAction};
use nodemend_sim::arm::ArmWorldSpec;

use crate::common::start;

fn role_actions() -> Vec<String> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/azure-role.json");
    let role: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("read the role")).expect("JSON");
    role["Actions"]
        .as_array()
        .expect("Actions")
        .iter()
        .map(|a| a.as_str().expect("string").to_owned())
        .collect()
}

fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[tokio::test]
async fn the_custom_role_is_enough_for_actions_and_reads() {
    let h = start(ArmWorldSpec {
        role_actions: Some(role_actions()),
        ..ArmWorldSpec::default()
    })
    .await;
    let id = h.id(&h.names()[0]);
    for action in [
        VmAction::Reboot,
        VmAction::Reimage,
        VmAction::Redeploy,
        VmAction::Update,
    ] {
        h.provider
            .act(action, &id)
            .await
            .unwrap_or_else(|e| panic!("{action}: {}", chain(&e)));
    }
    let cluster = h.provider.cluster(&h.cluster).await.expect("cluster read");
    let pool = cluster.pools.first().expect("a pool").name.clone();
    h.provider
        .pool_instances(&cluster, &pool)
        .await
        .expect("pool VMs read");
    h.provider.instance(&id).await.expect("instance view read");
    let refused: Vec<_> = h
        .sim
        .calls()
        .into_iter()
        .filter(|c| c.status == 403)
        .collect();
    assert!(refused.is_empty(), "{refused:?}");
}

#[tokio::test]
async fn a_missing_action_fails_with_authorization_failed_naming_it() {
    let restart = "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/restart/action";
    let mut actions = role_actions();
    actions.retain(|a| !a.eq_ignore_ascii_case(restart));
    let h = start(ArmWorldSpec {
        role_actions: Some(actions),
        ..ArmWorldSpec::default()
    })
    .await;
    let id = h.id(&h.names()[0]);
    let err = h
        .provider
        .act(VmAction::Reboot, &id)
        .await
        .expect_err("restart is not granted");
    let text = chain(&err);
    eprintln!("without {restart}: {text}");
    assert!(
        text.contains("AuthorizationFailed")
            && text
                .to_ascii_lowercase()
                .contains(&restart.to_ascii_lowercase()),
        "{text}"
    );
    h.provider
        .act(VmAction::Reimage, &id)
        .await
        .expect("reimage is still granted");
}

#[tokio::test]
async fn the_permissions_api_lists_the_role_and_needs_no_role_itself() {
    let restart = "Microsoft.Compute/virtualMachineScaleSets/restart/action";
    let h = start(ArmWorldSpec {
        role_actions: Some(vec![
            "Microsoft.Compute/*/read".to_owned(),
            restart.to_owned(),
        ]),
        ..ArmWorldSpec::default()
    })
    .await;
    let group = format!(
        "/subscriptions/{}/resourceGroups/{}",
        h.cluster.subscription, h.cluster.resource_group
    );
    let access = h
        .provider
        .permissions(&group)
        .await
        .unwrap_or_else(|e| panic!("{}", chain(&e)));
    assert_eq!(access.scope, group);
    assert!(access.allows(restart));
    assert!(access.allows("Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read"));
    assert!(!access.allows("Microsoft.ContainerService/managedClusters/read"));
    let cluster = nodemend_azure::requests::cluster_id(&h.cluster);
    let on_cluster = h
        .provider
        .permissions(&cluster)
        .await
        .expect("on the cluster");
    assert!(!on_cluster.allows("Microsoft.ContainerService/managedClusters/write"));

    // A role that grants nothing still lets the identity read what it holds: nothing.
    h.sim.set_role_actions(Some(Vec::new()));
    let none = h
        .provider
        .permissions(&group)
        .await
        .expect("still readable");
    assert!(!none.allows(restart));
    // No role list in the scenario: everything.
    h.sim.set_role_actions(None);
    let all = h.provider.permissions(&group).await.expect("readable");
    assert!(all.allows("Microsoft.Anything/at/all/action"));

    let unknown = h
        .provider
        .permissions(&format!(
            "/subscriptions/{}/resourceGroups/no-such-group",
            h.cluster.subscription
        ))
        .await
        .expect_err("an unknown resource group");
    assert!(
        chain(&unknown).contains("ResourceGroupNotFound"),
        "{}",
        chain(&unknown)
    );
}
