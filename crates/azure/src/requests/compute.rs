//! Microsoft.Compute: scale sets, their VMs, standalone VMs, and the actions on them.

use http::Method;
use nodemend_core::ProviderId;
use nodemend_core::cloud::VmAction;
use serde_json::json;

use super::{ArmRequest, Requests};

/// The ARM ID of a scale set.
pub fn scale_set_id(subscription: &str, resource_group: &str, name: &str) -> String {
    format!(
        "/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/Microsoft.Compute/virtualMachineScaleSets/{name}"
    )
}

fn action_segment(action: VmAction) -> &'static str {
    match action {
        VmAction::Reboot => "restart",
        VmAction::Reimage => "reimage",
        VmAction::Redeploy => "redeploy",
        VmAction::Update => "manualupgrade",
    }
}

/// The operation name errors use for an action.
pub fn action_operation(action: VmAction) -> &'static str {
    match action {
        VmAction::Reboot => "restart VM",
        VmAction::Reimage => "reimage VM",
        VmAction::Redeploy => "redeploy VM",
        VmAction::Update => "update VM",
    }
}

impl Requests {
    /// `VirtualMachineScaleSets_Get`.
    pub fn get_scale_set(
        &self,
        subscription: &str,
        resource_group: &str,
        name: &str,
    ) -> ArmRequest {
        let id = scale_set_id(subscription, resource_group, name);
        let v = &self.versions.compute;
        self.build("get scale set", Method::GET, &id, &id, v, &[], None)
    }

    /// `VirtualMachineScaleSets_List` in a resource group (paged).
    pub fn list_scale_sets(&self, subscription: &str, resource_group: &str) -> ArmRequest {
        let scope = format!("/subscriptions/{subscription}/resourceGroups/{resource_group}");
        let path = format!("{scope}/providers/Microsoft.Compute/virtualMachineScaleSets");
        let v = &self.versions.compute;
        self.build("list scale sets", Method::GET, &scope, &path, v, &[], None)
    }

    /// `VirtualMachineScaleSetVMs_List` with each VM's instance view (paged).
    pub fn list_scale_set_vms(
        &self,
        subscription: &str,
        resource_group: &str,
        name: &str,
    ) -> ArmRequest {
        let id = scale_set_id(subscription, resource_group, name);
        let path = format!("{id}/virtualMachines");
        let v = &self.versions.compute;
        let q = [("$expand", "instanceView")];
        self.build("list scale set VMs", Method::GET, &id, &path, v, &q, None)
    }

    /// `VirtualMachineScaleSetVMs_Get` or `VirtualMachines_Get` with the instance view.
    pub fn get_vm(&self, vm: &ProviderId) -> ArmRequest {
        let id = vm.arm_id();
        let v = &self.versions.compute;
        self.build(
            "get VM",
            Method::GET,
            &id,
            &id,
            v,
            &[("$expand", "instanceView")],
            None,
        )
    }

    /// `…_GetInstanceView` / `…_InstanceView`: statuses, agent, disks, extensions.
    pub fn get_instance_view(&self, vm: &ProviderId) -> ArmRequest {
        let id = vm.arm_id();
        let path = format!("{id}/instanceView");
        let v = &self.versions.compute;
        self.build(
            "get VM instance view",
            Method::GET,
            &id,
            &path,
            v,
            &[],
            None,
        )
    }

    /// One action on one VM. Restart, reimage and redeploy POST to the VM; update is the scale
    /// set's `manualupgrade` for a scale-set VM and an empty PATCH (as `az vm update` does) for
    /// any other VM.
    pub fn vm_action(&self, vm: &ProviderId, action: VmAction) -> ArmRequest {
        let id = vm.arm_id();
        let v = &self.versions.compute;
        let op = action_operation(action);
        match (vm, action) {
            (
                ProviderId::ScaleSetVm {
                    subscription,
                    resource_group,
                    scale_set,
                    instance_id,
                },
                VmAction::Update,
            ) => {
                let mut req = self.scale_set_action(
                    subscription,
                    resource_group,
                    scale_set,
                    action,
                    std::slice::from_ref(instance_id),
                );
                req.resource = id;
                req
            }
            (ProviderId::Vm { .. }, VmAction::Update) => {
                self.build(op, Method::PATCH, &id, &id, v, &[], Some(&json!({})))
            }
            (_, action) => {
                let path = format!("{id}/{}", action_segment(action));
                self.build(op, Method::POST, &id, &path, v, &[], None)
            }
        }
    }

