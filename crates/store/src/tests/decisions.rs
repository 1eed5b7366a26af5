use jiff::Timestamp;
use nodemend_core::alert::{Firing, Severity};
use nodemend_core::health::Symptom;
use nodemend_core::planner::{Decision, Scope, SkipReason};
use nodemend_core::policy::{Action, Limit};

use super::{archive, t};
use crate::webhook::{WebhookFormat, payload};
use crate::{CLEARED, Delivery, DeliveryStatus};

pub(crate) fn firing(at: Timestamp) -> Firing {
    Firing {
        rule: "node-reboot-error".into(),
        severity: Severity::Warning,
        group: Some("n1".into()),
        at,
        count: 1,
        first: at,
        last: at,
        summary: "node-reboot-error: 1 × NodeRebootError on n1 within 10m".into(),
        sample: None,
    }
}

fn skip(node: &str, reason: SkipReason) -> Decision {
    Decision::Skip {
        node: node.into(),
        reason,
    }
}

fn hold() -> Decision {
    Decision::Hold {
        scope: Scope::Pool("np1".into()),
        unhealthy: 4,
        total: 5,
        limit: Limit::Percent(35),
    }
}

#[test]
fn only_changes_of_decisions_are_written() {
    let (_dir, mut archive) = archive();
    let pass = [skip("n1", SkipReason::OptedOut), hold()];
    assert_eq!(archive.record_decisions(t(0), &pass).unwrap(), 2);
    assert_eq!(
        archive.record_decisions(t(10), &pass).unwrap(),
        0,
        "same state: nothing written"
    );
    let changed = [skip("n1", SkipReason::ScalingDown), hold()];
    assert_eq!(archive.record_decisions(t(20), &changed).unwrap(), 1);
    assert_eq!(
        archive.record_decisions(t(30), &[hold()]).unwrap(),
        1,
        "n1's skip ended"
    );
    let rows = archive.decisions(t(0), 10).unwrap();
    let seen: Vec<(Timestamp, &str, &str, &str)> = rows
        .iter()
        .map(|d| (d.at, d.subject.as_str(), d.kind.as_str(), d.reason.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            (t(30), "node/n1", CLEARED, "resolved"),
            (t(20), "node/n1", "skip", "scaling-down"),
            (t(0), "pool/np1", "hold", "max-unhealthy"),
            (t(0), "node/n1", "skip", "opted-out"),
        ]
    );
    assert_eq!(
        rows[2].detail,
        "4 of 5 nodes unhealthy, more than maxUnhealthy 35%"
    );
    assert!(
        rows[3].detail.contains("nodemend.io/auto-repair=disabled"),
        "{}",
        rows[3].detail
    );
    assert_eq!(
        archive.decisions(t(25), 10).unwrap().len(),
        1,
        "since filters"
    );
}

#[test]
fn a_start_is_always_written_and_ends_the_skip_without_a_clear() {
    let (_dir, mut archive) = archive();
    archive
        .record_decisions(t(0), &[skip("n1", SkipReason::CordonedByOthers)])
        .unwrap();
    let start = Decision::Start {
        node: "n1".into(),
        pool: None,
        unhealthy_since: t(-300),
        symptoms: vec![],
    };
    assert_eq!(archive.record_decisions(t(10), &[start]).unwrap(), 1);
    assert_eq!(archive.record_decisions(t(20), &[]).unwrap(), 0);
    let kinds: Vec<String> = archive
        .decisions(t(0), 10)
        .unwrap()
        .into_iter()
        .map(|d| d.kind)
        .collect();
    assert_eq!(kinds, ["start", "skip"]);
}

#[test]
fn dry_runs_and_unreadable_records_are_archived_once_as_skips() {
    let (_dir, mut archive) = archive();
    let dry = skip(
        "n1",
        SkipReason::DryRun {
            first_action: Some(Action::Reboot),
            symptoms: vec![Symptom::LeaseExpired { renewed: t(-400) }],
        },
    );
    let unreadable = skip(
        "n2",
        SkipReason::UnreadableRecord {
            problem: "field status.phase is unreadable".into(),
        },
    );
    let pass = [dry, unreadable];
    assert_eq!(archive.record_decisions(t(0), &pass).unwrap(), 2);
    assert_eq!(
        archive.record_decisions(t(10), &pass).unwrap(),
        0,
        "a node a dry run keeps reporting is not a new start every pass"
    );
    let rows: Vec<(String, String, String, String)> = archive
        .decisions(t(0), 10)
        .unwrap()
        .into_iter()
        .map(|d| (d.subject, d.kind, d.reason, d.detail))
        .collect();
    let row = |subject: &str, reason: &str, detail: String| {
        (
            subject.to_owned(),
            "skip".to_owned(),
            reason.to_owned(),
            detail,
        )
    };
    assert_eq!(
        rows,
        [
            row(
                "node/n2",
                "unreadable-record",
                "its NodeRepair record cannot be read (field status.phase is unreadable); \
                 fix or delete it"
                    .into()
            ),
            row(
                "node/n1",
                "dry-run",
                format!(
                    "dry run: would start repairing with a reboot (node lease not renewed since {})",
                    t(-400)
                )
            ),
        ]
    );
}

#[test]
fn deliveries_are_recorded_updated_and_resumable() {
    let (_dir, mut archive) = archive();
    let f = firing(t(0));
    let body = payload(WebhookFormat::Slack, &f, "prod");
    let mut d = Delivery::pending(&f, "ops-slack", WebhookFormat::Slack, body.clone());
    archive.record_delivery(&d).unwrap();
    let mut other = Delivery::pending(
        &firing(t(5)),
        "ops-teams",
        WebhookFormat::Teams,
        serde_json::json!({"x": 1}),
    );
    archive.record_delivery(&other).unwrap();
    assert_eq!(
        archive.pending_deliveries(10).unwrap(),
        [d.clone(), other.clone()],
        "oldest first"
    );

    d.attempts = 2;
    d.status = DeliveryStatus::Delivered;
    d.last_error = Some("HTTP 503".into());
    d.updated = t(30);
    archive.record_delivery(&d).unwrap();
    other.attempts = 5;
    other.status = DeliveryStatus::Failed;
    archive.record_delivery(&other).unwrap();
    assert!(archive.pending_deliveries(10).unwrap().is_empty());
    let all = archive.deliveries(t(0), 10).unwrap();
    assert_eq!(
        all,
        [other, d],
        "newest first, one row per firing and target"
    );
    assert_eq!(all[1].payload, body);
}
