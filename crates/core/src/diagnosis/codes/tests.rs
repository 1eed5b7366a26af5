use super::*;
use crate::model::{ExtensionStatus, PowerState, ProvisioningState};

fn catalog() -> &'static Catalog {
    Catalog::builtin()
}

fn err(code: &str, message: &str, details: Vec<ArmError>) -> ArmError {
    ArmError {
        code: code.into(),
        message: message.into(),
        details,
    }
}

fn linux(error: &ArmError) -> Found<'static> {
    in_error(error, NodeOs::Linux, catalog()).expect("a code")
}

const CSE_50: &str = "VM has reported a failure when processing extension 'vmssCSE'. Error message: \"Enable failed: failed to execute command: command terminated with exit status=50\"";

#[test]
fn cse_exit_status_under_the_generic_wrappers_names_the_real_cause() {
    let error = err(
        "ResourceOperationFailure",
        "The resource operation completed with terminal provisioning state 'Failed'.",
        vec![err("VMExtensionProvisioningError", CSE_50, vec![])],
    );
    let found = linux(&error);
    assert_eq!(found.code, "OutboundConnFailVMExtensionError");
    assert_eq!(found.source, Source::ExitStatus);
    assert_eq!(found.exit.unwrap().name, "ERR_OUTBOUND_CONN_FAIL");
}

#[test]
fn activity_log_status_message_json_is_read_through() {
    let status = serde_json::json!({
        "status": "Failed",
        "error": {
            "code": "ResourceOperationFailure",
            "message": "terminal provisioning state 'Failed'.",
            "details": [{"code": "VMExtensionProvisioningError", "message": CSE_50}]
        }
    })
    .to_string();
    let parsed = parse_status_message(&status).unwrap();
    assert_eq!(parsed.code, "ResourceOperationFailure");
    assert_eq!(parsed.details[0].code, "VMExtensionProvisioningError");
    // The same document as the message of an otherwise empty error.
    let wrapped = err("", &status, vec![]);
    assert_eq!(linux(&wrapped).code, "OutboundConnFailVMExtensionError");
    let found = in_message(&status, NodeOs::Linux, catalog()).unwrap();
    assert_eq!(found.code, "OutboundConnFailVMExtensionError");
}

