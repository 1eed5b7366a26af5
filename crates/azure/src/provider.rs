//! [`AzureProvider`]: the [`CloudProvider`] of ARM. It translates: each method is a few ARM
//! calls and a conversion of their results to the core model; decisions stay in core.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::future::join_all;
use nodemend_core::ProviderId;
use nodemend_core::cloud::{
    ActivityQuery, ActivityRecord, BatchOutcome, CloudError, CloudProvider, ClusterRef, Lock,
    PolicyAssignment, ProviderRegistration, QuotaUsage, ReconcileTarget, Scope, Subnet,
    SubscriptionInfo, VmAction,
};
use nodemend_core::model::{Cluster, ProvisioningState, VmInstance};
use tokio::time::Instant;

use crate::access::Access;
use crate::config::ArmConfig;
use crate::error::{Error, Result};
use crate::executor::Executor;
use crate::parse;
use crate::requests::ArmRequest;

/// The ARM implementation of [`CloudProvider`].
#[derive(Debug, Clone)]
pub struct AzureProvider {
    exec: Arc<Executor>,
}

impl AzureProvider {
    /// A provider for `config`.
    pub fn new(config: &ArmConfig) -> Result<Self> {
        Ok(Self {
            exec: Arc::new(Executor::new(config)?),
        })
    }

    /// The executor, for its counters and for calls the trait does not cover.
    pub fn executor(&self) -> &Executor {
        &self.exec
    }

    /// What the signed-in identity may do at `scope` (a resource group or a resource ID), as
    /// ARM's permissions API lists it: every page, inherited assignments included.
    pub async fn permissions(&self, scope: &str) -> Result<Access> {
        let req = self.exec.requests.list_permissions(scope);
        let permissions = self.exec.list(req, parse::permissions).await?;
        Ok(Access {
            scope: scope.to_owned(),
            permissions,
        })
    }

    async fn run(&self, req: &ArmRequest) -> Result<Vec<u8>> {
        let first = self.exec.send(req).await?;
        self.exec.wait(req, first).await
    }

    /// Runs an action on one VM. If its outcome is unknown, the VM's state says what to do: a
    /// VM that is busy is running the action, so wait for it; an idle VM never got it, so send
    /// it once more.
    async fn act_on(&self, action: VmAction, id: &ProviderId) -> Result<()> {
        let req = self.exec.requests.vm_action(id, action);
        match self.run(&req).await {
            Err(err) if err.is_outcome_unknown() => self.recover(&req, id).await,
            other => other.map(drop),
        }
    }

    async fn recover(&self, req: &ArmRequest, id: &ProviderId) -> Result<()> {
        let deadline = Instant::now() + self.exec.policy.operation_deadline;
        let mut vm = self.get_vm(id).await?;
        if vm.provisioning_state.is_terminal() {
            tracing::info!(operation = req.operation, resource = %req.resource, "VM idle after an unknown outcome; sending the action again");
            return self.run(&req.duplicate()).await.map(drop);
        }
        tracing::info!(operation = req.operation, resource = %req.resource, state = %vm.provisioning_state, "VM busy after an unknown outcome; waiting for it");
        while !vm.provisioning_state.is_terminal() {
            if Instant::now() >= deadline {
                return Err(Error::OperationTimedOut {
                    operation: req.operation,
                    resource: req.resource.clone(),
                    deadline: self.exec.policy.operation_deadline,
                });
            }
            tokio::time::sleep(self.exec.policy.poll_delay(None)).await;
            vm = self.get_vm(id).await?;
        }
        match vm.provisioning_state {
            ProvisioningState::Succeeded => Ok(()),
            _ => Err(Error::OperationFailed {
                operation: req.operation,
                resource: req.resource.clone(),
                error: Box::new(failure_of(&vm)),
            }),
        }
    }

    async fn get_vm(&self, id: &ProviderId) -> Result<VmInstance> {
        self.exec
            .get(self.exec.requests.get_vm(id), |b| parse::vm(id, b))
            .await
    }

