//! Is a node healthy, since when, and why not? The classification every repair starts from.
//!
//! A node is unhealthy when, for longer than the threshold:
//! - its `Ready` condition is `False` or `Unknown`,
//! - its Lease in `kube-node-lease` has not been renewed, or
//! - a condition named in the policy (e.g. node-problem-detector's `KernelDeadlock`) is `True`.
//!
//! Before the threshold is crossed the node is [`Health::Suspect`], with the moment it will
//! cross it, so the controller can wake up exactly then instead of polling.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::model::{ConditionStatus, NodeView, READY};

/// What the health check needs from the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthRules {
    /// How long a symptom must last before the node counts as unhealthy (AKS uses 5 minutes).
    pub threshold: SignedDuration,
    /// Extra condition types that mean trouble when `True` (node-problem-detector's
    /// `KernelDeadlock`, `ReadonlyFilesystem`, ...).
    pub problem_conditions: Vec<String>,
}

impl Default for HealthRules {
    fn default() -> Self {
        Self {
            threshold: SignedDuration::from_mins(5),
            problem_conditions: Vec::new(),
        }
    }
}

/// One sign of trouble on a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "symptom", rename_all = "kebab-case")]
pub enum Symptom {
    /// `Ready` is `False` or `Unknown` (or was never reported).
    NotReady {
        /// `False` or `Unknown`.
        status: ConditionStatus,
        /// The condition's reason, e.g. `KubeletNotReady` or `NodeStatusUnknown`.
        reason: Option<String>,
        /// When `Ready` left `True`.
        since: Timestamp,
    },
    /// The node's Lease has not been renewed.
    LeaseExpired {
        /// The last renewal.
        renewed: Timestamp,
    },
    /// A problem condition from the policy is `True`.
    Condition {
        /// Its type.
        kind: String,
        /// Its reason.
        reason: Option<String>,
        /// When it became `True`.
        since: Timestamp,
    },
}

impl Symptom {
    /// When this symptom started.
    pub fn since(&self) -> Timestamp {
        match self {
            Self::NotReady { since, .. } | Self::Condition { since, .. } => *since,
            Self::LeaseExpired { renewed } => *renewed,
        }
    }

    /// A short human description, for events and logs.
    pub fn describe(&self) -> String {
        match self {
            Self::NotReady { status, reason, .. } => match reason {
                Some(r) => format!("Ready is {status:?} ({r})"),
                None => format!("Ready is {status:?}"),
            },
            Self::LeaseExpired { renewed } => format!("node lease not renewed since {renewed}"),
            Self::Condition { kind, reason, .. } => match reason {
                Some(r) => format!("{kind} is True ({r})"),
                None => format!("{kind} is True"),
            },
        }
    }
}

/// The health of one node at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Health {
    /// Nothing wrong.
    Healthy,
    /// Something is wrong, but not for long enough to act.
    Suspect {
        /// When the node will count as unhealthy if nothing changes.
        unhealthy_at: Timestamp,
        /// What is wrong.
        symptoms: Vec<Symptom>,
    },
    /// Wrong for longer than the threshold: a candidate for repair.
    Unhealthy {
        /// When the node crossed the threshold.
        since: Timestamp,
        /// What is wrong.
        symptoms: Vec<Symptom>,
    },
}

impl Health {
    /// True for [`Health::Unhealthy`].
    pub fn is_unhealthy(&self) -> bool {
        matches!(self, Self::Unhealthy { .. })
    }
}

/// When a healthy node would next change state with nothing else happening: its lease running
/// out. The controller sleeps until the earliest of these instead of polling.
pub fn lease_deadline(node: &NodeView, rules: &HealthRules) -> Option<Timestamp> {
    node.lease_renewed.map(|renewed| renewed + rules.threshold)
}

/// When `node`'s `Ready` condition left `True`, if it is not `True` now: what NotReady alert
/// rules count from. A node that never reported `Ready` is not counted (it is still joining).
pub fn not_ready_since(node: &NodeView) -> Option<Timestamp> {
    node.condition(READY)
        .filter(|ready| ready.status != ConditionStatus::True)
        .map(|ready| ready.last_transition)
}

/// The NotReady nodes of a fleet with [`not_ready_since`], sorted by name.
pub fn not_ready_nodes<'a>(
    nodes: impl IntoIterator<Item = &'a NodeView>,
) -> Vec<(String, Timestamp)> {
    let mut list: Vec<(String, Timestamp)> = nodes
        .into_iter()
        .filter_map(|n| not_ready_since(n).map(|since| (n.name.clone(), since)))
        .collect();
    list.sort();
    list
}

/// Classifies `node` at `now`.
pub fn assess(node: &NodeView, now: Timestamp, rules: &HealthRules) -> Health {
    let symptoms = symptoms(node, now, rules);
    let Some(earliest) = symptoms.iter().map(Symptom::since).min() else {
        return Health::Healthy;
    };
    let crossed = earliest + rules.threshold;
    if crossed <= now {
        Health::Unhealthy {
            since: crossed,
            symptoms,
        }
    } else {
        Health::Suspect {
            unhealthy_at: crossed,
            symptoms,
        }
    }
}

