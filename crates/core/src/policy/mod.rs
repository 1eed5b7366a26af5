//! The repair policy: when a node counts as unhealthy, what to do about it, and the limits that
//! keep nodemend from making an outage worse.
//!
//! Two layers, as the configuration reaches us and as the code uses it: [`RawPolicy`] is what a
//! policy file says (every field optional, names as in the file), and [`Policy`] is the
//! validated result with every default filled in and per-pool overrides merged. Validation
//! errors name the field and the reason.

mod raw;

use std::collections::BTreeMap;
use std::fmt;

use jiff::SignedDuration;
use serde::Serialize;

use crate::health::HealthRules;

pub use raw::{PolicyError, RawDrain, RawPolicy, RawPool, RawStep};

/// A repair action on a node's VM, in the order AKS escalates them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Restart the VM.
    Reboot,
    /// Restore the OS disk from the image (local state is lost).
    Reimage,
    /// Move the VM to another host.
    Redeploy,
}

impl Action {
    /// Lower-case name, as in event messages (`Node auto-repair reboot action failed ...`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reboot => "reboot",
            Self::Reimage => "reimage",
            Self::Redeploy => "redeploy",
        }
    }

    /// Capitalised name, as in event reasons (`NodeRebootError`).
    pub fn title(self) -> &'static str {
        match self {
            Self::Reboot => "Reboot",
            Self::Reimage => "Reimage",
            Self::Redeploy => "Redeploy",
        }
    }

    /// Whether pods on the node are lost, so a drain should come first.
    pub fn disrupts_pods(self) -> bool {
        matches!(self, Self::Reimage | Self::Redeploy)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A cap on how many nodes may be unhealthy: an absolute count or a share of the nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Limit {
    /// At most this many.
    Count(u32),
    /// At most this percentage (0–100) of the total.
    Percent(u8),
}

impl Limit {
    /// Whether `count` out of `total` is within the limit. A percentage rounds down but always
    /// allows one node (except `0%`), so that the one broken node of a small pool can be
    /// repaired.
    pub fn allows(self, count: usize, total: usize) -> bool {
        match self {
            Self::Count(max) => count <= max as usize,
            Self::Percent(0) => count == 0,
            Self::Percent(pct) => count <= (usize::from(pct) * total / 100).max(1),
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Count(n) => write!(f, "{n}"),
            Self::Percent(p) => write!(f, "{p}%"),
        }
    }
}

/// One rung of the repair ladder: an action and how long the node has to recover after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Step {
    /// The action.
    pub action: Action,
    /// How long to wait for the node to come back Ready (with a new boot ID) before escalating.
    pub verify: SignedDuration,
}

/// What to do when a drain cannot finish in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DrainTimeout {
    /// Carry on with the action anyway: the node is broken and its pods are not running well.
    Proceed,
    /// Give up the repair and leave the node for a human.
    Stop,
}

/// Draining the node through the Eviction API (honouring PodDisruptionBudgets) before actions
/// that lose its pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Drain {
    /// How long evictions may be retried.
    pub timeout: SignedDuration,
    /// What happens after the timeout.
    pub on_timeout: DrainTimeout,
}

/// The policy for one agent pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PoolPolicy {
    /// Whether nodemend repairs this pool at all (turn off to leave a pool to AKS's own
    /// auto-repair).
    pub enabled: bool,
    /// The escalation ladder.
    pub ladder: Vec<Step>,
    /// At most this many repairs at once in the pool.
    pub max_concurrent: u32,
    /// No repairs while more than this is unhealthy in the pool.
    pub max_unhealthy: Limit,
    /// Cordon the node before the first action.
    pub cordon: bool,
    /// Uncordon the node once it has recovered (only if nodemend cordoned it).
    pub uncordon: bool,
    /// Drain before reimage and redeploy; `None` to skip draining.
    pub drain: Option<Drain>,
}

/// The whole repair policy, validated and with defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    /// When a node counts as unhealthy.
    #[serde(skip)]
    pub health: HealthRules,
    /// No repairs while more than this share of the cluster is unhealthy.
    pub max_unhealthy: Limit,
    /// At most this many repairs at once in the cluster.
    pub max_concurrent: u32,
    /// At most this many redeploys per rolling hour; past it a redeploy fails with
    /// `TooManyVMRedeploymentRequests` without calling the cloud.
    pub redeploys_per_hour: u32,
    /// How many times the whole ladder may be tried for one node.
    pub ladder_attempts: u32,
    /// Wait before the second try of the ladder; doubles for each further try.
    pub backoff: SignedDuration,
    /// Repair the only node of a single-node cluster (off by default: there is nowhere for
    /// its pods to go).
    pub allow_single_node: bool,
    /// Decide and report, but never act.
    pub dry_run: bool,
    /// Policy for pools not named in `pools`.
    pub default_pool: PoolPolicy,
    /// Per-pool policies (defaults merged with the pool's overrides).
    pub pools: BTreeMap<String, PoolPolicy>,
}

impl Policy {
    /// The policy for `pool` (pool names compare case-insensitively, as ARM names do).
    pub fn pool(&self, pool: Option<&str>) -> &PoolPolicy {
        pool.and_then(|name| {
            self.pools
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, p)| p)
        })
        .unwrap_or(&self.default_pool)
    }
}

impl Default for Policy {
    fn default() -> Self {
        RawPolicy::default()
            .resolve()
            .unwrap_or_else(|err| unreachable!("the built-in defaults are valid: {err}"))
    }
}

#[cfg(test)]
mod tests;
