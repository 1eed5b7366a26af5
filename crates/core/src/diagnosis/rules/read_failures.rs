//! `read-failed`: every read that failed while collecting, so a report never looks clean only
//! because something could not be seen. A refused read names the permission it lacked
//! ("permission missing: <action>"), taken from the collector or from Azure's
//! `AuthorizationFailed` message; throttled and unreachable reads say so.

use super::quoted_after;
use crate::catalog::Severity;
use crate::cloud::CloudErrorKind;
use crate::diagnosis::facts::Facts;
use crate::diagnosis::finding::{Draft, Finding, clip};
use crate::diagnosis::placeholders::Placeholders;
use crate::diagnosis::snapshot::{ReadError, ReadFailure};

pub(super) const ID: &str = "read-failed";

/// What went wrong with a read, reduced to what the reader can act on.
enum Trouble {
    Permission(Option<String>),
    Unauthenticated,
    Throttled(Option<u64>),
    Unreachable,
    NotFound,
    Other,
}

fn trouble(failure: &ReadFailure) -> Trouble {
    match &failure.error {
        ReadError::Azure(e) => match e.kind {
            // ARM names the action it refused; a read made of several calls (a subscription
            // and its providers) may have been refused for another than the one it is known by.
            CloudErrorKind::Forbidden => Trouble::Permission(
                quoted_after(&e.message, "perform action '")
                    .map(str::to_owned)
                    .or_else(|| failure.needs.clone()),
            ),
            CloudErrorKind::Unauthenticated => Trouble::Unauthenticated,
            CloudErrorKind::Throttled { retry_after_secs } => Trouble::Throttled(retry_after_secs),
            CloudErrorKind::Unavailable
            | CloudErrorKind::TimedOut
            | CloudErrorKind::OutcomeUnknown => Trouble::Unreachable,
            CloudErrorKind::NotFound => Trouble::NotFound,
            _ => Trouble::Other,
        },
        ReadError::Kubernetes { status, .. } => match status {
            Some(401) => Trouble::Unauthenticated,
            Some(403) => Trouble::Permission(failure.needs.clone()),
            Some(404) => Trouble::NotFound,
            Some(429) => Trouble::Throttled(None),
            Some(s) if *s >= 500 => Trouble::Unreachable,
            None => Trouble::Unreachable,
            Some(_) => Trouble::Other,
        },
    }
}

