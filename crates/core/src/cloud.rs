//! The cloud a cluster runs on, as the controller and diagnosis need it: one trait,
//! [`CloudProvider`], that an adapter implements (Azure Resource Manager in `nodemend-azure`;
//! a Cluster API or webhook provider would fit the same shape).
//!
//! The trait speaks the core model ([`VmInstance`], [`Cluster`]) and a cloud-neutral error,
//! [`CloudError`], that keeps the provider's own error code as a typed field: the catalog is
//! looked up from it and a failed repair's event quotes it. Methods return futures without
//! naming a runtime, so core stays free of tokio and IO. The diagnosis reads have default
//! bodies that answer [`CloudErrorKind::Unsupported`], so a provider that only repairs needs
//! to implement the first six methods.

mod error;
mod facts;

use std::future::Future;

pub use error::{CloudError, CloudErrorKind};
pub use facts::{
    ActivityQuery, ActivityRecord, ActivityScope, Lock, PolicyAssignment, ProviderRegistration,
    QuotaUsage, Scope, Subnet, SubscriptionInfo,
};

use crate::ProviderId;
use crate::model::{Cluster, VmInstance};

/// A cluster, named the way its cloud names it; what every cluster-level call starts from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ClusterRef {
    /// Subscription (or account) holding the cluster.
    pub subscription: String,
    /// Resource group holding the cluster resource.
    pub resource_group: String,
    /// Cluster name.
    pub name: String,
}

/// An action on one VM: the repair escalation's three steps, and the update that brings a VM
/// back to its model (which is how a VM stuck in a failed state is reconciled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VmAction {
    /// Restart the VM (the guest OS reboots; disks are kept).
    Reboot,
    /// Rebuild the OS disk from the image.
    Reimage,
    /// Move the VM to another host and start it there.
    Redeploy,
    /// Re-apply the VM's model (VMSS "update instances", `az vm update` for other VMs).
    Update,
}

impl VmAction {
    /// The verb used in events, e.g. `Node auto-repair reboot action failed ...`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reboot => "reboot",
            Self::Reimage => "reimage",
            Self::Redeploy => "redeploy",
            Self::Update => "update",
        }
    }
}

impl std::fmt::Display for VmAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<crate::policy::Action> for VmAction {
    fn from(action: crate::policy::Action) -> Self {
        match action {
            crate::policy::Action::Reboot => Self::Reboot,
            crate::policy::Action::Reimage => Self::Reimage,
            crate::policy::Action::Redeploy => Self::Redeploy,
        }
    }
}

/// What a reconcile re-applies: the whole cluster or one of its pools.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ReconcileTarget {
    /// The cluster resource (which also reconciles every pool).
    Cluster(ClusterRef),
    /// One agent pool of the cluster.
    Pool {
        /// The cluster.
        cluster: ClusterRef,
        /// Pool name.
        pool: String,
    },
}

/// The result of one VM within [`CloudProvider::act_many`].
pub type BatchOutcome = (ProviderId, Result<(), CloudError>);

/// A cloud that hosts the cluster's VMs. See the module documentation.
pub trait CloudProvider: Send + Sync {
    /// The VM behind a provider ID, with its provisioning and power state and statuses.
    fn instance(
        &self,
        id: &ProviderId,
    ) -> impl Future<Output = Result<VmInstance, CloudError>> + Send;

    /// Runs `action` on one VM and waits until the cloud reports it finished.
    fn act(
        &self,
        action: VmAction,
        id: &ProviderId,
    ) -> impl Future<Output = Result<(), CloudError>> + Send;

