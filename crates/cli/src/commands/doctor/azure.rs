//! The Azure half of `nodemend doctor`: reads the cluster (for its node resource group and the
//! subnets of its pools), asks ARM what the signed-in identity may do at each scope the
//! commands act on (`Microsoft.Authorization/permissions`), and checks every row of
//! [`Requests::role_needs`](nodemend_azure::requests::Requests::role_needs) against it.

use std::collections::BTreeMap;

use anyhow::Context as _;
use nodemend_azure::requests::{Command, NeedScope, RoleNeed};
use nodemend_azure::{Access, AzureProvider, parse};
use nodemend_core::cloud::{CloudError, CloudErrorKind, ClusterRef};
use nodemend_core::model::Cluster;

/// The scopes the commands act on, as far as they are known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Places {
    /// `/subscriptions/{s}`.
    pub(super) subscription: String,
    /// The managed cluster's resource ID.
    pub(super) cluster: String,
    /// The resource group holding the cluster.
    pub(super) cluster_group: String,
    /// The node resource group; unknown when the cluster could not be read.
    pub(super) node_group: Option<String>,
    /// Resource groups of the subnets the pools name (empty when none does: AKS made the
    /// network, and diagnosis reads no subnet).
    pub(super) subnet_groups: Vec<String>,
}

impl Places {
    fn new(target: &ClusterRef, cluster: Option<&Cluster>) -> Self {
        let subscription = format!("/subscriptions/{}", target.subscription);
        let group = |rg: &str| format!("{subscription}/resourceGroups/{rg}");
        let mut subnet_groups: Vec<String> = cluster
            .into_iter()
            .flat_map(|c| &c.pools)
            .filter_map(|p| p.subnet_id.as_deref())
            .filter_map(resource_group_of)
            .collect();
        subnet_groups.sort_by_key(|g| g.to_ascii_lowercase());
        subnet_groups.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        Self {
            cluster: nodemend_azure::requests::cluster_id(target),
            cluster_group: group(&target.resource_group),
            node_group: cluster
                .filter(|c| !c.node_resource_group.is_empty())
                .map(|c| group(&c.node_resource_group)),
            subnet_groups,
            subscription,
        }
    }

    /// Every scope whose permissions are read.
    fn to_read(&self) -> Vec<String> {
        let mut scopes = vec![self.cluster.clone(), self.cluster_group.clone()];
        scopes.extend(self.node_group.clone());
        scopes.extend(self.subnet_groups.iter().cloned());
        scopes.sort_by_key(|s| s.to_ascii_lowercase());
        scopes.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        scopes
    }

    /// Where a need applies, and where its permissions are read (the same, except for
    /// subscription-wide actions, which are read on the cluster's resource group). `None`:
    /// not known.
    fn targets(&self, scope: NeedScope) -> Option<Vec<(String, String)>> {
        let same = |s: &String| (s.clone(), s.clone());
        match scope {
            NeedScope::Cluster => Some(vec![same(&self.cluster)]),
            NeedScope::ClusterResourceGroup => Some(vec![same(&self.cluster_group)]),
            NeedScope::NodeResourceGroup => self.node_group.as_ref().map(|g| vec![same(g)]),
            // Known once the cluster is; none when no pool names a subnet of its own.
            NeedScope::SubnetResourceGroup => self
                .node_group
                .as_ref()
                .map(|_| self.subnet_groups.iter().map(same).collect()),
            NeedScope::Subscription => Some(vec![(
                self.subscription.clone(),
                self.cluster_group.clone(),
            )]),
        }
    }
}

/// `/subscriptions/{s}/resourceGroups/{rg}` of a resource ID.
fn resource_group_of(id: &str) -> Option<String> {
    let parts: Vec<&str> = id.split('/').collect();
    let at = parts
        .iter()
        .position(|p| p.eq_ignore_ascii_case("resourceGroups"))?;
    let rg = parts.get(at + 1).filter(|rg| !rg.is_empty())?;
    Some(format!("{}/resourceGroups/{rg}", parts[..at].join("/")))
}

/// One need, as checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Checked {
    /// The need.
    pub(super) need: RoleNeed,
    /// The scopes where it is needed and not granted.
    pub(super) missing: Vec<String>,
    /// Why it could not be checked, when it could not.
    pub(super) unchecked: Option<String>,
}

/// The identity's permissions at each scope read (keyed lower-cased), or why they could not be
/// read.
pub(super) type Permissions = BTreeMap<String, Result<Access, String>>;