pub(super) fn check(facts: &Facts<'_, '_>) -> Vec<Finding> {
    let (snapshot, catalog) = (facts.snapshot, facts.catalog);
    let names = Placeholders::for_snapshot(snapshot);
    snapshot
        .read_failures
        .iter()
        .map(|failure| {
            let (severity, title, fix) = match trouble(failure) {
                Trouble::Permission(Some(action)) => (
                    Severity::Warning,
                    format!("Permission missing: {action}"),
                    Some("az role assignment list --all --assignee $(az account show --query user.name --output tsv) --output table"),
                ),
                Trouble::Permission(None) => (
                    Severity::Warning,
                    format!("Not allowed to read {}", failure.read),
                    None,
                ),
                Trouble::Unauthenticated => (
                    Severity::Error,
                    format!("Not signed in: could not read {}", failure.read),
                    Some("az login"),
                ),
                Trouble::Throttled(_) => (Severity::Warning, format!("Throttled while reading {}", failure.read), None),
                Trouble::Unreachable => (Severity::Warning, format!("No answer while reading {}", failure.read), None),
                Trouble::NotFound => (Severity::Warning, format!("Not found: {}", failure.read), None),
                Trouble::Other => (Severity::Warning, format!("Could not read {}", failure.read), None),
            };
            let (resource, code, message) = match &failure.error {
                ReadError::Azure(e) => (e.resource.clone(), e.code.clone(), e.message.clone()),
                ReadError::Kubernetes { status, reason, message } => (
                    format!("kubernetes/{}", failure.read),
                    reason.clone().or_else(|| status.map(|s| format!("HTTP{s}"))),
                    message.clone(),
                ),
            };
            let mut draft = Draft::new(ID, severity, resource, title)
                .evidence("read", &failure.read)
                .evidence("error", clip(&message, 300))
                .evidence("effect", "the rules that need this read ran without it");
            if let Trouble::Throttled(Some(secs)) = trouble(failure) {
                draft = draft.evidence("retry after", format!("{secs}s"));
            }
            let needs = match trouble(failure) {
                Trouble::Permission(Some(action)) => Some(action),
                _ => failure.needs.clone(),
            };
            if let Some(needs) = &needs {
                draft = draft.evidence("needs", needs);
            }
            if let Some(code) = &code {
                draft = draft.code(code).entry(catalog.find(code), &names);
            }
            if let Some(fix) = fix {
                draft = draft.fix(fix);
            }
            draft.build()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::fixtures::{
        SnapshotFixture, azure_read_failed, facts, kube_read_failed, snapshot,
    };

    const DENIED: &str = "The client 'me@example.com' with object id 'x' does not have authorization to perform action 'Microsoft.Insights/eventtypes/values/read' over scope '/subscriptions/sub'.";

    #[test]
    fn a_refused_azure_read_names_the_missing_permission() {
        let snap = snapshot().read_failed(azure_read_failed(
            "activity log",
            CloudErrorKind::Forbidden,
            Some("AuthorizationFailed"),
            DENIED,
        ));
        let f = &check(&facts(&snap))[0];
        assert_eq!(
            f.title,
            "Permission missing: Microsoft.Insights/eventtypes/values/read"
        );
        assert_eq!(f.code.as_deref(), Some("AuthorizationFailed"));
        assert_eq!(f.entry.as_deref(), Some("AuthorizationFailed"));
        assert_eq!(f.severity, Severity::Warning);
    }

    #[test]
    fn the_action_arm_refused_wins_over_the_one_the_read_is_known_by() {
        let refused = "The client 'c' with object id 'c' does not have authorization to perform action 'Microsoft.Resources/subscriptions/providers/read' over scope '/subscriptions/sub/providers/Microsoft.Compute' or the scope is invalid.";
        let mut failure = azure_read_failed(
            "subscription sub",
            CloudErrorKind::Forbidden,
            Some("AuthorizationFailed"),
            refused,
        );
        failure.needs = Some("Microsoft.Resources/subscriptions/read".into());
        let f = &check(&facts(&snapshot().read_failed(failure)))[0];
        assert_eq!(
            f.title,
            "Permission missing: Microsoft.Resources/subscriptions/providers/read"
        );
        assert!(
            f.evidence.iter().any(|e| e.label == "needs"
                && e.value == "Microsoft.Resources/subscriptions/providers/read"),
            "{:?}",
            f.evidence
        );
    }

    #[test]
    fn throttled_unreachable_and_unauthenticated_reads() {
        let snap = snapshot()
            .read_failed(azure_read_failed(
                "quotas",
                CloudErrorKind::Throttled {
                    retry_after_secs: Some(30),
                },
                Some("TooManyRequests"),
                "slow down",
            ))
            .read_failed(kube_read_failed("nodes", None, "connection refused"))
            .read_failed(kube_read_failed("pods", Some(401), "Unauthorized"));
        let findings = check(&facts(&snap));
        assert_eq!(findings[0].title, "Throttled while reading quotas");
        assert!(
            findings[0]
                .evidence
                .iter()
                .any(|e| e.label == "retry after" && e.value == "30s")
        );
        assert_eq!(
            findings[0].entry.as_deref(),
            Some("TooManyRequestsReceived")
        );
        assert_eq!(findings[1].title, "No answer while reading nodes");
        assert_eq!(findings[1].resource, "kubernetes/nodes");
        assert_eq!(findings[2].severity, Severity::Error);
        assert_eq!(findings[2].code.as_deref(), Some("HTTP401"));
    }

    #[test]
    fn a_forbidden_kubernetes_read_uses_what_the_collector_says_it_needs() {
        let mut failure = kube_read_failed("kube-system pods", Some(403), "pods is forbidden");
        failure.needs = Some("list pods in kube-system".into());
        let f = &check(&facts(&snapshot().read_failed(failure)))[0];
        assert_eq!(f.title, "Permission missing: list pods in kube-system");
    }
}
