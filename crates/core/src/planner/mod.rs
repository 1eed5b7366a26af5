//! Which unhealthy nodes to start repairing now, and where the safety limits hold everything.
//!
//! [`plan`] looks at the whole fleet at `now`: it classifies every node, applies the skip rules
//! (opt-out, pools being upgraded or scaled, nodes cordoned by someone else...), holds a pool
//! or the cluster when too much of it is unhealthy (that is a network or control-plane problem,
//! not a node problem), and starts repairs up to the concurrency limits. A node cleared to start
//! is still only reported when its repair record cannot be read or the policy says `dryRun`. It
//! never acts on a cache that has not finished loading.

mod skip;

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde::Serialize;

use crate::health::{Health, Symptom, assess, lease_deadline};
use crate::model::{NodeView, ProvisioningState};
use crate::policy::{Limit, Policy};
use crate::repair::Repair;

pub use skip::{AUTOSCALER_DELETE_TAINT, OPT_OUT_LABEL, OPT_OUT_VALUE, SHUTDOWN_TAINT, SkipReason};

/// Everything the planner looks at.
#[derive(Debug, Clone, Copy)]
pub struct Fleet<'a> {
    /// Every watch has delivered its initial list. Until then nothing is decided.
    pub synced: bool,
    /// All nodes.
    pub nodes: &'a [&'a NodeView],
    /// Repair records, active and finished (the latest per node is used).
    pub repairs: &'a [Repair],
    /// Provisioning state of each agent pool, when the cloud side is known.
    pub pool_states: &'a BTreeMap<String, ProvisioningState>,
    /// Nodes whose repair record cannot be read, with what is wrong with it: never repaired.
    pub unreadable: &'a BTreeMap<String, String>,
}

/// Where a hold applies.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Scope {
    /// The whole cluster.
    Cluster,
    /// One agent pool.
    Pool(String),
}

/// What the planner decided about one node or scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Decision {
    /// Create a repair record for the node and start its ladder.
    Start {
        /// The node.
        node: String,
        /// Its pool.
        pool: Option<String>,
        /// When it crossed the threshold.
        unhealthy_since: Timestamp,
        /// Why it is unhealthy.
        symptoms: Vec<Symptom>,
    },
    /// The node is unhealthy but will not be repaired now.
    Skip {
        /// The node.
        node: String,
        /// Why.
        reason: SkipReason,
    },
    /// Too much of a scope is unhealthy: no disruptive step there until it recovers.
    Hold {
        /// The pool or the cluster.
        scope: Scope,
        /// Unhealthy nodes in the scope.
        unhealthy: usize,
        /// All nodes in the scope.
        total: usize,
        /// The policy's cap.
        limit: Limit,
    },
}

/// Unhealthy and total nodes of one pool, for metrics and reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PoolHealth {
    /// Unhealthy nodes.
    pub unhealthy: usize,
    /// Nodes with a symptom that has not lasted the threshold yet.
    pub suspect: usize,
    /// All nodes.
    pub total: usize,
}

impl PoolHealth {
    /// The nodes that count against `maxUnhealthy`: the unhealthy ones and the suspects. In a
    /// storm nodes cross the threshold one after the other (their last heartbeats differ by up
    /// to a lease interval), so counting only the ones already across would let the first of
    /// them be repaired alone before the hold starts.
    pub fn troubled(&self) -> usize {
        self.unhealthy + self.suspect
    }
}

/// The planner's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// Decisions, holds first, then starts and skips by node name.
    pub decisions: Vec<Decision>,
    /// Scopes where disruptive steps must wait.
    pub held: BTreeSet<Scope>,
    /// Node health per pool (nodes without a pool under `""`).
    pub pools: BTreeMap<String, PoolHealth>,
    /// The earliest moment a decision may change with nothing else changing (a suspect node
    /// crossing the threshold, a back-off ending).
    pub wake_at: Option<Timestamp>,
}