/// Checks every need against the permissions read.
pub(super) fn evaluate(needs: Vec<RoleNeed>, places: &Places, read: &Permissions) -> Vec<Checked> {
    needs
        .into_iter()
        .map(|need| {
            let Some(targets) = places.targets(need.scope) else {
                return Checked {
                    need,
                    missing: Vec::new(),
                    unchecked: Some(
                        "the node resource group is not known: the cluster could not be read"
                            .into(),
                    ),
                };
            };
            let mut missing = Vec::new();
            let mut unchecked = None;
            for (scope, read_at) in targets {
                match read.get(&read_at.to_ascii_lowercase()) {
                    Some(Ok(access)) if access.allows(&need.action) => {}
                    Some(Ok(_)) => missing.push(scope),
                    Some(Err(why)) => unchecked = Some(why.clone()),
                    None => unchecked = Some(format!("the permissions at {read_at} were not read")),
                }
            }
            Checked {
                need,
                missing,
                unchecked,
            }
        })
        .collect()
}

/// What the Azure check found.
#[derive(Debug)]
pub(super) struct AzureReport {
    /// The scopes.
    pub(super) places: Places,
    /// Why the cluster could not be read, when it could not.
    pub(super) cluster_unread: Option<String>,
    /// Every need, checked.
    pub(super) checks: Vec<Checked>,
}

/// Reads the cluster and the identity's permissions, and checks every need.
pub(super) async fn check(
    provider: &AzureProvider,
    target: &ClusterRef,
) -> anyhow::Result<AzureReport> {
    let exec = provider.executor();
    let read = exec
        .get(exec.requests().get_cluster(target), |b| {
            parse::cluster(target, b)
        })
        .await
        .map_err(CloudError::from);
    let (cluster, cluster_unread) = match read {
        Ok(cluster) => (Some(cluster), None),
        // Without the right to read the cluster, the check still shows that right missing.
        Err(err) if err.kind == CloudErrorKind::Forbidden => (None, Some(err.to_string())),
        Err(err) => {
            return Err(err).with_context(|| format!("cannot read cluster {}", target.name));
        }
    };
    let places = Places::new(target, cluster.as_ref());
    let reads = places.to_read();
    let answers = futures::future::join_all(reads.iter().map(|s| provider.permissions(s))).await;
    let mut permissions = Permissions::new();
    for (scope, answer) in reads.into_iter().zip(answers) {
        let answer = answer.map_err(|e| {
            format!(
                "the permissions at {scope} could not be read: {}",
                CloudError::from(e)
            )
        });
        permissions.insert(scope.to_ascii_lowercase(), answer);
    }
    let needs = exec.requests().role_needs();
    Ok(AzureReport {
        checks: evaluate(needs, &places, &permissions),
        places,
        cluster_unread,
    })
}

