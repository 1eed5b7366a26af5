//! The rules that keep nodemend away from nodes someone else is handling or that must not be
//! touched, each with a reason a person can act on.

use std::fmt;

use jiff::Timestamp;
use serde::Serialize;

use crate::health::Symptom;
use crate::model::{NodeView, ProvisioningState};
use crate::policy::{Action, Policy};
use crate::repair::{Phase, Repair, RepairEvent};

/// Label that opts a node out of repairs when set to [`OPT_OUT_VALUE`].
pub const OPT_OUT_LABEL: &str = "nodemend.io/auto-repair";
/// The value of [`OPT_OUT_LABEL`] that opts out.
pub const OPT_OUT_VALUE: &str = "disabled";
/// Taint cluster-autoscaler puts on a node it is about to delete.
pub const AUTOSCALER_DELETE_TAINT: &str = "ToBeDeletedByClusterAutoscaler";
/// Taint the cloud provider puts on a node whose VM is shut down.
pub const SHUTDOWN_TAINT: &str = "node.cloudprovider.kubernetes.io/shutdown";

/// Why an unhealthy node is not repaired now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum SkipReason {
    /// The node carries the opt-out label.
    OptedOut,
    /// The policy turns repairs off for the node's pool.
    PoolDisabled,
    /// cluster-autoscaler is deleting the node.
    ScalingDown,
    /// The node's VM is shut down on purpose.
    ShutDown,
    /// The pool is being upgraded, scaled or deleted.
    PoolChanging {
        /// The pool's provisioning state.
        state: String,
    },
    /// Someone other than nodemend cordoned the node (an upgrade, a drain by a person).
    CordonedByOthers,
    /// The only node of the cluster: there is nowhere for its pods to go.
    SingleNodeCluster,
    /// An earlier repair gave up; a person must look first.
    GaveUpBefore,
    /// An earlier repair ended recently.
    BackingOff {
        /// When a new repair may start.
        until: Timestamp,
    },
    /// The pool already has as many repairs running as allowed.
    PoolBusyRepairing {
        /// Repairs running.
        running: usize,
        /// The pool's `maxConcurrent`.
        max: u32,
    },
    /// Too much of the pool or cluster is unhealthy: a network or control-plane problem, not a
    /// node problem.
    TooManyUnhealthy {
        /// `cluster` or the pool's name.
        scope: String,
        /// Unhealthy nodes in the scope.
        unhealthy: usize,
        /// All nodes in the scope.
        total: usize,
        /// The policy's cap.
        limit: String,
    },
    /// The cluster already has as many repairs running as allowed.
    ClusterBusyRepairing {
        /// Repairs running.
        running: usize,
        /// The cluster's `maxConcurrent`.
        max: u32,
    },
    /// The node's NodeRepair record cannot be read, so nodemend cannot tell what was already
    /// done to it; a person must fix or delete the record.
    UnreadableRecord {
        /// What is wrong with the record.
        problem: String,
    },
    /// The policy says `dryRun`: the node would be repaired now, and is only reported.
    DryRun {
        /// The first step of the pool's ladder (`None` for an empty ladder).
        first_action: Option<Action>,
        /// Why the node is unhealthy.
        symptoms: Vec<Symptom>,
    },
}

