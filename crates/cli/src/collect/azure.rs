//! The Azure side of a snapshot. ARM calls grow with the number of pools, never with nodes:
//! the cluster (get, agent-pool list, scale-set list), one VM list per pool (paged), two
//! activity-log queries, usages, locks and policy assignments of two resource groups, one read
//! per distinct subnet, and the subscription with its provider registrations. Reads that need
//! nothing from another run at once; the rest start as soon as the cluster is known.

use futures::future::join_all;
use nodemend_azure::parse::{self, Page, ScaleSet};
use nodemend_azure::{AzureProvider, Error as ArmClientError};
use nodemend_core::cloud::{
    ActivityQuery, ActivityRecord, ActivityScope, CloudError, CloudErrorKind, CloudProvider as _,
    ClusterRef, Scope, Subnet,
};
use nodemend_core::diagnosis::{AzureFacts, PoolFacts, ReadError, ScaleSetFacts, ScopeFacts};
use nodemend_core::model::{AgentPool, Cluster, VmInstance};

use super::aks::{ClusterDetails, PoolDetails, RawCluster, RawPool};
use super::{ActivityFilter, Reads, Window};

/// Resource providers whose registration is read: AKS and what its nodes are made of.
const PROVIDERS: [&str; 3] = [
    "Microsoft.ContainerService",
    "Microsoft.Compute",
    "Microsoft.Network",
];

fn arm(err: impl Into<CloudError>) -> ReadError {
    ReadError::Azure(err.into())
}

fn client(err: ArmClientError) -> ReadError {
    ReadError::Azure(CloudError::from(err))
}

/// The cluster as read: the core model, the details beyond it, and the scale sets.
struct ClusterRead {
    cluster: Cluster,
    details: ClusterDetails,
    scale_sets: Vec<ScaleSet>,
}

/// Reads everything Azure says about `target` into [`AzureFacts`].
pub(crate) async fn collect(
    provider: &AzureProvider,
    target: &ClusterRef,
    window: Window,
    reads: &Reads<'_>,
) -> AzureFacts {
    let sub = target.subscription.as_str();
    let group = Scope::ResourceGroup {
        subscription: sub.to_owned(),
        resource_group: target.resource_group.clone(),
    };
    let around_cluster = async {
        let Some(read) = read_cluster(provider, target, reads).await else {
            return (None, Vec::new(), None, Vec::new(), Vec::new(), None);
        };
        let cluster = &read.cluster;
        let node_group = (!cluster.node_resource_group.is_empty()
            && !cluster
                .node_resource_group
                .eq_ignore_ascii_case(&target.resource_group))
        .then(|| cluster.node_resource_group.clone());
        let node_activity = async {
            match &node_group {
                Some(rg) => activity(provider, sub, rg, window, reads).await,
                None => Vec::new(),
            }
        };
        let node_scope = async {
            match &node_group {
                Some(rg) => Some(
                    governance(
                        provider,
                        Scope::ResourceGroup {
                            subscription: sub.to_owned(),
                            resource_group: rg.clone(),
                        },
                        reads,
                    )
                    .await,
                ),
                None => None,
            }
        };
        let quotas = reads.run(
            format!("usages in {}", cluster.location),
            Some("Microsoft.Compute/locations/usages/read"),
            async { provider.quotas(sub, &cluster.location).await.map_err(arm) },
        );
        let mut subnet_ids: Vec<&str> = cluster
            .pools
            .iter()
            .filter_map(|p| p.subnet_id.as_deref())
            .collect();
        subnet_ids.sort_by_key(|id| id.to_ascii_lowercase());
        subnet_ids.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        let subnets = join_all(subnet_ids.into_iter().map(|id| {
            reads.run(
                format!("subnet {id}"),
                Some("Microsoft.Network/virtualNetworks/subnets/read"),
                async move { provider.subnet(id).await.map_err(arm) },
            )
        }));
        let instances = join_all(cluster.pools.iter().map(|pool| {
            reads.run(
                format!("VMs of pool {}", pool.name),
                Some("Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read"),
                async move {
                    provider
                        .pool_instances(cluster, &pool.name)
                        .await
                        .map_err(arm)
                },
            )
        }));
        let (node_activity, node_scope, quotas, subnets, instances) =
            futures::join!(node_activity, node_scope, quotas, subnets, instances);
        let pools = pool_facts(&read, instances);
        let subnets: Vec<Subnet> = subnets.into_iter().flatten().collect();
        let ClusterRead {
            cluster, details, ..
        } = read;
        (
            Some((cluster, details.error, details.network)),
            pools,
            node_scope,
            node_activity,
            subnets,
            quotas,
        )
    };
    let subscription = reads.run(
        format!("subscription {sub}"),
        Some("Microsoft.Resources/subscriptions/read"),
        async { provider.subscription(sub, &PROVIDERS).await.map_err(arm) },
    );
    let group_activity = activity(provider, sub, &target.resource_group, window, reads);
    let group_scope = governance(provider, group, reads);
    let (
        (cluster, pools, node_scope, node_activity, subnets, quotas),
        subscription,
        mut activity,
        group_scope,
    ) = futures::join!(around_cluster, subscription, group_activity, group_scope);
    activity.extend(node_activity);
    let mut scopes = vec![group_scope];
    scopes.extend(node_scope);
    let (cluster, cluster_error, network) = match cluster {
        Some((cluster, error, network)) => (Some(cluster), error, network),
        None => (None, None, Default::default()),
    };
    AzureFacts {
        cluster,
        cluster_error,
        network,
        pools,
        activity,
        quotas: quotas.unwrap_or_default(),
        scopes,
        subnets,
        subscription,
    }
}