    /// One batched call per scale set; VMs outside scale sets one by one. All concurrently.
    async fn batch(&self, action: VmAction, ids: &[ProviderId]) -> Vec<BatchOutcome> {
        let mut groups: BTreeMap<(String, String, String), Vec<&ProviderId>> = BTreeMap::new();
        let mut singles = Vec::new();
        for id in ids {
            match id {
                ProviderId::ScaleSetVm {
                    subscription,
                    resource_group,
                    scale_set,
                    ..
                } => groups
                    .entry((
                        subscription.clone(),
                        resource_group.to_ascii_lowercase(),
                        scale_set.to_ascii_lowercase(),
                    ))
                    .or_default()
                    .push(id),
                ProviderId::Vm { .. } => singles.push(id),
            }
        }
        let group_runs = groups
            .into_values()
            .map(|members| self.batch_group(action, members));
        let single_runs = singles.into_iter().map(|id| async move {
            vec![(
                id.clone(),
                self.act_on(action, id).await.map_err(CloudError::from),
            )]
        });
        let mut results: Vec<BatchOutcome> =
            join_all(group_runs).await.into_iter().flatten().collect();
        results.extend(join_all(single_runs).await.into_iter().flatten());
        // The trait promises the input order.
        let position = |id: &ProviderId| ids.iter().position(|x| x == id).unwrap_or(usize::MAX);
        results.sort_by_key(|(id, _)| position(id));
        results
    }

    async fn batch_group(&self, action: VmAction, members: Vec<&ProviderId>) -> Vec<BatchOutcome> {
        let Some(ProviderId::ScaleSetVm {
            subscription,
            resource_group,
            scale_set,
            ..
        }) = members.first()
        else {
            return Vec::new();
        };
        let instance_ids: Vec<String> = members
            .iter()
            .filter_map(|id| match id {
                ProviderId::ScaleSetVm { instance_id, .. } => Some(instance_id.clone()),
                ProviderId::Vm { .. } => None,
            })
            .collect();
        let req = self.exec.requests.scale_set_action(
            subscription,
            resource_group,
            scale_set,
            action,
            &instance_ids,
        );
        match self.run(&req).await {
            Ok(_) => members.into_iter().map(|id| (id.clone(), Ok(()))).collect(),
            Err(err) if err.is_outcome_unknown() => {
                let each = members.into_iter().map(|id| async move {
                    let single = self.exec.requests.vm_action(id, action);
                    (
                        id.clone(),
                        self.recover(&single, id).await.map_err(CloudError::from),
                    )
                });
                join_all(each).await
            }
            Err(err) => {
                let cloud = CloudError::from(err);
                members
                    .into_iter()
                    .map(|id| (id.clone(), Err(cloud.clone())))
                    .collect()
            }
        }
    }

    async fn reconcile_resource(
        &self,
        get: ArmRequest,
        put: impl FnOnce(&serde_json::Value, Option<&str>) -> ArmRequest,
    ) -> Result<()> {
        let (model, etag) = self.exec.get(get, parse::raw_model).await?;
        let req = put(&model, etag.as_deref());
        self.run(&req).await.map(drop)
    }
}

/// The error a failed VM reports in its instance view (`ProvisioningState/failed/<code>`).
fn failure_of(vm: &VmInstance) -> nodemend_core::model::ArmError {
    let status = vm.statuses.iter().find(|s| {
        s.code
            .to_ascii_lowercase()
            .starts_with("provisioningstate/failed")
    });
    nodemend_core::model::ArmError {
        code: status
            .and_then(|s| s.code.splitn(3, '/').nth(2))
            .unwrap_or("ProvisioningFailed")
            .to_owned(),
        message: status.and_then(|s| s.message.clone()).unwrap_or_default(),
        details: vec![],
    }
}

impl CloudProvider for AzureProvider {
    async fn instance(&self, id: &ProviderId) -> Result<VmInstance, CloudError> {
        Ok(self.get_vm(id).await?)
    }

    async fn act(&self, action: VmAction, id: &ProviderId) -> Result<(), CloudError> {
        Ok(self.act_on(action, id).await?)
    }

    async fn act_many(&self, action: VmAction, ids: &[ProviderId]) -> Vec<BatchOutcome> {
        self.batch(action, ids).await
    }

