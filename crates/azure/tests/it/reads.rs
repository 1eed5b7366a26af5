//! Cluster, pool and VM reads, reconciles, and the diagnosis reads.

use jiff::Timestamp;
use nodemend_core::cloud::{
    ActivityQuery, ActivityScope, CloudErrorKind, CloudProvider, ReconcileTarget, Scope,
};
use nodemend_core::model::{PoolMode, PowerState, ProvisioningState};
use nodemend_sim::arm::spec::{
    ActivitySpec, ErrorSpec, ExtensionSpec, LockSpec, PolicyAssignmentSpec, PoolSpec, SubnetSpec,
    UsageSpec, VmSpec,
};
use nodemend_sim::arm::{ArmWorldSpec, FaultSpec};

use crate::common::start;

#[tokio::test]
async fn cluster_pools_scale_sets_and_paged_vms() {
    let spec = ArmWorldSpec {
        pools: vec![
            PoolSpec {
                count: Some(2),
                ..PoolSpec::default()
            },
            PoolSpec {
                name: "big".into(),
                mode: PoolMode::User,
                count: Some(120),
                ..PoolSpec::default()
            },
        ],
        ..ArmWorldSpec::default()
    };
    let h = start(spec).await;
    let cluster = h.provider.cluster(&h.cluster).await.unwrap();
    assert_eq!(cluster.node_resource_group, "MC_rg1_aks1_westeurope");
    assert_eq!(cluster.provisioning_state, ProvisioningState::Succeeded);
    let big = cluster.pool("big").unwrap();
    assert_eq!((big.count, big.mode), (120, PoolMode::User));
    assert!(
        big.scale_set
            .as_deref()
            .is_some_and(|s| s.starts_with("aks-big-")),
        "{:?}",
        big.scale_set
    );
    let vms = h.provider.pool_instances(&cluster, "big").await.unwrap();
    assert_eq!(vms.len(), 120);
    assert_eq!(
        h.calls("GET", "/virtualMachines").len(),
        3,
        "followed two nextLinks"
    );
    assert!(
        vms.iter()
            .all(|v| v.power_state == PowerState::Running && v.computer_name.is_some())
    );
}

#[tokio::test]
async fn instance_view_shows_extension_exit_codes() {
    let cse = ExtensionSpec {
        exit_code: 50,
        ..ExtensionSpec::default()
    };
    let spec = ArmWorldSpec {
        pools: vec![PoolSpec {
            vms: vec![VmSpec {
                extensions: vec![cse],
                ..VmSpec::default()
            }],
            ..PoolSpec::default()
        }],
        ..ArmWorldSpec::default()
    };
    let h = start(spec).await;
    let vm = h.provider.instance(&h.id(&h.names()[0])).await.unwrap();
    let ext = &vm.extensions[0];
    assert_eq!(ext.name, "vmssCSE");
    assert_eq!(ext.statuses[0].code, "ProvisioningState/failed/50");
    assert!(
        ext.statuses[0]
            .message
            .as_deref()
            .unwrap()
            .contains("exit status=50")
    );
}

#[tokio::test]
async fn reconciles_bring_failed_cluster_and_pool_back() {
    let mut spec = ArmWorldSpec::default();
    spec.cluster.provisioning_state = ProvisioningState::Failed;
    spec.pools[0].provisioning_state = ProvisioningState::Failed;
    let h = start(spec).await;
    let pool = ReconcileTarget::Pool {
        cluster: h.cluster.clone(),
        pool: "nodepool1".into(),
    };
    h.provider.reconcile(&pool).await.unwrap();
    assert_eq!(h.calls("PUT", "/agentPools/nodepool1").len(), 1);
    h.provider
        .reconcile(&ReconcileTarget::Cluster(h.cluster.clone()))
        .await
        .unwrap();
    let cluster = h.provider.cluster(&h.cluster).await.unwrap();
    assert_eq!(cluster.provisioning_state, ProvisioningState::Succeeded);
    assert_eq!(
        cluster.pools[0].provisioning_state,
        ProvisioningState::Succeeded
    );

    h.sim.add_fault(FaultSpec {
        operation: "reconcile".into(),
        target: "aks1".into(),
        error: ErrorSpec {
            code: "QuotaExceeded".into(),
            message: "cores".into(),
            details: vec![],
        },
        times: Some(1),
        ..FaultSpec::default()
    });
    let err = h
        .provider
        .reconcile(&ReconcileTarget::Cluster(h.cluster.clone()))
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind.clone(), err.failure_code()),
        (CloudErrorKind::OperationFailed, "QuotaExceeded")
    );
}

