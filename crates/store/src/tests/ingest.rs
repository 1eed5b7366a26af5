use super::{archive, event, t};
use crate::{Archive, EventFilter, IngestStats, Ingested};

#[test]
fn a_repeated_delivery_is_stored_once() {
    let (_dir, mut archive) = archive();
    let batch = [event("a"), event("b")];
    assert_eq!(archive.ingest(&batch).unwrap(), [Ingested::Inserted; 2]);
    // A watch restart delivers the same objects again.
    assert_eq!(archive.ingest(&batch).unwrap(), [Ingested::Unchanged; 2]);
    let stored = archive.events(&EventFilter::default(), 100).unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0].event, event("b"), "everything round-trips");
}

#[test]
fn an_aggregated_event_updates_its_row_when_it_grows() {
    let (_dir, mut archive) = archive();
    archive.ingest(&[event("a")]).unwrap();
    let seq_before = archive.latest_seq().unwrap();
    let grown = event("a").counted(4).seen(t(60)).message("again");
    let results = archive.ingest(std::slice::from_ref(&grown)).unwrap();
    assert_eq!(results, [Ingested::Updated { previous: 1 }]);
    assert_eq!(results[0].new_occurrences(&grown), 3);
    let stored = archive.events(&EventFilter::default(), 10).unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].event.count, 4);
    assert_eq!(stored[0].event.last_seen, t(60));
    assert_eq!(stored[0].event.first_seen, t(0));
    assert_eq!(stored[0].event.message, "again");
    assert!(
        stored[0].seq > seq_before,
        "an update moves the event up the feed"
    );
    // An older copy (lower count) delivered late changes nothing.
    assert_eq!(
        archive.ingest(&[event("a").counted(2)]).unwrap(),
        [Ingested::Unchanged]
    );
    assert_eq!(
        archive.events(&EventFilter::default(), 10).unwrap()[0]
            .event
            .count,
        4
    );
}

#[test]
fn a_growing_series_count_or_last_time_alone_is_an_update() {
    let (_dir, mut archive) = archive();
    let mut series = event("s");
    series.series_count = Some(2);
    archive.ingest(&[series.clone(), event("t")]).unwrap();
    series.series_count = Some(5);
    let results = archive
        .ingest(&[series.clone(), event("t").seen(t(9))])
        .unwrap();
    assert_eq!(
        results,
        [
            Ingested::Updated { previous: 2 },
            Ingested::Updated { previous: 1 }
        ]
    );
    assert_eq!(results[0].new_occurrences(&series), 3);
    assert_eq!(IngestStats::of(&results).updated, 2);
}

#[test]
fn a_failed_batch_stores_nothing() {
    let (_dir, mut archive) = archive();
    archive
        .conn
        .execute_batch(
            "CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.uid = 'bad' \
             BEGIN SELECT RAISE(ABORT, 'refused'); END;",
        )
        .unwrap();
    let err = archive.ingest(&[event("good"), event("bad")]).unwrap_err();
    assert!(
        err.to_string()
            .contains("cannot write events to the event archive"),
        "{err}"
    );
    assert!(
        archive
            .events(&EventFilter::default(), 10)
            .unwrap()
            .is_empty()
    );
    assert_eq!(archive.latest_seq().unwrap(), 0);
    // The failed batch left nothing remembered either.
    archive.conn.execute_batch("DROP TRIGGER refuse;").unwrap();
    assert_eq!(
        archive.ingest(&[event("good")]).unwrap(),
        [Ingested::Inserted]
    );
}

#[test]
fn a_uid_twice_in_one_batch_is_inserted_then_updated() {
    let (_dir, mut archive) = archive();
    let grown = event("a").counted(3).seen(t(5));
    let results = archive.ingest(&[event("a"), grown.clone()]).unwrap();
    assert_eq!(
        results,
        [Ingested::Inserted, Ingested::Updated { previous: 1 }]
    );
    let stored = archive.events(&EventFilter::default(), 10).unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].event.count, 3);
    assert_eq!(archive.ingest(&[grown]).unwrap(), [Ingested::Unchanged]);
    assert_eq!(archive.remembered_uids(), 1);
}

#[test]
fn a_reopened_writer_remembers_the_recent_uids() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    {
        let mut first = Archive::open(&path).unwrap();
        first.ingest(&[event("a"), event("b")]).unwrap();
        first.ingest(&[event("a").counted(2).seen(t(3))]).unwrap();
    }
    assert_eq!(Archive::open_read_only(&path).unwrap().remembered_uids(), 0);
    let mut again = Archive::open(&path).unwrap();
    assert_eq!(again.remembered_uids(), 2);
    let results = again
        .ingest(&[
            event("a").counted(2).seen(t(3)),
            event("b"),
            event("b").counted(5).seen(t(4)),
        ])
        .unwrap();
    assert_eq!(
        results,
        [
            Ingested::Unchanged,
            Ingested::Unchanged,
            Ingested::Updated { previous: 1 }
        ]
    );
    assert_eq!(again.events(&EventFilter::default(), 10).unwrap().len(), 2);
}

#[test]
fn alert_view_borrows_the_event() {
    let e = event("a").counted(3);
    let view = e.alert_event(Ingested::Inserted.new_occurrences(&e));
    assert_eq!(
        (view.reason, view.node, view.occurrences),
        ("NodeRebootError", Some("aks-np1-1"), 3)
    );
    assert_eq!(Ingested::Unchanged.new_occurrences(&e), 0);
}
