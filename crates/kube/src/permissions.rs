//! Every Kubernetes permission the controller needs, each with the function that needs it.
//!
//! This table is the single source for three things: the RBAC rules in `deploy/base` (a test
//! fails when a rule there is not in this table, or a row here has no rule), `nodemend doctor`
//! (one `SelfSubjectAccessReview` per verb) and the install documentation. Add a row here when
//! the adapter starts calling a new API, or the manifests stop granting enough.

/// Where a permission applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every namespace, or a cluster-scoped resource: a `ClusterRole`.
    Cluster,
    /// One fixed namespace: a `Role` there.
    Namespace(&'static str),
    /// The namespace of the controller's own leader Lease (`--lease-namespace`, the pod's
    /// namespace in a cluster): a `Role` there.
    Own,
}

/// What a permission is needed for, so a missing one can be reported by its consequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Need {
    /// Seeing nodes and their leases: nothing works without it.
    Observe,
    /// Repairing: cordon, drain and the NodeRepair records that make repairs crash-safe.
    Repair,
    /// Kubernetes events on nodes (alerts keyed on AKS's event reasons).
    Events,
    /// Leader election between replicas (not needed with `--no-leader-election`).
    LeaderElection,
    /// The event archive: reading every event of the cluster (not needed with `--no-archive`).
    Archive,
}

impl Need {
    /// How the need is named in output.
    pub fn name(self) -> &'static str {
        match self {
            Need::Observe => "observe",
            Need::Repair => "repair",
            Need::Events => "events",
            Need::LeaderElection => "leader election",
            Need::Archive => "event archive",
        }
    }
}

/// One RBAC rule's worth of access: verbs on one resource in one scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permission {
    /// API group (`""` for core).
    pub group: &'static str,
    /// Resource, with a subresource after `/` (`pods/eviction`), as RBAC rules spell it.
    pub resource: &'static str,
    /// Verbs.
    pub verbs: &'static [&'static str],
    /// Where it applies.
    pub scope: Scope,
    /// The only object the verbs apply to, when RBAC can restrict them by name.
    pub resource_name: Option<&'static str>,
    /// The function of this crate that calls the API.
    pub caller: &'static str,
    /// What breaks without it.
    pub need: Need,
}

/// Name of the leader-election Lease.
pub const LEADER_LEASE: &str = "nodemend";

/// Every permission the controller needs, one row per calling function and resource.
pub const REQUIRED: &[Permission] = &[
    Permission {
        group: "",
        resource: "nodes",
        verbs: &["list", "watch"],
        scope: Scope::Cluster,
        resource_name: None,
        caller: "watch::watch_nodes",
        need: Need::Observe,
    },
    Permission {
        group: "coordination.k8s.io",
        resource: "leases",
        verbs: &["list", "watch"],
        scope: Scope::Namespace(crate::watch::NODE_LEASE_NAMESPACE),
        resource_name: None,
        caller: "watch::watch_leases",
        need: Need::Observe,
    },
    Permission {
        group: "",
        resource: "nodes",
        verbs: &["patch"],
        scope: Scope::Cluster,
        resource_name: None,
        caller: "cordon::set_unschedulable",
        need: Need::Repair,
    },
    Permission {
        group: "",
        resource: "pods",
        verbs: &["list"],
        scope: Scope::Cluster,
        resource_name: None,
        caller: "drain::drain_round",
        need: Need::Repair,
    },
    Permission {
        group: "",
        resource: "pods/eviction",
        verbs: &["create"],
        scope: Scope::Cluster,
        resource_name: None,
        caller: "drain::drain_round",
        need: Need::Repair,
    },
    Permission {
        group: "nodemend.io",
        resource: "noderepairs",
        verbs: &["list", "create"],
        scope: Scope::Cluster,
        resource_name: None,
        caller: "records::RepairRecords::list, records::RepairRecords::create",
        need: Need::Repair,
    },
    Permission {
        group: "nodemend.io",
        resource: "noderepairs/status",
        verbs: &["patch"],
        scope: Scope::Cluster,
        resource_name: None,
        caller: "records::RepairRecords::update",
        need: Need::Repair,
    },
    Permission {
        group: "",
        resource: "events",
        verbs: &["list", "watch"],
        scope: Scope::Cluster,
        resource_name: None,
        caller: "event_watch::watch_core_events",
        need: Need::Archive,
    },
    Permission {
        group: "events.k8s.io",
        resource: "events",
        verbs: &["list", "watch"],
        scope: Scope::Cluster,
        resource_name: None,
        caller: "event_watch::watch_events_v1",
        need: Need::Archive,
    },
    Permission {
        group: "",
        resource: "events",
        verbs: &["create", "patch"],
        scope: Scope::Namespace(crate::events::EVENT_NAMESPACE),
        resource_name: None,
        caller: "events::EventRecorder::record",
        need: Need::Events,
    },
    Permission {
        group: "coordination.k8s.io",
        resource: "leases",
        verbs: &["get", "update"],
        scope: Scope::Own,
        resource_name: Some(LEADER_LEASE),
        caller: "leader::Election::try_acquire_or_renew, leader::Election::release",
        need: Need::LeaderElection,
    },
    // RBAC cannot restrict `create` by name: the name is not known before the object exists.
    Permission {
        group: "coordination.k8s.io",
        resource: "leases",
        verbs: &["create"],
        scope: Scope::Own,
        resource_name: None,
        caller: "leader::Election::try_acquire_or_renew",
        need: Need::LeaderElection,
    },
];

