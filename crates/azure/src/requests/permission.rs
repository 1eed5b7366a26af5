//! The Azure RBAC action each request needs, derived from its method and path the way ARM
//! derives it: the provider namespace, the resource types along the path (names dropped), then
//! `read` for a GET, `write` for a PUT or PATCH, or `<action>/action` for a POST.
//! `deploy/azure-role.json` must grant every action this yields for a request nodemend builds
//! (tested below).
//!
//! [`Requests::role_needs`] is the table of what each command needs, built from the very
//! requests the command sends: `nodemend doctor` checks it against the identity's permissions.

use http::Method;
use nodemend_core::ProviderId;
use nodemend_core::cloud::{ActivityQuery, ActivityScope, ClusterRef, Scope, VmAction};

use super::{ArmRequest, Requests};

/// Actions ARM allows every signed-in caller whatever its roles: reading its own permissions.
pub const UNGATED_ACTIONS: [&str; 1] = ["Microsoft.Authorization/permissions/read"];

/// A command whose Azure needs are listed in [`Requests::role_needs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Command {
    /// `nodemend run`: reading the cluster, then reboot, reimage, redeploy and update of VMs.
    Repair,
    /// `nodemend diagnose` (and the diagnosis `nodemend reconcile` runs afterwards).
    Diagnosis,
    /// `nodemend reconcile cluster | pool | node`.
    Reconcile,
}

impl Command {
    /// Every command, in the order reports list them.
    pub const ALL: [Command; 3] = [Command::Repair, Command::Diagnosis, Command::Reconcile];

    /// How the command is named in output.
    pub fn name(self) -> &'static str {
        match self {
            Command::Repair => "repair",
            Command::Diagnosis => "diagnosis",
            Command::Reconcile => "reconcile",
        }
    }
}

/// Where an action is needed: the scope a role assignment must cover, and where `nodemend
/// doctor` reads the permissions to check it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NeedScope {
    /// The managed cluster resource (its agent pools included).
    Cluster,
    /// The resource group that holds the cluster resource.
    ClusterResourceGroup,
    /// The node resource group (`MC_...`): scale sets and VMs.
    NodeResourceGroup,
    /// The resource group of each subnet a pool names (a pool in a virtual network AKS made
    /// names none, and no subnet is read).
    SubnetResourceGroup,
    /// The subscription: activity log, usages, the subscription and its resource providers.
    Subscription,
}

/// One action a command needs at one scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleNeed {
    /// The command.
    pub command: Command,
    /// The RBAC action (`Microsoft.Compute/virtualMachineScaleSets/restart/action`).
    pub action: String,
    /// Where it is needed.
    pub scope: NeedScope,
    /// The operations that need it, as errors and logs name them (`restart scale set VMs`).
    pub operations: Vec<&'static str>,
}

const SUB: &str = "00000000-0000-0000-0000-000000000000";
const NODE_RG: &str = "node-rg";