impl SkipReason {
    /// A short machine-readable name, for metrics labels.
    pub fn name(&self) -> &'static str {
        match self {
            Self::OptedOut => "opted-out",
            Self::PoolDisabled => "pool-disabled",
            Self::ScalingDown => "scaling-down",
            Self::ShutDown => "shut-down",
            Self::PoolChanging { .. } => "pool-changing",
            Self::CordonedByOthers => "cordoned-by-others",
            Self::SingleNodeCluster => "single-node-cluster",
            Self::GaveUpBefore => "gave-up-before",
            Self::BackingOff { .. } => "backing-off",
            Self::TooManyUnhealthy { .. } => "too-many-unhealthy",
            Self::PoolBusyRepairing { .. } => "pool-concurrency",
            Self::ClusterBusyRepairing { .. } => "cluster-concurrency",
            Self::UnreadableRecord { .. } => "unreadable-record",
            Self::DryRun { .. } => "dry-run",
        }
    }

    /// The event that announces the skip on the node: `NodeRepairDryRun` for a dry run,
    /// `NodeRepairSkipped` for every other reason. The message is this reason in words.
    pub fn event(&self) -> RepairEvent {
        match self {
            Self::DryRun { .. } => RepairEvent::dry_run(self.to_string()),
            _ => RepairEvent::skipped(self),
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OptedOut => write!(f, "the node is labelled {OPT_OUT_LABEL}={OPT_OUT_VALUE}"),
            Self::PoolDisabled => write!(f, "the policy turns repairs off for this pool"),
            Self::ScalingDown => write!(
                f,
                "cluster-autoscaler is deleting the node ({AUTOSCALER_DELETE_TAINT})"
            ),
            Self::ShutDown => write!(f, "the node's VM is shut down ({SHUTDOWN_TAINT})"),
            Self::PoolChanging { state } => write!(f, "the agent pool is {state}"),
            Self::CordonedByOthers => write!(f, "the node was cordoned by someone else"),
            Self::SingleNodeCluster => write!(
                f,
                "it is the only node of the cluster (allowSingleNode is off)"
            ),
            Self::GaveUpBefore => write!(
                f,
                "an earlier repair gave up; after looking at the node, `kubectl delete noderepair <node>` allows new repairs"
            ),
            Self::BackingOff { until } => write!(
                f,
                "an earlier repair ended recently; next try after {until}"
            ),
            Self::TooManyUnhealthy {
                scope,
                unhealthy,
                total,
                limit,
            } => write!(
                f,
                "{unhealthy} of {total} nodes in {scope} are unhealthy, above maxUnhealthy {limit}: that points at the network or the control plane, not at this node"
            ),
            Self::PoolBusyRepairing { running, max } => {
                write!(
                    f,
                    "{running} repair(s) already running in the pool (maxConcurrent {max})"
                )
            }
            Self::ClusterBusyRepairing { running, max } => {
                write!(
                    f,
                    "{running} repair(s) already running in the cluster (maxConcurrent {max})"
                )
            }
            Self::UnreadableRecord { problem } => write!(
                f,
                "its NodeRepair record cannot be read ({problem}); fix or delete it"
            ),
            Self::DryRun {
                first_action,
                symptoms,
            } => {
                let first = first_action.map_or("nothing", Action::as_str);
                let why: Vec<String> = symptoms.iter().map(Symptom::describe).collect();
                write!(
                    f,
                    "dry run: would start repairing with a {first} ({})",
                    why.join("; ")
                )
            }
        }
    }
}

pub(super) struct Context<'a> {
    pub(super) now: Timestamp,
    pub(super) node: &'a NodeView,
    pub(super) previous: Option<&'a Repair>,
    pub(super) fleet_size: usize,
    pub(super) pool_state: Option<ProvisioningState>,
    pub(super) policy: &'a Policy,
}

/// The first rule that keeps the node from being repaired, if any.
pub(super) fn reason(ctx: &Context<'_>) -> Option<SkipReason> {
    let node = ctx.node;
    if node
        .labels
        .get(OPT_OUT_LABEL)
        .is_some_and(|v| v == OPT_OUT_VALUE)
    {
        return Some(SkipReason::OptedOut);
    }
    if !ctx.policy.pool(node.pool.as_deref()).enabled {
        return Some(SkipReason::PoolDisabled);
    }
    if node.has_taint(AUTOSCALER_DELETE_TAINT) {
        return Some(SkipReason::ScalingDown);
    }
    if node.has_taint(SHUTDOWN_TAINT) {
        return Some(SkipReason::ShutDown);
    }
    if let Some(state) = ctx.pool_state.as_ref().filter(|s| s.is_changing_nodes()) {
        return Some(SkipReason::PoolChanging {
            state: state.to_string(),
        });
    }
    if let Some(previous) = ctx.previous {
        match previous.phase {
            Phase::GaveUp { .. } => return Some(SkipReason::GaveUpBefore),
            Phase::Succeeded { at } | Phase::Cancelled { at, .. } => {
                let until = at + ctx.policy.backoff;
                if ctx.now < until {
                    return Some(SkipReason::BackingOff { until });
                }
            }
            _ => {}
        }
    }
    let cordoned_by_us = ctx.previous.is_some_and(|r| r.cordoned_by_us);
    if node.unschedulable && !cordoned_by_us {
        return Some(SkipReason::CordonedByOthers);
    }
    if ctx.fleet_size == 1 && !ctx.policy.allow_single_node {
        return Some(SkipReason::SingleNodeCluster);
    }
    None
}