    /// Runs `action` on several VMs; a provider may group them into fewer calls. The result has
    /// one entry per VM, in the order given. By default the VMs are acted on one by one.
    fn act_many(
        &self,
        action: VmAction,
        ids: &[ProviderId],
    ) -> impl Future<Output = Vec<BatchOutcome>> + Send {
        async move {
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                out.push((id.clone(), self.act(action, id).await));
            }
            out
        }
    }

    /// The cluster with its pools (the cluster's own state, not its VMs).
    fn cluster(
        &self,
        cluster: &ClusterRef,
    ) -> impl Future<Output = Result<Cluster, CloudError>> + Send;

    /// The VMs of one pool of `cluster` (as returned by [`CloudProvider::cluster`]).
    fn pool_instances(
        &self,
        cluster: &Cluster,
        pool: &str,
    ) -> impl Future<Output = Result<Vec<VmInstance>, CloudError>> + Send;

    /// Re-applies the current model of a cluster or pool, which brings a resource in a failed
    /// state back to its desired state when the cause is gone. Waits until it finishes.
    fn reconcile(
        &self,
        target: &ReconcileTarget,
    ) -> impl Future<Output = Result<(), CloudError>> + Send;

    /// Records of control-plane operations (who did what, and how it ended).
    fn activity_log(
        &self,
        query: &ActivityQuery,
    ) -> impl Future<Output = Result<Vec<ActivityRecord>, CloudError>> + Send {
        std::future::ready(Err(CloudError::unsupported(
            "list activity log",
            &query.subscription,
        )))
    }

    /// Quotas and their use in one location (cores, VM families, public IPs...).
    fn quotas(
        &self,
        subscription: &str,
        location: &str,
    ) -> impl Future<Output = Result<Vec<QuotaUsage>, CloudError>> + Send {
        std::future::ready(Err(CloudError::unsupported(
            "list quotas",
            &format!("{subscription}/{location}"),
        )))
    }

    /// Management locks at a scope (they block deletes or writes).
    fn locks(&self, scope: &Scope) -> impl Future<Output = Result<Vec<Lock>, CloudError>> + Send {
        std::future::ready(Err(CloudError::unsupported(
            "list locks",
            &scope.to_string(),
        )))
    }

    /// Policy assignments that apply at a scope (they can deny writes).
    fn policy_assignments(
        &self,
        scope: &Scope,
    ) -> impl Future<Output = Result<Vec<PolicyAssignment>, CloudError>> + Send {
        std::future::ready(Err(CloudError::unsupported(
            "list policy assignments",
            &scope.to_string(),
        )))
    }

    /// A subnet, with how many of its addresses are taken.
    fn subnet(&self, subnet_id: &str) -> impl Future<Output = Result<Subnet, CloudError>> + Send {
        std::future::ready(Err(CloudError::unsupported("get subnet", subnet_id)))
    }

    /// The subscription's state and the registration state of the given resource providers.
    fn subscription(
        &self,
        subscription: &str,
        namespaces: &[&str],
    ) -> impl Future<Output = Result<SubscriptionInfo, CloudError>> + Send {
        let _ = namespaces;
        std::future::ready(Err(CloudError::unsupported(
            "get subscription",
            subscription,
        )))
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::pin;
    use std::sync::Mutex;
    use std::task::{Context, Poll, Waker};

    use super::*;
    use crate::model::{PowerState, ProvisioningState};

    /// Polls a future that never waits (the fake provider's) to its end.
    fn ready<F: Future>(future: F) -> F::Output {
        let mut future = pin!(future);
        match future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready(out) => out,
            Poll::Pending => panic!("the fake provider never waits"),
        }
    }

    /// A provider that records actions and fails those on VM `bad`.
    #[derive(Default)]
    struct Fake {
        acted: Mutex<Vec<(VmAction, String)>>,
    }

    impl CloudProvider for Fake {
        async fn instance(&self, id: &ProviderId) -> Result<VmInstance, CloudError> {
            Ok(VmInstance {
                id: id.clone(),
                computer_name: None,
                provisioning_state: ProvisioningState::Succeeded,
                power_state: PowerState::Running,
                latest_model_applied: None,
                statuses: vec![],
                extensions: vec![],
            })
        }

        async fn act(&self, action: VmAction, id: &ProviderId) -> Result<(), CloudError> {
            self.acted.lock().unwrap().push((action, id.to_string()));
            match id {
                ProviderId::Vm { name, .. } if name == "bad" => Err(CloudError::new(
                    action.as_str(),
                    id.to_string(),
                    CloudErrorKind::OperationFailed,
                    "boom",
                )
                .with_code("VMRedeploymentFailed")),
                _ => Ok(()),
            }
        }

        async fn cluster(&self, cluster: &ClusterRef) -> Result<Cluster, CloudError> {
            Err(CloudError::unsupported("get cluster", &cluster.name))
        }

        async fn pool_instances(
            &self,
            _: &Cluster,
            pool: &str,
        ) -> Result<Vec<VmInstance>, CloudError> {
            Err(CloudError::unsupported("list pool VMs", pool))
        }

        async fn reconcile(&self, _: &ReconcileTarget) -> Result<(), CloudError> {
            Ok(())
        }
    }

    fn vm(name: &str) -> ProviderId {
        ProviderId::Vm {
            subscription: "s".into(),
            resource_group: "rg".into(),
            name: name.into(),
        }
    }

    #[test]
    fn act_many_defaults_to_one_action_per_vm_in_order() {
        let fake = Fake::default();
        let ids = [vm("a"), vm("bad"), vm("c")];
        let results = ready(fake.act_many(VmAction::Redeploy, &ids));
        assert_eq!(
            results.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(),
            ids
        );
        assert!(results[0].1.is_ok() && results[2].1.is_ok());
        let err = results[1].1.as_ref().unwrap_err();
        assert_eq!(err.failure_code(), "VMRedeploymentFailed");
        assert_eq!(fake.acted.lock().unwrap().len(), 3);
    }

    #[test]
    fn diagnosis_reads_default_to_unsupported() {
        let fake = Fake::default();
        let scope = Scope::Subscription("s".into());
        let err = ready(fake.locks(&scope)).unwrap_err();
        assert_eq!(err.kind, CloudErrorKind::Unsupported);
        assert_eq!(err.resource, "/subscriptions/s");
        assert!(ready(fake.subnet("/x")).is_err());
        assert!(ready(fake.subscription("s", &["Microsoft.Compute"])).is_err());
        assert!(ready(fake.quotas("s", "westeurope")).is_err());
        assert!(ready(fake.policy_assignments(&scope)).is_err());
    }

    #[test]
    fn actions_print_as_event_verbs() {
        let verbs: Vec<String> = [
            VmAction::Reboot,
            VmAction::Reimage,
            VmAction::Redeploy,
            VmAction::Update,
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(verbs, ["reboot", "reimage", "redeploy", "update"]);
    }
}