impl Requests {
    /// Every action each command needs, with its scope, derived from the requests the command
    /// sends (names in them are placeholders: actions do not depend on names).
    pub fn role_needs(&self) -> Vec<RoleNeed> {
        let cluster = ClusterRef {
            subscription: SUB.into(),
            resource_group: "cluster-rg".into(),
            name: "cluster".into(),
        };
        let scale_set_vm = ProviderId::ScaleSetVm {
            subscription: SUB.into(),
            resource_group: NODE_RG.into(),
            scale_set: "vmss".into(),
            instance_id: "0".into(),
        };
        let vm = ProviderId::Vm {
            subscription: SUB.into(),
            resource_group: NODE_RG.into(),
            name: "vm".into(),
        };
        let ids = ["0".to_owned()];
        let model = serde_json::Value::Null;
        let poll = |namespace: &str| {
            let mut url = self.endpoint().clone();
            url.set_path(&format!(
                "/subscriptions/{SUB}/providers/{namespace}/locations/westeurope/operations/0"
            ));
            url.set_query(Some("api-version=1"));
            self.follow("poll operation", "", url.as_str())
        };
        let group = |resource_group: &str| Scope::ResourceGroup {
            subscription: SUB.into(),
            resource_group: resource_group.into(),
        };
        let activity = ActivityQuery {
            subscription: SUB.into(),
            from: jiff::Timestamp::UNIX_EPOCH,
            to: jiff::Timestamp::UNIX_EPOCH,
            scope: ActivityScope::ResourceGroup(NODE_RG.into()),
            status: None,
        };
        let subnet = format!(
            "/subscriptions/{SUB}/resourceGroups/net-rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/s"
        );
        // The cluster read of `CloudProvider::cluster`: repair and reconcile both make it.
        let read_cluster = || {
            vec![
                (NeedScope::Cluster, self.get_cluster(&cluster)),
                (NeedScope::Cluster, self.list_pools(&cluster)),
                (
                    NeedScope::NodeResourceGroup,
                    self.list_scale_sets(SUB, NODE_RG),
                ),
            ]
        };
        let mut repair = read_cluster();
        for action in [
            VmAction::Reboot,
            VmAction::Reimage,
            VmAction::Redeploy,
            VmAction::Update,
        ] {
            repair.push((
                NeedScope::NodeResourceGroup,
                self.scale_set_action(SUB, NODE_RG, "vmss", action, &ids),
            ));
            for target in [&scale_set_vm, &vm] {
                repair.push((NeedScope::NodeResourceGroup, self.vm_action(target, action)));
            }
        }
        for target in [&scale_set_vm, &vm] {
            repair.push((NeedScope::NodeResourceGroup, self.get_vm(target)));
        }
        repair.push((NeedScope::NodeResourceGroup, poll("Microsoft.Compute")));
        let diagnosis = vec![
            (NeedScope::Cluster, self.get_cluster(&cluster)),
            (NeedScope::Cluster, self.list_pools(&cluster)),
            (
                NeedScope::NodeResourceGroup,
                self.list_scale_sets(SUB, NODE_RG),
            ),
            (
                NeedScope::NodeResourceGroup,
                self.list_scale_set_vms(SUB, NODE_RG, "vmss"),
            ),
            (
                NeedScope::ClusterResourceGroup,
                self.list_locks(&group("cluster-rg")),
            ),
            (
                NeedScope::NodeResourceGroup,
                self.list_locks(&group(NODE_RG)),
            ),
            (
                NeedScope::ClusterResourceGroup,
                self.list_policy_assignments(&group("cluster-rg")),
            ),
            (
                NeedScope::NodeResourceGroup,
                self.list_policy_assignments(&group(NODE_RG)),
            ),
            (NeedScope::SubnetResourceGroup, self.get_subnet(&subnet)),
            (NeedScope::Subscription, self.list_activity_log(&activity)),
            (
                NeedScope::Subscription,
                self.list_compute_usages(SUB, "westeurope"),
            ),
            (
                NeedScope::Subscription,
                self.list_network_usages(SUB, "westeurope"),
            ),
            (NeedScope::Subscription, self.get_subscription(SUB)),
            (
                NeedScope::Subscription,
                self.get_provider(SUB, "Microsoft.Compute"),
            ),
        ];
        let mut reconcile = read_cluster();
        reconcile.extend([
            (NeedScope::Cluster, self.put_cluster(&cluster, &model, None)),
            (NeedScope::Cluster, self.get_pool(&cluster, "pool")),
            (
                NeedScope::Cluster,
                self.put_pool(&cluster, "pool", &model, None),
            ),
            (NeedScope::Cluster, poll("Microsoft.ContainerService")),
            (
                NeedScope::NodeResourceGroup,
                self.list_scale_set_vms(SUB, NODE_RG, "vmss"),
            ),
            (NeedScope::NodeResourceGroup, self.get_vm(&scale_set_vm)),
            (NeedScope::NodeResourceGroup, self.get_vm(&vm)),
            (
                NeedScope::NodeResourceGroup,
                self.vm_action(&scale_set_vm, VmAction::Update),
            ),
            (
                NeedScope::NodeResourceGroup,
                self.vm_action(&vm, VmAction::Update),
            ),
            (NeedScope::NodeResourceGroup, poll("Microsoft.Compute")),
        ]);
        let mut needs: Vec<RoleNeed> = Vec::new();
        for (command, requests) in [
            (Command::Repair, repair),
            (Command::Diagnosis, diagnosis),
            (Command::Reconcile, reconcile),
        ] {
            for (scope, req) in requests {
                let action = req.required_action();
                let same = needs.iter_mut().find(|n| {
                    n.command == command
                        && n.scope == scope
                        && n.action.eq_ignore_ascii_case(&action)
                });
                match same {
                    Some(need) if need.operations.contains(&req.operation) => {}
                    Some(need) => need.operations.push(req.operation),
                    None => needs.push(RoleNeed {
                        command,
                        action,
                        scope,
                        operations: vec![req.operation],
                    }),
                }
            }
        }
        needs
    }
}

