//! Filling the `<placeholders>` of catalog commands with the names found in a snapshot, so a
//! finding's commands can be pasted as they are.

use super::snapshot::Snapshot;
use crate::ProviderId;

/// Values for catalog placeholders such as `<resource-group>` or `<instance-id>`. A placeholder
/// without a value stays as written, which tells the reader what still needs filling in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Placeholders {
    values: Vec<(&'static str, String)>,
}

impl Placeholders {
    /// The names every finding of this snapshot shares: cluster, groups, subscription, region.
    pub(crate) fn for_snapshot(snapshot: &Snapshot) -> Self {
        let mut names = Self::default();
        if let Some(rg) = snapshot.resource_group() {
            names = names.set("resource-group", rg);
        }
        if let Some(name) = snapshot.cluster_name() {
            names = names.set("cluster", name);
        }
        if let Some(sub) = snapshot.subscription() {
            names = names.set("subscription-id", sub);
        }
        if let Some(cluster) = snapshot.cluster() {
            names = names
                .set("node-resource-group", &cluster.node_resource_group)
                .set("location", &cluster.location)
                .set("region", &cluster.location);
            if let Some(version) = &cluster.kubernetes_version {
                names = names.set("kubernetes-version", version);
            }
        }
        names
    }

    /// Sets (or replaces) one value.
    pub(crate) fn set(mut self, key: &'static str, value: impl Into<String>) -> Self {
        let value = value.into();
        match self.values.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.values.push((key, value)),
        }
        self
    }

    /// Adds a pool's name, scale set and VM size.
    pub(crate) fn pool(mut self, snapshot: &Snapshot, pool: &str) -> Self {
        self = self.set("pool", pool);
        if let Some(scale_set) = snapshot.scale_set_name(pool) {
            self = self.set("vmss", scale_set);
        }
        if let Some(p) = snapshot.cluster().and_then(|c| c.pool(pool)) {
            self = self.set("vm-size", &p.vm_size);
        }
        self
    }

    /// Adds the scale set and instance ID, or the VM name, that a provider ID names.
    pub(crate) fn vm(self, id: &ProviderId) -> Self {
        match id {
            ProviderId::ScaleSetVm {
                scale_set,
                instance_id,
                ..
            } => self.set("vmss", scale_set).set("instance-id", instance_id),
            ProviderId::Vm { name, .. } => self.set("vm", name),
        }
    }

    /// The value of a placeholder, when known.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `text` with every known `<placeholder>` replaced.
    pub(crate) fn fill(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(open) = rest.find('<') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let name_len = after
                .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
                .unwrap_or(after.len());
            let name = &after[..name_len];
            let closed = after[name_len..].starts_with('>');
            let value = if closed && !name.is_empty() {
                self.get(name)
            } else {
                None
            };
            match value {
                Some(value) => {
                    out.push_str(value);
                    rest = &after[name_len + 1..];
                }
                None => {
                    out.push('<');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::fixtures::{SnapshotFixture, pool, snapshot};

    #[test]
    fn fills_known_names_and_leaves_the_rest() {
        let names = Placeholders::default()
            .set("resource-group", "rg")
            .set("cluster", "aks");
        assert_eq!(
            names.fill("az aks show --resource-group <resource-group> --name <cluster> --kubernetes-version <kubernetes-version>"),
            "az aks show --resource-group rg --name aks --kubernetes-version <kubernetes-version>"
        );
        assert_eq!(names.fill("a < b <> <cluster"), "a < b <> <cluster");
        assert_eq!(names.fill("<cluster><cluster>"), "aksaks");
    }

    #[test]
    fn snapshot_names_cover_the_cluster_pool_and_vm() {
        let snap = snapshot().with_pool(pool("np1"));
        let id: ProviderId = "azure:///subscriptions/sub/resourceGroups/MC_rg_aks_westeurope/providers/Microsoft.Compute/virtualMachineScaleSets/aks-np1-vmss/virtualMachines/4"
            .parse()
            .unwrap();
        let names = Placeholders::for_snapshot(&snap).pool(&snap, "np1").vm(&id);
        let filled = names.fill(
            "az vmss update-instances --resource-group <node-resource-group> --name <vmss> --instance-ids <instance-id> # <pool> <location> <subscription-id> <vm-size>",
        );
        assert_eq!(
            filled,
            "az vmss update-instances --resource-group MC_rg_aks_westeurope --name aks-np1-vmss --instance-ids 4 # np1 westeurope sub Standard_D4s_v5"
        );
        let vm: ProviderId = "azure:///subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/aks-np1-0"
            .parse()
            .unwrap();
        assert_eq!(Placeholders::default().vm(&vm).get("vm"), Some("aks-np1-0"));
    }
}
