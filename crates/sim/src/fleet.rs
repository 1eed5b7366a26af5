//! The simulated machines: one kubelet per VM of the ARM simulator, following what happens to
//! its VM. A restart, reimage or redeploy takes the kubelet down while it runs and brings it
//! back with a new boot ID; a fault inside the VM (a stopped kubelet, a NotReady reason) stays
//! until an action that cures it has run.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::{broadcast, watch};

use crate::arm::events::{VmEvent, VmPhase, VmSnapshot};
use crate::arm::spec::{PoolSpec, VmOp};
use crate::arm::{ArmSim, ArmWorldSpec, VmFaultSpec};
use crate::kubelet::{self, KubeletSpec, Readiness, VmState};

/// What goes wrong inside a VM, as the kubelet shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KubeletFault {
    /// The kubelet stops: no lease renewals, no status (the node goes `Unknown`).
    Stopped,
    /// The kubelet reports `Ready=False` with this message (reason `KubeletNotReady`).
    NotReady(String),
}

/// Kubelet timings.
#[derive(Debug, Clone)]
pub struct KubeletTiming {
    /// Lease renewal interval.
    pub lease_interval: Duration,
    /// Status interval when nothing changes.
    pub status_interval: Duration,
}

impl Default for KubeletTiming {
    fn default() -> Self {
        Self {
            lease_interval: Duration::from_secs(10),
            status_interval: Duration::from_secs(60),
        }
    }
}

struct Machine {
    state: watch::Sender<VmState>,
    fault: Option<KubeletFault>,
}

/// The running kubelets, by node name.
#[derive(Clone)]
pub struct Fleet {
    machines: Arc<Mutex<HashMap<String, Machine>>>,
    arm: Arc<ArmSim>,
}

/// vCPUs and memory (KiB) of a VM size, read from its name (`Standard_D4s_v5` → 4 vCPUs);
/// 4 GiB per vCPU, like the general-purpose sizes.
fn size_of(vm_size: &str) -> (u32, u64) {
    let digits: String = vm_size
        .split('_')
        .nth(1)
        .unwrap_or_default()
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    let cpu = digits.parse().unwrap_or(2).max(1);
    (cpu, u64::from(cpu) * 4 * 1024 * 1024)
}

fn boot_id(vm: &str, boot: u64) -> String {
    format!("{vm}-boot-{boot}")
}

fn kubelet_spec(
    vm: &VmSnapshot,
    pool: Option<&PoolSpec>,
    world: &ArmWorldSpec,
    index: usize,
    timing: &KubeletTiming,
) -> KubeletSpec {
    let vm_size = pool.map_or("Standard_D4s_v5".to_owned(), |p| p.vm_size.clone());
    let (cpu, memory_kib) = size_of(&vm_size);
    let zones = pool.map(|p| p.zones.clone()).unwrap_or_default();
    let zone = if zones.is_empty() {
        "0".to_owned()
    } else {
        format!("{}-{}", world.location, zones[index % zones.len()])
    };
    KubeletSpec {
        node_name: vm.computer_name.clone(),
        pool: vm.pool.clone(),
        mode: pool.map_or("system".into(), |p| format!("{:?}", p.mode).to_lowercase()),
        cluster_label: node_resource_group(world),
        provider_id: vm.provider_id.clone(),
        vm_size,
        region: world.location.clone(),
        zone,
        cpu,
        memory_kib,
        max_pods: pool.map_or(30, |p| p.max_pods),
        internal_ip: format!("10.224.{}.{}", index / 250, 4 + index % 250),
        registered: Timestamp::now(),
        lease_interval: timing.lease_interval,
        status_interval: timing.status_interval,
    }
}

/// `provider_id` with its last segment (the instance ID or VM name) cut off, as a node whose
/// provisioning did not finish may register it: no VM can be found from it.
pub fn malformed_provider_id(provider_id: &str) -> String {
    match provider_id.rfind('/') {
        Some(slash) => provider_id[..=slash].to_owned(),
        None => String::new(),
    }
}

