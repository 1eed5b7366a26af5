use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
use crate::fixtures::{NodeFixture, node, t};
use crate::policy::{Action, RawPolicy};
use crate::repair::{EventType, Phase, Repair};

/// Runs the planner over owned fixtures (the planner itself takes references).
fn run(
    now: Timestamp,
    nodes: &[NodeView],
    repairs: &[Repair],
    states: &BTreeMap<String, ProvisioningState>,
    policy: &Policy,
) -> Plan {
    run_unreadable(now, nodes, repairs, states, &BTreeMap::new(), policy)
}

/// [`run`] with some repair records that cannot be read.
fn run_unreadable(
    now: Timestamp,
    nodes: &[NodeView],
    repairs: &[Repair],
    states: &BTreeMap<String, ProvisioningState>,
    unreadable: &BTreeMap<String, String>,
    policy: &Policy,
) -> Plan {
    let refs: Vec<&NodeView> = nodes.iter().collect();
    let fleet = Fleet {
        synced: true,
        nodes: &refs,
        repairs,
        pool_states: states,
        unreadable,
    };
    plan(now, fleet, policy)
}

fn starts(plan: &Plan) -> Vec<&str> {
    plan.decisions
        .iter()
        .filter_map(|d| match d {
            Decision::Start { node, .. } => Some(node.as_str()),
            _ => None,
        })
        .collect()
}

fn skip_of<'a>(plan: &'a Plan, name: &str) -> Option<&'a SkipReason> {
    plan.decisions.iter().find_map(|d| match d {
        Decision::Skip { node, reason } if node == name => Some(reason),
        _ => None,
    })
}

fn pool_of(size: usize, pool: &str) -> Vec<NodeView> {
    (0..size)
        .map(|i| node(&format!("{pool}-{i}")).in_pool(pool))
        .collect()
}

#[test]
fn starts_a_repair_for_a_node_past_the_threshold() {
    let mut nodes = pool_of(5, "np1");
    nodes[2] = nodes[2].clone().not_ready_since(t(0));
    let states = BTreeMap::new();
    let policy = Policy::default();
    let early = run(t(299), &nodes, &[], &states, &policy);
    assert!(starts(&early).is_empty());
    assert_eq!(
        early.wake_at,
        Some(t(300)),
        "wakes exactly when the node crosses the threshold"
    );
    let due = run(t(300), &nodes, &[], &states, &policy);
    assert_eq!(starts(&due), ["np1-2"]);
    assert_eq!(
        due.pools["np1"],
        PoolHealth {
            unhealthy: 1,
            suspect: 0,
            total: 5
        }
    );
}

#[test]
fn nothing_happens_before_the_caches_are_synced() {
    let nodes = [node("a").not_ready_since(t(0)), node("b")];
    let refs: Vec<&NodeView> = nodes.iter().collect();
    let states = BTreeMap::new();
    let f = Fleet {
        synced: false,
        nodes: &refs,
        repairs: &[],
        pool_states: &states,
        unreadable: &BTreeMap::new(),
    };
    let p = plan(t(10_000), f, &Policy::default());
    assert!(p.decisions.is_empty());
    assert!(!p.may_act(None));
}

#[test]
fn a_storm_holds_the_pool_and_says_so() {
    let mut nodes = pool_of(4, "np1");
    nodes.extend(pool_of(6, "np2"));
    for n in nodes.iter_mut().take(2) {
        *n = n.clone().not_ready_since(t(0));
    }
    let states = BTreeMap::new();
    let p = run(t(600), &nodes, &[], &states, &Policy::default());
    assert!(starts(&p).is_empty());
    let why = skip_of(&p, "np1-0")
        .expect("held nodes are told why")
        .to_string();
    assert!(
        why.contains("2 of 4 nodes in pool np1 are unhealthy"),
        "{why}"
    );
    assert!(p.decisions.contains(&Decision::Hold {
        scope: Scope::Pool("np1".into()),
        unhealthy: 2,
        total: 4,
        limit: Limit::Percent(35),
    }));
    assert!(!p.may_act(Some("np1")));
    assert!(p.may_act(Some("np2")));
}