    /// One action on several VMs of a scale set (`VirtualMachineScaleSets_Restart`, `_Reimage`,
    /// `_Redeploy`, `_UpdateInstances`), always with explicit `instanceIds`: an absent list
    /// would mean every VM of the scale set.
    pub fn scale_set_action(
        &self,
        subscription: &str,
        resource_group: &str,
        name: &str,
        action: VmAction,
        instance_ids: &[String],
    ) -> ArmRequest {
        let id = scale_set_id(subscription, resource_group, name);
        let path = format!("{id}/{}", action_segment(action));
        let v = &self.versions.compute;
        let body = json!({ "instanceIds": instance_ids });
        let op = match action {
            VmAction::Reboot => "restart scale set VMs",
            VmAction::Reimage => "reimage scale set VMs",
            VmAction::Redeploy => "redeploy scale set VMs",
            VmAction::Update => "update scale set VMs",
        };
        self.build(op, Method::POST, &id, &path, v, &[], Some(&body))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    fn vmss_vm() -> ProviderId {
        "azure:///subscriptions/s/resourceGroups/MC_rg/providers/Microsoft.Compute/virtualMachineScaleSets/aks-np-1-vmss/virtualMachines/3"
            .parse()
            .unwrap()
    }

    fn vm() -> ProviderId {
        "azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/aks-np-vm0"
            .parse()
            .unwrap()
    }

    const VMSS: &str = "/subscriptions/s/resourceGroups/MC_rg/providers/Microsoft.Compute/virtualMachineScaleSets/aks-np-1-vmss";

    #[test]
    fn single_vm_actions_post_to_the_vm() {
        let r = requests();
        for (action, segment) in [
            (VmAction::Reboot, "restart"),
            (VmAction::Reimage, "reimage"),
            (VmAction::Redeploy, "redeploy"),
        ] {
            let req = r.vm_action(&vmss_vm(), action);
            assert_eq!(req.http.method(), Method::POST);
            let (path, query) = split(&req);
            assert_eq!(path, format!("{VMSS}/virtualMachines/3/{segment}"));
            assert_eq!(query, vec![("api-version".into(), "2024-11-01".into())]);
            assert!(req.http.body().is_empty());
            assert_eq!(req.resource, vmss_vm().arm_id());
            let req = r.vm_action(&vm(), action);
            assert_eq!(split(&req).0, format!("{}/{segment}", vm().arm_id()));
        }
    }

    #[test]
    fn update_is_manual_upgrade_for_scale_sets_and_empty_patch_otherwise() {
        let r = requests();
        let req = r.vm_action(&vmss_vm(), VmAction::Update);
        assert_eq!(req.http.method(), Method::POST);
        assert_eq!(split(&req).0, format!("{VMSS}/manualupgrade"));
        assert_eq!(body(&req), json!({"instanceIds": ["3"]}));
        assert_eq!(req.resource, vmss_vm().arm_id());
        let req = r.vm_action(&vm(), VmAction::Update);
        assert_eq!(req.http.method(), Method::PATCH);
        assert_eq!(split(&req).0, vm().arm_id());
        assert_eq!(body(&req), json!({}));
    }

    #[test]
    fn batch_actions_always_name_instances() {
        let ids = vec!["0".to_owned(), "7".to_owned()];
        let req =
            requests().scale_set_action("s", "MC_rg", "aks-np-1-vmss", VmAction::Redeploy, &ids);
        assert_eq!(split(&req).0, format!("{VMSS}/redeploy"));
        assert_eq!(body(&req), json!({"instanceIds": ["0", "7"]}));
        assert_eq!(req.http.headers()["content-type"], "application/json");
    }

    #[test]
    fn reads_expand_the_instance_view() {
        let r = requests();
        let (path, query) = split(&r.get_vm(&vmss_vm()));
        assert_eq!(path, vmss_vm().arm_id());
        assert!(query.contains(&("$expand".into(), "instanceView".into())));
        let (path, _) = split(&r.get_instance_view(&vm()));
        assert_eq!(path, format!("{}/instanceView", vm().arm_id()));
        let (path, query) = split(&r.list_scale_set_vms("s", "MC_rg", "aks-np-1-vmss"));
        assert_eq!(path, format!("{VMSS}/virtualMachines"));
        assert!(query.contains(&("$expand".into(), "instanceView".into())));
        let (path, _) = split(&r.list_scale_sets("s", "MC_rg"));
        assert_eq!(
            path,
            "/subscriptions/s/resourceGroups/MC_rg/providers/Microsoft.Compute/virtualMachineScaleSets"
        );
    }
}
