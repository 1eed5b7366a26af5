//! Azure provider IDs: the `node.spec.providerID` that ties a Kubernetes node to its VM.
//!
//! Two shapes exist:
//! - a VM scale set (Uniform orchestration) instance:
//!   `azure:///subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Compute/virtualMachineScaleSets/<vmss>/virtualMachines/<instance>`
//! - a standalone VM (VMSS Flex, availability set or AKS `VirtualMachines` pools):
//!   `azure:///subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Compute/virtualMachines/<name>`
//!
//! ARM treats the fixed segments (`subscriptions`, `resourceGroups`, `providers`,
//! `Microsoft.Compute`, ...) and resource names case-insensitively, so parsing accepts any casing
//! and [`ProviderId::key`] gives a case-folded key for comparisons. Values are kept verbatim so
//! that printing a parsed ID gives back what the node carried.

use std::fmt;
use std::str::FromStr;

/// The scheme every Azure provider ID starts with.
pub const SCHEME: &str = "azure://";

/// Which VM a node runs on, as named by its provider ID.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ProviderId {
    /// An instance of a VM scale set in Uniform orchestration mode.
    ScaleSetVm {
        /// Subscription ID (a GUID in practice; kept verbatim).
        subscription: String,
        /// Resource group of the scale set (the cluster's node resource group on AKS).
        resource_group: String,
        /// Name of the scale set.
        scale_set: String,
        /// Instance ID within the scale set (a decimal number).
        instance_id: String,
    },
    /// A standalone VM: VMSS Flex, availability set or an AKS `VirtualMachines` pool.
    Vm {
        /// Subscription ID.
        subscription: String,
        /// Resource group of the VM.
        resource_group: String,
        /// Name of the VM.
        name: String,
    },
}

/// Why a provider ID could not be parsed. The message quotes the ID and names the segment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid Azure provider ID {id:?}: {problem}")]
pub struct ProviderIdError {
    /// The provider ID as given.
    pub id: String,
    /// What is wrong, naming the segment.
    pub problem: String,
}

impl ProviderIdError {
    /// The code a repair reports when the node's provider ID cannot name a VM, as AKS reports
    /// it in its `Node...Error` events.
    pub const REPAIR_CODE: &'static str = "scaleSetNameAndInstanceIDFromProviderID failed";
}

impl ProviderId {
    /// Subscription the VM lives in.
    pub fn subscription(&self) -> &str {
        match self {
            Self::ScaleSetVm { subscription, .. } | Self::Vm { subscription, .. } => subscription,
        }
    }

    /// Resource group the VM lives in.
    pub fn resource_group(&self) -> &str {
        match self {
            Self::ScaleSetVm { resource_group, .. } | Self::Vm { resource_group, .. } => {
                resource_group
            }
        }
    }

    /// The `az` command that re-applies the VM's model (what clears a Failed provisioning state
    /// left by, for example, a disk detach): `az vmss update-instances` for a scale-set
    /// instance, `az vm update` for a standalone VM.
    pub fn update_command(&self) -> String {
        match self {
            ProviderId::ScaleSetVm {
                resource_group,
                scale_set,
                instance_id,
                ..
            } => format!(
                "az vmss update-instances --resource-group {resource_group} --name {scale_set} --instance-ids {instance_id}"
            ),
            ProviderId::Vm {
                resource_group,
                name,
                ..
            } => format!("az vm update --resource-group {resource_group} --name {name}"),
        }
    }

    /// The ARM resource ID of the VM (the provider ID without its `azure://` scheme).
    pub fn arm_id(&self) -> String {
        let mut id = format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute",
            self.subscription(),
            self.resource_group()
        );
        match self {
            Self::ScaleSetVm {
                scale_set,
                instance_id,
                ..
            } => {
                id.push_str("/virtualMachineScaleSets/");
                id.push_str(scale_set);
                id.push_str("/virtualMachines/");
                id.push_str(instance_id);
            }
            Self::Vm { name, .. } => {
                id.push_str("/virtualMachines/");
                id.push_str(name);
            }
        }
        id
    }

    /// A case-folded form for comparing and indexing: two IDs that ARM considers the same
    /// resource have the same key.
    pub fn key(&self) -> String {
        self.arm_id().to_ascii_lowercase()
    }
}

