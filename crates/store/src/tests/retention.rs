use jiff::SignedDuration;

use super::{archive, event, t, uids};
use crate::{Archive, EventFilter, Pruned, Retention};

#[test]
fn prunes_exactly_what_is_older_than_the_window() {
    let (_dir, mut archive) = archive();
    let day = SignedDuration::from_hours(24);
    let now = t(0) + day * 100;
    let cutoff = now - day * 90;
    let micro = SignedDuration::from_micros(1);
    archive
        .ingest(&[
            event("older").seen(cutoff - micro),
            event("boundary").seen(cutoff),
            event("newer").seen(cutoff + micro),
            event("ancient").seen(t(0)),
        ])
        .unwrap();
    let pruned = archive.prune(now, Retention::default()).unwrap();
    assert_eq!(
        pruned,
        Pruned {
            events: 2,
            uids: 4,
            ..Pruned::default()
        }
    );
    assert_eq!(pruned.total(), 2);
    let left = archive.events(&EventFilter::default(), 10).unwrap();
    assert_eq!(
        uids(&left),
        ["newer", "boundary"],
        "the boundary itself is kept"
    );
    assert_eq!(archive.prune(now, Retention::default()).unwrap().total(), 0);
}

#[test]
fn prunes_in_chunks_until_done() {
    let (_dir, mut archive) = archive();
    let batch: Vec<_> = (0..25)
        .map(|i| event(&format!("e{i}")).seen(t(i)))
        .collect();
    archive.ingest(&batch).unwrap();
    let retention = Retention {
        window: SignedDuration::from_secs(10),
        chunk: 4,
        ..Retention::default()
    };
    let now = t(30);
    // One chunk deletes at most `chunk` rows, oldest first.
    assert_eq!(archive.prune_chunk(now, retention).unwrap().events, 4);
    let oldest = archive.events(&EventFilter::default(), 100).unwrap();
    assert_eq!(oldest.last().map(|e| e.event.uid.as_str()), Some("e4"));
    // Everything before t(20) goes; t(20)..t(24) stay.
    assert_eq!(archive.prune(now, retention).unwrap().events, 16);
    assert_eq!(
        archive.events(&EventFilter::default(), 100).unwrap().len(),
        5
    );
}

#[test]
fn finished_repairs_decisions_and_deliveries_are_pruned_but_not_active_repairs() {
    let (_dir, mut archive) = archive();
    let day = SignedDuration::from_hours(24);
    let now = t(0) + day * 200;
    let old = super::repairs::finished_repair("n-old", t(0));
    let active = nodemend_core::repair::Repair::new("n-active", None, t(0));
    archive.record_repair(&old, t(0)).unwrap();
    archive.record_repair(&active, t(0)).unwrap();
    let firing = super::decisions::firing(t(0));
    archive
        .record_delivery(&crate::Delivery::pending(
            &firing,
            "ops",
            crate::webhook::WebhookFormat::Json,
            serde_json::json!({}),
        ))
        .unwrap();
    archive.conn.execute("INSERT INTO decisions (at, subject, kind, reason, detail) VALUES (0, 'cluster', 'hold', 'x', 'y')", []).unwrap();
    let pruned = archive.prune(now, Retention::default()).unwrap();
    assert_eq!(
        pruned,
        Pruned {
            events: 0,
            repairs: 1,
            decisions: 1,
            deliveries: 1,
            uids: 0,
        }
    );
    let left = archive
        .repairs(&crate::RepairFilter::default(), 10)
        .unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].node, "n-active");
    let steps: i64 = archive
        .conn
        .query_row("SELECT count(*) FROM repair_steps", [], |r| r.get(0))
        .unwrap();
    assert_eq!(steps, 0, "steps go with their repair");
}

#[test]
fn event_uids_are_remembered_for_their_own_window() {
    let (_dir, mut archive) = archive();
    archive.ingest(&[event("a").seen(t(0))]).unwrap();
    let retention = Retention {
        remember_uids: SignedDuration::from_hours(1),
        ..Retention::default()
    };
    let hour = SignedDuration::from_hours(1);
    assert_eq!(
        archive.prune(t(0) + hour, retention).unwrap().uids,
        0,
        "exactly 1h: kept"
    );
    assert_eq!(
        archive.ingest(&[event("a")]).unwrap(),
        [crate::Ingested::Unchanged]
    );
    let pruned = archive.prune(t(1) + hour, retention).unwrap();
    assert_eq!(
        (pruned.uids, pruned.total()),
        (1, 0),
        "the event itself stays archived"
    );
    // Past the window a delivery of the same UID is taken as new: the window must exceed the
    // API server's event TTL, after which it cannot deliver the event again.
    assert_eq!(
        archive.ingest(&[event("a")]).unwrap(),
        [crate::Ingested::Inserted]
    );
}

#[test]
fn a_reopened_writer_forgets_what_pruning_forgot() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let hour = SignedDuration::from_hours(1);
    let retention = Retention {
        remember_uids: hour,
        ..Retention::default()
    };
    {
        let mut first = Archive::open(&path).unwrap();
        first
            .ingest(&[event("old").seen(t(0)), event("new").seen(t(2))])
            .unwrap();
        assert_eq!(first.prune(t(1) + hour, retention).unwrap().uids, 1);
        // An earlier `now` brings nothing back.
        assert_eq!(first.prune(t(0), retention).unwrap().uids, 0);
    }
    let mut again = Archive::open(&path).unwrap();
    assert_eq!(again.remembered_uids(), 1);
    assert_eq!(
        again
            .ingest(&[event("old").seen(t(0)), event("new").seen(t(2))])
            .unwrap(),
        [crate::Ingested::Inserted, crate::Ingested::Unchanged]
    );
}

#[test]
fn uids_of_events_pruned_from_the_archive_are_forgotten() {
    let (_dir, mut archive) = archive();
    archive.ingest(&[event("a").seen(t(0))]).unwrap();
    let short = Retention {
        window: SignedDuration::from_secs(10),
        remember_uids: SignedDuration::from_hours(6),
        ..Retention::default()
    };
    let pruned = archive.prune(t(11), short).unwrap();
    assert_eq!((pruned.events, pruned.uids), (1, 1));
    assert_eq!(
        archive.ingest(&[event("a").seen(t(0))]).unwrap(),
        [crate::Ingested::Inserted],
        "its row is gone, so a delivery stores it again"
    );
}

#[test]
fn a_window_beyond_the_representable_past_keeps_everything() {
    let (_dir, mut archive) = archive();
    archive.ingest(&[event("a")]).unwrap();
    let forever = Retention {
        window: SignedDuration::MAX,
        remember_uids: SignedDuration::MAX,
        ..Retention::default()
    };
    assert_eq!(archive.prune(t(0), forever).unwrap(), Pruned::default());
}