impl Plan {
    /// Whether a repair in `pool` may take a disruptive step now.
    pub fn may_act(&self, pool: Option<&str>) -> bool {
        !self.held.contains(&Scope::Cluster)
            && pool.is_none_or(|p| !self.held.contains(&Scope::Pool(p.to_owned())))
    }
}

fn pool_key(pool: Option<&str>) -> String {
    pool.unwrap_or_default().to_owned()
}

/// Plans at `now`. Pure: the same fleet and time give the same plan.
pub fn plan(now: Timestamp, fleet: Fleet<'_>, policy: &Policy) -> Plan {
    let mut out = Plan::default();
    if !fleet.synced {
        out.held.insert(Scope::Cluster);
        return out;
    }
    let latest = latest_repairs(fleet.repairs);
    let mut unhealthy = Vec::new();
    for &node in fleet.nodes {
        let entry = out.pools.entry(pool_key(node.pool.as_deref())).or_default();
        entry.total += 1;
        match assess(node, now, &policy.health) {
            Health::Healthy => {
                if let Some(deadline) = lease_deadline(node, &policy.health) {
                    earliest(&mut out.wake_at, deadline);
                }
            }
            Health::Suspect { unhealthy_at, .. } => {
                entry.suspect += 1;
                earliest(&mut out.wake_at, unhealthy_at);
            }
            Health::Unhealthy { since, symptoms } => {
                entry.unhealthy += 1;
                unhealthy.push((node, since, symptoms));
            }
        }
    }
    hold_overloaded_scopes(&mut out, fleet.nodes.len(), policy);

    let mut running_cluster = latest.values().filter(|r| !r.phase.is_terminal()).count();
    let mut running_pool: BTreeMap<String, usize> = BTreeMap::new();
    for repair in latest.values().filter(|r| !r.phase.is_terminal()) {
        *running_pool
            .entry(pool_key(repair.pool.as_deref()))
            .or_default() += 1;
    }

    unhealthy.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.name.cmp(&b.0.name)));
    let mut per_node = Vec::new();
    for (node, since, symptoms) in unhealthy {
        let previous = latest.get(node.name.as_str()).copied();
        if previous.is_some_and(|r| !r.phase.is_terminal()) {
            continue;
        }
        let key = pool_key(node.pool.as_deref());
        let pool_policy = policy.pool(node.pool.as_deref());
        let ctx = skip::Context {
            now,
            node,
            previous,
            fleet_size: fleet.nodes.len(),
            pool_state: node
                .pool
                .as_deref()
                .and_then(|p| pool_state(fleet.pool_states, p)),
            policy,
        };
        if let Some(reason) = skip::reason(&ctx) {
            if let SkipReason::BackingOff { until } = &reason {
                earliest(&mut out.wake_at, *until);
            }
            per_node.push(Decision::Skip {
                node: node.name.clone(),
                reason,
            });
            continue;
        }
        if let Some(reason) = held_reason(&out, node.pool.as_deref(), policy) {
            per_node.push(Decision::Skip {
                node: node.name.clone(),
                reason,
            });
            continue;
        }
        let in_pool = running_pool.entry(key).or_default();
        let reason = if *in_pool >= pool_policy.max_concurrent as usize {
            Some(SkipReason::PoolBusyRepairing {
                running: *in_pool,
                max: pool_policy.max_concurrent,
            })
        } else if running_cluster >= policy.max_concurrent as usize {
            Some(SkipReason::ClusterBusyRepairing {
                running: running_cluster,
                max: policy.max_concurrent,
            })
        } else {
            None
        };
        match reason {
            Some(reason) => per_node.push(Decision::Skip {
                node: node.name.clone(),
                reason,
            }),
            None => {
                *in_pool += 1;
                running_cluster += 1;
                per_node.push(cleared(node, since, symptoms, fleet.unreadable, policy));
            }
        }
    }
    out.decisions.extend(per_node);
    out
}