fn symptoms(node: &NodeView, now: Timestamp, rules: &HealthRules) -> Vec<Symptom> {
    let mut found = Vec::new();
    match node.condition(READY) {
        Some(ready) if ready.status != ConditionStatus::True => found.push(Symptom::NotReady {
            status: ready.status,
            reason: ready.reason.clone(),
            since: ready.last_transition,
        }),
        _ => {}
    }
    // A lease is only a symptom once it is as old as the threshold: kubelets renew every
    // 10 s, so a younger lease says nothing. Its symptom starts at the last renewal.
    if let Some(renewed) = node.lease_renewed
        && now.duration_since(renewed) >= rules.threshold
    {
        found.push(Symptom::LeaseExpired { renewed });
    }
    for kind in &rules.problem_conditions {
        if let Some(c) = node.condition(kind)
            && c.status == ConditionStatus::True
        {
            found.push(Symptom::Condition {
                kind: kind.clone(),
                reason: c.reason.clone(),
                since: c.last_transition,
            });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NodeCondition;

    fn ts(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    fn node_with_ready(status: ConditionStatus, since: i64) -> NodeView {
        let mut node = NodeView::new("n1");
        node.conditions
            .push(NodeCondition::new(READY, status, ts(since)));
        node
    }

    #[test]
    fn not_ready_nodes_are_listed_with_when_ready_left_true() {
        let mut down = node_with_ready(ConditionStatus::Unknown, 40);
        down.name = "b".into();
        let up = node_with_ready(ConditionStatus::True, 0);
        let joining = NodeView::new("c");
        let mut failed = node_with_ready(ConditionStatus::False, 7);
        failed.name = "a".into();
        assert_eq!(
            not_ready_nodes([&down, &up, &joining, &failed]),
            [("a".to_owned(), ts(7)), ("b".to_owned(), ts(40))]
        );
    }

    #[test]
    fn a_ready_node_is_healthy() {
        let node = node_with_ready(ConditionStatus::True, 0);
        assert_eq!(
            assess(&node, ts(10_000), &HealthRules::default()),
            Health::Healthy
        );
    }

    #[test]
    fn not_ready_is_suspect_until_the_threshold_then_unhealthy() {
        let rules = HealthRules::default();
        for status in [ConditionStatus::False, ConditionStatus::Unknown] {
            let node = node_with_ready(status, 0);
            match assess(&node, ts(299), &rules) {
                Health::Suspect { unhealthy_at, .. } => assert_eq!(unhealthy_at, ts(300)),
                other => panic!("{other:?}"),
            }
            match assess(&node, ts(300), &rules) {
                Health::Unhealthy { since, symptoms } => {
                    assert_eq!(since, ts(300));
                    assert!(matches!(symptoms[0], Symptom::NotReady { .. }));
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn a_node_that_never_reported_ready_is_not_judged_by_ready() {
        let node = NodeView::new("fresh");
        assert_eq!(
            assess(&node, ts(10_000), &HealthRules::default()),
            Health::Healthy
        );
    }

    #[test]
    fn a_stale_lease_is_unhealthy_even_when_ready_says_true() {
        let mut node = node_with_ready(ConditionStatus::True, 0);
        node.lease_renewed = Some(ts(0));
        let rules = HealthRules::default();
        assert_eq!(assess(&node, ts(299), &rules), Health::Healthy);
        assert_eq!(lease_deadline(&node, &rules), Some(ts(300)));
        match assess(&node, ts(300), &rules) {
            Health::Unhealthy { since, symptoms } => {
                assert_eq!(since, ts(300));
                assert_eq!(symptoms, vec![Symptom::LeaseExpired { renewed: ts(0) }]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn problem_conditions_count_only_when_listed_and_true() {
        let mut node = node_with_ready(ConditionStatus::True, 0);
        node.conditions.push(
            NodeCondition::new("KernelDeadlock", ConditionStatus::True, ts(10))
                .with_reason("DockerHung"),
        );
        assert_eq!(
            assess(&node, ts(1_000), &HealthRules::default()),
            Health::Healthy
        );
        let rules = HealthRules {
            problem_conditions: vec!["KernelDeadlock".into()],
            ..HealthRules::default()
        };
        let health = assess(&node, ts(1_000), &rules);
        assert!(health.is_unhealthy(), "{health:?}");
        if let Health::Unhealthy { symptoms, .. } = health {
            assert_eq!(
                symptoms[0].describe(),
                "KernelDeadlock is True (DockerHung)"
            );
        }
    }

    #[test]
    fn the_earliest_symptom_decides_when_the_threshold_is_crossed() {
        let mut node = node_with_ready(ConditionStatus::False, 100);
        node.lease_renewed = Some(ts(0));
        match assess(&node, ts(301), &HealthRules::default()) {
            Health::Unhealthy { since, symptoms } => {
                assert_eq!(since, ts(300));
                assert_eq!(symptoms.len(), 2);
            }
            other => panic!("{other:?}"),
        }
    }
}