fn node_resource_group(world: &ArmWorldSpec) -> String {
    world
        .cluster
        .node_resource_group
        .clone()
        .unwrap_or_else(|| {
            format!(
                "MC_{}_{}_{}",
                world.cluster.resource_group, world.cluster.name, world.location
            )
        })
}

impl Fleet {
    /// Starts a kubelet for every VM of `arm` (built from `world`), talking to the API server
    /// behind `client`, until `shutdown` fires. The nodes named in `bad_provider_ids` register
    /// a provider ID that cannot be parsed (see [`malformed_provider_id`]).
    pub fn start(
        client: kube::Client,
        arm: Arc<ArmSim>,
        world: &ArmWorldSpec,
        timing: KubeletTiming,
        bad_provider_ids: &[String],
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        let mut machines = HashMap::new();
        for (index, vm) in arm.vms().into_iter().filter(|v| !v.deleted).enumerate() {
            let pool = world
                .pools
                .iter()
                .find(|p| p.name.eq_ignore_ascii_case(&vm.pool));
            let mut spec = kubelet_spec(&vm, pool, world, index, &timing);
            if bad_provider_ids
                .iter()
                .any(|n| n.eq_ignore_ascii_case(&vm.computer_name))
            {
                spec.provider_id = malformed_provider_id(&spec.provider_id);
            }
            let mut initial = VmState::healthy(boot_id(&vm.computer_name, vm.boot_count));
            initial.running = vm.power_state.eq_ignore_ascii_case("running");
            let (state, rx) = watch::channel(initial);
            tokio::spawn(kubelet::run(client.clone(), spec, rx, shutdown.clone()));
            machines.insert(vm.computer_name.clone(), Machine { state, fault: None });
        }
        let fleet = Self {
            machines: Arc::new(Mutex::new(machines)),
            arm: Arc::clone(&arm),
        };
        tokio::spawn(fleet.clone().follow(arm.subscribe(), shutdown));
        fleet
    }

    /// Node names of every machine.
    pub fn nodes(&self) -> Vec<String> {
        let mut names: Vec<String> = self.lock().keys().cloned().collect();
        names.sort();
        names
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Machine>> {
        self.machines.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Breaks `node`'s VM in the given way; only an action in `cured_by` mends it. Returns
    /// false when there is no such node.
    pub fn inject(&self, node: &str, fault: KubeletFault, cured_by: Vec<VmOp>) -> bool {
        let description = match &fault {
            KubeletFault::Stopped => "kubelet stopped".to_owned(),
            KubeletFault::NotReady(message) => message.clone(),
        };
        if !self.arm.set_vm_fault(
            node,
            Some(VmFaultSpec {
                description,
                cured_by,
            }),
        ) {
            return false;
        }
        let mut machines = self.lock();
        let Some(machine) = machines.get_mut(node) else {
            return false;
        };
        machine.fault = Some(fault.clone());
        machine.state.send_modify(|s| apply_fault(s, Some(&fault)));
        true
    }

    /// The VM behind `node` disappears: its kubelet goes silent for good.
    pub fn delete(&self, node: &str) -> bool {
        if !self.arm.delete_vm(node) {
            return false;
        }
        if let Some(machine) = self.lock().get(node) {
            machine.state.send_modify(|s| s.running = false);
        }
        true
    }

    async fn follow(
        self,
        mut events: broadcast::Receiver<VmEvent>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    Ok(event) => self.on_event(&event),
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "fleet fell behind the VM events; re-reading every VM");
                        self.resync();
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                _ = shutdown.changed() => break,
            }
        }
    }

    fn on_event(&self, event: &VmEvent) {
        let mut machines = self.lock();
        let Some(machine) = machines.get_mut(&event.computer_name) else {
            return;
        };
        match &event.phase {
            VmPhase::Started => machine.state.send_modify(|s| s.running = false),
            VmPhase::Succeeded => {
                if event.healthy {
                    machine.fault = None;
                }
                let fault = machine.fault.clone();
                machine.state.send_modify(|s| {
                    s.running = true;
                    s.boot_id = boot_id(&event.computer_name, event.boot_count);
                    apply_fault(s, fault.as_ref());
                });
            }
            VmPhase::Failed(_) => machine.state.send_modify(|s| s.running = true),
        }
    }

    fn resync(&self) {
        let machines = self.lock();
        for (name, machine) in machines.iter() {
            if let Some(vm) = self.arm.vm(name) {
                let fault = if vm.healthy {
                    None
                } else {
                    machine.fault.clone()
                };
                machine.state.send_modify(|s| {
                    s.running = vm.busy.is_none() && !vm.deleted;
                    s.boot_id = boot_id(name, vm.boot_count);
                    apply_fault(s, fault.as_ref());
                });
            }
        }
    }
}

