use jiff::{SignedDuration, Timestamp};
use nodemend_core::policy::Action;
use nodemend_core::repair::{Phase, Repair, StepOutcome, StepRecord};

use super::{archive, t};
use crate::RepairFilter;

fn step(action: Action, started: Timestamp, outcome: StepOutcome) -> StepRecord {
    StepRecord {
        action,
        attempt: 1,
        started,
        finished: started + SignedDuration::from_mins(5),
        outcome,
    }
}

fn failed(code: &str) -> StepOutcome {
    StepOutcome::Failed { code: code.into() }
}

/// A repair of `node` started at `started` whose reboot failed and reimage worked.
pub(crate) fn finished_repair(node: &str, started: Timestamp) -> Repair {
    let mut repair = Repair::new(node, Some("np1".into()), started);
    repair.history = vec![
        step(
            Action::Reboot,
            started,
            failed("VMExtensionProvisioningError"),
        ),
        step(
            Action::Reimage,
            started + SignedDuration::from_mins(10),
            StepOutcome::Recovered,
        ),
    ];
    repair.phase = Phase::Succeeded {
        at: started + SignedDuration::from_mins(30),
    };
    repair
}

#[test]
fn a_repair_is_upserted_by_node_and_start_with_its_steps() {
    let (_dir, mut archive) = archive();
    let mut repair = Repair::new("n1", Some("np1".into()), t(0));
    repair.phase = Phase::Acting {
        action: Action::Reboot,
        issued: t(1),
    };
    archive.record_repair(&repair, t(1)).unwrap();
    let stored = archive.repairs(&RepairFilter::default(), 10).unwrap();
    assert_eq!(
        (
            stored.len(),
            stored[0].phase.as_str(),
            stored[0].steps.len()
        ),
        (1, "Acting", 0)
    );
    let done = finished_repair("n1", t(0));
    archive.record_repair(&done, t(2000)).unwrap();
    let stored = archive.repairs(&RepairFilter::default(), 10).unwrap();
    assert_eq!(stored.len(), 1, "same node and start: one record");
    let r = &stored[0];
    assert_eq!((r.phase.as_str(), r.finished), ("Succeeded", Some(t(1800))));
    assert_eq!(r.pool.as_deref(), Some("np1"));
    let steps: Vec<_> = r
        .steps
        .iter()
        .map(|s| {
            (
                s.action.as_str(),
                s.outcome.as_str(),
                s.error_code.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("reboot", "Failed", Some("VMExtensionProvisioningError")),
            ("reimage", "Recovered", None)
        ]
    );
    assert_eq!(r.steps[1].started, t(600));
    let json: String = archive
        .conn
        .query_row("SELECT record FROM repairs", [], |row| row.get(0))
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Repair>(&json).unwrap(),
        done,
        "the full record is kept"
    );
}

#[test]
fn repairs_filter_by_node_and_since_newest_first() {
    let (_dir, mut archive) = archive();
    for (node, start) in [("n1", 0), ("n2", 100), ("n1", 200)] {
        archive
            .record_repair(&finished_repair(node, t(start)), t(start))
            .unwrap();
    }
    let started = |f: &RepairFilter| -> Vec<(String, Timestamp)> {
        archive
            .repairs(f, 10)
            .unwrap()
            .into_iter()
            .map(|r| (r.node, r.started))
            .collect()
    };
    assert_eq!(
        started(&RepairFilter::default()),
        [
            ("n1".into(), t(200)),
            ("n2".into(), t(100)),
            ("n1".into(), t(0))
        ]
    );
    assert_eq!(
        started(&RepairFilter {
            node: Some("n1".into()),
            ..Default::default()
        }),
        [("n1".into(), t(200)), ("n1".into(), t(0))]
    );
    assert_eq!(
        started(&RepairFilter {
            node: Some("n1".into()),
            since: Some(t(100))
        }),
        [("n1".into(), t(200))]
    );
    assert_eq!(
        archive.repairs(&RepairFilter::default(), 1).unwrap().len(),
        1
    );
}

#[test]
fn pool_summary_counts_outcomes_and_top_codes() {
    let (_dir, mut archive) = archive();
    archive
        .record_repair(&finished_repair("a1", t(0)), t(0))
        .unwrap();
    let mut gave_up = Repair::new("a2", Some("np1".into()), t(10));
    gave_up.history = vec![
        step(
            Action::Reboot,
            t(10),
            failed("VMExtensionProvisioningError"),
        ),
        step(Action::Reimage, t(20), failed("InvalidParameter")),
        step(
            Action::Redeploy,
            t(30),
            failed("TooManyVMRedeploymentRequests"),
        ),
        step(Action::Reboot, t(40), failed("InvalidParameter")),
    ];
    gave_up.phase = Phase::GaveUp { at: t(50) };
    archive.record_repair(&gave_up, t(50)).unwrap();
    let mut cancelled = Repair::new("a3", Some("np1".into()), t(10));
    cancelled.phase = Phase::Cancelled {
        at: t(11),
        reason: "deleted".into(),
    };
    archive.record_repair(&cancelled, t(11)).unwrap();
    archive
        .record_repair(&Repair::new("g1", Some("gpu".into()), t(10)), t(10))
        .unwrap();
    archive
        .record_repair(&Repair::new("x", None, t(10)), t(10))
        .unwrap();
    archive
        .record_repair(&finished_repair("old", t(-100)), t(0))
        .unwrap();

    let summary = archive.pool_summary(t(0)).unwrap();
    let pools: Vec<&str> = summary.iter().map(|s| s.pool.as_str()).collect();
    assert_eq!(pools, ["", "gpu", "np1"]);
    let np1 = &summary[2];
    assert_eq!(
        (
            np1.repairs,
            np1.succeeded,
            np1.gave_up,
            np1.cancelled,
            np1.active
        ),
        (3, 1, 1, 1, 0)
    );
    assert_eq!(np1.success_rate, Some(0.5));
    assert_eq!(
        np1.top_error_codes,
        [
            ("InvalidParameter".to_owned(), 2),
            ("VMExtensionProvisioningError".to_owned(), 2),
            ("TooManyVMRedeploymentRequests".to_owned(), 1)
        ]
    );
    let gpu = &summary[1];
    assert_eq!((gpu.repairs, gpu.active, gpu.success_rate), (1, 1, None));
    assert!(gpu.top_error_codes.is_empty());
}
