use super::{archive, event, t, uids};
use crate::EventFilter;

fn fill(archive: &mut crate::Archive) {
    archive
        .ingest(&[
            event("reboot-n1").seen(t(10)),
            event("reboot-n2").on_node("aks-np1-2").seen(t(20)),
            event("pulled")
                .reason("Pulled")
                .kind("Normal")
                .in_namespace("kube-system")
                .message("Successfully pulled image 100%_done")
                .seen(t(30)),
            event("gave-up").reason("NodeRepairGaveUp").seen(t(40)),
            event("old").seen(t(-100)),
        ])
        .unwrap();
}

#[test]
fn newest_first_with_a_limit() {
    let (_dir, mut archive) = archive();
    fill(&mut archive);
    let all = archive.events(&EventFilter::default(), 100).unwrap();
    assert_eq!(
        uids(&all),
        ["gave-up", "pulled", "reboot-n2", "reboot-n1", "old"]
    );
    assert_eq!(
        uids(&archive.events(&EventFilter::default(), 2).unwrap()),
        ["gave-up", "pulled"]
    );
}

#[test]
fn every_filter_narrows() {
    let (_dir, mut archive) = archive();
    fill(&mut archive);
    let cases: Vec<(EventFilter, Vec<&str>)> = vec![
        (
            EventFilter {
                reasons: vec!["NodeRebootError".into()],
                ..Default::default()
            },
            vec!["reboot-n2", "reboot-n1", "old"],
        ),
        (
            EventFilter {
                reasons: vec!["Pulled".into(), "NodeRepairGaveUp".into()],
                ..Default::default()
            },
            vec!["gave-up", "pulled"],
        ),
        (
            EventFilter {
                event_type: Some("Normal".into()),
                ..Default::default()
            },
            vec!["pulled"],
        ),
        (
            EventFilter {
                node: Some("aks-np1-2".into()),
                ..Default::default()
            },
            vec!["reboot-n2"],
        ),
        (
            EventFilter {
                namespace: Some("kube-system".into()),
                ..Default::default()
            },
            vec!["pulled"],
        ),
        (
            EventFilter {
                since: Some(t(20)),
                ..Default::default()
            },
            vec!["gave-up", "pulled", "reboot-n2"],
        ),
        (
            EventFilter {
                until: Some(t(20)),
                ..Default::default()
            },
            vec!["reboot-n1", "old"],
        ),
        (
            EventFilter {
                since: Some(t(0)),
                until: Some(t(30)),
                reasons: vec!["NodeRebootError".into()],
                ..Default::default()
            },
            vec!["reboot-n2", "reboot-n1"],
        ),
        (
            EventFilter {
                grep: Some("gave up".into()),
                ..Default::default()
            },
            vec![],
        ),
        (
            EventFilter {
                grep: Some("repairgaveup".into()),
                ..Default::default()
            },
            vec!["gave-up"],
        ),
        (
            EventFilter {
                grep: Some("SUCCESSFULLY".into()),
                ..Default::default()
            },
            vec!["pulled"],
        ),
        (
            EventFilter {
                grep: Some("100%_".into()),
                ..Default::default()
            },
            vec!["pulled"],
        ),
        (
            EventFilter {
                grep: Some("1000".into()),
                ..Default::default()
            },
            vec![],
        ),
        (
            EventFilter {
                grep: Some("_d".into()),
                ..Default::default()
            },
            vec!["pulled"],
        ),
    ];
    for (filter, expected) in cases {
        assert_eq!(
            uids(&archive.events(&filter, 100).unwrap()),
            expected,
            "{filter:?}"
        );
    }
}

#[test]
fn follow_returns_new_and_grown_events_after_the_cursor() {
    let (_dir, mut archive) = archive();
    fill(&mut archive);
    let filter = EventFilter {
        reasons: vec!["NodeRebootError".into()],
        ..Default::default()
    };
    let cursor = archive.latest_seq().unwrap();
    assert!(archive.follow(&filter, cursor, 10).unwrap().is_empty());
    archive
        .ingest(&[
            event("new").seen(t(50)),
            event("other").reason("Pulled").seen(t(50)),
            event("reboot-n1").counted(2).seen(t(60)),
        ])
        .unwrap();
    let seen = archive.follow(&filter, cursor, 10).unwrap();
    assert_eq!(uids(&seen), ["new", "reboot-n1"]);
    assert_eq!(seen[1].event.count, 2);
    let next = seen[1].seq;
    assert!(archive.follow(&filter, next, 10).unwrap().is_empty());
    assert_eq!(
        uids(&archive.follow(&filter, cursor, 1).unwrap()),
        ["new"],
        "limit applies"
    );
}

#[test]
fn reason_and_since_use_the_reason_index() {
    let (_dir, archive) = archive();
    let plan: Vec<String> = archive
        .conn
        .prepare(
            "EXPLAIN QUERY PLAN SELECT * FROM events WHERE reason IN (?1) AND last_seen >= ?2 \
             ORDER BY last_seen DESC, id DESC LIMIT 100",
        )
        .unwrap()
        .query_map(["NodeRebootError", "0"], |r| r.get::<_, String>(3))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let plan = plan.join("\n");
    assert!(
        plan.contains("USING INDEX events_by_reason (reason=? AND last_seen>?)"),
        "{plan}"
    );
}

#[test]
fn a_read_only_archive_answers_queries_beside_the_writer() {
    let (dir, mut writer) = archive();
    fill(&mut writer);
    let reader = crate::Archive::open_read_only(dir.path().join("archive.db")).unwrap();
    assert_eq!(
        reader.events(&EventFilter::default(), 100).unwrap().len(),
        5
    );
    writer.ingest(&[event("later")]).unwrap();
    assert_eq!(
        reader.events(&EventFilter::default(), 100).unwrap().len(),
        6
    );
}
