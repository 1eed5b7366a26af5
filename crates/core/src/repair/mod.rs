//! One node's repair as an explicit state machine: [`Repair`] is the record (stored in the
//! cluster as a `NodeRepair` resource), [`step`] decides the next phase and the effects to
//! carry out.
//!
//! Crash safety rests on one rule the executor follows: **persist the returned record, then
//! carry out its effects**. A record in [`Phase::Acting`] therefore means "this action may have
//! been sent"; after a restart, with no result in hand, [`step`] treats it as sent and goes on to
//! verify it. An action is never sent twice by accident.

mod events;
mod step;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::policy::Action;

pub use events::{EventType, RepairEvent, action_failed_message};
pub use step::{
    ActionResult, DrainProgress, Effect, Observation, REDEPLOY_BUDGET_CODE, Transition, step,
};

/// Where a repair stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "PascalCase")]
pub enum Phase {
    /// The next rung (`Repair::step`) has not started: waiting for the safety limits, or about
    /// to cordon.
    Pending,
    /// Evicting the node's pods before a reimage or redeploy.
    Draining {
        /// When the drain started.
        since: Timestamp,
    },
    /// The action may have been sent to the cloud. Recorded before it is sent.
    Acting {
        /// The action.
        action: Action,
        /// When it was (about to be) sent.
        issued: Timestamp,
    },
    /// The action finished; waiting for the node to come back Ready with a new boot ID.
    Verifying {
        /// The action.
        action: Action,
        /// When verification started.
        since: Timestamp,
    },
    /// The ladder failed; waiting before trying it again.
    BackingOff {
        /// When the next try may start.
        until: Timestamp,
    },
    /// The node is healthy again.
    Succeeded {
        /// When the repair ended.
        at: Timestamp,
    },
    /// Every try failed; the node is left cordoned for a human.
    GaveUp {
        /// When the repair ended.
        at: Timestamp,
    },
    /// The repair stopped for a reason other than success or failure (node deleted, opted out).
    Cancelled {
        /// When the repair ended.
        at: Timestamp,
        /// Why.
        reason: String,
    },
}

impl Phase {
    /// True once the repair has ended.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::Succeeded { .. } | Self::GaveUp { .. } | Self::Cancelled { .. }
        )
    }

    /// Short name, as shown by `kubectl get noderepairs`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Draining { .. } => "Draining",
            Self::Acting { .. } => "Acting",
            Self::Verifying { .. } => "Verifying",
            Self::BackingOff { .. } => "BackingOff",
            Self::Succeeded { .. } => "Succeeded",
            Self::GaveUp { .. } => "GaveUp",
            Self::Cancelled { .. } => "Cancelled",
        }
    }
}

/// How one rung of the ladder ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "PascalCase")]
pub enum StepOutcome {
    /// The node came back Ready with a new boot ID.
    Recovered,
    /// The cloud rejected or failed the action with this code.
    Failed {
        /// The error code, e.g. `VMExtensionProvisioningError`.
        code: String,
    },
    /// The action ran but the node did not recover within the verification window.
    NotRecovered,
    /// A drain blocked by PodDisruptionBudgets stopped the repair.
    DrainBlocked,
}

/// The history of one rung.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    /// The action.
    pub action: Action,
    /// Which try of the ladder (1-based).
    pub attempt: u32,
    /// When it started.
    pub started: Timestamp,
    /// When it ended.
    pub finished: Timestamp,
    /// How it ended.
    pub outcome: StepOutcome,
}

/// The durable record of one node's repair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Repair {
    /// The node.
    pub node: String,
    /// Its agent pool.
    pub pool: Option<String>,
    /// Where the repair stands.
    pub phase: Phase,
    /// Index of the current (or next) rung of the pool's ladder.
    pub step: usize,
    /// Which try of the ladder (1-based).
    pub attempt: u32,
    /// When the repair started.
    pub started: Timestamp,
    /// The node's boot ID when the current action started: a reboot counts only if it changes.
    pub boot_id: Option<String>,
    /// Whether nodemend cordoned the node (and so may uncordon it).
    pub cordoned_by_us: bool,
    /// The last error code from the cloud.
    pub last_error: Option<String>,
    /// Every finished rung.
    pub history: Vec<StepRecord>,
}

impl Repair {
    /// A new repair of `node`, starting at the first rung.
    pub fn new(node: impl Into<String>, pool: Option<String>, now: Timestamp) -> Self {
        Self {
            node: node.into(),
            pool,
            phase: Phase::Pending,
            step: 0,
            attempt: 1,
            started: now,
            boot_id: None,
            cordoned_by_us: false,
            last_error: None,
            history: Vec::new(),
        }
    }

    /// When it ended, for a finished repair.
    pub fn finished_at(&self) -> Option<Timestamp> {
        match &self.phase {
            Phase::Succeeded { at } | Phase::GaveUp { at } | Phase::Cancelled { at, .. } => {
                Some(*at)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