/// The decision for a node that passed every rule and limit: a start, unless its record cannot
/// be read or this is a dry run. Either way the node has taken its repair slot for this pass,
/// as a start would: a dry run then reports exactly the repairs a real run would start (the
/// others wait for concurrency), and an unreadable record may belong to a repair under way.
fn cleared(
    node: &NodeView,
    since: Timestamp,
    symptoms: Vec<Symptom>,
    unreadable: &BTreeMap<String, String>,
    policy: &Policy,
) -> Decision {
    let reason = if let Some(problem) = unreadable.get(&node.name) {
        SkipReason::UnreadableRecord {
            problem: problem.clone(),
        }
    } else if policy.dry_run {
        SkipReason::DryRun {
            first_action: policy
                .pool(node.pool.as_deref())
                .ladder
                .first()
                .map(|step| step.action),
            symptoms,
        }
    } else {
        return Decision::Start {
            node: node.name.clone(),
            pool: node.pool.clone(),
            unhealthy_since: since,
            symptoms,
        };
    };
    Decision::Skip {
        node: node.name.clone(),
        reason,
    }
}

/// The storm that holds `pool`, as a skip reason for one of its nodes.
fn held_reason(plan: &Plan, pool: Option<&str>, policy: &Policy) -> Option<SkipReason> {
    let key = pool_key(pool);
    if let Some(p) = plan
        .pools
        .get(&key)
        .filter(|_| plan.held.contains(&Scope::Pool(key.clone())))
    {
        return Some(SkipReason::TooManyUnhealthy {
            scope: format!("pool {key}"),
            unhealthy: p.troubled(),
            total: p.total,
            limit: policy.pool(pool).max_unhealthy.to_string(),
        });
    }
    if plan.held.contains(&Scope::Cluster) {
        return Some(SkipReason::TooManyUnhealthy {
            scope: "the cluster".into(),
            unhealthy: plan.pools.values().map(PoolHealth::troubled).sum(),
            total: plan.pools.values().map(|p| p.total).sum(),
            limit: policy.max_unhealthy.to_string(),
        });
    }
    None
}

fn earliest(slot: &mut Option<Timestamp>, candidate: Timestamp) {
    *slot = Some(slot.map_or(candidate, |t| t.min(candidate)));
}

fn pool_state(
    states: &BTreeMap<String, ProvisioningState>,
    pool: &str,
) -> Option<ProvisioningState> {
    states
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(pool))
        .map(|(_, state)| state.clone())
}

/// The most recent repair of each node.
fn latest_repairs(repairs: &[Repair]) -> BTreeMap<&str, &Repair> {
    let mut latest: BTreeMap<&str, &Repair> = BTreeMap::new();
    for repair in repairs {
        let slot = latest.entry(repair.node.as_str()).or_insert(repair);
        if repair.started > slot.started {
            *slot = repair;
        }
    }
    latest
}

fn hold_overloaded_scopes(out: &mut Plan, fleet_size: usize, policy: &Policy) {
    let total_unhealthy: usize = out.pools.values().map(PoolHealth::troubled).sum();
    if !policy.max_unhealthy.allows(total_unhealthy, fleet_size) {
        out.held.insert(Scope::Cluster);
        out.decisions.push(Decision::Hold {
            scope: Scope::Cluster,
            unhealthy: total_unhealthy,
            total: fleet_size,
            limit: policy.max_unhealthy,
        });
    }
    for (name, health) in &out.pools {
        let pool = if name.is_empty() {
            None
        } else {
            Some(name.as_str())
        };
        let limit = policy.pool(pool).max_unhealthy;
        if !limit.allows(health.troubled(), health.total) {
            let scope = Scope::Pool(name.clone());
            out.held.insert(scope.clone());
            out.decisions.push(Decision::Hold {
                scope,
                unhealthy: health.troubled(),
                total: health.total,
                limit,
            });
        }
    }
}

#[cfg(test)]
mod tests;
