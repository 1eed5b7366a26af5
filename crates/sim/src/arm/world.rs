//! The simulator's mutable world, built from an [`ArmWorldSpec`]: cluster, pools, VMs,
//! long-running operations, issued tokens and the call log. Plain data behind one mutex that
//! is never held across an `.await`.

use std::collections::HashMap;

use jiff::Timestamp;
use nodemend_core::model::{PoolKind, PowerState, ProvisioningState};

use super::calllog::CallRecord;
use super::events::VmSnapshot;
use super::faults::FaultBook;
use super::spec::{ArmWorldSpec, ErrorSpec, ExtensionSpec, PoolSpec, VmFaultSpec, VmOp, VmSpec};

/// A VM's live state.
#[derive(Debug, Clone)]
pub(crate) struct Vm {
    pub(crate) pool: String,
    /// Scale set and instance ID, for scale-set VMs.
    pub(crate) scale_set: Option<(String, String)>,
    /// VM resource name (`<scale set>_<instance>` for scale-set VMs).
    pub(crate) name: String,
    pub(crate) id: String,
    pub(crate) computer_name: String,
    pub(crate) provisioning_state: ProvisioningState,
    pub(crate) power_state: PowerState,
    pub(crate) error: Option<ErrorSpec>,
    pub(crate) latest_model_applied: bool,
    pub(crate) extensions: Vec<ExtensionSpec>,
    pub(crate) fault: Option<VmFaultSpec>,
    pub(crate) deleted: bool,
    pub(crate) busy: Option<VmOp>,
    pub(crate) boot_count: u64,
}

impl Vm {
    /// Free of faults: no VM fault and every extension succeeded.
    pub(crate) fn healthy(&self) -> bool {
        self.fault.is_none() && self.extensions.iter().all(|e| e.exit_code == 0)
    }

    /// Names a fault's `target` may use for this VM.
    pub(crate) fn names(&self) -> Vec<String> {
        let mut names = vec![
            self.name.clone(),
            self.computer_name.clone(),
            self.pool.clone(),
        ];
        if let Some((ss, instance)) = &self.scale_set {
            names.push(format!("{ss}/{instance}"));
        }
        names
    }

    pub(crate) fn snapshot(&self) -> VmSnapshot {
        VmSnapshot {
            computer_name: self.computer_name.clone(),
            vm_id: self.id.clone(),
            provider_id: format!("azure://{}", self.id),
            pool: self.pool.clone(),
            provisioning_state: self.provisioning_state.to_string(),
            power_state: self.power_state.to_string(),
            busy: self.busy,
            healthy: self.healthy(),
            boot_count: self.boot_count,
            deleted: self.deleted,
        }
    }
}

/// A pool's live state.
#[derive(Debug, Clone)]
pub(crate) struct Pool {
    pub(crate) spec: PoolSpec,
    pub(crate) scale_set: String,
    pub(crate) count: u32,
    pub(crate) provisioning_state: ProvisioningState,
    pub(crate) error: Option<ErrorSpec>,
    pub(crate) etag: u64,
}

/// The cluster's live state.
#[derive(Debug, Clone)]
pub(crate) struct Cluster {
    pub(crate) node_resource_group: String,
    pub(crate) provisioning_state: ProvisioningState,
    pub(crate) error: Option<ErrorSpec>,
    pub(crate) etag: u64,
}

/// Where a long-running operation is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum OpStatus {
    Running,
    Succeeded,
    Failed(ErrorSpec),
}

/// A long-running operation.
#[derive(Debug, Clone)]
pub(crate) struct Operation {
    pub(crate) status: OpStatus,
    pub(crate) start: Timestamp,
    pub(crate) end: Option<Timestamp>,
}

/// Everything that changes.
#[derive(Debug)]
pub(crate) struct World {
    pub(crate) spec: ArmWorldSpec,
    pub(crate) cluster: Cluster,
    pub(crate) pools: Vec<Pool>,
    pub(crate) vms: Vec<Vm>,
    pub(crate) ops: HashMap<String, Operation>,
    pub(crate) next_id: u64,
    pub(crate) faults: FaultBook,
    /// Issued token → its expiry (simulated time).
    pub(crate) tokens: HashMap<String, Timestamp>,
    pub(crate) credentials_valid: bool,
    pub(crate) calls: Vec<CallRecord>,
}

/// The 8 digits AKS puts in resource names, made up deterministically from the cluster name.
fn name_digits(cluster: &str) -> String {
    let hash = cluster.bytes().fold(2_166_136_261u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16_777_619)
    });
    format!("{:08}", hash % 100_000_000)
}

