//! `vm-failed` and `vm-extension-error`: single VMs (scenario 2 of the failed-state guide).
//!
//! A VM in the Failed state whose error is not a bootstrap (extension) failure is most often
//! left there by a partly failed disk detach; updating the VM recomputes its state:
//! `az vmss update-instances` for a scale-set VM, `az vm update` for an availability-set VM.
//! When the error is a bootstrap failure, the exit code's entry applies and the VM is reimaged
//! once the cause is fixed. A VM that is not Failed but whose extension reports an error gets
//! `vm-extension-error`.

use super::{at_least, found_evidence, reconcile_pool};
use crate::ProviderId;
use crate::catalog::{Category, Severity};
use crate::diagnosis::codes::{self, Found};
use crate::diagnosis::facts::Facts;
use crate::diagnosis::finding::{Draft, Finding, clip};
use crate::diagnosis::placeholders::Placeholders;
use crate::diagnosis::snapshot::Snapshot;
use crate::model::{AgentPool, VmInstance};

pub(super) const FAILED_ID: &str = "vm-failed";
pub(super) const EXTENSION_ID: &str = "vm-extension-error";

/// Whether a found code is a node bootstrap (CSE) or egress problem rather than a VM state one.
pub(super) fn is_bootstrap(found: &Found<'_>) -> bool {
    found.exit.is_some()
        || found
            .entry
            .is_some_and(|e| matches!(e.category, Category::Extension | Category::Outbound))
}

fn vm_name(vm: &VmInstance) -> String {
    vm.computer_name.clone().unwrap_or_else(|| match &vm.id {
        ProviderId::ScaleSetVm {
            scale_set,
            instance_id,
            ..
        } => format!("{scale_set}/{instance_id}"),
        ProviderId::Vm { name, .. } => name.clone(),
    })
}

fn names_for(snapshot: &Snapshot, pool: &AgentPool, vm: &VmInstance) -> Placeholders {
    let names = Placeholders::for_snapshot(snapshot)
        .pool(snapshot, &pool.name)
        .vm(&vm.id);
    match &vm.computer_name {
        Some(node) => names.set("node", node),
        None => names,
    }
}

fn reimage_command(vm: &VmInstance) -> Option<String> {
    match &vm.id {
        ProviderId::ScaleSetVm {
            resource_group,
            scale_set,
            instance_id,
            ..
        } => Some(format!(
            "az vmss reimage --resource-group {resource_group} --name {scale_set} --instance-ids {instance_id}"
        )),
        ProviderId::Vm { .. } => None,
    }
}

fn vm_evidence(draft: Draft, pool: &AgentPool, vm: &VmInstance) -> Draft {
    let mut draft = draft
        .evidence("provisioningState", &vm.provisioning_state)
        .evidence("powerState", &vm.power_state)
        .evidence("pool", &pool.name);
    if let Some(node) = &vm.computer_name {
        draft = draft.evidence("node", node);
    }
    let statuses = vm
        .extensions
        .iter()
        .flat_map(|e| e.statuses.iter().map(move |s| (Some(&e.name), s)));
    for (extension, status) in statuses.chain(vm.statuses.iter().map(|s| (None, s))) {
        let failed = status.level.eq_ignore_ascii_case("Error") || status.code.contains("/failed");
        if !failed {
            continue;
        }
        let label = match extension {
            Some(name) => format!("extension {name}"),
            None => "status".to_owned(),
        };
        let value = match &status.message {
            Some(m) => format!("{}: {}", status.code, clip(m, 400)),
            None => status.code.clone(),
        };
        draft = draft.evidence(label, value);
    }
    draft
}

pub(super) fn failed(facts: &Facts<'_, '_>) -> Vec<Finding> {
    let (snapshot, catalog) = (facts.snapshot, facts.catalog);
    let mut out = Vec::new();
    for pool in snapshot.pools() {
        let os = snapshot.pool_os(&pool.name);
        for vm in snapshot.instances(&pool.name).unwrap_or_default() {
            if !vm.provisioning_state.is_failed() {
                continue;
            }
            let found = codes::in_instance(vm, os, catalog);
            let bootstrap = found.as_ref().is_some_and(is_bootstrap);
            let entry = match &found {
                Some(f) if bootstrap || f.entry.is_some() => f.entry,
                _ => catalog.find("NodeVMFailedAfterDiskDetach"),
            };
            let names = names_for(snapshot, pool, vm);
            let title = format!(
                "VM {} of pool {} is in the Failed state",
                vm_name(vm),
                pool.name
            );
            let mut draft = vm_evidence(
                Draft::new(
                    FAILED_ID,
                    at_least(Severity::Error, entry),
                    vm.id.arm_id(),
                    title,
                ),
                pool,
                vm,
            );
            if let Some(found) = &found {
                draft = found_evidence(draft.code(&found.code), found);
            }
            if !bootstrap {
                draft = draft.fix(vm.id.update_command());
            }
            draft = draft.entry(entry, &names);
            if bootstrap && let Some(reimage) = reimage_command(vm) {
                draft = draft.then(reimage);
            }
            if let Some(node) = &vm.computer_name {
                draft = draft.then(format!("nodemend reconcile node {node}"));
            }
            if pool.provisioning_state.is_failed() {
                for command in reconcile_pool(snapshot, &pool.name) {
                    draft = draft.then(command);
                }
            }
            out.push(draft.build());
        }
    }
    out
}