#[tokio::test]
async fn reads_are_retried_on_server_errors() {
    let h = start(ArmWorldSpec::default()).await;
    h.sim.add_fault(FaultSpec {
        operation: "read".into(),
        target: "aks1".into(),
        http_status: Some(503),
        times: Some(2),
        ..FaultSpec::default()
    });
    h.provider.cluster(&h.cluster).await.unwrap();
    let gets: Vec<u16> = h
        .calls("GET", "/managedClusters/aks1")
        .iter()
        .map(|c| c.status)
        .collect();
    assert_eq!(gets, vec![503, 503, 200]);
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("a valid timestamp")
}

#[tokio::test]
async fn diagnosis_reads() {
    let node_rg = "MC_rg1_aks1_westeurope";
    let vmss_id = format!(
        "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/{node_rg}/providers/Microsoft.Compute/virtualMachineScaleSets/x"
    );
    let subnet_id = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/vnet/subnets/aks";
    let failed = ActivitySpec {
        time: ts("2026-11-20T10:00:00Z"),
        operation: "Microsoft.Compute/virtualMachineScaleSets/write".into(),
        status: "Failed".into(),
        resource_id: vmss_id.clone(),
        error: Some(ErrorSpec {
            code: "QuotaExceeded".into(),
            message: "cores".into(),
            details: vec![],
        }),
        ..ActivitySpec::default()
    };
    let spec = ArmWorldSpec {
        subscription_state: "Warned".into(),
        providers: [(
            "Microsoft.ContainerService".to_owned(),
            "NotRegistered".to_owned(),
        )]
        .into(),
        activity_log: vec![
            failed,
            ActivitySpec {
                time: ts("2026-11-20T11:00:00Z"),
                resource_id: vmss_id.clone(),
                ..ActivitySpec::default()
            },
            ActivitySpec {
                time: ts("2026-10-01T00:00:00Z"),
                status: "Failed".into(),
                resource_id: vmss_id,
                ..ActivitySpec::default()
            },
        ],
        usages: vec![
            UsageSpec {
                provider: "Microsoft.Compute".into(),
                name: "standardDSv3Family".into(),
                current: 96,
                limit: 100,
                ..UsageSpec::default()
            },
            UsageSpec {
                provider: "Microsoft.Network".into(),
                name: "PublicIPAddresses".into(),
                current: 10,
                limit: 10,
                ..UsageSpec::default()
            },
        ],
        subnets: vec![SubnetSpec {
            id: subnet_id.into(),
            address_prefix: "10.224.0.0/24".into(),
            ip_configurations: 240,
        }],
        locks: vec![LockSpec {
            resource_group: Some(node_rg.into()),
            name: "nodelete".into(),
            level: "CanNotDelete".into(),
            notes: None,
        }],
        policy_assignments: vec![
            PolicyAssignmentSpec {
                resource_group: Some("rg1".into()),
                name: "rg-policy".into(),
                policy_definition_id: "/p/1".into(),
                ..PolicyAssignmentSpec::default()
            },
            PolicyAssignmentSpec {
                name: "sub-policy".into(),
                policy_definition_id: "/p/2".into(),
                ..PolicyAssignmentSpec::default()
            },
        ],
        ..ArmWorldSpec::default()
    };
    let h = start(spec).await;
    let sub = h.cluster.subscription.clone();
    let records = h
        .provider
        .activity_log(&ActivityQuery {
            subscription: sub.clone(),
            from: ts("2026-11-19T00:00:00Z"),
            to: ts("2026-11-21T00:00:00Z"),
            scope: ActivityScope::ResourceGroup(node_rg.into()),
            status: Some("Failed".into()),
        })
        .await
        .unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].error.as_ref().unwrap().code, "QuotaExceeded");

    let quotas = h.provider.quotas(&sub, "westeurope").await.unwrap();
    assert_eq!(
        quotas
            .iter()
            .map(|q| (q.provider.as_str(), q.name.as_str(), q.current, q.limit))
            .collect::<Vec<_>>(),
        vec![
            ("Microsoft.Compute", "standardDSv3Family", 96, 100),
            ("Microsoft.Network", "PublicIPAddresses", 10, 10)
        ]
    );

    let rg = |name: &str| Scope::ResourceGroup {
        subscription: sub.clone(),
        resource_group: name.into(),
    };
    let locks = h.provider.locks(&rg(node_rg)).await.unwrap();
    assert_eq!((locks.len(), locks[0].level.as_str()), (1, "CanNotDelete"));
    assert!(h.provider.locks(&rg("rg1")).await.unwrap().is_empty());

    let at_rg: Vec<String> = h
        .provider
        .policy_assignments(&rg("rg1"))
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(at_rg, vec!["rg-policy", "sub-policy"]);
    let at_sub: Vec<String> = h
        .provider
        .policy_assignments(&Scope::Subscription(sub.clone()))
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(at_sub, vec!["sub-policy"]);

    let subnet = h.provider.subnet(subnet_id).await.unwrap();
    assert_eq!(
        (subnet.address_prefixes, subnet.ip_configurations),
        (vec!["10.224.0.0/24".to_owned()], 240)
    );

    let info = h
        .provider
        .subscription(&sub, &["Microsoft.Compute", "Microsoft.ContainerService"])
        .await
        .unwrap();
    assert_eq!(info.state, "Warned");
    assert_eq!(
        info.providers
            .iter()
            .map(|p| p.state.as_str())
            .collect::<Vec<_>>(),
        vec!["Registered", "NotRegistered"]
    );
}