/// An instance ID in base 36, six characters: the suffix of AKS scale-set computer names.
fn base36(mut n: u64) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(n % 36) as usize];
        n /= 36;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl World {
    pub(crate) fn new(spec: ArmWorldSpec) -> Self {
        let c = &spec.cluster;
        let node_rg = c
            .node_resource_group
            .clone()
            .unwrap_or_else(|| format!("MC_{}_{}_{}", c.resource_group, c.name, spec.location));
        let digits = name_digits(&c.name);
        let mut pools = Vec::new();
        let mut vms = Vec::new();
        for p in &spec.pools {
            let scale_set = p
                .scale_set
                .clone()
                .unwrap_or_else(|| format!("aks-{}-{digits}-vmss", p.name));
            let count = p.count.unwrap_or(if p.vms.is_empty() {
                3
            } else {
                p.vms.len() as u32
            });
            for i in 0..count {
                let vm_spec = p.vms.get(i as usize).cloned().unwrap_or_default();
                vms.push(Self::vm(
                    &spec.subscription,
                    &node_rg,
                    p,
                    &scale_set,
                    &digits,
                    i,
                    vm_spec,
                ));
            }
            pools.push(Pool {
                spec: p.clone(),
                scale_set,
                count,
                provisioning_state: p.provisioning_state.clone(),
                error: p.error.clone(),
                etag: 1,
            });
        }
        Self {
            cluster: Cluster {
                node_resource_group: node_rg,
                provisioning_state: c.provisioning_state.clone(),
                error: c.error.clone(),
                etag: 1,
            },
            faults: FaultBook::new(&spec),
            credentials_valid: !spec.credentials.invalid,
            spec,
            pools,
            vms,
            ops: HashMap::new(),
            next_id: 1,
            tokens: HashMap::new(),
            calls: Vec::new(),
        }
    }

    fn vm(
        sub: &str,
        rg: &str,
        pool: &PoolSpec,
        scale_set: &str,
        digits: &str,
        i: u32,
        s: VmSpec,
    ) -> Vm {
        let compute =
            format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute");
        let (scale, name, id, computer_name) = match pool.kind {
            PoolKind::VirtualMachineScaleSets => (
                Some((scale_set.to_owned(), i.to_string())),
                format!("{scale_set}_{i}"),
                format!("{compute}/virtualMachineScaleSets/{scale_set}/virtualMachines/{i}"),
                format!("{scale_set}{}", base36(u64::from(i))),
            ),
            PoolKind::AvailabilitySet | PoolKind::VirtualMachines => {
                let name = format!("aks-{}-{digits}-{i}", pool.name);
                (
                    None,
                    name.clone(),
                    format!("{compute}/virtualMachines/{name}"),
                    name,
                )
            }
        };
        Vm {
            pool: pool.name.clone(),
            scale_set: scale,
            name,
            id,
            computer_name,
            provisioning_state: s.provisioning_state,
            power_state: s.power_state,
            error: s.error,
            latest_model_applied: s.latest_model_applied,
            extensions: s.extensions,
            fault: s.fault,
            deleted: s.deleted,
            busy: None,
            boot_count: 1,
        }
    }

    /// A new ID for an operation or a token.
    pub(crate) fn new_id(&mut self) -> String {
        let n = self.next_id;
        self.next_id += 1;
        format!(
            "{n:08x}-{:04x}-4000-8000-{:012x}",
            fastrand::u16(..),
            fastrand::u64(..) & 0xffff_ffff_ffff
        )
    }

    /// The scale-set VM `(scale_set, instance)`, case-insensitively.
    pub(crate) fn scale_set_vm(&self, scale_set: &str, instance: &str) -> Option<usize> {
        self.vms.iter().position(|v| {
            v.scale_set
                .as_ref()
                .is_some_and(|(s, i)| s.eq_ignore_ascii_case(scale_set) && i == instance)
        })
    }

    /// The standalone VM `name`.
    pub(crate) fn standalone_vm(&self, name: &str) -> Option<usize> {
        self.vms
            .iter()
            .position(|v| v.scale_set.is_none() && v.name.eq_ignore_ascii_case(name))
    }

    /// The pool whose scale set is `name`.
    pub(crate) fn pool_of_scale_set(&self, name: &str) -> Option<usize> {
        self.pools.iter().position(|p| {
            p.spec.kind == PoolKind::VirtualMachineScaleSets
                && p.scale_set.eq_ignore_ascii_case(name)
        })
    }

    /// The pool `name`.
    pub(crate) fn pool(&self, name: &str) -> Option<usize> {
        self.pools
            .iter()
            .position(|p| p.spec.name.eq_ignore_ascii_case(name))
    }

    /// The VMs of the scale set `name` that still exist.
    pub(crate) fn vms_of_scale_set(&self, name: &str) -> Vec<usize> {
        (0..self.vms.len())
            .filter(|&i| {
                let v = &self.vms[i];
                !v.deleted
                    && v.scale_set
                        .as_ref()
                        .is_some_and(|(s, _)| s.eq_ignore_ascii_case(name))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_aks_style_names_and_default_vms() {
        let world = World::new(ArmWorldSpec::default());
        assert_eq!(world.cluster.node_resource_group, "MC_rg1_aks1_westeurope");
        assert_eq!(world.vms.len(), 3);
        let vm = &world.vms[2];
        assert!(vm.computer_name.starts_with("aks-nodepool1-"));
        assert!(vm.computer_name.ends_with("-vmss000002"));
        assert!(vm.id.ends_with("/virtualMachines/2"));
        assert_eq!(
            world.scale_set_vm(&world.pools[0].scale_set.to_uppercase(), "2"),
            Some(2)
        );
        assert_eq!(base36(36 * 36 + 35), "00010z");
    }
}
