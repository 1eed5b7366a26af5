//! `subscription-state` and `provider-not-registered`: the subscription itself.
//!
//! A `Disabled` or `Deleted` subscription is read-only (`ReadOnlyDisabledSubscription`): nothing
//! in the cluster can change until billing restores it. `Warned` and `PastDue` come before that.
//! The activity log is also searched for the code, so the finding appears even when the
//! subscription could not be read. Each resource provider read that is not `Registered` is a
//! finding of its own (`Registering` is a warning, anything else an error).

use super::{operation_line, reconcile_cluster};
use crate::catalog::Severity;
use crate::diagnosis::facts::Facts;
use crate::diagnosis::finding::{Draft, Finding};
use crate::diagnosis::placeholders::Placeholders;

pub(super) const STATE_ID: &str = "subscription-state";
pub(super) const PROVIDER_ID: &str = "provider-not-registered";

const CODE: &str = "ReadOnlyDisabledSubscription";

pub(super) fn state(facts: &Facts<'_, '_>) -> Vec<Finding> {
    let (snapshot, catalog) = (facts.snapshot, facts.catalog);
    let info = snapshot
        .azure
        .as_ref()
        .and_then(|a| a.subscription.as_ref());
    let refused = facts.failures_of(&[CODE]).next().map(|f| f.record);
    let state = info.map(|s| s.state.as_str());
    let (severity, title) = match state {
        Some(s) if s.eq_ignore_ascii_case("Disabled") || s.eq_ignore_ascii_case("Deleted") => (
            Severity::Critical,
            "The subscription is disabled and read-only",
        ),
        Some(s) if s.eq_ignore_ascii_case("Warned") || s.eq_ignore_ascii_case("PastDue") => (
            Severity::Warning,
            "The subscription has a billing warning and may be disabled soon",
        ),
        _ if refused.is_some() => (
            Severity::Critical,
            "Azure refused a change because the subscription is read-only",
        ),
        _ => return Vec::new(),
    };
    let sub = info
        .map(|s| s.id.as_str())
        .or(snapshot.subscription())
        .unwrap_or("<subscription-id>");
    let names = Placeholders::for_snapshot(snapshot);
    let mut draft = Draft::new(STATE_ID, severity, format!("/subscriptions/{sub}"), title);
    if let Some(state) = state {
        draft = draft.evidence("state", state);
    }
    if let Some(record) = refused {
        draft = draft.evidence("refused operation", operation_line(snapshot, record));
    }
    let mut draft = draft.code(CODE).entry(catalog.find(CODE), &names);
    if snapshot.anything_failed() {
        for command in reconcile_cluster(snapshot) {
            draft = draft.then(command);
        }
    }
    vec![draft.build()]
}

pub(super) fn providers(facts: &Facts<'_, '_>) -> Vec<Finding> {
    let (snapshot, catalog) = (facts.snapshot, facts.catalog);
    let Some(info) = snapshot
        .azure
        .as_ref()
        .and_then(|a| a.subscription.as_ref())
    else {
        return Vec::new();
    };
    let names = Placeholders::for_snapshot(snapshot);
    info.providers
        .iter()
        .filter(|p| !p.state.eq_ignore_ascii_case("Registered"))
        .map(|p| {
            let registering = p.state.eq_ignore_ascii_case("Registering");
            let severity = if registering {
                Severity::Warning
            } else {
                Severity::Error
            };
            let title = if registering {
                format!("{} is still registering in the subscription", p.namespace)
            } else {
                format!("The subscription is not registered for {}", p.namespace)
            };
            Draft::new(
                PROVIDER_ID,
                severity,
                format!("/subscriptions/{}/providers/{}", info.id, p.namespace),
                title,
            )
            .code("MissingSubscriptionRegistration")
            .evidence("registrationState", &p.state)
            .fix(format!("az provider register --namespace {} --subscription {}", p.namespace, info.id))
            .fix(format!("az provider show --namespace {} --subscription {} --query registrationState --output tsv", p.namespace, info.id))
            .entry(catalog.find("MissingSubscriptionRegistration"), &names)
            .build()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::fixtures::{SnapshotFixture, arm, facts, failed_op, snapshot};

    #[test]
    fn disabled_and_warned_subscriptions() {
        let f = &state(&facts(&snapshot().with_subscription("Disabled", &[])))[0];
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(f.code.as_deref(), Some(CODE));
        assert_eq!(f.resource, "/subscriptions/sub");
        let f = &state(&facts(&snapshot().with_subscription("PastDue", &[])))[0];
        assert_eq!(f.severity, Severity::Warning);
        assert!(state(&facts(&snapshot().with_subscription("Enabled", &[]))).is_empty());
    }

    #[test]
    fn the_activity_log_proves_it_when_the_subscription_was_not_read() {
        let snap = snapshot().with_activity(failed_op(
            "Microsoft.ContainerService/managedClusters/write",
            "/x",
            arm(
                "ReadOnlyDisabledSubscription",
                "The subscription is disabled",
            ),
            -60,
        ));
        let f = &state(&facts(&snap))[0];
        assert_eq!(f.severity, Severity::Critical);
        assert!(f.evidence.iter().any(|e| e.label == "refused operation"));
    }

    #[test]
    fn unregistered_providers_are_errors_and_registering_ones_warnings() {
        let snap = snapshot().with_subscription(
            "Enabled",
            &[
                ("Microsoft.ContainerService", "NotRegistered"),
                ("Microsoft.Compute", "Registered"),
                ("Microsoft.Network", "Registering"),
            ],
        );
        let findings = providers(&facts(&snap));
        assert_eq!(findings.len(), 2);
        assert_eq!(findings[0].severity, Severity::Error);
        assert_eq!(
            findings[0].code.as_deref(),
            Some("MissingSubscriptionRegistration")
        );
        assert_eq!(
            findings[0].commands[0],
            "az provider register --namespace Microsoft.ContainerService --subscription sub"
        );
        assert_eq!(findings[1].severity, Severity::Warning);
    }
}