impl fmt::Display for ProviderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "azure://{}", self.arm_id())
    }
}

impl FromStr for ProviderId {
    type Err = ProviderIdError;

    fn from_str(id: &str) -> Result<Self, Self::Err> {
        parse(id).map_err(|problem| ProviderIdError {
            id: id.to_owned(),
            problem,
        })
    }
}

impl serde::Serialize for ProviderId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ProviderId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

/// Expects the fixed segment `expected` (case-insensitively) followed by a non-empty value.
fn keyed<'a>(
    segments: &mut std::slice::Iter<'_, &'a str>,
    expected: &str,
) -> Result<&'a str, String> {
    match segments.next() {
        None => return Err(format!("segment {expected:?} is missing")),
        Some(seg) if !seg.eq_ignore_ascii_case(expected) => {
            return Err(format!("expected segment {expected:?}, found {seg:?}"));
        }
        Some(_) => {}
    }
    match segments.next() {
        Some(value) if !value.is_empty() => Ok(value),
        _ => Err(format!("the value after {expected:?} is missing")),
    }
}

fn parse(id: &str) -> Result<ProviderId, String> {
    let scheme_len = SCHEME.len();
    let has_scheme = id
        .get(..scheme_len)
        .is_some_and(|s| s.eq_ignore_ascii_case(SCHEME));
    if !has_scheme {
        return Err(format!("it must start with {SCHEME:?}"));
    }
    let path = &id[scheme_len..];
    let Some(path) = path.strip_prefix('/') else {
        return Err(
            "the scheme must be followed by an absolute path (\"azure:///subscriptions/...\")"
                .into(),
        );
    };
    let parts: Vec<&str> = path.split('/').collect();
    let mut segments = parts.iter();
    let subscription = keyed(&mut segments, "subscriptions")?;
    let resource_group = keyed(&mut segments, "resourceGroups")?;
    let provider = keyed(&mut segments, "providers")?;
    if !provider.eq_ignore_ascii_case("Microsoft.Compute") {
        return Err(format!(
            "provider segment is {provider:?}, expected \"Microsoft.Compute\""
        ));
    }
    let (subscription, resource_group) = (subscription.to_owned(), resource_group.to_owned());
    let result = match segments.next() {
        Some(kind) if kind.eq_ignore_ascii_case("virtualMachineScaleSets") => {
            let scale_set = segments
                .next()
                .filter(|s| !s.is_empty())
                .ok_or("the value after \"virtualMachineScaleSets\" is missing")?;
            let instance_id = keyed(&mut segments, "virtualMachines")?;
            if !instance_id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!(
                    "instance ID {instance_id:?} after \"virtualMachines\" must be a decimal number"
                ));
            }
            ProviderId::ScaleSetVm {
                subscription,
                resource_group,
                scale_set: (*scale_set).to_owned(),
                instance_id: instance_id.to_owned(),
            }
        }
        Some(kind) if kind.eq_ignore_ascii_case("virtualMachines") => {
            let name = segments
                .next()
                .filter(|s| !s.is_empty())
                .ok_or("the value after \"virtualMachines\" is missing")?;
            ProviderId::Vm {
                subscription,
                resource_group,
                name: (*name).to_owned(),
            }
        }
        Some(kind) => {
            return Err(format!(
                "resource type segment is {kind:?}, expected \"virtualMachineScaleSets\" or \"virtualMachines\""
            ));
        }
        None => {
            return Err("the resource type segment after \"Microsoft.Compute\" is missing".into());
        }
    };
    match segments.next() {
        None => Ok(result),
        Some(extra) => Err(format!("unexpected trailing segment {extra:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const UNIFORM: &str = "azure:///subscriptions/0000-1111/resourceGroups/MC_rg_aks_westeurope/providers/Microsoft.Compute/virtualMachineScaleSets/aks-nodepool1-12345678-vmss/virtualMachines/3";

    #[test]
    fn parses_a_uniform_scale_set_instance() {
        let id: ProviderId = UNIFORM.parse().unwrap();
        assert_eq!(
            id,
            ProviderId::ScaleSetVm {
                subscription: "0000-1111".into(),
                resource_group: "MC_rg_aks_westeurope".into(),
                scale_set: "aks-nodepool1-12345678-vmss".into(),
                instance_id: "3".into(),
            }
        );
        assert_eq!(id.to_string(), UNIFORM);
        assert_eq!(id.resource_group(), "MC_rg_aks_westeurope");
    }

    #[test]
    fn parses_a_standalone_vm() {
        let raw = "azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/flexprofile-mp-0_df53ee36";
        let id: ProviderId = raw.parse().unwrap();
        assert!(matches!(&id, ProviderId::Vm { name, .. } if name == "flexprofile-mp-0_df53ee36"));
        assert_eq!(id.to_string(), raw);
    }

    #[test]
    fn fixed_segments_are_case_insensitive_and_keys_fold_case() {
        let lower = "AZURE:///SUBSCRIPTIONS/s/resourcegroups/mc_rg/providers/microsoft.compute/VIRTUALMACHINESCALESETS/vmss/VirtualMachines/0";
        let a: ProviderId = lower.parse().unwrap();
        let b: ProviderId = "azure:///subscriptions/s/resourceGroups/MC_RG/providers/Microsoft.Compute/virtualMachineScaleSets/VMSS/virtualMachines/0"
            .parse()
            .unwrap();
        assert_ne!(a, b, "values are kept verbatim");
        assert_eq!(a.key(), b.key(), "but compare equal case-insensitively");
    }

    fn problem(raw: &str) -> String {
        let err = raw.parse::<ProviderId>().unwrap_err();
        assert_eq!(err.id, raw);
        assert!(err.to_string().contains(&format!("{raw:?}")), "{err}");
        err.problem
    }

    #[test]
    fn malformed_ids_name_the_wrong_segment() {
        assert!(problem("").contains("azure://"));
        assert!(problem("aws:///i-123").contains("azure://"));
        assert!(problem("azure://subscriptions/s").contains("absolute path"));
        assert!(problem("azure:///subscription/s").contains("\"subscriptions\""));
        assert!(
            problem("azure:///subscriptions/s/resourceGroups").contains("after \"resourceGroups\"")
        );
        assert!(
            problem("azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/x/y")
                .contains("Microsoft.Network")
        );
        assert!(
            problem(
                "azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/d"
            )
            .contains("\"disks\"")
        );
        assert!(problem("azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/v/virtualMachines/abc").contains("decimal"));
        assert!(problem("azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/v").contains("\"virtualMachines\" is missing"));
        assert!(problem("azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/extra").contains("trailing"));
        assert!(
            problem("azure:///subscriptions//resourceGroups/rg")
                .contains("after \"subscriptions\"")
        );
    }

    fn name() -> impl Strategy<Value = String> {
        "[A-Za-z0-9_.()-][A-Za-z0-9_.()-]{0,30}"
    }

    fn provider_id() -> impl Strategy<Value = ProviderId> {
        prop_oneof![
            (name(), name(), name(), "[0-9]{1,6}").prop_map(
                |(subscription, resource_group, scale_set, instance_id)| {
                    ProviderId::ScaleSetVm {
                        subscription,
                        resource_group,
                        scale_set,
                        instance_id,
                    }
                }
            ),
            (name(), name(), name()).prop_map(|(subscription, resource_group, name)| {
                ProviderId::Vm {
                    subscription,
                    resource_group,
                    name,
                }
            }),
        ]
    }

    proptest! {
        #[test]
        fn print_then_parse_round_trips(id in provider_id()) {
            let printed = id.to_string();
            let parsed: ProviderId = printed.parse().unwrap();
            prop_assert_eq!(&parsed, &id);
            prop_assert_eq!(parsed.to_string(), printed);
        }

        #[test]
        fn arbitrary_strings_never_panic(raw in ".*") {
            let _ = raw.parse::<ProviderId>();
        }

        #[test]
        fn mangled_valid_ids_never_panic(id in provider_id(), cut in 0usize..200, junk in "[/a-zA-Z0-9]{0,8}") {
            let mut s = id.to_string();
            let cut = cut.min(s.len());
            s.truncate(cut);
            s.push_str(&junk);
            let _ = s.parse::<ProviderId>();
        }
    }
}