/// The action `method` on `path` needs (`Microsoft.Compute/virtualMachineScaleSets/restart/action`).
/// Paths without a provider are the subscription's own (`Microsoft.Resources/...`).
pub fn required_action(method: &Method, path: &str) -> String {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    // The last `providers` segment owns the rest: locks and policy assignments sit under a
    // resource group or a resource as extension resources.
    let Some(at) = segments
        .iter()
        .rposition(|s| s.eq_ignore_ascii_case("providers"))
    else {
        // `/subscriptions/{id}` and its resource groups.
        let types: Vec<&str> = segments.iter().step_by(2).copied().collect();
        return verb(&format!("Microsoft.Resources/{}", types.join("/")), method);
    };
    let (namespace, rest) = match (segments.get(at + 1), segments.get(at + 2..)) {
        (Some(namespace), Some(rest)) if !rest.is_empty() => (*namespace, rest),
        // `/subscriptions/{id}/providers[/{namespace}]`: reading resource providers.
        _ => return verb("Microsoft.Resources/subscriptions/providers", method),
    };
    let (types, action) = if *method == Method::POST && rest.len() % 2 == 1 {
        (&rest[..rest.len() - 1], rest.last().copied())
    } else {
        (rest, None)
    };
    let types: Vec<&str> = types.iter().step_by(2).copied().collect();
    let base = format!("{namespace}/{}", types.join("/"));
    match action {
        Some(action) => format!("{base}/{action}/action"),
        None => verb(&base, method),
    }
}

fn verb(base: &str, method: &Method) -> String {
    match *method {
        Method::GET | Method::HEAD => format!("{base}/read"),
        Method::DELETE => format!("{base}/delete"),
        _ => format!("{base}/write"),
    }
}