/// The cluster: `ManagedClusters_Get` and `AgentPools_List` at once, then the scale sets of
/// the node resource group the cluster names. `None` when the cluster itself cannot be read.
async fn read_cluster(
    provider: &AzureProvider,
    target: &ClusterRef,
    reads: &Reads<'_>,
) -> Option<ClusterRead> {
    let exec = provider.executor();
    let requests = exec.requests();
    let get = reads.run(
        format!("cluster {}", target.name),
        Some("Microsoft.ContainerService/managedClusters/read"),
        async {
            exec.get(requests.get_cluster(target), |body| {
                Ok((
                    parse::cluster(target, body)?,
                    parse::json::<RawCluster>(body)?,
                ))
            })
            .await
            .map_err(client)
        },
    );
    let list = reads.run(
        format!("agent pools of {}", target.name),
        Some("Microsoft.ContainerService/managedClusters/agentPools/read"),
        async {
            exec.list(requests.list_pools(target), |body| {
                let pools = parse::pools(body)?;
                let raw: Page<RawPool> = parse::page(body)?;
                Ok(Page {
                    value: pools
                        .value
                        .into_iter()
                        .zip(raw.value.into_iter().map(RawPool::details))
                        .collect::<Vec<(AgentPool, PoolDetails)>>(),
                    next_link: pools.next_link,
                })
            })
            .await
            .map_err(client)
        },
    );
    let (get, list) = futures::join!(get, list);
    let (mut cluster, raw) = get?;
    let mut details = raw.details();
    if let Some(listed) = list.filter(|l| !l.is_empty()) {
        let (pools, pool_details) = listed.into_iter().unzip();
        cluster.pools = pools;
        details.pools = pool_details;
    }
    let scale_sets = if cluster.node_resource_group.is_empty() {
        Vec::new()
    } else {
        reads
            .run(
                format!("scale sets in {}", cluster.node_resource_group),
                Some("Microsoft.Compute/virtualMachineScaleSets/read"),
                async {
                    exec.list(
                        requests
                            .list_scale_sets(&target.subscription, &cluster.node_resource_group),
                        parse::scale_sets,
                    )
                    .await
                    .map_err(client)
                },
            )
            .await
            .unwrap_or_default()
    };
    for pool in &mut cluster.pools {
        pool.scale_set = backing(&scale_sets, &pool.name).map(|s| s.name.clone());
    }
    Some(ClusterRead {
        cluster,
        details,
        scale_sets,
    })
}