#[tokio::test]
async fn every_read_operation_answers_over_http() {
    use nodemend_azure::parse;
    use nodemend_core::model::PoolKind;

    let spec = ArmWorldSpec {
        pools: vec![
            PoolSpec::default(),
            PoolSpec {
                name: "aspool".into(),
                kind: PoolKind::AvailabilitySet,
                count: Some(1),
                ..PoolSpec::default()
            },
        ],
        ..ArmWorldSpec::default()
    };
    let h = start(spec).await;
    let exec = h.provider.executor();
    let r = exec.requests();
    let (sub, node_rg) = (h.cluster.subscription.as_str(), "MC_rg1_aks1_westeurope");
    let sets = exec
        .list(r.list_scale_sets(sub, node_rg), parse::scale_sets)
        .await
        .unwrap();
    assert_eq!(sets.len(), 1, "the availability-set pool has no scale set");
    assert_eq!(sets[0].pool.as_deref(), Some("nodepool1"));
    let set = exec
        .get(
            r.get_scale_set(sub, node_rg, &sets[0].name),
            parse::scale_set,
        )
        .await
        .unwrap();
    assert_eq!(
        (set.capacity, set.provisioning_state),
        (Some(3), ProvisioningState::Succeeded)
    );

    let names = h.names();
    for name in [&names[0], &names[3]] {
        let id = h.id(name);
        let view = exec
            .get(r.get_instance_view(&id), |b| parse::instance_view(&id, b))
            .await
            .unwrap();
        assert_eq!(
            (view.power_state, view.computer_name.as_deref()),
            (PowerState::Running, Some(name.as_str()))
        );
        let vm = h.provider.instance(&id).await.unwrap();
        assert_eq!(vm.provisioning_state, ProvisioningState::Succeeded);
    }

    let clusters: Vec<serde_json::Value> = exec
        .list(r.list_clusters(sub, "rg1"), parse::page)
        .await
        .unwrap();
    assert_eq!(clusters[0]["name"], "aks1");
    let pool = exec
        .get(r.get_pool(&h.cluster, "aspool"), parse::pool)
        .await
        .unwrap();
    assert_eq!(pool.kind, PoolKind::AvailabilitySet);
    let err = h
        .provider
        .pool_instances(&h.provider.cluster(&h.cluster).await.unwrap(), "aspool")
        .await
        .unwrap_err();
    assert_eq!(err.kind, CloudErrorKind::Unsupported);
}

#[tokio::test]
async fn reads_retry_connection_errors_then_fail_as_unavailable() {
    let h = start(ArmWorldSpec::default()).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut env: std::collections::HashMap<String, String> = h.sim.env().into_iter().collect();
    env.insert("NODEMEND_ARM_ENDPOINT".into(), format!("http://{closed}"));
    let provider = nodemend_azure::AzureProvider::new(&crate::common::config(&env)).unwrap();
    let err = provider.cluster(&h.cluster).await.unwrap_err();
    assert_eq!(err.kind, CloudErrorKind::Unavailable);
    assert!(err.to_string().contains("could not be sent"), "{err}");
    let stats = provider.executor().stats();
    assert_eq!(
        stats.requests.load(std::sync::atomic::Ordering::Relaxed),
        5,
        "every attempt was made"
    );
    assert_eq!(stats.retries.load(std::sync::atomic::Ordering::Relaxed), 4);
}