impl Permission {
    /// The resource without its subresource.
    pub fn base_resource(&self) -> &'static str {
        self.resource
            .split_once('/')
            .map_or(self.resource, |(base, _)| base)
    }

    /// The subresource, if any.
    pub fn subresource(&self) -> Option<&'static str> {
        self.resource.split_once('/').map(|(_, sub)| sub)
    }
}

/// The answer to one `SelfSubjectAccessReview`.
#[derive(Debug, Clone)]
pub struct Review {
    /// The permission asked about.
    pub permission: &'static Permission,
    /// The verb asked about.
    pub verb: &'static str,
    /// The namespace asked about (`None` for cluster scope).
    pub namespace: Option<String>,
    /// Whether the API server allows it.
    pub allowed: bool,
    /// Why not, when the authorizer says.
    pub reason: Option<String>,
}

impl Review {
    /// `patch nodes`, `create pods/eviction`, `get leases nodemend in namespace nodemend`.
    pub fn describe(&self) -> String {
        let p = self.permission;
        let group = if p.group.is_empty() {
            String::new()
        } else {
            format!(".{}", p.group)
        };
        let name = p.resource_name.map(|n| format!(" {n}")).unwrap_or_default();
        let place = match &self.namespace {
            Some(ns) => format!(" in namespace {ns}"),
            None => " (cluster-wide)".to_owned(),
        };
        format!("{} {}{group}{name}{place}", self.verb, p.resource)
    }
}

/// Asks the API server, as the client's own identity, about every verb of every row of
/// [`REQUIRED`]; `own_namespace` is the leader Lease's namespace.
pub async fn review(client: &kube::Client, own_namespace: &str) -> crate::Result<Vec<Review>> {
    use k8s_openapi::api::authorization::v1::{
        ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
    };
    let api: kube::Api<SelfSubjectAccessReview> = kube::Api::all(client.clone());
    let mut reviews = Vec::new();
    for permission in REQUIRED {
        let namespace = match permission.scope {
            Scope::Cluster => None,
            Scope::Namespace(ns) => Some(ns.to_owned()),
            Scope::Own => Some(own_namespace.to_owned()),
        };
        for verb in permission.verbs {
            let ask = SelfSubjectAccessReview {
                spec: SelfSubjectAccessReviewSpec {
                    resource_attributes: Some(ResourceAttributes {
                        group: Some(permission.group.to_owned()),
                        resource: Some(permission.base_resource().to_owned()),
                        subresource: permission.subresource().map(str::to_owned),
                        verb: Some((*verb).to_owned()),
                        namespace: namespace.clone(),
                        name: permission.resource_name.map(str::to_owned),
                        ..ResourceAttributes::default()
                    }),
                    ..SelfSubjectAccessReviewSpec::default()
                },
                ..SelfSubjectAccessReview::default()
            };
            let answer = api
                .create(&kube::api::PostParams::default(), &ask)
                .await
                .map_err(|source| crate::Error::AccessReview {
                    verb: (*verb).to_owned(),
                    resource: permission.resource.to_owned(),
                    source,
                })?;
            let status = answer.status.unwrap_or_default();
            reviews.push(Review {
                permission,
                verb,
                namespace: namespace.clone(),
                allowed: status.allowed,
                reason: status.reason.filter(|r| !r.is_empty()),
            });
        }
    }
    Ok(reviews)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subresources_split_off() {
        let eviction = REQUIRED
            .iter()
            .find(|p| p.resource == "pods/eviction")
            .expect("eviction row");
        assert_eq!(
            (eviction.base_resource(), eviction.subresource()),
            ("pods", Some("eviction"))
        );
    }

    #[test]
    fn every_row_names_a_caller_and_verbs() {
        for p in REQUIRED {
            assert!(!p.verbs.is_empty() && !p.caller.is_empty(), "{p:?}");
        }
    }
}