/// The scale set whose `aks-managed-poolName` tag names `pool`.
fn backing<'s>(scale_sets: &'s [ScaleSet], pool: &str) -> Option<&'s ScaleSet> {
    scale_sets.iter().find(|s| {
        s.pool
            .as_deref()
            .is_some_and(|p| p.eq_ignore_ascii_case(pool))
    })
}

/// Each pool's facts beyond the core model, with its VMs when they were read.
fn pool_facts(read: &ClusterRead, instances: Vec<Option<Vec<VmInstance>>>) -> Vec<PoolFacts> {
    read.cluster
        .pools
        .iter()
        .zip(instances)
        .map(|(pool, instances)| {
            let details = read
                .details
                .pools
                .iter()
                .find(|d| d.name.eq_ignore_ascii_case(&pool.name));
            PoolFacts {
                name: pool.name.clone(),
                os: details.map_or(nodemend_core::catalog::NodeOs::Linux, |d| d.os),
                error: details.and_then(|d| d.error.clone()),
                max_surge: details.and_then(|d| d.max_surge.clone()),
                max_count: details.and_then(|d| d.max_count),
                pod_subnet_id: details.and_then(|d| d.pod_subnet_id.clone()),
                scale_set: backing(&read.scale_sets, &pool.name).map(|s| ScaleSetFacts {
                    name: s.name.clone(),
                    provisioning_state: s.provisioning_state.clone(),
                    error: None,
                }),
                instances,
            }
        })
        .collect()
}

/// The activity log of one resource group for the window: failed operations only (the rules
/// read nothing else), or every record. An ARM that refuses the status filter (400) is asked
/// again without it.
async fn activity(
    provider: &AzureProvider,
    subscription: &str,
    resource_group: &str,
    window: Window,
    reads: &Reads<'_>,
) -> Vec<ActivityRecord> {
    let query = ActivityQuery {
        subscription: subscription.to_owned(),
        from: window.since,
        to: window.now,
        scope: ActivityScope::ResourceGroup(resource_group.to_owned()),
        status: match window.activity {
            ActivityFilter::Failed => Some("Failed".to_owned()),
            ActivityFilter::All => None,
        },
    };
    reads
        .run(
            format!("activity log of {resource_group}"),
            Some("Microsoft.Insights/eventtypes/values/read"),
            async {
                match provider.activity_log(&query).await {
                    Err(err) if query.status.is_some() && err.kind == CloudErrorKind::Rejected => {
                        tracing::info!(resource_group, error = %err, "the activity log refused the status filter; reading every record");
                        let every = ActivityQuery {
                            status: None,
                            ..query.clone()
                        };
                        provider.activity_log(&every).await.map_err(arm)
                    }
                    other => other.map_err(arm),
                }
            },
        )
        .await
        .unwrap_or_default()
}

/// Locks and policy assignments at one scope, read at once.
async fn governance(provider: &AzureProvider, scope: Scope, reads: &Reads<'_>) -> ScopeFacts {
    let locks = reads.run(
        format!("locks on {scope}"),
        Some("Microsoft.Authorization/locks/read"),
        async { provider.locks(&scope).await.map_err(arm) },
    );
    let policies = reads.run(
        format!("policy assignments on {scope}"),
        Some("Microsoft.Authorization/policyAssignments/read"),
        async { provider.policy_assignments(&scope).await.map_err(arm) },
    );
    let (locks, policies) = futures::join!(locks, policies);
    ScopeFacts {
        scope: scope.clone(),
        locks: locks.unwrap_or_default(),
        policies: policies.unwrap_or_default(),
    }
}
