//! The Kubernetes events a repair emits. Reasons and the failure message match AKS node
//! auto-repair, so alerts written for AKS keep working.

use serde::Serialize;

use crate::policy::Action;

/// `Normal` or `Warning`, as in a Kubernetes event's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum EventType {
    /// Something expected happened.
    Normal,
    /// Something went wrong.
    Warning,
}

/// An event to record on the Node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepairEvent {
    /// `Normal` or `Warning`.
    pub kind: EventType,
    /// Reason, e.g. `NodeRebootError`.
    pub reason: String,
    /// Message.
    pub message: String,
}

impl RepairEvent {
    pub(crate) fn normal(reason: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind: EventType::Normal,
            reason: reason.into(),
            message: message.into(),
        }
    }

    pub(crate) fn warning(reason: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind: EventType::Warning,
            reason: reason.into(),
            message: message.into(),
        }
    }

    /// `NodeRepairSkipped`: an unhealthy node that will not be repaired now, and why.
    pub fn skipped(why: impl std::fmt::Display) -> Self {
        Self::warning(
            "NodeRepairSkipped",
            format!("Node auto-repair skipped this node: {why}"),
        )
    }

    /// `NodeRepairDryRun`: what a dry run would have done.
    pub fn dry_run(message: impl Into<String>) -> Self {
        Self::normal("NodeRepairDryRun", message)
    }

    pub(crate) fn started(action: Action, attempt: u32, attempts: u32) -> Self {
        Self::normal(
            format!("Node{}Start", action.title()),
            format!("Node auto-repair {action} action started (try {attempt} of {attempts})"),
        )
    }

    pub(crate) fn ended(action: Action) -> Self {
        Self::normal(
            format!("Node{}End", action.title()),
            format!(
                "Node auto-repair {action} action completed; waiting for the node to become Ready"
            ),
        )
    }

    pub(crate) fn failed(action: Action, code: &str) -> Self {
        Self::warning(
            format!("Node{}Error", action.title()),
            action_failed_message(action, code),
        )
    }
}

/// The message of a failed action, exactly as AKS words it:
/// `Node auto-repair <reboot|reimage|redeploy> action failed due to an operation failure: <code>`.
pub fn action_failed_message(action: Action, code: &str) -> String {
    format!("Node auto-repair {action} action failed due to an operation failure: {code}")
}
