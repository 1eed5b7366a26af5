//! Kubernetes node conditions, with the times that health decisions are made from.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The status of a condition, as the kubelet (or the node lifecycle controller) reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ConditionStatus {
    /// The condition holds.
    True,
    /// The condition does not hold.
    False,
    /// Nobody has reported it recently (the node lifecycle controller sets this when the
    /// kubelet stops posting status).
    Unknown,
}

impl ConditionStatus {
    /// Parses `True`, `False` or `Unknown`; anything else counts as `Unknown`, which is what
    /// Kubernetes clients do with a value they cannot read.
    pub fn parse(raw: &str) -> Self {
        match raw {
            "True" => Self::True,
            "False" => Self::False,
            _ => Self::Unknown,
        }
    }
}

/// The condition type that says whether a node can run pods.
pub const READY: &str = "Ready";

/// One entry of `node.status.conditions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeCondition {
    /// Condition type, e.g. `Ready`, `MemoryPressure`, or a node-problem-detector type such as
    /// `KernelDeadlock`.
    pub kind: String,
    /// Current status.
    pub status: ConditionStatus,
    /// Machine-readable reason, e.g. `KubeletNotReady` or `NodeStatusUnknown`.
    pub reason: Option<String>,
    /// Human-readable message.
    pub message: Option<String>,
    /// When the status last changed: the start of the current spell.
    pub last_transition: Timestamp,
    /// When the kubelet last reported this condition.
    pub last_heartbeat: Option<Timestamp>,
}

impl NodeCondition {
    /// A condition that has had `status` since `since`, with no reason or message.
    pub fn new(kind: impl Into<String>, status: ConditionStatus, since: Timestamp) -> Self {
        Self {
            kind: kind.into(),
            status,
            reason: None,
            message: None,
            last_transition: since,
            last_heartbeat: Some(since),
        }
    }

    /// Sets the reason.
    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// How long the condition has had its current status at `now` (zero if the transition
    /// time lies in the future, as it can with clock skew between nodes).
    pub fn held_for(&self, now: Timestamp) -> jiff::SignedDuration {
        let held = now.duration_since(self.last_transition);
        if held.is_negative() {
            jiff::SignedDuration::ZERO
        } else {
            held
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn held_for_counts_from_the_transition_and_never_goes_negative() {
        let c = NodeCondition::new(READY, ConditionStatus::False, ts("2026-01-01T00:00:00Z"));
        assert_eq!(c.held_for(ts("2026-01-01T00:05:30Z")).as_secs(), 330);
        assert_eq!(c.held_for(ts("2025-12-31T23:59:00Z")).as_secs(), 0);
    }

    #[test]
    fn unreadable_status_is_unknown() {
        assert_eq!(ConditionStatus::parse("True"), ConditionStatus::True);
        assert_eq!(ConditionStatus::parse("False"), ConditionStatus::False);
        assert_eq!(ConditionStatus::parse("maybe"), ConditionStatus::Unknown);
    }
}