#[test]
fn nodes_about_to_cross_the_threshold_count_toward_the_storm_cap() {
    // Two of four nodes went NotReady a second apart: when the first crosses the threshold
    // the second is still a suspect, and repairing the first alone would act inside a storm.
    let mut nodes = pool_of(4, "np1");
    nodes[0] = nodes[0].clone().not_ready_since(t(0));
    nodes[1] = nodes[1].clone().not_ready_since(t(1));
    let states = BTreeMap::new();
    let p = run(t(300), &nodes, &[], &states, &Policy::default());
    assert!(starts(&p).is_empty(), "{:?}", p.decisions);
    assert_eq!(
        p.pools["np1"],
        PoolHealth {
            unhealthy: 1,
            suspect: 1,
            total: 4
        }
    );
    assert!(!p.may_act(Some("np1")));
    assert!(
        matches!(
            skip_of(&p, "np1-0"),
            Some(SkipReason::TooManyUnhealthy { unhealthy: 2, .. })
        ),
        "{:?}",
        p.decisions
    );
    // One suspect alone in a big enough pool does not hold the other's repair.
    let mut nodes = pool_of(6, "np1");
    nodes[0] = nodes[0].clone().not_ready_since(t(0));
    nodes[1] = nodes[1].clone().not_ready_since(t(1));
    let p = run(t(300), &nodes, &[], &states, &Policy::default());
    assert_eq!(starts(&p), ["np1-0"]);
}

#[test]
fn a_cluster_wide_storm_holds_everything() {
    let nodes: Vec<NodeView> = (0..10)
        .map(|i| {
            let n = node(&format!("n{i}")).in_pool(&format!("p{i}"));
            if i < 4 { n.not_ready_since(t(0)) } else { n }
        })
        .collect();
    let states = BTreeMap::new();
    let p = run(t(600), &nodes, &[], &states, &Policy::default());
    assert!(p.held.contains(&Scope::Cluster));
    assert!(starts(&p).is_empty());
}

#[test]
fn skip_rules_name_their_reason() {
    let sick = |name: &str| node(name).in_pool("np1").not_ready_since(t(0));
    let nodes = vec![
        sick("opted").labelled(OPT_OUT_LABEL, OPT_OUT_VALUE),
        sick("scaling").tainted(AUTOSCALER_DELETE_TAINT),
        sick("shut").tainted(SHUTDOWN_TAINT),
        sick("cordoned").cordoned(),
    ];
    let mut all = nodes.clone();
    all.extend(pool_of(20, "np1"));
    let states = BTreeMap::new();
    let p = run(t(600), &all, &[], &states, &Policy::default());
    assert_eq!(skip_of(&p, "opted"), Some(&SkipReason::OptedOut));
    assert_eq!(skip_of(&p, "scaling"), Some(&SkipReason::ScalingDown));
    assert_eq!(skip_of(&p, "shut"), Some(&SkipReason::ShutDown));
    assert_eq!(skip_of(&p, "cordoned"), Some(&SkipReason::CordonedByOthers));
    assert!(starts(&p).is_empty());
    assert!(
        skip_of(&p, "opted")
            .unwrap()
            .to_string()
            .contains("nodemend.io/auto-repair=disabled")
    );
}

