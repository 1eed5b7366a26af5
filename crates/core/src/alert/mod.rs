//! Alert rules: when to tell a person, as a pure state machine.
//!
//! A rule either counts matching Kubernetes events ([`Trigger::Events`]: at least `count`
//! occurrences within `window`) or watches how long nodes stay NotReady
//! ([`Trigger::NodeNotReady`]). Either way it fires at most once per `quiet` period for the same
//! group (the rule as a whole, a node, or an involved object).
//!
//! "NotReady for longer than X" is fed as its own input, [`AlertEngine::not_ready`], rather than
//! derived from the node lifecycle controller's `NodeNotReady` event: that event is emitted
//! once, at the transition, so "still NotReady X minutes later" would need a timer anyway, and
//! not every cluster emits it. The controller already knows from its health check which nodes
//! are NotReady and since when; it passes that list on each pass.
//!
//! Nothing here reads the clock or does IO: callers pass `now`, and deliver the [`Firing`]s.

mod engine;
mod raw;
mod webhook;

use jiff::{SignedDuration, Timestamp};
use regex::Regex;
use serde::Serialize;

pub use engine::AlertEngine;
pub use raw::{AlertRuleError, RawAlertRule, RawAlerts, builtin_rules};
pub use webhook::{RawWebhook, Webhook, WebhookFormat, WebhookUrl, check_url};

/// What a rule looks at in one Kubernetes event (borrowed from the archive's record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertEvent<'a> {
    /// Reason, e.g. `NodeRebootError`.
    pub reason: &'a str,
    /// `Normal` or `Warning`.
    pub event_type: &'a str,
    /// Message.
    pub message: &'a str,
    /// Kind of the involved object.
    pub object_kind: Option<&'a str>,
    /// Name of the involved object.
    pub object_name: Option<&'a str>,
    /// Namespace of the involved object.
    pub object_namespace: Option<&'a str>,
    /// The node concerned, when known.
    pub node: Option<&'a str>,
    /// When it (last) happened.
    pub at: Timestamp,
    /// How many new occurrences this delivery brings (the growth of an aggregated event's
    /// count; 1 for a plain new event; 0 for a repeated delivery, which never counts).
    pub occurrences: u32,
}

/// Which events a rule counts. Every field set must match; an empty one matches anything.
#[derive(Debug, Clone)]
pub struct EventMatch {
    /// Any of these reasons (exact).
    pub reasons: Vec<String>,
    /// This type, `Normal` or `Warning` (ASCII case-insensitive).
    pub event_type: Option<String>,
    /// A regular expression found somewhere in the message.
    pub message: Option<Regex>,
    /// This involved object kind (ASCII case-insensitive).
    pub object_kind: Option<String>,
    /// A regular expression found somewhere in the involved object's name.
    pub object_name: Option<Regex>,
}

impl EventMatch {
    /// Whether `event` matches.
    pub fn matches(&self, event: &AlertEvent<'_>) -> bool {
        (self.reasons.is_empty() || self.reasons.iter().any(|r| r == event.reason))
            && self
                .event_type
                .as_ref()
                .is_none_or(|t| t.eq_ignore_ascii_case(event.event_type))
            && self
                .message
                .as_ref()
                .is_none_or(|m| m.is_match(event.message))
            && self
                .object_kind
                .as_ref()
                .is_none_or(|k| event.object_kind.is_some_and(|o| k.eq_ignore_ascii_case(o)))
            && self
                .object_name
                .as_ref()
                .is_none_or(|n| event.object_name.is_some_and(|o| n.is_match(o)))
    }
}

/// What makes a rule fire.
#[derive(Debug, Clone)]
pub enum Trigger {
    /// At least `count` occurrences of matching events within `window`.
    Events {
        /// Which events count.
        matcher: EventMatch,
        /// How many occurrences.
        count: u32,
        /// Within how long.
        window: SignedDuration,
    },
    /// A node NotReady for at least `after`; fires once per NotReady episode.
    NodeNotReady {
        /// How long.
        after: SignedDuration,
    },
}

/// What a rule counts separately, each with its own window and quiet period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum GroupBy {
    /// All matching events together.
    Rule,
    /// Per node (events whose node is unknown form one group).
    Node,
    /// Per involved object (kind, namespace and name).
    Object,
}

/// How urgent a firing is, for the receiver's formatting and routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Severity {
    /// For information.
    Info,
    /// Someone should look.
    Warning,
    /// Someone must act.
    Critical,
}

/// One validated alert rule.
#[derive(Debug, Clone)]
pub struct AlertRule {
    /// Unique name, e.g. `node-reboot-error`.
    pub name: String,
    /// How urgent its firings are.
    pub severity: Severity,
    /// What makes it fire.
    pub trigger: Trigger,
    /// After firing, the same group stays silent this long.
    pub quiet: SignedDuration,
    /// What is counted separately.
    pub group_by: GroupBy,
}

/// The event that tipped a rule over, as the alert shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sample {
    /// Reason.
    pub reason: String,
    /// `Normal` or `Warning`.
    pub event_type: String,
    /// Message.
    pub message: String,
    /// The involved object as `Kind/name` or `Kind/namespace/name`.
    pub object: Option<String>,
    /// The node concerned.
    pub node: Option<String>,
}

/// A rule that fired: what an alert delivery sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Firing {
    /// The rule's name.
    pub rule: String,
    /// The rule's severity.
    pub severity: Severity,
    /// The group that fired (a node name, an object), `None` for a rule counted as a whole.
    pub group: Option<String>,
    /// When it fired.
    pub at: Timestamp,
    /// Occurrences counted (1 for a NotReady node).
    pub count: u32,
    /// The earliest occurrence counted (for NotReady: when the node became NotReady).
    pub first: Timestamp,
    /// The latest occurrence counted.
    pub last: Timestamp,
    /// One line for a person.
    pub summary: String,
    /// The last matching event, for event rules.
    pub sample: Option<Sample>,
}

#[cfg(test)]
mod tests;
