//! Error-code surfacing: the auto-repair error codes that come from ARM reach the caller as
//! typed codes, with operation and resource, and nested details kept.

use std::time::Duration;

use nodemend_azure::AzureProvider;
use nodemend_core::cloud::{CloudErrorKind, CloudProvider, VmAction};
use nodemend_core::model::ProvisioningState;
use nodemend_sim::arm::spec::{AsyncHeaders, ErrorSpec, TimingSpec};
use nodemend_sim::arm::{ArmWorldSpec, FaultSpec};

use crate::common::{config, start, start_with};

fn error(code: &str, message: &str, details: Vec<ErrorSpec>) -> ErrorSpec {
    ErrorSpec {
        code: code.into(),
        message: message.into(),
        details,
    }
}

fn fault(operation: &str, target: &str, error: ErrorSpec, http_status: Option<u16>) -> FaultSpec {
    FaultSpec {
        operation: operation.into(),
        target: target.into(),
        error,
        http_status,
        times: Some(1),
        ..FaultSpec::default()
    }
}

#[tokio::test]
async fn extension_provisioning_error_fails_the_operation_and_shows_in_the_instance_view() {
    let h = start(ArmWorldSpec::default()).await;
    let name = h.names()[0].clone();
    let message =
        "VM has reported a failure when processing extension 'vmssCSE'. Error: exit status=50";
    h.sim.add_fault(fault(
        "reimage",
        &name,
        error("VMExtensionProvisioningError", message, vec![]),
        None,
    ));
    let err = h
        .provider
        .act(VmAction::Reimage, &h.id(&name))
        .await
        .unwrap_err();
    assert_eq!(err.kind, CloudErrorKind::OperationFailed);
    assert_eq!(err.failure_code(), "VMExtensionProvisioningError");
    assert_eq!(err.message, message);
    assert_eq!(err.operation, "reimage VM");
    let vm = h.provider.instance(&h.id(&name)).await.unwrap();
    assert_eq!(vm.provisioning_state, ProvisioningState::Failed);
    assert_eq!(
        vm.statuses[0].code,
        "ProvisioningState/failed/VMExtensionProvisioningError"
    );
}

#[tokio::test]
async fn redeployment_failure_keeps_nested_details() {
    let h = start(ArmWorldSpec::default()).await;
    let name = h.names()[1].clone();
    let inner = error(
        "AllocationFailed",
        "Allocation failed. We do not have sufficient capacity.",
        vec![],
    );
    h.sim.add_fault(fault(
        "redeploy",
        &name,
        error(
            "VMRedeploymentFailed",
            "Redeploying the VM failed.",
            vec![inner],
        ),
        None,
    ));
    let err = h
        .provider
        .act(VmAction::Redeploy, &h.id(&name))
        .await
        .unwrap_err();
    assert_eq!(err.failure_code(), "VMRedeploymentFailed");
    assert_eq!(
        err.codes(),
        vec!["VMRedeploymentFailed", "AllocationFailed"]
    );
    assert!(err.to_string().contains("redeploy VM"), "{err}");
}

#[tokio::test]
async fn a_failure_behind_a_location_url_is_an_operation_failure() {
    let spec = ArmWorldSpec {
        async_headers: AsyncHeaders::Location,
        ..ArmWorldSpec::default()
    };
    let h = start(spec).await;
    let name = h.names()[0].clone();
    h.sim.add_fault(fault(
        "restart",
        &name,
        error("VMExtensionProvisioningError", "vmssCSE exit 50", vec![]),
        None,
    ));
    let err = h
        .provider
        .act(VmAction::Reboot, &h.id(&name))
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind.clone(), err.failure_code()),
        (
            CloudErrorKind::OperationFailed,
            "VMExtensionProvisioningError"
        )
    );
    assert!(h.sim.calls().iter().any(|c| {
        c.query
            .as_deref()
            .is_some_and(|q| q.contains("monitor=true"))
    }));
}

#[tokio::test]
async fn a_refused_request_surfaces_its_code_without_polling() {
    let h = start(ArmWorldSpec::default()).await;
    let name = h.names()[2].clone();
    let outbound = error(
        "OutboundConnectivityNotEnabledOnVMSS",
        "No outbound connectivity configured for virtual machine.",
        vec![],
    );
    h.sim
        .add_fault(fault("restart", &name, outbound, Some(400)));
    let err = h
        .provider
        .act(VmAction::Reboot, &h.id(&name))
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind.clone(), err.failure_code()),
        (
            CloudErrorKind::Rejected,
            "OutboundConnectivityNotEnabledOnVMSS"
        )
    );
    assert!(
        !h.sim
            .calls()
            .iter()
            .any(|c| c.path.contains("/operations/"))
    );
}

#[tokio::test]
async fn a_failed_managed_identity_surfaces_as_its_credential_code() {
    let h = start_with(ArmWorldSpec::default(), |env| {
        env.remove("AZURE_CLIENT_SECRET");
    })
    .await;
    // Managed identity is the fallback credential; point it at the simulator, then break it.
    let mut env: std::collections::HashMap<String, String> = h.sim.env().into_iter().collect();
    env.remove("AZURE_CLIENT_SECRET");
    env.insert("IDENTITY_ENDPOINT".into(), h.sim.identity_endpoint());
    let provider = AzureProvider::new(&config(&env)).unwrap();
    let id = h.id(&h.names()[0]);
    provider
        .act(VmAction::Reboot, &id)
        .await
        .expect("managed identity works");
    h.sim.set_credentials_valid(false);
    h.sim.expire_tokens();
    let err = provider.act(VmAction::Reboot, &id).await.unwrap_err();
    assert_eq!(
        err.failure_code(),
        "ManagedIdentityCredential authentication failed"
    );
    assert_eq!(err.kind, CloudErrorKind::Unauthenticated);
    assert!(
        err.message.contains("Identity not found"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn a_long_operation_times_out_at_the_deadline() {
    let spec = ArmWorldSpec {
        timing: TimingSpec {
            redeploy_secs: 3_600_000.0,
            ..TimingSpec::default()
        },
        ..ArmWorldSpec::default()
    };
    let h = start(spec).await;
    let mut env: std::collections::HashMap<String, String> = h.sim.env().into_iter().collect();
    env.insert("unused".into(), String::new());
    let mut cfg = config(&env);
    cfg.retry.operation_deadline = Duration::from_millis(300);
    let provider = AzureProvider::new(&cfg).unwrap();
    let err = provider
        .act(VmAction::Redeploy, &h.id(&h.names()[0]))
        .await
        .unwrap_err();
    assert_eq!(err.kind, CloudErrorKind::TimedOut);
    assert_eq!(err.failure_code(), "TimedOut");
}

#[tokio::test]
async fn a_disabled_subscription_refuses_actions_but_answers_reads() {
    let spec = ArmWorldSpec {
        subscription_state: "Disabled".into(),
        ..ArmWorldSpec::default()
    };
    let h = start(spec).await;
    let id = h.id(&h.names()[0]);
    let err = h.provider.act(VmAction::Reboot, &id).await.unwrap_err();
    assert_eq!(
        (err.kind.clone(), err.failure_code()),
        (CloudErrorKind::Conflict, "ReadOnlyDisabledSubscription")
    );
    assert_eq!(
        h.provider
            .subscription(&h.cluster.subscription, &[])
            .await
            .unwrap()
            .state,
        "Disabled"
    );
    h.provider.instance(&id).await.unwrap();
}