    async fn cluster(&self, cluster: &ClusterRef) -> Result<Cluster, CloudError> {
        let r = &self.exec.requests;
        let mut found = self
            .exec
            .get(r.get_cluster(cluster), |b| parse::cluster(cluster, b))
            .await?;
        let pools = self.exec.list(r.list_pools(cluster), parse::pools).await?;
        if !pools.is_empty() {
            found.pools = pools;
        }
        if !found.node_resource_group.is_empty() {
            let sets = self
                .exec
                .list(
                    r.list_scale_sets(&cluster.subscription, &found.node_resource_group),
                    parse::scale_sets,
                )
                .await?;
            for pool in &mut found.pools {
                pool.scale_set = sets
                    .iter()
                    .find(|s| {
                        s.pool
                            .as_deref()
                            .is_some_and(|p| p.eq_ignore_ascii_case(&pool.name))
                    })
                    .map(|s| s.name.clone());
            }
        }
        Ok(found)
    }

    async fn pool_instances(
        &self,
        cluster: &Cluster,
        pool: &str,
    ) -> Result<Vec<VmInstance>, CloudError> {
        let Some(scale_set) = cluster.pool(pool).and_then(|p| p.scale_set.clone()) else {
            return Err(Error::Unsupported {
                operation: "list pool VMs",
                resource: format!("{}/agentPools/{pool}", cluster.arm_id()),
                reason: "the pool has no scale set (availability-set and VM pools are listed per VM)",
            }
            .into());
        };
        let (sub, rg) = (&cluster.subscription, &cluster.node_resource_group);
        let req = self.exec.requests.list_scale_set_vms(sub, rg, &scale_set);
        Ok(self
            .exec
            .list(req, |b| parse::scale_set_vm(sub, rg, &scale_set, b))
            .await?)
    }

    async fn reconcile(&self, target: &ReconcileTarget) -> Result<(), CloudError> {
        let r = &self.exec.requests;
        let done = match target {
            ReconcileTarget::Cluster(c) => {
                self.reconcile_resource(r.get_cluster(c), |m, e| r.put_cluster(c, m, e))
                    .await
            }
            ReconcileTarget::Pool { cluster, pool } => {
                self.reconcile_resource(r.get_pool(cluster, pool), |m, e| {
                    r.put_pool(cluster, pool, m, e)
                })
                .await
            }
        };
        Ok(done?)
    }

    async fn activity_log(&self, query: &ActivityQuery) -> Result<Vec<ActivityRecord>, CloudError> {
        Ok(self
            .exec
            .list(
                self.exec.requests.list_activity_log(query),
                parse::activity_records,
            )
            .await?)
    }

    async fn quotas(
        &self,
        subscription: &str,
        location: &str,
    ) -> Result<Vec<QuotaUsage>, CloudError> {
        let r = &self.exec.requests;
        let mut all = self
            .exec
            .list(r.list_compute_usages(subscription, location), |b| {
                parse::usages("Microsoft.Compute", b)
            })
            .await?;
        all.extend(
            self.exec
                .list(r.list_network_usages(subscription, location), |b| {
                    parse::usages("Microsoft.Network", b)
                })
                .await?,
        );
        Ok(all)
    }

    async fn locks(&self, scope: &Scope) -> Result<Vec<Lock>, CloudError> {
        Ok(self
            .exec
            .list(self.exec.requests.list_locks(scope), parse::locks)
            .await?)
    }

    async fn policy_assignments(&self, scope: &Scope) -> Result<Vec<PolicyAssignment>, CloudError> {
        Ok(self
            .exec
            .list(
                self.exec.requests.list_policy_assignments(scope),
                parse::policy_assignments,
            )
            .await?)
    }

    async fn subnet(&self, subnet_id: &str) -> Result<Subnet, CloudError> {
        Ok(self
            .exec
            .get(self.exec.requests.get_subnet(subnet_id), parse::subnet)
            .await?)
    }

    async fn subscription(
        &self,
        subscription: &str,
        namespaces: &[&str],
    ) -> Result<SubscriptionInfo, CloudError> {
        let r = &self.exec.requests;
        let state = self
            .exec
            .get(r.get_subscription(subscription), parse::subscription_state)
            .await?;
        let mut providers = Vec::with_capacity(namespaces.len());
        for namespace in namespaces {
            let state = self
                .exec
                .get(
                    r.get_provider(subscription, namespace),
                    parse::provider_state,
                )
                .await?;
            providers.push(ProviderRegistration {
                namespace: (*namespace).to_owned(),
                state,
            });
        }
        Ok(SubscriptionInfo {
            id: subscription.to_owned(),
            state,
            providers,
        })
    }
}