#[test]
fn pools_being_upgraded_or_disabled_are_left_alone() {
    let mut nodes = pool_of(5, "np1");
    nodes[0] = nodes[0].clone().not_ready_since(t(0));
    let states = BTreeMap::from([("NP1".to_owned(), ProvisioningState::Upgrading)]);
    let p = run(t(600), &nodes, &[], &states, &Policy::default());
    assert_eq!(
        skip_of(&p, "np1-0"),
        Some(&SkipReason::PoolChanging {
            state: "Upgrading".into()
        })
    );

    let disabled = serde_json::from_str::<RawPolicy>(r#"{"pools": {"np1": {"enabled": false}}}"#)
        .unwrap()
        .resolve()
        .unwrap();
    let none = BTreeMap::new();
    let p = run(t(600), &nodes, &[], &none, &disabled);
    assert_eq!(skip_of(&p, "np1-0"), Some(&SkipReason::PoolDisabled));
}

#[test]
fn a_single_node_cluster_needs_permission() {
    let nodes = vec![node("only").not_ready_since(t(0))];
    let states = BTreeMap::new();
    let p = run(t(600), &nodes, &[], &states, &Policy::default());
    assert_eq!(skip_of(&p, "only"), Some(&SkipReason::SingleNodeCluster));
    let allow = serde_json::from_str::<RawPolicy>(r#"{"allowSingleNode": true}"#)
        .unwrap()
        .resolve()
        .unwrap();
    assert_eq!(starts(&run(t(600), &nodes, &[], &states, &allow)), ["only"]);
}

#[test]
fn earlier_repairs_back_off_or_block() {
    let mut nodes = pool_of(5, "np1");
    nodes[0] = nodes[0].clone().not_ready_since(t(0));
    let states = BTreeMap::new();
    let mut done = Repair::new("np1-0", Some("np1".into()), t(-1000));
    done.phase = Phase::Succeeded { at: t(500) };
    let p = run(
        t(600),
        &nodes,
        std::slice::from_ref(&done),
        &states,
        &Policy::default(),
    );
    assert_eq!(
        skip_of(&p, "np1-0"),
        Some(&SkipReason::BackingOff { until: t(1100) })
    );
    assert_eq!(p.wake_at, Some(t(1100)));
    assert_eq!(
        starts(&run(
            t(1100),
            &nodes,
            std::slice::from_ref(&done),
            &states,
            &Policy::default()
        )),
        ["np1-0"]
    );

    let mut gave_up = done.clone();
    gave_up.phase = Phase::GaveUp { at: t(500) };
    let p = run(t(99_999), &nodes, &[gave_up], &states, &Policy::default());
    assert_eq!(skip_of(&p, "np1-0"), Some(&SkipReason::GaveUpBefore));
}

#[test]
fn a_running_repair_is_not_started_twice_and_fills_a_slot() {
    let mut nodes = pool_of(10, "np1");
    nodes[0] = nodes[0].clone().not_ready_since(t(0));
    nodes[1] = nodes[1].clone().not_ready_since(t(10));
    let running = Repair::new("np1-0", Some("np1".into()), t(300));
    let states = BTreeMap::new();
    let p = run(t(600), &nodes, &[running], &states, &Policy::default());
    assert!(starts(&p).is_empty());
    assert_eq!(
        skip_of(&p, "np1-1"),
        Some(&SkipReason::PoolBusyRepairing { running: 1, max: 1 })
    );
}

#[test]
fn a_node_whose_record_cannot_be_read_is_reported_and_keeps_its_slot() {
    let mut nodes = pool_of(10, "np1");
    nodes[0] = nodes[0].clone().not_ready_since(t(0));
    nodes[1] = nodes[1].clone().not_ready_since(t(10));
    let states = BTreeMap::new();
    let problem = "field status.phase is unreadable: unknown variant `Sideways`";
    let unreadable = BTreeMap::from([
        ("np1-0".to_owned(), problem.to_owned()),
        (
            "np1-5".to_owned(),
            "healthy nodes are not decided about".to_owned(),
        ),
    ]);
    let policy = Policy::default();
    let p = run_unreadable(t(600), &nodes, &[], &states, &unreadable, &policy);
    assert!(starts(&p).is_empty(), "{:?}", p.decisions);
    let reason = skip_of(&p, "np1-0").expect("the node is told why");
    assert_eq!(
        reason,
        &SkipReason::UnreadableRecord {
            problem: problem.into()
        }
    );
    assert_eq!(reason.name(), "unreadable-record");
    let event = reason.event();
    assert_eq!(
        (event.kind, event.reason.as_str(), event.message.as_str()),
        (
            EventType::Warning,
            "NodeRepairSkipped",
            "Node auto-repair skipped this node: its NodeRepair record cannot be read \
             (field status.phase is unreadable: unknown variant `Sideways`); fix or delete it"
        )
    );
    // The record may belong to a repair under way: the node holds the pool's only slot, as
    // it would if it had started.
    assert_eq!(
        skip_of(&p, "np1-1"),
        Some(&SkipReason::PoolBusyRepairing { running: 1, max: 1 })
    );
    assert_eq!(skip_of(&p, "np1-5"), None);
    // The skip rules come first: an opted-out node is reported as opted out.
    nodes[0] = nodes[0].clone().labelled(OPT_OUT_LABEL, OPT_OUT_VALUE);
    let p = run_unreadable(t(600), &nodes, &[], &states, &unreadable, &policy);
    assert_eq!(skip_of(&p, "np1-0"), Some(&SkipReason::OptedOut));
    assert_eq!(starts(&p), ["np1-1"]);
}

#[test]
fn a_dry_run_reports_the_repairs_a_real_run_would_start() {
    let mut nodes = pool_of(10, "np1");
    nodes.extend(pool_of(10, "np2"));
    nodes[0] = nodes[0].clone().not_ready_since(t(0));
    nodes[1] = nodes[1].clone().not_ready_since(t(10));
    nodes[10] = nodes[10].clone().not_ready_since(t(20));
    let states = BTreeMap::new();
    let raw = r#"{"dryRun": true, "pools": {"np2": {"ladder": ["reimage", "redeploy"]}}}"#;
    let dry = serde_json::from_str::<RawPolicy>(raw)
        .unwrap()
        .resolve()
        .unwrap();
    let real = Policy {
        dry_run: false,
        ..dry.clone()
    };
    let wet = run(t(600), &nodes, &[], &states, &real);
    assert_eq!(starts(&wet), ["np1-0", "np2-0"]);
    let symptoms = |name: &str| {
        wet.decisions
            .iter()
            .find_map(|d| match d {
                Decision::Start { node, symptoms, .. } if node == name => Some(symptoms.clone()),
                _ => None,
            })
            .unwrap()
    };

    let p = run(t(600), &nodes, &[], &states, &dry);
    assert!(starts(&p).is_empty(), "{:?}", p.decisions);
    assert_eq!(
        skip_of(&p, "np1-0"),
        Some(&SkipReason::DryRun {
            first_action: Some(Action::Reboot),
            symptoms: symptoms("np1-0"),
        })
    );
    assert_eq!(
        skip_of(&p, "np2-0"),
        Some(&SkipReason::DryRun {
            first_action: Some(Action::Reimage),
            symptoms: symptoms("np2-0"),
        }),
        "the first step of the node's own pool"
    );
    // Each reported node takes the slot its real start would take, so the rest of the plan
    // is the real run's.
    assert_eq!(
        skip_of(&p, "np1-1"),
        Some(&SkipReason::PoolBusyRepairing { running: 1, max: 1 })
    );
    let reason = skip_of(&p, "np1-0").unwrap();
    assert_eq!(reason.name(), "dry-run");
    let event = reason.event();
    let why: Vec<String> = symptoms("np1-0").iter().map(Symptom::describe).collect();
    assert_eq!(
        (event.kind, event.reason.as_str(), event.message.clone()),
        (
            EventType::Normal,
            "NodeRepairDryRun",
            format!(
                "dry run: would start repairing with a reboot ({})",
                why.join("; ")
            )
        )
    );
    assert!(event.message.contains("Ready is"), "{}", event.message);
}

#[test]
fn an_unreadable_record_is_reported_as_such_in_a_dry_run() {
    let mut nodes = pool_of(10, "np1");
    nodes[0] = nodes[0].clone().not_ready_since(t(0));
    let dry = serde_json::from_str::<RawPolicy>(r#"{"dryRun": true}"#)
        .unwrap()
        .resolve()
        .unwrap();
    let unreadable = BTreeMap::from([("np1-0".to_owned(), "bad".to_owned())]);
    let p = run_unreadable(t(600), &nodes, &[], &BTreeMap::new(), &unreadable, &dry);
    assert_eq!(
        skip_of(&p, "np1-0"),
        Some(&SkipReason::UnreadableRecord {
            problem: "bad".into()
        })
    );
}

fn arb_fleet() -> impl Strategy<Value = (Vec<NodeView>, Vec<Repair>)> {
    let nodes = prop::collection::vec(
        (
            0usize..3,
            prop::bool::weighted(0.3),
            prop::bool::weighted(0.1),
        ),
        1..40,
    );
    nodes.prop_flat_map(|spec| {
        let nodes: Vec<NodeView> = spec
            .iter()
            .enumerate()
            .map(|(i, (pool, sick, cordoned))| {
                let mut n = node(&format!("n{i}")).in_pool(&format!("p{pool}"));
                if *sick {
                    n = n.not_ready_since(t(0));
                }
                if *cordoned {
                    n = n.cordoned();
                }
                n
            })
            .collect();
        let len = nodes.len();
        let repairs = prop::collection::vec(0..len, 0..4).prop_map(move |idx| {
            let mut seen = std::collections::BTreeSet::new();
            idx.into_iter()
                .filter(|i| seen.insert(*i))
                .map(|i| Repair::new(format!("n{i}"), Some(format!("p{}", i % 3)), t(100)))
                .collect::<Vec<_>>()
        });
        (Just(nodes), repairs)
    })
}

fn arb_policy() -> impl Strategy<Value = Policy> {
    (1u32..4, 1u32..6, 0u8..101).prop_map(|(pool_max, cluster_max, pct)| {
        let raw = format!(
            r#"{{"maxConcurrent": {cluster_max}, "maxUnhealthy": "{pct}%", "defaults": {{"maxConcurrent": {pool_max}, "maxUnhealthy": "{pct}%"}}}}"#
        );
        serde_json::from_str::<RawPolicy>(&raw).unwrap().resolve().unwrap()
    })
}

proptest! {
    /// Never more repairs than allowed, per pool and in the cluster, counting the running ones.
    #[test]
    fn never_exceeds_the_concurrency_limits((nodes, repairs) in arb_fleet(), policy in arb_policy()) {
        let states = BTreeMap::new();
        let p = run(t(600), &nodes, &repairs, &states, &policy);
        let running: Vec<Option<String>> = repairs.iter().map(|r| r.pool.clone()).collect();
        let started: Vec<Option<String>> = p.decisions.iter().filter_map(|d| match d {
            Decision::Start { pool, .. } => Some(pool.clone()),
            _ => None,
        }).collect();
        let all: Vec<&Option<String>> = running.iter().chain(&started).collect();
        prop_assert!(started.is_empty() || all.len() <= policy.max_concurrent as usize);
        for pool in ["p0", "p1", "p2"] {
            let in_pool = all.iter().filter(|p| p.as_deref() == Some(pool)).count();
            let new = started.iter().filter(|p| p.as_deref() == Some(pool)).count();
            prop_assert!(new == 0 || in_pool <= policy.pool(Some(pool)).max_concurrent as usize);
        }
    }

    /// A dry run decides exactly what a real run decides, reporting each start instead.
    #[test]
    fn a_dry_run_decides_like_a_real_run((nodes, repairs) in arb_fleet(), policy in arb_policy()) {
        let states = BTreeMap::new();
        let real = run(t(600), &nodes, &repairs, &states, &policy);
        let dry_policy = Policy { dry_run: true, ..policy.clone() };
        let dry = run(t(600), &nodes, &repairs, &states, &dry_policy);
        let expected: Vec<Decision> = real.decisions.iter().cloned().map(|d| match d {
            Decision::Start { node, pool, symptoms, .. } => Decision::Skip {
                node,
                reason: SkipReason::DryRun {
                    first_action: policy.pool(pool.as_deref()).ladder.first().map(|s| s.action),
                    symptoms,
                },
            },
            other => other,
        }).collect();
        prop_assert_eq!(dry.decisions, expected);
        prop_assert_eq!(dry.held, real.held);
        prop_assert_eq!(dry.wake_at, real.wake_at);
    }

    /// Never a repair in a pool, or a cluster, that is over its unhealthy cap.
    #[test]
    fn never_starts_above_the_unhealthy_cap((nodes, repairs) in arb_fleet(), policy in arb_policy()) {
        let states = BTreeMap::new();
        let p = run(t(600), &nodes, &repairs, &states, &policy);
        let sick = |pool: Option<&str>| nodes.iter().filter(|n| {
            pool.is_none_or(|p| n.pool.as_deref() == Some(p)) && n.ready() != crate::model::ConditionStatus::True
        }).count();
        let size = |pool: &str| nodes.iter().filter(|n| n.pool.as_deref() == Some(pool)).count();
        for d in &p.decisions {
            if let Decision::Start { pool, .. } = d {
                let pool = pool.as_deref().unwrap();
                prop_assert!(policy.max_unhealthy.allows(sick(None), nodes.len()));
                prop_assert!(policy.pool(Some(pool)).max_unhealthy.allows(sick(Some(pool)), size(pool)));
                prop_assert!(p.may_act(Some(pool)));
            }
        }
    }
}