fn apply_fault(state: &mut VmState, fault: Option<&KubeletFault>) {
    match fault {
        None => {
            state.kubelet_stopped = false;
            state.readiness = Readiness::Ready;
        }
        Some(KubeletFault::Stopped) => state.kubelet_stopped = true,
        Some(KubeletFault::NotReady(message)) => {
            state.kubelet_stopped = false;
            state.readiness = Readiness::NotReady {
                reason: "KubeletNotReady".into(),
                message: message.clone(),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_read_from_vm_size_names() {
        assert_eq!(size_of("Standard_D4s_v5").0, 4);
        assert_eq!(size_of("Standard_NC24ads_A100_v4").0, 24);
        assert_eq!(size_of("Standard_B2ms").0, 2);
        assert_eq!(size_of("weird").0, 2);
    }

    #[test]
    fn malformed_provider_ids_name_no_vm() {
        let world = ArmWorldSpec::default();
        let rg = "/subscriptions/s/resourceGroups/MC_rg_aks_westeurope/providers/Microsoft.Compute";
        for vm_id in [
            format!("{rg}/virtualMachineScaleSets/aks-nodepool1-1-vmss/virtualMachines/2"),
            format!("{rg}/virtualMachines/aks-nodepool2-1-0"),
        ] {
            let vm = VmSnapshot {
                computer_name: "n".into(),
                provider_id: format!("azure://{vm_id}"),
                vm_id,
                pool: "nodepool1".into(),
                provisioning_state: "Succeeded".into(),
                power_state: "running".into(),
                busy: None,
                healthy: true,
                boot_count: 1,
                deleted: false,
            };
            let good = kubelet_spec(&vm, None, &world, 0, &KubeletTiming::default()).provider_id;
            assert!(good.parse::<nodemend_core::ProviderId>().is_ok(), "{good}");
            let bad = malformed_provider_id(&good);
            assert!(
                good.starts_with(&bad) && bad.ends_with("/virtualMachines/"),
                "{bad}"
            );
            let err = bad.parse::<nodemend_core::ProviderId>().unwrap_err();
            assert!(err.problem.contains("\"virtualMachines\""), "{err}");
        }
        assert_eq!(malformed_provider_id("garbage"), "");
    }

    #[test]
    fn faults_show_in_the_kubelet_state() {
        let mut state = VmState::healthy("b1");
        apply_fault(&mut state, Some(&KubeletFault::Stopped));
        assert!(state.kubelet_stopped);
        apply_fault(
            &mut state,
            Some(&KubeletFault::NotReady("PLEG is not healthy".into())),
        );
        assert!(!state.kubelet_stopped);
        assert!(
            matches!(state.readiness, Readiness::NotReady { ref message, .. } if message == "PLEG is not healthy")
        );
        apply_fault(&mut state, None);
        assert_eq!(state, VmState::healthy("b1"));
    }
}