impl ArmRequest {
    /// The Azure RBAC action this request needs.
    pub fn required_action(&self) -> String {
        required_action(self.http.method(), self.http.uri().path())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use jiff::Timestamp;
    use nodemend_core::ProviderId;
    use nodemend_core::cloud::{ActivityQuery, ActivityScope, ClusterRef, Scope, VmAction};

    use super::super::testing::requests;
    use super::*;

    const SUB: &str = "s";
    const NODE_RG: &str = "MC_rg_aks_westus";

    fn cluster() -> ClusterRef {
        ClusterRef {
            subscription: SUB.into(),
            resource_group: "rg".into(),
            name: "aks".into(),
        }
    }

    fn vmss_vm() -> ProviderId {
        format!("azure:///subscriptions/{SUB}/resourceGroups/{NODE_RG}/providers/Microsoft.Compute/virtualMachineScaleSets/aks-np-vmss/virtualMachines/3")
            .parse()
            .expect("provider ID")
    }

    fn vm() -> ProviderId {
        format!("azure:///subscriptions/{SUB}/resourceGroups/{NODE_RG}/providers/Microsoft.Compute/virtualMachines/aks-np-vm0")
            .parse()
            .expect("provider ID")
    }

    const ACTIONS: [VmAction; 4] = [
        VmAction::Reboot,
        VmAction::Reimage,
        VmAction::Redeploy,
        VmAction::Update,
    ];

    /// Every request builder of [`super::super::Requests`], by name, with the requests it builds.
    fn every_request() -> Vec<(&'static str, ArmRequest)> {
        let r = requests();
        let c = cluster();
        let model = serde_json::json!({});
        let ids = ["3".to_owned()];
        let rg_scope = Scope::ResourceGroup {
            subscription: SUB.into(),
            resource_group: NODE_RG.into(),
        };
        let query = ActivityQuery {
            subscription: SUB.into(),
            from: Timestamp::UNIX_EPOCH,
            to: Timestamp::UNIX_EPOCH,
            scope: ActivityScope::ResourceGroup(NODE_RG.into()),
            status: None,
        };
        let mut all = vec![
            ("get_cluster", r.get_cluster(&c)),
            ("list_clusters", r.list_clusters(SUB, "rg")),
            ("get_pool", r.get_pool(&c, "np")),
            ("list_pools", r.list_pools(&c)),
            ("put_cluster", r.put_cluster(&c, &model, Some("e"))),
            ("put_pool", r.put_pool(&c, "np", &model, None)),
            ("get_scale_set", r.get_scale_set(SUB, NODE_RG, "aks-np-vmss")),
            ("list_scale_sets", r.list_scale_sets(SUB, NODE_RG)),
            (
                "list_scale_set_vms",
                r.list_scale_set_vms(SUB, NODE_RG, "aks-np-vmss"),
            ),
            ("get_vm", r.get_vm(&vmss_vm())),
            ("get_vm", r.get_vm(&vm())),
            ("get_instance_view", r.get_instance_view(&vmss_vm())),
            ("get_instance_view", r.get_instance_view(&vm())),
            ("list_activity_log", r.list_activity_log(&query)),
            ("list_compute_usages", r.list_compute_usages(SUB, "westus")),
            ("list_network_usages", r.list_network_usages(SUB, "westus")),
            ("list_locks", r.list_locks(&rg_scope)),
            ("list_locks", r.list_locks(&Scope::Subscription(SUB.into()))),
            ("list_policy_assignments", r.list_policy_assignments(&rg_scope)),
            (
                "get_subnet",
                r.get_subnet(&format!("/subscriptions/{SUB}/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/v/subnets/sn")),
            ),
            ("get_subscription", r.get_subscription(SUB)),
            (
                "list_permissions",
                r.list_permissions(&format!("/subscriptions/{SUB}/resourceGroups/{NODE_RG}")),
            ),
            (
                "get_provider",
                r.get_provider(SUB, "Microsoft.ContainerService"),
            ),
        ];
        for action in ACTIONS {
            all.push(("vm_action", r.vm_action(&vmss_vm(), action)));
            all.push(("vm_action", r.vm_action(&vm(), action)));
            all.push((
                "scale_set_action",
                r.scale_set_action(SUB, NODE_RG, "aks-np-vmss", action, &ids),
            ));
        }
        // Long-running operations are followed on the status URL ARM hands out.
        for ns in ["Microsoft.Compute", "Microsoft.ContainerService"] {
            let url = format!(
                "https://management.azure.com/subscriptions/{SUB}/providers/{ns}/locations/westus/operations/op1?api-version=1"
            );
            all.push(("follow", r.follow("poll", "x", &url)));
        }
        all
    }

    /// The names of the public builders in `src/requests/*.rs`, read from the source, so a new
    /// builder cannot be added without a row in [`every_request`].
    fn builders_in_source() -> BTreeSet<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/requests");
        let mut names = BTreeSet::new();
        for file in ["mod.rs", "access.rs", "aks.rs", "compute.rs", "diag.rs"] {
            let text = std::fs::read_to_string(dir.join(file)).expect("read source");
            let mut signature = String::new();
            for line in text.lines() {
                let line = line.trim();
                if line.starts_with("pub fn ") {
                    signature.clear();
                }
                if line.starts_with("pub fn ") || !signature.is_empty() {
                    signature.push_str(line);
                    if line.ends_with('{') {
                        if signature.contains("-> ArmRequest")
                            && let Some(name) = signature
                                .strip_prefix("pub fn ")
                                .and_then(|s| s.split(['(', '<']).next())
                        {
                            names.insert(name.to_owned());
                        }
                        signature.clear();
                    }
                }
            }
        }
        names
    }

    fn role_actions() -> BTreeSet<String> {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/azure-role.json");
        let text = std::fs::read_to_string(&path).expect("read deploy/azure-role.json");
        let role: serde_json::Value = serde_json::from_str(&text).expect("role JSON");
        role["Actions"]
            .as_array()
            .expect("Actions")
            .iter()
            .map(|a| a.as_str().expect("action").to_ascii_lowercase())
            .collect()
    }

    #[test]
    fn every_builder_is_listed() {
        let listed: BTreeSet<String> = every_request()
            .iter()
            .map(|(name, _)| (*name).to_owned())
            .collect();
        assert_eq!(listed, builders_in_source());
    }