pub(super) fn extension_error(facts: &Facts<'_, '_>) -> Vec<Finding> {
    let (snapshot, catalog) = (facts.snapshot, facts.catalog);
    let mut out = Vec::new();
    for pool in snapshot.pools() {
        let os = snapshot.pool_os(&pool.name);
        for vm in snapshot.instances(&pool.name).unwrap_or_default() {
            let erroring = vm.extensions.iter().find(|e| {
                e.statuses
                    .iter()
                    .any(|s| s.level.eq_ignore_ascii_case("Error"))
            });
            let (Some(extension), false) = (erroring, vm.provisioning_state.is_failed()) else {
                continue;
            };
            let found = codes::in_instance(vm, os, catalog);
            let entry = found
                .as_ref()
                .and_then(|f| f.entry)
                .or_else(|| catalog.find("VMExtensionProvisioningError"));
            let names = names_for(snapshot, pool, vm);
            let title = format!(
                "Extension {} reports an error on VM {}",
                extension.name,
                vm_name(vm)
            );
            let mut draft = vm_evidence(
                Draft::new(
                    EXTENSION_ID,
                    at_least(Severity::Warning, entry),
                    vm.id.arm_id(),
                    title,
                ),
                pool,
                vm,
            );
            if let Some(found) = &found {
                draft = found_evidence(draft.code(&found.code), found);
            }
            draft = draft.entry(entry, &names);
            if let Some(reimage) = reimage_command(vm) {
                draft = draft.then(reimage);
            }
            out.push(draft.build());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::fixtures::{SnapshotFixture, facts, pool, snapshot};

    const DETACH: &str = "Cannot attach data disk 'pvc-1' to VM 'aks-np1-vmss_1' because the disk is currently being detached or the last detach operation failed.";

    #[test]
    fn a_vm_failed_by_a_disk_detach_gets_the_scale_set_update_command() {
        let snap = snapshot().with_pool(pool("np1").instance_failed(
            1,
            "AttachDiskWhileBeingDetached",
            DETACH,
        ));
        let findings = failed(&facts(&snap));
        assert_eq!(findings.len(), 1);
        let f = &findings[0];
        assert_eq!(f.rule, FAILED_ID);
        assert_eq!(f.code.as_deref(), Some("AttachDiskWhileBeingDetached"));
        assert_eq!(f.entry.as_deref(), Some("NodeVMFailedAfterDiskDetach"));
        assert_eq!(
            f.commands[0],
            "az vmss update-instances --resource-group MC_rg_aks_westeurope --name aks-np1-vmss --instance-ids 1"
        );
        assert_eq!(
            f.commands.last().unwrap(),
            "nodemend reconcile node aks-np1-vmss000001"
        );
        assert!(
            f.resource
                .ends_with("/virtualMachineScaleSets/aks-np1-vmss/virtualMachines/1")
        );
        assert!(
            f.evidence
                .iter()
                .any(|e| e.label == "status" && e.value.contains("being detached"))
        );
    }

    #[test]
    fn an_availability_set_vm_gets_az_vm_update() {
        let snap = snapshot().with_pool(pool("np1").availability_set().instance_failed(
            0,
            "InternalDiskManagementError",
            DETACH,
        ));
        let f = &failed(&facts(&snap))[0];
        assert_eq!(
            f.commands[0],
            "az vm update --resource-group MC_rg_aks_westeurope --name aks-np1-0"
        );
        assert!(f.commands.contains(
            &"az vm update --resource-group MC_rg_aks_westeurope --name aks-np1-0".to_owned()
        ));
    }

    #[test]
    fn a_bootstrap_failure_is_explained_by_its_exit_code_and_reimaged() {
        let snap = snapshot().with_pool(
            pool("np1")
                .failed()
                .instance_failed(2, "VMExtensionProvisioningError", "see extension")
                .extension_failed(2, "command terminated with exit status=51"),
        );
        let f = &failed(&facts(&snap))[0];
        assert_eq!(
            f.code.as_deref(),
            Some("K8SAPIServerConnFailVMExtensionError")
        );
        assert!(
            !f.commands
                .iter()
                .any(|c| c.starts_with("az vmss update-instances"))
        );
        assert!(f.commands.contains(&"az vmss reimage --resource-group MC_rg_aks_westeurope --name aks-np1-vmss --instance-ids 2".to_owned()));
        assert!(f.evidence.iter().any(|e| e.label == "CSE exit status"
            && e.value.starts_with("51 (ERR_K8S_API_SERVER_CONN_FAIL)")));
        assert_eq!(
            f.commands.last().unwrap(),
            "az aks nodepool update --resource-group rg --cluster-name aks --name np1"
        );
    }

    #[test]
    fn an_extension_error_on_a_running_vm_is_its_own_finding() {
        let snap = snapshot().with_pool(pool("np1").extension_failed(0, "exit status=50"));
        assert!(failed(&facts(&snap)).is_empty());
        let f = &extension_error(&facts(&snap))[0];
        assert_eq!(f.rule, EXTENSION_ID);
        assert_eq!(f.code.as_deref(), Some("OutboundConnFailVMExtensionError"));
        assert_eq!(
            f.title,
            "Extension vmssCSE reports an error on VM aks-np1-vmss000000"
        );
    }

    #[test]
    fn healthy_or_unread_vms_say_nothing() {
        let snap = snapshot()
            .with_pool(pool("np1"))
            .with_pool(pool("np2").unread());
        assert!(failed(&facts(&snap)).is_empty());
        assert!(extension_error(&facts(&snap)).is_empty());
    }
}
