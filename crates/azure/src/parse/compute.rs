//! Scale sets, scale-set VMs, standalone VMs and instance views.

use std::collections::BTreeMap;

use jiff::Timestamp;
use nodemend_core::ProviderId;
use nodemend_core::model::{
    ExtensionStatus, InstanceStatus, PowerState, ProvisioningState, VmInstance,
};
use serde::Deserialize;

use super::{Page, ParseError, json, page};

/// The tag AKS puts on a scale set with the name of its agent pool.
pub const POOL_TAG: &str = "aks-managed-poolName";

/// What nodemend needs of a scale set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleSet {
    /// ARM ID.
    pub id: String,
    /// Name.
    pub name: String,
    /// Region.
    pub location: Option<String>,
    /// The AKS pool it backs, from its `aks-managed-poolName` tag.
    pub pool: Option<String>,
    /// Number of VMs it should have.
    pub capacity: Option<u64>,
    /// Provisioning state.
    pub provisioning_state: ProvisioningState,
}

#[derive(Deserialize)]
struct RawScaleSet {
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    location: Option<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    #[serde(default)]
    sku: Option<RawSku>,
    #[serde(default)]
    properties: RawProps,
}

#[derive(Deserialize)]
struct RawSku {
    #[serde(default)]
    capacity: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawProps {
    #[serde(default)]
    provisioning_state: Option<String>,
    #[serde(default)]
    latest_model_applied: Option<bool>,
    #[serde(default)]
    os_profile: Option<RawOsProfile>,
    #[serde(default)]
    instance_view: Option<RawInstanceView>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawOsProfile {
    #[serde(default)]
    computer_name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawInstanceView {
    #[serde(default)]
    computer_name: Option<String>,
    #[serde(default, deserialize_with = "super::null_default")]
    statuses: Vec<RawStatus>,
    #[serde(default, deserialize_with = "super::null_default")]
    extensions: Vec<RawExtension>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawStatus {
    #[serde(default)]
    code: String,
    #[serde(default)]
    level: Option<String>,
    #[serde(default)]
    display_status: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    time: Option<String>,
}

#[derive(Deserialize)]
struct RawExtension {
    #[serde(default)]
    name: String,
    #[serde(default, deserialize_with = "super::null_default")]
    statuses: Vec<RawStatus>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawVm {
    #[serde(default)]
    id: String,
    #[serde(default)]
    instance_id: Option<String>,
    #[serde(default)]
    properties: RawProps,
}

fn status(raw: RawStatus) -> InstanceStatus {
    InstanceStatus {
        code: raw.code,
        level: raw.level.unwrap_or_else(|| "Info".into()),
        display_status: raw.display_status,
        message: raw.message,
        time: raw.time.and_then(|t| t.parse::<Timestamp>().ok()),
    }
}

fn scale_set_of(raw: RawScaleSet) -> ScaleSet {
    ScaleSet {
        pool: raw.tags.get(POOL_TAG).cloned(),
        id: raw.id,
        name: raw.name,
        location: raw.location,
        capacity: raw.sku.and_then(|s| s.capacity),
        provisioning_state: ProvisioningState::parse(
            raw.properties.provisioning_state.as_deref().unwrap_or(""),
        ),
    }
}

/// A scale set (`VirtualMachineScaleSets_Get`).
pub fn scale_set(body: &[u8]) -> Result<ScaleSet, ParseError> {
    json::<RawScaleSet>(body).map(scale_set_of)
}

/// A page of scale sets (`VirtualMachineScaleSets_List`).
pub fn scale_sets(body: &[u8]) -> Result<Page<ScaleSet>, ParseError> {
    let raw: Page<RawScaleSet> = page(body)?;
    Ok(Page {
        value: raw.value.into_iter().map(scale_set_of).collect(),
        next_link: raw.next_link,
    })
}

/// The instance view's parts, with the states read from its status codes.
fn from_view(id: ProviderId, props: RawProps) -> VmInstance {
    let view = props.instance_view.unwrap_or_default();
    let statuses: Vec<InstanceStatus> = view.statuses.into_iter().map(status).collect();
    let power_state = statuses
        .iter()
        .find(|s| s.code.starts_with("PowerState/"))
        .map_or(PowerState::Unknown, |s| PowerState::parse(&s.code));
    // `ProvisioningState/failed/<code>`: the second segment is the state.
    let from_status = statuses
        .iter()
        .find_map(|s| s.code.strip_prefix("ProvisioningState/"))
        .map(|rest| ProvisioningState::parse(rest.split('/').next().unwrap_or(rest)));
    let provisioning_state = props
        .provisioning_state
        .as_deref()
        .map(ProvisioningState::parse)
        .or(from_status)
        .unwrap_or(ProvisioningState::Other(String::new()));
    VmInstance {
        id,
        computer_name: props
            .os_profile
            .and_then(|p| p.computer_name)
            .or(view.computer_name),
        provisioning_state,
        power_state,
        latest_model_applied: props.latest_model_applied,
        statuses,
        extensions: view
            .extensions
            .into_iter()
            .map(|e| ExtensionStatus {
                name: e.name,
                statuses: e.statuses.into_iter().map(status).collect(),
            })
            .collect(),
    }
}

/// A VM read with `$expand=instanceView` (`VirtualMachineScaleSetVMs_Get`, `VirtualMachines_Get`).
pub fn vm(id: &ProviderId, body: &[u8]) -> Result<VmInstance, ParseError> {
    let raw: RawVm = json(body)?;
    Ok(from_view(id.clone(), raw.properties))
}

/// A bare instance view (`…/instanceView`), for the VM `id`.
pub fn instance_view(id: &ProviderId, body: &[u8]) -> Result<VmInstance, ParseError> {
    let view: RawInstanceView = json(body)?;
    Ok(from_view(
        id.clone(),
        RawProps {
            instance_view: Some(view),
            ..RawProps::default()
        },
    ))
}

/// A page of the VMs of the scale set `(subscription, resource_group, scale_set)`, each named
/// by its `instanceId` (`VirtualMachineScaleSetVMs_List`).
pub fn scale_set_vm(
    subscription: &str,
    resource_group: &str,
    scale_set: &str,
    body: &[u8],
) -> Result<Page<VmInstance>, ParseError> {
    let raw: Page<RawVm> = page(body)?;
    let mut value = Vec::with_capacity(raw.value.len());
    for vm in raw.value {
        let named = |instance_id: &str| -> Option<ProviderId> {
            format!(
                "azure:///subscriptions/{subscription}/resourceGroups/{resource_group}/providers/Microsoft.Compute/virtualMachineScaleSets/{scale_set}/virtualMachines/{instance_id}"
            )
            .parse()
            .ok()
        };
        // `instanceId`, or the last segment of `id` (which ends with it).
        let id = vm
            .instance_id
            .as_deref()
            .and_then(named)
            .or_else(|| vm.id.rsplit('/').next().and_then(named))
            .ok_or_else(|| ParseError::ResourceId(vm.id.clone()))?;
        value.push(from_view(id, vm.properties));
    }
    Ok(Page {
        value,
        next_link: raw.next_link,
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::example;
    use super::*;

    fn id() -> ProviderId {
        "azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/ss/virtualMachines/0"
            .parse()
            .unwrap()
    }

    #[test]
    fn example_vmss_vm_instance_view() {
        let body = example(
            "VirtualMachineScaleSetVM_Get_InstanceViewAutoPlacedOnDedicatedHostGroup.json",
            "200",
        );
        let vm = instance_view(&id(), &body).unwrap();
        assert_eq!(vm.provisioning_state, ProvisioningState::Succeeded);
        assert_eq!(vm.power_state, PowerState::Running);
        assert_eq!(vm.statuses.len(), 2);
        assert_eq!(vm.statuses[0].code, "ProvisioningState/succeeded");
        assert!(vm.statuses[0].time.is_some());
    }

    #[test]
    fn example_vmss_vm_get_with_model() {
        let body = example(
            "VirtualMachineScaleSetVM_Get_WithVMSizeProperties.json",
            "200",
        );
        let vm = vm(&id(), &body).unwrap();
        assert_eq!(vm.provisioning_state, ProvisioningState::Succeeded);
        assert_eq!(vm.latest_model_applied, Some(true));
        assert_eq!(
            vm.power_state,
            PowerState::Unknown,
            "no instance view in this example"
        );
    }

    #[test]
    fn example_vmss_vm_list_is_paged() {
        let body = example("VirtualMachineScaleSetVM_List_MaximumSet_Gen.json", "200");
        let page = scale_set_vm("s", "rg", "ss", &body).unwrap();
        assert!(!page.value.is_empty());
        assert!(page.next_link.is_some());
        let first = &page.value[0];
        assert!(
            matches!(&first.id, ProviderId::ScaleSetVm { scale_set, instance_id, .. } if scale_set == "ss" && instance_id == "0")
        );
        assert!(!first.statuses.is_empty());
    }

    #[test]
    fn example_vm_instance_view_with_extensions() {
        let vm_id: ProviderId = "azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/myVM".parse().unwrap();
        let body = example("VirtualMachine_Get_InstanceView.json", "200");
        let vm = instance_view(&vm_id, &body).unwrap();
        assert_eq!(vm.computer_name.as_deref(), Some("myVM"));
        assert_eq!(vm.power_state, PowerState::Running);
        assert_eq!(vm.provisioning_state, ProvisioningState::Succeeded);
        assert_eq!(vm.extensions[0].name, "IaaSAntiMalware-ext0");
        assert_eq!(
            vm.extensions[0].statuses[0].message.as_deref(),
            Some("Microsoft Antimalware enabled")
        );
    }

    #[test]
    fn example_vm_update_answers_updating() {
        let vm_id: ProviderId = "azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/myVM".parse().unwrap();
        let body = example(
            "VirtualMachine_Update_DetachDataDiskUsingToBeDetachedProperty.json",
            "200",
        );
        let vm = vm(&vm_id, &body).unwrap();
        assert_eq!(vm.provisioning_state, ProvisioningState::Updating);
        assert_eq!(vm.computer_name.as_deref(), Some("myVM"));
    }

    #[test]
    fn failed_status_code_gives_the_state_and_keeps_the_code() {
        let body = br#"{"statuses":[{"code":"ProvisioningState/failed/VMExtensionProvisioningError","level":"Error","message":"exit status=50"},{"code":"PowerState/running"}],
            "extensions":[{"name":"vmssCSE","statuses":[{"code":"ProvisioningState/failed/0","level":"Error","message":"Enable failed: exit status=50"}]}]}"#;
        let vm = instance_view(&id(), body).unwrap();
        assert_eq!(vm.provisioning_state, ProvisioningState::Failed);
        assert_eq!(
            vm.statuses[0].code,
            "ProvisioningState/failed/VMExtensionProvisioningError"
        );
        assert_eq!(vm.extensions[0].name, "vmssCSE");
    }

    #[test]
    fn example_scale_set_get() {
        let body = example("VirtualMachineScaleSet_Get_WithUserData.json", "200");
        let ss = scale_set(&body).unwrap();
        assert_eq!(ss.name, "myVirtualMachineScaleSet");
        assert_eq!(ss.capacity, Some(4));
        assert_eq!(ss.provisioning_state, ProvisioningState::Succeeded);
        let tagged = scale_sets(br#"{"value":[{"id":"/x","name":"aks-np-1-vmss","tags":{"aks-managed-poolName":"np"}}]}"#).unwrap();
        assert_eq!(tagged.value[0].pool.as_deref(), Some("np"));
        assert!(tagged.next_link.is_none());
    }
}