#[test]
fn status_message_parsing_accepts_bare_errors_and_rejects_the_rest() {
    let bare = parse_status_message(r#"{"code":"QuotaExceeded","message":"m"}"#).unwrap();
    assert_eq!(bare.code, "QuotaExceeded");
    assert!(bare.details.is_empty());
    assert!(parse_status_message("QuotaExceeded").is_none());
    assert!(parse_status_message(r#"{"status":"Succeeded"}"#).is_none());
    assert!(parse_status_message("{not json").is_none());
}

#[test]
fn a_document_nested_in_a_message_is_read_too() {
    let inner = serde_json::json!({"error": {"code": "SubnetIsFull", "message": "no room"}});
    let outer = serde_json::json!({
        "status": "Failed",
        "error": {"code": "DeploymentFailed", "message": inner.to_string()}
    });
    let found = in_message(&outer.to_string(), NodeOs::Linux, catalog()).unwrap();
    assert_eq!(found.code, "SubnetIsFull");
}

#[test]
fn windows_exit_statuses_read_differently() {
    let error = err("VMExtensionProvisioningError", "exit status=5", vec![]);
    assert_eq!(linux(&error).code, "VMExtensionProvisioningTimeout");
    let windows = in_error(&error, NodeOs::Windows, catalog()).unwrap();
    assert_eq!(
        windows.code,
        "WINDOWS_CSE_ERROR_CHECK_API_SERVER_CONNECTIVITY"
    );
}

const LINKED: &str = "VMSSAgentPoolReconciler retry failed: Category: ClientError; SubCode: LinkedAuthorizationFailed; Dependency: Microsoft.Network/virtualNetworks; OrginalError: Code=\"LinkedAuthorizationFailed\" Message=\"The client 'x' doesn't have permission to perform action 'Microsoft.Network/virtualNetworks/subnets/join/action' on the linked scope(s) '/subscriptions/s/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/v/subnets/s'\"; AKSTeam: Networking, Retriable: false";

#[test]
fn aks_wrapper_text_gives_the_original_error() {
    assert_eq!(original_error_codes(LINKED), ["LinkedAuthorizationFailed"]);
    assert_eq!(sub_codes(LINKED), ["LinkedAuthorizationFailed"]);
    let found = in_message(LINKED, NodeOs::Linux, catalog()).unwrap();
    assert_eq!(found.code, "LinkedAuthorizationFailed");
    assert_eq!(found.source, Source::OriginalError);
}

#[test]
fn a_specific_sub_code_beats_a_generic_original_code() {
    let text = "Category: ClientError; SubCode: QuotaExceeded; OrginalError: Code=\"OperationNotAllowed\" Message=\"Operation could not be completed as it results in exceeding approved standardDSv3Family Cores quota.\"";
    let found = in_message(text, NodeOs::Linux, catalog()).unwrap();
    assert_eq!(found.code, "QuotaExceeded");
    assert_eq!(found.source, Source::SubCode);
}

#[test]
fn a_generic_code_gives_way_to_a_signature_in_its_message() {
    let error = err(
        "OperationNotAllowed",
        "Operation could not be completed as it results in exceeding approved standardDSv5Family Cores quota.",
        vec![],
    );
    let found = linux(&error);
    assert_eq!(found.code, "VMFamilyCoreQuotaExceeded");
    assert_eq!(found.source, Source::Signature);
}

#[test]
fn a_generic_code_stays_when_nothing_better_is_there() {
    let found = linux(&err("OperationNotAllowed", "", vec![]));
    assert_eq!(found.code, "OperationNotAllowed");
    assert!(found.entry.is_some());
}

#[test]
fn extension_error_names_are_codes() {
    let text = "CSE failed with 'VMExtensionError_K8SAPIServerConnFail'. Agents are unable to establish connection to Kubernetes API server.";
    assert_eq!(
        extension_error_names(text),
        ["VMExtensionError_K8SAPIServerConnFail"]
    );
    let found = in_message(text, NodeOs::Linux, catalog()).unwrap();
    assert_eq!(found.code, "VMExtensionError_K8SAPIServerConnFail");
    assert_eq!(
        found.entry.unwrap().code,
        "K8SAPIServerConnFailVMExtensionError"
    );
}

#[test]
fn exit_statuses_in_every_spelling() {
    assert_eq!(
        exit_statuses("command terminated with exit status=50"),
        [50]
    );
    assert_eq!(exit_statuses("vmssCSE exit status 51"), [51]);
    assert_eq!(exit_statuses(r#"{"ExitCode": "52", "Output": ""}"#), [52]);
    assert_eq!(exit_statuses(r#"{\"ExitCode\":\"53\"}"#), [53]);
    assert_eq!(exit_statuses("ExitCode: 65; exit status=65"), [65]);
    assert!(exit_statuses("exit status=0").is_empty());
    assert!(exit_statuses("no exit here").is_empty());
}

#[test]
fn exit_code_json_in_text_is_an_exit_status_not_a_document() {
    let found = in_message(
        r#"{"ExitCode": "51", "Output": "curl: (28) Connection timed out"}"#,
        NodeOs::Linux,
        catalog(),
    )
    .unwrap();
    assert_eq!(found.code, "K8SAPIServerConnFailVMExtensionError");
}

#[test]
fn escaped_json_in_free_text_gives_its_codes() {
    let text = r#"Code="DeploymentFailed" Message="At least one resource deployment operation failed." Details=[{\"code\":\"PublicIPCountLimitReached\",\"message\":\"Cannot create more than 10 public IP addresses\"}]"#;
    let found = in_message(text, NodeOs::Linux, catalog()).unwrap();
    assert_eq!(found.code, "PublicIPCountLimitReached");
}

#[test]
fn unknown_codes_are_kept_innermost_first() {
    let error = err(
        "ResourceOperationFailure",
        "",
        vec![err("SomethingNobodyKnows", "", vec![])],
    );
    let found = linux(&error);
    assert_eq!(found.code, "SomethingNobodyKnows");
    assert!(found.entry.is_none());
}

#[test]
fn signatures_are_the_last_resort() {
    let found = in_message(
        "Unable to get log analytics workspace info. Resource ID: /subscriptions/s/x",
        NodeOs::Linux,
        catalog(),
    )
    .unwrap();
    assert_eq!(found.code, "LogAnalyticsWorkspaceNotFound");
    assert!(in_message("all good", NodeOs::Linux, catalog()).is_none());
}

fn instance(statuses: Vec<InstanceStatus>, extensions: Vec<ExtensionStatus>) -> VmInstance {
    VmInstance {
        id: "azure:///subscriptions/s/resourceGroups/mc/providers/Microsoft.Compute/virtualMachineScaleSets/v/virtualMachines/0"
            .parse()
            .unwrap(),
        computer_name: None,
        provisioning_state: ProvisioningState::Failed,
        power_state: PowerState::Running,
        latest_model_applied: None,
        statuses,
        extensions,
    }
}

fn status(code: &str, level: &str, message: Option<&str>) -> InstanceStatus {
    InstanceStatus {
        code: code.into(),
        level: level.into(),
        display_status: None,
        message: message.map(str::to_owned),
        time: None,
    }
}

#[test]
fn instance_extension_statuses_come_first() {
    let vm = instance(
        vec![
            status(
                "ProvisioningState/failed/VMExtensionProvisioningError",
                "Error",
                Some("see extension"),
            ),
            status("PowerState/running", "Info", None),
        ],
        vec![ExtensionStatus {
            name: "vmssCSE".into(),
            statuses: vec![status(
                "ProvisioningState/failed/0",
                "Error",
                Some("Enable failed: command terminated with exit status=52"),
            )],
        }],
    );
    let found = in_instance(&vm, NodeOs::Linux, catalog()).unwrap();
    assert_eq!(found.code, "K8SAPIServerDNSLookupFailVMExtensionError");
}

#[test]
fn instance_status_codes_are_read_from_their_last_segment() {
    let vm = instance(
        vec![status(
            "ProvisioningState/failed/AttachDiskWhileBeingDetached",
            "Error",
            Some("Cannot attach data disk 'd1' to VM because the disk is currently being detached"),
        )],
        vec![],
    );
    let found = in_instance(&vm, NodeOs::Linux, catalog()).unwrap();
    assert_eq!(found.code, "AttachDiskWhileBeingDetached");
    assert!(found.entry.is_none());
    let healthy = instance(
        vec![status("ProvisioningState/succeeded", "Info", None)],
        vec![],
    );
    assert!(in_instance(&healthy, NodeOs::Linux, catalog()).is_none());
}

fn repair(code: &str) -> (String, Found<'static>) {
    let message =
        format!("Node auto-repair redeploy action failed due to an operation failure: {code}");
    in_repair_event(&message, NodeOs::Linux, catalog()).unwrap()
}

#[test]
fn auto_repair_messages_give_action_and_code() {
    let (action, found) = repair("TooManyVMRedeploymentRequests");
    assert_eq!(action, "redeploy");
    assert_eq!(found.code, "TooManyVMRedeploymentRequests");
    for code in [
        "VMExtensionProvisioningError",
        "InvalidParameter",
        "scaleSetNameAndInstanceIDFromProviderID failed",
        "ManagedIdentityCredential authentication failed",
        "VMRedeploymentFailed",
        "OutboundConnectivityNotEnabledOnVMSS",
    ] {
        let (_, found) = repair(code);
        assert_eq!(found.entry.map(|e| e.code.as_str()), Some(code), "{code}");
    }
}

#[test]
fn auto_repair_codes_followed_by_detail_still_resolve() {
    let (_, found) =
        repair("ManagedIdentityCredential authentication failed: token endpoint unreachable");
    assert_eq!(
        found.code,
        "ManagedIdentityCredential authentication failed"
    );
    let (_, found) = repair("VMRedeploymentFailed: allocation failed");
    assert_eq!(found.code, "VMRedeploymentFailed");
    let (_, found) = repair("BrandNewCode");
    assert_eq!(found.code, "BrandNewCode");
    assert!(found.entry.is_none());
    assert!(in_repair_event("Node rebooted", NodeOs::Linux, catalog()).is_none());
}

#[test]
fn sources_describe_themselves() {
    assert_eq!(Source::ExitStatus.describe(), "CSE exit status");
    assert_eq!(Source::SubCode.describe(), "AKS SubCode");
}