    #[test]
    fn the_custom_role_grants_exactly_the_actions_the_requests_need() {
        let granted = role_actions();
        let mut needed = BTreeSet::new();
        let mut missing = Vec::new();
        for (name, req) in every_request() {
            let action = req.required_action();
            if UNGATED_ACTIONS
                .iter()
                .any(|a| a.eq_ignore_ascii_case(&action))
            {
                continue;
            }
            if !granted.contains(&action.to_ascii_lowercase()) {
                missing.push(format!("{name} ({}): {action}", req.operation));
            }
            needed.insert(action.to_ascii_lowercase());
        }
        let unused: Vec<_> = granted.difference(&needed).collect();
        assert!(
            missing.is_empty() && unused.is_empty(),
            "deploy/azure-role.json lacks {missing:#?}\nand grants unused {unused:#?}"
        );
    }

    #[test]
    fn every_command_need_is_granted_by_the_custom_role() {
        let granted = role_actions();
        let needs = requests().role_needs();
        let missing: Vec<String> = needs
            .iter()
            .filter(|n| !granted.contains(&n.action.to_ascii_lowercase()))
            .map(|n| format!("{} needs {}", n.command.name(), n.action))
            .collect();
        assert!(missing.is_empty(), "{missing:#?}");
        for command in Command::ALL {
            assert!(needs.iter().any(|n| n.command == command), "{command:?}");
        }
    }

    #[test]
    fn needs_are_grouped_by_command_and_scope() {
        let needs = requests().role_needs();
        let find = |command: Command, action: &str| {
            needs
                .iter()
                .find(|n| n.command == command && n.action == action)
                .unwrap_or_else(|| panic!("{command:?} does not need {action}"))
        };
        let restart = find(
            Command::Repair,
            "Microsoft.Compute/virtualMachineScaleSets/restart/action",
        );
        assert_eq!(restart.scope, NeedScope::NodeResourceGroup);
        assert_eq!(restart.operations, ["restart scale set VMs"]);
        let activity = find(
            Command::Diagnosis,
            "Microsoft.Insights/eventtypes/values/read",
        );
        assert_eq!(activity.scope, NeedScope::Subscription);
        let put = find(
            Command::Reconcile,
            "Microsoft.ContainerService/managedClusters/agentPools/write",
        );
        assert_eq!(put.scope, NeedScope::Cluster);
        assert_eq!(
            find(
                Command::Diagnosis,
                "Microsoft.Network/virtualNetworks/subnets/read"
            )
            .scope,
            NeedScope::SubnetResourceGroup
        );
        // Diagnosis never acts, and repair never writes the cluster.
        assert!(
            needs
                .iter()
                .filter(|n| n.command == Command::Diagnosis)
                .all(|n| n.action.ends_with("/read"))
        );
        assert!(!needs.iter().any(|n| n.command == Command::Repair
            && n.action.starts_with("Microsoft.ContainerService/")
            && !n.action.ends_with("/read")));
        // One row per command, action and scope.
        for (i, a) in needs.iter().enumerate() {
            assert!(
                !needs[i + 1..]
                    .iter()
                    .any(|b| (a.command, a.scope, &a.action) == (b.command, b.scope, &b.action)),
                "{a:?} twice"
            );
        }
    }

    #[test]
    fn actions_follow_arms_naming() {
        let get = |p: &str| required_action(&Method::GET, p);
        let post = |p: &str| required_action(&Method::POST, p);
        let vmss = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/v";
        assert_eq!(
            post(&format!("{vmss}/virtualMachines/3/restart")),
            "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/restart/action"
        );
        assert_eq!(
            post(&format!("{vmss}/manualupgrade")),
            "Microsoft.Compute/virtualMachineScaleSets/manualupgrade/action"
        );
        assert_eq!(
            get(&format!("{vmss}/virtualMachines")),
            "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read"
        );
        assert_eq!(
            get("/subscriptions/s/providers/Microsoft.Insights/eventtypes/management/values"),
            "Microsoft.Insights/eventtypes/values/read"
        );
        assert_eq!(
            get("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Authorization/locks"),
            "Microsoft.Authorization/locks/read"
        );
        assert_eq!(
            get("/subscriptions/s"),
            "Microsoft.Resources/subscriptions/read"
        );
        assert_eq!(
            get("/subscriptions/s/providers/Microsoft.ContainerService"),
            "Microsoft.Resources/subscriptions/providers/read"
        );
        assert_eq!(
            required_action(
                &Method::PUT,
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c/agentPools/np"
            ),
            "Microsoft.ContainerService/managedClusters/agentPools/write"
        );
    }
}