/// The report: the scopes, one line per command, then one per missing action with where it
/// is needed and which operations need it. The flag is true when nothing is missing.
pub(super) fn render(report: &AzureReport) -> (String, bool) {
    let places = &report.places;
    let mut text =
        String::from("Azure (Microsoft.Authorization/permissions of the signed-in identity):\n");
    text.push_str(&format!("  cluster               {}\n", places.cluster));
    text.push_str(&format!(
        "  node resource group   {}\n",
        places.node_group.as_deref().unwrap_or("unknown")
    ));
    if !places.subnet_groups.is_empty() {
        text.push_str(&format!(
            "  subnets in            {}\n",
            places.subnet_groups.join(", ")
        ));
    }
    if let Some(why) = &report.cluster_unread {
        text.push_str(&format!("  the cluster could not be read: {why}\n"));
    }
    let mut complete = true;
    let mut subscription_wide = false;
    for command in Command::ALL {
        let rows: Vec<&Checked> = report
            .checks
            .iter()
            .filter(|c| {
                c.need.command == command && (!c.missing.is_empty() || c.unchecked.is_some())
            })
            .collect();
        if rows.is_empty() {
            text.push_str(&format!("  ok       {}\n", command.name()));
            continue;
        }
        complete = false;
        text.push_str(&format!("  MISSING  {}\n", command.name()));
        for row in rows {
            let used_by = row.need.operations.join(", ");
            for scope in &row.missing {
                subscription_wide |= row.need.scope == NeedScope::Subscription;
                text.push_str(&format!(
                    "           {} on {scope} (used by {used_by})\n",
                    row.need.action
                ));
            }
            if let Some(why) = &row.unchecked {
                text.push_str(&format!(
                    "           {} not checked: {why} (used by {used_by})\n",
                    row.need.action
                ));
            }
        }
    }
    if subscription_wide {
        text.push_str(&format!(
            "  Subscription-wide actions are read on {}, which inherits the subscription's role assignments: assign the role at {} for them.\n",
            places.cluster_group, places.subscription
        ));
    }
    (text, complete)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nodemend_azure::Permission;
    use nodemend_azure::requests::Requests;

    fn places() -> Places {
        Places {
            subscription: "/subscriptions/s".into(),
            cluster: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks".into(),
            cluster_group: "/subscriptions/s/resourceGroups/rg".into(),
            node_group: Some("/subscriptions/s/resourceGroups/MC_rg".into()),
            subnet_groups: Vec::new(),
        }
    }

    fn needs() -> Vec<RoleNeed> {
        Requests::new(
            "https://management.azure.com".parse().unwrap(),
            nodemend_azure::ApiVersions::default(),
        )
        .role_needs()
    }

    fn granting(actions: &[&str]) -> Result<Access, String> {
        Ok(Access {
            scope: String::new(),
            permissions: vec![Permission {
                actions: actions.iter().map(|a| (*a).to_owned()).collect(),
                ..Permission::default()
            }],
        })
    }

    fn everywhere(p: &Places, access: &Result<Access, String>) -> Permissions {
        p.to_read()
            .into_iter()
            .map(|s| (s.to_ascii_lowercase(), access.clone()))
            .collect()
    }

    fn report(checks: Vec<Checked>) -> AzureReport {
        AzureReport {
            places: places(),
            cluster_unread: None,
            checks,
        }
    }

    #[test]
    fn owner_everywhere_is_complete() {
        let p = places();
        let (text, complete) = render(&report(evaluate(
            needs(),
            &p,
            &everywhere(&p, &granting(&["*"])),
        )));
        assert!(complete, "{text}");
        assert!(
            text.contains("  ok       repair\n  ok       diagnosis\n  ok       reconcile\n"),
            "{text}"
        );
    }

    #[test]
    fn reader_lacks_repair_and_reconcile_but_not_diagnosis() {
        let p = places();
        let checks = evaluate(needs(), &p, &everywhere(&p, &granting(&["*/read"])));
        let (text, complete) = render(&report(checks));
        assert!(!complete);
        assert!(text.contains("  MISSING  repair\n"), "{text}");
        assert!(text.contains("  ok       diagnosis\n"), "{text}");
        assert!(text.contains(
            "Microsoft.Compute/virtualMachineScaleSets/restart/action on /subscriptions/s/resourceGroups/MC_rg (used by restart scale set VMs)"
        ), "{text}");
        assert!(text.contains(
            "Microsoft.ContainerService/managedClusters/write on /subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks (used by reconcile managed cluster)"
        ), "{text}");
    }

    #[test]
    fn a_role_on_the_node_group_only_misses_the_subscription_reads() {
        let p = places();
        let mut read = everywhere(&p, &granting(&[]));
        read.insert(
            p.node_group.clone().unwrap().to_ascii_lowercase(),
            granting(&["*"]),
        );
        read.insert(
            p.cluster.to_ascii_lowercase(),
            granting(&["Microsoft.ContainerService/*"]),
        );
        let (text, _) = render(&report(evaluate(needs(), &p, &read)));
        assert!(text.contains("  ok       repair\n"), "{text}");
        assert!(text.contains(
            "Microsoft.Insights/eventtypes/values/read on /subscriptions/s (used by list activity log)"
        ), "{text}");
        assert!(
            text.contains(
                "Subscription-wide actions are read on /subscriptions/s/resourceGroups/rg"
            ),
            "{text}"
        );
        assert!(text.contains("Microsoft.Authorization/locks/read on /subscriptions/s/resourceGroups/rg (used by list locks)"), "{text}");
    }

    #[test]
    fn an_unknown_node_group_is_not_checked_and_not_complete() {
        let mut p = places();
        p.node_group = None;
        let checks = evaluate(needs(), &p, &everywhere(&p, &granting(&["*"])));
        let (text, complete) = render(&AzureReport {
            places: p,
            cluster_unread: Some("AuthorizationFailed".into()),
            checks,
        });
        assert!(!complete);
        assert!(text.contains("node resource group   unknown"), "{text}");
        assert!(
            text.contains("not checked: the node resource group is not known"),
            "{text}"
        );
    }

    #[test]
    fn subnets_in_their_own_groups_are_checked_there() {
        let mut p = places();
        p.subnet_groups = vec!["/subscriptions/s/resourceGroups/net".into()];
        let mut read = everywhere(&p, &granting(&["*"]));
        read.insert(
            "/subscriptions/s/resourceGroups/net".to_ascii_lowercase(),
            granting(&[]),
        );
        let (text, _) = render(&report(evaluate(needs(), &p, &read)));
        assert!(text.contains(
            "Microsoft.Network/virtualNetworks/subnets/read on /subscriptions/s/resourceGroups/net (used by get subnet)"
        ), "{text}");
        assert!(text.contains("  ok       repair\n"), "{text}");
    }

    #[test]
    fn resource_groups_of_subnet_ids() {
        assert_eq!(
            resource_group_of("/subscriptions/s/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/v/subnets/a").as_deref(),
            Some("/subscriptions/s/resourceGroups/net")
        );
        assert_eq!(resource_group_of("/subscriptions/s"), None);
    }
}
