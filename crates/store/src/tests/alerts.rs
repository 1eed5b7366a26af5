//! The archive and the alert rules together, as the controller wires them: each ingested event
//! is offered to the rules with the occurrences its delivery added.

use nodemend_core::alert::{AlertEngine, Firing, builtin_rules};

use super::{archive, event, t};
use crate::{Archive, ArchivedEvent};

fn ingest_and_alert(
    archive: &mut Archive,
    engine: &mut AlertEngine,
    events: &[ArchivedEvent],
    now: jiff::Timestamp,
) -> Vec<Firing> {
    let results = archive.ingest(events).unwrap();
    events
        .iter()
        .zip(results)
        .flat_map(|(e, r)| engine.observe(&e.alert_event(r.new_occurrences(e)), now))
        .collect()
}

#[test]
fn a_watch_restart_does_not_fire_an_alert_again() {
    let (_dir, mut archive) = archive();
    let mut engine = AlertEngine::new(builtin_rules());
    let failed = [event("reboot-1").seen(t(0))];
    let fired = ingest_and_alert(&mut archive, &mut engine, &failed, t(1));
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].rule, "node-reboot-error");
    // Past the quiet hour, the re-list after a watch restart delivers the same event again.
    let fired = ingest_and_alert(&mut archive, &mut engine, &failed, t(4000));
    assert!(fired.is_empty(), "{fired:?}");
}

#[test]
fn an_aggregated_event_that_happens_again_counts_again() {
    let (_dir, mut archive) = archive();
    let mut engine = AlertEngine::new(builtin_rules());
    let first = [event("reboot-1").seen(t(0))];
    assert_eq!(
        ingest_and_alert(&mut archive, &mut engine, &first, t(1)).len(),
        1
    );
    // An hour later the same event object is bumped to count 2: a new failure.
    let again = [event("reboot-1").counted(2).seen(t(3700))];
    let fired = ingest_and_alert(&mut archive, &mut engine, &again, t(3701));
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].last, t(3700));
}
